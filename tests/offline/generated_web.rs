//! `web/gen/bodies.d.ts` is the body catalogue of `api.yml` typed for the web
//! frontend. This test regenerates it and fails when the committed copy has
//! drifted; with `NANOCHAT_UPDATE_GENERATED=1` it rewrites it instead.
//! (`web/gen/api.d.ts`, from openapi-typescript, is checked by
//! `web/test/generated.test.js`, which needs Node.)

use std::path::Path;

#[test]
fn bodies_dts_matches_api_yml() {
    let fresh = nanochat_codegen::typescript::bodies_dts(include_str!("../../api.yml"))
        .expect("api.yml generates");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/gen/bodies.d.ts");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == fresh {
        return;
    }
    if std::env::var_os("NANOCHAT_UPDATE_GENERATED").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("rewrote web/gen/bodies.d.ts");
        return;
    }
    panic!(
        "web/gen/bodies.d.ts differs from what api.yml generates; refresh it with \
         `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated_web` and commit the result"
    );
}
