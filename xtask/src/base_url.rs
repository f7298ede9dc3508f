//! Each request's URL built from the client's base URL parsed once, not from text parsed whole.
//!
//! progenitor writes `let url = format!("{}/path/{}", client.baseurl, encode_path(..));` and
//! hands the text to reqwest, which parses all of it per call: scheme, host (IDNA processing
//! even for an IP address), port and path, about 7,000 instructions, the largest cost the
//! generated client added over raw reqwest in issue 16's profile. This pass gives `Client` an
//! `assistants_api_runtime::BaseUrl` (parsed in `new_with_client`), leaves `url` as the
//! operation's path only (a `&str` when it has no parameters) and builds the request with
//! `client.base.request(&client.client, Method::X, url)`, which sets that path on a copy of the
//! parsed base. The URL is the one parsing the text gave (`BaseUrl::url`'s tests).

use anyhow::{Result, bail};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

/// Rewrites the client; fails when progenitor's code no longer has the expected shape, so a
/// change there is noticed rather than silently costing the parse again.
pub fn apply(ast: &mut syn::File) -> Result<()> {
    let mut pass = Pass::default();
    pass.visit_file_mut(ast);
    if pass.fields != 1 || pass.constructors != 1 {
        bail!(
            "base_url: expected one `Client` struct and one constructor setting `baseurl`, found {} and {}",
            pass.fields,
            pass.constructors
        );
    }
    if pass.urls != pass.requests {
        bail!(
            "base_url: {} operations build their URL from `client.baseurl` but {} send it with `client.client.<method>(url)`",
            pass.urls,
            pass.requests
        );
    }
    Ok(())
}

#[derive(Default)]
struct Pass {
    fields: usize,
    constructors: usize,
    urls: usize,
    requests: usize,
}

/// What `let url = ...` became: the path as a literal (`&str`) or as a `format!` (`String`).
#[derive(Clone, Copy)]
enum PathKind {
    Literal,
    Formatted,
}

/// `let url = format!("{}<rest>", client.baseurl, args..);` becomes the path alone.
fn rewrite_url(stmt: &mut syn::Stmt) -> Option<PathKind> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(name) = &local.pat else {
        return None;
    };
    if name.ident != "url" {
        return None;
    }
    let init = local.init.as_mut()?;
    let syn::Expr::Macro(mac) = &*init.expr else {
        return None;
    };
    if !mac.mac.path.is_ident("format") {
        return None;
    }
    let args = mac
        .mac
        .parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .ok()?;
    let mut args = args.into_iter();
    let Some(syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(template),
        ..
    })) = args.next()
    else {
        return None;
    };
    let rest = template.value().strip_prefix("{}")?.to_string();
    let is_baseurl = |e: &syn::Expr| matches!(e, syn::Expr::Field(f) if matches!(&f.member, syn::Member::Named(m) if m == "baseurl"));
    if !args.next().is_some_and(|e| is_baseurl(&e)) || !rest.starts_with('/') {
        return None;
    }
    let args: Vec<syn::Expr> = args.collect();
    let rest = syn::LitStr::new(&rest, template.span());
    let (expr, kind): (syn::Expr, _) = if args.is_empty() && !rest.value().contains(['{', '}']) {
        (syn::parse_quote!(#rest), PathKind::Literal)
    } else {
        (syn::parse_quote!(format!(#rest, #(#args,)*)), PathKind::Formatted)
    };
    *init.expr = expr;
    Some(kind)
}

/// `client.client.get(url)` (any method) becomes `client.base.request(&client.client, GET, url)`.
struct SendThroughBase {
    kind: PathKind,
    done: usize,
}

impl VisitMut for SendThroughBase {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            let method = match call.method.to_string().as_str() {
                "get" => Some("GET"),
                "post" => Some("POST"),
                "put" => Some("PUT"),
                "delete" => Some("DELETE"),
                "patch" => Some("PATCH"),
                "head" => Some("HEAD"),
                _ => None,
            };
            let passes_url = call.args.len() == 1
                && matches!(call.args.first(), Some(syn::Expr::Path(p)) if p.path.is_ident("url"));
            let on_http = matches!(&*call.receiver, syn::Expr::Field(f)
                if matches!(&f.member, syn::Member::Named(m) if m == "client")
                && matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("client")));
            if let (Some(method), true, true) = (method, passes_url, on_http) {
                let method = syn::Ident::new(method, call.method.span());
                let path: syn::Expr = match self.kind {
                    PathKind::Literal => syn::parse_quote!(url),
                    PathKind::Formatted => syn::parse_quote!(&url),
                };
                *expr = syn::parse_quote!(
                    client.base.request(&client.client, ::reqwest::Method::#method, #path)
                );
                self.done += 1;
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

impl VisitMut for Pass {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        if item.ident == "Client"
            && let syn::Fields::Named(fields) = &mut item.fields
            && fields
                .named
                .iter()
                .any(|f| f.ident.as_ref().is_some_and(|i| i == "baseurl"))
        {
            fields
                .named
                .push(syn::parse_quote!(pub(crate) base: ::assistants_api_runtime::BaseUrl));
            self.fields += 1;
        }
        syn::visit_mut::visit_item_struct_mut(self, item);
    }

    fn visit_expr_struct_mut(&mut self, expr: &mut syn::ExprStruct) {
        let sets_baseurl = expr
            .fields
            .iter()
            .any(|f| matches!(&f.member, syn::Member::Named(m) if m == "baseurl"));
        if expr.path.is_ident("Self") && sets_baseurl {
            expr.fields
                .push(syn::parse_quote!(base: ::assistants_api_runtime::BaseUrl::new(baseurl)));
            self.constructors += 1;
        }
        syn::visit_mut::visit_expr_struct_mut(self, expr);
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let mut kind = None;
        for stmt in &mut block.stmts {
            match kind {
                None => {
                    kind = rewrite_url(stmt);
                    self.urls += usize::from(kind.is_some());
                }
                Some(k) => {
                    let mut send = SendThroughBase { kind: k, done: 0 };
                    send.visit_stmt_mut(stmt);
                    if send.done > 0 {
                        self.requests += send.done;
                        kind = None;
                    }
                }
            }
        }
        syn::visit_mut::visit_block_mut(self, block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(operations: syn::Item) -> syn::File {
        syn::parse_quote! {
            pub struct Client {
                pub(crate) baseurl: String,
                pub(crate) client: reqwest::Client,
                pub(crate) inner: crate::Limits,
            }
            impl Client {
                pub fn new_with_client(baseurl: &str, client: reqwest::Client, inner: crate::Limits) -> Self {
                    Self { baseurl: baseurl.to_string(), client, inner }
                }
            }
            #operations
        }
    }

    /// The code without whitespace, so line breaks do not matter.
    fn squash(code: &str) -> String {
        code.split_whitespace().collect()
    }

    #[test]
    fn urls_are_built_on_the_parsed_base() {
        let mut ast = client(syn::parse_quote! {
            mod builder {
                impl A {
                    pub async fn send(self) {
                        let url = format!("{}/conversations/identifiers", client.baseurl,);
                        let mut request = client.client.get(url).header(ACCEPT, json).build()?;
                    }
                }
                impl B {
                    pub async fn send(self) {
                        let url = format!("{}/chats/{}", client.baseurl, encode_path(&chat_id.to_string()),);
                        let mut request = client.client.delete(url).build()?;
                    }
                }
            }
        });
        apply(&mut ast).unwrap();
        let code = squash(&prettyplease::unparse(&ast));
        for part in [
            "pub(crate) base: ::assistants_api_runtime::BaseUrl",
            "base: ::assistants_api_runtime::BaseUrl::new(baseurl)",
            "let url = \"/conversations/identifiers\";",
            "client.base.request(&client.client, ::reqwest::Method::GET, url)",
            ".header(ACCEPT, json).build()?",
            "let url = format!(\"/chats/{}\", encode_path(&chat_id.to_string()),);",
            "client.base.request(&client.client, ::reqwest::Method::DELETE, &url)",
        ] {
            assert!(code.contains(&squash(part)), "{part} in {code}");
        }
        assert!(!code.contains("client.baseurl"), "{code}");
    }

    #[test]
    fn a_shape_it_does_not_know_fails_the_generation() {
        let mut ast = client(syn::parse_quote! {
            impl A {
                pub async fn send(self) {
                    let url = format!("{}/x", client.baseurl,);
                    let mut request = client.client.request(Method::GET, url).build()?;
                }
            }
        });
        let error = apply(&mut ast).unwrap_err();
        assert!(error.to_string().contains("1 operations"), "{error}");
        let mut ast: syn::File = syn::parse_quote! { pub struct Client { inner: u8 } };
        assert!(apply(&mut ast).is_err());
    }

    /// The committed clients are what this pass produces: no operation parses its base again.
    #[test]
    fn no_generated_operation_formats_the_base_url() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for target in crate::TARGETS {
            let code = squash(&std::fs::read_to_string(root.join(target.output)).unwrap());
            assert!(!code.contains("client.baseurl"), "{}", target.output);
            assert!(code.contains("client.base.request("), "{}", target.output);
        }
    }
}
