//! The embedded web frontend: served at `/` with a strict CSP and ETags,
//! while the API keeps working and answers CORS for pages of other origins.

use crate::support::TestServer;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_csp_and_revalidating_etags() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy").to_owned();
    assert!(csp.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"));
    assert!(csp.contains("connect-src 'self' "));
    assert!(csp.contains("object-src 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let etag = header(&page, "etag").to_owned();
    let html = page.text().await.unwrap();
    // No inline script and nothing from another origin.
    assert!(html.contains("<script type=\"module\" src=\"js/app.js\"></script>"));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "inline code in index.html"
    );
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(
            !html.contains(attr),
            "index.html loads from another origin: {attr}"
        );
    }

    let again = http
        .get(format!("{}/", server.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let head = http.head(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "etag"), etag);
    assert!(head.headers().contains_key("content-security-policy"));

    for (path, kind) in [
        ("/js/app.js", "javascript"),
        ("/js/crypto.js", "javascript"),
        ("/vendor/argon2.js", "javascript"),
        ("/css/app.css", "text/css"),
    ] {
        let file = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), 200, "{path}");
        assert!(header(&file, "content-type").contains(kind), "{path}");
        assert!(file.headers().contains_key("etag"), "{path}");
        assert!(
            file.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    // Tests, tooling and dependencies are not in the binary.
    for path in [
        "/package.json",
        "/test/vectors.test.js",
        "/node_modules/hash-wasm/package.json",
        "/tools/build-vendor.mjs",
        "/gen/api.d.ts",
    ] {
        let file = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_api_answers_cors_and_keeps_working() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for path in ["/references", "/health", "/openapi.json"] {
        let response = http
            .get(format!("{}{path}", server.url))
            .header("origin", "https://elsewhere.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            "*",
            "{path}"
        );
        assert!(
            !response.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    let references: serde_json::Value = http
        .get(format!("{}/references", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(references["protocol_version"], 1);

    // The browser's preflight for a JSON POST.
    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/encrypted", server.url),
        )
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert!(header(&preflight, "access-control-allow-methods").contains("POST"));
    assert!(header(&preflight, "access-control-allow-headers").contains("content-type"));

    // A bad envelope still gets the API's plain error, with CORS, so a page
    // on another origin can read why.
    let bad = http
        .post(format!("{}/encrypted", server.url))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(header(&bad, "access-control-allow-origin"), "*");
    let error: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(error["code"], "bad_envelope");

    // The real client still works end to end behind the new layer.
    let alice = server.user("alice").await;
    drop(alice);
}

#[tokio::test]
async fn a_method_an_api_path_does_not_answer_gets_405_with_allow() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    // The table covers exactly the operations api.yml declares.
    let spec: serde_json::Value = serde_norway::from_str(include_str!("../../api.yml")).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let (_, methods) = nanochat::server::web::API_PATHS
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("{path} is not in API_PATHS"));
        for method in item.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            assert!(methods.contains(&method), "{method} {path} is not allowed");
        }
    }
    for (path, methods) in nanochat::server::web::API_PATHS {
        for method in ["PUT", "DELETE", "PATCH", "TRACE", "POST", "GET"] {
            let method: reqwest::Method = method.parse().unwrap();
            if methods.contains(&method) {
                continue;
            }
            let response = http
                .request(method.clone(), format!("{}{path}", server.url))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            let allow = header(&response, "allow");
            let expected: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
            assert_eq!(allow, expected.join(", "), "{method} {path}");
        }
    }
}
