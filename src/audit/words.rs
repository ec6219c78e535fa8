//! A meeting's audit entries in plain words: "Ann Severe changed their draft
//! mark for 0002·Q01 from 6 (L2) to 7 (L3)". Pure: it is handed an entry with
//! its people and response already named, and knows nothing of SQL or HTTP.
//!
//! Every action the code records has its own sentence; an action added later
//! and not yet worded here still reads as words (the action's name, with its
//! values as `key: value` text), never as raw JSON. The kinds below group the
//! actions for the audit page's filter.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::value_words;
use crate::{
    marking::rules::{Part, parts_text},
    meetings::Role,
    qualification::rules::QualState,
};

/// An examiner's draft save: most of a meeting's log, so the page folds them away.
pub const DRAFT: &str = "mark.draft";

/// A group of actions a principal examiner filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// In the page's address, e.g. `marks`.
    pub slug: &'static str,
    /// For people, e.g. "Examiners' marks".
    pub label: &'static str,
    /// The actions it covers.
    pub actions: &'static [&'static str],
}

/// Every kind, in the order the filter lists them.
pub const KINDS: &[Kind] = &[
    Kind { slug: "marks", label: "Examiners' marks", actions: &[DRAFT, "mark.submit", "mark.reopen", "mark.remove"] },
    Kind {
        slug: "definitive",
        label: "Definitive marks",
        actions: &["definitive.set", "definitive.change_after_release", "definitive.remove"],
    },
    Kind { slug: "releases", label: "Releases", actions: &["release.script", "release.all"] },
    Kind { slug: "tolerances", label: "Tolerances", actions: &["tolerance.set"] },
    Kind {
        slug: "qualification",
        label: "Qualification and seeds",
        actions: &[
            "qualification.set",
            "qualification.open",
            "qualification.result",
            "qualification.decide",
            "qualification.reevaluate",
            "qualification.not_reevaluated",
            "seed.assign",
        ],
    },
    Kind {
        slug: "referrals",
        label: "Referrals and amendments",
        actions: &["referral.ask", "referral.answer", "referral.pass_up", "scheme.amend"],
    },
    Kind {
        slug: "setup",
        label: "Setting up, opening and closing",
        actions: &["meeting.create", "meeting.open", "meeting.close", "people.add", "people.remove", "scripts.add", "scripts.remove"],
    },
];

/// The kind with this slug, if there is one.
pub fn kind(slug: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.slug == slug)
}

/// The kind an action belongs to; `None` for an action not grouped yet.
pub fn kind_of(action: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.actions.contains(&action))
}

/// People's names, looked up by account id or email: entries name people
/// inside their values too (who was added, who was given seeds).
#[derive(Debug, Clone, Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    /// From each person's id, email and name.
    pub fn new<'a>(people: impl IntoIterator<Item = (Uuid, &'a str, &'a str)>) -> Names {
        let mut map = HashMap::new();
        for (id, email, name) in people {
            map.insert(id.to_string(), name.to_owned());
            map.insert(email.to_lowercase(), name.to_owned());
        }
        Names(map)
    }

    /// The name for an email, or the email when the account is not known.
    fn of_email(&self, email: &str) -> String {
        self.0.get(&email.to_lowercase()).cloned().unwrap_or_else(|| email.to_owned())
    }

    /// The name for an account id, or "an examiner" when it is not known.
    fn of_id(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| "an examiner".to_owned())
    }
}

/// One entry, with what the database knows about it put into words already.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// What, e.g. `mark.submit`.
    pub action: &'a str,
    /// Who did it (name); `None` for the command line and the server itself.
    pub actor: Option<&'a str>,
    /// Whose mark, whose referral, whom it is about (name).
    pub subject: Option<&'a str>,
    /// The subject is the one who did it (an examiner's own mark).
    pub subject_is_actor: bool,
    /// The response, e.g. "0002·Q01".
    pub response: Option<&'a str>,
    /// The value before.
    pub old: Option<&'a Value>,
    /// The value after.
    pub new: Option<&'a Value>,
    /// Why, as given.
    pub reason: Option<&'a str>,
    /// The question a tolerance is about, e.g. "02".
    pub question: Option<&'a str>,
    /// The candidates of the scripts the entry names (released, added, ...).
    pub scripts: &'a [String],
    /// Names of people its values mention.
    pub names: &'a Names,
}

/// A longer text that belongs with an entry: a comment, a rationale, a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What it is, e.g. "Rationale".
    pub label: &'static str,
    /// The text as written.
    pub text: String,
}

/// Texts longer than this are folded on the page, behind their beginning.
pub const SHORT: usize = 120;

impl Note {
    /// Whether the text is long enough (or has several lines) to fold away.
    pub fn is_long(&self) -> bool {
        self.text.chars().count() > SHORT || self.text.trim().contains('\n')
    }

    /// The beginning of the text on one line, cut at a word near 120
    /// characters, with "…" when there is more.
    pub fn summary(&self) -> String {
        let flat = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() <= SHORT {
            return flat;
        }
        let cut: String = flat.chars().take(SHORT).collect();
        // Cut at the last space unless that would leave too little.
        let cut = match cut.rfind(' ') {
            Some(i) if i > SHORT / 2 => &cut[..i],
            _ => cut.as_str(),
        };
        format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
    }
}

/// An entry in words: one sentence, and the longer texts that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// What happened, e.g. "Priya Principal released all scripts to the examiners: 0001 and 0002".
    pub sentence: String,
    /// Comments, rationales, questions, answers, long reasons.
    pub notes: Vec<Note>,
}

/// Why marks go when their script leaves the meeting: the reason
/// `meetings::store::remove_script` records, told in the sentence instead.
const SCRIPT_REMOVED: &str = "The script was taken out of the meeting.";

/// Describes one entry.
pub fn describe(f: &Facts<'_>) -> Described {
    let mut notes = Vec::new();
    let sentence = sentence(f, &mut notes);
    let sentence = match f.reason.map(str::trim).filter(|r| !r.is_empty()) {
        // The marks of a removed script say so in their sentence already.
        Some(SCRIPT_REMOVED) if f.action.ends_with(".remove") => sentence,
        Some(reason) => {
            let note = Note { label: "Because", text: reason.to_owned() };
            if note.is_long() {
                notes.insert(0, note);
                format!("{sentence}, because (see below)")
            } else {
                format!("{sentence}, because “{reason}”")
            }
        }
        None => sentence,
    };
    Described { sentence, notes }
}

/// The sentence, adding to `notes` the longer texts it mentions.
fn sentence(f: &Facts<'_>, notes: &mut Vec<Note>) -> String {
    let who = f.actor.unwrap_or("standardise itself");
    let on = f.response.unwrap_or("a response");
    let (old, new) = (f.old.unwrap_or(&Value::Null), f.new.unwrap_or(&Value::Null));
    let whose = || match f.subject {
        Some(s) if !f.subject_is_actor => format!("{s}'s"),
        _ => "their".to_owned(),
    };
    let subject = f.subject.unwrap_or("an examiner");
    match f.action {
        DRAFT => {
            note_if_changed(notes, "Comment", old, new, "comment");
            match (f.old.and_then(mark_words), mark_words(new)) {
                (None, Some(m)) => format!("{who} saved a draft mark of {m} for {on}"),
                (Some(before), Some(after)) if before != after => {
                    format!("{who} changed {} draft mark for {on} from {before} to {after}", whose())
                }
                (_, Some(m)) if text(old, "comment") != text(new, "comment") => {
                    format!("{who} changed the comment on {} draft mark of {m} for {on}", whose())
                }
                (_, Some(m)) => format!("{who} saved {} draft mark of {m} for {on} again, unchanged", whose()),
                (_, None) => format!("{who} saved a draft mark for {on}"),
            }
        }
        "mark.submit" => {
            if let Some(comment) = text(new, "comment") {
                notes.push(Note { label: "Comment", text: comment.to_owned() });
            }
            let mark = mark_words(new).unwrap_or_else(|| "a mark".to_owned());
            let mine = if f.subject_is_actor || f.subject.is_none() { String::new() } else { format!("{}'s mark ", whose()) };
            let draft = match f.old.and_then(mark_words) {
                Some(before) if before != mark => format!(" (the draft said {before})"),
                _ => String::new(),
            };
            format!("{who} submitted {mine}{mark} for {on}{draft}")
        }
        "mark.reopen" => format!("{who} reopened {} mark for {on}", whose()),
        "mark.remove" => {
            let state = text(old, "state").map(|s| format!("{s} ")).unwrap_or_default();
            let mark = mark_words(old).map(|m| format!(" of {m}")).unwrap_or_default();
            let when = if f.reason == Some(SCRIPT_REMOVED) { " when the script was taken out of the meeting" } else { "" };
            format!("{who} removed {} {state}mark{mark} for {on}{when}", whose())
        }
        "definitive.set" | "definitive.change_after_release" => {
            note_if_changed(notes, "Rationale", old, new, "rationale");
            let after_release = if f.action == "definitive.change_after_release" { " after its release" } else { "" };
            let after = mark_words(new).unwrap_or_else(|| "a mark".to_owned());
            match f.old.and_then(mark_words) {
                None => format!("{who} set the definitive mark for {on} to {after}{after_release}"),
                Some(before) if before != after => {
                    format!("{who} changed the definitive mark for {on}{after_release} from {before} to {after}")
                }
                Some(_) => format!("{who} rewrote the rationale of the definitive mark for {on} ({after}){after_release}"),
            }
        }
        "definitive.remove" => {
            let mark = mark_words(old).map(|m| format!(" of {m}")).unwrap_or_default();
            let when = if f.reason == Some(SCRIPT_REMOVED) { " when the script was taken out of the meeting" } else { "" };
            format!("{who} removed the definitive mark{mark} for {on}{when}")
        }
        "release.script" => match f.scripts {
            [] => format!("{who} released a script to the examiners"),
            s => format!("{who} released {} to the examiners", scripts_words(s)),
        },
        "release.all" => match f.scripts {
            [] => format!("{who} released all scripts to the examiners (none was waiting)"),
            s => format!("{who} released all scripts to the examiners: {}", list(s)),
        },
        "tolerance.set" => {
            let question = f.question.map_or_else(|| "a question".to_owned(), |q| format!("question {q}"));
            let marks = |v: &Value| v.get("tolerance").and_then(Value::as_i64).map(marks);
            match (marks(old), marks(new)) {
                (Some(before), Some(after)) => format!("{who} changed the tolerance for {question} from {before} to {after}"),
                (None, Some(after)) => format!("{who} set the tolerance for {question} to {after}"),
                _ => format!("{who} changed the tolerance for {question}"),
            }
        }
        "meeting.create" => {
            let name = text(new, "name").map(|n| format!(" “{n}”")).unwrap_or_default();
            let people: Vec<String> = strings(new.get("people")).iter().map(|e| f.names.of_email(e)).collect();
            if !people.is_empty() {
                notes.push(Note { label: "People", text: list(&people) });
            }
            let scripts = new.get("scripts").and_then(Value::as_i64).unwrap_or(0);
            format!(
                "{who} set up the meeting{name} with {} and {}",
                count(people.len() as i64, "person", "people"),
                count(scripts, "script", "scripts")
            )
        }
        "meeting.open" => format!("{who} opened the meeting for marking"),
        "meeting.close" => format!("{who} closed the meeting: nothing in it changes any more"),
        "people.add" => {
            let added: Vec<String> = strings(Some(new)).iter().map(|p| person_with_role(p, f.names)).collect();
            format!("{who} added {} to the meeting", if added.is_empty() { "nobody".to_owned() } else { list(&added) })
        }
        "people.remove" => {
            let role = old.as_str().map(|r| format!(" ({})", role_words(r))).unwrap_or_default();
            format!("{who} removed {subject}{role} from the meeting")
        }
        "scripts.add" => format!("{who} added {} to the meeting", scripts_words(f.scripts)),
        "scripts.remove" => format!("{who} took {} out of the meeting", scripts_words(f.scripts)),
        "qualification.set" => {
            let set = new
                .get("set")
                .and_then(Value::as_i64)
                .map_or_else(|| "a qualification set".to_owned(), |n| format!("qualification set {n}"));
            let of = f.scripts.len().max(strings(new.get("scripts")).len());
            let within = new.get("min_within").and_then(Value::as_i64).unwrap_or(0);
            let cap = match new.get("max_total_deviation").and_then(Value::as_i64) {
                Some(d) => format!(" and at most {} from the definitive marks in total", marks(d)),
                None => String::new(),
            };
            format!("{who} made {set} of {}: passed with at least {within} of {of} within tolerance{cap}", scripts_words(f.scripts))
        }
        "qualification.open" => format!("{who} opened qualification: every examiner now marks set 1"),
        "qualification.result" => {
            let set = new.get("set").and_then(Value::as_i64).unwrap_or(0);
            let within = new.get("within").and_then(Value::as_i64).unwrap_or(0);
            let of = new.get("of").and_then(Value::as_i64).unwrap_or(0);
            let deviation = new.get("total_deviation").and_then(Value::as_i64).unwrap_or(0);
            let outcome = match (new.get("passed").and_then(Value::as_bool), qual_state(new)) {
                (Some(true), _) => "passed".to_owned(),
                (_, Some(QualState::InProgress)) => format!("not passed; set {} is next", set + 1),
                (_, Some(QualState::Failed)) => "not passed, and it was the last set: failed".to_owned(),
                _ => "not passed".to_owned(),
            };
            let examiner = if f.subject_is_actor || f.subject.is_none() { who } else { subject };
            format!(
                "{examiner} finished qualification set {set}: {within} of {of} scripts within tolerance, {} from the definitive marks in total — {outcome}",
                marks(deviation)
            )
        }
        "qualification.decide" => {
            let decision = match qual_state(new) {
                Some(QualState::Approved) => format!("{who} approved {subject} to mark live"),
                Some(QualState::NotApproved) => format!("{who} did not approve {subject} to mark live"),
                _ => format!("{who} decided {subject}'s qualification"),
            };
            let had = match (qual_state(old), old.get("set").and_then(Value::as_i64)) {
                (Some(QualState::Passed), Some(n)) => format!(" (they had passed set {n})"),
                (Some(QualState::Failed), _) => " (they had failed their last set)".to_owned(),
                (Some(QualState::Approved), _) => " (they had been approved)".to_owned(),
                (Some(QualState::NotApproved), _) => " (they had not been approved)".to_owned(),
                _ => String::new(),
            };
            format!("{decision}{had}")
        }
        "seed.assign" => {
            let examiners: Vec<String> = strings(new.get("examiners")).iter().map(|e| f.names.of_email(e)).collect();
            let seeds = match f.scripts {
                [one] => format!("seed script {one}"),
                [] => "seed scripts".to_owned(),
                many => format!("seed scripts {}", list(many)),
            };
            format!("{who} gave {seeds} to {}", if examiners.is_empty() { "nobody".to_owned() } else { list(&examiners) })
        }
        "qualification.reevaluate" | "qualification.not_reevaluated" => {
            let set = new
                .get("set")
                .and_then(Value::as_i64)
                .map_or_else(|| "a qualification set".to_owned(), |n| format!("qualification set {n}"));
            let changes: Vec<String> = new
                .get("outcomes_changed")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    let name = f.names.of_id(c.get("examiner").and_then(Value::as_str).unwrap_or_default());
                    let passes = c.get("passed_after").and_then(Value::as_bool) == Some(true);
                    (name, passes)
                })
                .map(|(name, passes)| match (f.action == "qualification.reevaluate", passes) {
                    (true, true) => format!("{name} now passes"),
                    (true, false) => format!("{name} no longer passes"),
                    (false, true) => format!("{name} would now pass"),
                    (false, false) => format!("{name} would no longer pass"),
                })
                .collect();
            if f.action == "qualification.reevaluate" {
                let outcome = if changes.is_empty() { "no result changed".to_owned() } else { list(&changes) };
                format!("{who} judged the examiners of {set} again after a definitive mark changed: {outcome}")
            } else {
                let would = if changes.is_empty() { String::new() } else { format!(" (judged again, {})", list(&changes)) };
                format!("{who} let the results of {set} stand after a definitive mark changed{would}")
            }
        }
        "scheme.amend" => {
            if let Some(t) = text(new, "text") {
                notes.push(Note { label: "Amendment", text: t.to_owned() });
            }
            let question = text(new, "question").map_or_else(|| "a question".to_owned(), |q| format!("question {q}"));
            let change = match text(new, "kind") {
                Some("indicative_content") => format!("added a point of indicative content to {question}"),
                Some("level_descriptor") => match new.get("level").and_then(Value::as_i64) {
                    Some(l) => format!("clarified the level {l} descriptor of {question}"),
                    None => format!("clarified a level descriptor of {question}"),
                },
                Some("note") => format!("added a note to {question}"),
                _ => format!("changed {question}"),
            };
            let version = new.get("version").and_then(Value::as_i64).map(|v| format!(" (version {v})")).unwrap_or_default();
            let referral = f.response.map(|r| format!(", answering a referral on {r}")).unwrap_or_default();
            format!("{who} amended the mark scheme{version}: {change}{referral}")
        }
        "referral.ask" => {
            if let Some(q) = text(new, "question") {
                notes.push(Note { label: "Question", text: q.to_owned() });
            }
            format!("{who} referred {on} to the principal examiner")
        }
        "referral.answer" => {
            if let Some(q) = text(old, "question") {
                notes.push(Note { label: "Question", text: q.to_owned() });
            }
            if let Some(a) = text(new, "answer") {
                notes.push(Note { label: "Answer", text: a.to_owned() });
            }
            let amended = new
                .get("amended_version")
                .and_then(Value::as_i64)
                .map(|v| format!(", amending the mark scheme (version {v})"))
                .unwrap_or_default();
            format!("{who} answered {} referral on {on}{amended}", whose())
        }
        "referral.pass_up" => match f.response {
            Some(r) => format!("{who} passed {} referral on {r} up to the principal examiner", whose()),
            None => format!("{who} passed a referral up to the principal examiner"),
        },
        _ => generic(f, who, notes),
    }
}

/// An action not worded above: its name made readable, and its values as text.
fn generic(f: &Facts<'_>, who: &str, notes: &mut Vec<Note>) -> String {
    for (label, value) in [("Before", f.old), ("After", f.new)] {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            notes.push(Note { label, text: value_words(v) });
        }
    }
    let mut s = format!("{who}: {}", super::action_words(f.action).to_lowercase());
    if let Some(r) = f.response {
        s.push_str(&format!(", on {r}"));
    }
    if let Some(p) = f.subject.filter(|_| !f.subject_is_actor) {
        s.push_str(&format!(", about {p}"));
    }
    s
}

/// A mark as people write it: "7 (L3)", "5 (AO1 L2 3 · AO2 L1 2)", or "7".
fn mark_words(v: &Value) -> Option<String> {
    let mark = v.get("mark")?.as_i64()?;
    let parts: Vec<Part> = v.get("parts").and_then(|p| serde_json::from_value(p.clone()).ok()).unwrap_or_default();
    Some(match v.get("level").and_then(Value::as_i64) {
        _ if !parts.is_empty() => format!("{mark} ({})", parts_text(&parts)),
        Some(level) => format!("{mark} (L{level})"),
        None => mark.to_string(),
    })
}

/// A text field of a value, if present and not blank.
fn text<'v>(v: &'v Value, field: &str) -> Option<&'v str> {
    v.get(field).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty())
}

/// Adds a note with the new text of `field` when it is new or changed.
fn note_if_changed(notes: &mut Vec<Note>, label: &'static str, old: &Value, new: &Value, field: &str) {
    if let Some(t) = text(new, field).filter(|t| text(old, field) != Some(t)) {
        notes.push(Note { label, text: t.to_owned() });
    }
}

/// The strings of a JSON array.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn qual_state(v: &Value) -> Option<QualState> {
    text(v, "state")?.parse().ok()
}

/// "3 marks", "1 mark".
fn marks(n: i64) -> String {
    count(n, "mark", "marks")
}

fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "0001", "0001 and 0002", "0001, 0002 and 0003".
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "script 0001", "scripts 0001 and 0002".
fn scripts_words(candidates: &[String]) -> String {
    match candidates {
        [] => "scripts".to_owned(),
        [one] => format!("script {one}"),
        many => format!("scripts {}", list(many)),
    }
}

/// A role as stored (`team_leader`) for people ("team leader").
fn role_words(role: &str) -> String {
    role.parse::<Role>().map_or_else(|_| role.replace('_', " "), |r| r.label().to_owned())
}

/// "ex1@board.example (examiner)", as `people.add` records it, with the name.
fn person_with_role(recorded: &str, names: &Names) -> String {
    match recorded.rsplit_once(" (") {
        Some((email, role)) => format!("{} ({})", names.of_email(email), role_words(role.trim_end_matches(')'))),
        None => names.of_email(recorded),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names() -> Names {
        Names::new([
            (Uuid::from_u128(1), "ann@board.example", "Ann Severe"),
            (Uuid::from_u128(2), "ed@board.example", "Ed Examiner"),
            (Uuid::from_u128(3), "tl@board.example", "Tom Leader"),
        ])
    }

    /// An entry by Ann Severe on her own mark for 0002·Q01.
    fn facts<'a>(action: &'a str, names: &'a Names) -> Facts<'a> {
        Facts {
            action,
            actor: Some("Ann Severe"),
            subject: Some("Ann Severe"),
            subject_is_actor: true,
            response: Some("0002·Q01"),
            old: None,
            new: None,
            reason: None,
            question: None,
            scripts: &[],
            names,
        }
    }

    fn said(f: Facts<'_>) -> String {
        describe(&f).sentence
    }

    #[test]
    fn examiners_marks_read_as_sentences() {
        let n = names();
        let (l2, l3) = (
            json!({"level": 2, "mark": 6, "comment": "", "state": "draft"}),
            json!({"level": 3, "mark": 7, "comment": "", "state": "draft"}),
        );
        assert_eq!(said(Facts { new: Some(&l2), ..facts(DRAFT, &n) }), "Ann Severe saved a draft mark of 6 (L2) for 0002·Q01");
        assert_eq!(
            said(Facts { old: Some(&l2), new: Some(&l3), ..facts(DRAFT, &n) }),
            "Ann Severe changed their draft mark for 0002·Q01 from 6 (L2) to 7 (L3)"
        );
        let commented = json!({"level": 3, "mark": 7, "comment": "Fair use of source B.", "state": "draft"});
        let d = describe(&Facts { old: Some(&l3), new: Some(&commented), ..facts(DRAFT, &n) });
        assert_eq!(d.sentence, "Ann Severe changed the comment on their draft mark of 7 (L3) for 0002·Q01");
        assert_eq!(d.notes, vec![Note { label: "Comment", text: "Fair use of source B.".into() }]);
        let submitted = json!({"level": 3, "mark": 7, "comment": "", "state": "submitted"});
        assert_eq!(
            said(Facts { old: Some(&l3), new: Some(&submitted), ..facts("mark.submit", &n) }),
            "Ann Severe submitted 7 (L3) for 0002·Q01"
        );
        assert_eq!(
            said(Facts { old: Some(&l2), new: Some(&submitted), ..facts("mark.submit", &n) }),
            "Ann Severe submitted 7 (L3) for 0002·Q01 (the draft said 6 (L2))"
        );
    }

    #[test]
    fn marks_per_objective_show_their_parts() {
        let n = names();
        let parts = json!({"level": null, "mark": 5, "parts": [{"ao": "AO1", "level": 2, "mark": 3}, {"ao": "AO2", "level": 1, "mark": 2}], "state": "submitted"});
        assert_eq!(
            said(Facts { new: Some(&parts), ..facts("mark.submit", &n) }),
            "Ann Severe submitted 5 (AO1 L2 3 · AO2 L1 2) for 0002·Q01"
        );
        assert_eq!(mark_words(&json!({"level": null, "mark": 4, "parts": []})).as_deref(), Some("4"));
        assert_eq!(mark_words(&json!({"level": 0, "mark": 0})).as_deref(), Some("0 (L0)"));
        assert_eq!(mark_words(&json!({"state": "draft"})), None);
    }

    #[test]
    fn the_principal_examiners_actions_read_as_sentences() {
        let n = names();
        let pe = |action| Facts { actor: Some("Priya Principal"), subject: None, subject_is_actor: false, ..facts(action, &n) };
        let d14 = json!({"level": 3, "mark": 14, "parts": [], "rationale": "Sustained analysis of both sources."});
        let d = describe(&Facts { response: Some("0001·Q02"), new: Some(&d14), ..pe("definitive.set") });
        assert_eq!(d.sentence, "Priya Principal set the definitive mark for 0001·Q02 to 14 (L3)");
        assert_eq!(d.notes, vec![Note { label: "Rationale", text: "Sustained analysis of both sources.".into() }]);
        let d12 = json!({"level": 3, "mark": 12, "parts": [], "rationale": "Sustained analysis of both sources."});
        let d = describe(&Facts {
            old: Some(&d12),
            new: Some(&d14),
            reason: Some("Agreed in the meeting"),
            ..pe("definitive.change_after_release")
        });
        assert_eq!(
            d.sentence,
            "Priya Principal changed the definitive mark for 0002·Q01 after its release from 12 (L3) to 14 (L3), because “Agreed in the meeting”"
        );
        assert!(d.notes.is_empty(), "the rationale did not change");

        let reopen = Facts { subject: Some("Ed Examiner"), reason: Some("mis-keyed"), ..pe("mark.reopen") };
        assert_eq!(said(reopen), "Priya Principal reopened Ed Examiner's mark for 0002·Q01, because “mis-keyed”");
        let scripts = ["0001".to_owned(), "0002".to_owned()];
        assert_eq!(
            said(Facts { scripts: &scripts, ..pe("release.all") }),
            "Priya Principal released all scripts to the examiners: 0001 and 0002"
        );
        assert_eq!(said(Facts { scripts: &scripts[..1], ..pe("release.script") }), "Priya Principal released script 0001 to the examiners");
        let (t1, t3) = (json!({"question_id": Uuid::nil(), "tolerance": 1}), json!({"question_id": Uuid::nil(), "tolerance": 3}));
        assert_eq!(
            said(Facts { question: Some("02"), old: Some(&t1), new: Some(&t3), ..pe("tolerance.set") }),
            "Priya Principal changed the tolerance for question 02 from 1 mark to 3 marks"
        );
    }

    #[test]
    fn qualification_referrals_and_setup_read_as_sentences() {
        let n = names();
        let pe =
            |action| Facts { actor: Some("Priya Principal"), subject: Some("Ed Examiner"), subject_is_actor: false, ..facts(action, &n) };
        let (passed, approved) = (json!({"state": "passed", "set": 1}), json!({"state": "approved"}));
        assert_eq!(
            said(Facts { old: Some(&passed), new: Some(&approved), ..pe("qualification.decide") }),
            "Priya Principal approved Ed Examiner to mark live (they had passed set 1)"
        );
        let result = json!({"set": 1, "within": 1, "of": 2, "total_deviation": 5, "passed": false, "state": "in_progress"});
        assert_eq!(
            said(Facts { actor: Some("Ed Examiner"), subject_is_actor: true, new: Some(&result), ..pe("qualification.result") }),
            "Ed Examiner finished qualification set 1: 1 of 2 scripts within tolerance, 5 marks from the definitive marks in total — not passed; set 2 is next"
        );
        let changed = json!({"set": 1, "reevaluated": true, "outcomes_changed": [{"examiner": Uuid::from_u128(2), "set": 1, "passed_before": false, "passed_after": true}]});
        assert_eq!(
            said(Facts { new: Some(&changed), ..pe("qualification.reevaluate") }),
            "Priya Principal judged the examiners of qualification set 1 again after a definitive mark changed: Ed Examiner now passes"
        );
        let seeds = json!({"examiners": ["ed@board.example", "ann@board.example"], "scripts": [Uuid::nil()]});
        assert_eq!(
            said(Facts { new: Some(&seeds), scripts: &["0005".to_owned()], ..pe("seed.assign") }),
            "Priya Principal gave seed script 0005 to Ed Examiner and Ann Severe"
        );
        let answer = json!({"answer": "Credit it as context.", "amended_version": 3});
        let d = describe(&Facts { old: Some(&json!({"question": "Is this context?"})), new: Some(&answer), ..pe("referral.answer") });
        assert_eq!(d.sentence, "Priya Principal answered Ed Examiner's referral on 0002·Q01, amending the mark scheme (version 3)");
        assert_eq!(d.notes.iter().map(|n| n.label).collect::<Vec<_>>(), ["Question", "Answer"]);
        let amend = json!({"version": 3, "question": "01", "kind": "level_descriptor", "level": 2, "text": "Clearer."});
        assert_eq!(
            said(Facts { new: Some(&amend), response: None, ..pe("scheme.amend") }),
            "Priya Principal amended the mark scheme (version 3): clarified the level 2 descriptor of question 01"
        );
        let added = json!(["tl@board.example (team_leader)", "new@board.example (examiner)"]);
        assert_eq!(
            said(Facts { new: Some(&added), ..pe("people.add") }),
            "Priya Principal added Tom Leader (team leader) and new@board.example (examiner) to the meeting"
        );
        assert_eq!(
            said(Facts { old: Some(&json!("examiner")), ..pe("people.remove") }),
            "Priya Principal removed Ed Examiner (examiner) from the meeting"
        );
        let removed = json!({"level": 2, "mark": 6, "comment": "", "state": "submitted"});
        let d = describe(&Facts { old: Some(&removed), reason: Some(SCRIPT_REMOVED), ..pe("mark.remove") });
        assert_eq!(
            d.sentence,
            "Priya Principal removed Ed Examiner's submitted mark of 6 (L2) for 0002·Q01 when the script was taken out of the meeting"
        );
    }

    #[test]
    fn every_grouped_action_has_a_sentence_of_its_own() {
        let n = names();
        let empty = json!({});
        for k in KINDS {
            for &action in k.actions {
                // The generic sentence is "Who: the action's name".
                let s = said(Facts { new: Some(&empty), ..facts(action, &n) });
                assert!(!s.starts_with("Ann Severe: "), "{action} has no sentence of its own: {s:?}");
                assert_eq!(kind_of(action), Some(k), "{action} is in one kind");
            }
        }
        assert_eq!(kind("releases").map(|k| k.label), Some("Releases"));
        assert_eq!(kind("nonsense"), None);
    }

    #[test]
    fn an_unknown_action_reads_as_words_not_json() {
        let n = names();
        let value = json!({"widget_count": 2, "nested": {"on": true}});
        let d =
            describe(&Facts { new: Some(&value), subject: Some("Ed Examiner"), subject_is_actor: false, ..facts("widget.frobnicate", &n) });
        assert_eq!(d.sentence, "Ann Severe: widget frobnicate, on 0002·Q01, about Ed Examiner");
        assert_eq!(d.notes, vec![Note { label: "After", text: "nested: (on: yes); widget count: 2".into() }]);
        assert!(!d.sentence.contains('{') && !d.notes[0].text.contains('{'));
    }

    #[test]
    fn long_texts_fold_behind_their_beginning() {
        let n = names();
        let long = "word ".repeat(60);
        let d = describe(&Facts { reason: Some(&long), ..facts("mark.reopen", &n) });
        assert!(d.sentence.ends_with(", because (see below)"), "{}", d.sentence);
        let note = &d.notes[0];
        assert!(note.is_long());
        let summary = note.summary();
        assert!(summary.ends_with('…') && summary.chars().count() <= SHORT + 1, "{summary}");
        assert!(!Note { label: "Comment", text: "short".into() }.is_long());
        assert!(Note { label: "Comment", text: "two\nlines".into() }.is_long());
        assert_eq!(Note { label: "Comment", text: "two\nlines".into() }.summary(), "two lines");
    }
}
