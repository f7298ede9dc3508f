//! Forward-compatible enums for schemas marked `x-extensible-enum`.
//!
//! typify turns `enum:` into a closed Rust enum, so one new value from a server fails the whole
//! response. A schema written as `type: string` with `x-extensible-enum: [known values]` is instead
//! generated here as an enum of the known values plus `Unknown(String)`, which round-trips any
//! value unchanged, and handed to progenitor as a type replacement.

use anyhow::{Context, Result, bail};
use openapiv3::{OpenAPI, ReferenceOr};

/// One `x-extensible-enum` schema.
pub struct OpenEnum {
    /// The name typify gives the schema (PascalCase, e.g. `FlowAssistantAiModel`).
    pub name: String,
    pub description: Option<String>,
    /// `(Rust variant, wire value)` pairs, in spec order.
    pub variants: Vec<(String, String)>,
}

/// Finds every component schema that carries `x-extensible-enum`.
pub fn collect(spec: &OpenAPI) -> Vec<OpenEnum> {
    let Some(components) = &spec.components else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let Some(values) = schema
            .schema_data
            .extensions
            .get("x-extensible-enum")
            .and_then(|v| v.as_array())
        else {
            continue;
        };
        let variants = values
            .iter()
            .filter_map(|v| v.as_str())
            .map(|v| (variant_name(v), v.to_string()))
            .collect();
        out.push(OpenEnum {
            name: heck::ToPascalCase::to_pascal_case(name.as_str()),
            description: schema.schema_data.description.clone(),
            variants,
        });
    }
    out
}

/// `v3_tool_call_start` -> `V3ToolCallStart`, `Claude Sonnet 4.6` -> `ClaudeSonnet46`, `` -> `Empty`.
fn variant_name(value: &str) -> String {
    let mut name = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if name.is_empty() {
        return "Empty".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    name
}

fn doc_lines(text: &str) -> String {
    text.lines().map(|l| format!("/// {l}\n")).collect()
}

/// Renders one enum and its impls as Rust source.
fn render(e: &OpenEnum) -> Result<String> {
    let mut seen = std::collections::HashSet::new();
    for (variant, value) in &e.variants {
        if variant == "Unknown" || !seen.insert(variant.clone()) {
            bail!(
                "x-extensible-enum of {}: value {value:?} maps to a clashing variant {variant}",
                e.name
            );
        }
    }
    let name = &e.name;
    let mut s = String::new();
    s += &doc_lines(e.description.as_deref().unwrap_or(name));
    s += "///\n/// Forward compatible: a value this crate does not know decodes as [`Self::Unknown`]\n";
    s += "/// and is sent back unchanged.\n";
    s += "#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[non_exhaustive]\n";
    s += &format!("pub enum {name} {{\n");
    for (variant, value) in &e.variants {
        let doc = if value.is_empty() {
            "the empty string `\"\"`".to_string()
        } else {
            format!("`{value}`")
        };
        s += &format!("    /// {doc}\n    {variant},\n");
    }
    s += "    /// A value this crate does not know yet, kept verbatim.\n    Unknown(::std::string::String),\n}\n";
    s += &format!("impl {name} {{\n");
    s += "    /// Every value known to this crate, in the spec's order.\n";
    s += "    pub const KNOWN: &'static [&'static str] = &[";
    s += &e
        .variants
        .iter()
        .map(|(_, v)| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    s += "];\n";
    s += "    /// The wire value.\n    pub fn as_str(&self) -> &str {\n        match self {\n";
    for (variant, value) in &e.variants {
        s += &format!("            Self::{variant} => {value:?},\n");
    }
    s += "            Self::Unknown(value) => value.as_str(),\n        }\n    }\n";
    s += "    /// Whether this is one of [`Self::KNOWN`].\n";
    s += "    pub fn is_known(&self) -> bool {\n        !matches!(self, Self::Unknown(_))\n    }\n}\n";
    s += &format!(
        "impl ::std::convert::From<&str> for {name} {{\n    fn from(value: &str) -> Self {{\n        match value {{\n"
    );
    for (variant, value) in &e.variants {
        s += &format!("            {value:?} => Self::{variant},\n");
    }
    s += "            other => Self::Unknown(other.to_string()),\n        }\n    }\n}\n";
    s += &format!(
        "impl ::std::convert::From<::std::string::String> for {name} {{\n    fn from(value: ::std::string::String) -> Self {{\n        match Self::from(value.as_str()) {{\n            Self::Unknown(_) => Self::Unknown(value),\n            known => known,\n        }}\n    }}\n}}\n"
    );
    s += &format!(
        "impl ::std::str::FromStr for {name} {{\n    type Err = ::std::convert::Infallible;\n    fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {{\n        Ok(Self::from(value))\n    }}\n}}\n"
    );
    s += &format!(
        "impl ::std::fmt::Display for {name} {{\n    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {{\n        f.write_str(self.as_str())\n    }}\n}}\n"
    );
    s += &format!(
        "impl ::serde::Serialize for {name} {{\n    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {{\n        serializer.serialize_str(self.as_str())\n    }}\n}}\n"
    );
    s += &format!(
        "impl<'de> ::serde::Deserialize<'de> for {name} {{\n    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {{\n        ::std::string::String::deserialize(deserializer).map(Self::from)\n    }}\n}}\n"
    );
    Ok(s)
}

/// Appends the enums, and aliases under the spec's own names where typify renamed a schema
/// (`HTTPValidationError` for `HttpValidationError`), to the generated `types` module.
pub fn inject(file: &mut syn::File, enums: &[OpenEnum], spec: &OpenAPI) -> Result<()> {
    let types = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
            _ => None,
        })
        .context("progenitor output has no `types` module")?;
    for e in enums {
        let parsed: syn::File =
            syn::parse_str(&render(e)?).with_context(|| format!("rendering open enum {}", e.name))?;
        types.1.extend(parsed.items);
    }
    let names = spec
        .components
        .as_ref()
        .map(|c| c.schemas.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for spec_name in names {
        let rust_name = heck::ToPascalCase::to_pascal_case(spec_name.as_str());
        if rust_name != spec_name && syn::parse_str::<syn::Ident>(&spec_name).is_ok() {
            let alias = format!(
                "/// `{spec_name}`, the schema's name in the spec and the official SDKs.\n\
                 #[allow(non_camel_case_types, clippy::upper_case_acronyms)]\n\
                 pub type {spec_name} = {rust_name};"
            );
            let parsed: syn::File = syn::parse_str(&alias).with_context(|| format!("alias {spec_name}"))?;
            types.1.extend(parsed.items);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names_are_rust_identifiers() {
        assert_eq!(variant_name("v3_tool_call_start"), "V3ToolCallStart");
        assert_eq!(variant_name("Claude Sonnet 4.6"), "ClaudeSonnet46");
        assert_eq!(variant_name("GPT4.1"), "Gpt41");
        assert_eq!(variant_name("MAJOR_0_MINOR_0_PATCH_1"), "Major0Minor0Patch1");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("3d"), "V3d");
    }
}
