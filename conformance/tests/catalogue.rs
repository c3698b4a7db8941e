//! The case catalogue on its own: every file parses, ids are unique and well
//! formed, and the committed JSON Schema matches the runner's case types.

use nanochat_conformance::case;
use nanochat_conformance::suite;

#[test]
fn every_case_parses_with_a_unique_well_formed_id() {
    let cases = suite::catalogue().unwrap();
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    for c in &cases {
        let (area, rest) = c.id.split_once('-').unwrap();
        assert!(
            area.chars().all(|ch| ch.is_ascii_uppercase())
                && rest
                    .rsplit_once('-')
                    .is_some_and(|(_, n)| n.len() == 3 && n.chars().all(|d| d.is_ascii_digit())),
            "{} is not AREA-WHAT-NNN",
            c.id
        );
        assert!(!c.steps.is_empty(), "{} has no steps", c.id);
        for (file, text) in suite::CASE_FILES {
            if text.contains(&format!("id: {}\n", c.id)) {
                assert_eq!(
                    *file,
                    format!("{}.yaml", c.id.to_lowercase()),
                    "file name of {}",
                    c.id
                );
            }
        }
    }
}

#[test]
fn the_committed_schema_matches_the_case_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/case.schema.json");
    let generated = serde_json::to_string_pretty(&case::schema()).unwrap() + "\n";
    if std::env::var("NANOCHAT_UPDATE_SCHEMA").as_deref() == Ok("1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "conformance/case.schema.json drifted from the case types; rerun with NANOCHAT_UPDATE_SCHEMA=1"
    );
}

#[test]
fn duplicate_ids_and_bad_files_are_refused() {
    assert!(case::Case::from_yaml("id: X\n").is_err());
    let text = suite::CASE_FILES[0].1;
    let mut with_typo = text.replace("steps:", "stepz:");
    with_typo.push('\n');
    assert!(case::Case::from_yaml(&with_typo).is_err());
}
