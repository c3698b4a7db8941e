//! The spec the running poem-openapi server serves equals api.yml, once
//! both are normalised by `nanochat_codegen::normalise::projection`.

use crate::support::TestServer;

#[tokio::test]
async fn served_spec_matches_api_yml() {
    let server = TestServer::start().await;
    let served: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let source: serde_json::Value = serde_norway::from_str(include_str!("../../api.yml")).unwrap();
    let served = nanochat_codegen::normalise::projection(&served);
    let source = nanochat_codegen::normalise::projection(&source);
    if served != source {
        let served = serde_json::to_string_pretty(&served).unwrap();
        let source = serde_json::to_string_pretty(&source).unwrap();
        let first = served.lines().zip(source.lines()).position(|(a, b)| a != b);
        panic!(
            "the served spec drifted from api.yml (first differing line {first:?})\n--- served\n{served}\n--- api.yml\n{source}"
        );
    }
}
