//! A question marked on separate grids per assessment objective (WJEC's
//! AO1/AO2 bands) is marked per objective end to end: the API, the marking
//! page, the definitive mark, the dashboard's comparison of totals and the
//! exports.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{fixture::person, helpers::*};

/// A paper with one levels question and one marked per objective:
/// AO1 on 0 / 1–2 / 3–4 and AO2 on 0 / 1–3 / 4–6, ten marks in all.
fn paper() -> Value {
    let band = |level: i32, min: i32, max: i32| json!({"level": level, "min": min, "max": max, "descriptor": format!("Band {level}")});
    json!({
        "paper": {"code": "HIST1", "title": "Per-objective history", "series": "June 2026"},
        "board": "WJEC",
        "questions": [
            {"number": "1", "max_mark": 4, "targets": ["AO1"], "kind": "levels",
             "levels": [band(0, 0, 0), band(1, 1, 2), band(2, 3, 4)]},
            {"number": "2", "max_mark": 10, "targets": ["AO1", "AO2"], "kind": "ao_bands",
             "prompt": "How far was the General Strike a failure?",
             "ao_bands": [
                 {"targets": ["AO1"], "levels": [band(0, 0, 0), band(1, 1, 2), band(2, 3, 4)]},
                 {"targets": ["AO2"], "levels": [band(0, 0, 0), band(1, 1, 3), band(2, 4, 6)]},
             ]},
        ],
    })
}

struct PerAo {
    app: TestApp,
    meeting: Uuid,
    pe: crate::fixture::Person,
    examiners: Vec<crate::fixture::Person>,
    admin: crate::fixture::Person,
    /// The response to question 2 of candidate 0001.
    response: Uuid,
}

async fn per_ao_meeting() -> PerAo {
    let app = spawn_app().await;
    let admin = person(&app, "admin@board.example", "Ada Admin", true).await;
    let pe = person(&app, "pe@board.example", "Priya Principal", false).await;
    let examiners =
        vec![person(&app, "ex1@board.example", "Eve Examiner", false).await, person(&app, "ex2@board.example", "Ed Examiner", false).await];
    let r = admin.api.post_json("/api/v1/papers", &paper()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let paper: Value = r.json().await.unwrap();
    let paper_id = paper["id"].as_str().unwrap().to_owned();
    let r = admin
        .api
        .post_json(
            &format!("/api/v1/papers/{paper_id}/scripts"),
            &json!({"candidate": "0001", "responses": [{"question": "1", "text": "An answer."},
                                                      {"question": "2", "text": "The strike collapsed after nine days, but..."}]}),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let script: Value = r.json().await.unwrap();
    let script_id = script["id"].as_str().or(script["script_id"].as_str()).unwrap().to_owned();
    let body = json!({
        "paper_id": paper_id,
        "name": "Per-objective meeting",
        "principal_examiner": "pe@board.example",
        "examiners": ["ex1@board.example", "ex2@board.example"],
        "scripts": [{"script_id": script_id, "purpose": "practice"}],
    });
    let r = admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let meeting: Value = r.json().await.unwrap();
    let meeting = Uuid::parse_str(meeting["id"].as_str().unwrap()).unwrap();
    assert_eq!(pe.api.post_json(&format!("/api/v1/meetings/{meeting}/open"), &json!({})).await.status(), 200);
    let response: Uuid = sqlx::query_scalar(
        "SELECT r.id FROM responses r JOIN questions q ON q.id = r.question_id JOIN scripts s ON s.id = r.script_id
         WHERE s.candidate = '0001' AND q.number = '2'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    PerAo { app, meeting, pe, examiners, admin, response }
}

impl PerAo {
    async fn put(&self, who: &crate::fixture::Person, path: &str, body: Value) -> reqwest::Response {
        let url = format!("{}/api/v1/meetings/{}/responses/{}{path}", who.api.base, self.meeting, self.response);
        who.api.http.put(url).bearer_auth(&who.api.token).json(&body).send().await.unwrap()
    }
}

#[tokio::test]
async fn a_per_objective_question_is_marked_per_objective_through_the_api_the_page_and_the_dashboard() {
    let t = per_ao_meeting().await;
    let (eve, ed) = (&t.examiners[0], &t.examiners[1]);

    // The API: a level and mark per objective; the mark is their sum.
    let parts = json!([{"ao": "AO1", "level": 2, "mark": 3}, {"ao": "AO2", "level": 1, "mark": 2}]);
    let r = t.put(eve, "/mark", json!({"parts": parts, "mark": 6})).await;
    assert_eq!(r.status(), 422, "a total that is not the parts' sum is refused");
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("add up to 5, but the mark sent is 6"), "{e}");
    let r = t.put(eve, "/mark", json!({"level": 2, "mark": 5})).await;
    assert_eq!(r.status(), 422, "one level for the whole question is refused");
    let r = t.put(eve, "/mark", json!({"parts": [{"ao": "AO1", "level": 2, "mark": 3}]})).await;
    assert_eq!(r.status(), 422, "every objective needs its part");
    let r = t.put(eve, "/mark", json!({"parts": [{"ao": "AO1", "level": 1, "mark": 3}, {"ao": "AO2", "level": 1, "mark": 2}]})).await;
    assert_eq!(r.status(), 422, "each part's mark lies in its level's band");
    let r = t.put(eve, "/mark", json!({"parts": parts, "comment": "Knows the events; weak on significance.", "submit": true})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["mark"], 5);
    assert_eq!(saved["level"], Value::Null);
    assert_eq!(saved["parts"], parts);
    let got: Value = t.put_get(eve).await;
    assert_eq!(got["mark"]["parts"], parts, "GET returns the parts");

    // The page: one grid per objective, each with its own level and mark.
    let page_path = format!("/meetings/{}/responses/{}", t.meeting, t.response);
    let html = ed.web.text(&page_path).await;
    assert!(html.contains("AO1 level 2 · 3–4 marks") && html.contains("AO2 level 1 · 1–3 marks"), "both grids are offered");
    let mut fields = form_fields(&html, "mark-form");
    assert!(fields.iter().any(|(k, v)| k == "part-ao-1" && v == "AO2"));
    // The form as a browser sends it: one radio button per grid, the chosen one.
    fields.retain(|(k, _)| !k.starts_with("part-level-") && k != "level");
    fields.push(("part-level-0".into(), "1".into()));
    set_field(&mut fields, "part-mark-0", "2");
    fields.push(("part-level-1".into(), "2".into()));
    set_field(&mut fields, "part-mark-1", "9");
    fields.push(("action".into(), "submit".into()));
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = ed.web.post_raw(&format!("{page_path}/mark"), &form).await;
    assert_eq!(r.status(), 422, "a part outside its band is refused on the page");
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains("Level 2 of AO2 (question 2) allows marks 4 to 6; 9 is outside it."),
        "the page says why: {}",
        refused.lines().filter(|l| l.contains("error-message")).collect::<String>()
    );
    set_field(&mut fields, "part-mark-1", "5");
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = ed.web.post_raw(&format!("{page_path}/mark"), &form).await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let (mark, stored): (i32, Value) =
        sqlx::query_as("SELECT m.mark, m.parts FROM marks m JOIN users u ON u.id = m.examiner_id WHERE u.email = 'ex2@board.example'")
            .fetch_one(&t.app.db.pool)
            .await
            .unwrap();
    assert_eq!((mark, stored), (7, json!([{"ao": "AO1", "level": 1, "mark": 2}, {"ao": "AO2", "level": 2, "mark": 5}])));
    let html = ed.web.text(&page_path).await;
    assert!(html.contains("AO1 L1 2 · AO2 L2 5"), "the submitted mark shows its parts");

    // The definitive mark, per objective too; the dashboard compares totals.
    let r = t
        .put(
            &t.pe,
            "/definitive",
            json!({"parts": [{"ao": "AO1", "level": 2, "mark": 4}, {"ao": "AO2", "level": 2, "mark": 4}], "rationale": "r"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let def: Value = r.json().await.unwrap();
    assert_eq!(def["mark"], 8);
    let stats: Value = t.pe.api.get(&format!("/api/v1/meetings/{}/stats", t.meeting)).await.json().await.unwrap();
    let q2 = stats["responses"].as_array().unwrap().iter().find(|r| r["question"] == "2").unwrap().clone();
    assert_eq!(
        (q2["n"].as_i64(), q2["mean"].as_f64(), q2["definitive"].as_i64()),
        (Some(2), Some(6.0), Some(8)),
        "totals 5 and 7 against 8"
    );
    let by = |email: &str| stats["examiners"].as_array().unwrap().iter().find(|e| e["email"] == email).unwrap().clone();
    assert_eq!(by("ex1@board.example")["mean_deviation"], -3.0, "5 − 8");
    assert_eq!(by("ex2@board.example")["mean_deviation"], -1.0, "7 − 8");
    let pe_page = t.pe.web.text(&page_path).await;
    assert!(pe_page.contains("AO1 L2 3 · AO2 L1 2") && pe_page.contains("AO1 L1 2 · AO2 L2 5"), "the PE sees each examiner's parts");
    let dashboard = t.pe.web.text(&format!("/meetings/{}/dashboard", t.meeting)).await;
    assert!(dashboard.contains("Eve Examiner"), "the dashboard lists the examiners");

    // The exports carry the parts beside the totals.
    let csv = t.admin.web.text(&format!("/meetings/{}/export/every-mark.csv", t.meeting)).await;
    let eve_row = csv.lines().find(|l| l.contains("ex1@board.example")).unwrap();
    assert!(eve_row.contains(",5,AO1 L2 3 · AO2 L1 2,,8,AO1 L2 4 · AO2 L2 4,-3,"), "{eve_row}");
    assert!(eve_row.ends_with("Knows the events; weak on significance."), "{eve_row}");
    let matrix = t.admin.web.text(&format!("/meetings/{}/export/marks.csv", t.meeting)).await;
    assert!(matrix.lines().any(|l| l.starts_with("0001,2,practice,8,")), "the matrix holds the totals: {matrix}");

    // After release, the examiner sees the definitive parts beside their own.
    assert_eq!(
        t.pe.api.post_json(&format!("/api/v1/meetings/{}/responses/{}/release", t.meeting, t.response), &json!({})).await.status(),
        422,
        "question 1 has no definitive mark yet"
    );
    let r1: Uuid = sqlx::query_scalar("SELECT r.id FROM responses r JOIN questions q ON q.id = r.question_id WHERE q.number = '1'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    let url = format!("{}/api/v1/meetings/{}/responses/{r1}/definitive", t.pe.api.base, t.meeting);
    let r = t.pe.api.http.put(url).bearer_auth(&t.pe.api.token).json(&json!({"level": 2, "mark": 3})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(t.pe.api.post_json(&format!("/api/v1/meetings/{}/release", t.meeting), &json!({})).await.status(), 200);
    let got = t.put_get(eve).await;
    assert_eq!(got["definitive"]["parts"], json!([{"ao": "AO1", "level": 2, "mark": 4}, {"ao": "AO2", "level": 2, "mark": 4}]));
    assert_eq!(got["difference"], -3);
    let html = eve.web.text(&page_path).await;
    assert!(html.contains("AO1 L2 4 · AO2 L2 4"), "the outcome shows the definitive parts");
}

impl PerAo {
    /// The response as `who` sees it through the API.
    async fn put_get(&self, who: &crate::fixture::Person) -> Value {
        who.api.get(&format!("/api/v1/meetings/{}/responses/{}", self.meeting, self.response)).await.json().await.unwrap()
    }
}
