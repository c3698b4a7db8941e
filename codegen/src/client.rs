//! The client: progenitor's HTTP client for the transport paths (module
//! `http`), with every component schema replaced by our own model type so
//! there is one set of wire types, plus the `Bodies` trait with one typed
//! method per body type.
//!
//! `Bodies` is blanket-implemented over `Exchange`, the seam to the
//! envelope code: an `Exchange` takes a typed request, seals, sends, opens
//! and validates, and returns the response payload as JSON.

use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, InterfaceStyle};
use quote::{format_ident, quote};

use crate::Result;
use crate::naming::{doc, pascal, snake};
use crate::spec::Spec;

/// Emits `client.rs`.
pub fn generate(spec: &Spec) -> Result<TokenStream> {
    let mut settings = GenerationSettings::new();
    settings.with_interface(InterfaceStyle::Positional);
    for (name, _) in spec.schemas() {
        settings.with_replacement(name, format!("crate::models::{name}"), std::iter::empty());
    }
    let http = Generator::new(&settings)
        .generate_tokens(&spec.openapi)
        .map_err(|e| crate::Error::Progenitor(format!("progenitor: {e}")))?;

    let methods = spec.bodies.iter().map(|b| {
        let name = format_ident!("{}", snake(&b.name));
        let variant = format_ident!("{}", pascal(&b.name));
        let docs = doc(Some(&format!("`{}`: {}", b.name, b.description)));
        let response = format_ident!("{}", b.response);
        match &b.payload {
            Some(p) => {
                let p = format_ident!("{}", p);
                quote! {
                    #docs
                    fn #name(&self, payload: crate::models::#p) -> impl std::future::Future<Output = Result<crate::models::#response, Self::Error>> + Send {
                        async move { decode(self.exchange(Request::#variant(payload)).await?) }
                    }
                }
            }
            None => quote! {
                #docs
                fn #name(&self) -> impl std::future::Future<Output = Result<crate::models::#response, Self::Error>> + Send {
                    async move { decode(self.exchange(Request::#variant).await?) }
                }
            },
        }
    });

    Ok(quote! {

        use crate::bodies::Request;

        /// progenitor's client for the transport paths of api.yml.
        #[allow(missing_docs, unused_imports)]
        pub mod http {
            #http
        }

        /// The seam to the envelope code: sends one typed request and
        /// returns the decrypted, validated response payload.
        pub trait Exchange: Send + Sync {
            /// The error of a failed exchange; a payload that does not match its schema converts into it.
            type Error: From<serde_json::Error> + Send;
            /// Seals `request`, sends it, opens and validates the response, and returns its payload.
            fn exchange(&self, request: Request) -> impl std::future::Future<Output = Result<serde_json::Value, Self::Error>> + Send;
        }

        fn decode<T: serde::de::DeserializeOwned, E: From<serde_json::Error>>(payload: serde_json::Value) -> Result<T, E> {
            Ok(serde_json::from_value(payload)?)
        }

        /// One typed method per body type of the catalogue.
        pub trait Bodies: Exchange {
            #(#methods)*
        }

        impl<T: Exchange + ?Sized> Bodies for T {}
    })
}
