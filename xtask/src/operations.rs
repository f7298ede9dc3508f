//! Emits `pub mod operations` into each generated client: one `Operation` constant per
//! `operationId`, with its method and idempotency, so callers declare neither by hand.
//!
//! Idempotency follows the HTTP method unless the operation says otherwise with
//! `x-idempotent: true|false` (a `POST` that only reads, such as FlowHunt's poll).

use anyhow::{Result, bail};
use heck::ToShoutySnakeCase;
use openapiv3::{OpenAPI, ReferenceOr};

/// Appends the `operations` module to `ast`.
pub fn inject(ast: &mut syn::File, spec: &OpenAPI) -> Result<()> {
    let mut constants = String::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            bail!("{path}: referenced path items are not supported");
        };
        for (method, operation) in item.iter() {
            let Some(id) = &operation.operation_id else {
                bail!("{method} {path}: every operation needs an operationId");
            };
            let idempotent = match operation.extensions.get("x-idempotent") {
                Some(serde_json::Value::Bool(value)) => *value,
                Some(other) => bail!("{id}: x-idempotent must be true or false, not {other}"),
                None => !matches!(method, "post" | "patch"),
            };
            let method = method.to_uppercase();
            let name = id.to_shouty_snake_case();
            let note = if idempotent { "" } else { ": not idempotent" };
            constants.push_str(&format!(
                "#[doc = {doc:?}]\npub const {name}: Operation = Operation::new({id:?}, {method:?}, {idempotent});\n",
                doc = format!(" `{method} {path}`{note}"),
            ));
        }
    }
    let module: syn::Item = syn::parse_str(&format!(
        "/// Every operation of the spec, with its method and idempotency (from the method, or\n\
         /// the operation's `x-idempotent` extension).\n\
         pub mod operations {{ use assistants_api_runtime::Operation; {constants} }}"
    ))?;
    ast.items.push(module);
    Ok(())
}
