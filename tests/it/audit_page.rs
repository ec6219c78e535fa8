//! A meeting's audit page as a principal examiner reads it: each entry in
//! plain words with names and marks, draft saves folded away, filters by
//! person, response and kind, pages of fifty; and the CSV and JSON beside it.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    browser::{Browser, accessibility_problems},
    fixture::MeetingFixture,
    helpers::*,
};

/// A rationale long enough to be folded behind its beginning.
const LONG_RATIONALE: &str = "Sustained, developed comparison of the two sources' views with well-chosen own knowledge of \
collectivisation; the judgement on the extent of the difference is substantiated, though the conclusion is brief.";

/// What happened in the scenario most tests read: two examiners mark
/// 0001·Q01 (with drafts), the principal examiner reopens one mark, a
/// referral goes through a team leader, a tolerance changes, every response
/// gets its definitive mark, and everything is released.
async fn busy_meeting() -> MeetingFixture {
    let f = MeetingFixture::open().await;
    let (eve, ed, em) = (&f.examiners[0], &f.examiners[1], &f.examiners[2]);
    let [q1, q2, q3, q4] = [0, 1, 2, 3].map(|i| f.responses[i].0);
    let mark = format!("/responses/{q1}/mark");
    for (who, body) in [
        (eve, json!({"level": 2, "mark": 6, "comment": ""})),
        (eve, json!({"level": 3, "mark": 7, "comment": ""})),
        (eve, json!({"level": 3, "mark": 7, "comment": "", "submit": true})),
        (ed, json!({"level": 3, "mark": 9, "comment": ""})),
        (ed, json!({"level": 3, "mark": 8, "comment": "Compares both sources.", "submit": true})),
    ] {
        assert_eq!(f.put(who, &mark, body).await.status(), 200);
    }
    let r = f.post(&f.pe, &format!("/responses/{q1}/reopen"), json!({"examiner": "ex2@board.example", "reason": "mis-keyed"})).await;
    assert_eq!(r.status(), 200);

    let r = f.post(em, &format!("/responses/{q3}/referrals"), json!({"question": "Does a one-line answer reach level 1?"})).await;
    assert_eq!(r.status(), 201);
    let referral = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(f.post(&f.leader, &format!("/referrals/{referral}/pass-up"), json!({})).await.status(), 200);
    let r = f.post(&f.pe, &format!("/referrals/{referral}/answer"), json!({"answer": "Yes, if it names a source."})).await;
    assert_eq!(r.status(), 200);

    let r = f.pe.web.post(&format!("/meetings/{}/tolerances", f.meeting), &[("tolerance.02", "2")]).await;
    assert_eq!(r.status(), 303);

    for (rid, level, mark, rationale) in
        [(q1, 3, 8, "Developed comparison."), (q2, 3, 14, LONG_RATIONALE), (q3, 1, 2, "Simple."), (q4, 1, 5, "Assertive.")]
    {
        let r = f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": level, "mark": mark, "rationale": rationale})).await;
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
    assert_eq!(f.post(&f.pe, "/release", json!({})).await.status(), 200);
    f
}

/// The audit page with this query, as the principal examiner sees it.
async fn audit_page(f: &MeetingFixture, query: &str) -> String {
    let r = f.pe.web.get(&format!("/meetings/{}/audit{query}", f.meeting)).await;
    assert_eq!(r.status(), 200, "/audit{query}");
    r.text().await.unwrap()
}

/// The page's text as a person reads it: no tags, entities decoded, spaces collapsed.
fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&#x27;", "'").replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">");
    out.replace("&amp;", "&").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of the page's table of entries alone (not the filters' choices).
fn entries_text(html: &str) -> String {
    match (html.find("<table"), html.find("</table>")) {
        (Some(start), Some(end)) => plain(&html[start..end]),
        _ => String::new(),
    }
}

/// The entry rows' ids on a page, in order.
fn entry_ids(html: &str) -> Vec<i64> {
    html.split("<tr id=\"entry-").skip(1).map(|s| s[..s.find('"').unwrap()].parse().unwrap()).collect()
}

/// The first link on the page whose text is `text`.
fn link(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!("\">{text}</a>"))?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    let href = &html[start..start + html[start..].find('"')?];
    Some(href.replace("&#38;", "&").replace("&amp;", "&"))
}

async fn user_id(f: &MeetingFixture, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(&f.app.db.pool).await.unwrap()
}

#[tokio::test]
async fn a_principal_examiner_reads_each_entry_in_plain_words() {
    let f = busy_meeting().await;
    let html = audit_page(&f, "").await;
    let text = plain(&html);
    for sentence in [
        "Ada Admin set up the meeting “Sample history paper standardisation” with 6 people and 2 scripts",
        "Priya Principal opened the meeting for marking",
        "Eve Examiner submitted 7 (L3) for 0001·Q01",
        "Ed Examiner submitted 8 (L3) for 0001·Q01 (the draft said 9 (L3))",
        "Comment: Compares both sources.",
        "Priya Principal reopened Ed Examiner's mark for 0001·Q01, because “mis-keyed”",
        "Em Examiner referred 0002·Q01 to the principal examiner",
        "Question: Does a one-line answer reach level 1?",
        "Tom Leader passed Em Examiner's referral on 0002·Q01 up to the principal examiner",
        "Priya Principal answered Em Examiner's referral on 0002·Q01",
        "Answer: Yes, if it names a source.",
        "Priya Principal changed the tolerance for question 02 from 3 marks to 2 marks",
        "Priya Principal set the definitive mark for 0001·Q01 to 8 (L3)",
        "Rationale: Developed comparison.",
        "Priya Principal set the definitive mark for 0001·Q02 to 14 (L3)",
        "Priya Principal released all scripts to the examiners: 0001 and 0002",
    ] {
        assert!(text.contains(sentence), "{sentence:?} on the page:\n{text}");
    }
    // Newest first, grouped under the day, with the time.
    let ids = entry_ids(&html);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert!(html.contains("<th scope=\"rowgroup\" colspan=\"4\">"), "a day heads its entries");
    // A long rationale is folded behind its beginning, whole when opened.
    let folded = html.find("<details class=\"note\"><summary><span class=\"note-label\">Rationale:</span> <span class=\"note-preview\">Sustained, developed").expect("folded");
    assert!(html[folded..].contains("substantiated, though the conclusion is brief."));
    // No raw JSON anywhere, yet the recorded action stays on each row.
    let table = &html[html.find("<table").unwrap()..html.find("</table>").unwrap()];
    assert!(!table.contains("&quot;") && !table.contains("&#34;") && !table.contains('{'), "no JSON in the entries: {table}");
    assert!(html.contains("data-action=\"mark.submit\"") && html.contains("data-action=\"release.all\""));
}

#[tokio::test]
async fn draft_saves_are_folded_away_until_asked_for() {
    let f = busy_meeting().await;
    let html = audit_page(&f, "").await;
    let text = plain(&html);
    assert!(!entries_text(&html).contains("draft mark"), "no draft save by default: {text}");
    assert!(text.contains("3 draft saves are hidden: show draft saves"), "{text}");
    assert!(html.contains("name=\"drafts\" value=\"1\">"), "the box is not ticked");

    let shown = f.pe.web.text(&link(&html, "show draft saves").expect("a link to show them")).await;
    let text = plain(&shown);
    for sentence in [
        "Eve Examiner saved a draft mark of 6 (L2) for 0001·Q01",
        "Eve Examiner changed their draft mark for 0001·Q01 from 6 (L2) to 7 (L3)",
        "Ed Examiner saved a draft mark of 9 (L3) for 0001·Q01",
        "Eve Examiner submitted 7 (L3) for 0001·Q01",
    ] {
        assert!(text.contains(sentence), "{sentence:?} with draft saves shown:\n{text}");
    }
    assert!(shown.contains("name=\"drafts\" value=\"1\" checked>"), "the box stays ticked");
    assert!(text.contains("Draft saves are shown: hide draft saves"), "{text}");
    assert_eq!(entry_ids(&shown).len(), entry_ids(&html).len() + 3);
}

#[tokio::test]
async fn the_log_filters_by_person_response_and_kind() {
    let f = busy_meeting().await;
    let ed = user_id(&f, "ex2@board.example").await;
    let (q2, q3) = (f.responses[1].0, f.responses[2].0);

    // Ed: what he did and what was done to his mark, nobody else's marks.
    let html = audit_page(&f, &format!("?person={ed}")).await;
    assert!(plain(&html).contains("2 entries match, newest first. 1 draft save is hidden"), "{}", plain(&html));
    assert!(html.contains(&format!("<option value=\"{ed}\" selected>Ed Examiner</option>")), "the choice stays chosen");
    let text = entries_text(&html);
    assert!(text.contains("Ed Examiner submitted 8 (L3) for 0001·Q01"), "{text}");
    assert!(text.contains("Priya Principal reopened Ed Examiner's mark for 0001·Q01"), "{text}");
    assert!(!text.contains("Eve Examiner submitted") && !text.contains("released all scripts"), "{text}");

    // A response: its definitive mark, nothing of other responses.
    let html = audit_page(&f, &format!("?response={q2}")).await;
    let text = entries_text(&html);
    assert!(text.contains("Priya Principal set the definitive mark for 0001·Q02 to 14 (L3)"), "{text}");
    assert_eq!(entry_ids(&html).len(), 1, "{text}");
    assert!(html.contains(&format!("<option value=\"{q2}\" selected>0001·Q02</option>")), "the choice stays chosen");
    // A passed-up referral belongs to its response's history too.
    let text = entries_text(&audit_page(&f, &format!("?response={q3}")).await);
    assert!(text.contains("Tom Leader passed Em Examiner's referral on 0002·Q01 up"), "{text}");

    // A kind.
    let html = audit_page(&f, "?kind=releases").await;
    assert!(plain(&html).contains("1 entry matches, newest first."), "{}", plain(&html));
    let text = entries_text(&html);
    assert!(text.contains("released all scripts") && !text.contains("definitive mark"), "{text}");
    let text = entries_text(&audit_page(&f, "?kind=tolerances").await);
    assert!(text.contains("changed the tolerance for question 02") && !text.contains("submitted"), "{text}");
    let text = entries_text(&audit_page(&f, &format!("?kind=marks&person={ed}&drafts=1")).await);
    assert!(text.contains("Ed Examiner saved a draft mark of 9 (L3)") && text.contains("reopened Ed Examiner's mark"), "{text}");
    assert!(!text.contains("Eve Examiner"), "{text}");

    // The form's empty choices mean no filter; anything else is refused plainly.
    assert_eq!(entry_ids(&audit_page(&f, "?person=&response=&kind=").await), entry_ids(&audit_page(&f, "").await));
    for bad in ["?kind=everything", "?person=nobody"] {
        let r = f.pe.web.get(&format!("/meetings/{}/audit{bad}", f.meeting)).await;
        assert_eq!(r.status(), 422, "{bad}");
    }
    // Who may read the log is unchanged: an examiner may not, filters or not.
    let r = f.examiners[0].web.get(&format!("/meetings/{}/audit?person={ed}", f.meeting)).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_log_pages_by_fifty_keeping_the_filters() {
    let f = MeetingFixture::open().await;
    let eve = user_id(&f, "ex1@board.example").await;
    let mark = format!("/responses/{}/mark", f.responses[0].0);
    for i in 0..56 {
        let body = json!({"level": 2 + i % 2, "mark": 6 + i % 2, "comment": ""});
        assert_eq!(f.put(&f.examiners[0], &mark, body).await.status(), 200);
    }
    // Hidden by default: one short page.
    let html = audit_page(&f, "").await;
    assert!(plain(&html).contains("56 draft saves are hidden"), "{}", plain(&html));
    assert!(!html.contains("rel=\"next\"") && !html.contains("rel=\"prev\""));

    let first = audit_page(&f, &format!("?person={eve}&drafts=1")).await;
    assert!(plain(&first).contains("56 entries match, newest first."));
    let first_ids = entry_ids(&first);
    assert_eq!(first_ids.len(), 50);
    assert!(link(&first, "Newer").is_none() && link(&first, "Newest").is_none());
    let older = link(&first, "Older").expect("an older page");
    assert!(older.contains(&format!("person={eve}")) && older.contains("drafts=1"), "{older}");
    assert!(older.ends_with(&format!("before={}", first_ids[49])), "{older}");

    let second = f.pe.web.text(&older).await;
    let second_ids = entry_ids(&second);
    assert_eq!(second_ids.len(), 6);
    assert!(second_ids[0] < first_ids[49]);
    assert!(link(&second, "Older").is_none());
    assert!(link(&second, "Newest").is_some_and(|l| l.contains("drafts=1") && !l.contains("before")));
    let newer = link(&second, "Newer").expect("a newer page");
    assert!(newer.contains(&format!("person={eve}")) && newer.contains(&format!("after={}", second_ids[0])), "{newer}");
    assert_eq!(entry_ids(&f.pe.web.text(&newer).await), first_ids, "back to the first page");
}

#[tokio::test]
async fn the_csv_says_what_happened_and_the_api_is_unchanged() {
    let f = busy_meeting().await;
    let csv = f.pe.web.text(&format!("/meetings/{}/audit.csv", f.meeting)).await;
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, ["id", "at", "actor", "action", "response", "examiner", "old", "new", "reason", "what happened"]);
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, f.audit_count().await, "every entry, drafts too");
    let said = |action: &str| rows.iter().filter(|r| &r[3] == action).map(|r| r[9].to_owned()).collect::<Vec<_>>();
    assert!(said("mark.draft").contains(&"Eve Examiner changed their draft mark for 0001·Q01 from 6 (L2) to 7 (L3)".to_owned()));
    assert_eq!(said("mark.reopen"), ["Priya Principal reopened Ed Examiner's mark for 0001·Q01, because “mis-keyed”"]);

    let api: Value = f.get(&f.pe, "/audit").await.json().await.unwrap();
    let entries = api.as_array().unwrap();
    assert_eq!(entries.len() as i64, f.audit_count().await);
    let reopen = entries.iter().find(|e| e["action"] == "mark.reopen").unwrap();
    assert_eq!((reopen["actor"].as_str(), reopen["subject"].as_str()), (Some("pe@board.example"), Some("ex2@board.example")));
    assert_eq!((reopen["actor_name"].as_str(), reopen["subject_name"].as_str()), (Some("Priya Principal"), Some("Ed Examiner")));
    assert_eq!(reopen["reason"], "mis-keyed");
    assert_eq!(reopen["response_label"], "0001 / 01");
}

#[tokio::test]
async fn the_audit_page_reads_well_in_a_browser() {
    let f = busy_meeting().await;
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&f.app, "pe@board.example", PASSWORD).await;
    b.client.goto(&f.app.url(&format!("/meetings/{}/audit", f.meeting))).await.unwrap();
    b.wait_for_text("h1", "Audit log").await;
    let table = b.text("#audit").await;
    assert!(table.contains("Priya Principal released all scripts to the examiners: 0001 and 0002"), "{table}");
    // Fits a 1366-pixel screen: no sideways scrolling.
    let widths = b.client.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(scroll <= inner, "the page is {scroll} px wide in a {inner} px window");
    b.screenshot("audit-log").await;
    let problems = accessibility_problems(&b).await;
    assert!(problems.is_empty(), "accessibility problems:\n{}", problems.join("\n"));

    // Without JavaScript's help: the form's filters are plain GET fields.
    b.click("#hidden-drafts a").await;
    b.wait_for_text("#audit", "Eve Examiner saved a draft mark of 6 (L2) for 0001·Q01").await;
    // A folded rationale opens in place.
    b.click("details.note summary").await;
    b.wait_for_text("details.note[open]", "the conclusion is brief").await;
    b.screenshot("audit-log-drafts").await;
    b.client.clone().close().await.unwrap();
}
