//! How much of each mark scheme the importer reads exactly, measured against
//! structures written by hand (`tests/fixtures/conformance/*.json`): for every
//! question, its maximum mark, targets and level bands (or per-AO grids). The
//! project's own fixtures must be read exactly in every format; for the boards'
//! documents (read at run time, see `corpus.rs`) the figures are printed, and
//! the test fails if fewer questions are read exactly, or more are read wrongly
//! without a flag, than recorded below (a ratchet: raise it as the reader improves).
//!
//! `cargo test --test it conformance -- --nocapture` prints the table.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use standardise::papers::import::read_document;

/// What became of one expected question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Maximum mark, targets and bands all as written by hand.
    Exact,
    /// Not exact, and the importer said so (a problem on the question or the paper).
    Flagged,
    /// Not exact, and nothing said: the failure that matters.
    Silent,
}

/// A question number without brackets, spaces or leading zeros, so "1(a)" and
/// "1a", "01" and "1" meet (a re-set paper may number "Question 1" what the
/// original boxes as "01").
fn key(number: &str) -> String {
    let bare: String = number.chars().filter(|c| !"() ".contains(*c)).collect();
    let trimmed = bare.trim_start_matches('0');
    if trimmed.is_empty() { bare } else { trimmed.to_owned() }
}

fn triples(levels: &Value) -> Value {
    Value::Array(levels.as_array().into_iter().flatten().map(|l| json!([l["level"], l["min"], l["max"]])).collect())
}

/// The parts compared, in the hand-written layout.
fn shape(q: &Value) -> Value {
    let ao_bands: Vec<Value> =
        q["ao_bands"].as_array().into_iter().flatten().map(|g| json!({"targets": g["targets"], "bands": triples(&g["levels"])})).collect();
    json!({"max_mark": q["max_mark"], "targets": q["targets"], "bands": triples(&q["levels"]), "ao_bands": ao_bands})
}

fn expected_shape(q: &Value) -> Value {
    json!({"max_mark": q["max_mark"], "targets": q["targets"], "bands": q["bands"], "ao_bands": q["ao_bands"]})
}

/// Reads one document and grades each expected question; the lines say what differs.
fn grade(path: &Path, expected: &[Value]) -> (Vec<Outcome>, Vec<String>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report = match read_document(&bytes) {
        Ok(imported) => imported.report(),
        Err(message) => json!({"questions": [], "problems": [message]}),
    };
    let got = report["questions"].as_array().cloned().unwrap_or_default();
    let paper_flagged = report["problems"].as_array().is_some_and(|p| !p.is_empty());
    let mut outcomes = Vec::new();
    let mut notes = Vec::new();
    for want in expected {
        let number = want["number"].as_str().unwrap_or_default();
        let found = got.iter().find(|q| q["number"].as_str().is_some_and(|n| key(n) == key(number)));
        let outcome = match found {
            Some(q) if shape(q) == expected_shape(want) => Outcome::Exact,
            Some(q) => {
                notes.push(format!("  {number}: read {} — expected {}", shape(q), expected_shape(want)));
                if q["problems"].as_array().is_some_and(|p| !p.is_empty()) || paper_flagged { Outcome::Flagged } else { Outcome::Silent }
            }
            None => {
                notes.push(format!("  {number}: not read"));
                if paper_flagged || got.iter().any(|q| q["problems"].as_array().is_some_and(|p| !p.is_empty())) {
                    Outcome::Flagged
                } else {
                    Outcome::Silent
                }
            }
        };
        outcomes.push(outcome);
    }
    (outcomes, notes)
}

/// Every expected-structure file with the documents it describes.
fn cases(corpus: Option<&Path>) -> Vec<(String, PathBuf, Vec<Value>, bool)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/conformance")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let questions = spec["questions"].as_array().cloned().unwrap_or_default();
        if let Some(docs) = spec["documents"].as_array() {
            for d in docs.iter().filter_map(Value::as_str) {
                out.push((d.rsplit('/').next().unwrap_or(d).to_owned(), root.join(d), questions.clone(), true));
            }
        } else if let (Some(dir), Some(d)) = (corpus, spec["document"].as_str()) {
            out.push((d.to_owned(), dir.join(d), questions, false));
        }
    }
    out
}

/// Reached on the boards' documents (docs/conformance.md): exact questions at least, silent misreadings at most.
const BOARDS_EXACT_AT_LEAST: usize = 21;
const BOARDS_SILENT_AT_MOST: usize = 0;

#[test]
fn conformance_of_the_importer() {
    let corpus = crate::corpus::corpus();
    let mut table = vec![format!("{:<62} {:>9} {:>5} {:>7} {:>6}", "document", "questions", "exact", "flagged", "silent")];
    let (mut own, mut boards) = ([0usize; 4], [0usize; 4]);
    let mut failures = Vec::new();
    for (name, path, expected, is_own) in cases(corpus.as_deref()) {
        let (outcomes, notes) = grade(&path, &expected);
        let count = |o| outcomes.iter().filter(|x| **x == o).count();
        let row = [outcomes.len(), count(Outcome::Exact), count(Outcome::Flagged), count(Outcome::Silent)];
        table.push(format!("{name:<62} {:>9} {:>5} {:>7} {:>6}", row[0], row[1], row[2], row[3]));
        table.extend(notes.iter().cloned());
        let totals = if is_own { &mut own } else { &mut boards };
        for (t, r) in totals.iter_mut().zip(row) {
            *t += r;
        }
        if is_own && row[1] != row[0] {
            failures.push(format!("{name}: the project's own fixture is not read exactly\n{}", notes.join("\n")));
        }
        if is_own && row[3] > 0 {
            failures.push(format!("{name}: {} question(s) read wrongly without a flag\n{}", row[3], notes.join("\n")));
        }
    }
    table.push(format!("{:<62} {:>9} {:>5} {:>7} {:>6}", "total, own fixtures (all formats)", own[0], own[1], own[2], own[3]));
    if corpus.is_some() {
        table.push(format!("{:<62} {:>9} {:>5} {:>7} {:>6}", "total, boards' documents", boards[0], boards[1], boards[2], boards[3]));
    }
    println!("{}", table.join("\n"));
    if corpus.is_some() {
        if boards[1] < BOARDS_EXACT_AT_LEAST {
            failures
                .push(format!("boards' documents: {} questions exact, fewer than the {BOARDS_EXACT_AT_LEAST} reached before", boards[1]));
        }
        if boards[3] > BOARDS_SILENT_AT_MOST {
            failures.push(format!("boards' documents: {} questions misread without a flag, more than {BOARDS_SILENT_AT_MOST}", boards[3]));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
