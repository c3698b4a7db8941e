//! The MUST coverage table: every statement of `statements.yml` is still
//! quoted from `api.yml` and is checked by a case or says why not, every case
//! names known statements, and the committed `COVERAGE.md` is current.

use nanochat_conformance::{coverage, suite};

#[test]
fn every_statement_is_in_api_yml_and_covered_or_explained() {
    let api = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../api.yml")).unwrap();
    let statements = coverage::statements().unwrap();
    let cases = suite::catalogue().unwrap();
    let problems = coverage::check(&api, &statements, &cases);
    assert!(
        problems.is_empty(),
        "conformance/statements.yml or the cases' statements drifted:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_committed_coverage_table_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/COVERAGE.md");
    let generated = coverage::render(
        &coverage::statements().unwrap(),
        &suite::catalogue().unwrap(),
    );
    if std::env::var("NANOCHAT_UPDATE_COVERAGE").as_deref() == Ok("1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "conformance/COVERAGE.md is stale; rerun with NANOCHAT_UPDATE_COVERAGE=1"
    );
}

#[test]
fn drift_is_caught() {
    let api = "info:\n  description: The server MUST do it.\nx-nanochat-bodies:\n  a.b:\n    errors: [x]\ncomponents:\n  schemas:\n    Limits:\n      properties:\n        max_y: {}\n";
    let ok = coverage::parse(
        "- {id: S-1, section: s, text: The server MUST  do it., untested: r}\n\
         - {id: ERR-a.b-x, section: s, text: 'a.b errors: x', untested: r}\n\
         - {id: LIMIT-max_y, section: s, text: MUST do, untested: r}\n",
    )
    .unwrap();
    assert_eq!(coverage::check(api, &ok, &[]), Vec::<String>::new());
    let mut gone = ok.clone();
    gone[0].text = "The server MUST NOT do it.".into();
    gone[1].id = "ERR-a.b-z".into();
    gone[1].text = "a.b errors: z".into();
    gone[2].untested = None;
    let problems = coverage::check(api, &gone, &[]);
    assert_eq!(problems.len(), 4, "{problems:#?}");
}
