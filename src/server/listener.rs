//! What other processes sharing a PostgreSQL database tell this one, on
//! one listening connection:
//!
//! - [`KEY_CHANGES_CHANNEL`]: the store announces every key rotation,
//!   operator reset and deletion when it commits (whichever instance or
//!   operator command made it); this instance's sockets of that user
//!   re-check the key at once and close if it no longer holds.
//! - [`EVENTS_CHANNEL`]: every recorded event's id ([`crate::server::fanout`]);
//!   the row is read and delivered to this instance's sockets, each
//!   conversation's in seq order ([`Sequencer`]).
//!
//! Notifications sent while the connection is down are lost. After a
//! reconnect every cached key is dropped and every socket re-checks, and
//! the events recorded since shortly before the connection was lost are
//! read again (duplicates dropped). Events are kept for
//! [`EVENT_RETENTION`]; an instance cut off for longer closes its sockets,
//! so that their clients reconnect and reload what they missed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use time::OffsetDateTime;

use crate::server::fanout::Fanout;
use crate::server::protocol::unix_ms;
use crate::server::sequencer::{Next, Sequencer};
use crate::server::state::State;
use crate::store::{EVENTS_CHANNEL, EventRecord, KEY_CHANGES_CHANNEL};

/// How long to wait before trying again when PostgreSQL cannot be reached.
const RETRY: Duration = Duration::from_secs(1);

/// How long recorded events are kept for listeners that reconnect.
pub const EVENT_RETENTION: Duration = Duration::from_secs(600);

/// Re-reads after a reconnect start this much before the connection was
/// lost: events are stamped by the recording instance's clock, and the
/// notification of an event committed just before the loss may not have
/// arrived.
const CATCH_UP_SLACK: Duration = Duration::from_secs(60);

/// Listens on `url` until the task is aborted.
pub async fn listen(state: Arc<State>, url: String) {
    let mut sequencer = Sequencer::new();
    // When notifications may have started to go missing.
    let mut lost_at: Option<i64> = None;
    loop {
        let mut listener = match connect(&url).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(%e, "cannot listen to PostgreSQL; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        // Whatever happened while nobody listened is unknown: check all.
        recheck_everyone(&state);
        if let Some(lost) = lost_at {
            match catch_up(&state, &mut sequencer, lost).await {
                Ok(()) => lost_at = None,
                Err(e) => {
                    tracing::warn!(%e, "cannot re-read missed events; retrying");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) if notification.channel() == KEY_CHANGES_CHANNEL => {
                    state.key_changed();
                    state.hub.recheck(notification.payload());
                }
                Ok(Some(notification)) => {
                    if let Err(e) = heard(&state, &mut sequencer, notification.payload()).await {
                        // The row could not be read: treat it as lost.
                        tracing::warn!(%e, "cannot read an announced event; reconnecting");
                        lost_at.get_or_insert(now_ms());
                        break;
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!("the PostgreSQL listener lost its connection; reconnecting");
                    lost_at.get_or_insert(now_ms());
                    break;
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener
        .listen_all([KEY_CHANGES_CHANNEL, EVENTS_CHANNEL])
        .await?;
    Ok(listener)
}

/// Delivers the event announced with `payload` (its row id), after any
/// of its conversation's events that were missed.
async fn heard(
    state: &State,
    sequencer: &mut Sequencer,
    payload: &str,
) -> crate::store::Result<()> {
    let Ok(id) = payload.parse::<i64>() else {
        tracing::warn!(payload, "an event announcement without an id; ignored");
        return Ok(());
    };
    // Gone only if purged already: nothing to deliver.
    let Some(event) = state.store.event(id).await? else {
        return Ok(());
    };
    match sequencer.next(&event) {
        Next::Duplicate => {}
        Next::Deliver => deliver(state, sequencer, &event),
        Next::Gap { after } => {
            let conversation = event.conversation_id.as_deref().unwrap_or_default();
            let missed = state
                .store
                .events_between(conversation, after, event.seq)
                .await?;
            tracing::debug!(
                conversation,
                missed = missed.len(),
                "filling a gap in a conversation's events"
            );
            for missed in missed.iter().chain([&event]) {
                if sequencer.is_new(missed) {
                    deliver(state, sequencer, missed);
                }
            }
        }
    }
    Ok(())
}

/// Re-reads what was recorded since shortly before `lost` (unix ms).
async fn catch_up(state: &State, sequencer: &mut Sequencer, lost: i64) -> crate::store::Result<()> {
    let now = now_ms();
    let kept_since = now - EVENT_RETENTION.as_millis() as i64;
    let since = lost - CATCH_UP_SLACK.as_millis() as i64;
    let events = state.store.events_since(since).await?;
    let mut delivered = 0;
    for event in &events {
        if sequencer.is_new(event) {
            deliver(state, sequencer, event);
            delivered += 1;
        }
    }
    tracing::info!(delivered, "re-read the events recorded while not listening");
    if since < kept_since {
        // Some may have been purged already: the clients must reload.
        tracing::warn!(
            "cut off from PostgreSQL for longer than events are kept; closing every socket"
        );
        for username in state.hub.online_users() {
            state.hub.disconnect(&username);
        }
    }
    Ok(())
}

fn deliver(state: &State, sequencer: &mut Sequencer, event: &EventRecord) {
    match Fanout::from_json(&event.body) {
        Ok(fanout) => fanout.deliver(&state.hub),
        Err(e) => tracing::error!(%e, id = event.id, "a recorded event does not parse; dropped"),
    }
    let now = Instant::now();
    sequencer.delivered(event, now);
    if event.id % 1024 == 0 {
        sequencer.forget_quiet(now);
    }
}

fn recheck_everyone(state: &State) {
    state.key_changed();
    for username in state.hub.online_users() {
        state.hub.recheck(&username);
    }
}

fn now_ms() -> i64 {
    unix_ms(OffsetDateTime::now_utc())
}
