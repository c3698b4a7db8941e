//! The compiled catalogue agrees with `api.yml`: every body type, event type
//! and error code is there in order, every body type has its handler and
//! client method, every schema example round-trips through its model type,
//! and `from_parts` decodes each example and says precisely what is wrong
//! with a bad body.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use nanochat::bodies::{BodyType, DecodeError, Event, EventType, Request, Response};
use nanochat::models::ErrorCode;
use serde_json::{Value, json};

/// api.yml as JSON.
static SPEC: LazyLock<Value> = LazyLock::new(|| {
    serde_norway::from_str(include_str!("../../api.yml")).expect("api.yml is YAML")
});

/// The keys of a catalogue in document order (serde_json maps sort keys,
/// YAML mappings keep their order).
fn catalogue_names(key: &str) -> Vec<String> {
    let document: serde_norway::Value =
        serde_norway::from_str(include_str!("../../api.yml")).expect("api.yml is YAML");
    let catalogue = document.get(key).and_then(serde_norway::Value::as_mapping);
    let catalogue = catalogue.unwrap_or_else(|| panic!("api.yml has no {key}"));
    catalogue
        .keys()
        .map(|k| k.as_str().expect("catalogue keys are strings").to_owned())
        .collect()
}

fn schema_names() -> BTreeSet<String> {
    SPEC["components"]["schemas"]
        .as_object()
        .expect("api.yml has schemas")
        .keys()
        .cloned()
        .collect()
}

/// The `example` of component schema `name` in api.yml.
fn example(name: &str) -> Value {
    let example = &SPEC["components"]["schemas"][name]["example"];
    assert!(
        !example.is_null(),
        "schema {name} has no example in api.yml"
    );
    example.clone()
}

#[test]
fn body_types_match_the_catalogue_in_order() {
    let compiled: Vec<&str> = BodyType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(compiled, catalogue_names("x-nanochat-bodies"));
    for &body_type in BodyType::ALL {
        let def = &SPEC["x-nanochat-bodies"][body_type.as_str()];
        assert_eq!(BodyType::from_name(body_type.as_str()), Some(body_type));
        assert_eq!(
            body_type.is_signed(),
            def["signed"].as_bool().expect("signed is a bool"),
            "{body_type}"
        );
        assert_eq!(
            body_type.payload_schema(),
            def["payload"].as_str(),
            "{body_type}"
        );
        assert_eq!(
            Some(body_type.response_schema()),
            def["response"].as_str(),
            "{body_type}"
        );
        let errors: Vec<&str> = body_type.errors().iter().map(|e| e.as_str()).collect();
        let listed: Vec<&str> = def["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(errors, listed, "{body_type}");
    }
}

/// The body of `pub trait <name>` in a committed generated file.
fn trait_body<'a>(file: &'a str, name: &str) -> &'a str {
    let start = file
        .find(&format!("pub trait {name}"))
        .unwrap_or_else(|| panic!("no trait {name}"));
    let rest = &file[start..];
    let end = rest
        .find("\n}\n")
        .unwrap_or_else(|| panic!("trait {name} does not end"));
    &rest[..end]
}

/// The handler trait of a body type's area: `user.get` is in `UserHandler`.
fn area_trait(body_type: &str) -> String {
    let area = body_type.split('.').next().unwrap_or(body_type);
    let mut chars = area.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!(
        "{}{}Handler",
        first.into_iter().collect::<String>(),
        chars.as_str()
    )
}

#[test]
fn every_body_type_has_a_handler_and_a_client_method() {
    let server = include_str!("../../generated/server.rs");
    let bodies = trait_body(include_str!("../../generated/client.rs"), "Bodies");
    let count = |text: &str| text.matches("\n    fn ").count();
    let mut areas: Vec<String> = Vec::new();
    for &body_type in BodyType::ALL {
        let method = format!("fn {}(", body_type.method_name());
        let area = area_trait(body_type.as_str());
        assert!(
            trait_body(server, &area).contains(&method),
            "{area} has no `{method}` for {body_type}"
        );
        assert!(
            bodies.contains(&method),
            "Bodies has no `{method}` for {body_type}"
        );
        if !areas.contains(&area) {
            areas.push(area);
        }
    }
    let handler_methods: usize = areas.iter().map(|a| count(trait_body(server, a))).sum();
    assert_eq!(
        handler_methods,
        BodyType::ALL.len(),
        "the area traits have methods for other things than body types"
    );
    // Handler is every area and nothing else.
    let handler = format!("pub trait Handler: {} {{}}", areas.join(" + "));
    assert!(server.contains(&handler), "no `{handler}`");
    assert_eq!(
        count(bodies),
        BodyType::ALL.len(),
        "Bodies has methods for other things than body types"
    );
}

#[test]
fn event_types_match_the_catalogue_in_order() {
    let compiled: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(compiled, catalogue_names("x-nanochat-events"));
    for &event_type in EventType::ALL {
        assert_eq!(EventType::from_name(event_type.as_str()), Some(event_type));
    }
}

#[test]
fn error_codes_match_the_enum_in_order() {
    let compiled: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let listed: Vec<&str> = SPEC["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode has an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(compiled, listed);
    for &code in ErrorCode::ALL {
        assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
    }
}

/// Deserialises `example` as `T` and serialises it back.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    name: &str,
    example: &Value,
) -> Value {
    let value: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|e| panic!("the example of {name} does not deserialise: {e}"));
    serde_json::to_value(&value).unwrap_or_else(|e| panic!("{name} does not serialise: {e}"))
}

/// Every component schema of api.yml, by Rust type. `objects` carry an
/// `EXAMPLE_JSON` constant (the api.yml example, used by poem-openapi);
/// `enums` do not. A schema missing here fails `every_schema_is_listed`.
macro_rules! schemas {
    (objects: [$($object:ident),* $(,)?], enums: [$($enum:ident),* $(,)?] $(,)?) => {
        /// `(schema name, round trip of a JSON value, EXAMPLE_JSON if any)`.
        #[allow(clippy::type_complexity)]
        fn schemas() -> Vec<(&'static str, fn(&str, &Value) -> Value, Option<&'static str>)> {
            vec![
                $((stringify!($object), round_trip::<nanochat::models::$object>, Some(nanochat::models::$object::EXAMPLE_JSON)),)*
                $((stringify!($enum), round_trip::<nanochat::models::$enum>, None),)*
            ]
        }
    };
}

schemas! {
    objects: [
        EncryptedBody, EncryptedRequest, Error, References, Limits, Health, Body, Empty, EncryptedPrivateKey, CompleteUser,
        SyncUser, PrivateKeyUser, UpdateUser, BaseUser, PublicUser, CreateConversation, Conversation, SealedName, ConversationName,
        BaseConversation, Member, MessageConversation, List, WrappedKey, SealedAttachment, CreateMessage,
        UpdateMessage, BaseMessage, RecipientDigest, AttachmentInfo, Message, ListMessages, MessagePage,
        Attachment, SessionOpened, MemberLeft, KeyHistory, KeyRecord,
    ],
    enums: [ErrorCode],
}

#[test]
fn every_schema_is_listed() {
    let listed: BTreeSet<String> = schemas()
        .iter()
        .map(|(name, _, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        listed,
        schema_names(),
        "the schemas! list in tests/offline/catalogue.rs must name every schema of api.yml"
    );
}

#[test]
fn every_example_round_trips_through_its_model() {
    for (name, round_trip, example_json) in schemas() {
        let example = example(name);
        assert_eq!(
            round_trip(name, &example),
            example,
            "the example of {name} does not round-trip"
        );
        if let Some(json) = example_json {
            let constant: Value = serde_json::from_str(json).expect("EXAMPLE_JSON is JSON");
            assert_eq!(
                constant, example,
                "{name}::EXAMPLE_JSON is not the api.yml example"
            );
        }
    }
}

#[test]
fn every_request_response_and_event_round_trips() {
    for &body_type in BodyType::ALL {
        let payload = body_type.payload_schema().map(example);
        let request = Request::from_parts(body_type.as_str(), payload.clone())
            .unwrap_or_else(|e| panic!("{body_type}: the example payload does not decode: {e}"));
        assert_eq!(request.body_type(), body_type);
        assert_eq!(
            request.payload_json().unwrap(),
            payload,
            "{body_type}: the request payload does not round-trip"
        );
        let again =
            Request::from_parts(body_type.as_str(), request.payload_json().unwrap()).unwrap();
        assert_eq!(again, request);

        let response_payload = example(body_type.response_schema());
        let response = Response::from_parts(body_type, response_payload.clone())
            .unwrap_or_else(|e| panic!("{body_type}: the example response does not decode: {e}"));
        assert_eq!(response.body_type(), body_type);
        assert_eq!(
            response.payload_json().unwrap(),
            response_payload,
            "{body_type}: the response does not round-trip"
        );
    }
    for &event_type in EventType::ALL {
        let payload_schema = SPEC["x-nanochat-events"][event_type.as_str()]["payload"]
            .as_str()
            .unwrap();
        let payload = example(payload_schema);
        let event =
            Event::from_parts(event_type.as_str(), Some(payload.clone())).unwrap_or_else(|e| {
                panic!(
                    "{}: the example payload does not decode: {e}",
                    event_type.as_str()
                )
            });
        assert_eq!(event.event_type(), event_type);
        assert_eq!(
            event.payload_json().unwrap(),
            payload,
            "{}: the event does not round-trip",
            event_type.as_str()
        );
    }
}

#[test]
fn an_unknown_type_is_refused() {
    let error = Request::from_parts("user.fly", None).unwrap_err();
    assert!(
        matches!(&error, DecodeError::UnknownType(t) if t == "user.fly"),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "unknown body type \"user.fly\"");
    // Event types are not request types, nor the other way round.
    assert!(matches!(
        Request::from_parts("event.message.created", None),
        Err(DecodeError::UnknownType(_))
    ));
    let error = Event::from_parts("user.get", Some(json!({}))).unwrap_err();
    assert!(
        matches!(&error, DecodeError::UnknownType(t) if t == "user.get"),
        "{error:?}"
    );
}

#[test]
fn a_missing_payload_is_refused() {
    let error = Request::from_parts("user.get", None).unwrap_err();
    assert!(
        matches!(error, DecodeError::MissingPayload("user.get")),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "user.get needs a payload");
    let error = Event::from_parts("event.message.deleted", None).unwrap_err();
    assert!(
        matches!(error, DecodeError::MissingPayload("event.message.deleted")),
        "{error:?}"
    );
}

#[test]
fn an_unexpected_payload_is_refused() {
    let error = Request::from_parts("conversation.list", Some(json!({"id": 1}))).unwrap_err();
    assert!(
        matches!(error, DecodeError::UnexpectedPayload("conversation.list")),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "conversation.list takes no payload");
    // An empty object or null stands for no payload.
    assert_eq!(
        Request::from_parts("conversation.list", Some(json!({}))).unwrap(),
        Request::ConversationList
    );
    assert_eq!(
        Request::from_parts("session.open", Some(Value::Null)).unwrap(),
        Request::SessionOpen
    );
    assert_eq!(
        Request::from_parts("user.delete", None).unwrap(),
        Request::UserDelete
    );
}

#[test]
fn a_bad_payload_is_refused() {
    let error = Request::from_parts("user.get", Some(json!({}))).unwrap_err();
    assert!(
        matches!(error, DecodeError::BadPayload("user.get", _)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "user.get payload does not match its schema: missing field `username`"
    );

    let error =
        Request::from_parts("conversation.get", Some(json!({"id": "not a uuid"}))).unwrap_err();
    assert!(
        matches!(error, DecodeError::BadPayload("conversation.get", _)),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("conversation.get payload does not match its schema: "),
        "{error}"
    );

    let mut payload = example("CreateMessage");
    payload["content"] = json!("not base64!");
    let error = Request::from_parts("message.create", Some(payload)).unwrap_err();
    assert!(
        matches!(error, DecodeError::BadPayload("message.create", _)),
        "{error:?}"
    );
    assert!(error.to_string().contains("invalid base64"), "{error}");

    let error = Response::from_parts(BodyType::UserGet, json!([])).unwrap_err();
    assert!(
        matches!(error, DecodeError::BadPayload("user.get", _)),
        "{error:?}"
    );
}
