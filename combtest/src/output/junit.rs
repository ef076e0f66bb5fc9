//! `junit.xml`: the run as CI dashboards (GitLab, Jenkins, GitHub test reporters) read test
//! results. One test case per failure group, one per failing walk up to [`JUNIT_WALKS`], and
//! one passing case when no walk failed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::report::{how, Report};
use crate::error::Error;
use crate::model::outcome::FailureKind;

/// The file name in a run's folder.
pub const FILE: &str = "junit.xml";

/// Failing walks that get a test case of their own at most; every walk is in its group's
/// case, and in `trace.jsonl` with a log directory.
pub const JUNIT_WALKS: usize = 100;

/// Writes the report as JUnit XML to `path` (its folder is created if missing).
pub(crate) fn write<S>(report: &Report<S>, path: &Path) -> Result<PathBuf, Error> {
    let fail = |error: std::io::Error| failed(path, error);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, render(report)).map_err(fail)?;
    Ok(path.to_path_buf())
}

/// Checks, before any walk runs, that the JUnit file can be written at `path`: its folder
/// is created if missing, and the file opened for writing. A file that is there keeps its
/// content until the run writes it; one that was not is not left behind.
pub(crate) fn check_writable(path: &Path) -> Result<(), Error> {
    let fail = |error: std::io::Error| failed(path, error);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(fail)?;
    if !existed {
        std::fs::remove_file(path).map_err(fail)?;
    }
    Ok(())
}

fn failed(path: &Path, error: std::io::Error) -> Error {
    Error::OutputFile {
        path: path.to_path_buf(),
        message: format!("the JUnit file: {error}"),
    }
}

/// The report as a JUnit XML document.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [1, 2, 3])]
/// fn pick(n: u8, _: &mut ()) -> Result<(), String> {
///     if n == 2 { Err(format!("{n} is wrong")) } else { Ok(()) }
/// }
///
/// let report = combtest! { order: [pick], state: (), panic_on_failure: false };
/// let xml = combtest::junit_xml(&report);
/// // One case for the failure group, one for its walk.
/// assert!(xml.contains(r#"tests="2" failures="2""#));
/// assert!(xml.contains("pick returned an error: &lt;n&gt; is wrong"));
/// ```
pub fn render<S>(report: &Report<S>) -> String {
    let suite = report.test.as_deref().unwrap_or("combtest");
    let seconds = report.elapsed.as_secs_f64();
    let mut cases = String::new();
    let mut tests = 0usize;
    let mut failures = 0usize;
    for (at, group) in report.groups.iter().enumerate() {
        tests += 1;
        failures += 1;
        let mut text = format!(
            "{} walks failed; representative walk {}\nreplay: {}\n",
            group.count, group.representative, group.replay
        );
        for cause in &group.causes {
            let kind = if cause.exact { "cause" } else { "suspect" };
            let _ = writeln!(text, "{kind}: {cause} ({})", cause.evidence());
        }
        if let Ok(i) = report
            .failures
            .binary_search_by_key(&group.representative, |f| f.walk_id)
        {
            let failure = &report.failures[i];
            let steps: Vec<String> = failure.steps.iter().map(ToString::to_string).collect();
            let _ = write!(
                text,
                "walk: {}\nmessage: {}\nstate: {}",
                steps.join(" -> "),
                failure.message,
                super::report::capped(&failure.state).0
            );
        }
        let name = format!(
            "failure group {}: {} {}: {}",
            at + 1,
            group.action,
            how(group.kind),
            group.message
        );
        case(
            &mut cases,
            suite,
            &name,
            Some((&group.message, kind(group.kind), &text)),
        );
    }
    for failure in report.failures.iter().take(JUNIT_WALKS) {
        tests += 1;
        failures += 1;
        let steps: Vec<String> = failure.steps.iter().map(ToString::to_string).collect();
        let text = format!(
            "walk: {}\nmessage: {}\nreplay: {}",
            steps.join(" -> "),
            failure.message,
            failure.replay
        );
        let name = format!("walk {}", failure.walk_id);
        case(
            &mut cases,
            &format!("{suite}.walks"),
            &name,
            Some((&failure.message, kind(failure.kind), &text)),
        );
    }
    if report.groups.is_empty() {
        tests += 1;
        let outcome = if report.is_success() {
            None
        } else {
            failures += 1;
            Some(("no walk ran", "nothing_ran", report.summary()))
        };
        let name = format!("{} walks", report.walk_count);
        case(
            &mut cases,
            suite,
            &name,
            outcome.as_ref().map(|(m, k, t)| (*m, *k, t.as_str())),
        );
    }
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"combtest\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">"
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{seconds:.3}\">",
        escape(suite)
    );
    let _ = writeln!(xml, "    <properties>");
    for (name, value) in [
        ("walks_in_space", report.total_walks),
        ("walks_run", report.walk_count),
        ("walks_failed", report.error_count),
        ("walks_cancelled", report.cancel_count),
        ("walks_skipped", report.skipped_count),
    ] {
        let _ = writeln!(xml, "      <property name=\"{name}\" value=\"{value}\"/>");
    }
    let _ = writeln!(xml, "    </properties>");
    xml.push_str(&cases);
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn case(out: &mut String, class: &str, name: &str, failure: Option<(&str, &str, &str)>) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        escape(class),
        escape(name)
    );
    match failure {
        None => out.push_str("/>\n"),
        Some((message, kind, text)) => {
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>\n",
                escape(message),
                escape(text)
            );
        }
    }
}

fn kind(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Error => "error",
        FailureKind::Panic => "panic",
        FailureKind::Timeout => "timeout",
        FailureKind::State => "state",
        FailureKind::Judged => "judged",
    }
}

/// Escapes text for XML attributes and content; characters XML 1.0 cannot hold at all
/// (control characters other than tab and line breaks) become `?`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{check_writable, escape};

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;?");
    }

    #[test]
    fn checking_a_path_leaves_no_file_and_keeps_an_old_one() {
        let dir = std::env::temp_dir().join(format!("combtest-junit-check-{}", std::process::id()));
        let fresh = dir.join("new").join("junit.xml");
        check_writable(&fresh).unwrap();
        assert!(!fresh.exists() && fresh.parent().unwrap().is_dir());
        let old = dir.join("old.xml");
        std::fs::write(&old, "last run").unwrap();
        check_writable(&old).unwrap();
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "last run");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
