//! Qualification and seeds through the API: sets judged at once by their
//! rule, a second set after a failed first, decisions by the principal
//! examiner or the team leader, the seed flag, and the blind rule kept for
//! every set.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fixture::{Person, person},
    helpers::*,
};

/// A meeting with one practice script, four qualification scripts (two sets
/// of two) and three seeds, each of one 12-mark answer (tolerance 1), every
/// definitive mark 8 (level 3); open for marking.
struct Qual {
    /// Kept for the server it runs.
    _app: TestApp,
    meeting: Uuid,
    pe: Person,
    /// ex1 not in a team; ex2 and ex3 in the leader's team.
    ex: Vec<Person>,
    leader: Person,
    other_leader: Person,
    /// Candidate → (script id, response id).
    scripts: Vec<(String, Uuid, Uuid)>,
}

impl Qual {
    async fn new() -> Qual {
        let app = spawn_app().await;
        let admin = person(&app, "admin@board.example", "Ada Admin", true).await;
        let paper = app.sample_paper().await;
        let candidates = ["P1", "Q1", "Q2", "Q3", "Q4", "S1", "S2", "S3"];
        let mut csv = String::from("candidate,question,response\n");
        for c in candidates {
            csv.push_str(&format!("{c},01,An answer by candidate {c} comparing the two sources.\n"));
        }
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("s.csv"));
        assert_eq!(admin.web.post_multipart(&format!("/papers/{paper}/scripts/bulk"), form).await.status(), 303);
        let rows: Vec<(String, Uuid, Uuid)> =
            sqlx::query_as("SELECT s.candidate, s.id, r.id FROM scripts s JOIN responses r ON r.script_id = s.id WHERE s.paper_id = $1")
                .bind(paper)
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
        let scripts: Vec<(String, Uuid, Uuid)> =
            candidates.iter().map(|c| rows.iter().find(|r| r.0 == *c).cloned().expect("script")).collect();
        let pe = person(&app, "pe@board.example", "Priya Principal", false).await;
        let mut ex = Vec::new();
        for (i, name) in ["Eve Examiner", "Ed Examiner", "Em Examiner"].iter().enumerate() {
            ex.push(person(&app, &format!("ex{}@board.example", i + 1), name, false).await);
        }
        let leader = person(&app, "tl@board.example", "Tom Leader", false).await;
        let other_leader = person(&app, "tl2@board.example", "Tara Leader", false).await;
        let purpose = |c: &str| match &c[..1] {
            "Q" => "qualification",
            "S" => "seed",
            _ => "practice",
        };
        let body = json!({
            "paper_id": paper, "name": "Qualification meeting", "principal_examiner": "pe@board.example",
            "examiners": ["ex1@board.example"],
            "team_leaders": [{"email": "tl@board.example", "team": ["ex2@board.example", "ex3@board.example"]}, {"email": "tl2@board.example", "team": []}],
            "scripts": scripts.iter().map(|(c, id, _)| json!({"script_id": id, "purpose": purpose(c)})).collect::<Vec<_>>(),
            "tolerances": {"01": 1},
        });
        let r = admin.api.post_json("/api/v1/meetings", &body).await;
        assert_eq!(r.status(), 201);
        let meeting = Uuid::parse_str(r.json::<Value>().await.unwrap()["id"].as_str().unwrap()).unwrap();
        let q = Qual { _app: app, meeting, pe, ex, leader, other_leader, scripts };
        assert_eq!(q.post(&q.pe, "/open", json!({})).await.status(), 200);
        q
    }

    fn url(&self, path: &str) -> String {
        format!("/api/v1/meetings/{}{path}", self.meeting)
    }

    async fn post(&self, who: &Person, path: &str, body: Value) -> reqwest::Response {
        who.api.post_json(&self.url(path), &body).await
    }

    async fn get(&self, who: &Person, path: &str) -> Value {
        let r = who.api.get(&self.url(path)).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    fn script(&self, candidate: &str) -> Uuid {
        self.scripts.iter().find(|s| s.0 == candidate).unwrap().1
    }

    fn response(&self, candidate: &str) -> Uuid {
        self.scripts.iter().find(|s| s.0 == candidate).unwrap().2
    }

    async fn mark(&self, who: &Person, candidate: &str, mark: i32) -> reqwest::Response {
        let level = match mark {
            0 => 0,
            1..=2 => 1,
            3..=6 => 2,
            7..=9 => 3,
            _ => 4,
        };
        let url = format!("{}{}", who.api.base, self.url(&format!("/responses/{}/mark", self.response(candidate))));
        who.api.http.put(url).bearer_auth(&who.api.token).json(&json!({"level": level, "mark": mark, "submit": true})).send().await.unwrap()
    }

    /// Definitive marks (8, level 3, with a rationale) on these candidates' responses.
    async fn definitive(&self, candidates: &[&str]) {
        for c in candidates {
            let url = format!("{}{}", self.pe.api.base, self.url(&format!("/responses/{}/definitive", self.response(c))));
            let r = self
                .pe
                .api
                .http
                .put(url)
                .bearer_auth(&self.pe.api.token)
                .json(&json!({"level": 3, "mark": 8, "rationale": format!("RATIONALE-{c}: compares both sources with some context.")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "definitive for {c}");
        }
    }

    /// Sets 1 (Q1, Q2) and 2 (Q3, Q4), both needing both scripts within, and opens qualification.
    async fn two_sets_open(&self) {
        assert_eq!(
            self.post(&self.pe, "/qualification/sets", json!({"scripts": [self.script("Q1"), self.script("Q2")], "min_within": 2}))
                .await
                .status(),
            201
        );
        assert_eq!(
            self.post(&self.pe, "/qualification/sets", json!({"scripts": [self.script("Q3"), self.script("Q4")], "min_within": 2}))
                .await
                .status(),
            201
        );
        self.definitive(&["Q1", "Q2", "Q3", "Q4"]).await;
        let r = self.post(&self.pe, "/qualification/open", json!({})).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }

    async fn entry(&self, email: &str) -> Value {
        let all = self.get(&self.pe, "/qualification").await;
        all.as_array().unwrap().iter().find(|e| e["email"] == email).cloned().unwrap_or_else(|| panic!("{email} in {all}"))
    }
}

#[tokio::test]
async fn sets_are_refused_with_reasons_until_they_can_be_marked() {
    let q = Qual::new().await;
    let r = q.post(&q.pe, "/qualification/sets", json!({"scripts": [q.script("Q1"), q.script("P1")]})).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("practice script"), "a practice script is refused");
    let r = q.post(&q.pe, "/qualification/sets", json!({"scripts": [q.script("Q1"), q.script("Q2")], "min_within": 3})).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("the set holds 2"));
    let r = q.post(&q.ex[0], "/qualification/sets", json!({"scripts": [q.script("Q1")]})).await;
    assert_eq!(r.status(), 403, "only the principal examiner makes sets");
    assert_eq!(q.post(&q.pe, "/qualification/sets", json!({"scripts": [q.script("Q1"), q.script("Q2")]})).await.status(), 201);
    // No definitive marks yet: not opened, and the reason names each response.
    let r = q.post(&q.pe, "/qualification/open", json!({})).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("Set 1: candidate Q1, question 01 has no definitive mark."), "{body}");
    // Before qualification opens, a qualification script cannot be marked.
    assert_eq!(q.mark(&q.ex[0], "Q1", 8).await.status(), 409);
    let mine = q.get(&q.ex[0], "/qualification/me").await;
    assert_eq!(mine["open"], false);
    assert!(mine["sets"][0]["rule"].as_str().unwrap().contains("at least 1 of the 2 scripts"), "the default: all but one: {mine}");
}

#[tokio::test]
async fn pass_on_set_one_fail_then_pass_set_two_fail_both_then_an_override() {
    let q = Qual::new().await;
    q.two_sets_open().await;
    let (ex1, ex2, ex3) = (&q.ex[0], &q.ex[1], &q.ex[2]);
    assert_eq!(q.entry("ex1@board.example").await["state"], "in_progress");

    // ex1: set 1 within tolerance on both → passed, awaiting approval.
    assert_eq!(q.mark(ex1, "Q1", 8).await.status(), 200);
    // Half-way through, nothing of the set is released to them.
    let view: Value = q.get(ex1, &format!("/responses/{}", q.response("Q1"))).await;
    assert!(view.get("definitive").is_none() && !view.to_string().contains("RATIONALE-Q1"), "{view}");
    assert_eq!(q.mark(ex1, "Q3", 8).await.status(), 409, "set 2 is not theirs to mark");
    assert_eq!(q.mark(ex1, "Q2", 9).await.status(), 200);
    let mine = q.get(ex1, "/qualification/me").await;
    assert_eq!(mine["entry"]["state"], "passed");
    assert_eq!(mine["entry"]["sets"], json!([{"set": 1, "within_tolerance": 2, "of": 2, "total_deviation": 1, "passed": true}]));
    let responses = mine["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 2);
    assert_eq!(
        (responses[1]["mark"].as_i64(), responses[1]["definitive"].as_i64(), responses[1]["within"].as_bool()),
        (Some(9), Some(8), Some(true))
    );
    assert!(responses[0]["rationale"].as_str().unwrap().starts_with("RATIONALE-Q1"));
    // Released to ex1 alone: the response view now shows the definitive mark to them, never to others.
    let view: Value = q.get(ex1, &format!("/responses/{}", q.response("Q1"))).await;
    assert_eq!(view["definitive"]["mark"], 8);
    // Changing a set's definitive mark once examiners are judged against it: the principal examiner sees who is
    // affected and decides whether to judge them again.
    let put_def = |mark: i32, reevaluate: Option<bool>| {
        let url = format!("{}{}", q.pe.api.base, q.url(&format!("/responses/{}/definitive", q.response("Q2"))));
        let mut body = json!({"level": if mark >= 10 { 4 } else { 3 }, "mark": mark, "rationale": "RATIONALE-Q2 revised"});
        if let Some(r) = reevaluate {
            body["reevaluate"] = json!(r);
        }
        q.pe.api.http.put(url).bearer_auth(&q.pe.api.token).json(&body).send()
    };
    assert_eq!(put_def(11, None).await.unwrap().status(), 409, "the principal examiner must decide about re-evaluating");
    let impact = q.get(&q.pe, &format!("/responses/{}/impact?mark=11", q.response("Q2"))).await;
    let a = &impact["affected"][0];
    assert_eq!(
        (a["email"].as_str(), a["set"].as_i64(), a["passed_before"].as_bool(), a["passed_after"].as_bool()),
        (Some("ex1@board.example"), Some(1), Some(true), Some(false)),
        "{impact}"
    );
    assert_eq!(put_def(11, Some(true)).await.unwrap().status(), 200);
    let e = q.entry("ex1@board.example").await;
    assert_eq!(
        (e["state"].as_str(), e["current_set"].as_i64()),
        (Some("in_progress"), Some(2)),
        "judged again: set 1 no longer passed, on to set 2"
    );
    assert_eq!(put_def(8, Some(true)).await.unwrap().status(), 200);
    assert_eq!(q.entry("ex1@board.example").await["state"], "passed", "and back");

    // A submitted qualification mark is final.
    assert_eq!(q.mark(ex1, "Q1", 7).await.status(), 409);
    let r =
        q.post(&q.pe, &format!("/responses/{}/reopen", q.response("Q1")), json!({"examiner": "ex1@board.example", "reason": "x"})).await;
    assert_eq!(r.status(), 409, "a qualification mark cannot be reopened");

    // ex2: set 1 out of tolerance → set 2; within on set 2 → passed.
    assert_eq!(q.mark(ex2, "Q1", 4).await.status(), 200);
    // Their team leader, having marked Q1 too, does not see a team member's marks on a set still being marked.
    assert_eq!(q.mark(&q.leader, "Q1", 8).await.status(), 200);
    let view: Value = q.get(&q.leader, &format!("/responses/{}", q.response("Q1"))).await;
    let seen: Vec<&str> = view["marks"].as_array().map(|m| m.iter().map(|m| m["email"].as_str().unwrap()).collect()).unwrap_or_default();
    assert_eq!(seen, ["tl@board.example"], "{view}");
    assert_eq!(q.mark(ex2, "Q2", 8).await.status(), 200);
    let e = q.entry("ex2@board.example").await;
    assert_eq!((e["state"].as_str(), e["current_set"].as_i64()), (Some("in_progress"), Some(2)));
    for other in [ex2, ex3] {
        let view: Value = q.get(other, &format!("/responses/{}", q.response("Q2"))).await;
        assert!(view.get("definitive").is_none() || other.user.email == "ex2@board.example", "ex1's release is not ex3's: {view}");
    }
    let view: Value = q.get(ex3, &format!("/responses/{}", q.response("Q1"))).await;
    assert!(view.get("definitive").is_none() && !view.to_string().contains("RATIONALE"), "{view}");
    assert_eq!(q.mark(ex2, "Q3", 8).await.status(), 200);
    assert_eq!(q.mark(ex2, "Q4", 7).await.status(), 200);
    assert_eq!(q.entry("ex2@board.example").await["state"], "passed");

    // ex3: out on both sets → failed, awaiting the principal examiner.
    for c in ["Q1", "Q2", "Q3", "Q4"] {
        assert_eq!(q.mark(ex3, c, 3).await.status(), 200, "{c}");
    }
    let e = q.entry("ex3@board.example").await;
    assert_eq!(e["state"], "failed");
    assert_eq!(e["sets"].as_array().unwrap().len(), 2);

    // Decisions: a team leader for a member of their own team who passed; the principal examiner for anyone.
    let r = q.post(&q.other_leader, "/qualification/ex2@board.example/decision", json!({"approved": true})).await;
    assert_eq!(r.status(), 403, "not their team");
    let r = q.post(&q.leader, "/qualification/ex1@board.example/decision", json!({"approved": true})).await;
    assert_eq!(r.status(), 403, "ex1 is in no team of theirs");
    let r = q.post(&q.leader, "/qualification/ex3@board.example/decision", json!({"approved": true, "reason": "Close enough"})).await;
    assert_eq!(r.status(), 403, "a failure is the principal examiner's to decide");
    assert!(r.text().await.unwrap().contains("the principal examiner decides"));
    let r = q.post(&q.leader, "/qualification/ex2@board.example/decision", json!({"approved": true})).await;
    assert_eq!(r.status(), 200, "the team leader approves a team member who passed");
    let e = q.entry("ex2@board.example").await;
    assert_eq!((e["state"].as_str(), e["decided_by"].as_str()), (Some("approved"), Some("Tom Leader")));
    let r = q.post(&q.pe, "/qualification/ex3@board.example/decision", json!({"approved": true})).await;
    assert_eq!(r.status(), 422, "overriding a failure needs a reason");
    let override_ = json!({"approved": true, "reason": "Severe by two marks only; discussed and agreed"});
    assert_eq!(q.post(&q.pe, "/qualification/ex3@board.example/decision", override_).await.status(), 200);
    let e = q.entry("ex3@board.example").await;
    assert_eq!((e["state"].as_str(), e["decided_by"].as_str()), (Some("approved"), Some("Priya Principal")));
    assert_eq!(e["reason"], "Severe by two marks only; discussed and agreed");
    let r = q.post(&q.leader, "/qualification/ex3@board.example/decision", json!({"approved": false, "reason": "I disagree"})).await;
    assert_eq!(r.status(), 403, "a team leader does not overturn the principal examiner");
    assert_eq!(
        q.post(&q.pe, "/qualification/ex1@board.example/decision", json!({"approved": true})).await.status(),
        200,
        "agreeing with a pass needs no reason"
    );
    assert_eq!(q.post(&q.pe, "/qualification/nobody@board.example/decision", json!({"approved": true})).await.status(), 404);
    let r = q.post(&q.pe, "/qualification/tl2@board.example/decision", json!({"approved": true})).await;
    assert_eq!(r.status(), 409, "the other leader has not marked a set yet");
    // The team leader sees their team's qualification, nobody else's.
    let team = q.get(&q.leader, "/qualification").await;
    let emails: Vec<&str> = team.as_array().unwrap().iter().map(|e| e["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ex2@board.example", "ex3@board.example"]);
    assert_eq!(q.ex[0].api.get(&q.url("/qualification")).await.status(), 403);
}

#[tokio::test]
async fn the_last_two_responses_submitted_at_once_still_judge_the_set() {
    let q = Qual::new().await;
    q.two_sets_open().await;
    let ex1 = &q.ex[0];
    let (a, b) = tokio::join!(q.mark(ex1, "Q1", 8), q.mark(ex1, "Q2", 8));
    assert_eq!((a.status(), b.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
    let e = q.entry("ex1@board.example").await;
    assert_eq!(e["state"], "passed", "{e}");
    assert_eq!(e["sets"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn seeds_check_approved_examiners_unannounced_and_flag_two_of_three_out() {
    let q = Qual::new().await;
    q.two_sets_open().await;
    let ex1 = &q.ex[0];
    q.definitive(&["S1", "S2", "S3"]).await;
    let seeds = json!([q.script("S1"), q.script("S2"), q.script("S3")]);
    let r = q.post(&q.pe, "/seeds", json!({"examiners": ["ex1@board.example"], "scripts": seeds})).await;
    assert_eq!(r.status(), 422, "ex1 is not approved yet");
    assert!(r.text().await.unwrap().contains("not approved to mark live"));
    assert_eq!(q.mark(ex1, "Q1", 8).await.status(), 200);
    assert_eq!(q.mark(ex1, "Q2", 8).await.status(), 200);
    assert_eq!(q.post(&q.pe, "/qualification/ex1@board.example/decision", json!({"approved": true})).await.status(), 200);
    let r = q.post(&q.pe, "/seeds", json!({"examiners": ["ex1@board.example"], "scripts": [q.script("P1")]})).await;
    assert_eq!(r.status(), 422, "a practice script is no seed");
    assert_eq!(q.post(&q.pe, "/seeds", json!({"examiners": ["ex1@board.example"], "scripts": seeds})).await.status(), 201);

    // The seeds sit in ex1's ordinary list, unannounced; nobody else has them.
    let list = q.get(ex1, "/assignments").await;
    let candidates: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["candidate"].as_str().unwrap()).collect();
    assert!(candidates.contains(&"S1") && candidates.contains(&"S3"), "{list}");
    assert!(!list.to_string().contains("seed"), "{list}");
    let others = q.get(&q.ex[1], "/assignments").await;
    assert!(!others.to_string().contains("\"S1\""), "{others}");
    assert_eq!(q.mark(&q.ex[1], "S1", 8).await.status(), 404, "not seeded to ex2");

    // Out, in, out: 2 of the last 3 outside tolerance raises the flag, with the evidence.
    assert_eq!(q.mark(ex1, "S1", 4).await.status(), 200);
    assert_eq!(q.entry("ex1@board.example").await["seed_flag"], false);
    assert_eq!(q.mark(ex1, "S2", 8).await.status(), 200);
    assert_eq!(q.mark(ex1, "S3", 11).await.status(), 200);
    let e = q.entry("ex1@board.example").await;
    assert_eq!(e["seed_flag"], true, "{e}");
    let evidence: Vec<(String, bool)> = e["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["candidate"].as_str().unwrap().to_owned(), s["within"].as_bool().unwrap()))
        .collect();
    assert_eq!(evidence.len(), 3);
    assert!(
        evidence.contains(&("S1".into(), false)) && evidence.contains(&("S2".into(), true)) && evidence.contains(&("S3".into(), false))
    );
    // The dashboard names them too, with the evidence.
    let flags = q.pe.web.text(&format!("/meetings/{}/qualification/flags", q.meeting)).await;
    assert!(flags.contains("check") && flags.contains("Eve Examiner") && flags.contains("S3 outside"), "{flags}");
    assert_eq!(ex1.web.get(&format!("/meetings/{}/qualification/flags", q.meeting)).await.status(), 403);
    // The examiner is never told: nothing of seeds on their own qualification, no definitive mark on a seed, ever.
    let mine = ex1.api.get(&q.url("/qualification/me")).await.text().await.unwrap();
    assert!(!mine.contains("S1") && !mine.contains("S3") && !mine.contains("\"seed_flag\":true"), "{mine}");
    let view: Value = q.get(ex1, &format!("/responses/{}", q.response("S3"))).await;
    assert!(view.get("definitive").is_none() && !view.to_string().contains("seed"), "{view}");
}

/// Tabs (at most 30 times) until the element with this id has the focus.
async fn tab_to(b: &crate::browser::Browser, id: &str) {
    use crate::browser::{TAB, active_id, press};
    for _ in 0..30 {
        if active_id(b).await == id {
            return;
        }
        press(b, TAB).await;
    }
    panic!("never reached #{id} with the Tab key");
}

/// Marks the response the page shows by keyboard: level key, mark typed over, Tab to Submit, Enter.
async fn mark_by_keyboard(b: &crate::browser::Browser, level: &str, mark: &str) {
    use crate::browser::{ENTER, press};
    press(b, level).await;
    press(b, mark).await;
    tab_to(b, "submit-mark").await;
    press(b, ENTER).await;
    b.wait_for_text(".flash", "is submitted").await;
}

#[tokio::test]
async fn an_examiner_takes_a_set_by_keyboard_while_the_principal_examiners_page_updates_live() {
    use crate::browser::{Browser, ENTER, press};
    let q = Qual::new().await;
    q.two_sets_open().await;
    let m = q.meeting;
    let Some(pe) = Browser::start().await else { return };
    pe.sign_in(&q._app, "pe@board.example", PASSWORD).await;
    pe.client.goto(&q._app.url(&format!("/meetings/{m}/qualification"))).await.unwrap();
    pe.wait_for_text("#live-status", "Live").await;
    pe.client.execute("window.notReloaded = true", vec![]).await.unwrap();
    assert!(pe.text("tr[data-email='ex1@board.example'] .qual-state").await.contains("qualifying (set 1)"));

    let Some(ex) = Browser::start().await else { return };
    ex.sign_in(&q._app, "ex1@board.example", PASSWORD).await;
    ex.client.goto(&q._app.url(&format!("/meetings/{m}/qualification/mine"))).await.unwrap();
    ex.wait_for_text("#qualification-state", "Mark qualification set 1").await;
    assert!(ex.text("main").await.contains("You pass with at least 2 of the 2 scripts within tolerance"), "the rule is shown first");
    for (candidate, level, mark) in [("Q1", "3", "8"), ("Q2", "3", "9")] {
        tab_to(&ex, "mark-set").await;
        press(&ex, ENTER).await;
        ex.wait_for_text("h1", &format!("Candidate {candidate}")).await;
        assert!(!ex.text("main").await.contains("RATIONALE"), "nothing of the set before it is submitted");
        mark_by_keyboard(&ex, level, mark).await;
        ex.client.goto(&q._app.url(&format!("/meetings/{m}/qualification/mine"))).await.unwrap();
    }
    // The result, at once: their marks against the definitive marks, with the rationales.
    ex.wait_for_text("#qualification-state", "passed, awaiting approval").await;
    let result = ex.text("#result-1").await + &ex.text("main").await;
    assert!(result.contains("Set 1: passed") && result.contains("RATIONALE-Q2"), "{result}");
    ex.screenshot("qualification-result").await;

    // The principal examiner's page changed in place.
    pe.wait_for_text("tr[data-email='ex1@board.example'] .qual-state", "passed, awaiting approval").await;
    let still = pe.client.execute("return window.notReloaded === true", vec![]).await.unwrap();
    assert_eq!(still, json!(true), "the page updated without a reload");
    pe.screenshot("qualification-page").await;
    ex.client.clone().close().await.unwrap();
    pe.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn an_amendment_to_a_question_in_a_set_names_who_was_judged_on_it() {
    let q = Qual::new().await;
    q.two_sets_open().await;
    assert_eq!(q.mark(&q.ex[0], "Q1", 8).await.status(), 200);
    assert_eq!(q.mark(&q.ex[0], "Q2", 8).await.status(), 200);
    let paper: uuid::Uuid =
        sqlx::query_scalar("SELECT paper_id FROM meetings WHERE id = $1").bind(q.meeting).fetch_one(&q._app.db.pool).await.unwrap();
    let amendment =
        json!({"question": "01", "kind": "note", "text": "Credit either reading of Source B", "reason": "Agreed after qualification"});
    let r = q.pe.api.post_json(&format!("/api/v1/papers/{paper}/amendments"), &amendment).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let affected: Vec<(&str, i64, bool)> = body["qualification_affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["email"].as_str().unwrap(), a["set"].as_i64().unwrap(), a["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(affected, [("ex1@board.example", 1, true)], "{body}");
    let r = q
        .pe
        .api
        .post_json(&format!("/api/v1/papers/{paper}/amendments"), &json!({"question": "02", "kind": "note", "text": "x", "reason": "y"}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["qualification_affected"], json!([]), "question 02 is in no set");
}
