//! Code generation for NanoChat: `api.yml` in, Rust source out.
//!
//! The root crate's `build.rs` calls [`generate`] and writes the four files
//! into `OUT_DIR`; `generated/` in the repository holds committed copies for
//! readers. Keeping the generator in its own crate (rather than inside
//! `build.rs`) is what lets it be tested on small fixture specs.
//!
//! # Layout
//! - [`spec`]: parses the OpenAPI document and the body catalogue
//!   (`x-nanochat-bodies`, `x-nanochat-events`) and checks it is consistent.
//! - [`models`]: one Rust type per component schema.
//! - [`bodies`]: the typed catalogue (`BodyType`, `Request`, `Response`,
//!   `Event`) shared by server and client.
//! - [`server`]: the poem-openapi transport endpoints, the `Transport` and
//!   per-area handler traits and the dispatcher.
//! - [`client`]: progenitor's HTTP client plus one typed method per body
//!   type.
//! - [`typescript`]: `bodies.d.ts`, the catalogue typed for the web frontend.
//! - [`normalise`]: a canonical projection of an OpenAPI document, to check
//!   that the spec the server serves says what `api.yml` says.

pub mod bodies;
pub mod client;
pub mod models;
mod naming;
pub mod normalise;
pub mod server;
pub mod spec;
pub mod typescript;

use proc_macro2::TokenStream;

/// The header every emitted file starts with.
pub const HEADER: &str = "// @generated from api.yml by nanochat-codegen: do not edit.\n// Refresh the committed copies with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::`.\n\n";

/// The emitted source files, formatted and headed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Component schemas as Rust types.
    pub models: String,
    /// The body catalogue: body types, typed requests, responses and events.
    pub bodies: String,
    /// The poem-openapi server skeleton.
    pub server: String,
    /// The progenitor HTTP client and the typed body methods.
    pub client: String,
}

impl Generated {
    /// The files as `(file name, contents)` pairs, in a stable order.
    pub fn files(&self) -> [(&'static str, &str); 4] {
        [
            ("models.rs", &self.models),
            ("bodies.rs", &self.bodies),
            ("server.rs", &self.server),
            ("client.rs", &self.client),
        ]
    }
}

/// Why the spec could not be read or turned into code. Each message names
/// the schema, operation or catalogue entry at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The text is not YAML, not OpenAPI, or not OpenAPI 3.0.x.
    Parse(String),
    /// The document breaks a rule this generator relies on: an operation
    /// without an `operationId`, a dangling `$ref`, a body catalogue entry
    /// naming a schema or error code that does not exist.
    Invalid(String),
    /// A construct the generator emits no code for (inline schemas and
    /// enums, status ranges, response references, some formats): move it
    /// into a component schema or extend the generator.
    Unsupported(String),
    /// progenitor refused the document.
    Progenitor(String),
    /// The emitted code does not parse: a bug in the generator.
    Emitted(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Parse(m)
            | Error::Invalid(m)
            | Error::Unsupported(m)
            | Error::Progenitor(m)
            | Error::Emitted(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Generates all four files from the YAML text of an OpenAPI 3.0 document.
pub fn generate(spec_yaml: &str) -> Result<Generated> {
    let spec = spec::Spec::parse(spec_yaml)?;
    Ok(Generated {
        models: format_file(models::generate(&spec)?)?,
        bodies: format_file(bodies::generate(&spec)?)?,
        server: format_file(server::generate(&spec)?)?,
        client: format_file(client::generate(&spec)?)?,
    })
}

/// Pretty-prints tokens as a Rust file under [`HEADER`].
fn format_file(tokens: TokenStream) -> Result<String> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| Error::Emitted(format!("emitted code does not parse: {e}")))?;
    Ok(format!("{HEADER}{}", prettyplease::unparse(&file)))
}
