//! TypeScript declarations of the body catalogue for the web frontend
//! (`web/gen/bodies.d.ts`).
//!
//! `openapi-typescript` turns the component schemas into `web/gen/api.d.ts`
//! but ignores the `x-nanochat-bodies` / `x-nanochat-events` vendor
//! extensions, which say which payload and response belong to which body
//! type. This emitter adds exactly that, referring to the schemas by name,
//! so `Client.request('conversation.get', ...)` is typed end to end.

use std::fmt::Write as _;

use crate::Result;
use crate::spec::Spec;

/// The header of the emitted declarations.
pub const TS_HEADER: &str = "// @generated from api.yml by nanochat-codegen: do not edit.\n// Refresh with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated_web`.\n\n";

/// Emits `bodies.d.ts` from the YAML text of the OpenAPI document.
pub fn bodies_dts(spec_yaml: &str) -> Result<String> {
    let spec = Spec::parse(spec_yaml)?;
    let mut out = String::from(TS_HEADER);
    out.push_str("import type { components } from './api.js';\n\n");
    out.push_str("type Schemas = components['schemas'];\n\n");
    out.push_str("/** Request body types (`x-nanochat-bodies`): payload, response payload, signing and the type's own error codes. */\n");
    out.push_str("export interface Bodies {\n");
    for body in &spec.bodies {
        let payload = body
            .payload
            .as_deref()
            .map_or_else(|| "null".to_owned(), schema);
        let errors = if body.errors.is_empty() {
            "never".to_owned()
        } else {
            body.errors
                .iter()
                .map(|e| format!("'{e}'"))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let _ = writeln!(out, "  /** {} */", comment(&body.description));
        let _ = writeln!(
            out,
            "  '{}': {{ payload: {payload}; response: {}; signed: {}; errors: {errors} }};",
            body.name,
            schema(&body.response),
            body.signed
        );
    }
    out.push_str("}\n\n");
    out.push_str(
        "/** Event types pushed over the WebSocket (`x-nanochat-events`) and their payloads. */\n",
    );
    out.push_str("export interface Events {\n");
    for event in &spec.events {
        let _ = writeln!(out, "  /** {} */", comment(&event.description));
        let _ = writeln!(
            out,
            "  '{}': {{ payload: {} }};",
            event.name,
            schema(&event.payload)
        );
    }
    out.push_str("}\n\n");
    out.push_str("/** The name of a request body type. */\n");
    out.push_str("export type BodyType = keyof Bodies;\n\n");
    out.push_str("/** The name of an event type. */\n");
    out.push_str("export type EventType = keyof Events;\n");
    Ok(out)
}

fn schema(name: &str) -> String {
    format!("Schemas['{name}']")
}

/// One line of JSDoc: whitespace collapsed, and no `*/` to end it early.
fn comment(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("*/", "*\\/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_catalogue_becomes_typed_entries() {
        let yaml = include_str!("../tests/fixtures/mini.yml");
        let dts = bodies_dts(yaml).expect("fixture generates");
        assert!(dts.starts_with(TS_HEADER));
        assert!(dts.contains("export interface Bodies {"));
        assert!(dts.contains("export interface Events {"));
        assert!(dts.contains("payload: Schemas['"));
    }

    #[test]
    fn comments_cannot_be_closed_early() {
        assert_eq!(comment("a */ b\n  c"), "a *\\/ b c");
    }
}
