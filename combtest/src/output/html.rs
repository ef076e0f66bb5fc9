//! `report.html`: the run on one self-contained page (inline style, no script, no font or
//! image from elsewhere), readable in any browser without a network: the summary, each
//! failure group with its causes and replay command, heat maps of failure rates, the
//! cancels and the failed walks.

use std::fmt::Write as _;

use super::analysis::data::{FailureGroup, HeatMap};
use super::junit::escape;
use super::report::{capped, causes_note, counted, how, unexplained_text, Report};

/// The file name in a run's folder.
pub const FILE: &str = "report.html";

/// Failed walks listed in the page's table at most.
pub const HTML_WALKS: usize = 500;

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 80em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; } h3 { font-size: 1.05em; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; }
pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
.pass { color: #17692b; } .fail { color: #b3261e; }
.group { border-left: 4px solid #b3261e; padding-left: 1em; margin: 1.5em 0; }
.exact { font-weight: bold; } .suspect { font-style: italic; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }
table.heat td { text-align: center; min-width: 3em; }
.note { color: #555; }
";

/// The page for a report.
///
/// ```
/// use combtest::prelude::*;
///
/// #[action(options = [1, 2, 3])]
/// fn pick(n: u8, _: &mut ()) { assert_ne!(n, 2, "two is cursed"); }
///
/// let report = combtest! { order: [pick, pick], state: (), panic_on_failure: false };
/// let page = combtest::report_html(&report);
/// assert!(page.contains("two is cursed"));
/// assert!(!page.contains("<script"));
/// ```
pub fn render<S>(report: &Report<S>) -> String {
    let mut page = String::new();
    let title = report.test.as_deref().unwrap_or("combtest run");
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let verdict = if report.is_success() {
        "<span class=\"pass\">passed</span>"
    } else {
        "<span class=\"fail\">failed</span>"
    };
    let _ = writeln!(page, "<p>{verdict}: {}</p>", escape(&report.summary()));
    if let Some(note) = causes_note(report) {
        let mut note = escape(&note);
        note[..1].make_ascii_uppercase();
        let _ = writeln!(page, "<p class=\"note\">{note}.</p>");
    }
    if !report.groups.is_empty() {
        let _ = writeln!(page, "<h2>Failure groups ({})</h2>", report.groups.len());
        for (at, group) in report.groups.iter().enumerate() {
            group_section(&mut page, report, at, group);
        }
    }
    if !report.heat_maps.is_empty() {
        page.push_str(
            "<h2>Failure rate per pair of options</h2>\n<p class=\"note\">Each cell: failed walks / \
             walks that ran with both options; the darker, the more of them failed.</p>\n",
        );
        for map in &report.heat_maps {
            heat_map(&mut page, map);
        }
    }
    if !report.cancels.is_empty() {
        page.push_str("<h2>Cancelled walks</h2>\n<table>\n<tr><th>walks</th><th>at</th><th>reason</th><th>for example</th></tr>\n");
        for cancel in &report.cancels {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                cancel.count,
                escape(&cancel.action),
                escape(&cancel.reason),
                escape(&cancel.example)
            );
        }
        page.push_str("</table>\n");
    }
    if !report.failures.is_empty() {
        failed_walks(&mut page, report);
    }
    page.push_str("</body>\n</html>\n");
    page
}

fn group_section<S>(page: &mut String, report: &Report<S>, at: usize, group: &FailureGroup) {
    let how = how(group.kind);
    let serial = if group.serial { "serial action " } else { "" };
    let _ = writeln!(
        page,
        "<div class=\"group\" id=\"group-{}\">\n<h3>Group {}: {}, {serial}<code>{}</code> {how}</h3>\n<pre>{}</pre>",
        at + 1,
        at + 1,
        counted(group.count, "walk"),
        escape(&group.action),
        escape(&group.message)
    );
    if group.causes.is_empty() {
        page.push_str("<p>No cause found.</p>\n");
    } else {
        page.push_str("<ul>\n");
        for cause in &group.causes {
            let (class, label) = if cause.exact {
                ("exact", "cause (exact)")
            } else {
                ("suspect", "suspected cause")
            };
            let _ = writeln!(
                page,
                "<li class=\"{class}\">{label}: <code>{}</code> — {}</li>",
                escape(&cause.to_string()),
                escape(&cause.evidence())
            );
        }
        page.push_str("</ul>\n");
    }
    if group.unexplained > 0 {
        let _ = writeln!(page, "<p>{}.</p>", unexplained_text(group.unexplained));
    }
    let _ = writeln!(
        page,
        "<p>Replay its first walk ({}):</p>\n<pre>{}</pre>",
        group.representative,
        escape(&group.replay)
    );
    if let Ok(i) = report
        .failures
        .binary_search_by_key(&group.representative, |f| f.walk_id)
    {
        let failure = &report.failures[i];
        let steps: Vec<String> = failure.steps.iter().map(ToString::to_string).collect();
        let (state, cut) = capped(&failure.state);
        let _ = writeln!(
            page,
            "<p>Walk: <code>{}</code></p>\n<p>Message:</p><pre>{}</pre>\n<p>State{}:</p><pre>{}</pre>",
            escape(&steps.join(" → ")),
            escape(&failure.message),
            if cut { " (cut)" } else { "" },
            escape(state)
        );
    }
    // The whole state sits next to the page, in the same run folder.
    let whole = group
        .state_file
        .as_deref()
        .and_then(|path| path.file_name());
    if let Some(name) = whole.and_then(|name| name.to_str()) {
        let _ = writeln!(
            page,
            "<p>The whole state: <a href=\"{}\">{}</a></p>",
            escape(name),
            escape(name)
        );
    }
    page.push_str("</div>\n");
}

fn heat_map(page: &mut String, map: &HeatMap) {
    let _ = writeln!(
        page,
        "<h3><code>{}</code> × <code>{}</code></h3>\n<table class=\"heat\">\n\
         <tr><th><code>{}</code> ↓ <code>{}</code> →</th>",
        escape(&map.rows.action),
        escape(&map.columns.action),
        escape(&map.rows.action),
        escape(&map.columns.action)
    );
    for param in &map.columns.params {
        let _ = write!(page, "<th><code>{}</code></th>", escape(param));
    }
    page.push_str("</tr>\n");
    for (i, param) in map.rows.params.iter().enumerate() {
        let _ = write!(page, "<tr><th><code>{}</code></th>", escape(param));
        for (failed, ran) in map.failed[i].iter().zip(&map.ran[i]) {
            let rate = if *ran == 0 {
                0.0
            } else {
                *failed as f64 / *ran as f64
            };
            // White for no failure, through to deep red when every walk of the cell failed.
            let lightness = 97.0 - 52.0 * rate;
            let text = if lightness < 60.0 { "#fff" } else { "#222" };
            let _ = write!(
                page,
                "<td style=\"background: hsl(4, 75%, {lightness:.0}%); color: {text}\" \
                 title=\"{failed} of {ran} failed\">{failed}/{ran}</td>"
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
    if map.rows.hidden + map.columns.hidden > 0 {
        let _ = writeln!(
            page,
            "<p class=\"note\">{} options of <code>{}</code> and {} of <code>{}</code> are not shown.</p>",
            map.rows.hidden,
            escape(&map.rows.action),
            map.columns.hidden,
            escape(&map.columns.action)
        );
    }
}

fn failed_walks<S>(page: &mut String, report: &Report<S>) {
    let _ = writeln!(
        page,
        "<h2>Failed walks ({})</h2>\n<table>\n<tr><th>walk</th><th>group</th><th>steps</th><th>failed at</th><th>message</th></tr>",
        report.failures.len()
    );
    for failure in report.failures.iter().take(HTML_WALKS) {
        let group = report
            .groups
            .iter()
            .position(|g| g.walk_ids.binary_search(&failure.walk_id).is_ok())
            .map_or(String::new(), |g| {
                format!("<a href=\"#group-{}\">{}</a>", g + 1, g + 1)
            });
        let steps: Vec<String> = failure.steps.iter().map(ToString::to_string).collect();
        let message: String = failure.message.chars().take(200).collect();
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{group}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            failure.walk_id,
            escape(&steps.join(" → ")),
            escape(&failure.steps[failure.failed_position].to_string()),
            escape(&message)
        );
    }
    page.push_str("</table>\n");
    if report.failures.len() > HTML_WALKS {
        let _ = writeln!(
            page,
            "<p class=\"note\">… and {} more (all are in the trace and in <code>summary.json</code>).</p>",
            report.failures.len() - HTML_WALKS
        );
    }
}
