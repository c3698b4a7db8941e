//! The operator-facing command line: help texts are snapshots, so a change
//! to what operators read is reviewed like code.

use clap::CommandFactory;
use nanochat::cli::Cli;

fn help(path: &[&str]) -> String {
    let mut command = Cli::command();
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
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}
