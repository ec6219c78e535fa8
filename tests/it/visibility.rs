//! The visibility policy as people meet it: a team leader marks blind until
//! their own mark is in, markers are never told a script is a seed, and a live
//! stream stops once its listener may no longer listen.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fixture::MeetingFixture;

const TEAM_COMMENT: &str = "EX3-TEAM-MEMBER-RATIONALE";

#[tokio::test]
async fn a_team_leader_marks_blind_until_they_submit() {
    let f = MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    // The team member marks first.
    let r = f
        .put(&f.examiners[2], &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 8, "comment": TEAM_COMMENT, "submit": true}))
        .await;
    assert_eq!(r.status(), 200);

    // Before marking, the leader sees neither the team's marks nor the panel's figures.
    let view: Value = f.get(&f.leader, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view.get("marks").is_none() && !view.to_string().contains(TEAM_COMMENT), "{view}");
    let page = f.leader.web.text(&format!("/meetings/{}/responses/{rid}", f.meeting)).await;
    assert!(!page.contains(TEAM_COMMENT) && !page.contains("Your team's marks") && !page.contains("examiner-marks"), "blind page");
    let all: Value = f.get(&f.leader, "/marks").await.json().await.unwrap();
    assert_eq!(all, json!([]), "the marks list is blind too");

    // A draft is not enough.
    let r = f.put(&f.leader, &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 7, "comment": "mine", "submit": false})).await;
    assert_eq!(r.status(), 200);
    let view: Value = f.get(&f.leader, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view.get("marks").is_none(), "{view}");

    // Once submitted, the team's marks appear, on this response only.
    let r = f
        .put(&f.leader, &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 7, "comment": "mine", "submit": true, "version": 1}))
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let view: Value = f.get(&f.leader, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view["marks"].to_string().contains(TEAM_COMMENT), "{view}");
    assert!(view.get("definitive").is_none(), "still no definitive mark before release");
    let page = f.leader.web.text(&format!("/meetings/{}/responses/{rid}", f.meeting)).await;
    assert!(page.contains(TEAM_COMMENT) && page.contains("Your team's marks"));
    let all: Value = f.get(&f.leader, "/marks").await.json().await.unwrap();
    let responses: Vec<&str> = all.as_array().unwrap().iter().map(|m| m["response_id"].as_str().unwrap()).collect();
    assert!(responses.iter().all(|r| *r == rid.to_string()), "{all}");
    assert_eq!(responses.len(), 2, "the leader's own mark and the team member's");
}

#[tokio::test]
async fn markers_are_never_told_a_script_is_a_seed() {
    let f = MeetingFixture::setup().await;
    sqlx::query("UPDATE meeting_scripts SET purpose = 'seed' WHERE meeting_id = $1").bind(f.meeting).execute(&f.app.db.pool).await.unwrap();
    assert_eq!(f.post(&f.pe, "/open", json!({})).await.status(), 200);
    // The seeds are given to these two markers (as an approved examiner gets them), so they sit in their lists.
    for marker in [&f.examiners[0], &f.leader] {
        sqlx::query("INSERT INTO seed_assignments (meeting_id, examiner_id, script_id) SELECT meeting_id, $2, script_id FROM meeting_scripts WHERE meeting_id = $1")
            .bind(f.meeting)
            .bind(marker.user.id)
            .execute(&f.app.db.pool)
            .await
            .unwrap();
    }
    let (rid, _, _) = f.responses[0].clone();
    for marker in [&f.examiners[0], &f.leader] {
        let list: Value = f.get(marker, "/assignments").await.json().await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 4, "the seeds are in their list: {list}");
        let assignments = f.get(marker, "/assignments").await.text().await.unwrap();
        assert!(!assignments.contains("seed") && !assignments.contains("purpose"), "{assignments}");
        let view = f.get(marker, &format!("/responses/{rid}")).await.text().await.unwrap();
        assert!(!view.contains("seed") && !view.contains("purpose"), "{view}");
        for page in [format!("/meetings/{}", f.meeting), format!("/meetings/{}/responses/{rid}", f.meeting)] {
            let html = marker.web.text(&page).await.to_lowercase();
            assert!(!html.contains("seed"), "{page} names the seed");
        }
    }
    // The principal examiner is told.
    let view: Value = f.get(&f.pe, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert_eq!(view["purpose"], "seed");
}

/// Reads a live stream until it ends (true) or `limit` passes (false).
async fn ends_within(mut stream: reqwest::Response, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(_) => return true,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn a_live_stream_stops_after_sign_out_or_a_revoked_token() {
    let f = MeetingFixture::open().await;
    let limit = standardise::live::RECHECK + Duration::from_secs(3);

    // A page's stream, then its person signs out in the same browser.
    let ex = &f.examiners[0];
    let page_stream = ex.web.get(&format!("/meetings/{}/events", f.meeting)).await;
    assert_eq!(page_stream.status(), 200);
    assert_eq!(ex.web.post("/logout", &[]).await.status(), 303);
    assert!(ends_within(page_stream, limit).await, "the page's stream ended after signing out");

    // An API stream, then the token is revoked.
    let ed = &f.examiners[1];
    let api_stream = f.get(ed, "/events").await;
    assert_eq!(api_stream.status(), 200);
    sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1").bind(ed.user.id).execute(&f.app.db.pool).await.unwrap();
    assert!(ends_within(api_stream, limit).await, "the API stream ended after the token was revoked");

    // Removed from the meeting: the stream ends too; someone still in it keeps listening.
    let em = &f.examiners[2];
    let removed = f.get(em, "/events").await;
    let kept = f.get(&f.pe, "/events").await;
    sqlx::query("DELETE FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2")
        .bind(f.meeting)
        .bind(em.user.id)
        .execute(&f.app.db.pool)
        .await
        .unwrap();
    assert!(ends_within(removed, limit).await, "a removed examiner stops hearing");
    assert!(!ends_within(kept, limit).await, "the principal examiner still listens");
}
