//! Reading `api.yml`: the OpenAPI document and the body catalogue.
//!
//! The catalogue lives in two vendor extensions at the document root:
//! `x-nanochat-bodies` maps each request type to its payload schema (or
//! `null`), its response schema, whether it must be signed and the error
//! codes it may return; `x-nanochat-events` maps each event type to its
//! payload schema. Every schema named there must exist, and every error code
//! must be a value of the `ErrorCode` enum, or generation fails.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use serde::Deserialize;

use crate::Result;

/// The name of the component schema holding the closed list of error codes.
pub const ERROR_CODE_SCHEMA: &str = "ErrorCode";

/// One request type of the catalogue.
#[derive(Debug, Clone, Deserialize)]
pub struct BodyDef {
    /// The wire name, for example `conversation.create`.
    #[serde(skip)]
    pub name: String,
    /// What the type does.
    pub description: String,
    /// The payload schema, or `None` for a type without payload.
    pub payload: Option<String>,
    /// The schema of a successful response's payload.
    pub response: String,
    /// Whether the envelope must carry the user's signature.
    pub signed: bool,
    /// The error codes this type may return beyond the common ones.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// One event type pushed over the WebSocket.
#[derive(Debug, Clone, Deserialize)]
pub struct EventDef {
    /// The wire name, for example `event.message.created`.
    #[serde(skip)]
    pub name: String,
    /// When the event is sent.
    pub description: String,
    /// The payload schema.
    pub payload: String,
}

/// The parsed document with its catalogue.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The OpenAPI document.
    pub openapi: OpenAPI,
    /// Request types, in document order.
    pub bodies: Vec<BodyDef>,
    /// Event types, in document order.
    pub events: Vec<EventDef>,
}

impl Spec {
    /// Parses and checks a YAML OpenAPI document.
    pub fn parse(yaml: &str) -> Result<Spec> {
        let openapi: OpenAPI = serde_norway::from_str(yaml).map_err(|e| {
            crate::Error::Parse(format!("api.yml is not an OpenAPI 3.0 document: {e}"))
        })?;
        if !openapi.openapi.starts_with("3.0.") {
            return Err(crate::Error::Parse(format!(
                "api.yml must be OpenAPI 3.0.x, found {}",
                openapi.openapi
            )));
        }
        // serde_json maps (inside `openapi.extensions`) sort their keys; the
        // YAML mapping keeps the document order of the catalogue.
        let document: serde_norway::Value = serde_norway::from_str(yaml)
            .map_err(|e| crate::Error::Parse(format!("api.yml is not YAML: {e}")))?;
        let bodies = catalogue::<BodyDef>(&openapi, &document, "x-nanochat-bodies")?
            .into_iter()
            .map(|(name, mut def)| {
                def.name = name;
                def
            })
            .collect();
        let events = catalogue::<EventDef>(&openapi, &document, "x-nanochat-events")?
            .into_iter()
            .map(|(name, mut def)| {
                def.name = name;
                def
            })
            .collect();
        let spec = Spec {
            openapi,
            bodies,
            events,
        };
        spec.check()?;
        Ok(spec)
    }

    /// The component schemas, in document order.
    pub fn schemas(&self) -> impl Iterator<Item = (&String, &Schema)> {
        self.openapi
            .components
            .iter()
            .flat_map(|c| c.schemas.iter())
            .filter_map(|(name, schema)| schema.as_item().map(|s| (name, s)))
    }

    /// The component schema called `name`.
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.openapi
            .components
            .as_ref()?
            .schemas
            .get(name)?
            .as_item()
    }

    /// The values of the `ErrorCode` enum.
    pub fn error_codes(&self) -> Vec<String> {
        match self.schema(ERROR_CODE_SCHEMA).map(|s| &s.schema_kind) {
            Some(SchemaKind::Type(Type::String(s))) => {
                s.enumeration.iter().flatten().cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Names of the schemas reachable from the transport paths: the only
    /// ones the poem-openapi server has to describe.
    pub fn transport_schemas(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut pending: Vec<String> = Vec::new();
        for (_, _, op) in self.openapi.operations() {
            if let Some(ReferenceOr::Item(body)) = &op.request_body {
                for media in body.content.values() {
                    collect_ref(media.schema.as_ref(), &mut pending);
                }
            }
            for response in op.responses.responses.values() {
                if let ReferenceOr::Item(response) = response {
                    for media in response.content.values() {
                        collect_ref(media.schema.as_ref(), &mut pending);
                    }
                }
            }
        }
        while let Some(name) = pending.pop() {
            if !found.insert(name.clone()) {
                continue;
            }
            if let Some(schema) = self.schema(&name) {
                collect_schema_refs(schema, &mut pending);
            }
        }
        found
    }

    fn check(&self) -> Result<()> {
        let codes: BTreeSet<String> = self.error_codes().into_iter().collect();
        if codes.is_empty() {
            return Err(crate::Error::Invalid(format!(
                "api.yml needs a string enum schema `{ERROR_CODE_SCHEMA}`"
            )));
        }
        let known = |name: &str| self.schema(name).is_some();
        for body in &self.bodies {
            for name in body.payload.iter().chain([&body.response]) {
                if !known(name) {
                    return Err(crate::Error::Invalid(format!(
                        "body type {} names schema {name}, which api.yml does not define",
                        body.name
                    )));
                }
            }
            if let Some(bad) = body.errors.iter().find(|c| !codes.contains(*c)) {
                return Err(crate::Error::Invalid(format!(
                    "body type {} lists error code {bad}, which is not in {ERROR_CODE_SCHEMA}",
                    body.name
                )));
            }
        }
        for event in &self.events {
            if !known(&event.payload) {
                return Err(crate::Error::Invalid(format!(
                    "event type {} names schema {}, which api.yml does not define",
                    event.name, event.payload
                )));
            }
        }
        for (path, method, op) in self.openapi.operations() {
            if op.operation_id.is_none() {
                return Err(crate::Error::Invalid(format!(
                    "{method} {path} has no operationId; every operation in api.yml needs one"
                )));
            }
        }
        Ok(())
    }
}

/// Reads one vendor extension as a list of definitions in document order.
fn catalogue<T: for<'de> Deserialize<'de>>(
    openapi: &OpenAPI,
    document: &serde_norway::Value,
    key: &str,
) -> Result<Vec<(String, T)>> {
    let Some(value) = openapi.extensions.get(key) else {
        return Err(crate::Error::Invalid(format!(
            "api.yml has no `{key}` catalogue"
        )));
    };
    let map = value
        .as_object()
        .ok_or_else(|| crate::Error::Invalid(format!("`{key}` must be a map")))?;
    let order = document
        .get(key)
        .and_then(serde_norway::Value::as_mapping)
        .ok_or_else(|| crate::Error::Invalid(format!("`{key}` must be a map")))?;
    order
        .keys()
        .map(|name| {
            let name = name
                .as_str()
                .ok_or_else(|| crate::Error::Invalid(format!("`{key}` keys must be strings")))?;
            let def = map
                .get(name)
                .ok_or_else(|| crate::Error::Invalid(format!("`{key}.{name}` is missing")))?;
            let def = serde_json::from_value(def.clone())
                .map_err(|e| crate::Error::Invalid(format!("`{key}.{name}`: {e}")))?;
            Ok((name.to_owned(), def))
        })
        .collect()
}

/// The component name of a `#/components/schemas/X` reference.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

fn collect_ref(schema: Option<&ReferenceOr<Schema>>, out: &mut Vec<String>) {
    match schema {
        Some(ReferenceOr::Reference { reference }) => {
            out.extend(ref_name(reference).map(str::to_owned))
        }
        Some(ReferenceOr::Item(schema)) => collect_schema_refs(schema, out),
        None => {}
    }
}

fn collect_boxed_ref(schema: &ReferenceOr<Box<Schema>>, out: &mut Vec<String>) {
    match schema {
        ReferenceOr::Reference { reference } => out.extend(ref_name(reference).map(str::to_owned)),
        ReferenceOr::Item(schema) => collect_schema_refs(schema, out),
    }
}

fn collect_schema_refs(schema: &Schema, out: &mut Vec<String>) {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => object
            .properties
            .values()
            .for_each(|p| collect_boxed_ref(p, out)),
        SchemaKind::Type(Type::Array(array)) => {
            array.items.iter().for_each(|i| collect_boxed_ref(i, out))
        }
        _ => {}
    }
}
