//! Error pages keep the navigation and offer a way back (the meeting or paper
//! the failed address is under, the page the request came from, never another
//! site); a bulk upload is refused with every problem of the file at once; the
//! API's errors keep their JSON shape.

use std::io::{Cursor, Write};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::{fixture::MeetingFixture, helpers::*};

/// The main navigation every page of a signed-in person has.
const NAV: &str = "<nav aria-label=\"Main\">";
const GO_BACK: &str = "Go back to the page you came from";

async fn bulk(c: &Client, paper: uuid::Uuid, bytes: Vec<u8>, name: &str) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    c.post_multipart(&format!("/papers/{paper}/scripts/bulk"), form).await
}

/// Posts a form with its CSRF token, as a browser would from the page `referer`.
async fn post_from(c: &Client, path: &str, fields: &[(&str, &str)], referer: &str) -> reqwest::Response {
    let token = c.csrf("/").await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &token)];
    form.extend_from_slice(fields);
    c.http.post(format!("{}{path}", c.base)).header("referer", referer).form(&form).send().await.expect("POST")
}

/// Status, content type and body of a response.
async fn page(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, content_type, r.text().await.expect("body"))
}

#[tokio::test]
async fn a_csv_with_three_bad_rows_lists_all_three_and_saves_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let csv = "candidate,question,response\n\
               0001,01,Fine.\n\
               0001,02,Fine too.\n\
               0002,07,No such question.\n\
               0002,01,Fine.\n\
               ,02,Nobody's answer.\n\
               0003,01,Fine.\n\
               0003,02,\n";
    let (status, content_type, body) = page(bulk(&admin, paper, csv.into(), "scripts.csv").await).await;
    assert_eq!(status, 422);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("Nothing was saved: the file has 3 problems."), "{body}");
    for problem in [
        "<li>Row 4: question 07 is not on this paper (its questions are 01, 02, 03).</li>",
        "<li>Row 6: the candidate number is missing.</li>",
        "<li>Row 8: the response of candidate 0003 to question 02 is empty.</li>",
    ] {
        assert!(body.contains(problem), "{problem}: {body}");
    }
    assert!(body.contains(NAV), "the navigation stays: {body}");
    assert!(body.contains(&format!("<a href=\"/papers/{paper}\">Back to the paper</a>")), "{body}");
    assert_eq!(app.count("scripts").await, 0);
    assert_eq!(app.count("responses").await, 0);

    // A candidate already on the paper is listed with the file's own problems.
    assert_eq!(bulk(&admin, paper, "candidate,question,response\n0001,01,First.\n".into(), "a.csv").await.status(), 303);
    let csv = "candidate,question,response\n0001,02,Again.\n0009,01,\n";
    let (status, _, body) = page(bulk(&admin, paper, csv.into(), "b.csv").await).await;
    assert_eq!(status, 422);
    assert!(body.contains("the file has 2 problems"), "{body}");
    assert!(body.contains("Row 3: the response of candidate 0009 to question 01 is empty."), "{body}");
    assert!(body.contains("Candidate 0001 already has a script on this paper"), "{body}");
    assert_eq!(app.count("scripts").await, 1);

    // Past the first hundred, the rest are counted.
    let mut csv = String::from("candidate,question,response\n");
    for i in 0..150 {
        csv.push_str(&format!("{i:04},99,An answer.\n"));
    }
    let (status, _, body) = page(bulk(&admin, paper, csv.into_bytes(), "c.csv").await).await;
    assert_eq!(status, 422);
    assert!(body.contains("the file has 150 problems"), "{body}");
    assert!(body.contains("Row 101: question 99") && !body.contains("Row 102:"), "{body}");
    assert!(body.contains("…and 50 more problems."), "{body}");
    assert_eq!(app.count("scripts").await, 1);
}

#[tokio::test]
async fn a_zip_with_bad_files_lists_them_all_and_saves_nothing() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let paper = app.sample_paper().await;
    let mut out = Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    let files: [(&str, &[u8]); 4] =
        [("0001/01.txt", b"Fine."), ("0001/07.txt", b"No such question."), ("0002/01.pdf", b"MZ not a PDF"), ("0003/01.exe", b"MZ")];
    for (name, data) in files {
        w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    let (status, _, body) = page(bulk(&admin, paper, out.into_inner(), "scans.zip").await).await;
    assert_eq!(status, 422);
    assert!(body.contains("the file has 3 problems"), "{body}");
    assert!(body.contains("0001/07.txt: question 07 is not on this paper"), "{body}");
    assert!(body.contains("0002/01.pdf: is not really a .pdf file"), "{body}");
    assert!(body.contains("0003/01.exe: .exe files are not accepted"), "{body}");
    assert!(body.contains(NAV), "{body}");
    assert_eq!(app.count("scripts").await, 0);
    assert_eq!(app.count("attachments").await, 0);
}

#[tokio::test]
async fn an_error_after_a_page_form_keeps_the_navigation_and_leads_back_to_the_meeting() {
    let f = MeetingFixture::open().await;
    let m = f.meeting;
    let meeting_page = format!("{}/meetings/{m}", f.pe.web.base);

    // 422: a tolerance that is not a number, posted from the meeting's page.
    let r = post_from(&f.pe.web, &format!("/meetings/{m}/tolerances"), &[("tolerance.02", "three")], &meeting_page).await;
    let (status, content_type, body) = page(r).await;
    assert_eq!(status, 422, "{body}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("must be a whole number of marks"), "{body}");
    assert!(body.contains(NAV) && body.contains("Priya Principal"), "{body}");
    assert!(body.contains(&format!("<a href=\"/meetings/{m}\">Back to the meeting</a>")), "{body}");
    assert!(!body.contains(GO_BACK), "the page it came from is the meeting, offered once: {body}");

    // 409: the meeting is closed, posted from another page of the site.
    assert_eq!(f.pe.api.post_json(&f.url("/close"), &json!({})).await.status(), 200);
    let list = format!("{}/meetings?shown=all", f.pe.web.base);
    let r = post_from(&f.pe.web, &format!("/meetings/{m}/tolerances"), &[("tolerance.02", "4")], &list).await;
    let (status, content_type, body) = page(r).await;
    assert_eq!(status, 409, "{body}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("The meeting is closed: its tolerances are final."), "{body}");
    assert!(body.contains(NAV), "{body}");
    assert!(body.contains(&format!("<a href=\"/meetings/{m}\">Back to the meeting</a>")), "{body}");
    assert!(body.contains(&format!("<a href=\"/meetings?shown=all\">{GO_BACK}</a>")), "{body}");
    assert!(body.contains("<a href=\"/\">Go to the home page</a>"), "{body}");
    assert!(!body.contains(">Sign in<"), "signed in already: {body}");
}

#[tokio::test]
async fn an_off_site_referer_is_not_offered_as_a_link() {
    let f = MeetingFixture::open().await;
    let m = f.meeting;
    let base = f.pe.web.base.clone();
    let path = format!("/meetings/{m}/tolerances");
    for referer in [
        "https://evil.example/meetings".to_owned(),
        format!("http://evil.example@{}/meetings", base.trim_start_matches("http://")),
        format!("{base}//evil.example/meetings"),
        format!("{base}/\\evil.example"),
        "javascript:alert(1)".to_owned(),
    ] {
        let (status, _, body) = page(post_from(&f.pe.web, &path, &[("tolerance.02", "three")], &referer).await).await;
        assert_eq!(status, 422, "{referer}");
        assert!(!body.contains("evil.example") && !body.contains("javascript:"), "{referer}: {body}");
        assert!(!body.contains(GO_BACK), "{referer}: {body}");
        assert!(body.contains("Back to the meeting"), "{referer}: {body}");
    }

    // A page of this site is offered, escaped.
    let referer = format!("{base}/meetings?q=\"><script>alert(1)</script>");
    let (_, _, body) = page(post_from(&f.pe.web, &path, &[("tolerance.02", "three")], &referer).await).await;
    assert!(body.contains(GO_BACK), "{body}");
    assert!(!body.contains("<script>alert(1)"), "{body}");

    // Someone signed out gets the home page and signing in, and no meeting.
    let outsider = f.app.client();
    let r = outsider.http.get(f.app.url("/no/such/page")).header("referer", format!("{base}/login")).send().await.unwrap();
    let (status, _, body) = page(r).await;
    assert_eq!(status, 404);
    assert!(!body.contains(NAV), "{body}");
    assert!(body.contains("<a href=\"/\">Go to the home page</a>") && body.contains("<a href=\"/login\">Sign in</a>"), "{body}");
    assert!(!body.contains(GO_BACK), "the sign-in page is offered once, by its name: {body}");
}

#[tokio::test]
async fn api_errors_keep_their_json_shape() {
    let f = MeetingFixture::open().await;
    assert_eq!(f.pe.api.post_json(&f.url("/close"), &json!({})).await.status(), 200);
    // Even when a Referer comes along, the API answers JSON with no links.
    let r =
        f.pe.api
            .http
            .post(f.app.url(&format!("/api/v1/meetings/{}/close", f.meeting)))
            .bearer_auth(&f.pe.api.token)
            .header("referer", f.app.url(&format!("/meetings/{}", f.meeting)))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = r.json().await.unwrap();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["error", "request_id"], "{body}");
    let error: Vec<&str> = body["error"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(error, ["code", "message"], "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    assert!(body["error"]["message"].as_str().unwrap().contains("this one is closed"), "{body}");

    // A script with one problem: the message is the problem, as it always was ...
    let paper = f.paper;
    let one = json!({"candidate": "0100", "responses": [{"question": "99", "text": "x"}]});
    let r = f.admin.api.post_json(&format!("/api/v1/papers/{paper}/scripts"), &one).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    assert!(body["error"]["message"].as_str().unwrap().contains("question 99 is not on this paper"), "{body}");
    assert!(body["error"].get("details").is_none(), "{body}");
    // ... and with several, the first is the message and the details list them all.
    let two = json!({"candidate": "0100", "responses": [{"question": "98", "text": "x"}, {"question": "99", "text": "y"}]});
    let r = f.admin.api.post_json(&format!("/api/v1/papers/{paper}/scripts"), &two).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("question 98"), "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{body}");
    assert!(details[1].as_str().unwrap().contains("question 99"), "{body}");
}
