//! SQLite: noticing key changes that another process made in the same
//! database file. The operator's command line (`nanochat user reset`,
//! `user delete`) runs as its own process; the store records every key
//! change in `key_changes` ([`crate::store::Store::key_changes_after`]),
//! and this task reads the new rows every [`POLL`], so that the users'
//! sessions end within a second (api.yml, "Key history"). PostgreSQL
//! announces the same changes with NOTIFY ([`crate::server::listener`]).

use std::sync::Arc;
use std::time::Duration;

use crate::server::state::State;

/// How often the table is read: one indexed query, well under the second
/// api.yml allows.
pub const POLL: Duration = Duration::from_millis(250);

/// Polls until the task is aborted.
pub async fn watch(state: Arc<State>) {
    let mut last: Option<i64> = None;
    let mut interval = tokio::time::interval(POLL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match state.store.key_changes_after(last).await {
            Ok((changes, newest)) => {
                if !changes.is_empty() {
                    state.key_changed();
                }
                for change in &changes {
                    state.hub.recheck(&change.username);
                }
                last = Some(newest);
            }
            Err(e) => tracing::warn!(%e, "cannot read recent key changes; retrying"),
        }
    }
}
