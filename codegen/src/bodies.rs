//! The typed body catalogue shared by server and client: `BodyType`,
//! `Request`, `Response`, `EventType` and `Event`.
//!
//! A decrypted `Body` carries its type as a string and its payload as free
//! JSON; `Request::from_parts` and `Event::from_parts` turn those into typed
//! values (and say precisely what was wrong when they cannot), and the
//! `payload_json` methods go the other way.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::Result;
use crate::naming::{pascal, snake};
use crate::spec::Spec;

/// Emits `bodies.rs`.
pub fn generate(spec: &Spec) -> Result<TokenStream> {
    let names: Vec<&str> = spec.bodies.iter().map(|b| b.name.as_str()).collect();
    let variants: Vec<_> = names
        .iter()
        .map(|n| format_ident!("{}", pascal(n)))
        .collect();
    let descriptions: Vec<String> = spec
        .bodies
        .iter()
        .map(|b| format!(" `{}`: {}", b.name, b.description))
        .collect();
    let signed: Vec<bool> = spec.bodies.iter().map(|b| b.signed).collect();
    let errors: Vec<TokenStream> = spec
        .bodies
        .iter()
        .map(|b| {
            let codes = b.errors.iter().map(|c| format_ident!("{}", pascal(c)));
            quote!(&[#(crate::models::ErrorCode::#codes),*])
        })
        .collect();
    let payload_names: Vec<TokenStream> = spec
        .bodies
        .iter()
        .map(|b| match &b.payload {
            Some(p) => quote!(Some(#p)),
            None => quote!(None),
        })
        .collect();
    let response_names: Vec<&str> = spec.bodies.iter().map(|b| b.response.as_str()).collect();
    let method_names: Vec<String> = names.iter().map(|n| snake(n)).collect();

    // Request variants: tuple variants for typed payloads, unit otherwise.
    let request_variants = spec.bodies.iter().zip(&variants).map(|(b, v)| {
        let doc = format!(" `{}`", b.name);
        match &b.payload {
            Some(p) => {
                let p = format_ident!("{}", p);
                quote!(#[doc = #doc] #v(crate::models::#p),)
            }
            None => quote!(#[doc = #doc] #v,),
        }
    });
    let request_type_arms = spec
        .bodies
        .iter()
        .zip(&variants)
        .map(|(b, v)| match b.payload {
            Some(_) => quote!(Request::#v(_) => BodyType::#v,),
            None => quote!(Request::#v => BodyType::#v,),
        });
    let request_decode_arms = spec.bodies.iter().zip(&variants).map(|(b, v)| match b.payload {
        Some(_) => quote!(BodyType::#v => Request::#v(decode_payload(body_type.as_str(), payload)?),),
        None => quote!(BodyType::#v => { expect_no_payload(body_type.as_str(), payload)?; Request::#v }),
    });
    let request_encode_arms = spec
        .bodies
        .iter()
        .zip(&variants)
        .map(|(b, v)| match b.payload {
            Some(_) => quote!(Request::#v(p) => Some(serde_json::to_value(p)?),),
            None => quote!(Request::#v => None,),
        });

    let response_variants = spec.bodies.iter().zip(&variants).map(|(b, v)| {
        let doc = format!(" The response to `{}`", b.name);
        let r = format_ident!("{}", b.response);
        quote!(#[doc = #doc] #v(crate::models::#r),)
    });
    let response_type_arms = variants
        .iter()
        .map(|v| quote!(Response::#v(_) => BodyType::#v,));
    let response_encode_arms = variants
        .iter()
        .map(|v| quote!(Response::#v(p) => serde_json::to_value(p),));
    let response_decode_arms = variants.iter().map(|v| quote!(BodyType::#v => Response::#v(decode_payload(body_type.as_str(), Some(payload))?),));

    let event_names: Vec<&str> = spec.events.iter().map(|e| e.name.as_str()).collect();
    let event_variants: Vec<_> = event_names
        .iter()
        .map(|n| format_ident!("{}", pascal(n.strip_prefix("event.").unwrap_or(n))))
        .collect();
    let event_docs: Vec<String> = spec
        .events
        .iter()
        .map(|e| format!(" `{}`: {}", e.name, e.description))
        .collect();
    let event_payloads: Vec<_> = spec
        .events
        .iter()
        .map(|e| format_ident!("{}", e.payload))
        .collect();

    Ok(quote! {

        /// Every request body type of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BodyType {
            #(#[doc = #descriptions] #variants,)*
        }

        impl BodyType {
            /// Every request type, in catalogue order.
            pub const ALL: &'static [BodyType] = &[#(BodyType::#variants),*];

            /// The wire name, for example `conversation.create`.
            pub fn as_str(self) -> &'static str {
                match self { #(BodyType::#variants => #names,)* }
            }

            /// The type called `name` on the wire, if the catalogue has it.
            pub fn from_name(name: &str) -> Option<BodyType> {
                match name { #(#names => Some(BodyType::#variants),)* _ => None }
            }

            /// Whether the envelope must carry the user's signature.
            pub fn is_signed(self) -> bool {
                match self { #(BodyType::#variants => #signed,)* }
            }

            /// The error codes this type may return beyond the common ones.
            pub fn errors(self) -> &'static [crate::models::ErrorCode] {
                match self { #(BodyType::#variants => #errors,)* }
            }

            /// The payload schema name, or `None` when the type has no payload.
            pub fn payload_schema(self) -> Option<&'static str> {
                match self { #(BodyType::#variants => #payload_names,)* }
            }

            /// The schema name of a successful response's payload.
            pub fn response_schema(self) -> &'static str {
                match self { #(BodyType::#variants => #response_names,)* }
            }

            /// The name of the `Handler` and client method for this type.
            pub fn method_name(self) -> &'static str {
                match self { #(BodyType::#variants => #method_names,)* }
            }
        }

        impl std::fmt::Display for BodyType {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Why a body type and payload do not make a valid typed body.
        #[derive(Debug)]
        pub enum DecodeError {
            /// The type is not in the catalogue.
            UnknownType(String),
            /// The type needs a payload and none was sent.
            MissingPayload(&'static str),
            /// The type takes no payload and one was sent.
            UnexpectedPayload(&'static str),
            /// The payload does not match the type's schema.
            BadPayload(&'static str, serde_json::Error),
        }

        impl std::fmt::Display for DecodeError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    DecodeError::UnknownType(t) => write!(f, "unknown body type {t:?}"),
                    DecodeError::MissingPayload(t) => write!(f, "{t} needs a payload"),
                    DecodeError::UnexpectedPayload(t) => write!(f, "{t} takes no payload"),
                    DecodeError::BadPayload(t, e) => write!(f, "{t} payload does not match its schema: {e}"),
                }
            }
        }

        impl std::error::Error for DecodeError {}

        fn decode_payload<T: serde::de::DeserializeOwned>(
            body_type: &'static str,
            payload: Option<serde_json::Value>,
        ) -> Result<T, DecodeError> {
            let payload = payload.ok_or(DecodeError::MissingPayload(body_type))?;
            serde_json::from_value(payload).map_err(|e| DecodeError::BadPayload(body_type, e))
        }

        fn expect_no_payload(body_type: &'static str, payload: Option<serde_json::Value>) -> Result<(), DecodeError> {
            match payload {
                None | Some(serde_json::Value::Null) => Ok(()),
                Some(serde_json::Value::Object(map)) if map.is_empty() => Ok(()),
                Some(_) => Err(DecodeError::UnexpectedPayload(body_type)),
            }
        }

        /// A request with its typed payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {
            #(#request_variants)*
        }

        impl Request {
            /// The request's body type.
            pub fn body_type(&self) -> BodyType {
                match self { #(#request_type_arms)* }
            }

            /// Builds a typed request from a Body's `type` and `payload`.
            pub fn from_parts(body_type: &str, payload: Option<serde_json::Value>) -> Result<Request, DecodeError> {
                let body_type = BodyType::from_name(body_type).ok_or_else(|| DecodeError::UnknownType(body_type.to_owned()))?;
                Ok(match body_type { #(#request_decode_arms)* })
            }

            /// The payload as JSON for a Body, `None` for types without payload.
            pub fn payload_json(&self) -> Result<Option<serde_json::Value>, serde_json::Error> {
                Ok(match self { #(#request_encode_arms)* })
            }
        }

        /// A successful response with its typed payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Response {
            #(#response_variants)*
        }

        impl Response {
            /// The body type this responds to.
            pub fn body_type(&self) -> BodyType {
                match self { #(#response_type_arms)* }
            }

            /// The payload as JSON for a response Body.
            pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self { #(#response_encode_arms)* }
            }

            /// Decodes a response payload for a request of `body_type`.
            pub fn from_parts(body_type: BodyType, payload: serde_json::Value) -> Result<Response, DecodeError> {
                Ok(match body_type { #(#response_decode_arms)* })
            }
        }

        /// Every event type pushed over the WebSocket.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            #(#[doc = #event_docs] #event_variants,)*
        }

        impl EventType {
            /// Every event type, in catalogue order.
            pub const ALL: &'static [EventType] = &[#(EventType::#event_variants),*];

            /// The wire name, for example `event.message.created`.
            pub fn as_str(self) -> &'static str {
                match self { #(EventType::#event_variants => #event_names,)* }
            }

            /// The event type called `name` on the wire, if any.
            pub fn from_name(name: &str) -> Option<EventType> {
                match name { #(#event_names => Some(EventType::#event_variants),)* _ => None }
            }
        }

        /// An event with its typed payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            #(#[doc = #event_docs] #event_variants(crate::models::#event_payloads),)*
        }

        impl Event {
            /// The event's type.
            pub fn event_type(&self) -> EventType {
                match self { #(Event::#event_variants(_) => EventType::#event_variants,)* }
            }

            /// The payload as JSON for an event Body.
            pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self { #(Event::#event_variants(p) => serde_json::to_value(p),)* }
            }

            /// Builds a typed event from a Body's `type` and `payload`.
            pub fn from_parts(event_type: &str, payload: Option<serde_json::Value>) -> Result<Event, DecodeError> {
                let event_type = EventType::from_name(event_type).ok_or_else(|| DecodeError::UnknownType(event_type.to_owned()))?;
                Ok(match event_type { #(EventType::#event_variants => Event::#event_variants(decode_payload(event_type.as_str(), payload)?),)* })
            }
        }
    })
}
