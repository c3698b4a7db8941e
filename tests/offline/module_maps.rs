//! The maps stay true: every module of `src/` is named in its parent's
//! module docs (`//!`), so a reader who starts at `src/lib.rs` finds every
//! file by following the maps. A module added without a line in its
//! parent's map fails here; `tests` modules and the generated ones are not
//! counted.

use std::path::{Path, PathBuf};

/// The `mod NAME;` and `mod NAME {` declarations of a module file, without
/// `tests` (and `generated`, the included codegen output, which lib.rs and
/// client/mod.rs document where they include it).
fn declared_modules(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim_start)
        .filter_map(|line| {
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .filter(|name| name != "tests" && name != "generated")
        .collect()
}

/// The module docs (`//!` lines) of a file, joined.
fn module_docs(source: &str) -> String {
    source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("//!"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files under `src/` that declare modules: lib.rs, every mod.rs and
/// every `name.rs` that has a `name/` directory beside it.
fn module_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            module_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "lib" || name == "mod" || dir.join(&name).is_dir() {
                out.push(path);
            }
        }
    }
}

#[test]
fn every_module_is_on_its_parents_map() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    module_files(&src, &mut files);
    let mut missing = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let docs = module_docs(&source);
        for name in declared_modules(&source) {
            if !docs.contains(&format!("`{name}`")) {
                let shown = file.strip_prefix(&src).unwrap().display().to_string();
                missing.push(format!("src/{shown}: `{name}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules missing from their parent's module docs (name each, in backticks, \
         with what it holds):\n{}",
        missing.join("\n")
    );
}
