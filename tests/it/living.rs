//! The living mark scheme through the API: a referral answered with an
//! amendment that makes a new version (the old one unchanged), rulings that
//! keep the marks as they were, and the meeting's record.

use serde_json::{Value, json};

use crate::fixture::MeetingFixture;

#[tokio::test]
async fn a_referral_answered_with_an_amendment_makes_a_new_version_and_leaves_the_old_one() {
    let f = MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let ex1 = &f.examiners[0];
    let question = "The candidate argues the 1927 war scare explains the hostility; the scheme does not mention it. Credit as context?";

    // Bad input first: nothing is stored.
    assert_eq!(f.post(ex1, &format!("/responses/{rid}/referrals"), json!({"question": "  "})).await.status(), 422);
    let foreign: uuid::Uuid =
        sqlx::query_scalar("SELECT r.id FROM responses r JOIN scripts s ON s.id = r.script_id WHERE s.candidate = '0003'")
            .fetch_one(&f.app.db.pool)
            .await
            .unwrap();
    assert_eq!(f.post(ex1, &format!("/responses/{foreign}/referrals"), json!({"question": question})).await.status(), 404);
    assert_eq!(
        f.post(&f.pe, &format!("/responses/{rid}/referrals"), json!({"question": question})).await.status(),
        403,
        "examiners and team leaders refer"
    );

    let r = f.post(ex1, &format!("/responses/{rid}/referrals"), json!({"question": question})).await;
    assert_eq!(r.status(), 201);
    let referral = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let mine: Value = f.get(ex1, "/referrals").await.json().await.unwrap();
    assert_eq!((mine[0]["state"].as_str(), mine[0]["question"].as_str()), (Some("open"), Some(question)));
    let others: Value = f.get(&f.examiners[1], "/referrals").await.json().await.unwrap();
    assert_eq!(others, json!([]), "another examiner does not see it");
    let queue: Value = f.get(&f.pe, "/referrals").await.json().await.unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1);

    // An impossible amendment leaves everything as it was.
    let bad = json!({"answer": "Yes", "amendment": {"question": "09", "kind": "note", "text": "x", "reason": "y"}});
    let r = f.post(&f.pe, &format!("/referrals/{referral}/answer"), bad).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Question 09 is not on this paper"));
    let bad = json!({"answer": "Yes", "amendment": {"question": "01", "kind": "level_descriptor", "level": 9, "text": "x", "reason": "y"}});
    assert_eq!(f.post(&f.pe, &format!("/referrals/{referral}/answer"), bad).await.status(), 422);
    assert_eq!(f.get(ex1, "/referrals").await.json::<Value>().await.unwrap()[0]["state"], "open");
    let versions: Value = f.pe.api.get(&format!("/api/v1/papers/{}/versions", f.paper)).await.json().await.unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1, "no version was made");

    // Answered, with an amendment in the same step.
    let answer = json!({
        "answer": "Yes: credit it as context (AO1(b)). Added to the indicative content.",
        "amendment": {"question": "01", "kind": "indicative_content", "text": "the 1927 war scare as context for hostility", "reason": "Raised by an examiner's referral"}
    });
    let r = f.post(&f.pe, &format!("/referrals/{referral}/answer"), answer).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    assert_eq!(f.post(&f.pe, &format!("/referrals/{referral}/answer"), json!({"answer": "again"})).await.status(), 409, "answered once");
    let mine: Value = f.get(ex1, "/referrals").await.json().await.unwrap();
    assert_eq!(mine[0]["state"], "answered");
    let home = ex1.web.text("/referrals/answered").await;
    assert!(home.contains("Answers to your referrals") && home.contains("Yes: credit it as context"), "the answer on their home page");
    assert!(mine[0]["answer"].as_str().unwrap().starts_with("Yes: credit it as context"));

    // The new version carries it; the old one is unchanged.
    let v1: Value = f.pe.api.get(&format!("/api/v1/papers/{}/versions/1", f.paper)).await.json().await.unwrap();
    let v2: Value = f.pe.api.get(&format!("/api/v1/papers/{}/versions/2", f.paper)).await.json().await.unwrap();
    assert!(!v1["questions"][0]["indicative_content"].as_str().unwrap().contains("1927 war scare"));
    assert!(v2["questions"][0]["indicative_content"].as_str().unwrap().contains("- the 1927 war scare as context for hostility"));
    let versions: Value = f.pe.api.get(&format!("/api/v1/papers/{}/versions", f.paper)).await.json().await.unwrap();
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["reason"], "Raised by an examiner's referral");
    // Examiners now mark against it: the new point can be credited, and marks record version 2.
    let view: Value = f.get(ex1, &format!("/responses/{rid}")).await.json().await.unwrap();
    let point = view["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["text"] == "the 1927 war scare as context for hostility")
        .cloned()
        .expect("new point");
    let r = f.put(ex1, &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 8, "credited": [point["id"]]})).await;
    assert_eq!(r.status(), 200);
    let version: i32 =
        sqlx::query_scalar("SELECT v.number FROM marks m JOIN scheme_versions v ON v.id = m.scheme_version_id WHERE m.response_id = $1")
            .bind(rid)
            .fetch_one(&f.app.db.pool)
            .await
            .unwrap();
    assert_eq!(version, 2);

    // Only the principal examiner of a meeting on the paper (or an administrator) amends it.
    let amendment = json!({"question": "01", "kind": "note", "text": "Credit either reading", "reason": "Discussed"});
    assert_eq!(ex1.api.post_json(&format!("/api/v1/papers/{}/amendments", f.paper), &amendment).await.status(), 403);
    let r = f.pe.api.post_json(&format!("/api/v1/papers/{}/amendments", f.paper), &amendment).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 3);
    assert_eq!(f.outsider.api.get(&format!("/api/v1/papers/{}/versions", f.paper)).await.status(), 200, "in a meeting on the paper");

    // From the versions page too, for the principal examiner only.
    let page = f.pe.web.text(&format!("/papers/{}/versions", f.paper)).await;
    assert!(page.contains("Amend the mark scheme") && page.contains("Version 3"));
    assert!(!ex1.web.text(&format!("/papers/{}/versions", f.paper)).await.contains("Amend the mark scheme"));
    let form = [
        ("question", "02"),
        ("kind", "level_descriptor"),
        ("level", "2"),
        ("text", "Mostly narrative, with some relevant comment"),
        ("reason", "Clarified"),
    ];
    assert_eq!(ex1.web.post(&format!("/papers/{}/versions", f.paper), &form).await.status(), 403);
    assert_eq!(f.pe.web.post(&format!("/papers/{}/versions", f.paper), &form).await.status(), 303);
    let v4: Value = f.pe.api.get(&format!("/api/v1/papers/{}/versions/4", f.paper)).await.json().await.unwrap();
    assert_eq!(v4["questions"][1]["levels"][2]["descriptor"], "Mostly narrative, with some relevant comment");
    let diff = f.pe.web.text(&format!("/papers/{}/versions/3/diff/4", f.paper)).await;
    assert!(diff.contains("Level 2") && diff.contains("Mostly narrative, with some relevant comment"), "the difference side by side");

    // The final scheme as a document, amendments in place, reads back through the importer to the same structure.
    let document = f.pe.api.get(&format!("/api/v1/papers/{}/versions/3/document", f.paper)).await.text().await.unwrap();
    assert!(document.contains("the 1927 war scare as context for hostility") && document.contains("Credit either reading"));
    let r = f
        .admin
        .api
        .http
        .post(format!("{}/api/v1/papers/import", f.admin.api.base))
        .bearer_auth(&f.admin.api.token)
        .body(document)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut imported: Value = r.json().await.unwrap();
    // Where each question sat in the document is the import's own note, not part of the scheme.
    for q in imported["questions"].as_array_mut().unwrap() {
        q.as_object_mut().unwrap().remove("source");
    }
    let v3: Value = f.pe.api.get(&format!("/api/v1/papers/{}/versions/3", f.paper)).await.json().await.unwrap();
    let (got, want) = (imported["questions"].as_array().unwrap(), v3["questions"].as_array().unwrap());
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        for (field, value) in w.as_object().unwrap() {
            assert_eq!(&g[field], value, "question {} {field} after the round trip", w["number"]);
        }
    }
}

#[tokio::test]
async fn a_ruling_keeps_the_marks_as_they_were_and_the_record_reads_in_order() {
    let f = MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    assert_eq!(
        f.put(&f.examiners[0], &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 8, "submit": true})).await.status(),
        200
    );
    let r =
        f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": 9, "rationale": "Developed comparison"})).await;
    assert_eq!(r.status(), 200);
    // Marks given after the ruling are not in it.
    assert_eq!(
        f.put(&f.examiners[1], &format!("/responses/{rid}/mark"), json!({"level": 2, "mark": 6, "submit": true})).await.status(),
        200
    );
    let r =
        f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": 7, "rationale": "On reflection, thinner"})).await;
    assert_eq!(r.status(), 200);
    let record: Value = f.get(&f.pe, "/record").await.json().await.unwrap();
    let rulings: Vec<&Value> = record.as_array().unwrap().iter().filter(|e| e["type"] == "ruling").collect();
    assert_eq!(rulings.len(), 2);
    assert_eq!(rulings[0]["marks"].as_array().unwrap().len(), 1, "the first ruling saw one mark: {}", rulings[0]);
    assert_eq!(rulings[0]["definitive_before"], Value::Null);
    assert_eq!(rulings[0]["definitive_after"]["mark"], 9);
    assert_eq!(rulings[1]["marks"].as_array().unwrap().len(), 2);
    assert_eq!((rulings[1]["definitive_before"]["mark"].as_i64(), rulings[1]["definitive_after"]["mark"].as_i64()), (Some(9), Some(7)));
    // A question about the response answered with an amendment: the latest ruling on it is the one that led to it.
    let r = f.post(&f.examiners[0], &format!("/responses/{rid}/referrals"), json!({"question": "Why 7 and not 9?"})).await;
    assert_eq!(r.status(), 201);
    let referral = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let answer = json!({
        "answer": "Thinner than it looks; see the note.",
        "amendment": {"question": "01", "kind": "note", "text": "Comparison without support stays in Level 3 low", "reason": "Ruling on candidate 0001"}
    });
    let r = f.post(&f.pe, &format!("/referrals/{referral}/answer"), answer).await;
    assert_eq!(r.status(), 200);
    let record: Value = f.get(&f.pe, "/record").await.json().await.unwrap();
    let rulings: Vec<&Value> = record.as_array().unwrap().iter().filter(|e| e["type"] == "ruling").collect();
    assert_eq!((rulings[0]["amended_version"].as_i64(), rulings[1]["amended_version"].as_i64()), (None, Some(2)));
    assert!(record.as_array().unwrap().iter().any(|e| e["type"] == "amendment" && e["version"] == 2), "{record}");
    let md = f.get(&f.pe, "/record.md").await.text().await.unwrap();
    assert!(
        md.contains("## Ruling: candidate 0001, question 01")
            && md.contains("(was Level 3, 9)")
            && md.contains("On reflection, thinner")
            && md.contains("It led to an amendment of the mark scheme (version 2)"),
        "{md}"
    );
}

#[tokio::test]
async fn a_referral_from_the_marking_page_comes_back_answered_with_the_amendment_highlighted() {
    use crate::{browser::Browser, helpers::PASSWORD};
    let f = MeetingFixture::open().await;
    let (first, _, _) = f.responses[0].clone();
    let (next, _, _) = f.responses[1].clone();
    let m = f.meeting;
    let Some(ex) = Browser::start().await else { return };
    ex.sign_in(&f.app, "ex1@board.example", PASSWORD).await;
    ex.client.goto(&f.app.url(&format!("/meetings/{m}/responses/{first}"))).await.unwrap();
    ex.click("input[name=level][value='3']").await;
    ex.fill("#comment", "Half-way through my rationale").await;
    ex.wait_for_text("#save-status", "Draft saved").await;
    // Refer without leaving the page: the draft stays as it is.
    ex.click("#referrals summary").await;
    ex.fill("#referral-question", "The candidate cites the 1927 war scare; credit as context?").await;
    ex.click("#send-referral").await;
    ex.wait_for_text("#referrals", "Sent to the principal examiner").await;
    assert_eq!(
        ex.client.find(fantoccini::Locator::Css("#comment")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Half-way through my rationale")
    );
    ex.client.execute("window.notReloaded = true", vec![]).await.unwrap();

    // The principal examiner answers from the queue, amending the scheme in the same step.
    let Some(pe) = Browser::start().await else { return };
    pe.sign_in(&f.app, "pe@board.example", PASSWORD).await;
    pe.client.goto(&f.app.url(&format!("/meetings/{m}/referrals"))).await.unwrap();
    pe.wait_for_text("main", "credit as context?").await;
    pe.fill("textarea[name=answer]", "Yes, as context for the hostility in Source A.").await;
    pe.client.find(fantoccini::Locator::Css("select[name=kind]")).await.unwrap().select_by_value("indicative_content").await.unwrap();
    pe.fill("textarea[name=amendment_text]", "the 1927 war scare as context for peasant hostility").await;
    pe.fill("input[name=reason]", "Raised by an examiner's referral").await;
    pe.click("form.answer-form button[type=submit]").await;
    pe.wait_for_text(".flash", "the mark scheme amended: version 2").await;
    pe.screenshot("referral-queue").await;

    // The answer arrives on the examiner's open page without a reload; their next response highlights the amendment.
    ex.wait_for_text("#referrals", "Yes, as context for the hostility in Source A.").await;
    assert_eq!(ex.client.execute("return window.notReloaded === true", vec![]).await.unwrap(), serde_json::json!(true));
    ex.client.goto(&f.app.url(&format!("/meetings/{m}/responses/{next}"))).await.unwrap();
    ex.wait_for_text("#new-amendments", "the 1927 war scare as context for peasant hostility").await;
    ex.screenshot("amendment-highlighted").await;
    ex.client.clone().close().await.unwrap();
    pe.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn the_impact_of_a_changed_definitive_mark_names_exactly_those_whose_outcome_changes() {
    let f = MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let (other, _, _) = f.responses[1].clone();
    for (ex, mark) in [(&f.examiners[0], 8), (&f.examiners[1], 6), (&f.examiners[2], 9)] {
        let level = if mark >= 7 { 3 } else { 2 };
        assert_eq!(f.put(ex, &format!("/responses/{rid}/mark"), json!({"level": level, "mark": mark, "submit": true})).await.status(), 200);
    }
    assert_eq!(f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": 8, "rationale": "r"})).await.status(), 200);
    assert_eq!(
        f.put(&f.pe, &format!("/responses/{other}/definitive"), json!({"level": 3, "mark": 14, "rationale": "r"})).await.status(),
        200
    );
    assert_eq!(f.post(&f.pe, &format!("/responses/{rid}/release"), json!({})).await.status(), 200);

    let names =
        |v: &Value| -> Vec<String> { v["affected"].as_array().unwrap().iter().map(|a| a["email"].as_str().unwrap().to_owned()).collect() };
    // 8 → 10: only ex1 (8) falls outside; ex2 (6) stays outside, ex3 (9) stays within.
    let impact: Value = f.get(&f.pe, &format!("/responses/{rid}/impact?mark=10")).await.json().await.unwrap();
    assert_eq!(names(&impact), ["ex1@board.example"]);
    assert_eq!(
        (impact["affected"][0]["within_before"].as_bool(), impact["affected"][0]["within_after"].as_bool()),
        (Some(true), Some(false))
    );
    // 8 → 7: ex2 (6) comes within, ex3 (9) falls outside, ex1 (8) stays within.
    let impact: Value = f.get(&f.pe, &format!("/responses/{rid}/impact?mark=7")).await.json().await.unwrap();
    assert_eq!(names(&impact), ["ex2@board.example", "ex3@board.example"]);
    assert_eq!(f.get(&f.examiners[0], &format!("/responses/{rid}/impact?mark=7")).await.status(), 403, "the principal examiner's view");
    // The principal examiner's page shows the same as they type the new mark.
    let part = f.pe.web.text(&format!("/meetings/{}/responses/{rid}/impact?mark=10", f.meeting)).await;
    assert!(part.contains("Eve Examiner (mark 8): now outside tolerance"), "{part}");
    assert_eq!(f.get(&f.pe, &format!("/responses/{rid}/impact?mark=99")).await.status(), 422);
}

#[tokio::test]
async fn team_leaders_pass_referrals_up_and_the_record_shows_markers_only_what_is_theirs() {
    let f = MeetingFixture::setup().await;
    let (rid, _, _) = f.responses[0].clone();
    let ex3 = &f.examiners[2];
    let r = f.post(ex3, &format!("/responses/{rid}/referrals"), json!({"question": "Too early?"})).await;
    assert_eq!(r.status(), 409, "no referrals while the meeting is being set up");
    assert!(r.text().await.unwrap().contains("while it is marking"));
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 200);

    // ex3's team leader sees it and passes it up; then only the principal examiner answers.
    let r = f.post(ex3, &format!("/responses/{rid}/referrals"), json!({"question": "Is narrative of the 1840s relevant here?"})).await;
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let queue: Value = f.get(&f.leader, "/referrals").await.json().await.unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1, "their team's referral");
    let other: Value = f.get(&f.other_leader, "/referrals").await.json().await.unwrap();
    assert_eq!(other, json!([]), "not another team's");
    assert_eq!(f.post(&f.leader, &format!("/referrals/{id}/answer"), json!({"answer": "  "})).await.status(), 422, "an empty answer");
    assert_eq!(f.post(&f.other_leader, &format!("/referrals/{id}/pass-up"), json!({})).await.status(), 403);
    assert_eq!(f.post(&f.leader, &format!("/referrals/{id}/pass-up"), json!({})).await.status(), 200);
    let r = f.post(&f.leader, &format!("/referrals/{id}/answer"), json!({"answer": "Yes"})).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("passed up"));
    let amend = json!({"answer": "Yes", "amendment": {"question": "01", "kind": "note", "text": "x", "reason": "y"}});
    assert_eq!(f.post(&f.leader, &format!("/referrals/{id}/answer"), amend).await.status(), 403, "team leaders do not amend");
    assert_eq!(f.post(&f.pe, &format!("/referrals/{id}/answer"), json!({"answer": "Only as context"})).await.status(), 200);

    // Rulings: the principal examiner's record has everything; an examiner's, only released scripts and their own mark.
    for (ex, mark) in [(&f.examiners[0], 8), (&f.examiners[1], 6)] {
        let level = if mark >= 7 { 3 } else { 2 };
        assert_eq!(f.put(ex, &format!("/responses/{rid}/mark"), json!({"level": level, "mark": mark, "submit": true})).await.status(), 200);
    }
    assert_eq!(
        f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": 8, "rationale": "SECRET-RATIONALE"}))
            .await
            .status(),
        200
    );
    let mine = f.get(&f.examiners[0], "/record").await.text().await.unwrap();
    assert!(!mine.contains("SECRET-RATIONALE"), "nothing of an unreleased script: {mine}");
    let (other_rid, _, _) = f.responses[1].clone();
    assert_eq!(
        f.put(&f.pe, &format!("/responses/{other_rid}/definitive"), json!({"level": 3, "mark": 14, "rationale": "r"})).await.status(),
        200
    );
    assert_eq!(f.post(&f.pe, &format!("/responses/{rid}/release"), json!({})).await.status(), 200);
    let mine: Value = f.get(&f.examiners[0], "/record").await.json().await.unwrap();
    let ruling = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ruling" && e["definitive_after"]["rationale"] == "SECRET-RATIONALE")
        .cloned()
        .expect("released now");
    let emails: Vec<&str> = ruling["marks"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ex1@board.example"], "their own mark only");
    let all: Value = f.get(&f.pe, "/record").await.json().await.unwrap();
    let ruling = all.as_array().unwrap().iter().find(|e| e["definitive_after"]["rationale"] == "SECRET-RATIONALE").unwrap();
    assert_eq!(ruling["marks"].as_array().unwrap().len(), 2);

    // Someone in no meeting on the paper reads no version of it.
    let stranger = crate::fixture::person(&f.app, "stranger@board.example", "Sam Stranger", false).await;
    assert_eq!(stranger.api.get(&format!("/api/v1/papers/{}/versions", f.paper)).await.status(), 403);
}
