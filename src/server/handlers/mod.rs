//! The handlers, one generated trait per area of body types, each
//! implemented for [`State`] in the module of its area: `user.*` in
//! [`users`], `conversation.*` in [`conversations`], `message.*` in
//! [`messages`]; `session.open` here. [`names`] checks sealed conversation
//! names for `conversation.*`, and [`views`] turns store records into the
//! models a response carries.

mod conversations;
mod messages;
mod names;
mod users;
mod views;

use crate::api::{HandlerTypes, SessionHandler};
use crate::models::SessionOpened;
use crate::server::error::Failure;
use crate::server::protocol::Caller;
use crate::server::state::State;

impl HandlerTypes for State {
    type Caller = Caller;
    type Error = Failure;
}

impl SessionHandler for State {
    async fn session_open(&self, _caller: &Caller) -> Result<SessionOpened, Failure> {
        // The WebSocket task subscribes the socket once this succeeds.
        Ok(SessionOpened {
            ping_interval_seconds: self.config.ping_interval.as_secs() as i64,
        })
    }
}
