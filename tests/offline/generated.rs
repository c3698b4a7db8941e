//! `generated/` holds committed copies of what `build.rs` emits from
//! `api.yml`. This test regenerates them with the same function `build.rs`
//! calls and fails when the copies have drifted; with
//! `NANOCHAT_UPDATE_GENERATED=1` it rewrites them instead.

use std::path::Path;

const REFRESH: &str = "NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::";

#[test]
fn generated_copies_match_api_yml() {
    let generated =
        nanochat_codegen::generate(include_str!("../../api.yml")).expect("api.yml generates");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    let update = std::env::var_os("NANOCHAT_UPDATE_GENERATED").is_some_and(|v| v == "1");

    let mut drifted = Vec::new();
    for (name, contents) in generated.files() {
        assert!(
            contents.starts_with(nanochat_codegen::HEADER),
            "{name} lacks the do-not-edit header"
        );
        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == contents {
            continue;
        }
        if update {
            std::fs::create_dir_all(&dir).expect("create generated/");
            std::fs::write(&path, contents)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            eprintln!("rewrote generated/{name}");
        } else {
            drifted.push(format!(
                "generated/{name}{}",
                first_difference(&committed, contents)
            ));
        }
    }
    assert!(
        drifted.is_empty(),
        "the committed generated code differs from what api.yml generates:\n  {}\nRefresh it with `{REFRESH}` and commit the result.",
        drifted.join("\n  ")
    );
}

/// Where two texts first differ, for the failure message.
fn first_difference(committed: &str, fresh: &str) -> String {
    if committed.is_empty() {
        return " is missing or empty".into();
    }
    let mut committed_lines = committed.lines();
    let mut fresh_lines = fresh.lines();
    for line in 1.. {
        match (committed_lines.next(), fresh_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                let (a, b) = (a.unwrap_or("<end of file>"), b.unwrap_or("<end of file>"));
                let column = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
                return format!(
                    " first differs at line {line}, column {}:\n      committed: {}\n      generated: {}",
                    column + 1,
                    around(a, column),
                    around(b, column)
                );
            }
        }
    }
    " differs only in line endings".into()
}

/// Up to 100 characters of `line` around character `column`.
fn around(line: &str, column: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    let start = column.saturating_sub(40);
    let end = (column + 60).min(chars.len());
    let shown: String = chars[start.min(end)..end].iter().collect();
    let before = if start > 0 { "..." } else { "" };
    let after = if end < chars.len() { "..." } else { "" };
    format!("{before}{shown}{after}")
}
