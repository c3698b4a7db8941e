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
        &["backup"],
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

/// Every error code of api.yml has a sentence saying what to do, and so
/// has each of the client's own codes: the whole table is a snapshot, so a
/// change to what people read is reviewed like code.
#[test]
fn every_error_code_has_a_sentence() {
    use nanochat::client_cli::errors::{api_sentence, sentences};
    use nanochat::models::ErrorCode;

    for &code in ErrorCode::ALL {
        let sentence = api_sentence(code);
        assert!(
            sentence.ends_with('.') && sentence.contains(':'),
            "{code}: {sentence:?} says what happened and what to do"
        );
    }
    let table = sentences();
    let codes: Vec<&str> = table.iter().map(|(code, _)| *code).collect();
    let unique: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len(), "a code appears twice: {codes:?}");
    let rendered: String = table
        .iter()
        .map(|(code, sentence)| format!("{code}\n  {sentence}\n"))
        .collect();
    insta::assert_snapshot!("error_sentences", rendered);
}

/// The sentences that name what the command was about, and the `--json`
/// shape of an error.
#[test]
fn errors_name_the_user_and_the_limit_and_have_one_json_shape() {
    use nanochat::client::ClientError;
    use nanochat::client_cli::errors::{Context, Failure, describe, human_size};
    use nanochat::models::{Error, ErrorCode};

    let not_found = ClientError::Api(Error {
        code: ErrorCode::NotFound,
        message: "no user is called \"zed\"".into(),
    });
    let about_zed = Context {
        username: Some("zed"),
    };
    let unknown = describe(&not_found, &about_zed);
    assert_eq!(
        unknown.sentence,
        "No user zed (or zed has not activated their account yet): check the spelling with them."
    );
    let file = describe(
        &ClientError::TooLarge {
            what: "the file".into(),
            size: Some(9_437_184),
            limit: 8_388_592,
        },
        &Context::default(),
    );
    assert_eq!(file.code, "too_large");
    assert_eq!(
        file.sentence,
        "The file is 9.4 MB, and this server accepts files up to 8.4 MB: send a smaller file."
    );
    let unreachable = describe(
        &ClientError::Transport("connection refused".into()),
        &Context::default(),
    );
    let usage = Failure::of(&anyhow::anyhow!("which user? pass --user"));
    insta::assert_snapshot!(
        "error_examples",
        [
            unknown.to_string(),
            file.to_string(),
            unreachable.to_string(),
            usage.to_string(),
            serde_json::to_string_pretty(&unknown.json()).unwrap(),
        ]
        .join("\n---\n")
    );
    for (bytes, said) in [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1 KB"),
        (200_000, "200 KB"),
        (1_900_000, "1.9 MB"),
        (2_000_000, "2 MB"),
        (8_388_592, "8.4 MB"),
        (999_960, "1 MB"),
    ] {
        assert_eq!(human_size(bytes), said, "{bytes}");
    }
}
