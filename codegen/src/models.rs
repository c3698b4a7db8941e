//! One Rust type per component schema.
//!
//! Objects become structs and string enums become enums, all with serde
//! derives. The schemas reachable from the transport paths also derive
//! poem-openapi's `Object`/`Enum`, so the served spec is produced from the
//! very types the wire uses; the others never cross a plain HTTP body. The
//! poem-openapi derives sit behind the including crate's `server` feature,
//! so a client builds the same models without poem.
//!
//! Type mapping: `format: byte` -> `crate::wire::Bytes` (base64 on the
//! wire), `format: password` -> `crate::wire::Secret` (zeroized, redacted in
//! `Debug`), `format: date-time` -> `time::OffsetDateTime` (RFC 3339),
//! `format: uuid` -> `uuid::Uuid` read and written through
//! `crate::wire::canonical_uuid` (the lowercase hyphenated spelling only), free-form objects -> `serde_json::Value`.

use openapiv3::{
    IntegerFormat, ReferenceOr, Schema, SchemaKind, StringFormat, StringType, Type,
    VariantOrUnknownOrEmpty,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::Result;
use crate::naming::{doc, ident, pascal};
use crate::spec::{Spec, ref_name};

/// Emits `models.rs`.
pub fn generate(spec: &Spec) -> Result<TokenStream> {
    let transport = spec.transport_schemas();
    let mut items = Vec::new();
    for (name, schema) in spec.schemas() {
        let poem = transport.contains(name);
        items.push(type_for(name, schema, poem)?);
    }
    Ok(quote! {
        #(#items)*
    })
}

fn type_for(name: &str, schema: &Schema, poem: bool) -> Result<TokenStream> {
    let type_name = format_ident!("{}", name);
    let docs = doc(schema.schema_data.description.as_deref());
    let example = schema.schema_data.example.as_ref().map(|e| e.to_string());
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
            Ok(string_enum(&type_name, &docs, s, poem))
        }
        SchemaKind::Type(Type::Object(object)) => {
            let mut fields = Vec::new();
            for (field, field_schema) in &object.properties {
                let required = object.required.contains(field);
                fields.push(field_for(name, field, field_schema, required)?);
            }
            // Payloads whose fields are all optional get Default, so callers
            // can write `UpdateUser { display_name, ..Default::default() }`.
            let default = object
                .required
                .is_empty()
                .then(|| quote!(#[derive(Default)]));
            let closed = matches!(
                object.additional_properties,
                Some(openapiv3::AdditionalProperties::Any(false))
            );
            let deny = closed.then(|| quote!(#[serde(deny_unknown_fields)]));
            let poem_derive =
                poem.then(|| quote!(#[cfg_attr(feature = "server", derive(poem_openapi::Object))]));
            let oai = match (example.is_some(), closed) {
                (true, true) => quote!(skip_serializing_if_is_none, example, deny_unknown_fields),
                (true, false) => quote!(skip_serializing_if_is_none, example),
                (false, true) => quote!(skip_serializing_if_is_none, deny_unknown_fields),
                (false, false) => quote!(skip_serializing_if_is_none),
            };
            let poem_attrs = if poem {
                quote!(#[cfg_attr(feature = "server", oai(#oai))])
            } else {
                TokenStream::new()
            };
            let example_impl = match (poem, &example) {
                (true, Some(json)) => quote! {
                    #[cfg(feature = "server")]
                    impl poem_openapi::types::Example for #type_name {
                        fn example() -> Self {
                            // The example comes from api.yml, and a test
                            // deserialises every example, so this holds.
                            serde_json::from_str(#json).expect("api.yml example matches its schema")
                        }
                    }
                },
                _ => TokenStream::new(),
            };
            let example_const = example.map(|json| {
                let text = format!(" The example of `{name}` in api.yml, as JSON.");
                quote! {
                    impl #type_name {
                        #[doc = #text]
                        pub const EXAMPLE_JSON: &'static str = #json;
                    }
                }
            });
            Ok(quote! {
                #docs
                #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                #default
                #poem_derive
                #poem_attrs
                #deny
                pub struct #type_name {
                    #(#fields)*
                }
                #example_impl
                #example_const
            })
        }
        _ => Err(crate::Error::Unsupported(format!(
            "schema {name}: only objects and string enums can be top-level schemas"
        ))),
    }
}

fn string_enum(
    type_name: &proc_macro2::Ident,
    docs: &TokenStream,
    s: &StringType,
    poem: bool,
) -> TokenStream {
    let values: Vec<&String> = s.enumeration.iter().flatten().collect();
    let variants: Vec<_> = values
        .iter()
        .map(|v| format_ident!("{}", pascal(v)))
        .collect();
    let variant_docs = values.iter().map(|v| format!(" `{v}`"));
    let poem_derive =
        poem.then(|| quote!(#[cfg_attr(feature = "server", derive(poem_openapi::Enum))]));
    let poem_attrs: Vec<_> = values
        .iter()
        .map(|v| {
            if poem {
                quote!(#[cfg_attr(feature = "server", oai(rename = #v))])
            } else {
                quote!()
            }
        })
        .collect();
    quote! {
        #docs
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #poem_derive
        pub enum #type_name {
            #(
                #[doc = #variant_docs]
                #[serde(rename = #values)]
                #poem_attrs
                #variants,
            )*
        }
        impl #type_name {
            /// Every value, in the order api.yml lists them.
            pub const ALL: &'static [#type_name] = &[#(#type_name::#variants),*];
            /// The wire name of this value.
            pub fn as_str(self) -> &'static str {
                match self { #(#type_name::#variants => #values,)* }
            }
        }
        impl std::fmt::Display for #type_name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for #type_name {
            type Err = ();
            fn from_str(value: &str) -> Result<Self, ()> {
                match value { #(#values => Ok(#type_name::#variants),)* _ => Err(()) }
            }
        }
    }
}

/// How one property maps to Rust.
struct FieldType {
    ty: TokenStream,
    /// The serde `with` module for this type, if serde needs help.
    with: Option<&'static str>,
}

fn field_for(
    owner: &str,
    field: &str,
    schema: &ReferenceOr<Box<Schema>>,
    required: bool,
) -> Result<TokenStream> {
    let field_ident = ident(field);
    // OpenAPI 3.0 ignores siblings of `$ref`, so a referenced field is
    // documented by pointing at its type.
    let description = match schema {
        ReferenceOr::Item(s) => s.schema_data.description.clone(),
        ReferenceOr::Reference { reference } => {
            ref_name(reference).map(|name| format!("See [`{name}`]."))
        }
    };
    let docs = doc(description.as_deref());
    let FieldType { ty, with } = field_type(owner, field, schema)?;
    let (ty, serde_attr) = if required {
        let attr = with.map(|w| quote!(#[serde(with = #w)]));
        (ty, attr)
    } else {
        let attr = match with {
            Some(w) => {
                let w = format!("{w}::option");
                quote!(#[serde(default, with = #w, skip_serializing_if = "Option::is_none")])
            }
            None => quote!(#[serde(default, skip_serializing_if = "Option::is_none")]),
        };
        (quote!(Option<#ty>), Some(attr))
    };
    Ok(quote! {
        #docs
        #serde_attr
        pub #field_ident: #ty,
    })
}

fn field_type(owner: &str, field: &str, schema: &ReferenceOr<Box<Schema>>) -> Result<FieldType> {
    let plain = |ty: TokenStream| Ok(FieldType { ty, with: None });
    let schema = match schema {
        ReferenceOr::Reference { reference } => {
            let name = ref_name(reference).ok_or_else(|| {
                crate::Error::Unsupported(format!(
                    "{owner}.{field}: unsupported reference {reference}"
                ))
            })?;
            let name = format_ident!("{}", name);
            return plain(quote!(#name));
        }
        ReferenceOr::Item(schema) => schema,
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            if !s.enumeration.is_empty() {
                return Err(crate::Error::Unsupported(format!(
                    "{owner}.{field}: inline enums are not supported; make it a component schema"
                )));
            }
            match &s.format {
                VariantOrUnknownOrEmpty::Item(StringFormat::Byte) => {
                    plain(quote!(crate::wire::Bytes))
                }
                VariantOrUnknownOrEmpty::Item(StringFormat::Password) => {
                    plain(quote!(crate::wire::Secret))
                }
                VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => Ok(FieldType {
                    ty: quote!(time::OffsetDateTime),
                    with: Some("time::serde::rfc3339"),
                }),
                VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => Ok(FieldType {
                    ty: quote!(uuid::Uuid),
                    with: Some("crate::wire::canonical_uuid"),
                }),
                VariantOrUnknownOrEmpty::Empty => plain(quote!(String)),
                other => Err(crate::Error::Unsupported(format!(
                    "{owner}.{field}: unsupported string format {other:?}"
                ))),
            }
        }
        SchemaKind::Type(Type::Integer(i)) => match &i.format {
            VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => plain(quote!(i32)),
            VariantOrUnknownOrEmpty::Item(IntegerFormat::Int64) => plain(quote!(i64)),
            _ => Err(crate::Error::Unsupported(format!(
                "{owner}.{field}: integers need format int32 or int64"
            ))),
        },
        SchemaKind::Type(Type::Boolean(_)) => plain(quote!(bool)),
        SchemaKind::Type(Type::Array(array)) => {
            let items = array.items.as_ref().ok_or_else(|| {
                crate::Error::Invalid(format!("{owner}.{field}: arrays need items"))
            })?;
            let inner = field_type(owner, field, items)?;
            if inner.with.is_some() {
                return Err(crate::Error::Unsupported(format!(
                    "{owner}.{field}: arrays of date-times or UUIDs are not supported"
                )));
            }
            let inner = inner.ty;
            plain(quote!(Vec<#inner>))
        }
        SchemaKind::Type(Type::Object(object)) if object.properties.is_empty() => {
            plain(quote!(serde_json::Map<String, serde_json::Value>))
        }
        _ => Err(crate::Error::Unsupported(format!(
            "{owner}.{field}: unsupported inline schema; make it a component schema"
        ))),
    }
}
