//! Candidate scripts: one by form, many by CSV or ZIP (all or nothing),
//! attachments served only to those allowed, and the papers API.

use std::io::{Cursor, Write};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::*;

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    for (name, data) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    out.into_inner()
}

async fn bulk(c: &Client, paper: uuid::Uuid, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    c.post_multipart(&format!("/papers/{paper}/scripts/bulk"), form).await
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

#[tokio::test]
async fn a_csv_of_scripts_is_uploaded_with_multi_line_responses() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let csv = "candidate,question,response\n0001,01,\"Source A shows anger.\nSource B is propaganda, \"\"rosy\"\".\"\n0001,02,Collectivisation...\n0002,01,Short answer\n";
    let r = bulk(&admin, paper, csv.into(), "scripts.csv").await;
    assert_eq!(r.status(), 303);
    let page = admin.text(&format!("/papers/{paper}")).await;
    assert!(page.contains("2 scripts with 3 responses uploaded."), "{page}");
    let text: String = sqlx::query_scalar(
        "SELECT r.text FROM responses r JOIN scripts s ON s.id = r.script_id JOIN questions q ON q.id = r.question_id
         WHERE s.candidate = '0001' AND q.number = '01'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(text, "Source A shows anger.\nSource B is propaganda, \"rosy\".");

    let script: uuid::Uuid = sqlx::query_scalar("SELECT id FROM scripts WHERE candidate = '0001'").fetch_one(&app.db.pool).await.unwrap();
    let page = admin.text(&format!("/papers/{paper}/scripts/{script}")).await;
    assert!(page.contains("Candidate 0001") && page.contains("Source A shows anger."));
    assert!(page.contains("Next script"));
}

#[tokio::test]
async fn one_bad_row_rejects_the_whole_file() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let cases: [(&str, &str); 4] = [
        ("candidate,question,response\n0001,01,fine\n0002,07,no such question\n", "Row 3: question 07 is not on this paper"),
        (
            "candidate,question,response\n0001,01,fine\n0001,01,twice\n",
            "Row 3: candidate 0001 already has a response to question 01 (row 2)",
        ),
        ("candidate,question,response\n0001,01,fine\nJane Smith,01,a name\n", "Row 3: &#34;Jane Smith&#34; is not a candidate number"),
        ("name,answer\nx,y\n", "Row 1: the header must be"),
    ];
    for (csv, expected) in cases {
        let r = bulk(&admin, paper, csv.into(), "s.csv").await;
        assert_eq!(r.status(), 422, "{csv}");
        let body = r.text().await.unwrap();
        assert!(body.contains("Nothing was saved"), "{body}");
        assert!(body.contains(expected) || body.contains(&expected.replace("&#34;", "&quot;")), "{expected}: {body}");
    }
    assert_eq!(app.count("scripts").await, 0);
    assert_eq!(app.count("responses").await, 0);

    // A candidate already on the paper is a duplicate, and nothing of the file is saved.
    assert_eq!(bulk(&admin, paper, "candidate,question,response\n0001,01,first\n".into(), "a.csv").await.status(), 303);
    let r = bulk(&admin, paper, "candidate,question,response\n0009,01,new\n0001,02,again\n".into(), "b.csv").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Candidate 0001 already has a script on this paper"));
    assert_eq!(app.count("scripts").await, 1);
}

#[tokio::test]
async fn a_zip_of_typed_and_scanned_answers_and_its_attachments() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let zip = zip_of(&[("0001/01.txt", b"Typed answer"), ("0001/02.pdf", PDF), ("0002/01.png", PNG)]);
    let r = bulk(&admin, paper, zip, "scripts.zip").await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.count("attachments").await, 2);

    let (pdf_id, script): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT a.id, r.script_id FROM attachments a JOIN responses r ON r.attachment_id = a.id WHERE a.content_type = 'application/pdf'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let page = admin.text(&format!("/papers/{paper}/scripts/{script}")).await;
    assert!(page.contains(&format!("/attachments/{pdf_id}")));

    let r = admin.get(&format!("/attachments/{pdf_id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["content-disposition"], "inline; filename=\"0001-02.pdf\"");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    // Not for examiners, and not for anyone signed out.
    app.user("eve@board.example", "Eve", false, PASSWORD).await;
    let eve = app.client();
    eve.sign_in("eve@board.example", PASSWORD).await;
    assert_eq!(eve.get(&format!("/attachments/{pdf_id}")).await.status(), 403);
    assert_eq!(app.client().get(&format!("/attachments/{pdf_id}")).await.status(), 303);
    assert_eq!(admin.get(&format!("/attachments/{}", uuid::Uuid::new_v4())).await.status(), 404);
}

#[tokio::test]
async fn dangerous_zips_are_refused_and_nothing_is_saved() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let traversal = zip_of(&[("0001/01.txt", b"fine"), ("../../etc/passwd", b"root:x:0:0")]);
    let r = bulk(&admin, paper, traversal, "evil.zip").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("outside the ZIP"));

    // A ZIP bomb: 11 MB of one letter, compressed to a few kilobytes.
    let mut out = Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    w.start_file("0001/01.txt", zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)).unwrap();
    w.write_all(&vec![b'a'; 11 * 1024 * 1024]).unwrap();
    w.finish().unwrap();
    let r = bulk(&admin, paper, out.into_inner(), "bomb.zip").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("MB"));

    let liar = zip_of(&[("0001/01.pdf", b"MZ this is an executable")]);
    let r = bulk(&admin, paper, liar, "liar.zip").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("checked by its content"));
    assert_eq!(app.count("scripts").await, 0);
    assert_eq!(app.count("attachments").await, 0);
}

#[tokio::test]
async fn one_script_through_the_form() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    assert!(admin.text(&format!("/papers/{paper}/scripts/new")).await.contains("Question 03"));
    let form = Form::new()
        .text("candidate", "A17")
        .text("text.01", "The sources differ in tone.")
        .part("file.03", Part::bytes(PNG.to_vec()).file_name("q3.png"));
    let r = admin.post_multipart(&format!("/papers/{paper}/scripts"), form).await;
    assert_eq!(r.status(), 303);
    let page = admin.text(&location(&r)).await;
    assert!(page.contains("Script of candidate A17 saved."));
    assert!(page.contains("The sources differ in tone.") && page.contains("<img class=\"scan\""));

    let form = Form::new().text("candidate", "A18").part("file.01", Part::bytes(b"GIF89a".to_vec()).file_name("x.pdf"));
    let r = admin.post_multipart(&format!("/papers/{paper}/scripts"), form).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("is not a PDF, PNG or JPEG"));
    let r = admin.post_multipart(&format!("/papers/{paper}/scripts"), Form::new().text("candidate", "A17").text("text.01", "again")).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("already has a script"));
    assert_eq!(app.count("scripts").await, 1);
}

#[tokio::test]
async fn the_papers_api_for_exam_board_systems() {
    let app = spawn_app().await;
    let ada = app.user("ada@board.example", "Ada", true, PASSWORD).await;
    let api = app.api(&app.token_for(&ada).await);

    // Import: the document in, the parsed paper out.
    let r = api.http.post(app.url("/api/v1/papers/import")).bearer_auth(&api.token).body(SAMPLE_PAPER).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut scheme: Value = r.json().await.unwrap();
    assert_eq!(scheme["questions"].as_array().unwrap().len(), 3);
    let r = api
        .http
        .post(app.url("/api/v1/papers/import"))
        .bearer_auth(&api.token)
        .body("Paper X1\n\n01 Explain. (12 marks)\n\nLevel 2: unreadable\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["details"][0].as_str().unwrap().starts_with("line "), "{body}");
    // What was read comes back with the problems, each on the question whose lines it is in.
    assert_eq!(
        (body["paper"]["questions"][0]["number"].as_str(), body["paper"]["questions"][0]["max_mark"].as_i64()),
        (Some("01"), Some(12))
    );
    assert_eq!(body["paper"]["questions"][0]["problems"][0]["line"], 3, "{body}");
    assert_eq!(body["problems"][0]["line"], 3);

    // Create it from the same JSON plus the board (round trip).
    scheme["board"] = json!("AQA");
    let r = api.post_json("/api/v1/papers", &scheme).await;
    assert_eq!(r.status(), 201);
    let paper: Value = r.json().await.unwrap();
    let id = paper["id"].as_str().unwrap().to_owned();
    assert_eq!(paper["board"], "AQA");
    assert!(paper["questions"][0]["id"].is_string());
    assert_eq!(api.post_json("/api/v1/papers", &scheme).await.status(), 409, "board, code and series are unique");

    let list: Value = api.get("/api/v1/papers").await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let got: Value = api.get(&format!("/api/v1/papers/{id}")).await.json().await.unwrap();
    assert_eq!(got["questions"][1]["levels"][5]["min"], 22);
    assert_eq!(api.get(&format!("/api/v1/papers/{}", uuid::Uuid::new_v4())).await.status(), 404);

    // Invalid bands: 422 naming the question.
    let mut bad = scheme.clone();
    bad["paper"]["series"] = json!("June 2099");
    bad["questions"][0]["levels"][2]["max"] = json!(5);
    let r = api.post_json("/api/v1/papers", &bad).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["details"].to_string().contains("Question 01"), "{body}");

    // Scripts.
    let script =
        json!({"candidate": "0001", "responses": [{"question": "01", "text": "An answer"}, {"question": "02", "text": "Another"}]});
    let r = api.post_json(&format!("/api/v1/papers/{id}/scripts"), &script).await;
    assert_eq!(r.status(), 201);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["candidate"], "0001");
    assert_eq!(saved["responses"].as_array().unwrap().len(), 2);
    assert!(saved["responses"][0]["id"].is_string());
    assert_eq!(saved["responses"][1]["question"], "02");
    assert_eq!(api.post_json(&format!("/api/v1/papers/{id}/scripts"), &script).await.status(), 409);
    let unknown = json!({"candidate": "0002", "responses": [{"question": "99", "text": "x"}]});
    let r = api.post_json(&format!("/api/v1/papers/{id}/scripts"), &unknown).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("question 99 is not on this paper"));

    // Examiners' tokens are refused.
    let eve = app.user("eve@board.example", "Eve", false, PASSWORD).await;
    let eve_api = app.api(&app.token_for(&eve).await);
    assert_eq!(eve_api.get("/api/v1/papers").await.status(), 403);
    assert_eq!(eve_api.post_json("/api/v1/papers", &scheme).await.status(), 403);
    assert_eq!(eve_api.post_json(&format!("/api/v1/papers/{id}/scripts"), &script).await.status(), 403);
}

#[tokio::test]
async fn an_oversized_script_upload_is_refused_with_413_and_saves_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let mut csv = b"candidate,question,response\n0001,01,".to_vec();
    csv.extend(std::iter::repeat_n(b'a', 21 * 1024 * 1024));
    let r = bulk(&admin, paper, csv, "huge.csv").await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("larger than"));
    assert_eq!(app.count("scripts").await, 0);
}
