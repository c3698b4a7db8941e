//! The harness: a real server on a random loopback port, fixture keys, and
//! users completed through the real protocol.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use clap::Parser;
use nanochat::bodies::Request;
use nanochat::cli::Cli;
use nanochat::client::{Bodies, Session};
use nanochat::crypto::PrivateKey;
use nanochat::models::{CompleteUser, PublicUser};
use nanochat::server::Config;
use nanochat::store::{Location, scratch};
use nanochat::wire::Secret;
use nanochat_conformance::FixtureKey;
use tokio::sync::oneshot;

/// A chat for `name` on `server` using its fixture key, its state in `home`.
pub async fn chat(
    server: &TestServer,
    home: &std::path::Path,
    name: &str,
) -> nanochat::client::Chat {
    let mut chat =
        nanochat::client::Chat::connect(nanochat::client::Home::new(home), &server.url, name)
            .await
            .unwrap();
    chat.use_key(key(name));
    chat
}

/// The fixture key of the user called `name` (no key generation in tests).
pub fn key(name: &str) -> PrivateKey {
    FixtureKey::from_name(name)
        .unwrap_or_else(|| panic!("no fixture key {name}"))
        .private_key()
}

/// A server running in this process on 127.0.0.1 with a random port.
pub struct TestServer {
    /// Its base URL.
    pub url: String,
    /// Its data directory (database and key), kept across restarts.
    pub dir: Arc<tempfile::TempDir>,
    /// The configuration it runs with.
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// A fresh server in a new temporary directory.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A fresh server whose configuration `tweak` adjusts.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let key_path = dir.path().join("nanochat-server-key.pem");
        std::fs::write(&key_path, FixtureKey::Server.pem()).unwrap();
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut config = Config::default_in(dir.path());
        if let Some(admin) = scratch::test_postgres() {
            config.database = scratch::scratch_postgres(&admin)
                .await
                .expect("a scratch PostgreSQL database");
        }
        // Tests send many requests from one address; the limiter gets its own test.
        config.peer_burst = 100_000;
        config.peer_rate_per_second = 100_000;
        // Refusals are answered at once; holding them gets its own test.
        config.rate_limited_delay = std::time::Duration::ZERO;
        tweak(&mut config);
        TestServer::run(dir, config).await
    }

    async fn run(dir: Arc<tempfile::TempDir>, config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        TestServer::run_on(dir, config, listener).await
    }

    async fn run_on(
        dir: Arc<tempfile::TempDir>,
        mut config: Config,
        listener: tokio::net::TcpListener,
    ) -> TestServer {
        let address = listener.local_addr().unwrap();
        config.listen = address;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(nanochat::server::serve(
            config.clone(),
            listener,
            async move {
                let _ = stopped.await;
            },
        ));
        let url = format!("http://{address}");
        // Wait until the database is migrated and the server answers, so
        // operator commands in tests never race its start-up.
        let health = format!("{url}/health");
        for _ in 0..200 {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(
                !task.is_finished(),
                "the test server stopped during start-up"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        TestServer {
            url,
            dir,
            config,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals a graceful shutdown without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) {
        self.begin_stop();
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Stops and starts again on the same data directory (new port).
    pub async fn restart(mut self) -> TestServer {
        self.stop().await;
        let dir = self.dir.clone();
        let config = self.config.clone();
        TestServer::run(dir, config).await
    }

    /// Stops and starts again on the same data directory and the same
    /// port, so clients holding the URL reconnect to it.
    pub async fn restart_same_port(mut self) -> TestServer {
        self.stop().await;
        let dir = self.dir.clone();
        let config = self.config.clone();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("bind the same port again");
        TestServer::run_on(dir, config, listener).await
    }

    /// The database: a SQLite file in the data directory, or its own
    /// PostgreSQL database when `NANOCHAT_TEST_POSTGRES` is set.
    pub fn database(&self) -> Location {
        self.config.database.clone()
    }

    /// Runs an operator command (`["user", "create", "alice"]`) against
    /// this server's database, parsed exactly as the binary parses it;
    /// returns what it printed.
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let database = self.database();
        let mut argv = vec!["nanochat"];
        argv.extend_from_slice(args);
        let database = database.to_arg();
        argv.extend(["--database", &database]);
        let cli = Cli::try_parse_from(argv)?;
        let mut out = Vec::new();
        nanochat::cli::run(cli.command, &mut out).await?;
        Ok(String::from_utf8(out)?)
    }

    /// Creates a pending user through the operator CLI; returns the token.
    pub async fn create_user(&self, name: &str) -> String {
        token_in(
            &self
                .cli(&["user", "create", name])
                .await
                .expect("user create"),
        )
    }

    /// A session for `name` signing with the fixture key of the same name.
    pub async fn session(&self, name: &str) -> Session {
        Session::connect(&self.url, name, Some(key(name)))
            .await
            .expect("connect")
    }

    /// Creates and completes `name` with its fixture key.
    pub async fn user(&self, name: &str) -> Session {
        let token = self.create_user(name).await;
        let session = self.session(name).await;
        complete(&session, &token, name)
            .await
            .expect("user.complete");
        session
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Sends `user.complete` with the session's fixture key.
pub async fn complete(
    session: &Session,
    token: &str,
    name: &str,
) -> Result<PublicUser, nanochat::client::ClientError> {
    session
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: name.to_uppercase(),
            public_key: key(name).public_key().to_spki_der().to_vec().into(),
            private_key: None,
            sync_password: None,
        })
        .await
}

/// The error code of a failed exchange.
pub fn code<T: std::fmt::Debug>(result: Result<T, nanochat::client::ClientError>) -> String {
    match result {
        Err(nanochat::client::ClientError::Api(error)) => error.code.to_string(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Builds a raw request body for tests that tamper with the envelope.
pub fn body(session: &Session, request: &Request) -> nanochat::models::Body {
    session.body_for(request).expect("body")
}

/// The complete token in the output of `user create` or `user reset`.
pub fn token_in(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix("complete token: "))
        .expect("token printed")
        .to_owned()
}

/// alice and bob, completed, and a 1:1 conversation alice owns.
pub async fn duo(server: &TestServer) -> (Session, Session, nanochat::models::MessageConversation) {
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = alice
        .conversation_create(nanochat::models::CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .expect("conversation.create");
    (alice, bob, conversation)
}
