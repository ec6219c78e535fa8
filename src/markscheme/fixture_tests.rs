//! Tests against whole documents of the project's own: the sample history
//! paper (laid out as the boards lay out levels-of-response schemes) and the
//! invented fixtures in other layouts. The boards' real documents are checked
//! by the corpus test in `tests/it/corpus.rs`, which reads them at run time.

use super::*;

const SAMPLE: &str = include_str!("../../tests/fixtures/markschemes/standardise-sample-history.md");
const OCR_STYLE: &str = include_str!("../../tests/fixtures/markschemes/invented-ocr-style-lighthouses.md");
const PEARSON_STYLE: &str = include_str!("../../tests/fixtures/markschemes/invented-pearson-style-reservoirs.md");
const PLAIN_TEXT: &str = include_str!("../../tests/fixtures/markschemes/invented-plain-text-kitchen-science.txt");

/// (level, min, max) triples of a question.
fn bands(q: &Question) -> Vec<(i32, i32, i32)> {
    q.levels.iter().map(|l| (l.level, l.min, l.max)).collect()
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
fn sample_document_exact() {
    let s = clean(SAMPLE);
    assert_eq!((s.paper.code.as_str(), s.paper.series.as_str()), ("SSH1R", "June 2026"));
    assert_eq!(s.paper.title, "The Railway Age in Britain, 1830–1870");
    let expect: [(&str, i32, &[&str]); 3] =
        [("01", 12, &["AO2(a)"]), ("02", 24, &["AO1(b)", "AO2(a)", "AO2(b)"]), ("03", 24, &["AO1(a)", "AO1(b)", "AO2(b)"])];
    assert_eq!(s.questions.len(), 3);
    for (q, (num, max, targets)) in s.questions.iter().zip(expect) {
        assert_eq!((q.number.as_str(), q.max_mark, q.kind), (num, max, QuestionKind::Levels));
        assert_eq!(q.targets, targets, "question {num}");
        assert_eq!(bands(q), if max == 12 { B12.to_vec() } else { B24.to_vec() }, "question {num}");
        for l in &q.levels {
            assert!(!l.descriptor.is_empty() && !l.descriptor.contains("**") && !l.descriptor.contains('<'), "{num}: {}", l.descriptor);
        }
        assert!(q.indicative_content.starts_with("**Note: This content is illustrative, not prescriptive."), "{num}");
        assert!(!q.indicative_content.lines().any(|l| l.trim() == "---"), "{num}: page breaks left in");
        assert!(!q.prompt.contains("marks)") && !q.prompt.contains("**"), "{num}: {}", q.prompt);
    }
    assert!(s.questions[0].prompt.starts_with("Use Sources A and B and your own knowledge."));
    assert!(s.questions[2].prompt.starts_with("'The Railway Mania of the 1840s did more harm than good.'"));
    assert!(s.questions[2].indicative_content.contains("answers to Question 01"), "a question number inside content stays content");
    assert!(s.guidance.starts_with("## General Introduction to the Levels of Response"));
    assert!(s.guidance.contains("Criteria for deciding marks within a level:"));
}

#[test]
fn sample_round_trips_through_json() {
    let s = clean(SAMPLE);
    let json = serde_json::to_string(&s).unwrap_or_default();
    assert!(json.contains("\"max_mark\":12") && json.contains("\"kind\":\"levels\""));
    let back: Result<Scheme, _> = serde_json::from_str(&json);
    assert_eq!(back.ok(), Some(s));
    // Hand-written JSON without the optional fields is accepted too.
    let hand = r#"{"paper":{"code":"X1","title":"t","series":"s"},"guidance":"","questions":[{"number":"01","prompt":"p","max_mark":2,"targets":[],"levels":[{"level":0,"min":0,"max":0,"descriptor":""},{"level":1,"min":1,"max":2,"descriptor":"d"}],"indicative_content":""}]}"#;
    let s: Scheme = serde_json::from_str(hand).unwrap_or_default();
    assert_eq!(s.questions.len(), 1);
    assert!(validate(&s).is_empty());
}

#[test]
fn band_lookup_helpers() {
    let s = clean(SAMPLE);
    let q = &s.questions[1];
    assert_eq!(q.band_for(13).map(|l| l.level), Some(3));
    assert!(q.allowed(0) && q.allowed(24) && !q.allowed(25) && !q.allowed(-1));
}

#[test]
fn invented_ocr_style() {
    let s = clean(OCR_STYLE);
    assert_eq!((s.paper.code.as_str(), s.paper.series.as_str(), s.paper.board.as_str()), ("Y999/01", "June 2031", "OCR"));
    assert_eq!(s.paper.title, "The Lighthouse Keepers of the Northern Coast, 1820–1890");
    let nums: Vec<(&str, i32, QuestionKind)> = s.questions.iter().map(|q| (q.number.as_str(), q.max_mark, q.kind)).collect();
    assert_eq!(nums, vec![("1(a)", 4, QuestionKind::Points), ("1(b)", 10, QuestionKind::Levels), ("2", 20, QuestionKind::Levels)]);
    assert!(s.questions[0].levels.is_empty() && s.questions[0].allowed(3));
    assert_eq!(bands(&s.questions[1]), vec![(0, 0, 0), (1, 1, 2), (2, 3, 5), (3, 6, 8), (4, 9, 10)]);
    assert_eq!(s.questions[1].targets, vec!["AO2", "AO3"]);
    assert!(s.questions[1].levels[4].descriptor.ends_with("rather than keepers alone."), "multi-paragraph descriptor");
    assert_eq!(bands(&s.questions[2]), vec![(0, 0, 0), (1, 1, 4), (2, 5, 8), (3, 9, 12), (4, 13, 16), (5, 17, 20)]);
    assert_eq!(s.questions[2].levels[0].descriptor, "no response or no response worthy of credit.");
    assert!(s.questions[2].prompt.starts_with("‘Steam tenders"));
    assert!(s.questions[0].indicative_content.starts_with("- trimming the lamp wicks"));
}

#[test]
fn invented_pearson_style() {
    let s = clean(PEARSON_STYLE);
    assert_eq!((s.paper.code.as_str(), s.paper.title.as_str()), ("9ZZ0/02", "Rivers, Reservoirs and Resilience"));
    assert_eq!((s.paper.series.as_str(), s.paper.board.as_str()), ("Summer 2032", "Pearson Edexcel"));
    let nums: Vec<(&str, i32, QuestionKind)> = s.questions.iter().map(|q| (q.number.as_str(), q.max_mark, q.kind)).collect();
    assert_eq!(nums, vec![("1(a)", 2, QuestionKind::Points), ("1(b)", 4, QuestionKind::Levels), ("2", 12, QuestionKind::Levels)]);
    assert_eq!(bands(&s.questions[1]), vec![(0, 0, 0), (1, 1, 2), (2, 3, 4)]);
    assert_eq!(bands(&s.questions[2]), vec![(0, 0, 0), (1, 1, 4), (2, 5, 8), (3, 9, 12)]);
    assert_eq!(s.questions[2].levels[0].descriptor, "No rewardable material.");
    assert!(s.questions[2].levels[3].descriptor.starts_with("Makes a balanced assessment"));
    assert_eq!(s.questions[2].targets, vec!["AO3", "AO4"]);
}

#[test]
fn invented_plain_text() {
    let s = clean(PLAIN_TEXT);
    assert_eq!(
        (s.paper.code.as_str(), s.paper.title.as_str(), s.paper.series.as_str()),
        ("KSC3", "Food Preservation and Storage", "Autumn 2029")
    );
    let nums: Vec<(&str, i32, QuestionKind)> = s.questions.iter().map(|q| (q.number.as_str(), q.max_mark, q.kind)).collect();
    assert_eq!(nums, vec![("1", 4, QuestionKind::Points), ("2", 9, QuestionKind::Levels), ("3", 15, QuestionKind::Levels)]);
    assert_eq!(bands(&s.questions[1]), vec![(0, 0, 0), (1, 1, 3), (2, 4, 6), (3, 7, 9)]);
    assert_eq!(bands(&s.questions[2]), vec![(0, 0, 0), (1, 1, 3), (2, 4, 6), (3, 7, 9), (4, 10, 12), (5, 13, 15)]);
    assert_eq!(
        s.questions[1].levels[3].descriptor,
        "A detailed explanation that links the drawing out of water to the slowing of microbial growth, with accurate use of terms."
    );
    assert_eq!(
        s.questions[2].levels[5].descriptor,
        "A thorough evaluation reaching a justified conclusion, weighing texture, nutrients, cost and convenience."
    );
    assert_eq!(
        s.questions[1].prompt,
        "Explain why salting was an effective way of preserving fish before refrigeration was widely available."
    );
    assert!(s.guidance.starts_with("GENERAL MARKING GUIDANCE"));
}

#[test]
fn a_total_not_printed_is_taken_from_the_top_band_and_flagged() {
    let p = parse("Paper X1 June 2024\n\n01 Explain why the canal was built.\n\nL1: describes 1-3\nL2: explains 4-6\n");
    assert_eq!(p.scheme.questions[0].max_mark, 6);
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert_eq!(p.problems[0].line, 3);
    assert!(p.problems[0].message.contains("no total printed for question 01: taken as 6"), "{}", p.problems[0].message);
}

#[test]
fn a_number_alone_is_a_question_only_in_sequence_with_a_prompt_and_a_total() {
    let doc = "Paper X1 June 2024\n\n1\n\nExplain why the canal was built.\n(6 marks)\n\nL1: describes 1-3\nL2: explains 4-6\n\n\
               7\n\nMore indicative content after a page number.\n\n2\n\nAssess its effects.\n(6 marks)\n\nL1: describes 1-3\nL2: explains 4-6\n\n\
               3\n\nL1: a band numbered alone\n";
    let p = parse(doc);
    let numbers: Vec<(&str, i32)> = p.scheme.questions.iter().map(|q| (q.number.as_str(), q.max_mark)).collect();
    assert_eq!(numbers, vec![("1", 6), ("2", 6)], "page number 7 and the lone 3 above a band are not questions");
    assert_eq!(p.scheme.questions[0].prompt, "Explain why the canal was built.");
}

#[test]
fn targets_printed_once_for_a_group_of_questions_apply_to_each() {
    let doc = "Paper X1 June 2024\n\nQuestions 1–2: Assessment objectives AO1, AO2\n\n\
               01 Explain why the canal was built. (6 marks)\n\nL1: describes 1-3\nL2: explains 4-6\n\n\
               02 Explain why it closed. (6 marks)\n\nL1: describes 1-3\nL2: explains 4-6\n\n\
               03 Assess its effects. (6 marks)\n\nTarget: AO3\n\nL1: describes 1-3\nL2: explains 4-6\n";
    let p = parse(doc);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let targets: Vec<Vec<String>> = p.scheme.questions.iter().map(|q| q.targets.clone()).collect();
    assert_eq!(targets, vec![vec!["AO1", "AO2"], vec!["AO1", "AO2"], vec!["AO3"]]);
}
