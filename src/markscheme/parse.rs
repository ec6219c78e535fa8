//! The line-driven reader: walks normalised lines, opens a question at each
//! question heading and routes every following line to the prompt, the
//! targets, the band grid(s) or the indicative content.

use super::bands::{LineBand, ao_header, ao_row, band_from_cells, band_from_line};
use super::build::{QuestionBuilder, finish_question, generic_grid};
use super::lines::{Line, lazy_re, looks_binary, normalise};
use super::model::{Parsed, Problem, Scheme};
use super::paper::{guidance, paper_info};

lazy_re!(re_q_heading, r"(?i)^question\s+(\d{1,2}(?:\.\d{1,2})?\s*(?:\(?[a-z]\)|[a-z]\b)?)\s*[:.]?\s*(.*)$");
lazy_re!(re_q_number, r"^(\d{2}(?:\.\d{1,2})?)(?:\s+(.*))?$");
lazy_re!(re_cell_qnum, r"^(\d{2}(?:\.\d{1,2})?)$");
lazy_re!(re_cell_part, r"^\(?([1-9]|[a-z])\)?$");
lazy_re!(re_ao_weight, r"(?i)\bAO\s*\d{1,2}(?:\s*\(\s*[a-z]\s*\))?\s*(?:=|-)\s*\d{1,3}\b");
lazy_re!(re_ao_only_cell, r"(?i)^(?:AO\s*\d{1,2}(?:\s*\(\s*[a-z]\s*\))?[\s,/]*)+[\d.\s]*$");
lazy_re!(re_lone_number, r"^(\d{1,2})\s*(\(?[a-z]\))?$");
lazy_re!(re_level_label, r"(?i)^(?:L\d|level\s*\d|band\s*\d)");
lazy_re!(re_total_line, r"(?i)(?:[(\[]\s*\d{1,3}\s*marks?\s*[)\]]|^total\s*:?\s*\d{1,3}\s*marks?$)");
lazy_re!(
    re_group_target,
    r"(?i)^(?:(?:targets?|assessment\s+objectives?|aos?)\s*(?:for\s+)?questions?\s*(\d{1,2})\s*(?:-|to|and)\s*(\d{1,2})|questions?\s*(\d{1,2})\s*(?:-|to|and)\s*(\d{1,2})\s*[,:.-]?\s*(?:targets?|assessment\s+objectives?|aos?))\s*[:.-]?\s*(.+)$"
);
lazy_re!(re_target, r"(?i)^(?:targets?|assessment\s+objectives?|aos?)\s*:\s*(.+)$");
lazy_re!(re_ao, r"(?i)\bAO\s*(\d{1,2})\s*(\(\s*[a-z]{1,3}\s*\))?");
lazy_re!(re_indicative, r"(?i)^(?:indicative\s+(?:content|answers?)|possible\s+content)\b\s*:?\s*(.*)$");
lazy_re!(
    re_levels_heading,
    r"(?i)^(?:levels?\s+(?:of\s+response\s+)?mark\s+scheme|mark\s+scheme|levels?\s+descriptors?|levels?\s+of\s+response|marking\s+grid|levels?|bands?)\s*:?$"
);

/// Where a question start was found and what follows the number on that line.
struct Start {
    /// Question number as printed (spaces removed).
    number: String,
    /// Rest of the line (the beginning of the prompt).
    rest: String,
    /// "Question 1" with nothing after it: maybe only a group heading.
    bare_heading: bool,
    /// Remaining table cells when the start was a table row.
    cells: Option<Vec<String>>,
}

/// Recognises a question start on a line.
fn question_start(l: &Line) -> Option<Start> {
    if let Some(cells) = &l.cells {
        let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
        let first = filled.first()?;
        if let Some(c) = re_q_heading().and_then(|r| r.captures(first))
            && c.get(2).is_none_or(|m| m.as_str().is_empty())
        {
            let number = c.get(1).map_or("", |m| m.as_str()).replace(' ', "");
            let rest: Vec<String> = filled[1..].iter().filter(|c| !c.eq_ignore_ascii_case(first)).map(|c| c.to_string()).collect();
            return Some(Start { number, rest: String::new(), bare_heading: false, cells: Some(rest) });
        }
        if re_cell_qnum().is_some_and(|r| r.is_match(first)) {
            let mut number = first.to_string();
            let mut skip = 1;
            if let Some(p) = filled.get(1).and_then(|p| re_cell_part().and_then(|r| r.captures(p))) {
                number = format!("{number}.{}", p.get(1).map_or("", |m| m.as_str()));
                skip = 2;
            }
            let rest = filled.iter().skip(skip).map(|c| c.to_string()).collect();
            return Some(Start { number, rest: String::new(), bare_heading: false, cells: Some(rest) });
        }
        return None;
    }
    let first = l.key.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || first == 'q' || first == 'Q') {
        return None;
    }
    if let Some(c) = re_q_heading().and_then(|r| r.captures(&l.key)) {
        let number = c.get(1).map_or("", |m| m.as_str()).replace(' ', "");
        let rest = c.get(2).map_or("", |m| m.as_str()).trim().to_string();
        // "Question 01 to many districts" is prose that wrapped onto a new line
        // (PDF text does this), not a heading: a heading's text, if any, is a
        // sentence or follows a colon.
        let separated = match (c.get(1), c.get(2)) {
            (Some(n), Some(r)) => l.key[n.end()..r.start()].contains([':', '.']),
            _ => false,
        };
        if rest.starts_with(|ch: char| ch.is_lowercase()) && !separated {
            return None;
        }
        let bare = rest.is_empty();
        return Some(Start { number, rest: plain_tail(l, &rest), bare_heading: bare, cells: None });
    }
    let c = re_q_number().and_then(|r| r.captures(&l.key))?;
    let rest = c.get(2).map_or("", |m| m.as_str()).trim();
    let starts_ok = rest.is_empty() || rest.starts_with(|ch: char| ch.is_uppercase() || "'\"([".contains(ch));
    if !starts_ok || rest.to_lowercase().starts_with("mark") {
        return None;
    }
    let number = c.get(1).map_or("", |m| m.as_str()).to_string();
    (number.parse::<f64>().unwrap_or(0.0) > 0.0).then(|| Start { number, rest: plain_tail(l, rest), bare_heading: false, cells: None })
}

/// The `plain` (original dashes) version of a key suffix, falling back to the key text.
fn plain_tail(l: &Line, key_rest: &str) -> String {
    let n = key_rest.chars().count();
    let total = l.plain.chars().count();
    if n == 0 || n > total {
        return key_rest.to_string();
    }
    let tail: String = l.plain.chars().skip(total - n).collect();
    if super::lines::to_key(&tail) == key_rest { tail } else { key_rest.to_string() }
}

/// Extracts AO names ("AO2(a)") from a target line.
pub(crate) fn targets_in(s: &str) -> Vec<String> {
    re_ao().map_or_else(Vec::new, |r| {
        r.captures_iter(s)
            .map(|c| {
                let sub = c
                    .get(2)
                    .map_or(String::new(), |m| m.as_str().chars().filter(|ch| !ch.is_whitespace()).collect::<String>().to_lowercase());
                format!("AO{}{}", c.get(1).map_or("", |m| m.as_str()), sub)
            })
            .collect()
    })
}

/// Parses a mark scheme; never panics.
pub fn parse(text: &str) -> Parsed {
    let mut problems = Vec::new();
    if looks_binary(text) {
        problems.push(Problem { line: 1, message: "the file looks like binary data, not a text mark scheme".into() });
        return Parsed { scheme: Scheme::default(), problems };
    }
    let lines = normalise(text);
    let mut pre = QuestionBuilder::preamble();
    let mut cur: Option<QuestionBuilder> = None;
    let mut done: Vec<QuestionBuilder> = Vec::new();
    let mut first_q_idx = lines.len();
    let mut last_number: Option<String> = None;
    for (idx, l) in lines.iter().enumerate() {
        if let Some(s) = question_start(l).or_else(|| lone_number_start(&lines, idx, last_number.as_deref())) {
            last_number = Some(s.number.clone());
            if let Some(q) = cur.take() {
                // A bare "Question 1" followed directly by "01 ..." was only a group heading.
                if !(q.bare_heading && q.is_empty()) {
                    done.push(q);
                }
            }
            first_q_idx = first_q_idx.min(idx);
            let mut q = QuestionBuilder::new(&s.number, l.no, s.bare_heading);
            if !s.rest.is_empty() {
                q.prompt_text(&s.rest, l.no);
            }
            if let Some(cells) = s.cells {
                q.start_cells(&cells, l.no);
            }
            cur = Some(q);
            continue;
        }
        let q = match cur.as_mut() {
            Some(q) => q,
            None => &mut pre,
        };
        feed(q, l);
    }
    if let Some(q) = cur.take()
        && !(q.bare_heading && q.is_empty())
    {
        done.push(q);
    }
    let pre_lines = &lines[..first_q_idx.min(lines.len())];
    let grid = generic_grid(pre, &mut problems);
    let mut questions = done.into_iter().map(|q| finish_question(q, grid.as_deref(), &mut problems)).collect::<Vec<_>>();
    // Targets not printed as "Target: ..." are often printed as marks per
    // objective ("AO4 - 1 mark", "AO1=12") or in an AO column; a shared grid's
    // weights apply to the questions that use that grid.
    let shared = weighted_targets(pre_lines);
    let groups = group_targets(&lines);
    for q in questions.iter_mut().filter(|q| q.targets.is_empty()) {
        let span = q.source.unwrap_or_default();
        let own: Vec<&Line> = lines.iter().filter(|l| (span.start..=span.end).contains(&l.no)).collect();
        q.targets = weighted_targets(own);
        if q.targets.is_empty() && grid.as_deref().is_some_and(|g| g == q.levels.as_slice()) {
            q.targets = shared.clone();
        }
        if q.targets.is_empty() {
            let n: Option<u32> = q.number.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok();
            if let Some((_, targets)) = groups.iter().find(|(range, _)| n.is_some_and(|n| range.contains(&n))) {
                q.targets = targets.clone();
            }
        }
    }
    if questions.is_empty() {
        problems.push(Problem { line: 1, message: "no questions found: is this a mark scheme?".into() });
    }
    let scheme = Scheme { paper: paper_info(pre_lines, text), guidance: guidance(pre_lines), questions };
    problems.sort_by_key(|p| p.line);
    Parsed { scheme, problems }
}

/// A question number alone on its line ("1", "2(a)") with the prompt below:
/// taken as a question only when it is the next number in sequence, a prompt
/// (not a level) follows, and the question's total is printed within the next
/// lines, because a lone number is as often a page number or a band.
fn lone_number_start(lines: &[Line], idx: usize, last: Option<&str>) -> Option<Start> {
    let l = &lines[idx];
    if l.cells.is_some() {
        return None;
    }
    let c = re_lone_number()?.captures(&l.key)?;
    let n: u32 = c[1].parse().ok()?;
    let part = c.get(2).map(|m| m.as_str().trim_matches(['(', ')']).to_owned());
    // A paper that numbers "01" or "01.1" does not also number "2" alone.
    if last.is_some_and(|s| s.starts_with('0') || s.contains('.')) {
        return None;
    }
    let last_n: u32 = last.map_or(Some(0), |s| s.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok())?;
    let in_sequence = n == last_n + 1 || (part.is_some() && n == last_n);
    if !in_sequence {
        return None;
    }
    let mut following = lines[idx + 1..].iter().filter(|l| !l.is_blank());
    let next = following.next()?;
    let prompt_like = next.cells.is_none()
        && next.key.starts_with(|ch: char| ch.is_uppercase() || "'\"‘“".contains(ch))
        && !re_level_label().is_some_and(|r| r.is_match(&next.key));
    // The total must be this question's: looked for before the next question starts.
    let total_soon = lines[idx + 1..]
        .iter()
        .take(25)
        .take_while(|l| question_start(l).is_none())
        .any(|l| re_total_line().is_some_and(|r| r.is_match(&l.key)));
    if !(prompt_like && total_soon) {
        return None;
    }
    let number = match part {
        Some(p) => format!("{n}({p})"),
        None => n.to_string(),
    };
    Some(Start { number, rest: String::new(), bare_heading: false, cells: None })
}

/// Targets printed once for a group of questions: "Questions 1–3: Target AO1,
/// AO2" or "Assessment objectives for questions 4 to 6: AO3".
fn group_targets(lines: &[Line]) -> Vec<(std::ops::RangeInclusive<u32>, Vec<String>)> {
    let Some(re) = re_group_target() else { return Vec::new() };
    lines
        .iter()
        .filter_map(|l| {
            let c = re.captures(&l.key)?;
            let from: u32 = c.get(1).or(c.get(3))?.as_str().parse().ok()?;
            let to: u32 = c.get(2).or(c.get(4))?.as_str().parse().ok()?;
            let targets = targets_in(c.get(5)?.as_str());
            (!targets.is_empty() && from <= to).then_some((from..=to, targets))
        })
        .collect()
}

/// The objectives named with their marks ("AO2 - 4 marks", "AO1=12") or alone
/// in a table cell ("AO1 AO2", "AO1 4.2.2.4"), in the order first printed.
fn weighted_targets<'a>(lines: impl IntoIterator<Item = &'a Line>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        let mut found: Vec<String> =
            re_ao_weight().into_iter().flat_map(|r| r.find_iter(&l.key)).flat_map(|m| targets_in(m.as_str())).collect();
        for cell in l.cells.iter().flatten() {
            if re_ao_only_cell().is_some_and(|r| r.is_match(cell)) {
                found.extend(targets_in(cell));
            }
        }
        for t in found {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// Routes one line inside a question (or the preamble) to the right part.
fn feed(q: &mut QuestionBuilder, l: &Line) {
    q.touch(l);
    if l.rule {
        q.end_continuation();
        return;
    }
    if l.is_blank() {
        q.blank_line();
        return;
    }
    if let Some(cells) = &l.cells {
        feed_cells(q, cells, l);
        return;
    }
    let key = l.key.as_str();
    let lead = key.chars().next().map_or(' ', |c| c.to_ascii_lowercase());
    if let Some(c) = re_indicative().filter(|_| lead == 'i' || lead == 'p').and_then(|r| r.captures(key)) {
        q.start_indicative(c.get(1).map_or("", |m| m.as_str()));
        return;
    }
    if let Some(c) = re_target().filter(|_| key.contains(':')).and_then(|r| r.captures(key)) {
        let t = targets_in(c.get(1).map_or("", |m| m.as_str()));
        if !t.is_empty() {
            q.add_targets(t);
            q.close_prompt();
            return;
        }
    }
    if !q.in_indicative && key.len() < 48 && re_levels_heading().is_some_and(|r| r.is_match(key)) {
        q.close_prompt();
        q.band_context = true;
        return;
    }
    match band_from_line(key) {
        LineBand::Band(h) => {
            q.add_band(h, l.no);
            return;
        }
        LineBand::Unreadable if !q.in_indicative && !q.is_preamble => {
            q.problem(l.no, format!("could not read the mark range in \"{}\"", short(key)));
            return;
        }
        _ => {}
    }
    q.text_line(l);
}

/// Routes a table row inside a question.
fn feed_cells(q: &mut QuestionBuilder, cells: &[String], l: &Line) {
    let aos = ao_header(cells);
    if !aos.is_empty() {
        q.start_ao_grid(aos, l.no);
        return;
    }
    if q.ao_grid_open()
        && let Some((label, hits)) = ao_row(cells, q.ao_grid_width())
    {
        q.add_ao_row(label, hits, l.no);
        return;
    }
    if super::bands::is_header_row(cells) {
        // "| Level | Mark | Descriptor |": the rows below are bands.
        q.close_prompt();
        q.band_context = true;
        return;
    }
    // A bare number in a table is only a band inside a levels section; elsewhere it
    // is as likely a mark column or an answer, so it needs a printed "Level N".
    if let Some(h) = band_from_cells(cells).filter(|h| q.band_context || h.labelled) {
        q.add_band(h, l.no);
        return;
    }
    q.table_text(cells, l);
}

/// Shortens text for a problem message without splitting a character.
pub(crate) fn short(s: &str) -> String {
    if s.chars().count() <= 60 { s.to_string() } else { format!("{}…", s.chars().take(60).collect::<String>()) }
}
