//! The visual report and the JUnit file a run with a log directory leaves behind, read as a
//! browser and a CI dashboard would: `report.html` must stand alone, `junit.xml` must be
//! well-formed XML shaped as JUnit.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use combtest::prelude::*;
use combtest::Report;

use common::scratch;

#[action(options = 0..4)]
fn size(n: u32, log: &mut Vec<u32>) {
    log.push(n);
}

#[action(options = 0..3)]
fn colour(n: u32, log: &mut Vec<u32>) {
    log.push(n);
}

#[action(options = [0u32, 1, 2])]
fn render(n: u32, log: &mut Vec<u32>) -> Result<(), String> {
    log.push(n);
    if log[0] == 3 && log[2] == 1 {
        return Err(format!("layout <overflow> of {} px & more", 10 * log[1]));
    }
    if log[1] == 2 && n == 0 {
        panic!("colour {} cannot render", log[1]);
    }
    Ok(())
}

fn failing_run(dir: &Path) -> Report<Vec<u32>> {
    combtest! {
        order: [size, colour, render, colour],
        state: Vec::new(),
        log_dir: dir,
        panic_on_failure: false,
    }
}

fn file(report: &Report<Vec<u32>>, name: &str) -> PathBuf {
    report
        .files
        .iter()
        .find(|f| f.ends_with(name))
        .unwrap_or_else(|| panic!("no {name} in {:?}", report.files))
        .clone()
}

#[test]
fn report_html_stands_alone_and_shows_every_group_with_cause_and_replay() {
    let dir = scratch("visual-html");
    let report = failing_run(&dir);
    assert_eq!(report.groups.len(), 2, "{report}");
    let page = std::fs::read_to_string(file(&report, "report.html")).unwrap();
    // Nothing is fetched from elsewhere: no network address, script, font or stylesheet link.
    for outside in [
        "http://",
        "https://",
        "<script",
        "@import",
        "@font-face",
        "<link",
        "url(",
    ] {
        assert!(!page.contains(outside), "report.html holds `{outside}`");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    let tree = parse_xml(&page.replacen("<!DOCTYPE html>", "", 1)).expect("well-formed markup");
    assert_eq!(tree.name, "html");
    for (at, group) in report.groups.iter().enumerate() {
        assert!(page.contains(&format!("id=\"group-{}\"", at + 1)));
        assert!(page.contains(&escape(&group.message)), "{}", group.message);
        assert!(page.contains(&escape(&group.replay)));
        for cause in &group.causes {
            assert!(page.contains(&escape(&cause.to_string())), "{cause}");
        }
    }
    // The panic's cause names the first appearance of colour; the error's, size and render.
    assert_eq!(
        report.groups[0].causes[0].to_string(),
        "colour#1(2) ∧ render(0)"
    );
    assert_eq!(
        report.groups[1].causes[0].to_string(),
        "size(3) ∧ render(1)"
    );
    // A heat map of size x render: the cell (3, 1) failed in every walk.
    let heat = report
        .heat_maps
        .iter()
        .find(|m| m.rows.action == "size" && m.columns.action == "render")
        .expect("a heat map of the cause's positions");
    assert_eq!(heat.failed[3][1], heat.ran[3][1]);
    assert_eq!(heat.ran[3][1], 9);
    assert!(page.contains("title=\"9 of 9 failed\""));
    // Every failed walk is listed.
    assert_eq!(
        page.matches("<tr><td>").count(),
        report.failures.len(),
        "one row per failed walk"
    );
}

#[test]
fn junit_xml_is_well_formed_junit_with_one_case_per_group_and_per_walk() {
    let dir = scratch("visual-junit");
    let report = failing_run(&dir);
    let xml = std::fs::read_to_string(file(&report, "junit.xml")).unwrap();
    let root = parse_xml(xml.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        .expect("well-formed XML");
    assert_eq!(root.name, "testsuites");
    let suites: Vec<&Element> = root
        .children
        .iter()
        .filter(|c| c.name == "testsuite")
        .collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    let cases: Vec<&Element> = suite
        .children
        .iter()
        .filter(|c| c.name == "testcase")
        .collect();
    let expected = report.groups.len() + report.failures.len();
    assert_eq!(cases.len(), expected);
    assert_eq!(suite.attributes["tests"], expected.to_string());
    assert_eq!(suite.attributes["failures"], expected.to_string());
    assert_eq!(root.attributes["tests"], expected.to_string());
    let failing = cases
        .iter()
        .filter(|c| c.children.iter().any(|f| f.name == "failure"))
        .count();
    assert_eq!(failing, expected);
    // The group's case carries the normalised message, the cause and the replay command,
    // markup in messages escaped and read back intact.
    let group = &report.groups[1];
    let case = cases[1];
    assert!(case.attributes["name"].contains(&group.message));
    let failure = &case.children[0];
    assert_eq!(failure.attributes["type"], "error");
    assert_eq!(failure.attributes["message"], group.message);
    assert!(failure.text.contains(&group.replay));
    assert!(failure.text.contains("cause: size(3) ∧ render(1)"));
    assert!(group.message.contains("<overflow>") && group.message.contains('&'));
}

#[test]
fn a_passing_run_is_one_passing_case_and_a_junit_setting_writes_elsewhere() {
    #[action(options = [1, 2])]
    fn fine(n: u32, log: &mut Vec<u32>) {
        log.push(n);
    }
    let dir = scratch("visual-junit-setting");
    let path = dir.join("ci").join("combtest.xml");
    let report = combtest::Combtest::new(Vec::new())
        .then(fine::action())
        .junit(&path)
        .run()
        .unwrap();
    assert!(report.files.contains(&path));
    let xml = std::fs::read_to_string(&path).unwrap();
    let root =
        parse_xml(xml.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")).unwrap();
    let suite = &root.children[0];
    assert_eq!(suite.attributes["tests"], "1");
    assert_eq!(suite.attributes["failures"], "0");
    let case = suite
        .children
        .iter()
        .find(|c| c.name == "testcase")
        .unwrap();
    assert!(case.children.is_empty());
}

#[test]
fn a_junit_path_that_cannot_be_written_is_an_error_before_any_walk_runs() {
    static RAN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    #[action(options = [1, 2])]
    fn counted(_: u32, _: &mut ()) {
        RAN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let dir = scratch("visual-junit-unwritable");
    // A folder where the file should be: nothing can be written at that path.
    let path = dir.join("taken.xml");
    std::fs::create_dir_all(&path).unwrap();
    let log_dir = dir.join("logs");
    let error = combtest::Combtest::new(())
        .then(counted::action())
        .junit(&path)
        .log_dir(&log_dir)
        .run()
        .unwrap_err();
    // Checked before the run's folder is made: a run that cannot start leaves none.
    assert!(
        !log_dir.exists() || std::fs::read_dir(&log_dir).unwrap().next().is_none(),
        "{log_dir:?}"
    );
    assert!(
        matches!(&error, combtest::Error::OutputFile { path: p, .. } if *p == path),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("the JUnit file") && !text.contains("log directory"),
        "{text}"
    );
    assert_eq!(RAN.load(std::sync::atomic::Ordering::Relaxed), 0);
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// An element of a parsed document: its name, attributes, child elements and text.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

/// A small checking parser for the markup combtest writes: elements, attributes in double
/// quotes, text, the five named entities, `<!-- -->` comments and void HTML elements
/// (`<meta>`). Fails on anything unbalanced or unknown.
fn parse_xml(source: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = vec![Element {
        name: String::new(),
        attributes: BTreeMap::new(),
        children: Vec::new(),
        text: String::new(),
    }];
    let mut rest = source;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unclosed end tag")?;
            let name = after[..end].trim();
            let element = stack.pop().ok_or("end tag without start")?;
            if element.name != name {
                return Err(format!("</{name}> closes <{}>", element.name));
            }
            stack
                .last_mut()
                .ok_or("end tag at top")?
                .children
                .push(element);
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unclosed comment")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unclosed tag")?;
            let mut tag = &after[..end];
            let self_closing = tag.ends_with('/');
            if self_closing {
                tag = &tag[..tag.len() - 1];
            }
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let name = &tag[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("bad tag name `{name}`"));
            }
            let mut attributes = BTreeMap::new();
            let mut attrs = tag[name_end..].trim();
            while !attrs.is_empty() {
                let eq = attrs
                    .find("=\"")
                    .ok_or(format!("bad attribute in <{name}>"))?;
                let key = attrs[..eq].trim().to_string();
                let value_end = attrs[eq + 2..].find('"').ok_or("unclosed attribute")?;
                let value = unescape(&attrs[eq + 2..eq + 2 + value_end])?;
                if attributes.insert(key.clone(), value).is_some() {
                    return Err(format!("attribute {key} twice"));
                }
                attrs = attrs[eq + 2 + value_end + 1..].trim();
            }
            let element = Element {
                name: name.to_string(),
                attributes,
                children: Vec::new(),
                text: String::new(),
            };
            if self_closing || name == "meta" {
                stack.last_mut().unwrap().children.push(element);
            } else {
                stack.push(element);
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&unescape(&rest[..end])?);
            rest = &rest[end..];
        }
    }
    let mut top = stack.pop().ok_or("empty")?;
    if !stack.is_empty() {
        return Err(format!("<{}> is never closed", top.name));
    }
    if top.children.len() != 1 || !top.text.trim().is_empty() {
        return Err("not exactly one root element".into());
    }
    Ok(top.children.pop().unwrap())
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').ok_or("unterminated entity")? + at;
        out.push(match &rest[at + 1..end] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            other => return Err(format!("unknown entity &{other};")),
        });
        rest = &rest[end + 1..];
    }
    if rest.contains('<') || rest.contains('>') {
        return Err(format!("raw markup character in `{rest}`"));
    }
    out.push_str(rest);
    Ok(out)
}
