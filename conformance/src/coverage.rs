//! The MUST coverage table: every normative statement of `api.yml` has an
//! entry in `statements.yml` (a stable id, its section and a verbatim
//! quote), and every case names the statements it checks (`statements:` in
//! its file). [`render`] makes `COVERAGE.md` from both; [`check`] finds
//! drift: a quote no longer in `api.yml`, an error code or limit the
//! catalogue gained or lost, a case naming an unknown statement, a statement
//! with neither a case nor an `untested` reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::Value;

use crate::case::Case;

/// `statements.yml`, as embedded at build time.
pub const STATEMENTS_YML: &str = include_str!("../statements.yml");

/// One normative statement of `api.yml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Stable id (`ENV-signed`, `ERR-message.create-conflict`,
    /// `LIMIT-max_members`).
    pub id: String,
    /// The part of `api.yml` it comes from.
    pub section: String,
    /// A short verbatim quote (whitespace-normalised); for `ERR-` entries
    /// `<body type> errors: <code>`.
    pub text: String,
    /// Why no case checks it, if none does.
    #[serde(default)]
    pub untested: Option<String>,
}

impl Statement {
    /// `(body type, code)` of an `ERR-<type>-<code>` entry.
    fn error_code(&self) -> Option<(&str, &str)> {
        self.id.strip_prefix("ERR-")?.split_once('-')
    }

    /// The property name of a `LIMIT-max_*` entry.
    fn limit(&self) -> Option<&str> {
        self.id
            .strip_prefix("LIMIT-")
            .filter(|l| l.starts_with("max_"))
    }
}

/// Parses a statements file.
pub fn parse(text: &str) -> Result<Vec<Statement>, String> {
    serde_norway::from_str(text).map_err(|e| format!("statements.yml: {e}"))
}

/// The embedded statements.
pub fn statements() -> Result<Vec<Statement>, String> {
    parse(STATEMENTS_YML)
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The cases naming each statement, by statement id.
pub fn cases_by_statement(cases: &[Case]) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for case in cases {
        for id in &case.statements {
            map.entry(id.as_str()).or_default().push(case.id.as_str());
        }
    }
    for ids in map.values_mut() {
        ids.sort_unstable();
        ids.dedup();
    }
    map
}

/// Every problem with the statements against `api_yml` (its text) and the
/// cases; empty when the table is sound.
pub fn check(api_yml: &str, statements: &[Statement], cases: &[Case]) -> Vec<String> {
    let mut problems = Vec::new();
    let api: Value = match serde_norway::from_str(api_yml) {
        Ok(value) => value,
        Err(e) => return vec![format!("api.yml does not parse: {e}")],
    };
    let spec = normalise(api_yml);
    let mut ids = BTreeSet::new();
    for s in statements {
        if !ids.insert(s.id.as_str()) {
            problems.push(format!("{}: listed twice", s.id));
        }
        if s.untested.as_deref().is_some_and(|r| r.trim().is_empty()) {
            problems.push(format!("{}: an empty untested reason", s.id));
        }
        if let Some((body, code)) = s.error_code() {
            let listed = api["x-nanochat-bodies"][body]["errors"]
                .as_array()
                .is_some_and(|codes| codes.iter().any(|c| c.as_str() == Some(code)));
            if !listed {
                problems.push(format!(
                    "{}: api.yml no longer lists {code} for {body}",
                    s.id
                ));
            }
            if s.text != format!("{body} errors: {code}") {
                problems.push(format!(
                    "{}: its text must be `{body} errors: {code}`",
                    s.id
                ));
            }
            continue;
        }
        if let Some(limit) = s.limit()
            && api["components"]["schemas"]["Limits"]["properties"][limit].is_null()
        {
            problems.push(format!("{}: api.yml has no limit {limit}", s.id));
        }
        if !spec.contains(&normalise(&s.text)) {
            problems.push(format!(
                "{}: the quote is no longer in api.yml: {:?}",
                s.id, s.text
            ));
        }
    }
    // The catalogue both ways: every listed code and limit has an entry.
    if let Some(bodies) = api["x-nanochat-bodies"].as_object() {
        for (body, spec) in bodies {
            for code in spec["errors"].as_array().into_iter().flatten() {
                let id = format!("ERR-{body}-{}", code.as_str().unwrap_or_default());
                if !ids.contains(id.as_str()) {
                    problems.push(format!("{id}: api.yml lists it, statements.yml does not"));
                }
            }
        }
    } else {
        problems.push("api.yml has no x-nanochat-bodies".into());
    }
    if let Some(limits) = api["components"]["schemas"]["Limits"]["properties"].as_object() {
        for limit in limits.keys() {
            let id = format!("LIMIT-{limit}");
            if !ids.contains(id.as_str()) {
                problems.push(format!(
                    "{id}: api.yml has the limit, statements.yml does not"
                ));
            }
        }
    } else {
        problems.push("api.yml has no Limits properties".into());
    }
    for case in cases {
        for id in &case.statements {
            if !ids.contains(id.as_str()) {
                problems.push(format!("{}: names an unknown statement {id}", case.id));
            }
        }
    }
    let covered = cases_by_statement(cases);
    for s in statements {
        match (covered.get(s.id.as_str()), &s.untested) {
            (None, None) => problems.push(format!(
                "{}: no case checks it; tag a case or give an untested reason",
                s.id
            )),
            (Some(by), Some(_)) => problems.push(format!(
                "{}: checked by {}; drop its untested reason",
                s.id,
                by.join(", ")
            )),
            _ => {}
        }
    }
    problems
}

fn cell(text: &str) -> String {
    normalise(text).replace('|', "\\|")
}

/// `COVERAGE.md`: per section the counts, then one row per statement.
pub fn render(statements: &[Statement], cases: &[Case]) -> String {
    let covered = cases_by_statement(cases);
    let is_covered = |s: &Statement| covered.contains_key(s.id.as_str());
    let mut sections: Vec<(&str, usize, usize)> = Vec::new();
    for s in statements {
        match sections.iter_mut().find(|(name, ..)| *name == s.section) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += usize::from(is_covered(s));
            }
            None => sections.push((&s.section, 1, usize::from(is_covered(s)))),
        }
    }
    let total = statements.len();
    let checked = statements.iter().filter(|s| is_covered(s)).count();
    let mut out = String::new();
    out.push_str(
        "# Conformance coverage\n\n\
         Generated from `conformance/statements.yml` (the normative statements of\n\
         `api.yml`) and the `statements:` of the cases in `conformance/cases/`; do\n\
         not edit. Regenerate with\n\
         `NANOCHAT_UPDATE_COVERAGE=1 cargo test -p nanochat-conformance --test coverage`.\n\n",
    );
    let _ = writeln!(
        out,
        "{total} statements: {checked} checked by at least one case, {} untested (each with its reason).\n",
        total - checked
    );
    out.push_str("| section | statements | checked | untested |\n| --- | ---: | ---: | ---: |\n");
    for (name, count, ok) in &sections {
        let _ = writeln!(out, "| {name} | {count} | {ok} | {} |", count - ok);
    }
    out.push_str("\n| id | section | statement | cases |\n| --- | --- | --- | --- |\n");
    for s in statements {
        let by = match (covered.get(s.id.as_str()), &s.untested) {
            (Some(by), _) => by.join(", "),
            (None, Some(reason)) => format!("*untested: {}*", cell(reason)),
            (None, None) => "**none**".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {by} |",
            s.id,
            cell(&s.section),
            cell(&s.text)
        );
    }
    out
}
