//! Prometheus metrics: what the server counts and how it is scraped.
//!
//! Served on their own address (`nanochat serve --metrics-listen`), never on
//! the chat's: an operator scrapes from inside the network while the chat
//! faces the internet. No label carries a username, an id or anything else a
//! client chooses: body types outside the catalogue count as `unknown`, and
//! error codes are api.yml's stable codes.

use std::time::Duration;

use prometheus::core::Collector;
use prometheus::{
    Counter, Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::bodies::BodyType;
use crate::models::ErrorCode;
use crate::store::{PoolState, WriteStats};

/// The Content-Type of the exposition ([`Metrics::encode`]): Prometheus's
/// text format, which `promtool check metrics` reads too.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// Where a request arrived, as a label.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Transport {
    /// `POST /encrypted`.
    Http,
    /// A WebSocket frame.
    Websocket,
}

impl Transport {
    fn label(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Websocket => "websocket",
        }
    }
}

/// An RSA operation the server performs, as a label.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum RsaOperation {
    /// Unwrapping a request's AES key with the server's private key (OAEP).
    Decrypt,
    /// Verifying a signature: a request's, a message's, a name's, or a key
    /// succession's two.
    Verify,
}

impl RsaOperation {
    fn label(self) -> &'static str {
        match self {
            RsaOperation::Decrypt => "decrypt",
            RsaOperation::Verify => "verify",
        }
    }
}

/// Why the server ended a WebSocket, as a label.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum SocketEnd {
    /// The client closed it, or the connection broke (a read or write failed).
    Client,
    /// Silent for three ping intervals, or no session within one.
    Silent,
    /// A frame over `limits.max_body_bytes` (close code 1009).
    TooBig,
    /// The outgoing queue was full: a slow reader (close code 1013).
    SlowReader,
    /// The user's key changed, was reset or the user deleted (4001..4003).
    Account,
    /// The server refused the first frame (or a later frame's answer
    /// ended the socket).
    Refused,
    /// The server is shutting down.
    Shutdown,
}

impl SocketEnd {
    const ALL: [SocketEnd; 7] = [
        SocketEnd::Client,
        SocketEnd::Silent,
        SocketEnd::TooBig,
        SocketEnd::SlowReader,
        SocketEnd::Account,
        SocketEnd::Refused,
        SocketEnd::Shutdown,
    ];

    fn label(self) -> &'static str {
        match self {
            SocketEnd::Client => "client",
            SocketEnd::Silent => "silent",
            SocketEnd::TooBig => "too_big",
            SocketEnd::SlowReader => "slow_reader",
            SocketEnd::Account => "account",
            SocketEnd::Refused => "refused",
            SocketEnd::Shutdown => "shutdown",
        }
    }
}

/// The server's metrics; cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    sockets: IntGauge,
    sessions: IntGauge,
    socket_ends: IntCounterVec,
    events: IntCounter,
    users: IntGaugeVec,
    rsa: IntCounterVec,
    rate_limited: IntCounterVec,
    db_transactions: IntCounter,
    db_commits: IntCounter,
    db_wait: Counter,
    db_held: Counter,
    db_connections: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers `metric` in `registry` and returns it. The names and labels
/// are fixed here, so a failure is a programming error caught by the tests.
fn registered<M: Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names and labels are valid and unique");
    metric
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace("nanochat")
}

impl Metrics {
    /// A registry with every metric at zero, and the process's own
    /// (`process_*`: CPU, memory, open files).
    pub fn new() -> Self {
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("the process collector registers once");
        let requests = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "requests_total",
                    "Encrypted requests answered, by transport, body type (unknown outside the catalogue) and outcome (ok or the api.yml error code)",
                ),
                &["transport", "body_type", "code"],
            )
            .expect("valid metric"),
        );
        // 1 ms to about 16 s: an RSA signature check takes about a
        // millisecond, a large attachment upload seconds.
        let buckets = prometheus::exponential_buckets(0.001, 2.0, 15).expect("valid buckets");
        let durations = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::from(opts(
                    "request_duration_seconds",
                    "Time from a request's envelope to its sealed answer, by body type",
                ))
                .buckets(buckets),
                &["body_type"],
            )
            .expect("valid metric"),
        );
        let sockets = registered(
            &registry,
            IntGauge::with_opts(opts(
                "websocket_connections",
                "WebSocket connections open now, with or without a session",
            ))
            .expect("valid metric"),
        );
        let sessions = registered(
            &registry,
            IntGauge::with_opts(opts(
                "websocket_sessions",
                "WebSocket connections with an open session (receiving events) now",
            ))
            .expect("valid metric"),
        );
        let socket_ends = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "websocket_closed_total",
                    "WebSocket connections ended, by reason",
                ),
                &["reason"],
            )
            .expect("valid metric"),
        );
        let events = registered(
            &registry,
            IntCounter::with_opts(opts(
                "events_sent_total",
                "Events written to WebSocket sessions",
            ))
            .expect("valid metric"),
        );
        let users = registered(
            &registry,
            IntGaugeVec::new(
                opts(
                    "users",
                    "Users, by state (pending: created, not yet completed; active: completed), as of the scrape",
                ),
                &["state"],
            )
            .expect("valid metric"),
        );
        let rsa = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "rsa_operations_total",
                    "RSA operations, by kind: decrypt (a request's key, with the server key) or verify (a signature)",
                ),
                &["operation"],
            )
            .expect("valid metric"),
        );
        let rate_limited = registered(
            &registry,
            IntCounterVec::new(
                opts(
                    "rate_limited_total",
                    "Requests refused for their address's rate limit (429), by how: held for --rate-limited-delay-ms, or answered at once because too many were held",
                ),
                &["answer"],
            )
            .expect("valid metric"),
        );
        let db_transactions = registered(
            &registry,
            IntCounter::with_opts(opts(
                "db_write_transactions_total",
                "Changes this process wrote, each in a transaction or (SQLite) a savepoint of a group (committed or rolled back)",
            ))
            .expect("valid metric"),
        );
        let db_commits = registered(
            &registry,
            IntCounter::with_opts(opts(
                "db_commits_total",
                "Commits of write transactions; on SQLite one commit serves a group of changes",
            ))
            .expect("valid metric"),
        );
        let db_wait = registered(
            &registry,
            Counter::with_opts(opts(
                "db_write_wait_seconds_total",
                "Time changes waited for their writer turn and a pooled connection",
            ))
            .expect("valid metric"),
        );
        let db_held = registered(
            &registry,
            Counter::with_opts(opts(
                "db_write_seconds_total",
                "Time changes were open, from their writer turn to their commit or rollback (on SQLite including the wait for the group's commit)",
            ))
            .expect("valid metric"),
        );
        let db_connections = registered(
            &registry,
            IntGaugeVec::new(
                opts(
                    "db_pool_connections",
                    "Pooled database connections, by state (idle or busy), as of the scrape; on SQLite the writer keeps one, busy, between groups",
                ),
                &["state"],
            )
            .expect("valid metric"),
        );
        let build = registered(
            &registry,
            IntGaugeVec::new(
                opts("build_info", "The running version (always 1)"),
                &["version"],
            )
            .expect("valid metric"),
        );
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        // Every reason and user state from the start, so that rates and
        // alerts see zeros rather than missing series.
        for end in SocketEnd::ALL {
            socket_ends.with_label_values(&[end.label()]);
        }
        for state in ["active", "pending"] {
            users.with_label_values(&[state]);
        }
        for operation in [RsaOperation::Decrypt, RsaOperation::Verify] {
            rsa.with_label_values(&[operation.label()]);
        }
        for answer in ["held", "at_once"] {
            rate_limited.with_label_values(&[answer]);
        }
        Metrics {
            registry,
            requests,
            durations,
            sockets,
            sessions,
            socket_ends,
            events,
            users,
            rsa,
            rate_limited,
            db_transactions,
            db_commits,
            db_wait,
            db_held,
            db_connections,
        }
    }

    /// Counts `n` RSA operations of one kind.
    pub fn rsa(&self, operation: RsaOperation, n: u64) {
        self.rsa.with_label_values(&[operation.label()]).inc_by(n);
    }

    /// Counts one 429 for an address's rate limit: `held` when it waited
    /// before its answer.
    pub fn rate_limited(&self, held: bool) {
        let answer = if held { "held" } else { "at_once" };
        self.rate_limited.with_label_values(&[answer]).inc();
    }

    /// Copies the store's write statistics and pool state (at scrape time).
    pub fn set_store(&self, writes: &WriteStats, pool: PoolState) {
        // These counters are only ever set here, from the store's own.
        let transactions = writes.transactions();
        self.db_transactions
            .inc_by(transactions.saturating_sub(self.db_transactions.get()));
        let commits = writes.commits();
        self.db_commits
            .inc_by(commits.saturating_sub(self.db_commits.get()));
        let wait = writes.waited().as_secs_f64();
        self.db_wait.inc_by((wait - self.db_wait.get()).max(0.0));
        let held = writes.held().as_secs_f64();
        self.db_held.inc_by((held - self.db_held.get()).max(0.0));
        self.db_connections
            .with_label_values(&["idle"])
            .set(i64::from(pool.idle));
        self.db_connections
            .with_label_values(&["busy"])
            .set(i64::from(pool.size.saturating_sub(pool.idle)));
    }

    /// Counts one answered request: `body_type` as the Body named it
    /// (anything outside the catalogue counts as `unknown`), `code` `None`
    /// for success.
    pub fn request(
        &self,
        transport: Transport,
        body_type: &str,
        code: Option<ErrorCode>,
        took: Duration,
    ) {
        let body_type = BodyType::from_name(body_type).map_or("unknown", BodyType::as_str);
        self.requests
            .with_label_values(&[
                transport.label(),
                body_type,
                code.map_or("ok", ErrorCode::as_str),
            ])
            .inc();
        self.durations
            .with_label_values(&[body_type])
            .observe(took.as_secs_f64());
    }

    /// A WebSocket connection opened; the guard counts its end.
    pub fn socket_opened(&self) -> SocketGuard<'_> {
        self.sockets.inc();
        SocketGuard {
            metrics: self,
            session: false,
            end: SocketEnd::Client,
        }
    }

    /// Counts one event written to a session.
    pub fn event_sent(&self) {
        self.events.inc();
    }

    /// Sets the user counts (read from the store at scrape time).
    pub fn set_users(&self, active: i64, pending: i64) {
        self.users.with_label_values(&["active"]).set(active);
        self.users.with_label_values(&["pending"]).set(pending);
    }

    /// The exposition text ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::error!(%e, "metrics: encoding failed");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

/// One open WebSocket connection; dropping it counts the end.
pub struct SocketGuard<'a> {
    metrics: &'a Metrics,
    session: bool,
    end: SocketEnd,
}

impl SocketGuard<'_> {
    /// The connection's session opened.
    pub fn session_opened(&mut self) {
        if !self.session {
            self.session = true;
            self.metrics.sessions.inc();
        }
    }

    /// Why the connection is about to end (the last call wins).
    pub fn ending(&mut self, end: SocketEnd) {
        self.end = end;
    }
}

impl Drop for SocketGuard<'_> {
    fn drop(&mut self) {
        self.metrics.sockets.dec();
        if self.session {
            self.metrics.sessions.dec();
        }
        self.metrics
            .socket_ends
            .with_label_values(&[self.end.label()])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_only_catalogue_names_and_codes() {
        let metrics = Metrics::new();
        metrics.request(
            Transport::Http,
            "message.create",
            None,
            Duration::from_millis(3),
        );
        metrics.request(
            Transport::Websocket,
            "alice's secret type",
            Some(ErrorCode::UnknownType),
            Duration::from_millis(1),
        );
        let text = metrics.encode();
        assert!(
            text.contains(r#"nanochat_requests_total{body_type="message.create",code="ok",transport="http"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"nanochat_requests_total{body_type="unknown",code="unknown_type",transport="websocket"} 1"#),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn rsa_operations_and_rate_limited_answers_count_by_kind() {
        let metrics = Metrics::new();
        metrics.rsa(RsaOperation::Decrypt, 1);
        metrics.rsa(RsaOperation::Verify, 2);
        metrics.rate_limited(true);
        metrics.rate_limited(false);
        metrics.rate_limited(false);
        let text = metrics.encode();
        for line in [
            r#"nanochat_rsa_operations_total{operation="decrypt"} 1"#,
            r#"nanochat_rsa_operations_total{operation="verify"} 2"#,
            r#"nanochat_rate_limited_total{answer="held"} 1"#,
            r#"nanochat_rate_limited_total{answer="at_once"} 2"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn store_counters_follow_the_store_and_never_go_back() {
        let metrics = Metrics::new();
        let stats = WriteStats::default();
        let pool = PoolState { size: 3, idle: 2 };
        metrics.set_store(&stats, pool);
        metrics.set_store(&stats, pool);
        let text = metrics.encode();
        assert!(
            text.contains("nanochat_db_write_transactions_total 0"),
            "{text}"
        );
        assert!(
            text.contains(r#"nanochat_db_pool_connections{state="busy"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"nanochat_db_pool_connections{state="idle"} 2"#),
            "{text}"
        );
    }

    #[test]
    fn a_socket_counts_while_open_and_its_end_once_closed() {
        let metrics = Metrics::new();
        {
            let mut socket = metrics.socket_opened();
            socket.session_opened();
            socket.session_opened();
            let text = metrics.encode();
            assert!(text.contains("nanochat_websocket_connections 1"), "{text}");
            assert!(text.contains("nanochat_websocket_sessions 1"), "{text}");
            socket.ending(SocketEnd::SlowReader);
        }
        let text = metrics.encode();
        assert!(text.contains("nanochat_websocket_connections 0"), "{text}");
        assert!(text.contains("nanochat_websocket_sessions 0"), "{text}");
        assert!(
            text.contains(r#"nanochat_websocket_closed_total{reason="slow_reader"} 1"#),
            "{text}"
        );
    }
}
