//! The conformance suite against our own server: the real binary over
//! loopback, provisioned with its own `user create` command, must pass every
//! case; and each deliberately broken server (one rule switched off) must be
//! caught by the cases the `MUTANTS` table lists for it.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::support::*;
use nanochat::server::Rules;
use nanochat_conformance::provision::{CommandProvisioner, DEFAULT_TOKEN_PATTERN};
use nanochat_conformance::runner::Verdict;
use nanochat_conformance::suite::{self, Options, Summary};

/// Every case, SHOULD ones too, 4 at a time, usernames under `prefix`.
pub fn options(prefix: &str) -> Options {
    Options {
        select: Vec::new(),
        strict: true,
        slow: false,
        jobs: 4,
        prefix: prefix.to_owned(),
    }
}

/// Settings for the servers the whole suite runs against: LIMIT-CONV-001
/// makes `max_conversations` conversations, so it is kept low.
pub const SMALL_LIMITS: &[(&str, &str)] = &[("NANOCHAT_MAX_CONVERSATIONS", "30")];

/// How many of `cases` run without `--slow` (every case passes but the
/// slow ones, which are skipped; the CI's conformance CLI runs them).
pub fn quick_cases(cases: &[nanochat_conformance::case::Case]) -> usize {
    cases.iter().filter(|c| !c.slow).count()
}

/// Users made by the operator command `command` (`{username}` replaced),
/// and expired ones by the same with a 1 s token; reset and deleted by the
/// same command line (`user create` becomes `user reset`, `user delete`).
pub fn provisioner(command: &str) -> Arc<CommandProvisioner> {
    let reset = command.replace("user create", "user reset");
    let delete = command.replace("user create", "user delete");
    Arc::new(
        CommandProvisioner::new(command, DEFAULT_TOKEN_PATTERN)
            .unwrap()
            .with_expired(&format!("{command} --ttl 1s && sleep 1.2"))
            .unwrap()
            .with_operator(Some(&reset), Some(&delete))
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_passes_every_case() {
    let dir = server_dir();
    // A low max_conversations keeps LIMIT-CONV-001 (which fills it) short.
    let (mut server, url, _log) = serve_with(dir.path(), "debug", SMALL_LIMITS);
    let command = format!(
        "cd '{}' && '{BINARY}' user create {{username}}",
        dir.path().display()
    );
    let provisioner = provisioner(&command);
    let cases = suite::catalogue().unwrap();
    let results = suite::run(
        std::slice::from_ref(&url),
        provisioner,
        &cases,
        &options("bin"),
    )
    .await;
    let report = suite::text_report(&results, &BTreeSet::new());
    let summary = Summary::of(&results, &BTreeSet::new());
    assert!(summary.success(), "{report}");
    assert_eq!(summary.passed, quick_cases(&cases), "{report}");
    // A second run against the same server works: fresh usernames.
    let again = suite::run(
        &[url],
        Arc::new(CommandProvisioner::new(&command, DEFAULT_TOKEN_PATTERN).unwrap()),
        &cases[..3],
        &options("again"),
    )
    .await;
    assert!(again.iter().all(|r| r.verdict == Verdict::Pass));
    assert!(terminate(&mut server).success());
}

/// A rule's name, how to switch it off, and the cases that must catch it.
type Mutant = (&'static str, fn(&mut Rules), &'static [&'static str]);

/// Each rule switch and the cases that must catch a server without it.
const MUTANTS: &[Mutant] = &[
    (
        "conversation_limit",
        |r| r.conversation_limit = false,
        &["LIMIT-CONV-001"],
    ),
    ("frame_cut", |r| r.frame_cut = false, &["WS-TOO-BIG-002"]),
    (
        "signer_index",
        |r| r.signer_index = false,
        &["USER-ROTATE-006"],
    ),
    (
        "response_echo",
        |r| r.response_echo = false,
        &["PIPE-PAYLOAD-001", "USER-GET-002", "CONV-LEAVE-008"],
    ),
    (
        "freshness",
        |r| r.freshness = false,
        &["PIPE-STALE-001", "PIPE-STALE-002"],
    ),
    ("replay", |r| r.replay = false, &["PIPE-REPLAY-001"]),
    (
        "signature",
        |r| r.signature = false,
        &["PIPE-SIG-001", "PIPE-SIG-002"],
    ),
    (
        "message_signature",
        |r| r.message_signature = false,
        &["MSG-FORGED-001"],
    ),
    (
        "name_signature",
        |r| r.name_signature = false,
        &["NAME-FORGED-001"],
    ),
    (
        "members_match",
        |r| r.members_match = false,
        &["MSG-KEYS-001", "MSG-KEYS-002", "NAME-KEYS-001"],
    ),
    (
        "membership",
        |r| r.membership = false,
        &[
            "CONV-OUTSIDER-001",
            "CONV-OUTSIDER-002",
            "CONV-LEAVE-002",
            "CONV-LEAVE-005",
            "CONV-LEAVE-006",
            "CONV-UPDATE-004",
            "CONV-UPDATE-007",
            "MSG-DELETE-004",
        ],
    ),
    (
        "sender_only",
        |r| r.sender_only = false,
        &["MSG-UPDATE-002", "MSG-DELETE-001", "MSG-UPDATE-007"],
    ),
    (
        "owner_only",
        |r| r.owner_only = false,
        &["CONV-UPDATE-002", "CONV-DELETE-001"],
    ),
    (
        "event_members_only",
        |r| r.event_members_only = false,
        &["WS-EVENTS-001", "CONV-LEAVE-003", "CONV-UPDATE-005"],
    ),
    // Users cannot even complete without the right response key: the cases
    // that catch it are those whose users are all pending, so the failure
    // is the case's own step, not its setup.
    (
        "response_key",
        |r| r.response_key = false,
        &["USER-COMPLETE-001", "USER-SYNC-003"],
    ),
    ("event_seq", |r| r.event_seq = false, &["WS-SEQ-001"]),
    (
        "token_expiry",
        |r| r.token_expiry = false,
        &["USER-COMPLETE-008"],
    ),
    (
        "token_single_use",
        |r| r.token_single_use = false,
        &["USER-COMPLETE-002"],
    ),
    (
        "key_size",
        |r| r.key_size = false,
        &["USER-COMPLETE-004", "USER-COMPLETE-005"],
    ),
    ("sync_limit", |r| r.sync_limit = false, &["USER-SYNC-004"]),
    (
        "key_succession",
        |r| r.key_succession = false,
        &["USER-ROTATE-002", "USER-ROTATE-008"],
    ),
    (
        "key_history",
        |r| r.key_history = false,
        &["USER-ROTATE-003"],
    ),
    (
        "session_end",
        |r| r.session_end = false,
        &["SESSION-END-001", "SESSION-END-002", "SESSION-END-003"],
    ),
    (
        "idempotent_create",
        |r| r.idempotent_create = false,
        &["MSG-CREATE-004", "MSG-CREATE-005"],
    ),
    (
        "removal_event",
        |r| r.removal_event = false,
        &["CONV-UPDATE-003"],
    ),
    (
        "message_size",
        |r| r.message_size = false,
        &[
            "LIMIT-CONTENT-001",
            "LIMIT-CONTENT-002",
            "LIMIT-CONTENT-003",
            "LIMIT-FILE-001",
        ],
    ),
];

#[test]
fn the_catalogue_covers_every_body_type_and_rule() {
    let cases = suite::catalogue().unwrap();
    let checked: BTreeSet<&str> = cases.iter().map(|c| c.checks.as_str()).collect();
    for body_type in nanochat::bodies::BodyType::ALL {
        assert!(
            checked.contains(body_type.as_str()),
            "no case checks {}",
            body_type.as_str()
        );
    }
    for (name, _, catchers) in MUTANTS {
        assert!(
            !catchers.is_empty(),
            "no case catches a server without {name}"
        );
    }
    // Every rule switch has its mutant, and each mutant switches off
    // exactly the rule it is named after.
    let all_on = format!("{:?}", Rules::default());
    let fields: BTreeSet<String> = all_on
        .trim_start_matches("Rules {")
        .trim_end_matches('}')
        .split(',')
        .filter_map(|f| f.split_once(':').map(|(name, _)| name.trim().to_owned()))
        .collect();
    let mutants: BTreeSet<String> = MUTANTS.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(
        fields, mutants,
        "a rule switch without its mutant (or the reverse)"
    );
    for (name, off, _) in MUTANTS {
        let mut rules = Rules::default();
        off(&mut rules);
        assert_eq!(
            format!("{rules:?}"),
            all_on.replace(&format!(" {name}: true"), &format!(" {name}: false")),
            "the {name} mutant switches off something else"
        );
    }
}

/// Deliberately broken servers, in process (the rule switches exist only
/// in `mutants` builds).
#[cfg(feature = "mutants")]
mod mutants {
    use nanochat::store::Location;
    use std::collections::BTreeSet;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use nanochat::server::{Config, Rules};
    use nanochat_conformance::provision::{OperatorAction, Pending, Provisioner};
    use nanochat_conformance::runner::Verdict;
    use nanochat_conformance::suite;

    use super::{MUTANTS, options};
    use crate::support::{server_dir, token_in};

    /// Creates users in an in-process server's database with the operator CLI.
    struct Operator(Location);

    impl Operator {
        /// Runs `nanochat user ARGS --database ...`; returns what it printed.
        async fn user(&self, args: &[&str]) -> Result<String, String> {
            let database = self.0.to_arg();
            let mut argv = vec!["nanochat", "user"];
            argv.extend_from_slice(args);
            argv.extend(["--database", &database]);
            let cli = <nanochat::cli::Cli as clap::Parser>::try_parse_from(argv)
                .map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            nanochat::cli::run(cli.command, &mut out)
                .await
                .map_err(|e| e.to_string())?;
            Ok(String::from_utf8(out).unwrap())
        }

        async fn user_create(&self, username: &str, ttl: &str) -> Result<Pending, String> {
            let out = self.user(&["create", username, "--ttl", ttl]).await?;
            Ok((username.to_owned(), token_in(&out)))
        }
    }

    impl Provisioner for Operator {
        fn create<'a>(
            &'a self,
            username: &'a str,
        ) -> Pin<Box<dyn Future<Output = Result<Pending, String>> + Send + 'a>> {
            Box::pin(self.user_create(username, "24h"))
        }

        fn create_expired<'a>(
            &'a self,
            username: &'a str,
        ) -> Pin<Box<dyn Future<Output = Result<Option<Pending>, String>> + Send + 'a>> {
            Box::pin(async move {
                let pending = self.user_create(username, "1s").await?;
                tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
                Ok(Some(pending))
            })
        }

        fn can(&self, _action: OperatorAction) -> bool {
            true
        }

        fn operate<'a>(
            &'a self,
            action: OperatorAction,
            username: &'a str,
        ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
            let verb = match action {
                OperatorAction::Reset => "reset",
                OperatorAction::Delete => "delete",
            };
            Box::pin(async move { self.user(&[verb, username]).await.map(drop) })
        }
    }

    /// Starts an in-process server whose rules `off` switches off; returns its
    /// URL, its database and the handle that stops it when dropped.
    async fn mutant(
        off: fn(&mut Rules),
    ) -> (
        String,
        Location,
        tokio::sync::oneshot::Sender<()>,
        tempfile::TempDir,
    ) {
        let dir = server_dir();
        let mut config = Config::default_in(dir.path());
        config.peer_burst = 100_000;
        config.peer_rate_per_second = 100_000;
        config.rate_limited_delay = std::time::Duration::ZERO;
        config.limits.max_conversations = 30;
        off(&mut config.rules);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        config.listen = listener.local_addr().unwrap();
        let database = config.database.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(nanochat::server::serve(config, listener, async move {
            let _ = stopped.await;
        }));
        for _ in 0..200 {
            if reqwest::get(format!("{url}/health"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        (url, database, stop, dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_mutant_is_caught_by_its_cases() {
        let cases = suite::catalogue().unwrap();
        let ids: BTreeSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let mut report = String::new();
        for (name, off, catchers) in MUTANTS {
            for id in *catchers {
                assert!(ids.contains(id), "mutant {name} names an unknown case {id}");
            }
            let (url, database, stop, _dir) = mutant(*off).await;
            let selected: Vec<_> = cases
                .iter()
                .filter(|c| catchers.contains(&c.id.as_str()))
                .cloned()
                .collect();
            let results = suite::run(
                &[url],
                Arc::new(Operator(database)),
                &selected,
                &options(&format!("m{}", name.len())),
            )
            .await;
            for r in &results {
                report.push_str(&format!("{name}: {} {}\n", r.case.id, r.verdict.label()));
                assert!(
                    matches!(r.verdict, Verdict::Fail(_)),
                    "without {name}, {} still passes: the case does not catch it",
                    r.case.id
                );
            }
            let _ = stop.send(());
        }
        eprintln!("{report}");
    }
}
