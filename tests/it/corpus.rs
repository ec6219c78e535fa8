//! Conformance against the boards' own mark-scheme documents. They are the
//! boards' copyright, so they stay outside the repository and are read at run
//! time from `STANDARDISE_CORPUS` (by default the fixtures
//! folder beside the repository, named once in `corpus()`). Without them these tests say so in one line and
//! skip, unless `STANDARDISE_CORPUS_REQUIRED=1` (set by CI), when they fail.

use std::path::PathBuf;

use serde_json::Value;
use standardise::markscheme::{Question, QuestionKind, Scheme, parse, validate};

/// The folder of real documents, or `None` (after one line saying why) when
/// it is absent and not required.
pub(crate) fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("STANDARDISE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/markschemes"));
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var("STANDARDISE_CORPUS_REQUIRED").is_ok_and(|v| v == "1");
    assert!(!required, "STANDARDISE_CORPUS_REQUIRED=1 but no mark-scheme corpus at {} (set STANDARDISE_CORPUS)", dir.display());
    eprintln!("skipped: no mark-scheme corpus at {} (set STANDARDISE_CORPUS to the boards' documents)", dir.display());
    None
}

/// One document of the corpus, or `None` when the corpus is absent.
fn document(name: &str) -> Option<String> {
    let path = corpus()?.join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

const AQA_HIS2L: &str = "aqa-his2l-jan2011.md";

/// (level, min, max) triples of a question.
fn bands(q: &Question) -> Vec<(i32, i32, i32)> {
    q.levels.iter().map(|l| (l.level, l.min, l.max)).collect()
}

/// (number, max_mark, kind) of every question.
fn summary(s: &Scheme) -> Vec<(String, i32, QuestionKind)> {
    s.questions.iter().map(|q| (q.number.clone(), q.max_mark, q.kind)).collect()
}

/// Parses a document that must be read without any problem and must validate.
fn clean(text: &str) -> Scheme {
    let p = parse(text);
    assert!(p.problems.is_empty(), "unexpected problems: {:#?}", p.problems);
    let errs = validate(&p.scheme);
    assert!(errs.is_empty(), "validation errors: {:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
    p.scheme
}

const B12: [(i32, i32, i32); 5] = [(0, 0, 0), (1, 1, 2), (2, 3, 6), (3, 7, 9), (4, 10, 12)];
const B24: [(i32, i32, i32); 6] = [(0, 0, 0), (1, 1, 6), (2, 7, 11), (3, 12, 16), (4, 17, 21), (5, 22, 24)];

#[test]
fn reference_document_exact() {
    let Some(text) = document(AQA_HIS2L) else { return };
    let s = clean(&text);
    assert_eq!(s.paper.code, "HIS2L");
    assert_eq!(s.paper.title, "The Impact of Stalin's Leadership in the USSR, 1924–1941");
    assert_eq!(s.paper.series, "January 2011");
    assert_eq!(s.paper.board, "AQA");
    let expect: [(&str, i32, &[&str]); 6] = [
        ("01", 12, &["AO2(a)"]),
        ("02", 24, &["AO1(b)", "AO2(a)", "AO2(b)"]),
        ("03", 12, &["AO1(a)", "AO1(b)"]),
        ("04", 24, &["AO1(a)", "AO1(b)", "AO2(b)"]),
        ("05", 12, &["AO1(a)", "AO1(b)"]),
        ("06", 24, &["AO1(a)", "AO1(b)", "AO2(b)"]),
    ];
    assert_eq!(s.questions.len(), 6);
    for (q, (num, max, targets)) in s.questions.iter().zip(expect) {
        assert_eq!(q.number, num);
        assert_eq!(q.max_mark, max, "question {num}");
        assert_eq!(q.targets, targets, "question {num}");
        assert_eq!(q.kind, QuestionKind::Levels);
        assert_eq!(bands(q), if max == 12 { B12.to_vec() } else { B24.to_vec() }, "question {num}");
        assert_eq!(q.levels[0].descriptor, "Nothing written worthy of credit.", "question {num}");
        for l in &q.levels {
            assert!(!l.descriptor.contains("**") && !l.descriptor.contains('<') && !l.descriptor.contains('\t'), "{num}: {}", l.descriptor);
            assert!(!l.descriptor.is_empty());
        }
        assert!(q.indicative_content.starts_with("**Note: This content is not prescriptive"), "{num}");
        assert!(!q.indicative_content.lines().any(|l| l.trim() == "---"), "{num}: page breaks left in");
        assert!(!q.prompt.contains("marks)") && !q.prompt.contains("**"), "{num}: {}", q.prompt);
        assert!(!q.indicative_content.contains("Question 2") && !q.indicative_content.contains("Question 3"), "{num}");
    }
    let q1 = &s.questions[0];
    assert_eq!(
        q1.prompt,
        "Use Sources A and B and your own knowledge.\n\nExplain how far the views in Source B differ from those in Source A in relation to attitudes towards the Soviet regime, in the late 1920s."
    );
    assert!(
        q1.levels[1].descriptor.starts_with("Answers will either briefly paraphrase/describe the content of the two sources or identify")
    );
    assert!(q1.levels[4].descriptor.ends_with("show good skills of written communication."));
    assert!(s.questions[1].levels[5].descriptor.starts_with("Answers will be well-focused and closely argued."));
    assert_eq!(
        s.questions[2].prompt,
        "Explain why, in the years 1924 to 1929, the Right Opposition was unable to prevent Stalin's rise to power."
    );
    assert!(s.questions[5].prompt.ends_with("Explain why you agree or disagree with this view."));
    assert!(s.questions[5].indicative_content.ends_with("requires good use of evidence and a substantiated judgement."));
    assert!(s.questions[0].indicative_content.contains("problem, if anything the reverse."));
    assert!(s.guidance.starts_with("## Generic Introduction for AS"));
    assert!(s.guidance.contains("Criteria for deciding marks within a level:"));
    assert!(s.guidance.trim_end().ends_with("- The conclusion"));
    let src = s.questions[0].source.unwrap_or_default();
    assert!(src.start >= 80 && src.end > src.start, "{src:?}");
    // The JSON the importer prints reads back as the same scheme.
    let json = serde_json::to_string(&s).unwrap_or_default();
    assert_eq!(serde_json::from_str::<Scheme>(&json).ok(), Some(s));
}

#[test]
fn the_command_line_prints_the_reference_scheme_exactly() {
    let Some(dir) = corpus() else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_standardise"))
        .args(["markscheme", "parse"])
        .arg(dir.join(AQA_HIS2L))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["paper"]["code"], "HIS2L");
    assert_eq!(json["paper"]["series"], "January 2011");
    assert_eq!(json["questions"].as_array().map(Vec::len), Some(6));
    assert!(json["guidance"].as_str().unwrap().contains("Deciding on a level"));
}

#[test]
fn oxfordaqa_generic_grid_applies_to_every_question() {
    let Some(text) = document("oxfordaqa-igcse-english-literature-9275-2a-nov2022.md") else { return };
    let s = clean(&text);
    assert_eq!((s.paper.code.as_str(), s.paper.series.as_str(), s.paper.board.as_str()), ("9275/2A", "November 2022", "OxfordAQA"));
    let want: Vec<(String, i32, QuestionKind)> =
        ["01", "02", "03", "04"].iter().map(|n| (n.to_string(), 30, QuestionKind::Levels)).collect();
    assert_eq!(summary(&s), want);
    for q in &s.questions {
        // Printed top-down in the document, stored ascending.
        assert_eq!(bands(q), vec![(0, 0, 0), (1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20), (5, 21, 25), (6, 26, 30)]);
        assert!(q.indicative_content.starts_with("Examiners are encouraged to reward any valid interpretations."));
    }
    assert!(s.questions[0].levels[6].descriptor.starts_with("Convincing,critical analysis and exploration"));
    assert!(s.questions[2].prompt.contains("How does the poet present the view from Westminster Bridge?"));
}

#[test]
fn wjec_band_grids_per_ao() {
    let Some(text) = document("wjec-gcse-history-unit1-modern-sam-section-a.md") else { return };
    let p = parse(&text);
    let s = &p.scheme;
    let got = summary(s);
    assert_eq!(
        got[1..],
        [
            ("2".to_string(), 10, QuestionKind::AoBands),
            ("3a".into(), 5, QuestionKind::Levels),
            ("3b".into(), 15, QuestionKind::AoBands),
            ("4a".into(), 5, QuestionKind::Levels)
        ]
    );
    let q2 = &s.questions[1];
    assert!(q2.levels.is_empty());
    assert_eq!(q2.ao_bands.iter().map(|g| g.targets.clone()).collect::<Vec<_>>(), vec![vec!["AO1".to_string()], vec!["AO2".to_string()]]);
    for g in &q2.ao_bands {
        assert_eq!(g.levels.iter().map(|l| (l.level, l.min, l.max)).collect::<Vec<_>>(), (0..=5).map(|i| (i, i, i)).collect::<Vec<_>>());
    }
    let q3b = &s.questions[3];
    let maxima: Vec<i32> = q3b.ao_bands.iter().map(|g| g.levels.iter().map(|l| l.max).max().unwrap_or(0)).collect();
    assert_eq!(maxima, vec![5, 10]);
    assert_eq!(bands(&s.questions[2]), (0..=5).map(|i| (i, i, i)).collect::<Vec<_>>());
    assert_eq!(s.questions[2].targets, vec!["AO1"]);
    // Question 1 has no mark in the mark-scheme table, and question 4b's heading is an
    // image, so its grid lands in 4a: both are reported, not guessed.
    assert!(p.problems.iter().any(|pr| pr.line == 148 && pr.message.contains("no maximum mark")), "{:?}", p.problems);
    assert!(p.problems.iter().any(|pr| pr.line == 319 && pr.message.contains("second mark grid")), "{:?}", p.problems);
    let errs = validate(s);
    assert!(errs.iter().all(|e| e.question.as_deref() == Some("1")), "{errs:?}");
}

#[test]
fn geography_fragment_points_and_levels() {
    let Some(text) = document("aqa-gcse-geography-8035-3-jun2020-fragment.md") else { return };
    let p = parse(&text);
    assert_eq!((p.scheme.paper.code.as_str(), p.scheme.paper.series.as_str()), ("8035/3", "June 2020"));
    let got = summary(&p.scheme);
    assert_eq!(
        got[..4],
        [
            ("01.1".to_string(), 1, QuestionKind::Points),
            ("01.2".into(), 1, QuestionKind::Points),
            ("01.3".into(), 4, QuestionKind::Levels),
            ("01.4".into(), 2, QuestionKind::Points)
        ]
    );
    assert_eq!(bands(&p.scheme.questions[2]), vec![(0, 0, 0), (1, 1, 2), (2, 3, 4)]);
    assert!(p.scheme.questions[2].indicative_content.starts_with("- There is a positive relationship"));
    // 01.5 says "1 mark for identification ...; 2nd mark for developed idea": not recognised, so reported.
    assert_eq!(p.problems.iter().map(|pr| pr.line).collect::<Vec<_>>(), vec![91]);
}

#[test]
fn biology_fragment_levels_without_printed_total() {
    let Some(text) = document("aqa-gcse-biology-8461-1f-jun2023-fragment.md") else { return };
    let p = parse(&text);
    assert_eq!(p.scheme.paper.code, "8461/1F");
    let q = &p.scheme.questions[0];
    assert_eq!((q.number.as_str(), q.max_mark, q.kind), ("01.1", 6, QuestionKind::Levels));
    assert_eq!(bands(q), vec![(0, 0, 0), (1, 1, 2), (2, 3, 4), (3, 5, 6)]);
    assert!(q.levels[3].descriptor.starts_with("Relevant points (reasons / causes) are identified, given in detail"));
    assert_eq!(p.scheme.questions[2].max_mark, 1);
    // 01.2's mark sits after a stray "Total Question 7" row: reported, not guessed.
    assert!(p.problems.iter().any(|pr| pr.line == 58), "{:?}", p.problems);
}

#[test]
fn every_corpus_document_parses_without_panicking() {
    let Some(dir) = corpus() else { return };
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md" || e == "txt") && path.file_name().is_some_and(|n| n != "README.md") {
            let p = parse(&std::fs::read_to_string(&path).unwrap());
            assert!(!p.scheme.questions.is_empty(), "{}: no questions read", path.display());
            let _ = validate(&p.scheme);
            read += 1;
        }
    }
    assert!(read >= 5, "expected the corpus's documents in {}", dir.display());
}
