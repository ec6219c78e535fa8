//! The marking loop as examiners work it, in real Chromium at 1366×768:
//! keyboard only, annotations on the answer, Enter that breaks nothing; and
//! annotations seen exactly as marks are (API and pages).

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    browser::{Browser, CONTROL, ENTER, accessibility_problems, chord, press},
    fixture::{MeetingFixture, Person, person},
    helpers::*,
};

/// A meeting of the sample paper with three practice scripts (two questions
/// each, so six responses), two examiners and the PE, open for marking.
struct Loop {
    app: TestApp,
    meeting: Uuid,
    _people: Vec<Person>,
    /// Response ids in marking order.
    responses: Vec<Uuid>,
}

async fn six_responses() -> Loop {
    let app = spawn_app().await;
    let admin = person(&app, "admin@board.example", "Ada Admin", true).await;
    let paper = app.sample_paper().await;
    let csv = "candidate,question,response\n\
               0001,01,Source A shows hostility to the regime. Source B is propaganda from a school book. Both mention kulaks.\n\
               0001,02,Collectivisation created collective farms. It did not create socialism in the countryside.\n\
               0002,01,Both sources talk about peasants. One is happy and one is not.\n\
               0002,02,It was very successful. Production rose.\n\
               0003,01,\"Source A is a secret report, so it is likely to be accurate. Source B was written for children.\"\n\
               0003,02,The kulaks were removed. Famine followed in 1932.\n";
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("s.csv"));
    assert_eq!(admin.web.post_multipart(&format!("/papers/{paper}/scripts/bulk"), form).await.status(), 303);
    let scripts: Vec<(Uuid,)> = sqlx::query_as("SELECT id FROM scripts ORDER BY candidate").fetch_all(&app.db.pool).await.unwrap();
    let pe = person(&app, "pe@board.example", "Priya Principal", false).await;
    let ex1 = person(&app, "ex1@board.example", "Eve Examiner", false).await;
    let ex2 = person(&app, "ex2@board.example", "Ed Examiner", false).await;
    let body = json!({
        "paper_id": paper, "name": "Keyboard meeting", "principal_examiner": "pe@board.example",
        "examiners": ["ex1@board.example", "ex2@board.example"],
        "scripts": scripts.iter().map(|(id,)| json!({"script_id": id, "purpose": "practice"})).collect::<Vec<_>>(),
    });
    let r = admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 201);
    let meeting = Uuid::parse_str(r.json::<Value>().await.unwrap()["id"].as_str().unwrap()).unwrap();
    assert_eq!(pe.api.post_json(&format!("/api/v1/meetings/{meeting}/open"), &json!({})).await.status(), 200);
    let responses: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT r.id FROM meeting_scripts ms JOIN responses r ON r.script_id = ms.script_id JOIN questions q ON q.id = r.question_id
         WHERE ms.meeting_id = $1 ORDER BY ms.position, q.position",
    )
    .bind(meeting)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    Loop { app, meeting, _people: vec![admin, pe, ex1, ex2], responses: responses.into_iter().map(|(r,)| r).collect() }
}

/// Counts keystrokes as a person makes them (a chord such as Ctrl+Enter is one).
struct Keys<'a> {
    b: &'a Browser,
    count: usize,
}

impl Keys<'_> {
    async fn key(&mut self, k: &str) {
        press(self.b, k).await;
        self.count += 1;
    }
    async fn submit(&mut self) {
        chord(self.b, CONTROL, ENTER).await;
        self.count += 1;
    }
    /// The rationale, typed: not counted (the issue counts "keystrokes plus the rationale").
    async fn rationale(&mut self, text: &str) {
        press(self.b, text).await;
    }
}

async fn wait_for_path(b: &Browser, not: &str) -> String {
    for _ in 0..100 {
        let p = b.path().await;
        if p != not {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never left {not}");
}

/// Whether the page has seen any mouse event (the test fails if it has).
async fn mouse_events(b: &Browser) -> i64 {
    b.client.execute("return window.__mouse || 0", vec![]).await.unwrap().as_i64().unwrap_or(0)
}

async fn watch_mouse(b: &Browser) {
    b.client
        .execute(
            "window.__mouse = 0; ['mousedown','mouseup','click','mousemove'].forEach(t => document.addEventListener(t, e => { if (e.isTrusted) window.__mouse++; }, true));",
            vec![],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn five_responses_are_marked_by_keyboard_alone_with_annotations_on_two() {
    let t = six_responses().await;
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&t.app, "ex1@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    b.client.goto(&t.app.url(&format!("/meetings/{}/responses/{}", t.meeting, t.responses[0]))).await.unwrap();
    b.wait_for_text("h1", "Candidate 0001").await;

    // Answer and marking bar are both on screen at 1366×768, without scrolling.
    let visible: Value = b
        .client
        .execute(
            "const on = (el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.height > 0; };
             return { answer: on(document.getElementById('answer-text')), bar: on(document.querySelector('.mark-bar')),
                      submit: on(document.getElementById('submit-mark')), mark: on(document.getElementById('mark')),
                      width: innerWidth, height: innerHeight, scrolled: scrollY };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (visible["answer"].as_bool(), visible["bar"].as_bool(), visible["submit"].as_bool()),
        (Some(true), Some(true), Some(true)),
        "{visible}"
    );
    assert_eq!(visible["mark"], true);
    b.screenshot("marking-page").await;
    let problems = accessibility_problems(&b).await;
    assert!(problems.is_empty(), "marking page: {problems:?}");

    let mut keys = Keys { b: &b, count: 0 };
    let levels = ["3", "2", "4", "1", "3"];
    let mut per_response = Vec::new();
    let mut path = b.path().await;
    for (i, level) in levels.iter().enumerate() {
        watch_mouse(&b).await;
        let before = keys.count;
        keys.key(level).await; // the level; its middle mark is filled in
        if i == 1 {
            // Annotate: select the first sentence and tick it.
            keys.key("]").await;
            keys.key("t").await;
            b.wait_for_text("[data-layer-list=own]", "Tick").await;
        }
        if i == 3 {
            // Annotate: the second sentence earns an objective, the first a comment.
            keys.key("]").await;
            keys.key("]").await;
            keys.key("a").await;
            keys.key("1").await;
            keys.key("[").await;
            keys.key("c").await;
            keys.rationale("Too general").await;
            keys.submit().await; // adds the comment (Ctrl+Enter in the comment box)
            b.wait_for_text("[data-layer-list=own]", "Comment: Too general").await;
        }
        keys.key("r").await;
        keys.rationale(&format!("Rationale for response {}", i + 1)).await;
        keys.submit().await;
        per_response.push(keys.count - before);
        path = wait_for_path(&b, &path).await;
        b.wait_for_text(".flash", "Here is the next response to mark").await;
        assert_eq!(mouse_events(&b).await, 0, "no mouse event");
    }
    assert_eq!(per_response[0], 3, "level, R, Ctrl+Enter: {per_response:?}");
    assert!(per_response.iter().enumerate().filter(|(i, _)| *i != 1 && *i != 3).all(|(_, n)| *n <= 4), "{per_response:?}");
    eprintln!("keystrokes per response (rationale not counted): {per_response:?}");

    let rows: Vec<(Uuid, Option<i32>, i32, String, String, Value)> = sqlx::query_as(
        "SELECT m.response_id, m.level, m.mark, m.state, m.comment, m.annotations FROM marks m JOIN users u ON u.id = m.examiner_id
         WHERE u.email = 'ex1@board.example'",
    )
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.3 == "submitted"), "{rows:?}");
    let of = |i: usize| rows.iter().find(|r| r.0 == t.responses[i]).unwrap().clone();
    assert_eq!((of(0).1, of(0).2), (Some(3), 8), "level 3's middle mark");
    assert_eq!(of(0).4, "Rationale for response 1");
    let ticked = of(1).5;
    assert_eq!(ticked[0]["kind"], "tick");
    assert_eq!((ticked[0]["start"].as_i64(), ticked[0]["end"].as_i64()), (Some(0), Some(42)), "the first sentence: {ticked}");
    let three = of(3).5;
    let kinds: Vec<&str> = three.as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["comment", "ao"], "in passage order: {three}");
    assert_eq!(three[0]["text"], "Too general");
    assert_eq!(three[1]["label"], "AO1(b)", "{three}");
    assert_eq!((three[1]["start"].as_i64(), three[1]["end"].as_i64()), (Some(24), Some(40)), "the second sentence: {three}");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn enter_in_the_mark_box_breaks_nothing() {
    let t = six_responses().await;
    let Some(b) = Browser::start().await else { return };
    // At 768 px wide, as on a small laptop or a tablet: it still works.
    b.client.set_window_size(768, 900).await.unwrap();
    b.sign_in(&t.app, "ex2@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    let page = format!("/meetings/{}/responses/{}", t.meeting, t.responses[0]);
    b.client.goto(&t.app.url(&page)).await.unwrap();
    b.wait_for_text("h1", "Candidate 0001").await;
    let on_screen: Value = b
        .client
        .execute(
            "const r = (id) => document.getElementById(id).getBoundingClientRect();
             return { bar: r('submit-mark').bottom <= innerHeight && r('mark').top >= 0, answer: r('answer-text').top < innerHeight,
                      wide: document.documentElement.scrollWidth <= innerWidth + 1, width: innerWidth };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (on_screen["bar"].as_bool(), on_screen["answer"].as_bool(), on_screen["wide"].as_bool()),
        (Some(true), Some(true), Some(true)),
        "{on_screen}"
    );
    press(&b, "2").await;
    press(&b, "4").await;
    press(&b, ENTER).await;
    b.wait_for_text("#save-status", "Draft saved at").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(b.path().await, page, "Enter did not post the page");
    assert!(b.client.find(Locator::Css("#mark-error")).await.is_err(), "no error");

    // Out of band: refused as typed, the box highlighted and the band named; nothing saved.
    press(&b, "\u{E003}").await; // Backspace
    press(&b, "9").await;
    let range = b.wait_for_text("#mark-range", "outside").await;
    assert!(range.contains("Level 2 allows 3–6: 9 is outside it"), "{range}");
    let invalid = b.client.find(Locator::Css("#mark")).await.unwrap().attr("aria-invalid").await.unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let saved: i32 = sqlx::query_scalar("SELECT mark FROM marks").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!(saved, 4, "the out-of-band 9 was never saved");
    press(&b, "\u{E003}").await;
    press(&b, "5").await;
    press(&b, ENTER).await;
    b.wait_for_text("#mark-range", "Level 2 allows 3–6").await;

    // Everything still works afterwards: the rationale autosaves and Submit moves on.
    press(&b, "r").await;
    press(&b, "Compares tone; little context.").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    b.wait_for_text("#save-status", "Draft saved at").await;
    chord(&b, CONTROL, ENTER).await;
    b.wait_for_text(".flash", "is submitted").await;
    let (mark, state, comment): (i32, String, String) =
        sqlx::query_as("SELECT mark, state, comment FROM marks").fetch_one(&t.app.db.pool).await.unwrap();
    assert_eq!((mark, state.as_str(), comment.as_str()), (5, "submitted", "Compares tone; little context."));
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn two_examiners_annotate_the_pe_sees_both_and_after_release_each_sees_only_the_pes_and_their_own() {
    let f = MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let page = f.app.url(&format!("/meetings/{}/responses/{rid}", f.meeting));
    for (who, keys, comment) in [("ex1@board.example", "]t", "Eve's reasons"), ("ex2@board.example", "]]x", "Ed's reasons")] {
        let Some(b) = Browser::start().await else { return };
        b.sign_in(&f.app, who, PASSWORD).await;
        b.wait_for_text("h1", "Welcome").await;
        b.client.goto(&page).await.unwrap();
        b.wait_for_text("h1", "Candidate 0001").await;
        press(&b, "2").await;
        for k in keys.chars() {
            press(&b, &k.to_string()).await;
        }
        press(&b, "c").await;
        press(&b, comment).await;
        chord(&b, CONTROL, ENTER).await;
        b.wait_for_text("[data-layer-list=own]", comment).await;
        press(&b, "r").await;
        press(&b, "Rationale").await;
        chord(&b, CONTROL, ENTER).await;
        b.wait_for_text(".flash", "is submitted").await;
        b.client.clone().close().await.unwrap();
    }

    // The PE sees both side by side, each examiner in their own colour, and can hide one.
    let Some(pe) = Browser::start().await else { return };
    pe.sign_in(&f.app, "pe@board.example", PASSWORD).await;
    pe.wait_for_text("h1", "Welcome").await;
    pe.client.goto(&page).await.unwrap();
    let list = pe.wait_for_text("#annotations", "Eve Examiner").await;
    assert!(list.contains("Ed Examiner") && list.contains("Eve's reasons") && list.contains("Ed's reasons"), "{list}");
    let stamps = pe.client.find_all(Locator::Css("#answer-text .ann-stamp")).await.unwrap();
    assert_eq!(stamps.len(), 4, "both examiners' stamps are drawn on the answer");
    let colours: Value = pe
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#answer-text .ann-stamp')).map(m => getComputedStyle(m).backgroundColor)",
            vec![],
        )
        .await
        .unwrap();
    let colours: std::collections::BTreeSet<String> = colours.as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert!(colours.len() >= 2, "each examiner in their own colour: {colours:?}");
    pe.screenshot("pe-response-annotations").await;
    let problems = accessibility_problems(&pe).await;
    assert!(problems.is_empty(), "PE response page: {problems:?}");
    let ed: String =
        sqlx::query_scalar("SELECT id::text FROM users WHERE email = 'ex2@board.example'").fetch_one(&f.app.db.pool).await.unwrap();
    pe.click(&format!("input[data-layer-toggle='{ed}']")).await;
    let title: Value = pe
        .client
        .execute("return Array.from(document.querySelectorAll('#answer-text mark.ann')).map(m => m.title).join('|')", vec![])
        .await
        .unwrap();
    assert!(!title.as_str().unwrap().contains("Ed Examiner"), "Ed's layer hidden: {title}");

    // The PE's own annotation goes with the definitive mark; then release.
    press(&pe, "]").await;
    press(&pe, "c").await;
    press(&pe, "The PE's view").await;
    chord(&pe, CONTROL, ENTER).await;
    pe.wait_for_text("[data-layer-list=definitive]", "The PE's view").await;
    pe.click("#definitive-form input[name=level][value='2']").await;
    pe.click("#save-definitive").await;
    pe.wait_for_text(".flash", "Definitive mark for candidate 0001").await;
    pe.client.clone().close().await.unwrap();
    let (other, _, _) = f.responses[1].clone();
    let url = format!("{}{}", f.pe.api.base, f.url(&format!("/responses/{other}/definitive")));
    let d = f.pe.api.http.put(url).bearer_auth(&f.pe.api.token).json(&json!({"level": 2, "mark": 9})).send().await.unwrap();
    assert_eq!(d.status(), 200, "the script's other response");
    assert_eq!(f.post(&f.pe, &format!("/responses/{rid}/release"), json!({})).await.status(), 200);

    for (who, own, other) in
        [("ex1@board.example", "Eve's reasons", "Ed's reasons"), ("ex2@board.example", "Ed's reasons", "Eve's reasons")]
    {
        let Some(b) = Browser::start().await else { return };
        b.sign_in(&f.app, who, PASSWORD).await;
        b.wait_for_text("h1", "Welcome").await;
        b.client.goto(&page).await.unwrap();
        let list = b.wait_for_text("#annotations", "The principal examiner's annotations").await;
        assert!(list.contains(own) && list.contains("The PE's view"), "{who}: {list}");
        assert!(!list.contains(other), "{who} sees another examiner's annotation: {list}");
        let html = b.client.source().await.unwrap();
        assert!(!html.contains(other), "nowhere in the page either");
        b.client.clone().close().await.unwrap();
    }
}

#[tokio::test]
async fn annotations_are_kept_with_the_mark_and_seen_only_by_those_who_may_see_it() {
    let f = MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let put = |who: &Person, body: Value| {
        let url = format!("{}{}", who.api.base, f.url(&format!("/responses/{rid}/mark")));
        who.api.http.put(url).bearer_auth(&who.api.token).json(&body).send()
    };
    let eve = &f.examiners[0];
    let notes = json!([
        {"kind": "tick", "start": 0, "end": 8},
        {"kind": "ao", "start": 9, "end": 14, "label": "ao2(a)"},
        {"kind": "comment", "start": 0, "end": 8, "text": "Names the source"},
    ]);
    let r = put(eve, json!({"level": 2, "mark": 4, "annotations": notes})).await.unwrap();
    assert_eq!(r.status(), 200);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["annotations"][1]["label"], "AO2(a)", "kept in the scheme's spelling");
    assert_eq!(saved["version"], 1);
    let got: Value = f.get(eve, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert_eq!(got["mark"]["annotations"].as_array().unwrap().len(), 3, "GET returns them");

    for (body, why) in [
        (json!([{"kind": "tick", "start": 0, "end": 999}]), "beyond the answer"),
        (json!([{"kind": "ao", "start": 0, "end": 3, "label": "AO9"}]), "an objective the question does not target"),
        (json!([{"kind": "comment", "start": 0, "end": 3}]), "a comment without text"),
        (json!([{"kind": "tick", "page": 1, "x": 0.5, "y": 0.5}]), "a scan position on a typed answer"),
        (json!([{"kind": "smiley", "start": 0, "end": 3}]), "an unknown kind"),
    ] {
        let r = put(eve, json!({"level": 2, "mark": 4, "annotations": body})).await.unwrap();
        assert_eq!(r.status(), 422, "{why}");
    }
    let got: Value = f.get(eve, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert_eq!(got["mark"]["annotations"].as_array().unwrap().len(), 3, "a refused save loses nothing");

    // Another examiner never sees them; the PE does, beside the mark.
    let ed: Value = f.get(&f.examiners[1], &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(!ed.to_string().contains("Names the source"), "{ed}");
    let pe: Value = f.get(&f.pe, &format!("/responses/{rid}")).await.json().await.unwrap();
    let eves = pe["marks"].as_array().unwrap().iter().find(|m| m["email"] == "ex1@board.example").unwrap();
    assert_eq!(eves["annotations"][2]["text"], "Names the source");
    let html = f.examiners[1].web.text(&format!("/meetings/{}/responses/{rid}", f.meeting)).await;
    assert!(!html.contains("Names the source"));
}

#[tokio::test]
async fn a_stamp_is_placed_on_a_scanned_answer() {
    let app = spawn_app().await;
    let admin = person(&app, "admin@board.example", "Ada Admin", true).await;
    let paper = app.sample_paper().await;
    let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scanned-answer.png")).unwrap();
    let zip = {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        w.start_file("0001/01.png", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&png).unwrap();
        w.finish().unwrap();
        out.into_inner()
    };
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(zip).file_name("scans.zip"));
    assert_eq!(admin.web.post_multipart(&format!("/papers/{paper}/scripts/bulk"), form).await.status(), 303);
    let (script, response): (Uuid, Uuid) = sqlx::query_as("SELECT script_id, id FROM responses").fetch_one(&app.db.pool).await.unwrap();
    let pe = person(&app, "pe@board.example", "Priya Principal", false).await;
    let _eve = person(&app, "ex1@board.example", "Eve Examiner", false).await;
    let body = json!({"paper_id": paper, "name": "Scans", "principal_examiner": "pe@board.example", "examiners": ["ex1@board.example"],
                      "scripts": [{"script_id": script, "purpose": "practice"}]});
    let r = admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 201);
    let meeting = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(pe.api.post_json(&format!("/api/v1/meetings/{meeting}/open"), &json!({})).await.status(), 200);

    let Some(b) = Browser::start().await else { return };
    b.sign_in(&app, "ex1@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    b.client.goto(&app.url(&format!("/meetings/{meeting}/responses/{response}"))).await.unwrap();
    b.wait_for_text("h1", "Candidate 0001").await;
    press(&b, "2").await;
    b.click("[data-stamp=tick]").await;
    b.wait_for_text("[data-annotate-hint]", "Click the place on the scan").await;
    b.click("[data-scan-overlay]").await;
    b.wait_for_text("[data-layer-list=own]", "page 1").await;
    assert_eq!(b.client.find_all(Locator::Css(".scan-pin")).await.unwrap().len(), 1, "the stamp is drawn on the scan");
    let mut saved = Value::Null;
    for _ in 0..50 {
        saved = sqlx::query_scalar("SELECT annotations FROM marks").fetch_optional(&app.db.pool).await.unwrap().unwrap_or(Value::Null);
        if saved.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = &saved[0];
    assert_eq!((a["kind"].as_str(), a["page"].as_i64()), (Some("tick"), Some(1)), "{saved}");
    let (x, y) = (a["x"].as_f64().unwrap(), a["y"].as_f64().unwrap());
    assert!((0.4..=0.6).contains(&x) && (0.4..=0.6).contains(&y), "clicked in the middle of the page: {saved}");
    b.client.clone().close().await.unwrap();
}
