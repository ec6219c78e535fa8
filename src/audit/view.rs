//! The meeting audit page's content, made from a page of the log: entries in
//! words grouped by day, the filter's choices, and links that keep the filters.
//! Pure (no SQL, no HTTP), so the page's handler only reads and renders.

use time::{UtcOffset, format_description::FormatItem, macros::format_description};
use uuid::Uuid;

use super::{
    MeetingPage, Page,
    meeting_log::Filter,
    words::{self, DRAFT, KINDS, Note},
};

/// An option of one of the filter's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Sent in the address.
    pub value: String,
    /// Shown.
    pub label: String,
    /// The filter in force.
    pub selected: bool,
}

/// A comment, rationale or reason under an entry's sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteView {
    /// "Rationale", "Because", ...
    pub label: &'static str,
    /// The whole text.
    pub text: String,
    /// Its beginning, when the text is long enough to fold away.
    pub summary: Option<String>,
}

/// One entry as the page lists it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Sequence number (the row's anchor, and the pages' bound).
    pub id: i64,
    /// ISO 8601, for the `datetime` attribute.
    pub at_iso: String,
    /// "14:05:23" (UTC; the day heads its group).
    pub time: String,
    /// What happened, in words.
    pub sentence: String,
    /// Longer texts that go with it.
    pub notes: Vec<NoteView>,
    /// The response's label and a link to its entries alone.
    pub response: Option<(String, String)>,
    /// The action as recorded, e.g. `mark.submit` (kept on the row for people
    /// matching the page against the CSV and the API).
    pub action: String,
    /// The action's kind, for styling: `marks`, `definitive`, ..., or `other`.
    pub kind: &'static str,
    /// A draft save (shown in a quieter style).
    pub draft: bool,
}

/// The entries of one day.
#[derive(Debug, Clone)]
pub struct Day {
    /// "Tuesday 2 December 2025".
    pub label: String,
    /// Its entries, newest first.
    pub rows: Vec<Row>,
}

/// Everything the audit page shows.
#[derive(Debug, Clone)]
pub struct AuditView {
    /// The page's address, without a query.
    pub path: String,
    /// The entries, by day, newest first.
    pub days: Vec<Day>,
    /// People to filter by.
    pub people: Vec<Choice>,
    /// Responses to filter by.
    pub responses: Vec<Choice>,
    /// Kinds to filter by.
    pub kinds: Vec<Choice>,
    /// Draft saves are shown.
    pub drafts: bool,
    /// Any filter is in force (so offer to clear them).
    pub filtered: bool,
    /// Entries that pass the filters, on every page.
    pub matching: i64,
    /// Draft saves folded away.
    pub hidden_drafts: i64,
    /// The same filters with draft saves shown.
    pub show_drafts: String,
    /// The same filters with draft saves hidden.
    pub hide_drafts: String,
    /// The newest page with the same filters, when this is an older one.
    pub newest: Option<String>,
    /// The page of newer entries.
    pub newer: Option<String>,
    /// The page of older entries.
    pub older: Option<String>,
}

const DAY: &[FormatItem<'_>] = format_description!("[weekday] [day padding:none] [month repr:long] [year]");
const TIME: &[FormatItem<'_>] = format_description!("[hour]:[minute]:[second]");

impl AuditView {
    /// The page for meeting `meeting_id`, showing `found` under `filter`.
    pub fn new(meeting_id: Uuid, filter: Filter, page: Page, found: MeetingPage) -> AuditView {
        let path = format!("/meetings/{meeting_id}/audit");
        let link = |f: Filter, page: Option<(&str, i64)>| link(&path, f, page);
        let mut days: Vec<Day> = Vec::new();
        for e in &found.entries {
            let at = e.at.to_offset(UtcOffset::UTC);
            let day = at.format(DAY).unwrap_or_default();
            let described = e.describe(&found.names);
            let row = Row {
                id: e.id,
                at_iso: at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                time: at.format(TIME).unwrap_or_default(),
                sentence: described.sentence,
                notes: described.notes.into_iter().map(note_view).collect(),
                response: e
                    .response_id
                    .zip(e.response_short())
                    .map(|(id, label)| (label, link(Filter { response: Some(id), ..filter }, None))),
                action: e.action.clone(),
                kind: words::kind_of(&e.action).map_or("other", |k| k.slug),
                draft: e.action == DRAFT,
            };
            match days.last_mut() {
                Some(d) if d.label == day => d.rows.push(row),
                _ => days.push(Day { label: day, rows: vec![row] }),
            }
        }
        let edge = |first: bool| if first { found.entries.first() } else { found.entries.last() };
        AuditView {
            days,
            people: found
                .people
                .iter()
                .filter(|p| p.in_log)
                .map(|p| Choice { value: p.id.to_string(), label: p.name.clone(), selected: filter.person == Some(p.id) })
                .collect(),
            responses: found
                .responses
                .iter()
                .map(|r| Choice { value: r.id.to_string(), label: r.label(), selected: filter.response == Some(r.id) })
                .collect(),
            kinds: KINDS
                .iter()
                .map(|k| Choice { value: k.slug.to_owned(), label: k.label.to_owned(), selected: filter.kind == Some(k) })
                .collect(),
            drafts: filter.drafts,
            filtered: filter.person.is_some() || filter.response.is_some() || filter.kind.is_some() || filter.drafts,
            matching: found.matching,
            hidden_drafts: found.hidden_drafts,
            show_drafts: link(Filter { drafts: true, ..filter }, None),
            hide_drafts: link(Filter { drafts: false, ..filter }, None),
            newest: (page != Page::Newest).then(|| link(filter, None)),
            newer: edge(true).filter(|_| found.has_newer).map(|e| link(filter, Some(("after", e.id)))),
            older: edge(false).filter(|_| found.has_older).map(|e| link(filter, Some(("before", e.id)))),
            path,
        }
    }
}

/// The page's address with these filters (and a page bound).
fn link(path: &str, f: Filter, page: Option<(&str, i64)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(p) = f.person {
        query.append_pair("person", &p.to_string());
    }
    if let Some(r) = f.response {
        query.append_pair("response", &r.to_string());
    }
    if let Some(k) = f.kind {
        query.append_pair("kind", k.slug);
    }
    if f.drafts {
        query.append_pair("drafts", "1");
    }
    if let Some((bound, id)) = page {
        query.append_pair(bound, &id.to_string());
    }
    let query = query.finish();
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

fn note_view(n: Note) -> NoteView {
    NoteView { label: n.label, summary: n.is_long().then(|| n.summary()), text: n.text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::words::kind;

    #[test]
    fn links_keep_the_filters() {
        let person = Uuid::from_u128(7);
        let f = Filter { person: Some(person), kind: kind("marks"), drafts: true, ..Filter::default() };
        assert_eq!(link("/m/audit", f, Some(("before", 42))), format!("/m/audit?person={person}&kind=marks&drafts=1&before=42"));
        assert_eq!(link("/m/audit", Filter::default(), None), "/m/audit");
    }
}
