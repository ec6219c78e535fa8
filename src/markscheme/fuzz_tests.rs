//! Property tests: parse() and validate() must never panic, whatever the input.

use super::*;
use proptest::prelude::*;

const SAMPLE: &str = include_str!("../../tests/fixtures/markschemes/standardise-sample-history.md");

/// One random edit applied to the reference document.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    InsertLine(usize, String),
    DeleteChar(usize),
    InsertChar(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<String>()).prop_map(|(i, s)| Edit::InsertLine(i, s)),
        (
            any::<usize>(),
            prop::sample::select(vec![
                "L3: 7–9",
                "Level 2 (3–",
                "**Question 9****",
                "(24 m",
                "| 1 | 2-1 | x |",
                "0|1",
                "Target: AO9(z)",
                "—",
                "é",
                "😀"
            ])
        )
            .prop_map(|(i, s)| Edit::InsertLine(i, s.to_string())),
        any::<usize>().prop_map(Edit::DeleteChar),
        (any::<usize>(), prop_oneof![any::<char>(), Just('–'), Just('*'), Just('\t'), Just('|'), Just('€')])
            .prop_map(|(i, c)| Edit::InsertChar(i, c)),
    ]
}

/// Applies edits on char/line indices so multi-byte text is never split.
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::InsertLine(i, s) => lines.insert(i % (lines.len() + 1), s.clone()),
            Edit::DeleteChar(i) | Edit::InsertChar(i, _) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                let mut chars: Vec<char> = line.chars().collect();
                let at = i / n % (chars.len() + 1);
                match e {
                    Edit::InsertChar(_, c) => chars.insert(at, *c),
                    _ if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => {}
                }
                *line = chars.into_iter().collect();
            }
            _ => {}
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let p = parse(&s);
        let _ = validate(&p.scheme);
        prop_assert!(!p.problems.is_empty() || !p.scheme.questions.is_empty());
    }

    #[test]
    fn mutated_sample_never_panics(start in 0usize..220, len in 20usize..140, edits in prop::collection::vec(edit(), 1..24)) {
        // A random window of the sample paper keeps each case cheap in debug builds
        // while the windows together still cover the whole document.
        let window: Vec<&str> = SAMPLE.lines().skip(start % 200).take(len).collect();
        let text = apply(&window.join("\n"), &edits);
        let p = parse(&text);
        let _ = validate(&p.scheme);
        for pr in &p.problems {
            prop_assert!(pr.line >= 1);
        }
    }

    #[test]
    fn mixed_fragments_never_panic(parts in prop::collection::vec(prop_oneof![
        any::<String>(),
        Just("Question 1".to_string()), Just("01 Explain (12 marks)".to_string()),
        Just("Level 3 (7–9 marks)".to_string()), Just("| Band | AO1 | AO2 |".to_string()),
        Just("| 5 marks • x | 9-10 marks • y | 5 |".to_string()), Just("Indicative content".to_string()),
        Just("1 mark for each valid point, up to 4".to_string()), Just("L0: 0".to_string()),
    ], 0..40)) {
        let p = parse(&parts.join("\n"));
        let _ = validate(&p.scheme);
    }
}

#[test]
fn empty_and_binary_inputs_give_problems() {
    let p = parse("");
    assert_eq!(p.problems, vec![Problem { line: 1, message: "no questions found: is this a mark scheme?".into() }]);
    let p = parse("\0\u{1}\u{2}PK\u{3}\u{4}\0\0garbage\u{7f}");
    assert_eq!(p.problems.len(), 1);
    assert!(p.clone().into_result().is_err());
    let p = parse("Just a letter to the editor.\nNothing to see here.");
    assert_eq!(p.problems[0].line, 1);
}

#[test]
fn unreadable_things_are_reported_with_lines() {
    let text = "Question 1\nExplain the causes.\nLevel 2 (three to four marks)\nGood.\nLevel 1 1-2 Weak.\nQuestion 2\nDescribe it.\nIndicative content\n- a point";
    let p = parse(text);
    let lines: Vec<usize> = p.problems.iter().map(|p| p.line).collect();
    assert!(lines.contains(&3), "{:?}", p.problems);
    assert!(p.problems.iter().any(|pr| pr.line == 6 && pr.message.contains("no mark bands")), "{:?}", p.problems);
    assert!(p.problems.iter().any(|pr| pr.line == 6 && pr.message.contains("no maximum mark")), "{:?}", p.problems);
}
