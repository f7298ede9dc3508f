//! `cargo xtask generate [--check] [-v]`: regenerates every client crate from `specs/`.
//!
//! Each `crates/<svc>-api/src/generated.rs` is progenitor output for `specs/<svc>.yaml`, formatted
//! with rustfmt and prefixed with a header; `crates/<svc>-api/src/mock.rs` holds progenitor's typed
//! httpmock helpers for the same spec (the crate's `mock` feature). `--check` compares what the specs produce with the
//! committed files and fails, naming each stale file, without writing anything.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

mod base_url;
mod lean;
mod open_enum;
mod operations;
mod raw_json;

#[derive(Parser)]
#[command(name = "xtask", about = "Workspace automation for assistants-rs")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Regenerate the client crates from the OpenAPI specs in `specs/`.
    Generate {
        /// Do not write; fail (naming the file) when a committed file differs from the specs.
        #[arg(long)]
        check: bool,
        /// With `--check`, print a unified diff of every stale file.
        #[arg(short, long)]
        verbose: bool,
        /// Workspace root (defaults to the parent of the xtask crate).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

/// One spec and the files generated from it.
struct Target {
    spec: &'static str,
    /// The client: types, `Client`, builders.
    output: &'static str,
    /// Typed httpmock helpers for every operation (the crate's `mock` feature).
    mock: &'static str,
    /// The type of `format: date-time` strings, when not typify's `chrono::DateTime<Utc>`.
    date_time: Option<&'static str>,
}

const TARGETS: &[Target] = &[
    Target {
        spec: "specs/flowhunt.yaml",
        output: "crates/flowhunt-api/src/generated.rs",
        mock: "crates/flowhunt-api/src/mock.rs",
        date_time: None,
    },
    Target {
        spec: "specs/pieces.yaml",
        output: "crates/pieces-api/src/generated.rs",
        mock: "crates/pieces-api/src/mock.rs",
        // Keeps the server's text (lossless round trips) and skips chrono's general parser.
        date_time: Some("crate::Timestamp"),
    },
    Target {
        spec: "specs/flowgen.yaml",
        output: "crates/flowgen-api/src/generated.rs",
        mock: "crates/flowgen-api/src/mock.rs",
        date_time: None,
    },
];

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Generate { check, verbose, root } => {
            let root = root.unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
            });
            let mut stale = Vec::new();
            for target in TARGETS {
                let (client, mock) = generate(&root, target)?;
                for (output, code) in [(target.output, client), (target.mock, mock)] {
                    let out = root.join(output);
                    if check {
                        let current = std::fs::read_to_string(&out).unwrap_or_default();
                        if current != code {
                            if verbose {
                                print_diff(output, &current, &code);
                            }
                            stale.push(output);
                        }
                    } else {
                        std::fs::write(&out, code).with_context(|| format!("writing {}", out.display()))?;
                        eprintln!("wrote {output}");
                    }
                }
            }
            if stale.is_empty() {
                if check {
                    eprintln!("generated code is up to date with specs/");
                }
                Ok(ExitCode::SUCCESS)
            } else {
                for file in &stale {
                    eprintln!(
                        "stale: {file} differs from what its spec generates; run `cargo xtask generate`"
                    );
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

/// Generates the formatted client and mock sources for one target.
fn generate(root: &Path, target: &Target) -> Result<(String, String)> {
    let spec_path = root.join(target.spec);
    let text =
        std::fs::read_to_string(&spec_path).with_context(|| format!("reading {}", spec_path.display()))?;
    let spec: openapiv3::OpenAPI =
        serde_norway::from_str(&text).with_context(|| format!("parsing {} as OpenAPI 3.0", target.spec))?;

    let open = open_enum::collect(&spec);
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        // Each client carries its crate's `Limits`, enforced by the `exec` hook in its lib.rs.
        .with_inner_type(
            "crate::Limits"
                .parse::<proc_macro2::TokenStream>()
                .map_err(|e| anyhow::anyhow!("inner type: {e}"))?,
        );
    if let Some(date_time) = target.date_time {
        // typify matches conversions ignoring descriptions: every `format: date-time` string.
        let schema = schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            format: Some("date-time".into()),
            ..Default::default()
        };
        settings.with_conversion(
            schema,
            date_time,
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    let raw = raw_json::collect(&spec).with_context(|| format!("x-raw-json in {}", target.spec))?;
    for schema in &raw {
        settings.with_replacement(&schema.name, raw_json::WRAPPER, std::iter::empty());
    }
    for open_enum in &open {
        settings.with_replacement(
            &open_enum.name,
            format!("crate::types::{}", open_enum.name),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    let mut generator = Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .with_context(|| format!("generating from {}", target.spec))?;
    let mut ast: syn::File = syn::parse2(tokens).context("progenitor produced unparsable code")?;
    open_enum::inject(&mut ast, &open, &spec)?;
    raw_json::inject(&mut ast, &raw)?;
    operations::inject(&mut ast, &spec)?;
    lean::apply(&mut ast);
    base_url::apply(&mut ast).with_context(|| format!("rewriting {}", target.output))?;
    let client = format_file(root, target, ast)?;

    // The mocks name the crate's own types (`use crate::*`): they are a module of the crate.
    let mock_tokens = Generator::new(&settings)
        .httpmock(&spec, "crate")
        .with_context(|| format!("generating httpmock helpers from {}", target.spec))?;
    let mock_ast: syn::File = syn::parse2(mock_tokens).context("progenitor produced unparsable mocks")?;
    let mock = format_file(root, target, mock_ast)?;
    Ok((client, mock))
}

/// Splits doc lines, pretty-prints, adds the header and formats with rustfmt.
fn format_file(root: &Path, target: &Target, mut ast: syn::File) -> Result<String> {
    syn::visit_mut::VisitMut::visit_file_mut(&mut DocLines, &mut ast);
    let pretty = prettyplease::unparse(&ast);
    let header = format!(
        "// Code generated by cargo xtask generate from {}. DO NOT EDIT.\n\
         // Change the spec (or xtask/src/main.rs) and run `cargo xtask generate` instead.\n\n",
        target.spec
    );
    rustfmt(&root.join("rustfmt.toml"), &format!("{header}{pretty}"))
}

/// Formats code with the toolchain's rustfmt so `cargo fmt --check` accepts the generated files.
fn rustfmt(config: &Path, code: &str) -> Result<String> {
    let mut cmd = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()));
    cmd.args(["--edition", "2024", "--emit", "stdout"]);
    if config.exists() {
        cmd.arg("--config-path").arg(config);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    child
        .stdin
        .take()
        .context("rustfmt stdin")?
        .write_all(code.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("rustfmt failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Splits multi-line `#[doc]` attributes into one attribute per line.
///
/// prettyplease prints a multi-line doc string as an indented `/** */` block, and rustdoc reads
/// the indentation as a code block to compile; one `///` line per doc line avoids that.
struct DocLines;

impl syn::visit_mut::VisitMut for DocLines {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        let mut out = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            let text = match &attr.meta {
                syn::Meta::NameValue(nv) if attr.path().is_ident("doc") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) if s.value().contains('\n') => Some(s.value()),
                    _ => None,
                },
                _ => None,
            };
            match text {
                Some(text) => {
                    for line in text.lines() {
                        let line = if line.is_empty() {
                            String::new()
                        } else {
                            format!(" {line}")
                        };
                        out.push(syn::parse_quote!(#[doc = #line]));
                    }
                }
                None => out.push(attr),
            }
        }
        *attrs = out;
        for attr in attrs.iter_mut() {
            self.visit_attribute_mut(attr);
        }
    }
}

fn print_diff(name: &str, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    eprintln!(
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("{name} (committed)"), &format!("{name} (from spec)"))
    );
}
