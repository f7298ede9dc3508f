//! Two per-call costs of progenitor's generated operations that these clients do not need,
//! taken out of the generated syntax tree (issue 16's profile of the overhead benchmark):
//!
//! - The `api-version` request header: progenitor sends the spec's `info.version` on every
//!   request (a header map allocated per call, merged into the request, parsed by the server).
//!   None of the three services reads it: their documented requests carry no such header.
//!   An operation with no header parameters then has no header map at all.
//! - `ResponseValue::from_response`, which clones the response's headers before consuming the
//!   response; `assistants_api_runtime::from_response` moves them instead, with the same
//!   result and errors.

use syn::visit_mut::VisitMut;

/// Applies both changes to the generated client.
pub fn apply(ast: &mut syn::File) {
    Lean.visit_file_mut(ast);
}

struct Lean;

/// `header_map.append(HeaderName::from_static("api-version"), ...)`.
fn appends_api_version(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    let receiver_is_map = matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"));
    let names_api_version = match call.args.first() {
        Some(syn::Expr::Call(name)) => matches!(
            name.args.first(),
            Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) if s.value() == "api-version"
        ),
        _ => false,
    };
    call.method == "append" && receiver_is_map && names_api_version
}

/// `let mut header_map = HeaderMap::with_capacity(Nusize);`: its capacity literal.
fn header_map_capacity(stmt: &mut syn::Stmt) -> Option<&mut syn::LitInt> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(name) = &local.pat else {
        return None;
    };
    if name.ident != "header_map" {
        return None;
    }
    let syn::Expr::Call(call) = &mut *local.init.as_mut()?.expr else {
        return None;
    };
    match call.args.first_mut() {
        Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        })) => Some(n),
        _ => None,
    }
}

/// `<request builder>.headers(header_map)` becomes `<request builder>`.
struct DropEmptyHeaders;

impl VisitMut for DropEmptyHeaders {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            let passes_map = call.args.len() == 1
                && matches!(call.args.first(), Some(syn::Expr::Path(p)) if p.path.is_ident("header_map"));
            if call.method == "headers" && passes_map {
                *expr = (*call.receiver).clone();
                return self.visit_expr_mut(expr);
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

impl VisitMut for Lean {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let before = block.stmts.len();
        block.stmts.retain(|stmt| !appends_api_version(stmt));
        let removed = before - block.stmts.len();
        if removed > 0 {
            let mut left = None;
            for stmt in &mut block.stmts {
                if let Some(capacity) = header_map_capacity(stmt) {
                    let n: usize = capacity.base10_parse().unwrap_or(removed);
                    let n = n.saturating_sub(removed);
                    *capacity = syn::LitInt::new(&format!("{n}usize"), capacity.span());
                    left = Some(n);
                }
            }
            // An operation with no header parameters is left with an empty map that is still
            // built per call and merged into the request: drop both.
            if left == Some(0) {
                block.stmts.retain_mut(|stmt| header_map_capacity(stmt).is_none());
                for stmt in &mut block.stmts {
                    DropEmptyHeaders.visit_stmt_mut(stmt);
                }
            }
        }
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        if let syn::Expr::Path(func) = &mut *call.func {
            let names: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if names == ["ResponseValue", "from_response"] {
                func.path = syn::parse_quote!(::assistants_api_runtime::from_response);
            }
        }
        syn::visit_mut::visit_expr_call_mut(self, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_api_version_header_and_moves_response_headers() {
        let mut ast: syn::File = syn::parse_quote! {
            async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                header_map.append("x-other", value);
                match status {
                    200u16 => ResponseValue::from_response(response).await,
                    _ => ResponseValue::stream(response),
                }
            }
        };
        apply(&mut ast);
        let code = prettyplease::unparse(&ast);
        assert!(!code.contains("api-version"), "{code}");
        assert!(code.contains("with_capacity(1usize)"), "{code}");
        assert!(code.contains("header_map.append(\"x-other\""), "{code}");
        assert!(
            code.contains("::assistants_api_runtime::from_response(response)"),
            "{code}"
        );
        assert!(code.contains("ResponseValue::stream(response)"), "{code}");
    }

    #[test]
    fn an_operation_without_header_parameters_has_no_header_map() {
        let mut ast: syn::File = syn::parse_quote! {
            async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                let mut request = client.client.get(url).header(ACCEPT, json).headers(header_map).build()?;
            }
        };
        apply(&mut ast);
        let code = prettyplease::unparse(&ast);
        assert!(!code.contains("header_map"), "{code}");
        assert!(code.contains(".header(ACCEPT, json)"), "{code}");
        assert!(code.contains(".build()?"), "{code}");
    }
}
