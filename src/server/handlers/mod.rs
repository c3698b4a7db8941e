//! The `Handler` implementation: one method per body type, each delegating
//! to the module of its area.

mod conversations;
mod messages;
mod names;
mod users;
mod views;

use crate::api::Handler;
use crate::models::*;
use crate::server::protocol::Caller;
use crate::server::state::State;

impl Handler for State {
    type Caller = Caller;
    type Error = Error;

    async fn session_open(&self, _caller: &Caller) -> Result<SessionOpened, Error> {
        // The WebSocket task subscribes the socket once this succeeds.
        Ok(SessionOpened {
            ping_interval_seconds: self.config.ping_interval.as_secs() as i64,
        })
    }

    async fn user_complete(
        &self,
        caller: &Caller,
        payload: CompleteUser,
    ) -> Result<PublicUser, Error> {
        users::complete(self, caller, payload).await
    }

    async fn user_sync(&self, caller: &Caller, payload: SyncUser) -> Result<PrivateKeyUser, Error> {
        users::sync(self, caller, payload).await
    }

    async fn user_get(&self, caller: &Caller, payload: BaseUser) -> Result<PublicUser, Error> {
        users::get(self, caller, payload).await
    }

    async fn user_update(&self, caller: &Caller, payload: UpdateUser) -> Result<PublicUser, Error> {
        users::update(self, caller, payload).await
    }

    async fn user_delete(&self, caller: &Caller) -> Result<Empty, Error> {
        users::delete(self, caller).await
    }

    async fn conversation_create(
        &self,
        caller: &Caller,
        payload: CreateConversation,
    ) -> Result<MessageConversation, Error> {
        conversations::create(self, caller, payload).await
    }

    async fn conversation_update(
        &self,
        caller: &Caller,
        payload: Conversation,
    ) -> Result<MessageConversation, Error> {
        conversations::update(self, caller, payload).await
    }

    async fn conversation_leave(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<Empty, Error> {
        conversations::leave(self, caller, payload).await
    }

    async fn conversation_delete(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<Empty, Error> {
        conversations::delete(self, caller, payload).await
    }

    async fn conversation_get(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<MessageConversation, Error> {
        conversations::get(self, caller, payload).await
    }

    async fn conversation_list(&self, caller: &Caller) -> Result<List, Error> {
        conversations::list(self, caller).await
    }

    async fn message_create(
        &self,
        caller: &Caller,
        payload: CreateMessage,
    ) -> Result<Message, Error> {
        messages::create(self, caller, payload).await
    }

    async fn message_update(
        &self,
        caller: &Caller,
        payload: UpdateMessage,
    ) -> Result<Message, Error> {
        messages::update(self, caller, payload).await
    }

    async fn message_delete(&self, caller: &Caller, payload: BaseMessage) -> Result<Empty, Error> {
        messages::delete(self, caller, payload).await
    }

    async fn message_list(
        &self,
        caller: &Caller,
        payload: ListMessages,
    ) -> Result<MessagePage, Error> {
        messages::list(self, caller, payload).await
    }

    async fn message_attachment(
        &self,
        caller: &Caller,
        payload: BaseMessage,
    ) -> Result<Attachment, Error> {
        messages::attachment(self, caller, payload).await
    }
}
