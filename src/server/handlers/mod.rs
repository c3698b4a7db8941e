//! The `Handler` implementation: one method per body type, each delegating
//! to the module of its area.

mod conversations;
mod messages;
mod names;
mod users;
mod views;

use crate::api::Handler;
use crate::models::*;
use crate::server::error::Failure;
use crate::server::protocol::Caller;
use crate::server::state::State;

impl Handler for State {
    type Caller = Caller;
    type Error = Failure;

    async fn session_open(&self, _caller: &Caller) -> Result<SessionOpened, Failure> {
        // The WebSocket task subscribes the socket once this succeeds.
        Ok(SessionOpened {
            ping_interval_seconds: self.config.ping_interval.as_secs() as i64,
        })
    }

    async fn user_complete(
        &self,
        caller: &Caller,
        payload: CompleteUser,
    ) -> Result<PublicUser, Failure> {
        users::complete(self, caller, payload).await
    }

    async fn user_sync(
        &self,
        caller: &Caller,
        payload: SyncUser,
    ) -> Result<PrivateKeyUser, Failure> {
        users::sync(self, caller, payload).await
    }

    async fn user_get(&self, caller: &Caller, payload: BaseUser) -> Result<PublicUser, Failure> {
        users::get(self, caller, payload).await
    }

    async fn user_update(
        &self,
        caller: &Caller,
        payload: UpdateUser,
    ) -> Result<PublicUser, Failure> {
        users::update(self, caller, payload).await
    }

    async fn user_delete(&self, caller: &Caller) -> Result<Empty, Failure> {
        users::delete(self, caller).await
    }

    async fn conversation_create(
        &self,
        caller: &Caller,
        payload: CreateConversation,
    ) -> Result<MessageConversation, Failure> {
        conversations::create(self, caller, payload).await
    }

    async fn conversation_update(
        &self,
        caller: &Caller,
        payload: Conversation,
    ) -> Result<MessageConversation, Failure> {
        conversations::update(self, caller, payload).await
    }

    async fn conversation_leave(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<Empty, Failure> {
        conversations::leave(self, caller, payload).await
    }

    async fn conversation_delete(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<Empty, Failure> {
        conversations::delete(self, caller, payload).await
    }

    async fn conversation_get(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<MessageConversation, Failure> {
        conversations::get(self, caller, payload).await
    }

    async fn conversation_list(&self, caller: &Caller) -> Result<List, Failure> {
        conversations::list(self, caller).await
    }

    async fn message_create(
        &self,
        caller: &Caller,
        payload: CreateMessage,
    ) -> Result<Message, Failure> {
        messages::create(self, caller, payload).await
    }

    async fn message_update(
        &self,
        caller: &Caller,
        payload: UpdateMessage,
    ) -> Result<Message, Failure> {
        messages::update(self, caller, payload).await
    }

    async fn message_delete(
        &self,
        caller: &Caller,
        payload: BaseMessage,
    ) -> Result<Empty, Failure> {
        messages::delete(self, caller, payload).await
    }

    async fn message_list(
        &self,
        caller: &Caller,
        payload: ListMessages,
    ) -> Result<MessagePage, Failure> {
        messages::list(self, caller, payload).await
    }

    async fn message_attachment(
        &self,
        caller: &Caller,
        payload: BaseMessage,
    ) -> Result<Attachment, Failure> {
        messages::attachment(self, caller, payload).await
    }
}
