//! Every meeting route × every role: allowed or refused, decided by the
//! server; and no response body shows a marker another examiner's mark or
//! the definitive mark before release.

use serde_json::{Value, json};

use crate::fixture::{MeetingFixture, Person};

const OTHER_EXAMINER: &str = "SECRET-EX2-COMMENT";
const TEAM_MEMBER: &str = "TEAM-EX3-COMMENT";
const RATIONALE: &str = "SECRET-PE-RATIONALE";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Admin,
    Pe,
    LeaderOfTeam,
    LeaderOfOtherTeam,
    Examiner,
    OtherMeetingExaminer,
    Anonymous,
}

const EVERYONE: [Who; 7] =
    [Who::Admin, Who::Pe, Who::LeaderOfTeam, Who::LeaderOfOtherTeam, Who::Examiner, Who::OtherMeetingExaminer, Who::Anonymous];

fn person(f: &MeetingFixture, who: Who) -> Option<&Person> {
    match who {
        Who::Admin => Some(&f.admin),
        Who::Pe => Some(&f.pe),
        Who::LeaderOfTeam => Some(&f.leader),
        Who::LeaderOfOtherTeam => Some(&f.other_leader),
        Who::Examiner => Some(&f.examiners[0]),
        Who::OtherMeetingExaminer => Some(&f.outsider),
        Who::Anonymous => None,
    }
}

/// Calls the API as `who` (anonymous: no token).
async fn call(f: &MeetingFixture, who: Who, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
    let url = format!("http://{}{}", f.app.addr, f.url(path));
    let http = reqwest::Client::new();
    let mut req = match method {
        "GET" => http.get(&url),
        "PUT" => http.put(&url),
        _ => http.post(&url),
    };
    if let Some(p) = person(f, who) {
        req = req.bearer_auth(&p.api.token);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Walks a JSON body for what a marker must not get before release: any
/// `definitive` field, and marks of examiners outside the viewer's team.
fn json_leaks(value: &Value, allowed_examiners: &[&str], found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("definitive").is_some_and(|d| !d.is_null()) {
                found.push("a definitive mark".into());
            }
            if let Some(email) = map.get("email").and_then(Value::as_str).filter(|_| map.contains_key("mark"))
                && !allowed_examiners.contains(&email)
            {
                found.push(format!("the mark of {email}"));
            }
            if let Some(email) = map.get("examiner").and_then(Value::as_str)
                && !allowed_examiners.contains(&email)
            {
                found.push(format!("the mark of {email}"));
            }
            map.values().for_each(|v| json_leaks(v, allowed_examiners, found));
        }
        Value::Array(items) => items.iter().for_each(|v| json_leaks(v, allowed_examiners, found)),
        _ => {}
    }
}

fn assert_no_secrets(who: Who, what: &str, body: &str) {
    let allowed: &[&str] = match who {
        Who::Examiner => &["ex1@board.example"],
        Who::LeaderOfTeam => &["tl@board.example", "ex3@board.example"],
        Who::LeaderOfOtherTeam => &["tl2@board.example"],
        _ => &[],
    };
    if !matches!(who, Who::Admin | Who::Pe) {
        if let Ok(json) = serde_json::from_str::<Value>(body) {
            let mut found = Vec::new();
            json_leaks(&json, allowed, &mut found);
            assert!(found.is_empty(), "{who:?} gets {found:?} in {what}: {body}");
        }
        assert!(
            !body.contains("id=\"definitive-mark\"") && !body.contains("id=\"definitive-summary\""),
            "{who:?} sees a definitive mark in {what}"
        );
    }
    let forbidden: &[&str] = match who {
        Who::Admin | Who::Pe => &[],
        Who::LeaderOfTeam => &[OTHER_EXAMINER, RATIONALE],
        _ => &[OTHER_EXAMINER, TEAM_MEMBER, RATIONALE],
    };
    for secret in forbidden {
        assert!(!body.contains(secret), "{who:?} must not see {secret} in {what}: {body}");
    }
}

/// Marks everyone may not see: another examiner's, a team member's, and the PE's definitive mark.
async fn mark_blind(f: &MeetingFixture) {
    let (rid, _, _) = &f.responses[0];
    let r = f
        .put(&f.examiners[1], &format!("/responses/{rid}/mark"), json!({"level": 2, "mark": 6, "comment": OTHER_EXAMINER, "submit": true}))
        .await;
    assert_eq!(r.status(), 200);
    let r = f
        .put(&f.examiners[2], &format!("/responses/{rid}/mark"), json!({"level": 4, "mark": 11, "comment": TEAM_MEMBER, "submit": true}))
        .await;
    assert_eq!(r.status(), 200);
    let r = f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": 9, "rationale": RATIONALE})).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn every_meeting_route_for_every_role() {
    let f = MeetingFixture::open().await;
    mark_blind(&f).await;
    let (rid, _, _) = f.responses[0].clone();
    let (rid2, _, _) = f.responses[2].clone();
    use Who::*;
    let markers: &[Who] = &[LeaderOfTeam, LeaderOfOtherTeam, Examiner];
    let participants: &[Who] = &[Admin, Pe, LeaderOfTeam, LeaderOfOtherTeam, Examiner];
    let routes: Vec<(&str, String, Option<Value>, &[Who])> = vec![
        ("GET", "/assignments".into(), None, markers),
        ("GET", format!("/responses/{rid}"), None, participants),
        ("PUT", format!("/responses/{rid}/mark"), Some(json!({"level": 3, "mark": 8, "comment": "mine"})), markers),
        ("PUT", format!("/responses/{rid}/definitive"), Some(json!({"level": 3, "mark": 9, "rationale": RATIONALE})), &[Pe]),
        ("POST", format!("/responses/{rid}/reopen"), Some(json!({"examiner": "ex2@board.example", "reason": "check"})), &[Pe]),
        ("POST", "/open".into(), Some(json!({})), &[Admin, Pe]),
        ("GET", "/audit".into(), None, &[Admin, Pe]),
        ("GET", "/audit.csv".into(), None, &[Admin, Pe]),
        ("GET", "/marks".into(), None, &[Admin, Pe, LeaderOfTeam, LeaderOfOtherTeam]),
        ("GET", "/stats".into(), None, &[Admin, Pe]),
        ("POST", "/people".into(), Some(json!({"examiners": []})), &[Admin, Pe]),
        // Releases and closing last: they change what the others may see.
        ("POST", format!("/responses/{rid2}/release"), Some(json!({})), &[Pe]),
        ("POST", "/release".into(), Some(json!({})), &[Pe]),
        ("POST", "/close".into(), Some(json!({})), &[Admin, Pe]),
    ];
    for (method, path, body, allowed) in &routes {
        for who in EVERYONE {
            // The PE's release and close calls would change the state for the next roles: call them last.
            if (path.ends_with("release") || path == "/close") && [Pe, Admin].contains(&who) && allowed.contains(&who) {
                continue;
            }
            let (status, text) = call(&f, who, method, path, body.clone()).await;
            let what = format!("{method} {path}");
            if who == Anonymous {
                assert_eq!(status, 401, "{what} as anonymous");
            } else if allowed.contains(&who) {
                assert!(![401, 403, 500].contains(&status), "{what} as {who:?} should be allowed, got {status}: {text}");
            } else {
                assert_eq!(status, 403, "{what} as {who:?} should be refused: {text}");
            }
            if !path.contains("release") {
                assert_no_secrets(who, &what, &text);
            }
        }
    }
    // The event stream: everyone in the meeting may listen; the body never ends, so only the status is read.
    for who in EVERYONE {
        let mut req = reqwest::Client::new().get(format!("http://{}{}", f.app.addr, f.url("/events")));
        if let Some(p) = person(&f, who) {
            req = req.bearer_auth(&p.api.token);
        }
        let status = req.send().await.unwrap().status().as_u16();
        let expected = match who {
            Anonymous => 401,
            OtherMeetingExaminer => 403,
            _ => 200,
        };
        assert_eq!(status, expected, "GET /events as {who:?}");
    }
    // Now the PE's releases (allowed: 200 or a clear 422 for missing definitive marks), then closing.
    for path in [format!("/responses/{rid2}/release"), "/release".into()] {
        let (status, text) = call(&f, Pe, "POST", &path, Some(json!({}))).await;
        assert!(status == 200 || status == 422, "{path}: {status} {text}");
    }
    let (status, text) = call(&f, Admin, "POST", "/close", Some(json!({}))).await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = call(&f, Pe, "POST", "/close", Some(json!({}))).await;
    assert_eq!(status, 409, "allowed, but already closed");
}

#[tokio::test]
async fn nothing_leaks_to_markers_before_release_in_any_body() {
    let f = MeetingFixture::open().await;
    mark_blind(&f).await;
    let (rid, _, _) = f.responses[0].clone();
    let m = f.meeting;
    for who in EVERYONE {
        let Some(p) = person(&f, who) else { continue };
        // API bodies.
        for path in [format!("/responses/{rid}"), "/assignments".into(), "/audit".into()] {
            let (_, body) = call(&f, who, "GET", &path, None).await;
            assert_no_secrets(who, &path, &body);
        }
        // Pages: overview, marking page, audit, attachments and the home page.
        for page in [
            format!("/meetings/{m}"),
            format!("/meetings/{m}/responses/{rid}"),
            format!("/meetings/{m}/audit"),
            "/".into(),
            "/meetings".into(),
        ] {
            let body = p.web.text(&page).await;
            assert_no_secrets(who, &page, &body);
        }
        // Error bodies too: anyone else calling a PE endpoint.
        if who != Who::Pe {
            let (_, body) = call(&f, who, "PUT", &format!("/responses/{rid}/definitive"), Some(json!({"level": 1, "mark": 1}))).await;
            assert_no_secrets(who, "definitive refusal", &body);
        }
    }
    // The checker itself finds a leak when there is one: the PE's view, read as an examiner's.
    let pe_view: Value = f.get(&f.pe, &format!("/responses/{rid}")).await.json().await.unwrap();
    let mut found = Vec::new();
    json_leaks(&pe_view, &["ex1@board.example"], &mut found);
    assert!(found.contains(&"a definitive mark".to_owned()) && found.iter().any(|l| l.contains("ex2@board.example")), "{found:?}");
    // What each does see.
    let view: Value = f.get(&f.leader, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view.get("definitive").is_none());
    assert!(view.get("marks").is_none(), "the leader marks blind until their own mark is in: {view}");
    let r = f.put(&f.leader, &format!("/responses/{rid}/mark"), json!({"level": 2, "mark": 5, "submit": true})).await;
    assert_eq!(r.status(), 200);
    let view: Value = f.get(&f.leader, &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view.get("definitive").is_none());
    let emails: Vec<&str> = view["marks"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ex3@board.example", "tl@board.example"], "their own and their team member's, nobody else's: {view}");
    let view: Value = f.get(&f.examiners[0], &format!("/responses/{rid}")).await.json().await.unwrap();
    assert!(view.get("definitive").is_none() && view.get("marks").is_none());
    let overview = f.leader.web.text(&format!("/meetings/{m}")).await;
    assert!(overview.contains("Your team") && overview.contains("Em Examiner") && overview.contains("1 of 4"), "{overview}");
    let page = f.pe.web.text(&format!("/meetings/{m}/responses/{rid}")).await;
    assert!(page.contains(OTHER_EXAMINER) && page.contains(TEAM_MEMBER) && page.contains(RATIONALE));
}

#[tokio::test]
async fn only_administrators_set_up_meetings() {
    let f = MeetingFixture::setup().await;
    let body = json!({"paper_id": f.paper, "name": "Another", "principal_examiner": "pe@board.example"});
    for who in EVERYONE {
        let http = reqwest::Client::new();
        let mut req = http.post(format!("http://{}/api/v1/meetings", f.app.addr)).json(&body);
        if let Some(p) = person(&f, who) {
            req = req.bearer_auth(&p.api.token);
        }
        let status = req.send().await.unwrap().status().as_u16();
        let expected = match who {
            Who::Admin => 201,
            Who::Anonymous => 401,
            _ => 403,
        };
        assert_eq!(status, expected, "POST /api/v1/meetings as {who:?}");
        let Some(p) = person(&f, who) else {
            assert_eq!(f.app.client().get("/meetings/new").await.status(), 303);
            continue;
        };
        assert_eq!(p.web.get("/meetings").await.status(), 200, "everyone signed in sees their own meetings");
        let expected = if who == Who::Admin { 200 } else { 403 };
        assert_eq!(p.web.get("/meetings/new").await.status(), expected, "GET /meetings/new as {who:?}");
        if who != Who::Admin {
            let paper = f.paper.to_string();
            let status = p
                .web
                .post("/meetings", &[("paper_id", paper.as_str()), ("name", "x"), ("principal_examiner", "pe@board.example")])
                .await
                .status();
            assert_eq!(status, 403, "POST /meetings as {who:?}");
        }
    }
    // The list shows each person only the meetings they take part in.
    let list = f.outsider.web.text("/meetings").await;
    assert!(list.contains("Another meeting") && !list.contains("Sample history paper standardisation"));
}

/// Posts a page form with a CSRF token from the person's home page.
async fn post_page(p: &Person, action: &str, fields: &[(&str, &str)]) -> u16 {
    p.web.post(action, fields).await.status().as_u16()
}

#[tokio::test]
async fn meeting_pages_for_every_role() {
    let f = MeetingFixture::open().await;
    mark_blind(&f).await;
    let (rid, _, _) = f.responses[0].clone();
    let m = f.meeting;
    use Who::*;
    let participants: &[Who] = &[Admin, Pe, LeaderOfTeam, LeaderOfOtherTeam, Examiner];
    let gets: Vec<(String, &[Who])> = vec![
        (format!("/meetings/{m}"), participants),
        (format!("/meetings/{m}/responses/{rid}"), participants),
        (format!("/meetings/{m}/audit"), &[Admin, Pe]),
        (format!("/meetings/{m}/audit.csv"), &[Admin, Pe]),
        (format!("/meetings/{m}/dashboard"), &[Admin, Pe]),
        (format!("/meetings/{m}/dashboard/live"), &[Admin, Pe]),
        (format!("/meetings/{m}/report"), &[Admin, Pe]),
        (format!("/meetings/{m}/export/marks.csv"), &[Admin, Pe]),
        (format!("/meetings/{m}/export/examiners.csv"), &[Admin, Pe]),
        (format!("/meetings/{m}/export/every-mark.csv"), &[Admin, Pe]),
        (format!("/meetings/{m}/export/meeting.xlsx"), &[Admin, Pe]),
    ];
    for (path, allowed) in &gets {
        for who in EVERYONE {
            let status = match person(&f, who) {
                Some(p) => p.web.get(path).await.status().as_u16(),
                None => f.app.client().get(path).await.status().as_u16(),
            };
            let expected = if who == Anonymous {
                303
            } else if allowed.contains(&who) {
                200
            } else {
                403
            };
            assert_eq!(status, expected, "GET {path} as {who:?}");
        }
    }
    let script: uuid::Uuid = sqlx::query_scalar("SELECT script_id FROM meeting_scripts WHERE meeting_id = $1 AND position = 1")
        .bind(m)
        .fetch_one(&f.app.db.pool)
        .await
        .unwrap();
    type Post<'a> = (String, Vec<(&'a str, &'a str)>, &'a [Who]);
    let posts: Vec<Post> = vec![
        (
            format!("/meetings/{m}/responses/{rid}/mark"),
            vec![("level", "3"), ("mark", "8"), ("version", "0"), ("action", "draft")],
            &[LeaderOfTeam, LeaderOfOtherTeam, Examiner],
        ),
        (
            format!("/meetings/{m}/responses/{rid}/definitive"),
            vec![("level", "3"), ("mark", "9"), ("rationale", RATIONALE), ("version", "1")],
            &[Pe],
        ),
        (format!("/meetings/{m}/responses/{rid}/reopen"), vec![("examiner", "00000000-0000-0000-0000-000000000000")], &[Pe]),
        (format!("/meetings/{m}/tolerances"), vec![("tolerance.01", "1")], &[Pe]),
        (format!("/meetings/{m}/open"), vec![], &[Admin, Pe]),
        (format!("/meetings/{m}/tolerances/01/adopt"), vec![], &[Pe]),
        (format!("/meetings/{m}/people"), vec![("emails", "")], &[Admin, Pe]),
        (format!("/meetings/{m}/people/{}/remove", f.examiners[1].user.id), vec![], &[Admin, Pe]),
        (format!("/meetings/{m}/scripts"), vec![], &[Admin, Pe]),
        (format!("/meetings/{m}/scripts/{script}/remove"), vec![], &[Admin, Pe]),
        (format!("/meetings/{m}/scripts/{script}/release"), vec![], &[Pe]),
        (format!("/meetings/{m}/release"), vec![], &[Pe]),
        (format!("/meetings/{m}/close"), vec![], &[Admin, Pe]),
    ];
    for (path, fields, allowed) in &posts {
        for who in EVERYONE {
            let Some(p) = person(&f, who) else {
                let status = f.app.client().post(path, fields).await.status().as_u16();
                assert!(status == 303 || status == 403, "POST {path} anonymous: {status}");
                continue;
            };
            // Releasing and closing would change what later roles are allowed: checked last.
            if (path.contains("release") || path.ends_with("/close")) && allowed.contains(&who) {
                continue;
            }
            let status = post_page(p, path, fields).await;
            if allowed.contains(&who) {
                assert!(![401, 403, 500].contains(&status), "POST {path} as {who:?}: {status}");
            } else {
                assert_eq!(status, 403, "POST {path} as {who:?}");
            }
        }
    }
    // The page event stream answers the meeting's people only.
    for who in [Admin, Pe, LeaderOfTeam, Examiner, OtherMeetingExaminer] {
        let p = person(&f, who).unwrap();
        let status = p.web.http.get(format!("{}/meetings/{m}/events", p.web.base)).send().await.unwrap().status().as_u16();
        assert_eq!(status, if who == OtherMeetingExaminer { 403 } else { 200 }, "events as {who:?}");
    }
    // Then the state-changing ones by those allowed.
    for path in [format!("/meetings/{m}/scripts/{script}/release"), format!("/meetings/{m}/release"), format!("/meetings/{m}/close")] {
        let status = post_page(&f.pe, &path, &[]).await;
        assert!(![401, 403, 500].contains(&status), "POST {path} as the PE: {status}");
    }
}

#[tokio::test]
async fn scans_are_served_only_to_the_meetings_people() {
    let f = MeetingFixture::open().await;
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    let form =
        reqwest::multipart::Form::new().text("candidate", "0009").part("file.01", reqwest::multipart::Part::bytes(png).file_name("a.png"));
    assert_eq!(f.admin.web.post_multipart(&format!("/papers/{}/scripts", f.paper), form).await.status(), 303);
    let (script, attachment): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("SELECT s.id, r.attachment_id FROM scripts s JOIN responses r ON r.script_id = s.id WHERE s.candidate = '0009'")
            .fetch_one(&f.app.db.pool)
            .await
            .unwrap();
    let url = format!("/attachments/{attachment}");
    assert_eq!(f.examiners[0].web.get(&url).await.status(), 403, "not yet in any of their meetings");
    sqlx::query("INSERT INTO meeting_scripts (meeting_id, paper_id, script_id, purpose, position) VALUES ($1, $2, $3, 'practice', 9)")
        .bind(f.meeting)
        .bind(f.paper)
        .bind(script)
        .execute(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(f.examiners[0].web.get(&url).await.status(), 200);
    assert_eq!(f.outsider.web.get(&url).await.status(), 403);
}
