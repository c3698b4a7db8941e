//! Key changes made by other processes sharing a PostgreSQL database: the
//! store announces every key rotation, operator reset and deletion on
//! [`KEY_CHANGES_CHANNEL`] when it commits (whichever instance or operator
//! command made it); this task listens, and the sockets this instance
//! holds for that user re-check the key at once and close if it no longer
//! holds, instead of at their next ping.
//!
//! Notifications sent while the listening connection is down are lost, so
//! after a reconnect every cached key is dropped and every socket re-checks.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::server::state::State;
use crate::store::KEY_CHANGES_CHANNEL;

/// How long to wait before trying again when PostgreSQL cannot be reached.
const RETRY: Duration = Duration::from_secs(1);

/// Listens on `url` until the task is aborted.
pub async fn listen(state: Arc<State>, url: String) {
    loop {
        let mut listener = match connect(&url).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(%e, "cannot listen for key changes; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        // Whatever happened while nobody listened is unknown: check all.
        recheck_everyone(&state);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    state.key_changed();
                    state.hub.recheck(notification.payload());
                }
                // The connection dropped; the next call reconnects, and
                // what was sent meanwhile is lost.
                Ok(None) => {
                    tracing::warn!("the key-change listener lost its connection; reconnecting");
                    recheck_everyone(&state);
                }
                Err(e) => {
                    tracing::warn!(%e, "the key-change listener failed; reconnecting");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(KEY_CHANGES_CHANNEL).await?;
    Ok(listener)
}

fn recheck_everyone(state: &State) {
    state.key_changed();
    for username in state.hub.online_users() {
        state.hub.recheck(&username);
    }
}
