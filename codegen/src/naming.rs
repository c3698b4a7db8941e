//! Names: turning spec names (`user.complete`, `max_body_bytes`,
//! `bad_envelope`) into Rust identifiers.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// `user.complete` -> `UserComplete`, `bad_envelope` -> `BadEnvelope`.
pub fn pascal(name: &str) -> String {
    name.split(['.', '_', '-', ' '])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `user.complete` -> `user_complete`.
pub fn snake(name: &str) -> String {
    name.replace(['.', '-', ' '], "_").to_ascii_lowercase()
}

/// An identifier, raw where the name is a Rust keyword.
pub fn ident(name: &str) -> Ident {
    const KEYWORDS: &[&str] = &[
        "type", "match", "ref", "move", "self", "super", "crate", "mod", "fn", "let", "loop",
        "gen", "async", "await", "dyn", "impl", "trait", "struct", "enum", "use", "where",
        "static", "const", "box", "in", "for", "if", "else", "as", "break", "continue", "return",
        "mut", "pub", "true", "false", "unsafe", "extern", "while", "yield",
    ];
    if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// `#[doc = "..."]` lines for a description, one attribute per line so the
/// pretty-printed output reads like hand-written doc comments.
pub fn doc(text: Option<&str>) -> TokenStream {
    let Some(text) = text else {
        return TokenStream::new();
    };
    let lines = text.trim_end().lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}
