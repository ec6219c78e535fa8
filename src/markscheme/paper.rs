//! Paper identification (code, title, series, board) and the generic guidance,
//! both read from the text before the first question.

use super::finish::tidy_md;
use super::lines::{Line, lazy_re};
use super::model::PaperInfo;

lazy_re!(re_code, r"\b(?:[A-Z]{3,5}\d[A-Z0-9]{0,3}|\d[A-Z0-9]{3}/[0-9][0-9A-Z]{0,3}|[A-Z]\d{3}/\d{2})\b");
lazy_re!(re_code_title, r"^([A-Z]{3,5}\d[A-Z0-9]{0,3}|\d[A-Z0-9]{3}/[0-9][0-9A-Z]{0,3}|[A-Z]\d{3}/\d{2})\s*[:\-–—]\s+(\S.*)$");
lazy_re!(
    re_series,
    r"(?i)\b(January|February|March|April|May|June|July|August|September|October|November|December|Summer|Winter|Autumn|Spring)\s+(\d{4})\b"
);
lazy_re!(
    re_guidance_start,
    r"(?i)\b(?:guidance|introduction|instructions|principles|information\s+to\s+examiners|general\s+marking|marking\s+criteria)\b"
);
lazy_re!(
    re_not_title,
    r"(?i)mark\s*scheme|^final$|^version|^unit\s+\w+$|^paper\s*\d*$|^(?:gce|gcse|as|a-level|a level|international)\b|\b\d{4}\b|^copyright|^\d+$"
);

/// Board names in the order they should be tried (longer names first).
const BOARDS: &[(&str, &str)] = &[
    ("oxfordaqa", "OxfordAQA"),
    ("oxford aqa", "OxfordAQA"),
    ("pearson", "Pearson Edexcel"),
    ("edexcel", "Pearson Edexcel"),
    ("wjec", "WJEC"),
    ("eduqas", "WJEC Eduqas"),
    ("ccea", "CCEA"),
    ("ocr", "OCR"),
    ("cambridge", "Cambridge"),
    ("aqa", "AQA"),
];

/// True if `hay` contains `word` delimited by non-alphanumerics.
fn has_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

/// True if the code candidate is really an assessment objective or similar.
fn not_a_code(c: &str) -> bool {
    c.starts_with("AO") || c.starts_with("ISBN")
}

/// Reads code, title, series and board.
pub(crate) fn paper_info(pre: &[Line], whole: &str) -> PaperInfo {
    let mut info = PaperInfo::default();
    // Cover-page facts sit on short lines; skipping paragraphs keeps this cheap.
    let head: Vec<&Line> = pre.iter().filter(|l| !l.is_blank() && l.cells.is_none() && l.key.len() < 160).collect();
    // "HIS2L: The Impact of ..." names code and title together: the surest source.
    for l in &head {
        if let Some(c) = re_code_title().and_then(|r| r.captures(&l.plain)) {
            info.code = c.get(1).map_or("", |m| m.as_str()).to_string();
            info.title = c.get(2).map_or("", |m| m.as_str()).trim().to_string();
            break;
        }
    }
    if info.code.is_empty() {
        let found = head.iter().take(80).enumerate().find_map(|(i, l)| {
            let r = re_code()?;
            let m = r.find_iter(&l.key).find(|m| !not_a_code(m.as_str()))?;
            Some((i, m.as_str().to_string()))
        });
        if let Some((i, code)) = found {
            info.code = code;
            if info.title.is_empty() {
                // Cover pages put the title on a line near the code.
                info.title = head
                    .iter()
                    .skip(i + 1)
                    .take(4)
                    .map(|l| l.plain.trim())
                    .find(|t| t.chars().count() > 3 && !re_not_title().is_some_and(|r| r.is_match(t)))
                    .unwrap_or_default()
                    .to_string();
            }
        }
    }
    if let Some(c) = head.iter().take(80).find_map(|l| re_series().and_then(|r| r.captures(&l.key))) {
        let month = c.get(1).map_or("", |m| m.as_str());
        let mut chars = month.chars();
        let month =
            chars.next().map(|f| f.to_uppercase().chain(chars.flat_map(|c| c.to_lowercase())).collect::<String>()).unwrap_or_default();
        info.series = format!("{month} {}", c.get(2).map_or("", |m| m.as_str()));
    }
    let lower = whole.to_lowercase();
    if let Some((_, name)) = BOARDS.iter().find(|(w, _)| has_word(&lower, w)) {
        info.board = (*name).to_string();
    }
    info
}

/// The generic guidance: from the first guidance-like heading to the first question,
/// leaving out a short page header (series, paper title) printed just before it.
pub(crate) fn guidance(pre: &[Line]) -> String {
    let start = pre.iter().position(|l| l.key.chars().count() < 90 && re_guidance_start().is_some_and(|r| r.is_match(&l.key))).unwrap_or(0);
    let mut end = pre.len();
    if let Some(rule) = pre.iter().rposition(|l| l.rule) {
        let tail: Vec<&Line> = pre[rule..].iter().filter(|l| !l.is_blank() && !l.rule).collect();
        if rule > start && tail.len() <= 8 && tail.iter().all(|l| l.key.chars().count() < 120) {
            end = rule;
        }
    }
    let lines: Vec<String> = pre.get(start..end).unwrap_or_default().iter().filter(|l| !l.rule).map(|l| l.md.clone()).collect();
    tidy_md(&lines)
}
