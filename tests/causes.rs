//! Why walks fail: planted bugs whose cause is known, and the cause the report names.
//!
//! Most orders here are built with the builder API, so that each test plants its own bug:
//! four knobs `a b c d` with options 0..4 each (256 walks), where the last knob checks the
//! planted condition over the walk's choices.

use std::sync::Arc;

use combtest::prelude::*;
use combtest::{Action, Cause, Combtest, FailureGroup, Report};

type Choices = Vec<u32>;
type Bug = Arc<dyn Fn(&[u32]) -> Option<String> + Send + Sync>;

/// A knob: records its option; the last knob of the order checks `bug` on all choices.
fn knob(name: &'static str, last: Option<Bug>) -> Action<Choices> {
    Action::new(
        name,
        || 0..4u32,
        move |n: u32, choices: &mut Choices, _: &()| {
            choices.push(n);
            match last.as_ref().and_then(|bug| bug(choices)) {
                Some(message) => Err(message),
                None => Ok(()),
            }
        },
    )
}

fn knobs(bug: impl Fn(&[u32]) -> Option<String> + Send + Sync + 'static) -> Combtest<Choices> {
    let bug: Bug = Arc::new(bug);
    Combtest::new(Vec::new())
        .then(knob("a", None))
        .then(knob("b", None))
        .then(knob("c", None))
        .then(knob("d", Some(bug)))
}

fn causes(group: &FailureGroup) -> Vec<String> {
    group.causes.iter().map(Cause::to_string).collect()
}

fn only_group<S>(report: &Report<S>) -> &FailureGroup {
    assert_eq!(report.groups.len(), 1, "{report}");
    &report.groups[0]
}

#[test]
fn a_single_option_is_the_exact_cause() {
    let report = knobs(|c| (c[0] == 3).then(|| format!("a is {} and d is {}", c[0], c[3])))
        .run()
        .unwrap();
    assert_eq!(report.error_count, 64);
    let group = only_group(&report);
    // The message's numbers vary with d; they are normalised into one group.
    assert_eq!(group.message, "a is <n> and d is <n>");
    assert_eq!(causes(group), ["a(3)"]);
    let cause = &group.causes[0];
    assert!(cause.exact);
    assert_eq!((cause.in_group, cause.group_size), (64, 64));
    assert_eq!((cause.in_others, cause.others), (0, 192));
    assert_eq!(group.unexplained, 0);
    assert!(report.evidence.every_walk_ran);
    let text = report.to_string();
    assert!(
        text.contains("cause:   a(3) (exact: every walk with it failed this way; in 64 of 64 failing walks, 0 of 192 others)"),
        "{text}"
    );
}

#[test]
fn a_pair_across_non_adjacent_positions_is_the_exact_cause() {
    let report = knobs(|c| (c[0] == 2 && c[3] == 1).then(|| "a=2 meets d=1".to_string()))
        .run()
        .unwrap();
    let group = only_group(&report);
    assert_eq!(causes(group), ["a(2) ∧ d(1)"]);
    assert!(group.causes[0].exact);
    assert_eq!(group.count, 16);
}

#[test]
fn a_triple_is_the_exact_cause() {
    let report = knobs(|c| (c[0] == 1 && c[1] == 2 && c[3] == 3).then(|| "three met".into()))
        .run()
        .unwrap();
    let group = only_group(&report);
    assert_eq!(causes(group), ["a(1) ∧ b(2) ∧ d(3)"]);
    assert!(group.causes[0].exact);
    assert_eq!(group.count, 4);
}

#[test]
fn two_independent_bugs_make_two_groups_each_with_its_cause() {
    let report = knobs(|c| {
        if c[0] == 3 {
            Some(format!("overflow at {}", c[2]))
        } else if c[0] == 1 && c[2] == 2 {
            Some("a=1 with c=2 is refused".into())
        } else {
            None
        }
    })
    .run()
    .unwrap();
    assert_eq!(report.groups.len(), 2, "{report}");
    let (first, second) = (&report.groups[0], &report.groups[1]);
    assert_eq!(
        (first.count, first.message.as_str()),
        (64, "overflow at <n>")
    );
    assert_eq!(causes(first), ["a(3)"]);
    assert_eq!(
        (second.count, second.message.as_str()),
        (16, "a=<n> with c=<n> is refused")
    );
    assert_eq!(causes(second), ["a(1) ∧ c(2)"]);
    assert!(first.causes[0].exact && second.causes[0].exact);
    // Each group is shown once, with the walk of lowest id and its replay command.
    let text = report.to_string();
    assert_eq!(text.matches("failure group ").count(), 2, "{text}");
    assert_eq!(text.matches("replay:").count(), 2, "{text}");
    assert_eq!(first.representative, 192); // a=3, b=c=d=0
    assert_eq!(second.representative, 64 + 2 * 4); // a=1, b=0, c=2, d=0
}

#[test]
fn the_same_bug_in_two_places_of_one_group_gives_two_exact_causes() {
    let report = knobs(|c| (c[0] == 3 || (c[1] == 0 && c[2] == 1)).then(|| "boom".into()))
        .run()
        .unwrap();
    let group = only_group(&report);
    assert_eq!(causes(group), ["a(3)", "b(0) ∧ c(1)"]);
    assert_eq!(group.unexplained, 0);
}

#[action(options = ["", "12", "1234"])]
fn type_text(text: &'static str, typed: &mut Vec<&'static str>) {
    typed.push(text);
}

#[action(options = [false, true])]
fn submit(twice: bool, typed: &mut Vec<&'static str>) -> Result<(), String> {
    if typed[0] == "12" && typed[1] == "1234" {
        return Err(format!("field rejected {} characters", typed[1].len()));
    }
    typed.push(if twice {
        "submitted twice"
    } else {
        "submitted"
    });
    Ok(())
}

#[test]
fn a_bug_needing_two_appearances_of_one_action_names_both() {
    let report = combtest! {
        order: [type_text, type_text, submit],
        state: Vec::new(),
        panic_on_failure: false,
    };
    let group = only_group(&report);
    assert_eq!(group.action, "submit");
    assert_eq!(
        causes(group),
        [r#"type_text#1("12") ∧ type_text#2("1234")"#]
    );
    let choice = &group.causes[0].choices[1];
    assert_eq!((choice.position, choice.option), (1, 2));
}

#[derive(Debug, Default)]
struct Server {
    read_only: bool,
}

#[test]
fn a_bug_behind_a_serial_option_names_the_serial_action() {
    let mode = Action::serial(
        "mode",
        || ["rw", "ro"],
        |mode: &str, server: &mut Server, _: States<'_, Choices>| {
            server.read_only = mode == "ro";
        },
    );
    let save = Action::new(
        "save",
        || 0..3u32,
        |n: u32, _: &mut Choices, server: &Server| {
            if server.read_only && n == 2 {
                return Err(format!("cannot save {n} bytes: read-only"));
            }
            Ok(())
        },
    );
    let touch = Action::new(
        "touch",
        || 0..4u32,
        |n: u32, c: &mut Choices, _: &Server| c.push(n),
    );
    let report = Combtest::with_shared(Vec::new(), Server::default())
        .then(touch)
        .then(mode)
        .then(save)
        .run()
        .unwrap();
    let group = only_group(&report);
    assert!(!group.serial, "save is a regular action");
    assert_eq!(causes(group), [r#"mode("ro") ∧ save(2)"#]);
    assert!(group.causes[0].exact);
}

#[test]
fn a_failing_serial_action_is_one_group_shown_once() {
    let connect = Action::serial(
        "connect",
        || 0..3u32,
        |port: u32, _: &mut (), _: States<'_, Choices>| {
            if port == 2 {
                return Err(format!("port {port} is closed"));
            }
            Ok(())
        },
    );
    let report = Combtest::with_shared(Vec::new(), ())
        .then(Action::new(
            "a",
            || 0..4u32,
            |n: u32, c: &mut Choices, _: &()| c.push(n),
        ))
        .then(connect)
        .then(Action::new(
            "b",
            || 0..4u32,
            |n: u32, c: &mut Choices, _: &()| c.push(n),
        ))
        .run()
        .unwrap();
    assert_eq!(report.error_count, 16);
    let group = only_group(&report);
    assert!(group.serial);
    assert_eq!(group.action, "connect");
    assert_eq!(causes(group), ["connect(2)"]);
    let text = report.to_string();
    assert_eq!(text.matches("replay:").count(), 1, "{text}");
    assert!(
        text.contains("16 walks, serial action connect returned an error"),
        "{text}"
    );
}

#[test]
fn a_flaky_looking_bug_has_no_exact_cause_and_names_its_best_suspect() {
    // Fails for a=3 when b+c+d is even: four choices decide it, more than a cause holds.
    let report = knobs(|c| (c[0] == 3 && (c[1] + c[2] + c[3]) % 2 == 0).then(|| "odd".into()))
        .run()
        .unwrap();
    let group = only_group(&report);
    assert_eq!(group.count, 32);
    let best = &group.causes[0];
    assert_eq!(best.to_string(), "a(3)");
    assert!(!best.exact);
    assert_eq!(
        best.evidence(),
        "in 32 of 32 failing walks, 32 of 224 others"
    );
    assert!(group.causes.iter().all(|c| !c.exact));
    let text = report.to_string();
    assert!(
        text.contains("suspect: a(3) (in 32 of 32 failing walks, 32 of 224 others)"),
        "{text}"
    );
}

#[test]
fn under_a_covering_array_the_cause_is_a_suspicion() {
    let bug: Bug = Arc::new(|c: &[u32]| (c[1] == 3).then(|| "b is three".into()));
    let report = Combtest::new(Vec::new())
        .order((0..5).map(|i| knob(["a", "b", "c", "d", "e"][i], None)))
        .then(Action::new(
            "check",
            || [0u8],
            move |_: u8, c: &mut Choices, _: &()| match bug(c) {
                Some(message) => Err(message),
                None => Ok(()),
            },
        ))
        .covering(2)
        .run()
        .unwrap();
    assert!(report.walk_count < 100, "a covering array runs few walks");
    assert!(!report.evidence.every_walk_ran);
    let note = report.evidence.note.as_deref().unwrap();
    assert!(note.contains("2-wise covering array"), "{note}");
    let group = only_group(&report);
    let best = &group.causes[0];
    assert_eq!(best.to_string(), "b(3)");
    assert!(!best.exact, "walks with b=3 did not all run");
    assert_eq!(best.in_group, group.count);
    assert_eq!(best.in_others, 0);
    let text = report.to_string();
    assert!(
        text.contains("causes are suspicions: a 2-wise covering array"),
        "{text}"
    );
    assert!(text.contains("suspect: b(3)"), "{text}");
}

#[test]
fn under_a_filter_a_wide_suspect_comes_with_the_narrow_exact_causes() {
    let report = knobs(|c| (c[0] == 3).then(|| "a is three".into()))
        .filter(|walk| walk.option_index(1) != 0)
        .run()
        .unwrap();
    assert!(!report.evidence.every_walk_ran);
    let group = only_group(&report);
    // Walks with a=3 and b=0 did not run, so a=3 alone is a suspicion, though no other
    // walk has it; it comes first. Every walk with a=3 and b=1 ran and failed: exact.
    assert_eq!(
        causes(group),
        ["a(3)", "a(3) ∧ b(1)", "a(3) ∧ b(2)", "a(3) ∧ b(3)"]
    );
    assert!(!group.causes[0].exact);
    assert_eq!(
        group.causes[0].evidence(),
        "in 48 of 48 failing walks, 0 of 144 others"
    );
    assert!(group.causes[1..].iter().all(|c| c.exact));
}

#[test]
fn cancels_are_counted_per_action_and_reason() {
    let report = Combtest::new(0i64)
        .then(Action::new(
            "deposit",
            || [10i64, 20],
            |n: i64, b: &mut i64, _: &()| *b += n,
        ))
        .then(Action::new(
            "withdraw",
            || [5i64, 15, 25],
            |n: i64, b: &mut i64, _: &()| {
                if n > *b {
                    combtest::cancel!("cannot withdraw {n} from {b}");
                }
                *b -= n;
            },
        ))
        .run()
        .unwrap();
    // (10, 15), (10, 25), (20, 25)
    assert_eq!(report.cancel_count, 3);
    assert_eq!(report.cancels.len(), 1);
    let cancel = &report.cancels[0];
    assert_eq!(
        (cancel.action.as_str(), cancel.reason.as_str(), cancel.count),
        ("withdraw", "cannot withdraw <n> from <n>", 3)
    );
    assert_eq!(cancel.example, "cannot withdraw 15 from 10");
    let text = report.to_string();
    assert!(
        text.contains("3 walks at withdraw: cannot withdraw <n> from <n>"),
        "{text}"
    );
}

#[test]
fn a_long_state_is_cut_in_the_report_and_whole_in_the_log_folder() {
    let dir = std::env::temp_dir().join(format!("combtest-causes-{}", std::process::id()));
    let report = Combtest::new(Vec::<String>::new())
        .then(Action::new(
            "fill",
            || [100usize],
            |n: usize, v: &mut Vec<String>, _: &()| {
                v.extend((0..n).map(|i| format!("entry number {i}")));
                Err::<(), _>("full")
            },
        ))
        .log_dir(&dir)
        .run()
        .unwrap();
    let text = report.to_string();
    let state_file = report.groups[0]
        .state_file
        .clone()
        .expect("a cut state is written");
    assert!(
        text.contains(&format!("the whole state is in {}", state_file.display())),
        "{text}"
    );
    assert!(text.contains("\"entry number 38\""), "{text}");
    assert!(!text.contains("\"entry number 99\""), "{text}");
    let page = report
        .files
        .iter()
        .find(|f| f.ends_with("report.html"))
        .unwrap();
    let name = state_file.file_name().unwrap().to_str().unwrap();
    assert!(std::fs::read_to_string(page)
        .unwrap()
        .contains(&format!("<a href=\"{name}\">")));
    let whole = std::fs::read_to_string(&state_file).unwrap();
    assert_eq!(whole, report.failures[0].state);
    assert!(whole.contains("\"entry number 99\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn groups_and_causes_serialize_with_the_report() {
    let report = knobs(|c| (c[0] == 3).then(|| "a is three".into()))
        .run()
        .unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let cause = &json["groups"][0]["causes"][0];
    assert_eq!(cause["exact"], true);
    assert_eq!(cause["choices"][0]["action"], "a");
    assert_eq!(cause["choices"][0]["param"], "3");
    assert_eq!(json["evidence"]["every_walk_ran"], true);
    let back: Report<Choices> = serde_json::from_value(json).unwrap();
    assert_eq!(back.groups, report.groups);
}

#[test]
#[ignore = "prints a failure report to look at"]
fn show_a_failure_report() {
    let report = knobs(|c| {
        if c[0] == 3 {
            Some(format!("overflow at {}", c[2]))
        } else {
            (c[0] == 1 && c[2] == 2).then(|| "a=1 with c=2 is refused".into())
        }
    })
    .run()
    .unwrap();
    println!("{report}");
}

#[test]
fn confirming_a_covering_suspect_runs_walks_that_have_it() {
    let bug: Bug = Arc::new(|c: &[u32]| (c[1] == 3).then(|| "b is three".into()));
    let run = |confirm: Option<u64>| {
        let mut test = Combtest::new(Vec::new())
            .order((0..5).map(|i| knob(["a", "b", "c", "d", "e"][i], None)))
            .then({
                let bug = bug.clone();
                Action::new(
                    "check",
                    || [0u8],
                    move |_: u8, c: &mut Choices, _: &()| bug(c).map_or(Ok(()), Err),
                )
            })
            .covering(2);
        if let Some(budget) = confirm {
            test = test.confirm_causes(budget);
        }
        test.run().unwrap()
    };
    let plain = run(None);
    let confirmed = run(Some(20));
    // The run itself is the same; the extra walks are counted apart.
    assert_eq!(confirmed.walk_count, plain.walk_count);
    assert_eq!(confirmed.error_count, plain.error_count);
    assert_eq!(plain.evidence.confirmation_walks, 0);
    let extra = confirmed.evidence.confirmation_walks;
    assert!((1..=20).contains(&extra), "{extra}");
    let best = &confirmed.groups[0].causes[0];
    assert_eq!(best.to_string(), "b(3)");
    let confirmation = best.confirmation.as_ref().expect("the suspect was tested");
    assert!(confirmation.confirmed(), "{confirmation:?}");
    assert_eq!(confirmation.walks, 4);
    assert!(plain.groups[0].causes[0].confirmation.is_none());
    let text = confirmed.to_string();
    assert!(
        text.contains("confirmed: 4 more walks with it all failed this way"),
        "{text}"
    );
}

#[test]
fn confirming_isolates_a_wider_cause_and_refutes_its_parts() {
    // The bug needs a=1, b=1 and c=1: a pairwise array holds the triple in one walk (forced
    // here), so every pair of that walk that no other walk has looks as good as the cause.
    let report = knobs(|c| (c[0] == 1 && c[1] == 1 && c[2] == 1).then(|| "triple".into()))
        .covering(2)
        .must_include(vec![1.into(), 1.into(), 1.into(), 0.into()])
        .confirm_causes(40)
        .run()
        .unwrap();
    let group = only_group(&report);
    let refuted: Vec<&Cause> = group
        .causes
        .iter()
        .filter(|c| {
            c.confirmation
                .as_ref()
                .is_some_and(|c| c.counterexample.is_some())
        })
        .collect();
    assert!(!refuted.is_empty(), "{report}");
    for cause in &refuted {
        let walk = cause.confirmation.as_ref().unwrap().counterexample.unwrap();
        let options = [walk / 64, walk / 16 % 4, walk / 4 % 4, walk % 4];
        // The counterexample has the suspect's choices but not the whole triple.
        for choice in &cause.choices {
            assert_eq!(options[choice.position], choice.option as u64);
        }
        assert_ne!(&options[..3], &[1, 1, 1], "{cause}");
        assert!(!report.failures.iter().any(|f| f.walk_id == walk));
    }
    // Refuted suspects come last.
    let last = group.causes.last().unwrap();
    assert!(last.confirmation.as_ref().unwrap().counterexample.is_some());
    // Changing the failing walk one position at a time shows that a, b and c matter: the
    // triple is the first suspect, and the walks with it that are left confirm it.
    let best = &group.causes[0];
    assert_eq!(best.to_string(), "a(1) ∧ b(1) ∧ c(1)");
    assert!(best.confirmation.as_ref().unwrap().confirmed(), "{report}");
    assert!(report.evidence.confirmation_walks <= 40);
    let text = report.to_string();
    assert!(text.contains("refuted: walk "), "{text}");
    // Isolation ran d=1 and d=2; the one walk with the triple left is d=3.
    assert!(
        text.contains(
            "suspect: a(1) ∧ b(1) ∧ c(1) (in 1 of 1 failing walks, 0 of 15 others; \
             confirmed: 1 more walk with it all failed this way)"
        ),
        "{text}"
    );
}

#[action(options = 0..5)]
fn dial(n: u32, dials: &mut Vec<u32>) -> Result<(), String> {
    dials.push(n);
    if dials.len() == 4 && dials[2] == 4 {
        return Err(format!("dial {} jammed", dials[2]));
    }
    Ok(())
}

#[test]
fn combtest_blocks_take_the_analysis_keys() {
    let dir = std::env::temp_dir().join(format!("combtest-keys-{}", std::process::id()));
    let junit = dir.join("junit-copy.xml");
    let report = combtest! {
        order: [dial, dial, dial, dial],
        state: Vec::new(),
        covering: 2,
        confirm_causes: 12,
        junit: &junit,
        panic_on_failure: false,
    };
    let best = &report.groups[0].causes[0];
    assert_eq!(best.to_string(), "dial#3(4)");
    assert!(best.confirmation.as_ref().unwrap().confirmed());
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("dial#3(4)"));
    let unexplained = combtest! {
        order: [dial, dial, dial, dial],
        state: Vec::new(),
        explain_failures: false,
        panic_on_failure: false,
    };
    assert!(unexplained.error_count > 0 && unexplained.groups.is_empty());
    // Its failure report shows the first failed walks one by one.
    let text = unexplained.to_string();
    assert_eq!(
        text.matches("replay:").count(),
        combtest::SHOWN_GROUPS,
        "{text}"
    );
    assert!(text.contains("more failed walks"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn walks_listed_by_id_run_alone_and_confirm_nothing() {
    let report = knobs(|c| (c[0] == 3).then(|| "a is three".into()))
        .walks("190-200")
        .confirm_causes(20)
        .run()
        .unwrap();
    assert_eq!(report.walk_count, 11);
    assert_eq!(report.evidence.confirmation_walks, 0);
    let note = report.evidence.note.as_deref().unwrap();
    assert_eq!(note, "a selection of walks ran; 11 of 256 walks ran");
    let group = only_group(&report);
    assert_eq!(group.count, 9); // 192-200
    assert!(group.causes.iter().all(|c| c.confirmation.is_none()));
    assert_eq!(group.causes[0].to_string(), "a(3)");
    assert_eq!(
        group.causes[0].evidence(),
        "in 9 of 9 failing walks, 0 of 2 others"
    );
}

#[test]
fn a_cancelling_serial_action_counts_every_walk_of_its_branch_once_per_reason() {
    let gate = Action::serial(
        "gate",
        || 0..3u32,
        |n: u32, _: &mut (), _: States<'_, Choices>| {
            if n == 1 {
                combtest::cancel!("gate {n} is shut");
            }
        },
    );
    let report = Combtest::with_shared(Vec::new(), ())
        .then(Action::new(
            "a",
            || 0..4u32,
            |n: u32, c: &mut Choices, _: &()| c.push(n),
        ))
        .then(gate)
        .then(Action::new(
            "b",
            || 0..5u32,
            |n: u32, c: &mut Choices, _: &()| c.push(n),
        ))
        .run()
        .unwrap();
    assert_eq!(report.cancel_count, 20);
    assert_eq!(report.cancels.len(), 1);
    let cancel = &report.cancels[0];
    assert_eq!(
        (cancel.action.as_str(), cancel.position, cancel.count),
        ("gate", 1, 20)
    );
    assert_eq!(cancel.reason, "gate <n> is shut");
    assert_eq!(cancel.example, "gate 1 is shut");
}

#[test]
fn confirmation_walks_that_are_cancelled_or_fail_otherwise_say_nothing() {
    let names = ["a", "b", "c", "d", "e"];
    let knob5 = |i: usize| {
        Action::new(
            names[i],
            || 0..4u32,
            move |n: u32, c: &mut Choices, _: &()| {
                c.push(n);
                if i == 1 && c[0] == 0 && n == 3 {
                    combtest::cancel!("a=0 cannot take b=3");
                }
                if i == 4 && c[0] == 1 && c[1] == 1 && c[2] == 1 {
                    return Err("another bug".to_string());
                }
                if i == 4 && c[2] == 2 && c[3] == 1 {
                    return Err("c=2 meets d=1".to_string());
                }
                Ok(())
            },
        )
    };
    let report = Combtest::new(Vec::new())
        .order((0..5).map(knob5))
        .covering(2)
        .confirm_causes(80)
        .run()
        .unwrap();
    let group = report
        .groups
        .iter()
        .find(|g| g.message == "c=<n> meets d=<n>")
        .expect("the pair's group");
    let best = &group.causes[0];
    assert_eq!(best.to_string(), "c(2) ∧ d(1)", "{report}");
    assert!(best.confirmation.as_ref().unwrap().confirmed(), "{report}");
    // Some walks with a suspect were cancelled or failed by the other bug ...
    let inconclusive: u64 = group
        .causes
        .iter()
        .filter_map(|c| c.confirmation.as_ref())
        .map(|c| c.inconclusive)
        .sum();
    assert!(inconclusive > 0, "{report}");
    // ... and none of them refutes: a refuting walk passed, it was neither cancelled
    // (a=0, b=3) nor failed by the other bug (a=b=c=1).
    for cause in group.causes.iter().filter_map(|c| c.confirmation.as_ref()) {
        if let Some(walk) = cause.counterexample {
            let o = [
                walk / 256,
                walk / 64 % 4,
                walk / 16 % 4,
                walk / 4 % 4,
                walk % 4,
            ];
            assert!(!(o[0] == 0 && o[1] == 3), "walk {walk} was cancelled");
            assert!(
                !(o[0] == 1 && o[1] == 1 && o[2] == 1),
                "walk {walk} failed otherwise"
            );
            assert!(!(o[2] == 2 && o[3] == 1), "walk {walk} has the cause");
        }
    }
}

#[test]
fn a_partial_filter_removes_walks_from_the_analysis_as_a_whole_walk_filter_does() {
    // a=2 with c=3 fails; the filter removes the walks with a=2 and b=1.
    let bug = |w: &[u32]| (w[0] == 2 && w[2] == 3).then(|| "2 and 3".to_string());
    let removed =
        |walk: &Walk| walk.param::<u32>(0) == Some(&2) && walk.param::<u32>(1) == Some(&1);
    let whole = knobs(bug).filter(move |walk| !removed(walk)).run().unwrap();
    let partial = knobs(bug)
        .partial_filter(
            move |walk| match (walk.param::<u32>(0), walk.param::<u32>(1)) {
                (Some(_), Some(_)) => Some(!removed(walk)),
                _ => None,
            },
        )
        .run()
        .unwrap();
    assert_eq!(
        (partial.walk_count, partial.skipped_count),
        (whole.walk_count, whole.skipped_count)
    );
    // Every walk with a=2, b other than 1 and c=3 ran and failed: exact causes, beside the
    // suspicion a=2 with c=3 (its walks with b=1 did not run).
    assert_eq!(
        causes(only_group(&whole)),
        [
            "a(2) ∧ c(3)",
            "a(2) ∧ b(0) ∧ c(3)",
            "a(2) ∧ b(2) ∧ c(3)",
            "a(2) ∧ b(3) ∧ c(3)"
        ]
    );
    assert_eq!(
        causes(only_group(&partial)),
        causes(only_group(&whole)),
        "{partial}"
    );
    assert_eq!(only_group(&partial).causes, only_group(&whole).causes);
}

#[test]
fn confirming_suspects_leaves_out_the_walks_a_partial_filter_removed() {
    // The triple a=b=c=1 fails; a covering array runs one of its walks, and the filter
    // removes the one with d=3, which confirming the suspect must not count as run.
    let run = |partial: bool| {
        let run = knobs(|c| (c[0] == 1 && c[1] == 1 && c[2] == 1).then(|| "triple".into()))
            .covering(2)
            .must_include(vec![1.into(), 1.into(), 1.into(), 0.into()])
            .confirm_causes(40);
        let removed = |walk: &Walk| {
            [0, 1, 2].iter().all(|&p| walk.param::<u32>(p) == Some(&1))
                && walk.param::<u32>(3) == Some(&3)
        };
        let run = if partial {
            run.partial_filter(move |walk: &Walk| {
                walk.param::<u32>(3).is_some().then(|| !removed(walk))
            })
        } else {
            run.filter(move |walk: &Walk| !removed(walk))
        };
        run.run().unwrap()
    };
    let (whole, partial) = (run(false), run(true));
    let verdicts = |report: &Report<Choices>| {
        report
            .groups
            .iter()
            .map(|g| format!("{:?}", g.causes))
            .collect::<Vec<_>>()
    };
    assert!(!whole.groups.is_empty(), "{whole}");
    assert_eq!(verdicts(&partial), verdicts(&whole), "{partial}");
}

#[test]
fn a_filtered_run_counts_exactly_the_walks_that_ran_in_its_causes_and_heat_maps() {
    // a=1 with c=2 fails. The filter removes the walks with b=0 and every fifth walk from
    // id 2, and the second run also leaves out ids 141-149: fewer walks did not run than
    // did, so the analysis counts those that did not and subtracts. What it reports must
    // be what counting the walks that ran gives.
    let removed = |id: u64, options: &[usize]| options[1] == 0 || id % 5 == 2;
    let bug = |c: &[u32]| (c[0] == 1 && c[2] == 2).then(|| "1 and 2".to_string());
    let walk_options = |id: u64| (0..4).rev().map(move |p| (id >> (2 * p)) as usize % 4);
    for (walks, selected) in [(None, 0..256u64), (Some("0-140,150-255"), 141..150)] {
        let in_selection = |id: u64| walks.is_none() || !selected.contains(&id);
        let mut run = knobs(bug).filter(move |walk| {
            let options: Vec<usize> = (0..4).map(|p| walk.option_index(p)).collect();
            !removed(walk.id(), &options)
        });
        if let Some(walks) = walks {
            run = run.walks(walks);
        }
        let report = run.run().unwrap();
        let ran: Vec<Vec<usize>> = (0..256u64)
            .filter(|&id| in_selection(id))
            .map(|id| (id, walk_options(id).collect::<Vec<usize>>()))
            .filter(|(id, options)| !removed(*id, options))
            .map(|(_, options)| options)
            .collect();
        assert_eq!(report.walk_count, ran.len() as u64, "{walks:?}");
        assert!(256 - report.walk_count < report.walk_count, "{report}");
        let group = only_group(&report);
        assert!(!group.causes.is_empty(), "{report}");
        for cause in &group.causes {
            let with_it = ran
                .iter()
                .filter(|options| {
                    cause
                        .choices
                        .iter()
                        .all(|c| options[c.position] == c.option)
                })
                .count() as u64;
            assert_eq!(
                cause.in_group + cause.in_others,
                with_it,
                "{walks:?}: {cause}"
            );
        }
        assert!(!report.heat_maps.is_empty());
        for map in &report.heat_maps {
            let (p, q) = (map.rows.position, map.columns.position);
            let mut expected = vec![vec![0u64; 4]; 4];
            for options in &ran {
                expected[options[p]][options[q]] += 1;
            }
            assert_eq!(map.ran, expected, "{walks:?}: {p} x {q}");
        }
    }
}

/// Fails at `b` when `a` chose 2 and `b` chose 3; `c` comes after and never runs then.
fn early_failure() -> Combtest<Choices> {
    let step = |name: &'static str| {
        Action::new(
            name,
            || 0..4u32,
            move |n: u32, choices: &mut Choices, _: &()| {
                choices.push(n);
                if choices[..] == [2, 3] {
                    return Err("b refuses 3 after 2".to_string());
                }
                Ok(())
            },
        )
    };
    Combtest::new(Vec::new())
        .then(step("a"))
        .then(step("b"))
        .then(step("c"))
}

#[test]
fn a_choice_after_the_failing_action_is_never_part_of_a_cause() {
    // Every walk ran: the pair is exact, as before.
    let whole = early_failure().run().unwrap();
    assert_eq!(causes(only_group(&whole)), ["a(2) ∧ b(3)"]);
    // One of its walks replayed (a(2) b(3) c(1), walk 2*16 + 3*4 + 1): `c(1)` never ran, so
    // no cause names it, as an exact triple naming the walk itself would. No walk outside the
    // group ran, so nothing is suspected either.
    let replayed = early_failure().walks("45").run().unwrap();
    assert_eq!(replayed.error_count, 1);
    assert!(only_group(&replayed).causes.is_empty(), "{replayed}");
    let text = replayed.to_string();
    assert!(
        text.contains("no causes named: a selection of walks ran"),
        "{text}"
    );
    // Beside walks that passed, the pair is an exact cause (all four of its walks ran), and
    // nothing with `c` is named.
    let some = early_failure().walks("40-47").run().unwrap();
    let group = only_group(&some);
    assert!(!group.causes.is_empty(), "{some}");
    assert!(
        group
            .causes
            .iter()
            .all(|c| c.choices.iter().all(|ch| ch.action != "c")),
        "{some}"
    );
    let pair = group.causes.iter().find(|c| c.to_string() == "a(2) ∧ b(3)");
    assert!(
        pair.is_some_and(|c| c.exact),
        "all its walks ran and failed: {some}"
    );
    let text = some.to_string();
    assert!(
        text.contains("causes not marked exact are suspicions"),
        "{text}"
    );
    // The HTML page says it alike.
    let html = combtest::report_html(&some);
    assert!(
        html.contains("<p class=\"note\">Causes not marked exact are suspicions: a selection"),
        "{html}"
    );
}

#[test]
fn a_one_thread_run_says_one_thread() {
    let report = early_failure().walks("45").threads(1).run().unwrap();
    let text = report.to_string();
    assert!(text.contains("(64 walks in the space, 1 thread)"), "{text}");
    let html = combtest::report_html(&report);
    assert!(html.contains("Group 1: 1 walk, "), "{html}");
}

#[test]
fn the_report_ends_with_the_run_folder_and_its_replay_command() {
    let dir = common_scratch("report-order");
    let step = |name: &'static str| {
        Action::new(
            name,
            || 0..3u32,
            move |n: u32, choices: &mut Choices, _: &()| {
                choices.push(n);
                match choices[..] {
                    [0] => cancel!("0 first is out of scope"),
                    [1, 2] => Err("b refuses 2 after 1".to_string()),
                    _ => Ok(()),
                }
            },
        )
    };
    let report = Combtest::new(Vec::new())
        .then(step("a"))
        .then(step("b"))
        .log_dir(&dir)
        .run()
        .unwrap();
    let text = report.to_string();
    let cancelled = text.find("\n\ncancelled:").expect("cancels are listed");
    let folder = text
        .find("\n\nrun folder: ")
        .expect("the run folder is named");
    assert!(cancelled < folder, "{text}");
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("replay its failed walks: COMBTEST_REPLAY="),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scratch folder under the target directory, for one test.
fn common_scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[action(options = [0, 1, 2])]
fn scope(n: u32, _: &mut Vec<u32>) {
    if n == 0 {
        cancel!("scope 0 is out of scope");
    }
}

#[action(options = [0, 1, 2])]
fn brake(n: u32, _: &mut Vec<u32>) -> Result<(), String> {
    if n == 2 {
        return Err("brake 2 broke".into());
    }
    Ok(())
}

#[test]
fn a_walk_cancelled_before_a_choice_says_nothing_about_it() {
    // Walk scope(0) brake(2) is cancelled before `brake` runs: every walk that ran brake(2)
    // failed, so brake(2) alone is the exact cause.
    let report = combtest! {
        order: [scope, brake],
        state: Vec::new(),
        panic_on_failure: false,
    };
    assert_eq!((report.error_count, report.cancel_count), (2, 3));
    let group = only_group(&report);
    assert_eq!(causes(group), ["brake(2)"], "{report}");
    assert!(group.causes[0].exact, "{report} {:?}", group.causes[0]);
    assert_eq!(
        (group.causes[0].in_group, group.causes[0].in_others),
        (2, 0)
    );
    assert_eq!(group.unexplained, 0);
}

#[action(options = [0, 1, 2])]
fn first_bug(n: u32, _: &mut Vec<u32>) -> Result<(), String> {
    if n == 2 {
        return Err("first refuses 2".into());
    }
    Ok(())
}

#[test]
fn a_walk_failed_earlier_by_another_bug_says_nothing_about_the_choices_after() {
    // Walk first_bug(2) brake(2) fails at `first_bug` and never runs brake(2): every walk
    // that ran brake(2) failed there, so brake(2) alone is the exact cause of that group (not
    // first_bug(0) ∧ brake(2) and first_bug(1) ∧ brake(2)).
    let report = combtest! {
        order: [first_bug, brake],
        state: Vec::new(),
        panic_on_failure: false,
    };
    assert_eq!(report.error_count, 3 + 2);
    let group = report
        .groups
        .iter()
        .find(|g| g.action == "brake")
        .expect("the group of brake(2)");
    assert_eq!(causes(group), ["brake(2)"], "{report}");
    assert!(group.causes[0].exact, "{report}");
    assert_eq!(group.unexplained, 0);
}
