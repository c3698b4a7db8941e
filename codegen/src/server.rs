//! The server skeleton: poem-openapi endpoints for the transport paths, the
//! `Transport` trait they delegate to, one handler trait per area of body
//! types (`UserHandler` for `user.*`, ...) with one method per type, and
//! `dispatch`, which routes a typed request to it.
//!
//! The split mirrors the protocol: `Transport` sees envelopes (what crosses
//! HTTP), `Handler` sees authenticated, decrypted, typed bodies. The
//! hand-written envelope pipeline sits between the two.

use openapiv3::{Operation, ReferenceOr, StatusCode};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::Result;
use crate::naming::{doc, pascal, snake};
use crate::spec::{Spec, ref_name};

/// Emits `server.rs`.
pub fn generate(spec: &Spec) -> Result<TokenStream> {
    let mut response_enums = Vec::new();
    let mut trait_methods = Vec::new();
    let mut endpoints = Vec::new();
    for (path, method, op) in spec.openapi.operations() {
        let op_id = op
            .operation_id
            .as_deref()
            .ok_or_else(|| crate::Error::Invalid(format!("{method} {path} has no operationId")))?;
        let fn_name = format_ident!("{}", snake(op_id));
        let summary = doc(op.summary.as_deref());
        let websocket = op.extensions.contains_key("x-dropshot-websocket");
        if websocket {
            websocket_operation(
                op_id,
                path,
                method,
                op,
                &mut response_enums,
                &mut trait_methods,
                &mut endpoints,
            )?;
            continue;
        }

        let response_name = format_ident!("{}Response", pascal(op_id));
        let (variants, has_bad_request) = response_variants(op_id, op, false)?;
        let handler_name = format_ident!("bad_request_{}", snake(op_id));
        let handler_attr = has_bad_request.then(|| {
            let handler = handler_name.to_string();
            quote!(#[oai(bad_request_handler = #handler)])
        });
        let handler_fn = has_bad_request.then(|| {
            quote! {
                /// Unparseable requests get the spec's Error body, not plain text.
                fn #handler_name(error: poem::Error) -> #response_name {
                    #response_name::BadRequest(poem_openapi::payload::Json(crate::models::Error::from(error)))
                }
            }
        });
        let response_doc = format!(" Every answer of `{op_id}` that api.yml lists.");
        response_enums.push(quote! {
            #[doc = #response_doc]
            #[derive(Debug, poem_openapi::ApiResponse)]
            #handler_attr
            pub enum #response_name {
                #(#variants)*
            }
            #handler_fn
        });

        let (body_param, body_arg, body_call) = match &op.request_body {
            Some(ReferenceOr::Item(body)) => match body
                .content
                .get("application/json")
                .and_then(|m| m.schema.as_ref())
            {
                Some(ReferenceOr::Reference { reference }) => {
                    let name = ref_name(reference).ok_or_else(|| {
                        crate::Error::Invalid(format!("{op_id}: bad reference {reference}"))
                    })?;
                    let name = format_ident!("{}", name);
                    (
                        quote!(, body: crate::models::#name),
                        quote!(, body: poem_openapi::payload::Json<crate::models::#name>),
                        quote!(, body.0),
                    )
                }
                _ => {
                    return Err(crate::Error::Unsupported(format!(
                        "{op_id}: request bodies must be a JSON $ref"
                    )));
                }
            },
            Some(ReferenceOr::Reference { .. }) => {
                return Err(crate::Error::Unsupported(format!(
                    "{op_id}: requestBody references are not supported"
                )));
            }
            None => (TokenStream::new(), TokenStream::new(), TokenStream::new()),
        };
        trait_methods.push(quote! {
            #summary
            fn #fn_name(&self, peer: Option<std::net::SocketAddr> #body_param) -> impl std::future::Future<Output = #response_name> + Send;
        });
        endpoints.push(quote! {
            #summary
            #[oai(path = #path, method = #method, operation_id = #op_id)]
            async fn #fn_name(&self, request: &poem::Request #body_arg) -> #response_name {
                self.0.#fn_name(self.0.client_addr(request) #body_call).await
            }
        });
    }

    // One trait per area (the part of the body type before the first
    // '.'), in the order the catalogue first names it, so each handler
    // module implements its own area and nothing forwards.
    let mut areas: Vec<(&str, Vec<TokenStream>)> = Vec::new();
    for b in &spec.bodies {
        let area = b.name.split('.').next().unwrap_or(&b.name);
        let name = format_ident!("{}", snake(&b.name));
        let docs = doc(Some(&format!("`{}`: {}", b.name, b.description)));
        let response = format_ident!("{}", b.response);
        let payload = b.payload.as_ref().map(|p| {
            let p = format_ident!("{}", p);
            quote!(, payload: crate::models::#p)
        });
        let method = quote! {
            #docs
            fn #name(&self, caller: &Self::Caller #payload) -> impl std::future::Future<Output = Result<crate::models::#response, Self::Error>> + Send;
        };
        match areas.iter_mut().find(|(known, _)| *known == area) {
            Some((_, methods)) => methods.push(method),
            None => areas.push((area, vec![method])),
        }
    }
    let area_traits = areas.iter().map(|(area, methods)| {
        let name = format_ident!("{}Handler", pascal(area));
        let docs = doc(Some(&format!("The `{area}.*` body types.")));
        quote! {
            #docs
            pub trait #name: HandlerTypes {
                #(#methods)*
            }
        }
    });
    let area_names: Vec<_> = areas
        .iter()
        .map(|(area, _)| format_ident!("{}Handler", pascal(area)))
        .collect();

    let dispatch_arms = spec.bodies.iter().map(|b| {
        let name = format_ident!("{}", snake(&b.name));
        let variant = format_ident!("{}", pascal(&b.name));
        match b.payload {
            Some(_) => quote!(Request::#variant(payload) => handler.#name(caller, payload).await.map(Response::#variant),),
            None => quote!(Request::#variant => handler.#name(caller).await.map(Response::#variant),),
        }
    });

    let title = &spec.openapi.info.title;
    let version = &spec.openapi.info.version;
    let description = spec.openapi.info.description.clone().unwrap_or_default();
    Ok(quote! {
        use crate::bodies::{Request, Response};

        /// `info.title` of api.yml.
        pub const API_TITLE: &str = #title;
        /// `info.version` of api.yml.
        pub const API_VERSION: &str = #version;
        /// `info.description` of api.yml, served with the spec.
        pub const API_DESCRIPTION: &str = #description;

        #(#response_enums)*

        /// The transport operations of api.yml: what the server does with
        /// each HTTP request before any body is decrypted.
        pub trait Transport: Send + Sync + 'static {
            /// The client's address for a request: the TCP peer by default;
            /// override it to believe a trusted reverse proxy's headers.
            fn client_addr(&self, request: &poem::Request) -> Option<std::net::SocketAddr> {
                request.remote_addr().as_socket_addr().copied()
            }
            #(#trait_methods)*
        }

        /// The poem-openapi service: one endpoint per operation, each
        /// delegating to the [`Transport`].
        pub struct Api<T>(pub std::sync::Arc<T>);

        #[poem_openapi::OpenApi]
        impl<T: Transport> Api<T> {
            #(#endpoints)*
        }

        /// What the handlers of every area share. Each area trait has one
        /// method per body type, called with the authenticated caller once
        /// the envelope has been opened, checked and its signature verified.
        pub trait HandlerTypes: Send + Sync + 'static {
            /// Who sent the request, as established by the envelope pipeline.
            type Caller: Send + Sync;
            /// The error every method may return; the pipeline turns it into an encrypted Error body.
            type Error: Send;
        }

        #(#area_traits)*

        /// Every area's handler: what [`dispatch`] needs. Implemented for
        /// any type that implements all the area traits.
        pub trait Handler: #(#area_names)+* {}

        impl<T: #(#area_names)+*> Handler for T {}

        /// Routes a typed request to its [`Handler`] method.
        pub async fn dispatch<H: Handler>(handler: &H, caller: &H::Caller, request: Request) -> Result<Response, H::Error> {
            match request {
                #(#dispatch_arms)*
            }
        }
    })
}

/// The variants of an operation's response enum, one per status api.yml
/// lists (the WebSocket upgrade's 101 left out when `skip_upgrade`), and
/// whether one of them is a 400.
fn response_variants(
    op_id: &str,
    op: &Operation,
    skip_upgrade: bool,
) -> Result<(Vec<TokenStream>, bool)> {
    let mut variants = Vec::new();
    let mut has_bad_request = false;
    for (status, response) in &op.responses.responses {
        let ReferenceOr::Item(response) = response else {
            return Err(crate::Error::Unsupported(format!(
                "{op_id}: response references are not supported"
            )));
        };
        let StatusCode::Code(code) = status else {
            return Err(crate::Error::Unsupported(format!(
                "{op_id}: status ranges are not supported"
            )));
        };
        if skip_upgrade && *code == 101 {
            continue;
        }
        let variant = format_ident!(
            "{}",
            status_variant(*code).ok_or_else(|| crate::Error::Unsupported(format!(
                "{op_id}: status {code} has no variant name"
            )))?
        );
        has_bad_request |= *code == 400;
        let docs = doc(Some(&response.description));
        let payload = match response
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
        {
            Some(ReferenceOr::Reference { reference }) => {
                let name = ref_name(reference).ok_or_else(|| {
                    crate::Error::Invalid(format!("{op_id}: bad reference {reference}"))
                })?;
                let name = format_ident!("{}", name);
                quote!((poem_openapi::payload::Json<crate::models::#name>))
            }
            Some(ReferenceOr::Item(_)) => {
                return Err(crate::Error::Unsupported(format!(
                    "{op_id}: inline response schemas are not supported"
                )));
            }
            None => TokenStream::new(),
        };
        variants.push(quote!(#docs #[oai(status = #code)] #variant #payload,));
    }
    Ok((variants, has_bad_request))
}

/// A WebSocket operation (`x-dropshot-websocket`): the [`Transport`] method
/// gets poem's upgrade; when api.yml lists answers besides the 101 (a
/// request that is not a WebSocket handshake), a second method turns poem's
/// refusal into one of them, and the endpoint's response type states both so
/// the served spec matches api.yml.
fn websocket_operation(
    op_id: &str,
    path: &str,
    method: &str,
    op: &Operation,
    response_enums: &mut Vec<TokenStream>,
    trait_methods: &mut Vec<TokenStream>,
    endpoints: &mut Vec<TokenStream>,
) -> Result<()> {
    let fn_name = format_ident!("{}", snake(op_id));
    let summary = doc(op.summary.as_deref());
    trait_methods.push(quote! {
        #summary
        fn #fn_name(&self, peer: Option<std::net::SocketAddr>, ws: poem::web::websocket::WebSocket) -> poem::web::websocket::BoxWebSocketUpgraded;
    });
    let (refusals, _) = response_variants(op_id, op, true)?;
    if refusals.is_empty() {
        endpoints.push(quote! {
            #summary
            #[oai(path = #path, method = #method, operation_id = #op_id)]
            async fn #fn_name(&self, request: &poem::Request, ws: poem::web::websocket::WebSocket) -> poem::web::websocket::BoxWebSocketUpgraded {
                self.0.#fn_name(self.0.client_addr(request), ws)
            }
        });
        return Ok(());
    }
    let refused_fn = format_ident!("{}_refused", snake(op_id));
    let refusal_name = format_ident!("{}Refusal", pascal(op_id));
    let response_name = format_ident!("{}Response", pascal(op_id));
    let refusal_doc =
        format!(" The answers of `{op_id}` to a request that is not a WebSocket handshake.");
    let response_doc =
        format!(" Every answer of `{op_id}` that api.yml lists: the upgrade or a refusal.");
    let refused_doc = format!(
        " The answer of `{op_id}` when poem refuses the upgrade (`error`): the request is not a WebSocket handshake."
    );
    response_enums.push(quote! {
        #[doc = #refusal_doc]
        #[derive(Debug, poem_openapi::ApiResponse)]
        pub enum #refusal_name {
            #(#refusals)*
        }

        #[doc = #response_doc]
        pub enum #response_name {
            /// Switching protocols to a WebSocket.
            Upgraded(poem::web::websocket::BoxWebSocketUpgraded),
            /// Not a WebSocket handshake.
            Refused(#refusal_name),
        }

        impl poem::IntoResponse for #response_name {
            fn into_response(self) -> poem::Response {
                match self {
                    #response_name::Upgraded(upgraded) => upgraded.into_response(),
                    #response_name::Refused(refusal) => refusal.into_response(),
                }
            }
        }

        impl poem_openapi::ApiResponse for #response_name {
            fn meta() -> poem_openapi::registry::MetaResponses {
                let mut responses = <poem::web::websocket::BoxWebSocketUpgraded as poem_openapi::ApiResponse>::meta().responses;
                responses.extend(<#refusal_name as poem_openapi::ApiResponse>::meta().responses);
                poem_openapi::registry::MetaResponses { responses }
            }

            fn register(registry: &mut poem_openapi::registry::Registry) {
                <#refusal_name as poem_openapi::ApiResponse>::register(registry);
            }
        }
    });
    trait_methods.push(quote! {
        #[doc = #refused_doc]
        fn #refused_fn(&self, peer: Option<std::net::SocketAddr>, error: poem::Error) -> #refusal_name;
    });
    endpoints.push(quote! {
        #summary
        #[oai(path = #path, method = #method, operation_id = #op_id)]
        async fn #fn_name(&self, request: &poem::Request) -> #response_name {
            let peer = self.0.client_addr(request);
            match <poem::web::websocket::WebSocket as poem::FromRequest>::from_request_without_body(request).await {
                Ok(ws) => #response_name::Upgraded(self.0.#fn_name(peer, ws)),
                Err(error) => #response_name::Refused(self.0.#refused_fn(peer, error)),
            }
        }
    });
    Ok(())
}

/// The variant name poem-openapi response enums use for a status code.
fn status_variant(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "Ok",
        201 => "Created",
        204 => "NoContent",
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        503 => "ServiceUnavailable",
        _ => return None,
    })
}
