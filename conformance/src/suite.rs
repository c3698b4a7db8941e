//! The catalogue of cases (embedded from `cases/`), selecting and running
//! them in parallel, and the reports: text, NDJSON and JUnit XML.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::case::{Case, Level};
use crate::provision::Provisioner;
use crate::runner::{CaseResult, Verdict, run_case};

/// Every case file, embedded at build time (name, YAML).
pub const CASE_FILES: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// The parsed catalogue, sorted by id. Fails on a file that does not parse
/// or an id used twice.
pub fn catalogue() -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut ids = BTreeSet::new();
    for (file, text) in CASE_FILES {
        let case = Case::from_yaml(text).map_err(|e| format!("{file}: {e}"))?;
        if !ids.insert(case.id.clone()) {
            return Err(format!("{file}: the id {} is used twice", case.id));
        }
        cases.push(case);
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Ids or id prefixes; empty runs everything.
    pub select: Vec<String>,
    /// Also run SHOULD cases.
    pub strict: bool,
    /// Cases run at once.
    pub jobs: usize,
    /// Prefix of every username this run creates (fresh per run).
    pub prefix: String,
    /// Also run the slow cases (those that wait out the server's timers,
    /// up to about 100 s; they run beside the others, outside `jobs`).
    pub slow: bool,
}

/// Runs the selected cases of `cases` against `servers` (one server, or
/// several instances sharing one database: see [`run_case`]),
/// `options.jobs` at a time; results come back in catalogue order.
pub async fn run(
    servers: &[String],
    provisioner: Arc<dyn Provisioner>,
    cases: &[Case],
    options: &Options,
) -> Vec<CaseResult> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let mut tasks = Vec::new();
    let mut alone = Vec::new();
    let selected = cases
        .iter()
        .filter(|c| options.select.is_empty() || options.select.iter().any(|s| c.selected_by(s)));
    for (index, case) in selected.enumerate() {
        let skip = if case.level == Level::Should && !options.strict {
            Some("SHOULD case; run with --strict")
        } else if case.slow && !options.slow {
            Some("slow case (waits out the server's timers); run with --slow")
        } else {
            None
        };
        if let Some(why) = skip {
            tasks.push((
                index,
                tokio::spawn({
                    let case = case.clone();
                    async move {
                        CaseResult {
                            case,
                            verdict: Verdict::Skip(why.into()),
                            transcript: Vec::new(),
                            duration: Duration::ZERO,
                        }
                    }
                }),
            ));
            continue;
        }
        if case.alone {
            alone.push((index, case));
            continue;
        }
        let (servers, provisioner, semaphore, case) = (
            servers.to_vec(),
            provisioner.clone(),
            semaphore.clone(),
            case.clone(),
        );
        let prefix = format!("{}{index}-", options.prefix);
        // A slow case mostly waits on a quiet socket: it runs beside the
        // others without holding one of the `jobs` places.
        let permit = if case.slow {
            None
        } else {
            Some(semaphore.acquire_owned())
        };
        tasks.push((
            index,
            tokio::spawn(async move {
                let _permit = match permit {
                    Some(p) => Some(p.await),
                    None => None,
                };
                run_case(&servers, provisioner.as_ref(), &case, &prefix).await
            }),
        ));
    }
    let mut results = Vec::with_capacity(tasks.len() + alone.len());
    for (index, task) in tasks {
        match task.await {
            Ok(result) => results.push((index, result)),
            Err(e) => panic!("a case task failed: {e}"),
        }
    }
    // Cases that must run alone start once every other case has ended.
    for (index, case) in alone {
        let prefix = format!("{}{index}-", options.prefix);
        results.push((
            index,
            run_case(servers, provisioner.as_ref(), case, &prefix).await,
        ));
    }
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Counts of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed (MUST and SHOULD).
    pub failed: usize,
    /// MUST cases that failed.
    pub must_failed: usize,
    /// Cases not run.
    pub skipped: usize,
    /// Cases whose users could not be set up.
    pub setup_errors: usize,
    /// Failures listed as expected that passed.
    pub unexpected_passes: usize,
}

impl Summary {
    /// Counts `results`, honouring `expected_failures` (ids).
    pub fn of(results: &[CaseResult], expected_failures: &BTreeSet<String>) -> Summary {
        let mut s = Summary::default();
        for r in results {
            let expected = expected_failures.contains(&r.case.id);
            match &r.verdict {
                Verdict::Pass if expected => {
                    s.passed += 1;
                    s.unexpected_passes += 1;
                }
                Verdict::Pass => s.passed += 1,
                Verdict::Fail(_) if expected => s.skipped += 1,
                Verdict::Fail(_) => {
                    s.failed += 1;
                    if r.case.level == Level::Must {
                        s.must_failed += 1;
                    }
                }
                Verdict::Skip(_) => s.skipped += 1,
                Verdict::SetupError(_) => s.setup_errors += 1,
            }
        }
        s
    }

    /// Whether the run proves conformance: something ran, no MUST case
    /// failed, nothing failed to set up, no expected failure passed.
    pub fn success(&self) -> bool {
        self.passed + self.failed > 0
            && self.must_failed == 0
            && self.setup_errors == 0
            && self.unexpected_passes == 0
    }
}

/// The readable report: one line per case, details of failures, then the
/// summary line.
pub fn text_report(results: &[CaseResult], expected_failures: &BTreeSet<String>) -> String {
    let mut out = String::new();
    for r in results {
        let mut label = r.verdict.label().to_owned();
        if expected_failures.contains(&r.case.id) {
            label = match r.verdict {
                Verdict::Fail(_) => "XFAIL".into(),
                Verdict::Pass => "XPASS".into(),
                _ => label,
            };
        }
        out.push_str(&format!(
            "{label:<11} {} {} [{}]\n",
            r.case.id, r.case.title, r.case.checks
        ));
        match &r.verdict {
            Verdict::Fail(why) | Verdict::SetupError(why) => {
                out.push_str(&format!("            {why}\n"));
                if let (Verdict::Fail(_), Some(sections)) =
                    (&r.verdict, api_sections(&r.case.statements))
                {
                    out.push_str(&format!("            api.yml: {sections}\n"));
                }
            }
            _ => {}
        }
    }
    let s = Summary::of(results, expected_failures);
    out.push_str(&format!(
        "{} passed, {} failed ({} skipped, {} setup errors, {} unexpected passes)\n",
        s.passed, s.failed, s.skipped, s.setup_errors, s.unexpected_passes
    ));
    out
}

/// The api.yml sections of the statements a case names, with their ids
/// (`Key history (KEY-3, KEY-4)`); `None` when it names none.
fn api_sections(ids: &[String]) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    let statements = crate::coverage::statements().unwrap_or_default();
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    for id in ids {
        let section = statements
            .iter()
            .find(|s| s.id == *id)
            .map_or_else(|| "?".to_owned(), |s| s.section.clone());
        match sections.iter_mut().find(|(name, _)| *name == section) {
            Some((_, list)) => list.push(id),
            None => sections.push((section, vec![id])),
        }
    }
    Some(
        sections
            .iter()
            .map(|(section, ids)| format!("{section} ({})", ids.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// One JSON object per case, with its redacted transcript.
pub fn ndjson_report(results: &[CaseResult]) -> String {
    let mut out = String::new();
    for r in results {
        let line = json!({
            "id": r.case.id,
            "title": r.case.title,
            "checks": r.case.checks,
            "level": match r.case.level { Level::Must => "MUST", Level::Should => "SHOULD" },
            "verdict": r.verdict.label(),
            "reason": match &r.verdict {
                Verdict::Pass => None,
                Verdict::Fail(w) | Verdict::Skip(w) | Verdict::SetupError(w) => Some(w),
            },
            "duration_ms": r.duration.as_millis() as u64,
            "transcript": r.transcript,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// JUnit XML, one test case per conformance case.
pub fn junit_report(results: &[CaseResult]) -> String {
    let failures = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail(_)))
        .count();
    let errors = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::SetupError(_)))
        .count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Skip(_)))
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"nanochat-conformance\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n",
        results.len()
    );
    for r in results {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{} {}\" time=\"{:.3}\">",
            xml(&r.case.checks),
            xml(&r.case.id),
            xml(&r.case.title),
            r.duration.as_secs_f64()
        ));
        match &r.verdict {
            Verdict::Pass => {}
            Verdict::Fail(why) => {
                out.push_str(&format!("<failure message=\"{}\"/>", xml(why)));
            }
            Verdict::SetupError(why) => {
                out.push_str(&format!("<error message=\"{}\"/>", xml(why)));
            }
            Verdict::Skip(why) => out.push_str(&format!("<skipped message=\"{}\"/>", xml(why))),
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
