//! Free-form objects kept as raw JSON, for schemas marked `x-raw-json: true`.
//!
//! typify turns an `additionalProperties: true` object into a `serde_json::Map`, which costs as
//! much to build as parsing into a `Value`. A schema marked `x-raw-json: true` is instead handed
//! to progenitor as a replacement by `assistants_api_runtime::RawJson` (re-exported at the crate
//! root as `crate::RawJson`): the text is checked on decode and parsed only when asked for. The
//! schema's own name stays available as an alias in `types`.
//!
//! `RawJson` cannot sit where serde buffers the input (`#[serde(flatten)]`, untagged or
//! internally tagged enums), so such a schema must be a plain object, used as a property or an
//! array item but never under `oneOf`/`anyOf`/`allOf`: [`collect`] rejects anything else.

use anyhow::{Context, Result, bail};
use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, Type};

/// The path the generated code names the wrapper by; each client crate re-exports it.
pub const WRAPPER: &str = "crate::RawJson";

/// One `x-raw-json` schema.
pub struct RawSchema {
    /// The name typify gives the schema (PascalCase).
    pub name: String,
    pub description: Option<String>,
}

/// Finds every component schema marked `x-raw-json: true` and checks it is a free-form object.
pub fn collect(spec: &OpenAPI) -> Result<Vec<RawSchema>> {
    let Some(components) = &spec.components else {
        return Ok(Vec::new());
    };
    let spec_json = serde_json::to_value(spec).context("re-encoding the spec")?;
    let mut out = Vec::new();
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let marked = schema.schema_data.extensions.get("x-raw-json");
        match marked {
            None => continue,
            Some(serde_json::Value::Bool(true)) => {}
            Some(other) => bail!("{name}: x-raw-json must be `true`, not {other}"),
        }
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            bail!("{name}: x-raw-json needs `type: object`");
        };
        if !object.properties.is_empty() {
            bail!("{name}: x-raw-json objects are free-form: no `properties`");
        }
        if !matches!(
            object.additional_properties,
            Some(openapiv3::AdditionalProperties::Any(true))
        ) {
            bail!("{name}: x-raw-json needs `additionalProperties: true`");
        }
        let reference = format!("#/components/schemas/{name}");
        if let Some(under) = composed_use(&spec_json, &reference) {
            bail!("{name}: an x-raw-json schema cannot be used under `{under}` (serde would buffer it)");
        }
        out.push(RawSchema {
            name: heck::ToPascalCase::to_pascal_case(name.as_str()),
            description: schema.schema_data.description.clone(),
        });
    }
    Ok(out)
}

/// The first `oneOf`/`anyOf`/`allOf` anywhere in `node` that lists `reference` directly.
fn composed_use(node: &serde_json::Value, reference: &str) -> Option<&'static str> {
    match node {
        serde_json::Value::Object(object) => {
            for key in ["oneOf", "anyOf", "allOf"] {
                let listed = object.get(key).and_then(|v| v.as_array()).is_some_and(|items| {
                    items
                        .iter()
                        .any(|item| item.get("$ref").and_then(|r| r.as_str()) == Some(reference))
                });
                if listed {
                    return Some(key);
                }
            }
            object.values().find_map(|v| composed_use(v, reference))
        }
        serde_json::Value::Array(items) => items.iter().find_map(|v| composed_use(v, reference)),
        _ => None,
    }
}

/// Adds `pub type <Name> = crate::RawJson;` to the `types` module for each schema.
pub fn inject(file: &mut syn::File, schemas: &[RawSchema]) -> Result<()> {
    if schemas.is_empty() {
        return Ok(());
    }
    let types = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
            _ => None,
        })
        .context("progenitor output has no `types` module")?;
    for schema in schemas {
        let name = &schema.name;
        let mut source = String::new();
        for line in schema.description.as_deref().unwrap_or(name).lines() {
            source += &format!("/// {line}\n");
        }
        source += &format!(
            "///\n/// Kept as raw JSON: the schema `{name}` is generated as [`RawJson`]({WRAPPER}), \
             whose text is checked on decode and parsed only when asked for.\n\
             pub type {name} = {WRAPPER};\n"
        );
        let parsed: syn::File = syn::parse_str(&source).with_context(|| format!("alias {name}"))?;
        types.1.extend(parsed.items);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::collect;

    fn spec(schemas: &str) -> openapiv3::OpenAPI {
        let text = format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{schemas}"
        );
        serde_norway::from_str(&text).unwrap()
    }

    #[test]
    fn collects_marked_free_form_objects() {
        let found = collect(&spec(
            "    free_form:\n      type: object\n      additionalProperties: true\n      x-raw-json: true\n",
        ))
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "FreeForm");
    }

    #[test]
    fn rejects_shapes_raw_json_cannot_stand_for() {
        let cases = [
            // Not free-form: typed properties would be lost.
            "    F:\n      type: object\n      properties: {a: {type: string}}\n      additionalProperties: true\n      x-raw-json: true\n",
            "    F:\n      type: object\n      x-raw-json: true\n",
            "    F:\n      type: string\n      x-raw-json: true\n",
            "    F:\n      type: object\n      additionalProperties: true\n      x-raw-json: yes please\n",
            // Under a composition serde would buffer it (untagged enum or flatten).
            "    F:\n      type: object\n      additionalProperties: true\n      x-raw-json: true\n    U:\n      oneOf: [{$ref: '#/components/schemas/F'}, {type: string}]\n",
            "    F:\n      type: object\n      additionalProperties: true\n      x-raw-json: true\n    A:\n      type: object\n      properties:\n        x:\n          allOf: [{$ref: '#/components/schemas/F'}]\n",
        ];
        for case in cases {
            assert!(collect(&spec(case)).is_err(), "accepted:\n{case}");
        }
    }
}
