//! Generates the models, the body catalogue, the server skeleton and the
//! client from `api.yml` into `OUT_DIR` (never into the source tree; the
//! committed copies in `generated/` are refreshed by a test, see README).

fn main() {
    println!("cargo::rerun-if-changed=api.yml");
    println!("cargo::rerun-if-changed=build.rs");
    // sqlx::migrate! embeds migrations/ at compile time but cannot tell
    // cargo to rebuild when a migration changes.
    println!("cargo::rerun-if-changed=migrations");
    let spec =
        std::fs::read_to_string("api.yml").unwrap_or_else(|e| panic!("cannot read api.yml: {e}"));
    let generated = nanochat_codegen::generate(&spec).unwrap_or_else(|e| panic!("api.yml: {e}"));
    let out = std::env::var("OUT_DIR").unwrap_or_else(|e| panic!("OUT_DIR: {e}"));
    for (name, contents) in generated.files() {
        let path = std::path::Path::new(&out).join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
