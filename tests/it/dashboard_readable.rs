//! The principal examiner's dashboard read as a principal examiner reads it:
//! every missing figure explained once, flags in the examiner's own terms, a
//! suggested tolerance that names who drives it, buttons only where they can
//! act, exports that carry levels and names, and a report that says whose and
//! when. Plus the page in a real browser at 1366×768.

use std::collections::HashMap;

use serde_json::json;

use crate::{
    browser::{Browser, accessibility_problems},
    fixture::{MeetingFixture, Person},
    helpers::PASSWORD,
};

/// Puts a mark through the API and checks it was taken.
async fn mark(f: &MeetingFixture, who: &Person, rid: uuid::Uuid, level: i32, mark: i32) {
    let r = f.put(who, &format!("/responses/{rid}/mark"), json!({"level": level, "mark": mark, "submit": true})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

async fn definitive(f: &MeetingFixture, rid: uuid::Uuid, level: i32, mark: i32) {
    let r = f.put(&f.pe, &format!("/responses/{rid}/definitive"), json!({"level": level, "mark": mark, "rationale": "r"})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

/// Marks worked out by hand. Q01 (out of 12, tolerance ±1), Q02 (out of 24, ±3):
///
/// | response      | definitive | Eve (ex1) | Ed (ex2) | Em (ex3) | Tom (leader) |
/// |---------------|-----------:|----------:|---------:|---------:|-------------:|
/// | 0001 Q01 (r0) | 8          | 8         | 8        |          | 9            |
/// | 0001 Q02 (r1) | 14         | 14        | 20       | 11       |              |
/// | 0002 Q01 (r2) | (none yet) | 4         |          |          |              |
/// | 0002 Q02 (r3) | 10         | 10        | 10       | 8        |              |
///
/// Em: deviations −3 and −2 on Q02, mean −2.5, more than half of ±3: severe.
/// Q02's deviations 0, 0, +6, 0, −3, −2: six of six must be covered, so ±6; only
/// Ed is 6 away, and without him 0, 0, −3, −2 suggest ±3. Tara Leader marks
/// nothing, so no response is marked by every examiner: no ICC.
async fn scenario(f: &MeetingFixture) -> [uuid::Uuid; 4] {
    let [r0, r1, r2, r3] = [0, 1, 2, 3].map(|i| f.responses[i].0);
    let [eve, ed, em] = [&f.examiners[0], &f.examiners[1], &f.examiners[2]];
    for (who, level, m) in [(eve, 3, 8), (ed, 3, 8), (&f.leader, 3, 9)] {
        mark(f, who, r0, level, m).await;
    }
    for (who, level, m) in [(eve, 3, 14), (ed, 4, 20), (em, 2, 11)] {
        mark(f, who, r1, level, m).await;
    }
    mark(f, eve, r2, 2, 4).await;
    for (who, level, m) in [(eve, 2, 10), (ed, 2, 10), (em, 2, 8)] {
        mark(f, who, r3, level, m).await;
    }
    [r0, r1, r2, r3]
}

/// Text as the page shows it (askama escapes apostrophes and angle brackets).
fn unescaped(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn every_dash_is_explained_once_flags_say_which_line_and_the_suggestion_names_its_driver() {
    let f = MeetingFixture::open().await;
    let [r0, r1, _, r3] = scenario(&f).await;
    definitive(&f, r0, 3, 8).await;
    definitive(&f, r1, 3, 14).await;
    definitive(&f, r3, 2, 10).await;
    let page = unescaped(&f.pe.web.text(&format!("/meetings/{}/dashboard", f.meeting)).await);

    // κ: fewer than 5 marks everywhere, said once under the table, not per cell.
    assert!(!page.contains("n too small"), "no per-cell jargon");
    assert_eq!(page.matches("κ needs at least 5 submitted marks with a definitive mark for the question").count(), 1, "{page}");
    assert!(page.contains(r#"<abbr class="gap" title="1 of the 5 marks κ needs" aria-describedby="examiners-kappa-few">–</abbr>"#));
    assert!(page.contains(r#"<li id="examiners-kappa-few">"#));
    // ICC: Tara Leader has marked nothing, so no response is marked by everyone.
    assert_eq!(page.matches("in ICC(A,1): it uses only the responses marked by every one of the 5 examiners").count(), 1);
    assert!(page.contains(r#"title="0 responses marked by all 5 examiners; ICC needs 2" aria-describedby="questions-icc-few""#));
    // The response without a definitive mark: "–" tied to the one note about it.
    assert!(page.contains(r#"aria-describedby="matrix-no-definitive">–</abbr>"#));
    assert!(page.contains(r#"aria-describedby="responses-no-definitive">–</abbr>"#));
    assert_eq!(page.matches("there is no definitive mark yet, so no mark can be compared with it").count(), 2, "matrix and responses");
    // Every dash the page shows is one of those marks, tied to a note.
    let bare_dashes = page.matches(">–<").count() - page.matches("\">–</abbr>").count() - page.matches("\"gap-mark\">–<").count();
    assert_eq!(bare_dashes, 0, "a bare – without a reason");

    // Flags in the examiner's own terms, with the line they crossed.
    assert!(page.contains("marks 2.5 below the definitive mark on average, more than half the tolerance (±3); 2 marks compared"), "{page}");
    assert!(page.contains("marks 2 above the definitive mark on average, more than half the tolerance (±2.33 on average); 3 marks"));
    assert!(!page.contains("(tolerance "), "no wording that reads as 'within tolerance yet flagged'");

    // The suggestion for Q02 names Ed as its driver and warns he alone holds it up.
    assert!(page.contains("Set by marks 6 away from the definitive mark: Ed Examiner (1)."));
    assert!(page.contains("±6 is driven by Ed Examiner alone: without Ed Examiner's marks it would be ±3."));
    assert!(page.contains(r#"data-confirm="±6 is driven by Ed Examiner alone: without Ed Examiner's marks it would be ±3. Adopt ±6 anyway?">Adopt ±6</button>"#));
    // Q01's ±1 is already the tolerance: nothing to adopt, but its driver is still named.
    assert!(!page.contains("Adopt ±1"));
    assert!(
        page.contains(r#"<p class="driver">±1 is driven by Tom Leader alone: without Tom Leader's marks it would be ±0.</p>"#),
        "said, not a caution: there is nothing to adopt"
    );

    // The strip plots: labels at 13 px in the SVG's own units, a title and a description.
    assert!(page.contains(r#"<text class="tick-label" x="16.0" y="96.0" font-size="13">0</text>"#));
    assert!(page.contains("<desc>Marks given: 8: 1 mark; 10: 2 marks. Within tolerance: 7 to 13; 0 outside.</desc>"));

    // The report says whose and when, and keeps the explanations.
    let report = unescaped(&f.pe.web.text(&format!("/meetings/{}/report", f.meeting)).await);
    assert!(report.contains(r#"<dd id="report-pe">Priya Principal (pe@board.example)</dd>"#), "{report}");
    let produced = regex::Regex::new(r#"<dd id="report-produced">(\d{4}-\d{2}-\d{2}) \d{2}:\d{2} UTC</dd>"#).unwrap();
    let day = produced.captures(&report).expect("the date and time it was produced")[1].to_owned();
    let today = time::OffsetDateTime::now_utc().date();
    let days =
        [today, today.previous_day().unwrap()].map(|d| d.format(&time::macros::format_description!("[year]-[month]-[day]")).unwrap());
    assert!(days.contains(&day), "{day}");
    assert!(report.contains("±6 is driven by Ed Examiner alone"));
    assert_eq!(report.matches("uses only the responses marked by every one of the 5 examiners").count(), 1);
}

/// Whether the meeting page offers the button with this id.
fn offers(html: &str, id: &str) -> bool {
    html.contains(&format!("id=\"{id}\""))
}

#[tokio::test]
async fn buttons_appear_only_when_they_can_act() {
    let f = MeetingFixture::open().await;
    let page = format!("/meetings/{}", f.meeting);
    let dashboard = format!("/meetings/{}/dashboard", f.meeting);

    // Before any definitive mark: nothing can be released.
    let html = f.pe.web.text(&page).await;
    assert!(!offers(&html, "release-all") && offers(&html, "release-all-waiting"), "{html}");
    assert!(!html.contains("aria-label=\"Release the script"));
    assert!(html.contains("Save tolerances"));

    // One script complete, the other not: that script can go on its own, not all.
    let [r0, r1, r2, r3] = scenario(&f).await;
    definitive(&f, r0, 3, 8).await;
    definitive(&f, r1, 3, 14).await;
    let html = f.pe.web.text(&page).await;
    assert!(!offers(&html, "release-all"), "releasing all would be refused while 0002 lacks definitive marks");
    assert!(html.contains("aria-label=\"Release the script of candidate 0001\""));
    assert!(!html.contains("aria-label=\"Release the script of candidate 0002\""));
    assert!(html.contains("1 still needs some"));
    assert!(f.pe.web.text(&dashboard).await.contains("Adopt ±6"), "the meeting is open: the suggestion can be adopted");

    // Every definitive mark in: now it can act, and does.
    definitive(&f, r2, 2, 4).await;
    definitive(&f, r3, 2, 10).await;
    let html = f.pe.web.text(&page).await;
    assert!(offers(&html, "release-all") && !offers(&html, "release-all-waiting"));
    assert!(html.contains("Release 2 practice scripts?"));
    assert_eq!(f.post(&f.pe, "/release", json!({})).await.status(), 200);
    let html = f.pe.web.text(&page).await;
    assert!(!offers(&html, "release-all") && !offers(&html, "release-all-waiting"), "everything is released");
    assert!(!html.contains("aria-label=\"Release the script"));

    // Closed: nothing that would change the meeting.
    assert_eq!(f.post(&f.pe, "/close", json!({})).await.status(), 200);
    let html = f.pe.web.text(&page).await;
    assert!(!html.contains("Save tolerances") && !html.contains("name=\"tolerance.01\""), "{html}");
    assert!(html.contains("The meeting is closed: its tolerances are final."));
    assert!(!offers(&html, "release-all") && !offers(&html, "close-meeting"));
    let html = f.pe.web.text(&dashboard).await;
    assert!(!html.contains("Adopt ±") && !html.contains("/adopt\""), "no adopt button on a closed meeting");
    assert!(html.contains("The meeting is closed: its tolerances are final."));
    // A page left open from before still gets an answer on the dashboard, not a bare 409.
    let r = f.pe.web.post(&format!("/meetings/{}/tolerances/02/adopt", f.meeting), &[]).await;
    assert_eq!(r.status(), 303);
    let html = unescaped(&f.pe.web.text(&dashboard).await);
    assert!(html.contains("Question 02: the tolerance was not changed. The meeting is closed"), "{html}");
}

/// A sheet of an xlsx as cell → (text, written as a number).
fn sheet(xlsx: &[u8], name: &str) -> HashMap<String, (String, bool)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).expect("an xlsx is a zip");
    let mut read = |path: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(path).unwrap_or_else(|_| panic!("{path}")), &mut s).unwrap();
        s
    };
    let workbook = read("xl/workbook.xml");
    let names: Vec<String> =
        regex::Regex::new(r#"<sheet name="([^"]*)""#).unwrap().captures_iter(&workbook).map(|c| unescaped(&c[1])).collect();
    let index = names.iter().position(|n| n == name).unwrap_or_else(|| panic!("no sheet {name} in {names:?}")) + 1;
    let strings: Vec<String> = regex::Regex::new(r"(?s)<si>(.*?)</si>")
        .unwrap()
        .captures_iter(&read("xl/sharedStrings.xml"))
        .map(|c| unescaped(&regex::Regex::new(r"<[^>]*>").unwrap().replace_all(&c[1], "")))
        .collect();
    let xml = read(&format!("xl/worksheets/sheet{index}.xml"));
    let cell = regex::Regex::new(r#"(?s)<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)"#).unwrap();
    let value = regex::Regex::new(r"<v>(.*?)</v>").unwrap();
    cell.captures_iter(&xml)
        .map(|c| {
            let v = c.get(3).and_then(|inner| value.captures(inner.as_str())).map(|v| v[1].to_owned()).unwrap_or_default();
            let attrs = &c[2];
            let text = if attrs.contains(r#"t="s""#) { strings[v.parse::<usize>().unwrap()].clone() } else { v };
            (c[1].to_owned(), (text, !attrs.contains("t=")))
        })
        .collect()
}

/// The column letters of the header cell saying `heading` in row 1.
fn column(cells: &HashMap<String, (String, bool)>, heading: &str) -> String {
    let (at, _) = cells
        .iter()
        .find(|(at, (text, _))| at.ends_with('1') && at[..at.len() - 1].chars().all(|c| c.is_ascii_uppercase()) && text == heading)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    at.trim_end_matches('1').to_owned()
}

#[tokio::test]
async fn exports_carry_levels_names_and_the_question_statistics() {
    let f = MeetingFixture::open().await;
    let [r0, r1, _, r3] = scenario(&f).await;
    definitive(&f, r0, 3, 8).await;
    definitive(&f, r1, 3, 14).await;
    definitive(&f, r3, 2, 10).await;
    let m = f.meeting;

    // Every export is linked from the dashboard.
    let page = f.pe.web.text(&format!("/meetings/{m}/dashboard")).await;
    for export in
        ["export/marks.csv", "export/every-mark.csv", "export/examiners.csv", "export/questions.csv", "export/meeting.xlsx", "report"]
    {
        assert!(page.contains(&format!("href=\"/meetings/{m}/{export}\"")), "{export} linked");
    }

    // The marks matrix: definitive and each examiner's mark with the level beside it,
    // headed by name, with the email under it.
    let csv = f.pe.web.text(&format!("/meetings/{m}/export/marks.csv")).await;
    let mut lines = csv.lines();
    let names = lines.next().unwrap();
    assert!(
        names.starts_with("candidate,question,purpose,definitive,definitive_level,Ed Examiner,Ed Examiner level,Em Examiner,"),
        "{names}"
    );
    assert!(names.ends_with(",Eve Examiner,Eve Examiner level,Tara Leader,Tara Leader level,Tom Leader,Tom Leader level"));
    let emails = lines.next().unwrap();
    assert!(emails.starts_with(",,,,,ex2@board.example,ex2@board.example,ex3@board.example,ex3@board.example,ex1@board.example,"));
    // 0001 Q01: definitive 8 (L3); Ed 8 (L3), Em nothing, Eve 8 (L3), Tara nothing, Tom 9 (L3).
    assert_eq!(lines.next().unwrap(), "0001,01,practice,8,3,8,3,,,8,3,,,9,3");

    // The question statistics, with who drives the suggestion.
    let csv = f.pe.web.text(&format!("/meetings/{m}/export/questions.csv")).await;
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    for h in [
        "question",
        "marks_submitted",
        "mean_mark",
        "sd_mark",
        "mean_deviation",
        "within_tolerance_rate",
        "suggested_tolerance",
        "suggestion_warning",
        "krippendorff_alpha",
        "icc_a1",
        "kappa_median",
        "why_blank",
    ] {
        assert!(headers.iter().any(|x| x == h), "{h} in {headers:?}");
    }
    let q02: HashMap<String, String> = rows
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "02")
        .map(|r| headers.iter().map(str::to_owned).zip(r.iter().map(str::to_owned)).collect())
        .unwrap();
    assert_eq!(q02["marks_submitted"], "6");
    assert_eq!(q02["mean_deviation"], "0.167", "(0 + 0 + 6 + 0 − 3 − 2) / 6");
    assert_eq!(q02["within_tolerance_rate"], "0.833", "5 of 6 within ±3");
    assert_eq!(q02["suggested_tolerance"], "6");
    assert_eq!(q02["suggestion_warning"], "±6 is driven by Ed Examiner alone: without Ed Examiner's marks it would be ±3.");
    assert_eq!(q02["icc_a1"], "");
    assert!(q02["why_blank"].contains("icc_a1: 0 responses marked by all 5 examiners; ICC needs 2"), "{}", q02["why_blank"]);

    // The workbook: the same tables as sheets, numbers as numbers, text as text.
    let r = f.pe.web.get(&format!("/meetings/{m}/export/meeting.xlsx")).await;
    assert_eq!(r.status(), 200);
    let xlsx = r.bytes().await.unwrap();
    let marks = sheet(&xlsx, "Marks");
    assert_eq!(marks["F1"], ("Ed Examiner".to_owned(), false));
    assert_eq!(marks["G1"], ("Ed Examiner level".to_owned(), false));
    assert_eq!(marks["F2"], ("ex2@board.example".to_owned(), false));
    assert_eq!((&marks["F3"], &marks["G3"]), (&("8".to_owned(), true), &("3".to_owned(), true)), "mark and level are numbers");
    assert_eq!(marks["A3"], ("0001".to_owned(), false), "a candidate number keeps its zeros");
    let questions = sheet(&xlsx, "Questions");
    let suggested = column(&questions, "suggested_tolerance");
    assert_eq!(questions[&format!("{suggested}3")], ("6".to_owned(), true));
    let within = column(&questions, "within_tolerance_rate");
    assert_eq!(questions[&format!("{within}3")], ("0.833".to_owned(), true));
    let examiners = sheet(&xlsx, "Examiners");
    assert!(examiners.values().any(|(t, _)| t.contains("more than half the tolerance (±3)")), "flags in words");
    let every = sheet(&xlsx, "Every mark");
    assert_eq!(column(&every, "level"), "G");
}

#[tokio::test]
async fn the_dashboard_reads_at_a_glance_in_a_browser() {
    let f = MeetingFixture::open().await;
    let [r0, r1, _, r3] = scenario(&f).await;
    definitive(&f, r0, 3, 8).await;
    definitive(&f, r1, 3, 14).await;
    definitive(&f, r3, 2, 10).await;
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&f.app, "pe@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    b.client.goto(&f.app.url(&format!("/meetings/{}/dashboard", f.meeting))).await.unwrap();
    b.wait_for_text("h1", "Dashboard").await;
    b.screenshot("dashboard").await;

    // The strip plot's labels, as drawn on the screen, are 12 px or more.
    let px = b
        .client
        .execute(
            "const svg = document.querySelector('svg.strip');
             const label = svg.querySelector('.tick-label');
             return parseFloat(getComputedStyle(label).fontSize) * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;",
            vec![],
        )
        .await
        .unwrap();
    let px = px.as_f64().unwrap();
    assert!(px >= 12.0, "strip-plot labels are {px:.1} px on screen");

    // Further down, for a person to look at: each table, then its notes.
    for id in ["responses", "examiners", "questions"] {
        for (block, name) in [("start", format!("dashboard-{id}")), ("end", format!("dashboard-{id}-notes"))] {
            let script = format!("document.getElementById('{id}-h').closest('section').scrollIntoView({{block: '{block}'}})");
            b.client.execute(&script, vec![]).await.unwrap();
            b.screenshot(&name).await;
        }
    }
    let problems = accessibility_problems(&b).await;
    assert!(problems.is_empty(), "accessibility problems:\n{}", problems.join("\n"));
    b.client.clone().close().await.unwrap();
}
