//! The web frontend: the files of `web/` compiled into the binary and served
//! at `/`, so `nanochat serve` and a browser are all anyone needs.
//!
//! Static files get a strict Content-Security-Policy (scripts only from this
//! origin, WebAssembly for Argon2id, nothing inline, no third-party origin)
//! and ETags with `Cache-Control: no-cache`, so a browser revalidates and
//! never runs a stale frontend against a newer server.
//!
//! The API paths answer CORS with `Access-Control-Allow-Origin: *`, so a page
//! served by one NanoChat server can talk to another the user chose. That is
//! safe here: there are no cookies or other ambient credentials, and every
//! request is encrypted to the server key and signed by the user.

use poem::endpoint::EmbeddedFilesEndpoint;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use rust_embed::RustEmbed;

/// The served part of `web/`: the page, its modules, styles and the vendored
/// Argon2id. Tests, tooling, generated types and `node_modules` stay out.
#[derive(RustEmbed)]
#[folder = "web/"]
#[include = "index.html"]
#[include = "css/*.css"]
#[include = "js/*.js"]
#[include = "vendor/*.js"]
#[include = "favicon.svg"]
pub struct Assets;

/// The Content-Security-Policy of every frontend file. `connect-src` admits
/// this origin, any TLS server (the user may point the page at another
/// NanoChat server) and loopback servers, which browsers treat as secure.
/// IPv6 literals (`[::1]`) are not valid CSP host sources (browsers log an
/// error for each on every load): a page served from `[::1]` reaches its
/// own server through `'self'`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; \
img-src 'self' blob: data:; \
connect-src 'self' https: wss: http://127.0.0.1:* ws://127.0.0.1:* http://localhost:* ws://localhost:*; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The paths of the API (answered with CORS) and the methods each answers
/// (the `Allow` header of a 405); everything else a GET asks for is a
/// frontend file.
pub const API_PATHS: &[(&str, &[Method])] = &[
    ("/references", &[Method::GET, Method::HEAD, Method::OPTIONS]),
    ("/encrypted", &[Method::POST, Method::OPTIONS]),
    ("/websocket", &[Method::GET, Method::OPTIONS]),
    ("/health", &[Method::GET, Method::HEAD, Method::OPTIONS]),
    (
        "/openapi.json",
        &[Method::GET, Method::HEAD, Method::OPTIONS],
    ),
];

fn api_methods(path: &str) -> Option<&'static [Method]> {
    API_PATHS
        .iter()
        .find(|(api, _)| *api == path)
        .map(|(_, methods)| *methods)
}

/// 405 with the `Allow` header RFC 9110 requires.
fn method_not_allowed(methods: &[Method]) -> Response {
    let allow = methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Wraps the API endpoint: API paths get CORS (and preflight answers), other
/// GET and HEAD requests are served from [`Assets`] with the frontend's
/// security headers.
pub async fn dispatch<E: Endpoint>(api: &E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    if let Some(methods) = api_methods(&path) {
        if req.method() == Method::OPTIONS {
            return Ok(with_cors(StatusCode::NO_CONTENT.into_response()));
        }
        if !methods.contains(req.method()) {
            return Ok(with_cors(method_not_allowed(methods)));
        }
        let response = match api.call(req).await {
            Ok(output) => output.into_response(),
            Err(error) => error.into_response(),
        };
        return Ok(with_cors(response));
    }
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return Ok(frontend_headers(StatusCode::NOT_FOUND.into_response()));
    }
    // poem's embedded-files endpoint answers GET only; a HEAD gets the same
    // headers without the body.
    let mut req = req;
    req.set_method(Method::GET);
    let mut response = match EmbeddedFilesEndpoint::<Assets>::new().call(req).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if head {
        response.set_body(());
    }
    Ok(frontend_headers(response))
}

fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    response
}

fn frontend_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
