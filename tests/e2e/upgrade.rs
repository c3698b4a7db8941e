//! Upgrade: a database written by the server of the commit before key
//! history (tests/fixtures/upgrade-before-key-history, a SQLite file, and
//! upgrade-before-key-history-postgres, a dump of the same scenario on
//! PostgreSQL, used when `NANOCHAT_TEST_POSTGRES` is set; both made by
//! scripts/make-upgrade-fixture.sh with that commit's binaries) is
//! migrated by today's server. What each user could read before stays
//! readable; the message carol signed before her (old-style) rotation,
//! which nobody could verify before, is shown as signed by a key the
//! server no longer has; bob's server copy and his key file, both written
//! before, still log in.

use std::path::{Path, PathBuf};

use nanochat::client::messages::{ChatMessage, Verdict};
use nanochat::client::{Bodies as _, Chat, Home};
use nanochat::crypto::KeyFile;
use nanochat::models::BaseUser;
use nanochat::store::Location;
use uuid::Uuid;

use crate::support::TestServer;

fn fixture() -> PathBuf {
    let name = match nanochat::store::scratch::test_postgres() {
        Some(_) => "upgrade-before-key-history-postgres",
        None => "upgrade-before-key-history",
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture().join(name))
        .unwrap()
        .trim()
        .to_owned()
}

/// Copies the fixture home of `user` into `to`, moved from the fixture's
/// server URL to `url` (the test server runs on another port).
fn home_for(user: &str, url: &str, to: &Path) -> Home {
    let old_url = read("server-url");
    let home = Home::new(to);
    let old = Home::new(fixture().join("homes").join(user));
    let blob = old
        .load_key(&old_url, user)
        .unwrap()
        .expect("a key in the fixture home");
    home.save_key(url, user, &blob).unwrap();
    let pins = std::fs::read_to_string(fixture().join("homes").join(user).join("pins.json"))
        .unwrap()
        .replace(&old_url, url);
    std::fs::write(to.join("pins.json"), pins).unwrap();
    home
}

fn shown(page: &[ChatMessage]) -> Vec<String> {
    page.iter()
        .rev()
        .map(|m| match &m.verdict {
            Verdict::Verified(content) => format!(
                "{}: {}",
                m.sender,
                content
                    .text
                    .clone()
                    .or_else(|| content.file_name.clone())
                    .unwrap_or_default()
            ),
            Verdict::Unverified(why) => format!("{}: unverified ({why})", m.sender),
        })
        .collect()
}

// Multi-threaded: the PostgreSQL dump is loaded while the test server is
// configured, from a blocking section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_key_history_stays_readable() {
    let server = TestServer::start_with(|config| {
        std::fs::copy(
            fixture().join("nanochat-server-key.pem"),
            &config.server_key,
        )
        .unwrap();
        match &config.database {
            // A scratch database of its own: load the old server's dump.
            Location::Postgres(url) => {
                let dump = std::fs::read_to_string(fixture().join("dump.sql")).unwrap();
                tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current()
                        .block_on(nanochat::store::scratch::run_postgres_script(url, &dump))
                })
                .expect("the dump loads");
            }
            Location::Sqlite(database) => {
                std::fs::copy(fixture().join("nanochat.db"), database).unwrap();
            }
        }
    })
    .await;
    let conversation: Uuid = read("conversation-id").parse().unwrap();
    let homes = tempfile::tempdir().unwrap();
    let mut chats = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let home = home_for(user, &server.url, &homes.path().join(user));
        let mut chat = Chat::connect(home, &server.url, user).await.unwrap();
        chat.login(format!("password of {user}\n").trim().as_bytes(), None)
            .await
            .unwrap();
        chats.push(chat);
    }
    let [alice, bob, carol] = <[Chat; 3]>::try_from(chats).ok().unwrap();

    // Every user's history began with their key at the upgrade.
    let history = alice
        .session()
        .user_keys(BaseUser {
            username: "carol".into(),
        })
        .await
        .unwrap();
    assert_eq!(history.keys.len(), 1);
    assert!(history.keys[0].succession_signature.is_none());

    let unverified_first = "carol: unverified (signed before the server kept key history, by a key of carol it no longer has)";
    // alice and bob read what they read before; carol's first message,
    // signed by the key she rotated away from before the upgrade, stays
    // unverified and says why.
    for chat in [&alice, &bob] {
        let (page, _) = chat.history(conversation, None, None).await.unwrap();
        let lines = shown(&page);
        assert_eq!(
            lines,
            [
                "alice: alice, before the upgrade",
                "bob: notes.txt",
                unverified_first,
                "carol: carol, with her second key",
            ],
            "as {}",
            chat.username()
        );
        let current = chat.conversation(conversation).await.unwrap();
        assert_eq!(
            chat.conversation_name(&current).await.unwrap().as_deref(),
            Some("Before the upgrade")
        );
        let file = page.iter().find(|m| m.sender == "bob").unwrap();
        let (_, bytes) = chat.download(conversation, file.id).await.unwrap();
        assert_eq!(bytes, b"a file from before the upgrade\n");
    }
    // carol lost the keys wrapped for her first key with the old client's
    // rotation; what was wrapped for her current key still opens.
    let (page, _) = carol.history(conversation, None, None).await.unwrap();
    let own = shown(&page);
    assert!(
        own.contains(&"carol: carol, with her second key".to_owned()),
        "{own:?}"
    );

    // The server copy bob stored before (EncryptedPrivateKey version 1)
    // still logs in on a new device, and so does his old key file.
    let mut bob2 = Chat::connect(Home::new(homes.path().join("bob2")), &server.url, "bob")
        .await
        .unwrap();
    bob2.login(b"password of bob", Some("bob's sync password"))
        .await
        .unwrap();
    let (page, _) = bob2.history(conversation, None, None).await.unwrap();
    assert_eq!(shown(&page).len(), 4);
    let exported = KeyFile::from_json(&read("bob-export.json")).unwrap();
    assert_eq!(exported.version, 1);
    let mut bob3 = Chat::connect(Home::new(homes.path().join("bob3")), &server.url, "bob")
        .await
        .unwrap();
    bob3.import_key(&exported, None, b"bob3 password")
        .await
        .unwrap();

    // After the upgrade, bob rotates: everything stays readable, with no
    // warning, for alice as for him.
    let mut bob = bob;
    bob.rotate_to(crate::support::key("dave"), b"password of bob", true)
        .await
        .unwrap();
    bob.send(
        conversation,
        Some("bob, after the upgrade and a rotation"),
        None,
    )
    .await
    .unwrap();
    for chat in [&alice, &bob] {
        let (page, _) = chat.history(conversation, None, None).await.unwrap();
        let lines = shown(&page);
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[1], "bob: notes.txt");
        assert_eq!(lines[4], "bob: bob, after the upgrade and a rotation");
    }
    let _ = carol;
}
