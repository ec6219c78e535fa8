//! A whole meeting through the API and the pages: setup, three examiners
//! marking blind, definitive marks, release, results; and the marking rules.

use serde_json::{Value, json};

use crate::{fixture::MeetingFixture, helpers::*};

#[tokio::test]
async fn a_whole_meeting_through_the_api() {
    let f = MeetingFixture::open().await;
    let (q01, _, _) = f.responses[0].clone();
    let (q02, _, _) = f.responses[1].clone();

    // Each examiner sees the same four responses to mark.
    let assignments: Value = f.get(&f.examiners[0], "/assignments").await.json().await.unwrap();
    assert_eq!(assignments.as_array().unwrap().len(), 4);
    assert_eq!(assignments[0]["candidate"], "0001");
    assert_eq!(assignments[0]["question"], "01");
    assert!(assignments[0].get("purpose").is_none(), "markers are not told why a script is marked");
    assert_eq!(assignments[0]["state"], "not_started");

    // Three examiners mark question 01 of candidate 0001 blind; the first saves a draft first.
    let r =
        f.put(&f.examiners[0], &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 7, "comment": "draft", "version": 0})).await;
    assert_eq!(r.status(), 200);
    let draft: Value = r.json().await.unwrap();
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["version"], 1);
    let r = f
        .put(
            &f.examiners[0],
            &format!("/responses/{q01}/mark"),
            json!({"level": 3, "mark": 8, "comment": "Compares both, some own knowledge", "submit": true, "version": 1}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    for (i, (level, mark)) in [(2, 6), (4, 10)].into_iter().enumerate() {
        let r = f
            .put(
                &f.examiners[i + 1],
                &format!("/responses/{q01}/mark"),
                json!({"level": level, "mark": mark, "comment": format!("examiner {}", i + 2), "submit": true}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }

    // Before release an examiner sees only their own mark.
    let view: Value = f.get(&f.examiners[0], &format!("/responses/{q01}")).await.json().await.unwrap();
    assert_eq!(view["mark"]["mark"], 8);
    assert!(view.get("definitive").is_none() && view.get("marks").is_none(), "{view}");
    assert_eq!(view["question"]["levels"].as_array().unwrap().len(), 5);

    // The PE records definitive marks for every response of candidate 0001.
    let r = f
        .put(
            &f.pe,
            &format!("/responses/{q01}/definitive"),
            json!({"level": 3, "mark": 8, "rationale": "Developed comparison with **own knowledge**."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = f.put(&f.pe, &format!("/responses/{q02}/definitive"), json!({"level": 3, "mark": 14, "rationale": "Some balance."})).await;
    assert_eq!(r.status(), 200);
    let pe_view: Value = f.get(&f.pe, &format!("/responses/{q01}")).await.json().await.unwrap();
    assert_eq!(pe_view["definitive"]["mark"], 8);
    assert_eq!(pe_view["marks"].as_array().unwrap().len(), 3, "the PE sees all three marks");
    let still_blind: Value = f.get(&f.examiners[1], &format!("/responses/{q01}")).await.json().await.unwrap();
    assert!(still_blind.get("definitive").is_none());

    // Releasing needs a definitive mark on every response of the script.
    let r = f.post(&f.pe, "/release", json!({})).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["details"].to_string().contains("Candidate 0002, question 01 has no definitive mark"), "{body}");
    let r = f.post(&f.pe, &format!("/responses/{q01}/release"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["released_scripts"], 1);

    // After release: mark, definitive, rationale, difference, tolerance.
    let view: Value = f.get(&f.examiners[2], &format!("/responses/{q01}")).await.json().await.unwrap();
    assert_eq!(view["released"], true);
    assert_eq!(view["definitive"]["mark"], 8);
    assert_eq!(view["definitive"]["level"], 3);
    assert!(view["definitive"]["rationale"].as_str().unwrap().contains("own knowledge"));
    assert_eq!(view["difference"], 2);
    assert_eq!(view["within_tolerance"], false, "tolerance of a 12-mark question is 1");
    let view: Value = f.get(&f.examiners[0], &format!("/responses/{q01}")).await.json().await.unwrap();
    assert_eq!(view["difference"], 0);
    assert_eq!(view["within_tolerance"], true);
    let assignments: Value = f.get(&f.examiners[1], "/assignments").await.json().await.unwrap();
    assert_eq!(assignments[0]["state"], "released");
    assert_eq!(assignments[2]["state"], "not_started");

    // The audit log holds every change made above.
    let audit: Value = f.get(&f.pe, "/audit").await.json().await.unwrap();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "meeting.create",
            "meeting.open",
            "mark.draft",
            "mark.submit",
            "mark.submit",
            "mark.submit",
            "definitive.set",
            "definitive.set",
            "release.script"
        ]
    );
    let submit = &audit[3];
    assert_eq!(submit["actor"], "ex1@board.example");
    assert_eq!(submit["old_value"]["mark"], 7);
    assert_eq!(submit["new_value"]["mark"], 8);
    assert_eq!(submit["response_label"], "0001 / 01");
}

#[tokio::test]
async fn marks_are_checked_against_the_scheme_and_versions() {
    let f = MeetingFixture::open().await;
    let (q01, _, _) = f.responses[0].clone();
    let ex = &f.examiners[0];
    // Ticked indicative-content points are kept with the mark, by the ids the scheme's version gives them.
    let (other, _, _) = f.responses[2].clone();
    let view: Value = f.get(ex, &format!("/responses/{other}")).await.json().await.unwrap();
    let point = view["points"][1].clone();
    assert!(point["text"].as_str().is_some_and(|t| !t.is_empty()), "{view}");
    let r = f.put(ex, &format!("/responses/{other}/mark"), json!({"level": 3, "mark": 7, "credited": [point["id"]], "version": 0})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["credited"], json!([point["id"]]));
    let r = f
        .put(ex, &format!("/responses/{other}/mark"), json!({"level": 3, "mark": 7, "credited": [uuid::Uuid::new_v4()], "version": 1}))
        .await;
    assert_eq!(r.status(), 422, "a point that is not in the question's scheme is refused");
    let before = f.audit_count().await;

    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 7, "mark": 8})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["message"], "Question 01 has no level 7: its levels are 0, 1, 2, 3, 4.");
    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 11})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["message"], "Level 3 of question 01 allows marks 7 to 9; 11 is outside it.");
    assert_eq!(f.audit_count().await, before, "refusals leave no trace");

    // Two tabs: the second edits from a stale version and is refused.
    assert_eq!(f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 7, "version": 0})).await.status(), 200);
    assert_eq!(f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 8, "version": 1})).await.status(), 200);
    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 9, "version": 1})).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("changed elsewhere"));

    // Submitted marks are locked until the PE reopens them.
    assert_eq!(f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 8, "submit": true})).await.status(), 200);
    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 9})).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("Ask the principal examiner to reopen"));
    assert_eq!(f.post(ex, &format!("/responses/{q01}/reopen"), json!({"examiner": "ex1@board.example"})).await.status(), 403);
    let r = f.post(&f.pe, &format!("/responses/{q01}/reopen"), json!({"examiner": "ex1@board.example", "reason": "mis-keyed"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 9, "submit": true})).await.status(), 200);

    // Not a response of this meeting (the outsider's script).
    let foreign: uuid::Uuid =
        sqlx::query_scalar("SELECT r.id FROM responses r JOIN scripts s ON s.id = r.script_id WHERE s.candidate = '0003'")
            .fetch_one(&f.app.db.pool)
            .await
            .unwrap();
    let r = f.put(ex, &format!("/responses/{foreign}/mark"), json!({"level": 3, "mark": 8})).await;
    assert_eq!(r.status(), 404);

    // After release a definitive change needs a reason, and examiners see it changed.
    for (rid, _, q) in f.responses.iter().take(2) {
        let (level, mark) = if q == "01" { (3, 8) } else { (3, 14) };
        assert_eq!(
            f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": level, "mark": mark, "rationale": "r"})).await.status(),
            200
        );
    }
    assert_eq!(f.post(&f.pe, &format!("/responses/{q01}/release"), json!({})).await.status(), 200);
    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 7})).await;
    assert_eq!(r.status(), 409, "released marks are final");
    let r = f.put(&f.pe, &format!("/responses/{q01}/definitive"), json!({"level": 3, "mark": 9, "rationale": "r2"})).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("give a reason"));
    let r = f
        .put(
            &f.pe,
            &format!("/responses/{q01}/definitive"),
            json!({"level": 3, "mark": 9, "rationale": "r2", "reason": "Agreed in discussion"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let view: Value = f.get(ex, &format!("/responses/{q01}")).await.json().await.unwrap();
    assert_eq!(view["definitive"]["changed_after_release"], true);
    assert_eq!(view["definitive"]["change_reason"], "Agreed in discussion");
    let audit: Value = f.get(&f.admin, "/audit").await.json().await.unwrap();
    let last = audit.as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "definitive.change_after_release");
    assert_eq!(last["reason"], "Agreed in discussion");
    assert!(audit.as_array().unwrap().iter().any(|e| e["action"] == "mark.reopen" && e["reason"] == "mis-keyed"));
}

#[tokio::test]
async fn marking_waits_for_the_meeting_to_open() {
    let f = MeetingFixture::setup().await;
    let (q01, _, _) = f.responses[0].clone();
    let r = f.put(&f.examiners[0], &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 8})).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("not been opened"));
    assert_eq!(f.post(&f.examiners[0], "/open", json!({})).await.status(), 403);
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 200);
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 409);
}

#[tokio::test]
async fn meetings_refuse_unknown_people_and_foreign_scripts() {
    let f = MeetingFixture::setup().await;
    let body = json!({"paper_id": f.paper, "name": "x", "principal_examiner": "nobody@board.example", "examiners": []});
    let r = f.admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No active account has the email nobody@board.example")
    );
    let body = json!({"paper_id": f.paper, "name": "x", "principal_examiner": "pe@board.example", "examiners": ["pe@board.example"]});
    assert_eq!(f.admin.api.post_json("/api/v1/meetings", &body).await.status(), 422);
    let body = json!({"paper_id": f.paper, "name": "x", "principal_examiner": "pe@board.example", "scripts": [{"script_id": uuid::Uuid::new_v4(), "purpose": "practice"}]});
    let r = f.admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("is not a script of this paper"));
    assert_eq!(f.pe.api.post_json("/api/v1/meetings", &body).await.status(), 403, "only administrators set up meetings");
    let count: i64 = f.app.count("meetings").await;
    assert_eq!(count, 2, "nothing half-written");
}

/// Posts a page form with the CSRF token of the page it is on.
async fn post_form(c: &Client, page: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = c.csrf(page).await;
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    c.post_raw(action, &all).await
}

#[tokio::test]
async fn a_whole_meeting_through_the_pages() {
    let f = MeetingFixture::setup().await;
    // The administrator's set-up form.
    let page = f.admin.web.text(&format!("/meetings/new?paper={}", f.paper)).await;
    assert!(page.contains("Tolerance per question") && page.contains("0001"));
    let script: uuid::Uuid = sqlx::query_scalar("SELECT id FROM scripts WHERE candidate = '0002'").fetch_one(&f.app.db.pool).await.unwrap();
    let sid = script.to_string();
    let paper = f.paper.to_string();
    let r = post_form(
        &f.admin.web,
        "/meetings/new",
        "/meetings",
        &[
            ("paper_id", &paper),
            ("name", "Pages meeting"),
            ("held_on", "2011-02-01"),
            ("principal_examiner", "pe@board.example"),
            ("examiners", "ex1@board.example\nex2@board.example"),
            ("team_leaders", "tl@board.example: ex3@board.example"),
            ("script", &sid),
            (&format!("purpose.{sid}"), "practice"),
            ("tolerance.01", "1"),
            ("tolerance.02", "2"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let url = location(&r);
    let page = f.pe.web.text(&url).await;
    assert!(page.contains("Pages meeting") && page.contains("being set up"));
    let r = post_form(&f.pe.web, &url, &format!("{url}/open"), &[]).await;
    assert_eq!(r.status(), 303);
    assert!(f.pe.web.text(&url).await.contains("The meeting is open"));

    // The examiner's progress list and marking page.
    let page = f.examiners[0].web.text(&url).await;
    assert!(page.contains("0 of 2</strong> responses submitted"), "{page}");
    assert!(page.contains("Start marking: candidate 0002, question 01"), "{page}");
    let rid: uuid::Uuid = sqlx::query_scalar(
        "SELECT r.id FROM responses r JOIN questions q ON q.id = r.question_id WHERE r.script_id = $1 AND q.number = '01'",
    )
    .bind(script)
    .fetch_one(&f.app.db.pool)
    .await
    .unwrap();
    let mark_page = format!("{url}/responses/{rid}");
    let html = f.examiners[0].web.text(&mark_page).await;
    assert!(html.contains("Both sources talk about peasants.") && html.contains("Level 2 · 3–6 marks"));
    let r = post_form(
        &f.examiners[0].web,
        &mark_page,
        &format!("{mark_page}/mark"),
        &[("level", "2"), ("mark", "9"), ("comment", "x"), ("version", "0"), ("action", "draft")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Level 2 of question 01 allows marks 3 to 6; 9 is outside it."));
    let r = post_form(
        &f.examiners[0].web,
        &mark_page,
        &format!("{mark_page}/mark"),
        &[("level", "2"), ("mark", "4"), ("comment", "Describes both"), ("version", "0"), ("action", "submit")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let html = f.examiners[0].web.text(&mark_page).await;
    assert!(html.contains("is submitted.") && html.contains("Level 2, 4 marks"));
    assert!(!html.contains("id=\"mark-form\""), "a submitted mark is locked");

    // Two more examiners mark the same response blind: each page shows only its own mark.
    for (i, mark, comment) in [(1, "5", "Some comparison"), (2, "3", "Mostly description")] {
        let r = post_form(
            &f.examiners[i].web,
            &mark_page,
            &format!("{mark_page}/mark"),
            &[("level", "2"), ("mark", mark), ("comment", comment), ("version", "0"), ("action", "submit")],
        )
        .await;
        assert_eq!(r.status(), 303);
        let html = f.examiners[i].web.text(&mark_page).await;
        assert!(html.contains(&format!("Level 2, {mark} marks")) && html.contains(comment));
        for other in ["Describes both", "Some comparison", "Mostly description"].iter().filter(|c| **c != comment) {
            assert!(!html.contains(other), "examiner {i} sees another examiner's comment");
        }
        assert!(!html.contains("id=\"definitive-mark\""), "no definitive mark before release");
    }

    // The PE sees every mark, records the definitive mark and releases.
    let html = f.pe.web.text(&mark_page).await;
    assert!(html.contains("Eve Examiner") && html.contains("Describes both"));
    assert!(html.contains("Some comparison") && html.contains("Mostly description"));
    let r = post_form(
        &f.pe.web,
        &mark_page,
        &format!("{mark_page}/definitive"),
        &[("level", "2"), ("mark", "6"), ("rationale", "Good comparison, **little** context."), ("version", "0")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let other: uuid::Uuid = sqlx::query_scalar(
        "SELECT r.id FROM responses r JOIN questions q ON q.id = r.question_id WHERE r.script_id = $1 AND q.number = '02'",
    )
    .bind(script)
    .fetch_one(&f.app.db.pool)
    .await
    .unwrap();
    let other_page = format!("{url}/responses/{other}");
    let r = post_form(
        &f.pe.web,
        &other_page,
        &format!("{other_page}/definitive"),
        &[("level", "1"), ("mark", "5"), ("rationale", "Assertive."), ("version", "0")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post_form(&f.pe.web, &url, &format!("{url}/release"), &[]).await;
    assert_eq!(r.status(), 303);

    // The examiner sees the outcome.
    let html = f.examiners[0].web.text(&mark_page).await;
    assert!(html.contains("id=\"results\""), "{html}");
    assert!(html.contains("<dd id=\"definitive-mark\">Level 2, 6</dd>"));
    assert!(html.contains("<dd id=\"difference\">-2</dd>"));
    assert!(html.contains("<strong>little</strong>"), "the rationale's Markdown is rendered");
    let overview = f.examiners[0].web.text(&url).await;
    assert!(overview.contains("Released so far: <strong>0 of 1</strong> of your marks were within tolerance"), "{overview}");
    let overview = f.examiners[1].web.text(&url).await;
    assert!(overview.contains("Released so far: <strong>1 of 1</strong>"), "5 is within 1 of 6: {overview}");

    // The audit page and its CSV.
    let audit = f.pe.web.text(&format!("{url}/audit")).await;
    assert!(audit.contains("mark.submit") && audit.contains("release.all"));
    let r = f.admin.web.get(&format!("{url}/audit.csv")).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("id,at,actor,action"));
    assert_eq!(csv.lines().count(), 1 + 8, "create, open, three submits, two definitive marks, release: {csv}");
}

#[tokio::test]
async fn a_papers_scheme_is_fixed_once_marking_starts_and_a_closed_meeting_is_final() {
    let f = MeetingFixture::setup().await;
    let edit = format!("/papers/{}/edit", f.paper);
    assert_eq!(f.admin.web.get(&edit).await.status(), 200, "still in setup: editable");
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 200);
    let r = f.admin.web.get(&edit).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("can no longer change"));
    let r = f.admin.web.post(&format!("/papers/{}", f.paper), &[("code", "X")]).await;
    assert_eq!(r.status(), 409);

    assert_eq!(f.post(&f.examiners[0], "/close", json!({})).await.status(), 403);
    assert_eq!(f.post(&f.pe, "/close", json!({})).await.status(), 200);
    let (rid, _, _) = f.responses[0].clone();
    let r = f.put(&f.examiners[0], &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 8})).await;
    assert_eq!(r.status(), 409);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("closed"));
    let audit: Value = f.get(&f.pe, "/audit").await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().last().unwrap()["action"], "meeting.close");
}

#[tokio::test]
async fn people_and_scripts_can_be_added_after_set_up() {
    let f = MeetingFixture::setup().await;
    let m = f.meeting;
    f.app.user("late@board.example", "Lena Late", false, PASSWORD).await;
    let r =
        f.pe.web
            .post(
                &format!("/meetings/{m}/people"),
                &[("emails", "late@board.example"), ("role", "examiner"), ("team_leader", "tl@board.example")],
            )
            .await;
    assert_eq!(r.status(), 303);
    let page = f.pe.web.text(&format!("/meetings/{m}")).await;
    assert!(page.contains("Lena Late (late@board.example) · examiner in the team of tl@board.example"), "{page}");
    let r = f.pe.web.post(&format!("/meetings/{m}/people"), &[("emails", "late@board.example"), ("role", "examiner")]).await;
    assert_eq!(r.status(), 422, "already in the meeting");
    let r = f.pe.web.post(&format!("/meetings/{m}/people"), &[("emails", "ghost@board.example"), ("role", "examiner")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(f.examiners[0].web.post(&format!("/meetings/{m}/people"), &[("emails", "late@board.example")]).await.status(), 403);

    let spare: uuid::Uuid = sqlx::query_scalar("SELECT id FROM scripts WHERE candidate = '0003'").fetch_one(&f.app.db.pool).await.unwrap();
    let id = spare.to_string();
    let r =
        f.admin.web.post(&format!("/meetings/{m}/scripts"), &[("script", id.as_str()), (&format!("purpose.{id}"), "qualification")]).await;
    assert_eq!(r.status(), 303);
    let assignments: Value = f.get(&f.examiners[0], "/assignments").await.json().await.unwrap();
    assert_eq!(assignments.as_array().unwrap().len(), 4, "a qualification script waits for qualification to open and its set");
    let purpose: String = sqlx::query_scalar("SELECT purpose FROM meeting_scripts WHERE meeting_id = $1 AND script_id = $2")
        .bind(m)
        .bind(spare)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(purpose, "qualification");
    let audit: Value = f.get(&f.admin, "/audit").await.json().await.unwrap();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"people.add") && actions.contains(&"scripts.add"));
}

#[tokio::test]
async fn a_team_needs_a_team_leader_of_the_meeting() {
    let f = MeetingFixture::setup().await;
    f.app.user("late@board.example", "Lena Late", false, PASSWORD).await;
    let r =
        f.pe.web
            .post(
                &format!("/meetings/{}/people", f.meeting),
                &[("emails", "late@board.example"), ("role", "examiner"), ("team_leader", "ex1@board.example")],
            )
            .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("is not a team leader in this meeting"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM meeting_participants WHERE meeting_id = $1")
        .bind(f.meeting)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 6, "nothing added");
}

#[tokio::test]
async fn tolerances_are_bounded_and_final_once_closed() {
    let f = MeetingFixture::open().await;
    let m = f.meeting;
    let r = f.pe.web.post(&format!("/meetings/{m}/tolerances"), &[("tolerance.01", "99")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("from 0 to its maximum mark, 12"));
    assert_eq!(f.pe.web.post(&format!("/meetings/{m}/tolerances"), &[("tolerance.01", "2")]).await.status(), 303);
    assert_eq!(f.post(&f.pe, "/close", json!({})).await.status(), 200);
    assert_eq!(f.post(&f.pe, "/close", json!({})).await.status(), 409, "closing twice is refused");
    let r = f.pe.web.post(&format!("/meetings/{m}/tolerances"), &[("tolerance.01", "1")]).await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn people_and_scripts_can_be_removed_while_setting_up() {
    let f = MeetingFixture::setup().await;
    let m = f.meeting;
    let leader = f.leader.user.id;
    assert_eq!(f.admin.web.post(&format!("/meetings/{m}/people/{leader}/remove"), &[]).await.status(), 303);
    let page = f.admin.web.text(&format!("/meetings/{m}")).await;
    assert!(!page.contains("Tom Leader"));
    assert!(page.contains("Em Examiner (ex3@board.example) · examiner"), "the team stays, without a leader");
    let pe = f.pe.user.id;
    assert_eq!(f.admin.web.post(&format!("/meetings/{m}/people/{pe}/remove"), &[]).await.status(), 409);
    let script: uuid::Uuid = sqlx::query_scalar("SELECT script_id FROM meeting_scripts WHERE meeting_id = $1 AND position = 1")
        .bind(m)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(f.admin.web.post(&format!("/meetings/{m}/scripts/{script}/remove"), &[]).await.status(), 303);
    let assignments: Value = f.get(&f.examiners[0], "/assignments").await.json().await.unwrap();
    assert_eq!(assignments.as_array().unwrap().len(), 2);
    assert_eq!(f.examiners[0].web.post(&format!("/meetings/{m}/scripts/{script}/remove"), &[]).await.status(), 403);
    // Once marking has started, nobody is removed.
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 200);
    let ex = f.examiners[0].user.id;
    assert_eq!(f.admin.web.post(&format!("/meetings/{m}/people/{ex}/remove"), &[]).await.status(), 409);
}

#[tokio::test]
async fn people_can_be_added_through_the_api() {
    let f = MeetingFixture::open().await;
    f.app.user("a@board.example", "Ann", false, PASSWORD).await;
    f.app.user("b@board.example", "Ben", false, PASSWORD).await;
    let body = json!({"team_leaders": [{"email": "a@board.example", "team": ["b@board.example"]}]});
    let r = f.post(&f.admin, "/people", body.clone()).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["added"], 2);
    assert_eq!(f.post(&f.admin, "/people", body).await.status(), 422, "already taking part");
    assert_eq!(f.post(&f.examiners[0], "/people", json!({"examiners": ["a@board.example"]})).await.status(), 403);
}
