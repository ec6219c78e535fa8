//! Setting a meeting up while its paper and its lists still change: questions
//! added to or removed from the paper, people and scripts added or removed
//! while someone opens or closes the meeting, scripts taken out and put back,
//! and the limits on what people type.

// Tests set up data in transactions of their own, outside any request: nothing
// cancels them, so sqlx's `Pool::begin` is fine here (src/ uses `db::tx::begin`).
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use serde_json::{Value, json};
use standardise::meetings::{Meeting, store as meetings_store};
use uuid::Uuid;

use crate::{
    fixture::{MeetingFixture, Person},
    helpers::*,
};

/// The paper's edit form as the administrator's browser would post it, after `change`.
async fn post_paper_form(f: &MeetingFixture, change: impl FnOnce(&mut Vec<(String, String)>)) -> reqwest::Response {
    let html = f.admin.web.text(&format!("/papers/{}/edit", f.paper)).await;
    let mut fields = form_fields(&html, "paper-form");
    change(&mut fields);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    f.admin.web.post_raw(&format!("/papers/{}", f.paper), &pairs).await
}

async fn tolerance_rows(f: &MeetingFixture) -> Vec<(String, i32)> {
    sqlx::query_as(
        "SELECT q.number, t.tolerance FROM meeting_tolerances t JOIN questions q ON q.id = t.question_id
         WHERE t.meeting_id = $1 ORDER BY q.position",
    )
    .bind(f.meeting)
    .fetch_all(&f.app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_question_can_be_removed_from_a_paper_while_its_meeting_is_set_up() {
    let f = MeetingFixture::setup().await;
    assert_eq!(tolerance_rows(&f).await.len(), 3, "the meeting has a tolerance for each of 01, 02, 03");
    // Question 03 has no responses: removing it takes the meeting's tolerance for it along.
    let r = post_paper_form(&f, |fields| fields.push(("q2.remove".into(), "on".into()))).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert_eq!(tolerance_rows(&f).await, [("01".to_owned(), 1), ("02".to_owned(), 3)]);
    let page = f.pe.web.text(&format!("/meetings/{}", f.meeting)).await;
    assert!(!page.contains("tolerance.03"), "the meeting page no longer offers question 03");
    // Question 02 has responses: still refused, nothing changed.
    let r = post_paper_form(&f, |fields| fields.push(("q1.remove".into(), "on".into()))).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Question 02 cannot be removed"));
    assert_eq!(tolerance_rows(&f).await.len(), 2);
}

#[tokio::test]
async fn a_question_added_after_set_up_has_its_tolerance_and_counts_in_the_tally() {
    let f = MeetingFixture::setup().await;
    let m = f.meeting;
    // The administrator adds a point-marked question 04 (4 marks) in the form's spare block.
    let r = post_paper_form(&f, |fields| {
        set_field(fields, "q3.number", "04");
        set_field(fields, "q3.prompt", "Name two features of collectivisation.");
        set_field(fields, "q3.max_mark", "4");
        set_field(fields, "q3.kind", "points");
    })
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert_eq!(tolerance_rows(&f).await.last(), Some(&("04".to_owned(), 1)), "the default for 4 marks, stored with the meeting");
    let page = f.pe.web.text(&format!("/meetings/{m}")).await;
    assert!(page.contains("tolerance.04"), "{page}");

    // A script answering question 04 joins the meeting; marking, adjudication, release.
    let r = f
        .admin
        .api
        .post_json(
            &format!("/api/v1/papers/{}/scripts", f.paper),
            &json!({"candidate": "0009", "responses": [{"question": "04", "text": "Collective farms; quotas."}]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let script: Uuid = sqlx::query_scalar("SELECT id FROM scripts WHERE candidate = '0009'").fetch_one(&f.app.db.pool).await.unwrap();
    let id = script.to_string();
    let r = f.admin.web.post(&format!("/meetings/{m}/scripts"), &[("script", id.as_str()), (&format!("purpose.{id}"), "practice")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 200);
    let response: Uuid =
        sqlx::query_scalar("SELECT id FROM responses WHERE script_id = $1").bind(script).fetch_one(&f.app.db.pool).await.unwrap();
    let r = f.put(&f.examiners[0], &format!("/responses/{response}/mark"), json!({"mark": 3, "submit": true})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let r = f.put(&f.pe, &format!("/responses/{response}/definitive"), json!({"mark": 4, "rationale": "Both features."})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(f.post(&f.pe, &format!("/responses/{response}/release"), json!({})).await.status(), 200);

    // 3 against 4 is within the tolerance of 1: the examiner's tally counts it.
    let overview = f.examiners[0].web.text(&format!("/meetings/{m}")).await;
    assert!(overview.contains("Released so far: <strong>1 of 1</strong>"), "{overview}");
}

#[tokio::test]
async fn a_question_without_a_stored_tolerance_is_judged_by_the_default() {
    // Meetings set up before questions got their rows: the tally reads the default.
    let f = MeetingFixture::open().await;
    let (rid, _, q) = f.responses[0].clone();
    assert_eq!(q, "01");
    sqlx::query("DELETE FROM meeting_tolerances WHERE meeting_id = $1").bind(f.meeting).execute(&f.app.db.pool).await.unwrap();
    assert_eq!(
        f.put(&f.examiners[0], &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 8, "submit": true})).await.status(),
        200
    );
    for (r, _, q) in f.responses.iter().take(2) {
        let (level, mark) = if q == "01" { (3, 9) } else { (3, 14) };
        let body = json!({"level": level, "mark": mark, "rationale": "r"});
        assert_eq!(f.put(&f.pe, &format!("/responses/{r}/definitive"), body).await.status(), 200);
    }
    assert_eq!(f.post(&f.pe, &format!("/responses/{rid}/release"), json!({})).await.status(), 200);
    let overview = f.examiners[0].web.text(&format!("/meetings/{}", f.meeting)).await;
    assert!(overview.contains("Released so far: <strong>1 of 1</strong>"), "8 is within 1 of 9: {overview}");
}

/// The meeting as the database holds it now.
async fn meeting_row(f: &MeetingFixture) -> Meeting {
    sqlx::query_as("SELECT id, paper_id, name, held_on, state, created_at FROM meetings WHERE id = $1")
        .bind(f.meeting)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap()
}

/// Waits until `request` is waiting for a row lock in the database, or has
/// finished without waiting; says which.
async fn waits_for_a_lock(f: &MeetingFixture, request: &tokio::task::JoinHandle<reqwest::Response>) -> bool {
    for _ in 0..500 {
        if request.is_finished() {
            return false;
        }
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .fetch_one(&f.app.db.pool)
                .await
                .unwrap();
        if waiting > 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the request neither finished nor waited for a lock");
}

/// A page form posted by `who` in a task of its own (the same cookies).
fn post_in_background(who: &Person, path: String, form: Vec<(String, String)>) -> tokio::task::JoinHandle<reqwest::Response> {
    let client = Client { http: who.web.http.clone(), base: who.web.base.clone() };
    tokio::spawn(async move {
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        client.post(&path, &fields).await
    })
}

#[tokio::test]
async fn set_up_changes_wait_for_a_concurrent_open_and_are_then_refused() {
    let f = MeetingFixture::setup().await;
    let m = f.meeting;
    let spare: Uuid = sqlx::query_scalar("SELECT id FROM scripts WHERE candidate = '0003'").fetch_one(&f.app.db.pool).await.unwrap();
    let first: Uuid = sqlx::query_scalar("SELECT script_id FROM meeting_scripts WHERE meeting_id = $1 AND position = 0")
        .bind(m)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    let examiner = f.examiners[0].user.id;
    let changes = vec![
        ("add a script", format!("/meetings/{m}/scripts"), vec![("script".to_owned(), spare.to_string())]),
        ("remove a script", format!("/meetings/{m}/scripts/{first}/remove"), vec![]),
        ("remove a person", format!("/meetings/{m}/people/{examiner}/remove"), vec![]),
    ];
    for (what, path, form) in changes {
        let before = (f.app.count("meeting_scripts").await, f.app.count("meeting_participants").await);
        // The principal examiner's open is under way (its transaction not yet committed)...
        let mut open = f.app.db.pool.begin().await.unwrap();
        meetings_store::open(&mut open, &meeting_row(&f).await, f.pe.user.actor()).await.unwrap();
        // ...when the administrator's change arrives: it waits for the open to finish.
        let request = post_in_background(&f.admin, path, form);
        assert!(waits_for_a_lock(&f, &request).await, "{what}: went ahead without waiting for the open");
        open.commit().await.unwrap();
        let r = request.await.unwrap();
        assert_eq!(r.status(), 409, "{what}: the meeting is open now");
        assert!(r.text().await.unwrap().contains("while the meeting is being set up"), "{what}");
        assert_eq!((f.app.count("meeting_scripts").await, f.app.count("meeting_participants").await), before, "{what}: nothing changed");
        // Back to set-up for the next case.
        sqlx::query("UPDATE meetings SET state = 'setup', opened_at = NULL WHERE id = $1").bind(m).execute(&f.app.db.pool).await.unwrap();
    }
}

#[tokio::test]
async fn adding_people_waits_for_a_concurrent_close_and_is_then_refused() {
    let f = MeetingFixture::open().await;
    f.app.user("late@board.example", "Lena Late", false, PASSWORD).await;
    let mut close = f.app.db.pool.begin().await.unwrap();
    meetings_store::close(&mut close, &meeting_row(&f).await, f.pe.user.actor()).await.unwrap();
    let api = Api { http: f.admin.api.http.clone(), base: f.admin.api.base.clone(), token: f.admin.api.token.clone() };
    let url = f.url("/people");
    let request = tokio::spawn(async move { api.post_json(&url, &json!({"examiners": ["late@board.example"]})).await });
    assert!(waits_for_a_lock(&f, &request).await, "adding people went ahead without waiting for the close");
    close.commit().await.unwrap();
    let r = request.await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["message"], "The meeting is closed.");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM meeting_participants WHERE meeting_id = $1")
        .bind(f.meeting)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 6, "nobody added to the closed meeting");
}

#[tokio::test]
async fn a_script_taken_out_of_a_meeting_loses_its_definitive_marks() {
    let f = MeetingFixture::setup().await;
    let m = f.meeting;
    let (rid, candidate, _) = f.responses[0].clone();
    assert_eq!(candidate, "0001");
    // The principal examiner prepares a definitive mark before the meeting opens.
    let r = f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": 8, "rationale": "Prepared early."})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let script: Uuid = sqlx::query_scalar("SELECT script_id FROM meeting_scripts WHERE meeting_id = $1 AND position = 0")
        .bind(m)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(f.admin.web.post(&format!("/meetings/{m}/scripts/{script}/remove"), &[]).await.status(), 303);
    let audit: Value = f.get(&f.admin, "/audit").await.json().await.unwrap();
    let removed = audit.as_array().unwrap().iter().find(|e| e["action"] == "definitive.remove").expect("the removal is audited");
    assert_eq!(removed["old_value"]["mark"], 8);
    assert_eq!(removed["old_value"]["rationale"], "Prepared early.");
    assert_eq!(removed["reason"], "The script was taken out of the meeting.");

    // Put back, the script starts afresh.
    let id = script.to_string();
    let r = f.admin.web.post(&format!("/meetings/{m}/scripts"), &[("script", id.as_str()), (&format!("purpose.{id}"), "practice")]).await;
    assert_eq!(r.status(), 303);
    let view: Value = f.get(&f.pe, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view.get("definitive").is_none_or(Value::is_null), "{view}");
    let page = f.pe.web.text(&format!("/meetings/{m}")).await;
    assert!(!page.contains("Prepared early."));
}

#[tokio::test]
async fn a_meetings_name_has_a_length_limit() {
    let f = MeetingFixture::setup().await;
    let long = "N".repeat(201);
    let body = json!({"paper_id": f.paper, "name": long, "principal_examiner": "pe@board.example"});
    let r = f.admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["message"], "A meeting's name can be at most 200 characters (this one has 201).");
    let paper = f.paper.to_string();
    let r = f
        .admin
        .web
        .post("/meetings", &[("paper_id", paper.as_str()), ("name", long.as_str()), ("principal_examiner", "pe@board.example")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("can be at most 200 characters"));
    assert_eq!(f.app.count("meetings").await, 2, "nothing saved");
    let body = json!({"paper_id": f.paper, "name": "N".repeat(200), "principal_examiner": "pe@board.example"});
    assert_eq!(f.admin.api.post_json("/api/v1/meetings", &body).await.status(), 201, "200 characters are enough");
}

#[tokio::test]
async fn a_locked_paper_says_why_in_one_voice() {
    let f = MeetingFixture::open().await;
    let page = f.admin.web.text(&format!("/papers/{}", f.paper)).await;
    assert!(page.contains(standardise::papers::store::LOCKED_MESSAGE), "{page}");
    let r = f.admin.web.get(&format!("/papers/{}/edit", f.paper)).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains(standardise::papers::store::LOCKED_MESSAGE));
}
