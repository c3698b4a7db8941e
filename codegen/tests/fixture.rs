//! The generator on a small fixture spec (`fixtures/mini.yml`): its output
//! parses and is snapshotted, adding a body type to the spec is all it takes
//! to get the new variant, handler method, dispatch arm and client method,
//! and an inconsistent spec is refused with a message that says why.

use nanochat_codegen::{Generated, HEADER, generate};

const MINI: &str = include_str!("fixtures/mini.yml");

/// The body type `echo.ping` and its two schemas, added to `mini.yml`.
const ECHO_BODY: &str = "  echo.ping:
    description: Echoes a ping.
    payload: Ping
    response: Pong
    signed: true
    errors: [bad_envelope]
";
const ECHO_SCHEMAS: &str = "    Ping:
      type: object
      description: What to echo.
      required: [nonce]
      properties:
        nonce:
          type: integer
          format: int64
          description: Any number.
      example:
        nonce: 7
    Pong:
      type: object
      description: The echo.
      required: [nonce]
      properties:
        nonce:
          type: integer
          format: int64
          description: The number from the ping.
      example:
        nonce: 7
";

/// `mini.yml` with exactly one more body type (and its schemas), inserted
/// right after the `x-nanochat-bodies:` and `schemas:` lines.
fn mini_with_echo() -> String {
    let with_body = insert_after(MINI, "x-nanochat-bodies:\n", ECHO_BODY);
    insert_after(&with_body, "  schemas:\n", ECHO_SCHEMAS)
}

fn insert_after(text: &str, anchor: &str, addition: &str) -> String {
    let at = text
        .find(anchor)
        .unwrap_or_else(|| panic!("fixture lacks {anchor:?}"))
        + anchor.len();
    format!("{}{addition}{}", &text[..at], &text[at..])
}

/// The text with all whitespace and the trailing commas prettyplease adds
/// where it wraps removed, so checks do not depend on how a line is wrapped.
fn squash(text: &str) -> String {
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    squashed
        .replace(",)", ")")
        .replace(",]", "]")
        .replace(",>", ">")
}

fn assert_has(file: &str, text: &str, needle: &str) {
    assert!(
        squash(text).contains(&squash(needle)),
        "{file} lacks `{needle}`:\n{text}"
    );
}

fn assert_parses(generated: &Generated) {
    for (name, contents) in generated.files() {
        assert!(
            contents.starts_with(HEADER),
            "{name} lacks the do-not-edit header"
        );
        if let Err(e) = syn::parse_file(contents) {
            panic!("{name} does not parse: {e}\n{contents}");
        }
    }
}

/// The signature of method `method` of trait `trait_name` in `file`.
fn trait_method(file: &str, trait_name: &str, method: &str) -> String {
    let file = syn::parse_file(file).expect("parses");
    for item in file.items {
        if let syn::Item::Trait(t) = item
            && t.ident == trait_name
        {
            for item in t.items {
                if let syn::TraitItem::Fn(f) = item
                    && f.sig.ident == method
                {
                    return squash(&quote::ToTokens::to_token_stream(&f.sig).to_string());
                }
            }
            panic!("trait {trait_name} has no method {method}");
        }
    }
    panic!("no trait {trait_name}");
}

#[test]
fn mini_generates_code_that_parses() {
    let generated = generate(MINI).expect("mini.yml generates");
    assert_parses(&generated);
    assert_has("models.rs", &generated.models, "pub struct Greeting {");
    assert_has("models.rs", &generated.models, "pub enum ErrorCode {");
    assert_has("bodies.rs", &generated.bodies, "Request::GreetingCount =>");
    // Catalogue order is document order, not alphabetical.
    assert_has(
        "bodies.rs",
        &generated.bodies,
        "pub const ALL: &'static [BodyType] = &[BodyType::GreetingSend, BodyType::GreetingCount];",
    );
    assert!(!generated.bodies.contains("EchoPing"));
}

#[test]
fn adding_a_body_type_needs_no_hand_edit() {
    let before = generate(MINI).expect("mini.yml generates");
    let after = generate(&mini_with_echo()).expect("mini.yml with echo.ping generates");
    assert_parses(&after);

    // models.rs: the new schemas.
    assert_has("models.rs", &after.models, "pub struct Ping {");
    assert_has("models.rs", &after.models, "pub struct Pong {");

    // bodies.rs: the type, its wire name, the typed request and response.
    let bodies = &after.bodies;
    assert_has("bodies.rs", bodies, "BodyType::EchoPing => \"echo.ping\"");
    assert_has(
        "bodies.rs",
        bodies,
        "\"echo.ping\" => Some(BodyType::EchoPing)",
    );
    assert_has("bodies.rs", bodies, "BodyType::EchoPing => \"echo_ping\"");
    assert_has("bodies.rs", bodies, "EchoPing(crate::models::Ping),");
    assert_has("bodies.rs", bodies, "EchoPing(crate::models::Pong),");
    assert_has(
        "bodies.rs",
        bodies,
        "BodyType::EchoPing => &[crate::models::ErrorCode::BadEnvelope]",
    );
    assert_has(
        "bodies.rs",
        bodies,
        "Request::EchoPing(decode_payload(body_type.as_str(), payload)?)",
    );

    // server.rs: a new area trait with the method, required by Handler,
    // and a dispatch arm.
    assert_eq!(
        trait_method(&after.server, "EchoHandler", "echo_ping"),
        squash(
            "fn echo_ping(&self, caller: &Self::Caller, payload: crate::models::Ping) \
             -> impl std::future::Future<Output = Result<crate::models::Pong, Self::Error>> + Send"
        )
    );
    assert_has(
        "server.rs",
        &after.server,
        "pub trait Handler: EchoHandler + GreetingHandler {}",
    );
    assert_has(
        "server.rs",
        &after.server,
        "Request::EchoPing(payload) => { handler.echo_ping(caller, payload).await.map(Response::EchoPing) }",
    );

    // client.rs: a typed method on Bodies.
    assert_eq!(
        trait_method(&after.client, "Bodies", "echo_ping"),
        squash(
            "fn echo_ping(&self, payload: crate::models::Ping) \
             -> impl std::future::Future<Output = Result<crate::models::Pong, Self::Error>> + Send"
        )
    );
    assert_has(
        "client.rs",
        &after.client,
        "self.exchange(Request::EchoPing(payload))",
    );

    // The existing types are untouched.
    for method in ["greeting_send", "greeting_count"] {
        assert_eq!(
            trait_method(&before.server, "GreetingHandler", method),
            trait_method(&after.server, "GreetingHandler", method)
        );
        assert_eq!(
            trait_method(&before.client, "Bodies", method),
            trait_method(&after.client, "Bodies", method)
        );
    }
}

#[test]
fn mini_bodies_snapshot() {
    let generated = generate(MINI).expect("mini.yml generates");
    insta::assert_snapshot!("mini_bodies", generated.bodies);
}

#[test]
fn mini_server_snapshot() {
    let generated = generate(MINI).expect("mini.yml generates");
    insta::assert_snapshot!("mini_server", generated.server);
}

/// Generating from `spec` fails with a message containing `expected`.
fn refused(spec: &str, expected: &str) {
    match generate(spec) {
        Ok(_) => panic!("the spec was accepted; expected an error containing {expected:?}"),
        Err(e) => assert!(
            e.to_string().contains(expected),
            "error {e:?} does not contain {expected:?}"
        ),
    }
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture lacks {from:?}");
    text.replacen(from, to, 1)
}

#[test]
fn a_body_naming_a_missing_schema_is_refused() {
    let spec = replace_once(MINI, "response: Receipt", "response: Missing");
    refused(
        &spec,
        "body type greeting.send names schema Missing, which api.yml does not define",
    );
    let spec = replace_once(
        MINI,
        "payload: Greeting\n    response",
        "payload: Absent\n    response",
    );
    refused(
        &spec,
        "body type greeting.send names schema Absent, which api.yml does not define",
    );
}

#[test]
fn an_event_naming_a_missing_schema_is_refused() {
    let spec = replace_once(
        MINI,
        "    payload: Greeting\ncomponents:",
        "    payload: Missing\ncomponents:",
    );
    refused(
        &spec,
        "event type event.greeted names schema Missing, which api.yml does not define",
    );
}

#[test]
fn an_unknown_error_code_is_refused() {
    let spec = replace_once(MINI, "errors: [not_found]", "errors: [not_found, teapot]");
    refused(
        &spec,
        "body type greeting.send lists error code teapot, which is not in ErrorCode",
    );
}

#[test]
fn an_operation_without_operation_id_is_refused() {
    let spec = replace_once(MINI, "      operationId: post_encrypted\n", "");
    refused(&spec, "post /encrypted has no operationId");
}

#[test]
fn a_spec_without_catalogue_or_error_codes_is_refused() {
    let spec = replace_once(MINI, "x-nanochat-events:", "x-other-events:");
    refused(&spec, "api.yml has no `x-nanochat-events` catalogue");
    let spec = replace_once(MINI, "    ErrorCode:\n", "    Codes:\n");
    refused(&spec, "api.yml needs a string enum schema `ErrorCode`");
}

#[test]
fn failures_are_typed_by_what_is_wrong() {
    use nanochat_codegen::Error;
    let not_yaml = generate("openapi: [unclosed");
    assert!(matches!(not_yaml, Err(Error::Parse(_))), "{not_yaml:?}");
    let spec = replace_once(MINI, "      operationId: post_encrypted\n", "");
    let invalid = generate(&spec);
    assert!(matches!(invalid, Err(Error::Invalid(_))), "{invalid:?}");
    let spec = replace_once(MINI, "format: int64", "format: int16");
    let unsupported = generate(&spec);
    assert!(
        matches!(unsupported, Err(Error::Unsupported(_))),
        "{unsupported:?}"
    );
}
