//! Importing mark schemes: the command line, the pages (upload → preview →
//! save → edit) and the validation of what is saved.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::*;

#[test]
fn the_command_line_prints_the_sample_scheme_exactly_from_markdown_and_from_word() {
    // The Word and PDF files are the same paper with its level bands in tables, some with the marks cell wrapped ("Marks:" / "7-9").
    for file in ["standardise-sample-history.md", "standardise-sample-history.docx", "standardise-sample-history.pdf"] {
        sample_scheme_read_exactly(file);
    }
}

fn sample_scheme_read_exactly(file: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_standardise"))
        .args(["markscheme", "parse", &format!("tests/fixtures/markschemes/{file}")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["paper"]["code"], "SSH1R");
    assert_eq!(json["paper"]["series"], "June 2026");
    assert_eq!(json["paper"]["title"], "The Railway Age in Britain, 1830–1870");
    assert!(json["guidance"].as_str().unwrap().contains("Deciding on a level"));
    let short = [(0, 0, 0), (1, 1, 2), (2, 3, 6), (3, 7, 9), (4, 10, 12)];
    let long = [(0, 0, 0), (1, 1, 6), (2, 7, 11), (3, 12, 16), (4, 17, 21), (5, 22, 24)];
    let expected: [(&str, i64, &[&str]); 3] =
        [("01", 12, &["AO2(a)"]), ("02", 24, &["AO1(b)", "AO2(a)", "AO2(b)"]), ("03", 24, &["AO1(a)", "AO1(b)", "AO2(b)"])];
    let questions = json["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3);
    for (q, (number, max, targets)) in questions.iter().zip(expected) {
        assert_eq!(q["number"], number);
        assert_eq!(q["max_mark"], max, "{file} {number}");
        assert_eq!(q["targets"], serde_json::json!(targets), "{file} {number}");
        assert_eq!(q["problems"], serde_json::json!([]), "{file} {number}");
        let bands: Vec<(i64, i64, i64)> = q["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["level"].as_i64().unwrap(), l["min"].as_i64().unwrap(), l["max"].as_i64().unwrap()))
            .collect();
        assert_eq!(bands, if max == 12 { short.to_vec() } else { long.to_vec() }, "{file} {number}");
        let content = q["indicative_content"].as_str().unwrap();
        assert!(content.len() > 500, "{number}");
        // The indicative points are bullets in every format (Word list paragraphs included).
        assert!(content.lines().filter(|l| l.starts_with("- ")).count() >= 10, "{file} {number}: {content}");
        assert!(!q["prompt"].as_str().unwrap().contains("marks)"), "{number}");
    }
}

#[test]
fn the_command_line_reports_problems_with_line_numbers_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("ms-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.md");
    std::fs::write(&file, "Paper X1 June 2024\n\n01 Explain why. (12 marks)\n\nLevel 2: a range that cannot be read\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_standardise")).args(["markscheme", "parse"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.md:"), "{stderr}");
    assert!(stderr.lines().all(|l| l.split(':').nth(1).is_some_and(|n| n.parse::<usize>().is_ok())), "every problem has a line: {stderr}");
    // What was read is printed all the same, the problem on its question.
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((json["questions"][0]["number"].as_str(), json["questions"][0]["max_mark"].as_i64()), (Some("01"), Some(12)));
    assert_eq!(json["questions"][0]["problems"][0]["line"], 3, "{json}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Uploads a document on the import page, naming the sample paper's board
/// (the importer recognises only real boards by name).
async fn import(c: &Client, document: &[u8], name: &str) -> reqwest::Response {
    import_as(c, document, name, "Standardise Sample Papers").await
}

async fn import_as(c: &Client, document: &[u8], name: &str, board: &str) -> reqwest::Response {
    let form = Form::new().text("board", board.to_owned()).part("file", Part::bytes(document.to_vec()).file_name(name.to_owned()));
    c.post_multipart("/papers/import", form).await
}

#[tokio::test]
async fn upload_preview_and_save_the_sample_scheme() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let r = import(&admin, SAMPLE_PAPER.as_bytes(), "ssh1r.md").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Check the imported mark scheme"));
    for n in ["01", "02", "03"] {
        assert!(html.contains(&format!("data-question=\"{n}\"")), "question {n} in the preview");
    }
    assert!(html.contains("Document lines"), "source lines beside the form");
    assert!(!html.contains("could not be understood"), "the sample paper reads without problems");
    // The same paper as the board's Word file previews the same, its lines beside the form.
    let docx = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/markschemes/standardise-sample-history.docx")).unwrap();
    let word = import(&admin, &docx, "ssh1r.docx").await.text().await.unwrap();
    assert!(word.contains("Check the imported mark scheme") && !word.contains("could not be understood"), "{word}");
    let marks = |page: &str| -> Vec<(String, String)> {
        form_fields(page, "paper-form")
            .into_iter()
            .filter(|(k, _)| k.ends_with("max_mark") || k.ends_with(".min") || k.ends_with(".max"))
            .collect()
    };
    assert!(marks(&html).len() > 3 * 5);
    assert_eq!(marks(&word), marks(&html), "every question's total and bands as from the Markdown");

    let fields = form_fields(&html, "paper-form");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw("/papers", &pairs).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let paper_url = location(&r);
    let page = admin.text(&paper_url).await;
    assert!(page.contains("Standardise Sample Papers SSH1R: The Railway Age in Britain"), "{page}");
    assert!(page.contains("SSH1R June 2026 saved with 3 questions."), "{page}");
    assert!(page.contains("22–24") && page.contains("10–12"));

    let bands: i64 = app.count("level_bands").await;
    assert_eq!(bands, 5 + 2 * 6);
    let source: Option<String> = sqlx::query_scalar("SELECT source_document FROM papers").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(source.as_deref(), Some(SAMPLE_PAPER), "the board's document is kept");

    // The same paper again is refused: board, code and series are unique.
    let r = admin.post_raw("/papers", &pairs).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already exists"));
    assert_eq!(app.count("papers").await, 1);
}

#[tokio::test]
async fn a_scheme_with_overlapping_or_missing_bands_is_not_saved() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let html = import(&admin, SAMPLE_PAPER.as_bytes(), "ssh1r.md").await.text().await.unwrap();
    let mut fields = form_fields(&html, "paper-form");
    // Question 01: level 2 now ends at 5, leaving mark 6 in no band.
    set_field(&mut fields, "q0.g0.b2.max", "5");
    // Question 02: level 3 starts at 10, overlapping level 2.
    set_field(&mut fields, "q1.g0.b3.min", "10");
    set_field(&mut fields, "code", "");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw("/papers", &pairs).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("The paper was not saved"));
    assert!(body.contains("Question 01, level"), "names the question and band: {body}");
    assert!(body.contains("Question 02, level"), "{body}");
    assert!(body.contains("Enter the paper&#39;s code") || body.contains("Enter the paper"), "{body}");
    assert_eq!(app.count("papers").await, 0);
    assert_eq!(app.count("questions").await, 0);
    // The edits are kept in the form for correcting.
    assert!(body.contains("name=\"q0.g0.b2.max\" value=\"5\""));
}

#[tokio::test]
async fn bad_documents_get_clear_errors() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    for (doc, expected) in [
        (&b""[..], "The document is empty"),
        (&b"%PDF-1.7\x00\x00binary"[..], "This PDF could not be read"),
        (&b"Minutes of the governors' meeting. Apologies were received."[..], "No questions were found"),
    ] {
        let r = import(&admin, doc, "x.md").await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(body.contains(expected), "{expected}: {body}");
    }
    let huge = vec![b'a'; 50 * 1024 * 1024];
    let r = import(&admin, &huge, "huge.md").await;
    assert_eq!(r.status(), 413);
    assert_eq!(app.count("papers").await, 0);
}

#[tokio::test]
async fn a_paper_can_be_edited_and_questions_with_responses_are_kept() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let id = app.sample_paper().await;
    let html = admin.text(&format!("/papers/{id}/edit")).await;
    let mut fields = form_fields(&html, "paper-form");
    set_field(&mut fields, "title", "Britain's Railway Age");
    set_field(&mut fields, "q0.max_mark", "12");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw(&format!("/papers/{id}"), &pairs).await;
    assert_eq!(r.status(), 303);
    let title: String = sqlx::query_scalar("SELECT title FROM papers WHERE id = $1").bind(id).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(title, "Britain's Railway Age");

    // A question that already has a response cannot be removed.
    let csv = "candidate,question,response\n0001,03,An answer\n";
    let form = Form::new().part("file", Part::bytes(csv.as_bytes().to_vec()).file_name("s.csv"));
    assert_eq!(admin.post_multipart(&format!("/papers/{id}/scripts/bulk"), form).await.status(), 303);
    let mut fields = form_fields(&admin.text(&format!("/papers/{id}/edit")).await, "paper-form");
    fields.push(("q2.remove".into(), "on".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw(&format!("/papers/{id}"), &pairs).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Question 03 cannot be removed"));
    assert_eq!(app.count("questions").await, 3);
}

#[tokio::test]
async fn papers_are_for_administrators() {
    let app = spawn_app().await;
    let id = app.sample_paper().await;
    app.user("eve@board.example", "Eve", false, PASSWORD).await;
    let eve = app.client();
    eve.sign_in("eve@board.example", PASSWORD).await;
    for path in ["/papers".to_owned(), "/papers/import".into(), format!("/papers/{id}"), format!("/papers/{id}/edit")] {
        assert_eq!(eve.get(&path).await.status(), 403, "{path}");
    }
    let r = eve.post_multipart("/papers/import", Form::new().text("text", SAMPLE_PAPER)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.client().get("/papers").await.status(), 303, "anonymous: sign in first");
}

#[tokio::test]
async fn the_json_that_parse_prints_can_be_imported_back_through_the_page() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let mut scheme = serde_json::to_value(standardise::markscheme::parse(SAMPLE_PAPER).into_result().unwrap()).unwrap();
    scheme["board"] = serde_json::json!("AQA");
    let r = import_as(&admin, scheme.to_string().as_bytes(), "ssh1r.json", "").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-question=\"03\"") && html.contains("value=\"AQA\""));
    let fields = form_fields(&html, "paper-form");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(admin.post_raw("/papers", &pairs).await.status(), 303);
    assert_eq!(app.count("questions").await, 3);
}

#[tokio::test]
async fn a_flagged_question_comes_first_and_is_saved_only_once_checked() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let doc = "Paper X1 June 2024\n\n01 Explain why the canal was built. (12 marks)\n\n1 mark for each valid point, up to 12.\n\n\
               02 Assess the canal's effects. (10 marks)\n\nLevel 2: a range that cannot be read\n";
    let html = import(&admin, doc.as_bytes(), "x1.md").await.text().await.unwrap();
    let (first, second) = (html.find("data-question=\"02\"").unwrap(), html.find("data-question=\"01\"").unwrap());
    assert!(first < second, "the flagged question is shown first");
    assert!(html.contains("Check this question") && html.contains("no mark bands found for question 02"));

    // Saved as it is: refused, with the form and its flag kept.
    let mut fields = form_fields(&html, "paper-form");
    for (k, v) in fields.iter_mut() {
        match k.as_str() {
            "board" => *v = "Standardise Sample Papers".into(),
            "code" | "title" if v.is_empty() => *v = "X1".into(),
            _ => {}
        }
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw("/papers", &pairs).await;
    assert_eq!(r.status(), 422);
    let again = r.text().await.unwrap();
    assert!(again.contains("Question 02 was flagged when the document was read"), "{again}");
    assert!(again.contains("Check this question"), "the flag survives the refusal");
    assert_eq!(app.count("papers").await, 0);

    // A word where a number belongs: refused, and the rest of what was typed comes back.
    let mut typo = fields.clone();
    typo.retain(|(k, _)| !k.ends_with(".flag"));
    for (k, v) in typo.iter_mut() {
        if k.ends_with(".max_mark") && v == "12" {
            *v = "twelve".into();
        }
    }
    let pairs: Vec<(&str, &str)> = typo.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw("/papers", &pairs).await;
    assert_eq!(r.status(), 422);
    let again = r.text().await.unwrap();
    assert!(again.contains("twelve&#34; is not a whole number"), "{again}");
    assert!(again.contains("Explain why the canal was built.") && again.contains("Assess the canal"), "the questions are kept");

    // Fixed (marked by points) and confirmed: saved.
    let index =
        fields.iter().find(|(k, v)| k.ends_with(".number") && v == "02").map(|(k, _)| k.trim_end_matches(".number").to_owned()).unwrap();
    for (k, v) in fields.iter_mut() {
        if *k == format!("{index}.kind") {
            *v = "points".into();
        }
    }
    fields.push((format!("{index}.checked"), "on".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_raw("/papers", &pairs).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert_eq!(app.count("papers").await, 1);
}
