//! `nanochat-client`: the command-line frontend, for people and scripts.
//!
//! Every run is one command: it connects (checking the pinned server key),
//! unlocks the key kept encrypted in the home with the password (from
//! `--password-file` or a prompt without echo), does its work and prints
//! the result as text, or as JSON with `--json`.
//!
//! `args`: the commands and options (clap); `output`: text and JSON
//! output; [`errors`]: error texts and exit codes; `secrets`: reading
//! passwords from a file or a prompt without echo; `inputs`: key files,
//! message text and files to send, fingerprints; `watch`: `watch`, the
//! live view of events.

mod args;
pub mod errors;
mod inputs;
mod output;
mod secrets;
mod watch;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use uuid::Uuid;

pub use args::ClientCli;
use args::*;
use errors::Failure;
use inputs::*;
use output::Printer;
use secrets::{read_secret, secret_from};
use watch::watch;

use crate::bodies::Event;
use crate::client::chat::{CompleteOptions, to_model};
use crate::client::messages::FileToSend;
use crate::client::{Bodies as _, Chat, ClientError, EventStream, Home, StreamItem};
use crate::crypto::{Fingerprint, KeyFile, PrivateKey};
use crate::models::{BaseConversation, MessageConversation, UpdateUser};
use crate::wire::Secret;

/// Runs one command, writing results to `out`.
pub async fn run(cli: ClientCli, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let home = match &cli.home {
        Some(path) => Home::new(path),
        None => Home::platform_default()
            .ok_or_else(|| anyhow!("no home directory here: pass --home or NANOCHAT_HOME"))?,
    };
    let user = cli.user.clone();
    let username = || {
        user.clone()
            .ok_or_else(|| anyhow!("which user? pass --user or set NANOCHAT_USER"))
    };
    let mut printer = Printer::new(out, cli.json);
    match cli.command {
        ClientCommand::Complete(args) => {
            let mut chat = connect(&home, &cli.server, &username()?).await?;
            let password = password_for(&cli.password_file, "Password of your key (new)")?;
            let import = match &args.import {
                Some(path) => Some(key_pair_in(path, args.import_password_file.as_deref())?),
                None => None,
            };
            let sync_password = if args.store_on_server {
                Some(Secret::new(
                    match &args.sync_password_file {
                        Some(f) => secret_from(f)?,
                        None => read_secret("Sync password (for other devices)")?,
                    }
                    .as_str(),
                ))
            } else {
                None
            };
            let user = chat
                .complete(
                    &args.token,
                    &args.display_name,
                    password.as_bytes(),
                    CompleteOptions {
                        import,
                        sync_password,
                    },
                )
                .await
                .map_err(explain)?;
            printer.user("completed", &user)?;
        }
        ClientCommand::Login {
            sync_password_file,
            sync,
        } => {
            let mut chat = connect(&home, &cli.server, &username()?).await?;
            let has_local = home.load_key(&cli.server, chat.username())?.is_some();
            let sync_password = if has_local && !sync {
                None
            } else {
                Some(match &sync_password_file {
                    Some(f) => secret_from(f)?,
                    None => read_secret("Sync password")?,
                })
            };
            let password = password_for(&cli.password_file, "Password of your key")?;
            chat.login(
                password.as_bytes(),
                sync_password.as_ref().map(|s| s.as_str()),
            )
            .await
            .map_err(explain)?;
            printer.fingerprint("logged in", chat.username(), &chat.key()?.fingerprint())?;
        }
        ClientCommand::Keys(KeysCommand::Import {
            file,
            file_password_file,
        }) => {
            // Importing is how a key reaches a new device: no login first.
            let mut chat = connect(&home, &cli.server, &username()?).await?;
            let key_file = read_key_file(&file)?;
            let file_password = match &file_password_file {
                Some(f) => Some(secret_from(f)?),
                None if key_file.is_encrypted() => Some(read_secret("Password of the key file")?),
                None => None,
            };
            let password = password_for(&cli.password_file, "Password of your key (new)")?;
            chat.import_key(
                &key_file,
                file_password.as_ref().map(|p| p.as_bytes()),
                password.as_bytes(),
            )
            .await
            .map_err(explain)?;
            printer.fingerprint("imported", chat.username(), &chat.key()?.fingerprint())?;
        }
        ClientCommand::Keys(command) => {
            let mut chat = logged_in(&home, &cli.server, &cli.password_file, &username()?).await?;
            match command {
                KeysCommand::Export {
                    file,
                    encrypt,
                    file_password_file,
                } => {
                    let file_password = if encrypt {
                        Some(match &file_password_file {
                            Some(f) => secret_from(f)?,
                            None => read_secret("Password for the key file")?,
                        })
                    } else {
                        None
                    };
                    let key_file = chat
                        .export_key(file_password.as_ref().map(|p| p.as_bytes()))
                        .await
                        .map_err(explain)?;
                    crate::client::write_private(&file, key_file.to_json()?.as_bytes())
                        .map_err(explain)?;
                    printer.done(&format!("exported to {}", file.display()))?;
                }
                KeysCommand::Import { .. } => unreachable!("handled above"),
                KeysCommand::Fingerprint => {
                    printer.fingerprint("your key", chat.username(), &chat.key()?.fingerprint())?;
                }
                KeysCommand::History { name } => {
                    let keys = chat
                        .key_history_view(&name)
                        .await
                        .map_err(|e| explain_user(e, &name))?;
                    printer.key_history(&name, &keys)?;
                }
                KeysCommand::Rotate {
                    update_server_copy,
                    to,
                    to_password_file,
                } => {
                    let new_key = match &to {
                        Some(path) => Some(key_pair_in(path, to_password_file.as_deref())?),
                        None => None,
                    };
                    let password = password_for(&cli.password_file, "Password of your key")?;
                    let user = match new_key {
                        Some(key) => {
                            chat.rotate_to(key, password.as_bytes(), update_server_copy)
                                .await
                        }
                        None => chat.rotate(password.as_bytes(), update_server_copy).await,
                    }
                    .map_err(explain)?;
                    printer.user("rotated", &user)?;
                }
            }
        }
        ClientCommand::User(command) => {
            let chat = logged_in(&home, &cli.server, &cli.password_file, &username()?).await?;
            match command {
                UserCommand::Show { name } => {
                    let user = chat.user(&name).await.map_err(|e| explain_user(e, &name))?;
                    printer.user("user", &user)?;
                }
                UserCommand::Update {
                    display_name,
                    store_on_server,
                    sync_password_file,
                    remove_from_server,
                } => {
                    let mut update = UpdateUser {
                        display_name,
                        ..Default::default()
                    };
                    if store_on_server {
                        let password = password_for(&cli.password_file, "Password of your key")?;
                        let encrypted =
                            crate::client::keystore::encrypt(chat.key()?, password.as_bytes())
                                .await?;
                        update.private_key = Some(to_model(&encrypted)?);
                        update.sync_password = Some(Secret::new(
                            match &sync_password_file {
                                Some(f) => secret_from(f)?,
                                None => read_secret("Sync password (for other devices)")?,
                            }
                            .as_str(),
                        ));
                    } else if let Some(f) = &sync_password_file {
                        update.sync_password = Some(Secret::new(secret_from(f)?.as_str()));
                    }
                    if remove_from_server {
                        update.remove_private_key = Some(true);
                    }
                    let user = chat.session().user_update(update).await.map_err(explain)?;
                    printer.user("updated", &user)?;
                }
                UserCommand::Delete { yes } => {
                    if !yes {
                        bail!(
                            "deleting {} is immediate and irreversible: run again with --yes",
                            chat.username()
                        );
                    }
                    chat.session().user_delete().await.map_err(explain)?;
                    home.forget_key(&cli.server, chat.username())?;
                    printer.done(&format!("deleted {}", chat.username()))?;
                }
            }
        }
        ClientCommand::Conversation(command) => {
            let chat = logged_in(&home, &cli.server, &cli.password_file, &username()?).await?;
            conversation(&chat, command, &mut printer).await?;
        }
        ClientCommand::Message(command) => {
            let chat = logged_in(&home, &cli.server, &cli.password_file, &username()?).await?;
            message(&chat, command, &mut printer).await?;
        }
        ClientCommand::Watch {
            conversation,
            count,
        } => {
            let chat = logged_in(&home, &cli.server, &cli.password_file, &username()?).await?;
            watch(&chat, conversation, count, &mut printer).await?;
        }
        ClientCommand::Trust(TrustCommand::Verify { name, fingerprint }) => {
            // Comparing needs the contact's current key, checked along
            // their key history: a logged-in session.
            let fingerprint = parse_fingerprint(&fingerprint)?;
            let chat = logged_in(&home, &cli.server, &cli.password_file, &username()?).await?;
            chat.verify_contact(&name, &fingerprint)
                .await
                .map_err(|e| explain_user(e, &name))?;
            printer.verified(&name, &fingerprint, true)?;
        }
        ClientCommand::Trust(command) => {
            let chat = connect_trusting(&home, &cli.server, &username()?, &command).await?;
            match command {
                TrustCommand::Server { fingerprint } => {
                    chat.accept_server_key(&parse_fingerprint(&fingerprint)?)?;
                    printer.done(&format!("trusting the server key {fingerprint}"))?;
                }
                TrustCommand::User { name, fingerprint } => {
                    chat.accept_user_key(&name, &parse_fingerprint(&fingerprint)?)?;
                    printer.done(&format!(
                        "trusting {fingerprint} as the key of {name} (not marked verified: after comparing it with them, run `nanochat-client trust verify {name} '{fingerprint}'`)"
                    ))?;
                }
                TrustCommand::Unverify { name } => {
                    let was = chat.unverify_contact(&name)?;
                    if was {
                        printer.done(&format!("{name} is no longer marked verified"))?;
                    } else {
                        printer.done(&format!("{name} was not marked verified"))?;
                    }
                }
                TrustCommand::List => {
                    let me = chat.username().to_owned();
                    let contacts: Vec<_> = chat
                        .pinned_users()
                        .into_iter()
                        .filter(|c| c.username != me)
                        .collect();
                    printer.contacts(&contacts)?;
                }
                TrustCommand::Verify { .. } => unreachable!("handled above"),
            }
        }
    }
    Ok(())
}

async fn conversation(
    chat: &Chat,
    command: ConversationCommand,
    printer: &mut Printer<'_>,
) -> anyhow::Result<()> {
    match command {
        ConversationCommand::Create { members, name } => {
            // Each member is looked up first, so an unknown one is named.
            for member in members.iter().filter(|m| *m != chat.username()) {
                chat.user(member)
                    .await
                    .map_err(|e| explain_user(e, member))?;
            }
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            let created = chat
                .create_conversation(&members, name.as_deref())
                .await
                .map_err(explain)?;
            chat.check_sealers(std::slice::from_ref(&created))
                .await
                .map_err(explain)?;
            printer.conversation(chat, &created, false)?;
        }
        ConversationCommand::List => {
            let list = chat.session().conversation_list().await.map_err(explain)?;
            chat.check_sealers(&list.items).await.map_err(explain)?;
            printer.conversations(chat, &list.items)?;
        }
        ConversationCommand::Show { id } => {
            let conversation = chat.conversation(id).await.map_err(explain)?;
            chat.check_sealers(std::slice::from_ref(&conversation))
                .await
                .map_err(explain)?;
            printer.conversation(chat, &conversation, true)?;
            let opened = chat
                .open_all(&conversation, conversation.messages.clone())
                .await
                .map_err(explain)?;
            printer.messages(&opened, conversation.next_cursor.as_deref())?;
        }
        ConversationCommand::Rename { id, name } => {
            let current = chat.conversation(id).await.map_err(explain)?;
            let renamed = chat
                .session()
                .rename_conversation(&current, &name)
                .await
                .map_err(explain)?;
            chat.check_sealers(std::slice::from_ref(&renamed))
                .await
                .map_err(explain)?;
            printer.conversation(chat, &renamed, false)?;
        }
        ConversationCommand::Members { id, members } => {
            let current = chat.conversation(id).await.map_err(explain)?;
            for member in &members {
                if !current.members.iter().any(|m| &m.username == member) {
                    chat.user(member)
                        .await
                        .map_err(|e| explain_user(e, member))?;
                }
            }
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            let updated = chat
                .session()
                .set_members(&current, &members)
                .await
                .map_err(explain)?;
            chat.check_sealers(std::slice::from_ref(&updated))
                .await
                .map_err(explain)?;
            printer.conversation(chat, &updated, false)?;
        }
        ConversationCommand::Leave { id } => {
            chat.session()
                .conversation_leave(BaseConversation { id })
                .await
                .map_err(explain)?;
            printer.done(&format!("left {id}"))?;
        }
        ConversationCommand::Delete { id } => {
            chat.session()
                .conversation_delete(BaseConversation { id })
                .await
                .map_err(explain)?;
            printer.done(&format!("deleted {id}"))?;
        }
    }
    Ok(())
}

async fn message(
    chat: &Chat,
    command: MessageCommand,
    printer: &mut Printer<'_>,
) -> anyhow::Result<()> {
    match command {
        MessageCommand::Send {
            conversation,
            text,
            file,
        } => {
            let text = read_text(text)?;
            let file = file.as_deref().map(read_file).transpose()?;
            let sent = chat
                .send(conversation, text.as_deref(), file.as_ref())
                .await
                .map_err(explain)?;
            printer.message(&sent)?;
        }
        MessageCommand::List {
            conversation,
            before,
            limit,
        } => {
            let (page, next) = chat
                .history(conversation, before, limit)
                .await
                .map_err(explain)?;
            printer.messages(&page, next.as_deref())?;
        }
        MessageCommand::Edit {
            conversation,
            message,
            text,
            file,
        } => {
            let text = read_text(text)?;
            let file = file.as_deref().map(read_file).transpose()?;
            let edited = chat
                .edit(conversation, message, text.as_deref(), file.as_ref())
                .await
                .map_err(explain)?;
            printer.message(&edited)?;
        }
        MessageCommand::Delete {
            conversation,
            message,
        } => {
            chat.delete_message(conversation, message)
                .await
                .map_err(explain)?;
            printer.done(&format!("deleted {message}"))?;
        }
        MessageCommand::Download {
            conversation,
            message,
            output,
        } => {
            let (content, bytes) = chat
                .download(conversation, message)
                .await
                .map_err(explain)?;
            crate::client::write_private(&output, &bytes).map_err(explain)?;
            printer.download(&content, bytes.len(), &output)?;
        }
    }
    Ok(())
}

async fn connect(home: &Home, server: &str, username: &str) -> anyhow::Result<Chat> {
    Chat::connect(home.clone(), server, username)
        .await
        .map_err(explain)
}

/// Connects for `trust`: a changed key is what the command is about, so
/// the server key is only checked when it is not the one being accepted.
async fn connect_trusting(
    home: &Home,
    server: &str,
    username: &str,
    command: &TrustCommand,
) -> anyhow::Result<Chat> {
    match (Chat::connect(home.clone(), server, username).await, command) {
        (Ok(chat), _) => Ok(chat),
        (Err(ClientError::KeyChanged { announced, .. }), TrustCommand::Server { fingerprint })
            if parse_fingerprint(fingerprint)? == parse_fingerprint(&announced)? =>
        {
            let mut pins = home.pins()?;
            pins.accept_server(server, &parse_fingerprint(fingerprint)?)?;
            Chat::connect(home.clone(), server, username)
                .await
                .map_err(explain)
        }
        (Err(e), _) => Err(explain(e)),
    }
}

/// Connects and unlocks the key kept in the home.
async fn logged_in(
    home: &Home,
    server: &str,
    password_file: &Option<std::path::PathBuf>,
    username: &str,
) -> anyhow::Result<Chat> {
    let mut chat = connect(home, server, username).await?;
    if home.load_key(server, username)?.is_none() {
        bail!(
            "this machine has no key for {username} on {server}: run `nanochat-client complete` or `nanochat-client login`"
        );
    }
    let password = password_for(password_file, "Password of your key")?;
    chat.login(password.as_bytes(), None)
        .await
        .map_err(explain)?;
    Ok(chat)
}

fn password_for(
    file: &Option<std::path::PathBuf>,
    prompt: &str,
) -> anyhow::Result<zeroize::Zeroizing<String>> {
    match file {
        Some(f) => secret_from(f),
        None => read_secret(prompt),
    }
}

/// A client error as a [`Failure`]: a sentence a person understands,
/// with its code and detail for scripts.
fn explain(error: ClientError) -> anyhow::Error {
    anyhow::Error::new(errors::describe(&error, &errors::Context::default()))
}

/// [`explain`] for a command about `username`: an unknown user is named.
fn explain_user(error: ClientError, username: &str) -> anyhow::Error {
    let context = errors::Context {
        username: Some(username),
    };
    anyhow::Error::new(errors::describe(&error, &context))
}

/// How a command's failure is reported: with `json`, one line of
/// `{"error": {"code", "message", "sentence"}}` for standard output (with
/// `--json` standard output carries only JSON, so a script, or the reader
/// of `watch`'s NDJSON, finds the error where it finds results); else
/// `error: SENTENCE` and the code and detail, for standard error.
pub fn report(error: &anyhow::Error, json: bool) -> String {
    let failure = Failure::of(error);
    if json {
        failure.json().to_string()
    } else {
        format!("error: {failure}")
    }
}

/// Used by `conversation show` and `watch` to print a name or why not.
fn name_of(chat: &Chat, conversation: &crate::models::MessageConversation) -> Option<String> {
    conversation.name.as_ref()?;
    Some(match chat.key() {
        Ok(_) => match chat.name_now(conversation) {
            Ok(Some(name)) => name,
            Ok(None) => return None,
            Err(e) => format!("(name unreadable: {e})"),
        },
        Err(_) => "(name sealed)".into(),
    })
}
