//! The NanoChat server.
//!
//! # Layout
//! - [`config`]: what the operator can set, and the protocol [`Rules`].
//! - [`pipeline`]: envelope in, handler call, encrypted response out; every
//!   protocol check (freshness, replay, signature) lives there.
//! - [`protocol`]: the values everything shares (the caller, usernames,
//!   UUID spelling, stored times, the limits' relation); it imports none of
//!   the others.
//! - [`error`]: errors as the handlers build them, and the plain answers of
//!   an envelope that cannot be answered encrypted.
//!
//! Dependencies point one way: `protocol`, `error`, `config`, `hub` and
//! `ratelimit` import no other server module; `state` builds on them;
//! `pipeline` and `handlers` on `state`; `websocket` on `pipeline`; this
//! module wires everything.
//! - `handlers`: the generated `Handler` trait implemented per area
//!   (users, conversations, messages, names and the views they return).
//! - [`rules`]: every check of a request's content, each a named function
//!   that a rule switch of [`Rules`] can turn off in the conformance
//!   suite's deliberately broken servers.
//! - [`state`]: [`state::State`], what every handler shares (the
//!   store, the server key, the hub, the limiters, key caches).
//! - [`websocket`] and [`hub`]: sockets, sessions and the per-socket event
//!   queues; [`fanout`]: what a committed change tells whom, published in
//!   the conversation's turn; `listener` and [`sequencer`]: on PostgreSQL,
//!   events recorded by any instance, delivered in each conversation's
//!   order; `key_watch`: key changes made by an operator's command in
//!   another process, which end sessions.
//! - [`ratelimit`]: per-peer and per-user limits.
//! - [`server_key`]: the server key pair on disk.
//! - [`web`]: the embedded web frontend, its headers, and CORS on the API.
//! - [`metrics`]: what `/metrics` reports, on its own address.
//!
//! This module wires them into the generated poem-openapi [`Api`] and runs
//! it until a shutdown signal, letting in-flight requests finish.

pub mod config;
pub mod error;
pub mod fanout;
mod handlers;
pub mod hub;
mod key_watch;
mod listener;
pub mod metrics;
pub mod pipeline;
pub mod protocol;
pub mod ratelimit;
pub mod rules;
pub mod sequencer;
pub mod server_key;
pub mod state;
pub mod web;
pub mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use poem::web::websocket::{BoxWebSocketUpgraded, WebSocket};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::OpenApiService;
use poem_openapi::payload::Json;
use time::OffsetDateTime;
use tokio::io::AsyncReadExt as _;

pub use config::{Config, Rules};
use error::PlainKind;
pub use protocol::Caller;
pub use state::State;

use crate::api::{
    Api, GetHealthResponse, GetReferencesResponse, PostEncryptedResponse, Transport,
    WebsocketRefusal,
};
use crate::models::{EncryptedRequest, Error, ErrorCode, Health, References};
use crate::store::Store;

/// The software version reported by `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The transport: what each HTTP operation of api.yml does.
pub struct Server(pub Arc<State>);

impl Transport for Server {
    fn client_addr(&self, request: &Request) -> Option<SocketAddr> {
        forwarded_client(&self.0, request)
    }

    async fn get_references(&self, _peer: Option<SocketAddr>) -> GetReferencesResponse {
        let key = self.0.server_key.public_key();
        GetReferencesResponse::Ok(Json(References {
            protocol_version: protocol::PROTOCOL_VERSION,
            server_public_key: key.to_spki_der().to_vec().into(),
            server_fingerprint: key.fingerprint().to_string(),
            server_time: OffsetDateTime::now_utc(),
            freshness_window_seconds: self.0.config.freshness_window.as_secs() as i64,
            limits: self.0.config.limits.clone(),
        }))
    }

    async fn post_encrypted(
        &self,
        peer: Option<SocketAddr>,
        body: EncryptedRequest,
    ) -> PostEncryptedResponse {
        match pipeline::handle(&self.0, peer, body.into(), pipeline::Channel::Http).await {
            Ok(answered) => PostEncryptedResponse::Ok(Json(answered.response)),
            Err(failure) => {
                let error = Json(failure.error);
                match failure.kind {
                    PlainKind::BadEnvelope | PlainKind::SessionRequired => {
                        PostEncryptedResponse::BadRequest(error)
                    }
                    PlainKind::Undecryptable => PostEncryptedResponse::Unauthorized(error),
                    PlainKind::TooLarge => PostEncryptedResponse::PayloadTooLarge(error),
                    PlainKind::RateLimited => PostEncryptedResponse::TooManyRequests(error),
                    PlainKind::Internal => PostEncryptedResponse::InternalServerError(error),
                }
            }
        }
    }

    fn websocket(&self, peer: Option<SocketAddr>, ws: WebSocket) -> BoxWebSocketUpgraded {
        websocket::upgrade(self.0.clone(), peer, ws)
    }

    fn websocket_refused(&self, _peer: Option<SocketAddr>, error: poem::Error) -> WebsocketRefusal {
        WebsocketRefusal::BadRequest(Json(websocket::refusal(&error)))
    }

    async fn get_health(&self, _peer: Option<SocketAddr>) -> GetHealthResponse {
        match self.0.store.ping().await {
            Ok(()) => GetHealthResponse::Ok(Json(Health {
                status: "ok".into(),
                version: VERSION.into(),
            })),
            Err(e) => {
                tracing::error!(%e, "health check: the database does not answer");
                GetHealthResponse::ServiceUnavailable(Json(Error::new(
                    ErrorCode::Unavailable,
                    "the database does not answer",
                )))
            }
        }
    }
}

/// The poem-openapi service with api.yml's title, version and description.
pub fn openapi_service(state: Arc<State>) -> OpenApiService<Api<Server>, ()> {
    OpenApiService::new(
        Api(Arc::new(Server(state))),
        crate::api::API_TITLE,
        crate::api::API_VERSION,
    )
    .description(crate::api::API_DESCRIPTION)
}

/// The whole HTTP application: the API, its served spec at
/// `/openapi.json`, the body size limit, and the web frontend at `/`
/// ([`web`]).
pub fn app(state: Arc<State>) -> impl Endpoint {
    let service = openapi_service(state.clone());
    let spec = service.spec_endpoint();
    Route::new()
        .nest("/", service)
        .at("/openapi.json", spec)
        .around(move |ep, req| admit_body(ep, req, state.clone()))
        .around(|ep, req| async move { web::dispatch(&*ep, req).await })
}

/// The client address of a request, through trusted proxies.
fn forwarded_client(state: &State, request: &Request) -> Option<SocketAddr> {
    let forwarded = request.header("x-forwarded-for");
    let peer = request.remote_addr().as_socket_addr().copied();
    ratelimit::client_behind(&state.config.trusted_proxies, peer, forwarded)
}

/// What every request body goes through before poem-openapi sees it, in
/// order of cost: the peer's rate limit (no work spent on a flooding
/// address), a slot among the bodies in flight (bounds memory), the size
/// limit (announced or not), and a typed parse that refuses anything but an
/// `EncryptedRequest` without building a generic JSON tree of it first.
async fn admit_body<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    state: Arc<State>,
) -> poem::Result<Response> {
    if req.method() != poem::http::Method::POST {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let started = std::time::Instant::now();
    // Refused here, before poem-openapi and the pipeline: counted here.
    let plain = |status: poem::http::StatusCode, error: Error| {
        state.metrics.request(
            metrics::Transport::Http,
            "",
            Some(error.code),
            started.elapsed(),
        );
        Json(error).with_status(status).into_response()
    };
    let peer = forwarded_client(&state, &req);
    if let Err(failure) = state.admit(peer) {
        let held = state.hold_refused().await;
        let mut response = plain(failure.kind.http_status(), failure.error);
        let headers = response.headers_mut();
        headers.insert(
            poem::http::header::RETRY_AFTER,
            poem::http::HeaderValue::from_static("1"),
        );
        if !held {
            headers.insert(
                poem::http::header::CONNECTION,
                poem::http::HeaderValue::from_static("close"),
            );
        }
        return Ok(response);
    }
    let _slot = state
        .body_slots
        .acquire()
        .await
        .map_err(|e| poem::Error::new(e, poem::http::StatusCode::SERVICE_UNAVAILABLE))?;
    let max = usize::try_from(state.config.limits.max_body_bytes).unwrap_or(usize::MAX);
    let too_large = || {
        let message = format!("the request is larger than the limit of {max} bytes");
        plain(
            poem::http::StatusCode::PAYLOAD_TOO_LARGE,
            Error::new(ErrorCode::TooLarge, message),
        )
    };
    let announced = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    // A body over the limit is read to its end and discarded, up to twice
    // the limit, before the 413: a client still sending it then reads the
    // answer instead of having its connection reset under it (api.yml).
    // Beyond that the answer goes at once and the connection closes.
    let drain_limit = max.saturating_mul(2);
    if announced.is_some_and(|len| len > drain_limit) {
        let mut response = too_large();
        response.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
        return Ok(response);
    }
    let mut reader = req.take_body().into_async_read();
    let mut bytes = Vec::with_capacity(announced.unwrap_or(0).min(max));
    let read = (&mut reader)
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .await;
    if let Err(e) = read {
        return Err(poem::Error::new(e, poem::http::StatusCode::BAD_REQUEST));
    }
    if bytes.len() > max {
        let rest = (drain_limit - bytes.len()) as u64;
        drop(bytes);
        let drained = tokio::io::copy(&mut (&mut reader).take(rest), &mut tokio::io::sink()).await;
        let mut response = too_large();
        if drained.is_err() || drained.is_ok_and(|n| n == rest) {
            // Cut off at twice the limit (or broken): nothing more is read.
            response.headers_mut().insert(
                poem::http::header::CONNECTION,
                poem::http::HeaderValue::from_static("close"),
            );
        }
        return Ok(response);
    }
    if let Err(e) = serde_json::from_slice::<EncryptedRequest>(&bytes) {
        let message = format!("the envelope is not a valid EncryptedRequest: {e}");
        return Ok(plain(
            poem::http::StatusCode::BAD_REQUEST,
            Error::new(ErrorCode::BadEnvelope, message),
        ));
    }
    req.set_body(bytes);
    ep.call(req).await.map(IntoResponse::into_response)
}

/// Opens the database and server key and serves on `listener` until
/// `shutdown` resolves; in-flight requests get `config.shutdown_grace`.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut store = Store::open(&config.database).await?;
    // A deliberately broken server without `conversation_limit` still
    // announces its limit but lets anyone join without one.
    store.limit_conversations(if config.rules().conversation_limit {
        config.limits.max_conversations
    } else {
        i64::MAX
    });
    // The location as Display prints it: a PostgreSQL URL without its password.
    tracing::info!(database = %config.database, "database open");
    let server_key = server_key::load_for(
        &config.server_key,
        &store,
        &config.database,
        config.replace_server_key,
    )
    .await?;
    tracing::info!(
        fingerprint = %server_key.fingerprint(),
        rsa_backend = %crate::crypto::backend::active(),
        "server key"
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let grace = config.shutdown_grace;
    let state = State::new(config, store.clone(), server_key, stop_rx);
    let purge = tokio::spawn(purge_replay_guard(state.clone()));
    let listener_task = match &state.config.database {
        crate::store::Location::Postgres(url) => {
            Some(tokio::spawn(listener::listen(state.clone(), url.clone())))
        }
        crate::store::Location::Sqlite(_) => Some(tokio::spawn(key_watch::watch(state.clone()))),
    };
    let metrics_task = match state.config.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} for metrics"))?;
            tracing::info!(address = %listener.local_addr()?, "metrics at /metrics");
            Some(tokio::spawn(serve_metrics(state.clone(), listener)))
        }
        None => None,
    };
    let address = listener.local_addr()?;
    tracing::info!(%address, "listening");
    announce_url(address);
    let acceptor = NoDelay(poem::listener::TcpAcceptor::from_tokio(listener)?);
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    };
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app(state), signal, Some(grace))
        .await?;
    purge.abort();
    for task in [listener_task, metrics_task].into_iter().flatten() {
        task.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `GET /metrics` (and nothing else) on `listener`; the user counts
/// are read from the store at each scrape.
async fn serve_metrics(state: Arc<State>, listener: tokio::net::TcpListener) {
    let scrape = poem::endpoint::make(move |_req: Request| {
        let state = state.clone();
        async move {
            match state.store.count_users().await {
                Ok((active, pending)) => state.metrics.set_users(active, pending),
                // The other metrics still say something: the gauge keeps
                // its last value and the failure is logged.
                Err(e) => tracing::warn!(%e, "metrics: counting users failed"),
            }
            state
                .metrics
                .set_store(state.store.write_stats(), state.store.pool_state());
            Response::builder()
                .content_type(metrics::CONTENT_TYPE)
                .body(state.metrics.encode())
        }
    });
    let app = Route::new().at("/metrics", poem::get(scrape));
    let acceptor = match poem::listener::TcpAcceptor::from_tokio(listener) {
        Ok(acceptor) => acceptor,
        Err(e) => {
            tracing::error!(%e, "metrics: cannot accept connections");
            return;
        }
    };
    if let Err(e) = poem::Server::new_with_acceptor(acceptor).run(app).await {
        tracing::error!(%e, "metrics: the listener stopped");
    }
}

/// Logs, in one line, the address to open in a browser; on a non-loopback
/// address also that browsers need HTTPS there (README, "TLS").
fn announce_url(address: SocketAddr) {
    let ip = address.ip();
    if ip.is_loopback() {
        let url = format!("http://{address}/");
        tracing::info!(%url, "open {url} in a browser on this computer");
        return;
    }
    if ip.is_unspecified() {
        let loopback: std::net::IpAddr = if ip.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        let url = format!("http://{}/", SocketAddr::new(loopback, address.port()));
        tracing::info!(
            %url,
            "open {url} in a browser on this computer; from other computers open the HTTPS \
             address of a reverse proxy with TLS in front of this server: browsers hide their \
             crypto API on plain http:// from any address but the computer itself (README, \"TLS\")"
        );
    } else {
        let url = format!("http://{address}/");
        tracing::info!(
            %url,
            "open the HTTPS address of a reverse proxy with TLS that forwards to {url} in a \
             browser: browsers hide their crypto API on plain http:// from any address but the \
             computer itself (README, \"TLS\")"
        );
    }
}

/// Accepts connections with Nagle's algorithm off: a WebSocket answer and
/// an event are small writes in a row, and Nagle holding the second one
/// until the peer's delayed ACK (40 ms) capped one client at ~45 requests
/// a second.
struct NoDelay(poem::listener::TcpAcceptor);

impl poem::listener::Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        let accepted = self.0.accept().await?;
        if let Err(e) = accepted.0.set_nodelay(true) {
            tracing::debug!(%e, "cannot set TCP_NODELAY");
        }
        Ok(accepted)
    }
}

/// Forgets request ids once they could no longer pass the freshness check,
/// and recorded events once no listener can need them.
async fn purge_replay_guard(state: Arc<State>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = protocol::unix_ms(OffsetDateTime::now_utc());
        if let Err(e) = state.store.purge_requests(now).await {
            tracing::warn!(%e, "purging the replay guard failed");
        }
        let kept = listener::EVENT_RETENTION.as_millis() as i64;
        if let Err(e) = state.store.purge_events(now - kept).await {
            tracing::warn!(%e, "purging recorded events failed");
        }
    }
}
