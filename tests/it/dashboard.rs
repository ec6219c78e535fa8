//! The dashboard: statistics by hand, who may see them, exports, live
//! events across two server processes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fixture::MeetingFixture;

/// Marks with figures worked out by hand (see each assertion).
async fn mark_scenario(f: &MeetingFixture) {
    let [r0, r1, r2, _r3] = [0, 1, 2, 3].map(|i| f.responses[i].0);
    async fn put(f: &MeetingFixture, who: usize, rid: uuid::Uuid, level: i32, mark: i32, submit: bool) -> reqwest::Response {
        let p = if who < 3 { &f.examiners[who] } else { &f.leader };
        f.put(p, &format!("/responses/{rid}/mark"), json!({"level": level, "mark": mark, "submit": submit})).await
    }
    // r0 = candidate 0001, Q01 (max 12, tolerance 1): 8, 6, 10 and the leader's 9.
    for (who, level, mark) in [(0, 3, 8), (1, 2, 6), (2, 4, 10), (3, 3, 9)] {
        assert_eq!(put(f, who, r0, level, mark, true).await.status(), 200);
    }
    // r1 = 0001, Q02 (max 24, tolerance 3): 14 and 20; examiner 3 did not mark it.
    assert_eq!(put(f, 0, r1, 3, 14, true).await.status(), 200);
    assert_eq!(put(f, 1, r1, 4, 20, true).await.status(), 200);
    // r2 = 0002, Q01: one submitted mark and one draft; no definitive mark.
    assert_eq!(put(f, 0, r2, 2, 4, true).await.status(), 200);
    assert_eq!(put(f, 1, r2, 2, 5, false).await.status(), 200);
    assert_eq!(f.put(&f.pe, &format!("/responses/{r0}/definitive"), json!({"level": 3, "mark": 8, "rationale": "r"})).await.status(), 200);
    assert_eq!(f.put(&f.pe, &format!("/responses/{r1}/definitive"), json!({"level": 3, "mark": 14, "rationale": "r"})).await.status(), 200);
}

#[tokio::test]
async fn the_stats_endpoint_matches_figures_worked_by_hand() {
    let f = MeetingFixture::open().await;
    mark_scenario(&f).await;
    let r = f.get(&f.pe, "/stats").await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();

    let responses = s["responses"].as_array().unwrap();
    let r0 = &responses[0];
    assert_eq!((r0["question"].as_str(), r0["n"].as_i64()), (Some("01"), Some(4)));
    assert_eq!(r0["mean"], 8.25);
    assert_eq!(r0["median"], 8.5);
    assert_eq!(r0["sd"], 1.708, "sqrt(8.75 / 3)");
    assert_eq!((r0["min"].as_i64(), r0["max"].as_i64()), (Some(6), Some(10)));
    assert_eq!(r0["definitive"], 8);
    assert_eq!(r0["outside_tolerance"], 2, "6 and 10 are 2 away, beyond ±1");
    assert_eq!(r0["discussion_rank"], 1);
    let r1 = &responses[1];
    assert_eq!((r1["n"].as_i64(), r1["mean"].as_f64(), r1["sd"].as_f64()), (Some(2), Some(17.0), Some(4.243)));
    assert_eq!(r1["outside_tolerance"], 1, "20 is 6 above 14, beyond ±3");
    let r2 = &responses[2];
    assert_eq!(r2["n"], 1, "the draft does not count");
    assert_eq!(r2["sd"], Value::Null);
    assert_eq!(r2["definitive"], Value::Null);
    assert_eq!(r2["outside_tolerance"], Value::Null, "no definitive mark, no deviation");
    let r3 = &responses[3];
    assert_eq!((r3["n"].as_i64(), &r3["mean"]), (Some(0), &Value::Null));

    let examiners = s["examiners"].as_array().unwrap();
    let by = |email: &str| examiners.iter().find(|e| e["email"] == email).unwrap().clone();
    let eve = by("ex1@board.example");
    assert_eq!((eve["n"].as_i64(), eve["mean_deviation"].as_f64(), eve["within_tolerance_rate"].as_f64()), (Some(2), Some(0.0), Some(1.0)));
    assert_eq!(eve["level_agreement_rate"], 1.0);
    assert_eq!(eve["flags"], json!([]));
    // Ed: deviations −2 (tolerance 1) and +6 (tolerance 3): mean +2, |mean| 4,
    // none within; mean tolerance 2, so lenient (2 > 1) and erratic (SD 5.657 > 2).
    let ed = by("ex2@board.example");
    assert_eq!((ed["mean_deviation"].as_f64(), ed["mean_abs_deviation"].as_f64()), (Some(2.0), Some(4.0)));
    assert_eq!(ed["within_tolerance_rate"], 0.0);
    assert_eq!(ed["level_agreement_rate"], 0.0);
    assert_eq!(ed["flags"], json!(["lenient", "erratic"]));
    assert_eq!(ed["drafts"], 1);
    assert!(ed["flag_reasons"][0].as_str().unwrap().contains("above the definitive mark on average"));
    assert_eq!(ed["kappa"]["01"]["quadratic_weighted_kappa"], Value::Null, "n too small");
    let em = by("ex3@board.example");
    assert_eq!((em["n"].as_i64(), em["sd_deviation"].clone()), (Some(1), Value::Null));
    assert_eq!(by("tl2@board.example")["mean_deviation"], Value::Null, "marked nothing: no figure");

    let questions = s["questions"].as_array().unwrap();
    let q1 = &questions[0];
    assert_eq!((q1["number"].as_str(), q1["tolerance"].as_i64()), (Some("01"), Some(1)));
    assert_eq!((q1["n_responses"].as_i64(), q1["n_marks"].as_i64()), (Some(2), Some(5)));
    // One pairable unit: observed and expected disagreement come from the same
    // four marks, so alpha = 1 − (4 − 1)·(S/3)/S = 0.
    assert_eq!(q1["krippendorff_alpha_interval"], 0.0);
    assert_eq!(q1["icc_a1"], Value::Null, "no response was marked by every examiner");
    assert_eq!(q1["suggested_tolerance"], 2, "deviations 0, −2, +2, +1: ±2 passes all, ±1 half");
    assert_eq!(questions[1]["tolerance"], 3);
    assert_eq!(questions[1]["suggested_tolerance"], 6);
}

/// The marks come in the paper's order: script by script, and within a script
/// by the question's position on the paper, not by the question's id.
#[tokio::test]
async fn marks_are_listed_in_the_papers_order() {
    let f = MeetingFixture::open().await;
    mark_scenario(&f).await;
    // Of the two questions marked (01 and 02), put the one whose id sorts last
    // first on the paper, so that the order of ids and of positions disagree.
    let questions: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, number FROM questions WHERE paper_id = $1 AND number IN ('01', '02') ORDER BY id")
            .bind(f.paper)
            .fetch_all(&f.app.db.pool)
            .await
            .unwrap();
    assert_eq!(questions.len(), 2);
    let (second, first) = (&questions[0], &questions[1]);
    sqlx::query("UPDATE questions SET position = CASE WHEN id = $1 THEN 0 ELSE 1 END WHERE id IN ($1, $2)")
        .bind(first.0)
        .bind(second.0)
        .execute(&f.app.db.pool)
        .await
        .unwrap();
    let all: Value = f.get(&f.pe, "/marks").await.json().await.unwrap();
    let mut seen: Vec<(String, String)> = Vec::new();
    for m in all.as_array().unwrap() {
        let (_, candidate, question) = f.responses.iter().find(|r| r.0.to_string() == m["response_id"].as_str().unwrap()).unwrap();
        if seen.last() != Some(&(candidate.clone(), question.clone())) {
            seen.push((candidate.clone(), question.clone()));
        }
    }
    // 0001 has marks on both questions, 0002 only on Q01.
    let mut expected = vec![("0001".to_owned(), first.1.clone()), ("0001".to_owned(), second.1.clone())];
    expected.push(("0002".to_owned(), "01".to_owned()));
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn marks_and_stats_are_for_the_right_people() {
    let f = MeetingFixture::open().await;
    mark_scenario(&f).await;
    let all: Value = f.get(&f.pe, "/marks").await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 8);
    assert!(all.as_array().unwrap().iter().any(|m| m["state"] == "draft"));
    let team: Value = f.get(&f.leader, "/marks").await.json().await.unwrap();
    let emails: Vec<&str> = team.as_array().unwrap().iter().map(|m| m["examiner"].as_str().unwrap()).collect();
    assert!(emails.iter().all(|e| *e == "ex3@board.example" || *e == "tl@board.example"), "{emails:?}");
    assert_eq!(emails.len(), 2);
    assert_eq!(f.get(&f.examiners[0], "/marks").await.status(), 403);
    assert_eq!(f.get(&f.examiners[0], "/stats").await.status(), 403);
    assert_eq!(f.get(&f.leader, "/stats").await.status(), 403);
    assert_eq!(f.get(&f.admin, "/stats").await.status(), 200);
    assert_eq!(f.get(&f.outsider, "/marks").await.status(), 403);
}

#[tokio::test]
async fn the_dashboard_page_exports_and_adopting_a_tolerance() {
    let f = MeetingFixture::open().await;
    mark_scenario(&f).await;
    let m = f.meeting;
    let page = f.pe.web.text(&format!("/meetings/{m}/dashboard")).await;
    assert!(page.contains("Discuss next") && page.contains("id=\"matrix\""));
    assert!(page.contains("2 of 4 examiners outside tolerance"), "the reason is said in words: {page}");
    assert!(page.contains("class=\"cell below\"") && page.contains("class=\"cell above\"") && page.contains("class=\"cell draft\""));
    assert!(page.contains("<svg class=\"strip\""));
    assert!(page.contains("lenient") && page.contains("erratic"));
    assert!(page.contains("Adopt ±2"));
    let only_q2 = f.pe.web.text(&format!("/meetings/{m}/dashboard?question=02&sort=deviation")).await;
    assert!(only_q2.contains("0001 · Q02") && !only_q2.contains("0001 · Q01"));
    assert_eq!(f.examiners[0].web.get(&format!("/meetings/{m}/dashboard")).await.status(), 403);

    let csv = f.admin.web.text(&format!("/meetings/{m}/export/marks.csv")).await;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("candidate,question,purpose,definitive,"));
    assert!(csv.contains("0002,01,practice,,") && csv.contains("5 (draft)"));
    let csv = f.admin.web.text(&format!("/meetings/{m}/export/examiners.csv")).await;
    assert!(csv.contains("ex2@board.example,Ed Examiner,2,2.000,4.000"));
    let r = f.admin.web.get(&format!("/meetings/{m}/export/meeting.xlsx")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx is a zip");
    assert!(zip.by_name("xl/worksheets/sheet2.xml").is_ok(), "two sheets");
    assert!(f.pe.web.text(&format!("/meetings/{m}/report")).await.contains("meeting report"));

    let r = f.pe.web.post(&format!("/meetings/{m}/tolerances/01/adopt"), &[]).await;
    assert_eq!(r.status(), 303);
    let s: Value = f.get(&f.pe, "/stats").await.json().await.unwrap();
    assert_eq!(s["questions"][0]["tolerance"], 2);
    let audit: Value = f.get(&f.pe, "/audit").await.json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().last().unwrap()["action"], "tolerance.set");
}

/// Reads server-sent events until one named `kind` arrives or time runs out.
async fn next_event(stream: &mut reqwest::Response, kind: &str, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    let mut buffer = String::new();
    while Instant::now() < deadline {
        let left = deadline - Instant::now();
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, stream.chunk()).await else { return None };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if block.lines().any(|l| l == format!("event: {kind}")) {
                return block.lines().find_map(|l| l.strip_prefix("data: ").map(str::to_owned));
            }
        }
    }
    None
}

/// A second standardise process: the real binary, on the test's database.
struct SecondProcess(std::process::Child);

impl Drop for SecondProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_second_process(f: &MeetingFixture) -> (SecondProcess, std::net::SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_standardise"))
        .arg("serve")
        .env("DATABASE_URL", crate::helpers::database_url(&f.app.db.options))
        .env("STANDARDISE_BIND", addr.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start a second standardise process");
    let process = SecondProcess(child);
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("http://{addr}/healthz")).await
            && r.status() == 200
        {
            return (process, addr);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the second process did not answer on {addr}");
}

#[tokio::test]
async fn a_mark_submitted_on_one_server_reaches_viewers_of_another_within_a_second() {
    let f = MeetingFixture::open().await;
    // A second standardise process on the same database; marks go to the first.
    let (_process, second) = start_second_process(&f).await;
    let (rid, _, _) = f.responses[0].clone();

    let pe_events =
        reqwest::Client::new().get(format!("http://{second}{}", f.url("/events"))).bearer_auth(&f.pe.api.token).send().await.unwrap();
    assert_eq!(pe_events.status(), 200);
    assert!(pe_events.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut pe_stream = pe_events;
    let other_events = reqwest::Client::new()
        .get(format!("http://{second}{}", f.url("/events")))
        .bearer_auth(&f.examiners[1].api.token)
        .send()
        .await
        .unwrap();
    let mut other_stream = other_events;
    // Let both subscriptions settle before the change.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let sent = Instant::now();
    let r = f
        .put(&f.examiners[0], &format!("/responses/{rid}/mark"), json!({"level": 3, "mark": 8, "comment": "SECRET", "submit": true}))
        .await;
    assert_eq!(r.status(), 200);
    let data = next_event(&mut pe_stream, "mark", Duration::from_secs(1))
        .await
        .expect("the PE hears the mark on the other server within a second");
    assert!(sent.elapsed() < Duration::from_secs(1));
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["response_id"], rid.to_string());
    assert!(data.get("mark").is_none() && !data.to_string().contains("SECRET"), "events carry no marks");

    // Another examiner hears nothing of it (but does hear releases).
    assert!(next_event(&mut other_stream, "mark", Duration::from_millis(700)).await.is_none());
    for (rid, _, q) in f.responses.iter().take(2) {
        let mark = if q == "01" { 8 } else { 14 };
        f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": 3, "mark": mark})).await;
    }
    assert_eq!(f.post(&f.pe, &format!("/responses/{rid}/release"), json!({})).await.status(), 200);
    assert!(next_event(&mut other_stream, "release", Duration::from_secs(1)).await.is_some());
}

/// The figures are cached between changes and patched when only marks or
/// definitive marks changed: what the principal examiner reads after each
/// change is what a fresh computation gives.
#[tokio::test]
async fn the_figures_follow_each_mark_and_definitive_mark_as_they_change() {
    let f = MeetingFixture::open().await;
    let stats = || async { f.get(&f.pe, "/stats").await.json::<Value>().await.unwrap() };
    let before = stats().await;
    assert_eq!(before["responses"][0]["n"], 0, "nothing marked yet (and the figures are now cached)");
    mark_scenario(&f).await;
    let s = stats().await;
    let r0 = &s["responses"][0];
    assert_eq!((r0["n"].as_i64(), r0["mean"].as_f64(), r0["definitive"].as_i64()), (Some(4), Some(8.25), Some(8)));
    assert_eq!(r0["outside_tolerance"], 2);
    assert_eq!(s["responses"][2]["n"], 1, "the draft does not count");

    // The principal examiner changes their mind: 6, not 8. Deviations 2, 0, 4, 3: three beyond ±1.
    let r0_id = f.responses[0].0;
    let changed = json!({"level": 2, "mark": 6, "rationale": "On reflection, level 2.", "version": 1});
    assert_eq!(f.put(&f.pe, &format!("/responses/{r0_id}/definitive"), changed).await.status(), 200);
    let s = stats().await;
    assert_eq!((s["responses"][0]["definitive"].as_i64(), s["responses"][0]["outside_tolerance"].as_i64()), (Some(6), Some(3)));

    // The draft on candidate 0002's Q01 is submitted: it counts now.
    let r2_id = f.responses[2].0;
    let submit = json!({"level": 2, "mark": 5, "submit": true});
    assert_eq!(f.put(&f.examiners[1], &format!("/responses/{r2_id}/mark"), submit).await.status(), 200);
    let s = stats().await;
    assert_eq!((s["responses"][2]["n"].as_i64(), s["responses"][2]["mean"].as_f64()), (Some(2), Some(4.5)));
}

/// Every event that arrives on a stream within `within`, by kind.
async fn events_within(stream: &mut reqwest::Response, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let (mut buffer, mut kinds) = (String::new(), Vec::new());
    while Instant::now() < deadline {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(deadline - Instant::now(), stream.chunk()).await else { break };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            kinds.extend(block.lines().filter_map(|l| l.strip_prefix("event: ").map(str::to_owned)));
        }
    }
    kinds
}

/// A stream is written to at most once per pace, so what happens in between
/// waits: a burst of an examiner's saves — more than their channel holds —
/// must still be heard, every one, with no "fetch everything again".
#[tokio::test]
async fn a_burst_of_saves_is_heard_in_full_by_the_examiners_page() {
    let f = MeetingFixture::open().await;
    let ex = &f.examiners[0];
    let mut stream = f.get(ex, "/events").await;
    assert_eq!(stream.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 40 drafts at once, across the responses (the first goes out at once, the rest wait).
    let f = &f;
    let saves = (0..40).map(|i| async move {
        let (rid, _, q) = &f.responses[i % f.responses.len()];
        let (level, mark) = if q == "01" { (3, 8) } else { (3, 14) };
        f.put(ex, &format!("/responses/{rid}/mark"), json!({"level": level, "mark": mark, "comment": format!("draft {i}")})).await
    });
    let saved = futures_util::future::join_all(saves).await.iter().filter(|r| r.status() == 200).count();
    assert!(saved > 16, "more saves than one person's channel holds: {saved}");
    let kinds = events_within(&mut stream, Duration::from_secs(2)).await;
    assert!(!kinds.iter().any(|k| k == "resync"), "nothing was dropped: {kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "mark").count(), saved, "one event per save: {kinds:?}");
}

/// A change no event announces (made outside the application) reaches the
/// figures once they have aged: the first request after that is answered from
/// the cache while they are read again in the background, and later ones see it.
#[tokio::test]
async fn figures_are_read_again_in_the_background_once_aged() {
    let f = MeetingFixture::open().await;
    mark_scenario(&f).await;
    let mean_r0 = || async { f.get(&f.pe, "/stats").await.json::<Value>().await.unwrap()["responses"][0]["mean"].as_f64() };
    assert_eq!(mean_r0().await, Some(8.25), "8, 6, 10, 9 (and the figures are now cached)");
    // Examiner 0's 8 becomes 12 behind the application's back: no event.
    sqlx::query("UPDATE marks SET mark = 12 WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3")
        .bind(f.meeting)
        .bind(f.responses[0].0)
        .bind(f.examiners[0].user.id)
        .execute(&f.app.db.pool)
        .await
        .unwrap();
    assert_eq!(mean_r0().await, Some(8.25), "not yet read again");
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = mean_r0().await;
    while seen != Some(9.25) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = mean_r0().await;
    }
    assert_eq!(seen, Some(9.25), "12, 6, 10, 9 once read again");
}

/// Someone who joins after the figures are cached is in them, with their
/// marks, without everyone's marks being read again.
#[tokio::test]
async fn an_examiner_who_joins_during_the_meeting_is_counted() {
    let f = MeetingFixture::open().await;
    mark_scenario(&f).await;
    let stats = || async { f.get(&f.pe, "/stats").await.json::<Value>().await.unwrap() };
    let before = stats().await;
    assert_eq!(before["responses"][0]["n"], 4, "8, 6, 10 and the leader's 9 (and the figures are now cached)");
    let late = crate::fixture::person(&f.app, "late@board.example", "Lena Late", false).await;
    assert!(f.post(&f.pe, "/people", json!({"examiners": ["late@board.example"]})).await.status().is_success());
    let r0 = f.responses[0].0;
    let r = f.put(&late, &format!("/responses/{r0}/mark"), json!({"level": 3, "mark": 8, "submit": true})).await;
    assert_eq!(r.status(), 200);
    let after = stats().await;
    assert_eq!(after["responses"][0]["n"], 5);
    let examiners = after["examiners"].as_array().unwrap();
    assert_eq!(examiners.len(), before["examiners"].as_array().unwrap().len() + 1);
    let lena = examiners.iter().find(|e| e["email"] == "late@board.example").expect("the newcomer is listed");
    assert_eq!(lena["submitted"], 1);
}

#[tokio::test]
async fn a_large_meetings_marks_read_in_two_halves_are_the_marks_read_whole() {
    use rand::SeedableRng;
    use standardise::dashboard::data::{Halves, load};

    let db = crate::helpers::TestDb::new().await;
    let pool = db.pool.clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // 120 examiners × 50 responses: 6,000 marks over a hundred pages or so.
    let (meeting, _, _) = standardise::bench::dashboard::seed(&pool, 120, 50, &mut rng).await.expect("seeded");
    let (in_lower_half, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE ctid < format('(%s,0)', pg_relation_size('marks') / current_setting('block_size')::bigint / 2)::tid),
                count(*)
         FROM marks WHERE meeting_id = $1",
    )
    .bind(meeting)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(in_lower_half > 0 && in_lower_half < all, "each half holds some of the marks ({in_lower_half} of {all})");
    let row: standardise::meetings::Meeting =
        sqlx::query_as("SELECT id, paper_id, name, held_on, state, created_at FROM meetings WHERE id = $1")
            .bind(meeting)
            .fetch_one(&pool)
            .await
            .unwrap();
    let cells = |data: standardise::dashboard::data::MeetingData| {
        let mut cells: Vec<_> = data.cells.iter().map(|c| (c.response, c.examiner, c.level, c.mark, c.submitted)).collect();
        cells.sort_unstable();
        cells
    };
    let whole = cells(load(pool.clone(), row.clone(), Halves::Never).await.expect("read whole"));
    let halves = cells(load(pool.clone(), row, Halves::Always).await.expect("read in halves"));
    assert_eq!(whole.len(), 6000);
    assert_eq!(halves, whole);
}
