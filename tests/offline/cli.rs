//! The command lines (`nanochat` for operators, `nanochat-client` for
//! users): help texts are snapshots, so a change to what people read is
//! reviewed like code.

use clap::CommandFactory;
use nanochat::cli::Cli;
use nanochat::client_cli::ClientCli;

fn help(path: &[&str]) -> String {
    render(Cli::command(), path)
}

fn render(mut command: clap::Command, path: &[&str]) -> String {
    command.build();
    let mut current = &mut command;
    for name in path {
        current = current
            .find_subcommand_mut(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"));
    }
    current.render_long_help().to_string()
}

#[test]
fn help_texts() {
    for path in [
        &[][..],
        &["serve"],
        &["user"],
        &["user", "create"],
        &["user", "list"],
        &["user", "delete"],
        &["user", "reset"],
        &["server-key"],
    ] {
        let name = if path.is_empty() {
            "nanochat".to_owned()
        } else {
            format!("nanochat {}", path.join(" "))
        };
        insta::assert_snapshot!(name.replace(' ', "_"), help(path));
    }
}

#[test]
fn client_help_texts() {
    for path in [
        &[][..],
        &["complete"],
        &["login"],
        &["keys"],
        &["keys", "history"],
        &["conversation"],
        &["message"],
        &["message", "send"],
        &["watch"],
        &["trust"],
        &["trust", "user"],
        &["trust", "verify"],
        &["trust", "unverify"],
        &["trust", "list"],
    ] {
        let name = if path.is_empty() {
            "nanochat-client".to_owned()
        } else {
            format!("nanochat-client {}", path.join(" "))
        };
        insta::assert_snapshot!(name.replace(' ', "_"), render(ClientCli::command(), path));
    }
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
    ClientCli::command().debug_assert();
}
