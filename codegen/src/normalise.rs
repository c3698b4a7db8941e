//! A canonical projection of an OpenAPI document, to compare the spec the
//! running poem-openapi server serves with `api.yml`.
//!
//! The two documents describe the same API in different words: poem-openapi
//! serves `openapi: 3.0.0`, adds `title` to objects, wraps a referenced
//! property in `allOf: [{$ref}, {description}]` so it can carry a description, may add
//! `default`, `readOnly` or `example` keys, writes its JSON media type as
//! `application/json; charset=utf-8`, lists properties in its own order and
//! describes poem's WebSocket upgrade with its own text. [`projection`] keeps
//! exactly what `api.yml` states about the transport and drops the rest, so
//! `projection(served) == projection(api.yml)` holds when, and only when, the
//! two agree on what matters:
//!
//! - per path and method: `operationId`, the parameters, the request body
//!   (required flag and schema name) and every response (status, description,
//!   JSON schema name or none);
//! - every component schema reachable from the paths, transitively: `type`,
//!   `format`, description (trimmed), `required` (sorted), `enum` values,
//!   `additionalProperties` (except a top-level `false`, which poem-openapi
//!   enforces but cannot state), and each property's type, format, description,
//!   schema name and array items.
//!
//! Deliberately left out: `info`, `servers`, `tags`, operation summaries and
//! descriptions (poem-openapi derives them from doc comments), schema titles,
//! examples, defaults, `readOnly`/`writeOnly`, and the description of a `$ref`
//! property (OpenAPI 3.0 ignores siblings of `$ref`, so `api.yml` cannot state
//! one; poem-openapi puts the field's doc comment there). A `101` response
//! without content is the WebSocket upgrade: its description is poem-openapi's
//! fixed text, so only its status and absence of content are kept.
//!
//! Anything the projection does not recognise inside a schema (`oneOf`, an
//! `allOf` of several parts, `not`, ...) is kept verbatim so it still counts
//! as a difference rather than vanishing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

const SCHEMA_PREFIX: &str = "#/components/schemas/";
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The canonical projection of an OpenAPI 3.0 document given as JSON.
///
/// The result is `{"paths": {...}, "schemas": {...}}` with every map keyed by
/// name (so ordering never matters) and every list that is a set sorted.
/// Schemas referenced from the paths but missing from `components` project
/// to `null`, so a dangling reference is a visible difference.
pub fn projection(spec: &Value) -> Value {
    let mut paths = Map::new();
    let mut pending: Vec<String> = Vec::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut methods = Map::new();
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                methods.insert((*method).to_owned(), operation(op, &mut pending));
            }
        }
        paths.insert(path.clone(), Value::Object(methods));
    }

    let components = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut schemas = BTreeMap::new();
    while let Some(name) = pending.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        let projected = match components.and_then(|c| c.get(&name)) {
            Some(schema) => schema_projection(schema, &mut pending),
            None => Value::Null,
        };
        schemas.insert(name, projected);
    }

    json!({
        "paths": paths,
        "schemas": schemas.into_iter().collect::<Map<String, Value>>(),
    })
}

fn operation(op: &Value, pending: &mut Vec<String>) -> Value {
    let mut out = Map::new();
    out.insert(
        "operationId".into(),
        op.get("operationId").cloned().unwrap_or(Value::Null),
    );

    let mut parameters: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            json!({
                "in": p.get("in"),
                "name": p.get("name"),
                "required": p.get("required").and_then(Value::as_bool).unwrap_or(false),
                "schema": p.get("schema").map(|s| property(s, pending)),
            })
        })
        .collect();
    parameters.sort_by_key(|p| p.to_string());
    out.insert("parameters".into(), Value::Array(parameters));

    let request_body = op.get("requestBody").map(|body| {
        json!({
            "required": body.get("required").and_then(Value::as_bool).unwrap_or(false),
            "content": content(body.get("content"), pending),
        })
    });
    out.insert("requestBody".into(), request_body.unwrap_or(Value::Null));

    let mut responses = Map::new();
    for (status, response) in op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let content = content(response.get("content"), pending);
        let upgrade = status == "101" && content.as_object().is_some_and(Map::is_empty);
        let description = if upgrade {
            Value::Null
        } else {
            trimmed(response.get("description"))
        };
        responses.insert(
            status.clone(),
            json!({ "description": description, "content": content }),
        );
    }
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

/// Media types (parameters such as `charset` dropped) to schema names.
fn content(content: Option<&Value>, pending: &mut Vec<String>) -> Value {
    let mut out = Map::new();
    for (media_type, media) in content.and_then(Value::as_object).into_iter().flatten() {
        let essence = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let schema = media
            .get("schema")
            .map(|s| property(s, pending))
            .unwrap_or(Value::Null);
        out.insert(essence, schema);
    }
    Value::Object(out)
}

/// A top-level component schema.
fn schema_projection(schema: &Value, pending: &mut Vec<String>) -> Value {
    let mut out = Map::new();
    if let Some(name) = reference(schema) {
        pending.push(name.clone());
        out.insert("$ref".into(), Value::String(name));
        return Value::Object(out);
    }
    copy(schema, &mut out, "type");
    copy(schema, &mut out, "format");
    out.insert("description".into(), trimmed(schema.get("description")));
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        let sorted: BTreeSet<String> = required
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        out.insert(
            "required".into(),
            sorted.into_iter().map(Value::String).collect(),
        );
    }
    copy(schema, &mut out, "enum");
    // `additionalProperties: false` on an object is dropped: poem-openapi
    // enforces it (`deny_unknown_fields`, which the generated models set
    // from it) but cannot state it in the served spec. The end-to-end tests
    // check the behaviour instead. Any other value is kept.
    if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        copy(schema, &mut out, "additionalProperties");
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let projected: BTreeMap<String, Value> = properties
            .iter()
            .map(|(name, p)| (name.clone(), property(p, pending)))
            .collect();
        out.insert(
            "properties".into(),
            projected.into_iter().collect::<Map<String, Value>>().into(),
        );
    }
    if let Some(items) = schema.get("items") {
        out.insert("items".into(), property(items, pending));
    }
    keep_unrecognised(schema, &mut out);
    Value::Object(out)
}

/// A property, array item, parameter or media schema: a `$ref` (possibly
/// wrapped by poem-openapi in a one-element `allOf`) becomes its name alone.
fn property(schema: &Value, pending: &mut Vec<String>) -> Value {
    let mut out = Map::new();
    if let Some(name) = reference(schema) {
        pending.push(name.clone());
        out.insert("$ref".into(), Value::String(name));
        return Value::Object(out);
    }
    copy(schema, &mut out, "type");
    copy(schema, &mut out, "format");
    out.insert("description".into(), trimmed(schema.get("description")));
    copy(schema, &mut out, "enum");
    copy(schema, &mut out, "additionalProperties");
    if let Some(items) = schema.get("items") {
        out.insert("items".into(), property(items, pending));
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let projected: BTreeMap<String, Value> = properties
            .iter()
            .map(|(name, p)| (name.clone(), property(p, pending)))
            .collect();
        out.insert(
            "properties".into(),
            projected.into_iter().collect::<Map<String, Value>>().into(),
        );
    }
    keep_unrecognised(schema, &mut out);
    Value::Object(out)
}

/// Keys that only annotate a schema; an `allOf` part made of nothing else
/// adds no constraint.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "example",
    "readOnly",
    "writeOnly",
];

/// The schema name of `{$ref}` or of poem-openapi's wrapped form
/// `{allOf: [{$ref}, {description}], description}`: an `allOf` with exactly
/// one `$ref` part whose other parts only annotate.
fn reference(schema: &Value) -> Option<String> {
    let direct = schema.get("$ref").and_then(Value::as_str);
    let wrapped = || {
        let parts = schema.get("allOf")?.as_array()?;
        let mut refs = parts
            .iter()
            .filter_map(|p| p.get("$ref").and_then(Value::as_str));
        let reference = refs.next().filter(|_| refs.next().is_none())?;
        let annotation_only = |p: &Value| {
            p.as_object()
                .is_some_and(|o| o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())))
        };
        parts
            .iter()
            .filter(|p| p.get("$ref").is_none())
            .all(annotation_only)
            .then_some(reference)
    };
    let reference = direct.or_else(wrapped)?;
    Some(
        reference
            .strip_prefix(SCHEMA_PREFIX)
            .unwrap_or(reference)
            .to_owned(),
    )
}

/// Keeps composition keywords the projection does not otherwise understand.
fn keep_unrecognised(schema: &Value, out: &mut Map<String, Value>) {
    for key in [
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "discriminator",
        "nullable",
    ] {
        copy(schema, out, key);
    }
}

fn copy(schema: &Value, out: &mut Map<String, Value>, key: &str) {
    if let Some(value) = schema.get(key) {
        out.insert(key.to_owned(), value.clone());
    }
}

/// A description with surrounding whitespace and trailing spaces on each
/// line removed: YAML block scalars end in a newline, doc comments do not.
fn trimmed(description: Option<&Value>) -> Value {
    match description.and_then(Value::as_str) {
        Some(text) => {
            let lines: Vec<&str> = text.trim().lines().map(str::trim_end).collect();
            Value::String(lines.join("\n"))
        }
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small document in the style of api.yml.
    fn source() -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/things": {
                    "post": {
                        "operationId": "post_thing",
                        "summary": "Posts a thing.",
                        "requestBody": {
                            "required": true,
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                        },
                        "responses": {
                            "200": {
                                "description": "The thing.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                            },
                            "400": {
                                "description": "Bad thing.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                            }
                        }
                    }
                },
                "/socket": {
                    "get": {
                        "operationId": "socket",
                        "x-dropshot-websocket": {},
                        "responses": {"101": {"description": "Switching protocols to a WebSocket."}}
                    }
                }
            },
            "components": {"schemas": {
                "Thing": {
                    "type": "object",
                    "description": "A thing.\n",
                    "required": ["id", "size"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid", "description": "Its id."},
                        "size": {"type": "integer", "format": "int64", "description": "Its size."},
                        "parts": {"type": "array", "description": "Parts.", "items": {"$ref": "#/components/schemas/Part"}},
                        "error": {"$ref": "#/components/schemas/Error"}
                    },
                    "example": {"id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90", "size": 1}
                },
                "Part": {
                    "type": "object",
                    "description": "A part.",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "description": "Its name."}}
                },
                "Error": {
                    "type": "object",
                    "description": "An error.",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"$ref": "#/components/schemas/Code"},
                        "message": {"type": "string", "description": "Why."}
                    }
                },
                "Code": {"type": "string", "description": "Codes.\n- a: first\n- b: second\n", "enum": ["a", "b"]},
                "Unreachable": {"type": "object", "description": "Only inside encrypted bodies."}
            }}
        })
    }

    /// The same API as poem-openapi would serve it.
    fn served() -> Value {
        json!({
            "openapi": "3.0.0",
            "info": {"title": "served", "version": "0"},
            "servers": [],
            "tags": [],
            "paths": {
                "/socket": {
                    "get": {
                        "summary": "Another summary",
                        "responses": {"101": {"description": "A websocket response"}},
                        "operationId": "socket"
                    }
                },
                "/things": {
                    "post": {
                        "requestBody": {
                            "content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                            "required": true
                        },
                        "responses": {
                            "400": {
                                "description": "Bad thing.",
                                "content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Error"}}}
                            },
                            "200": {
                                "description": "The thing.",
                                "content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                            }
                        },
                        "operationId": "post_thing"
                    }
                }
            },
            "components": {"schemas": {
                "Code": {"type": "string", "description": "Codes.\n- a: first\n- b: second", "enum": ["a", "b"]},
                "Error": {
                    "type": "object",
                    "title": "Error",
                    "description": "An error.",
                    "required": ["message", "code"],
                    "properties": {
                        "message": {"type": "string", "description": "Why."},
                        "code": {
                            "description": "See [`Code`].",
                            "allOf": [{"$ref": "#/components/schemas/Code"}, {"description": "See [`Code`]."}]
                        }
                    }
                },
                "Part": {
                    "type": "object",
                    "title": "Part",
                    "description": "A part.",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "description": "Its name."}}
                },
                "Thing": {
                    "type": "object",
                    "title": "Thing",
                    "description": "A thing.",
                    "required": ["size", "id"],
                    "properties": {
                        "size": {"type": "integer", "format": "int64", "description": "Its size.", "default": 0},
                        "id": {"type": "string", "format": "uuid", "description": "Its id.", "readOnly": false},
                        "parts": {"type": "array", "description": "Parts.", "items": {"$ref": "#/components/schemas/Part"}},
                        "error": {"allOf": [{"$ref": "#/components/schemas/Error"}], "description": "See [`Error`]."}
                    },
                    "example": {"id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90", "size": 2}
                }
            }}
        })
    }

    #[test]
    fn poem_quirks_are_absorbed() {
        assert_eq!(projection(&served()), projection(&source()));
    }

    #[test]
    fn projection_keeps_what_matters() {
        let p = projection(&source());
        assert_eq!(p["paths"]["/things"]["post"]["operationId"], "post_thing");
        assert_eq!(
            p["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["$ref"],
            "Thing"
        );
        assert_eq!(
            p["paths"]["/things"]["post"]["responses"]["400"]["description"],
            "Bad thing."
        );
        assert_eq!(
            p["paths"]["/socket"]["get"]["responses"]["101"],
            json!({"description": null, "content": {}})
        );
        assert_eq!(p["schemas"]["Thing"]["required"], json!(["id", "size"]));
        assert_eq!(p["schemas"]["Thing"]["description"], "A thing.");
        assert_eq!(
            p["schemas"]["Thing"]["properties"]["parts"]["items"]["$ref"],
            "Part"
        );
        assert_eq!(p["schemas"]["Code"]["enum"], json!(["a", "b"]));
        // Only schemas reachable from the paths are compared.
        let names: Vec<&String> = p["schemas"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["Code", "Error", "Part", "Thing"]);
    }

    /// Applies `change` to the served document and asserts the projection
    /// then differs from the source's.
    fn differs(what: &str, change: impl FnOnce(&mut Value)) {
        let mut served = served();
        change(&mut served);
        assert_ne!(
            projection(&served),
            projection(&source()),
            "{what} must count as a difference"
        );
    }

    #[test]
    fn real_differences_are_detected() {
        let thing = "/components/schemas/Thing";
        differs("a renamed property", |s| {
            let props = s
                .pointer_mut(&format!("{thing}/properties"))
                .unwrap()
                .as_object_mut()
                .unwrap();
            let size = props.remove("size").unwrap();
            props.insert("length".into(), size);
        });
        differs("a changed type", |s| {
            *s.pointer_mut(&format!("{thing}/properties/size/type"))
                .unwrap() = json!("number")
        });
        differs("a changed format", |s| {
            *s.pointer_mut(&format!("{thing}/properties/size/format"))
                .unwrap() = json!("int32")
        });
        differs("a changed required set", |s| {
            *s.pointer_mut(&format!("{thing}/required")).unwrap() = json!(["id"])
        });
        differs("a changed property description", |s| {
            *s.pointer_mut(&format!("{thing}/properties/id/description"))
                .unwrap() = json!("The id.")
        });
        differs("a changed schema description", |s| {
            *s.pointer_mut(&format!("{thing}/description")).unwrap() = json!("Some thing.")
        });
        differs("a changed reference", |s| {
            *s.pointer_mut(&format!("{thing}/properties/parts/items/$ref"))
                .unwrap() = json!("#/components/schemas/Error")
        });
        differs("a changed enum", |s| {
            *s.pointer_mut("/components/schemas/Code/enum").unwrap() = json!(["a", "b", "c"])
        });
        differs("a changed operationId", |s| {
            *s.pointer_mut("/paths/~1things/post/operationId").unwrap() = json!("create_thing")
        });
        differs("a changed response description", |s| {
            *s.pointer_mut("/paths/~1things/post/responses/400/description")
                .unwrap() = json!("Bad.")
        });
        differs("a missing response", |s| {
            s.pointer_mut("/paths/~1things/post/responses")
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove("400");
        });
        differs("a different media type", |s| {
            let content = s
                .pointer_mut("/paths/~1things/post/requestBody/content")
                .unwrap()
                .as_object_mut()
                .unwrap();
            let media = content.remove("application/json; charset=utf-8").unwrap();
            content.insert("text/plain".into(), media);
        });
        differs("an added parameter", |s| {
            s.pointer_mut("/paths/~1things/post").unwrap()["parameters"] = json!([{"in": "query", "name": "q", "required": false, "schema": {"type": "string"}}]);
        });
        differs("an extra path", |s| {
            s["paths"]["/more"] = json!({"get": {"operationId": "more", "responses": {}}})
        });
        differs("a missing schema", |s| {
            s.pointer_mut("/components/schemas")
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove("Part");
        });
        differs("a WebSocket response with content", |s| {
            s.pointer_mut("/paths/~1socket/get/responses/101").unwrap()["content"] =
                json!({"application/json": {"schema": {"type": "string"}}});
        });
        differs("an allOf part that constrains", |s| {
            *s.pointer_mut(&format!("{thing}/properties/error")).unwrap() =
                json!({"allOf": [{"$ref": "#/components/schemas/Error"}, {"required": ["extra"]}]});
        });
        differs("a composition poem-openapi never emits", |s| {
            *s.pointer_mut(&format!("{thing}/properties/error")).unwrap() = json!({"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/Part"}]});
        });
    }

    #[test]
    fn descriptions_are_trimmed_but_compared() {
        assert_eq!(
            trimmed(Some(&json!("  two\nlines  \n"))),
            json!("two\nlines")
        );
        assert_ne!(
            trimmed(Some(&json!("two\nlines"))),
            trimmed(Some(&json!("two lines")))
        );
        assert_eq!(trimmed(None), Value::Null);
    }
}
