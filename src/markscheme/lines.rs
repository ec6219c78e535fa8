//! Normalisation: turns a PDF-to-text conversion into clean logical lines.
//!
//! Real documents glue headings together, wrap bands in `<b>` tags and stray
//! `**`, mix dashes and break words over lines. Rather than special-casing each
//! symptom in the parser, every line is cleaned here once, and the parser only
//! ever looks at the cleaned `key` form. Each logical line keeps its 1-based
//! source line number so problems and previews can point back at the source.

use regex::Regex;
use std::sync::OnceLock;

/// One logical line of the source after normalisation.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// 1-based source line number.
    pub no: usize,
    /// Markdown form: HTML tags stripped, emphasis kept (for guidance/indicative content).
    pub md: String,
    /// Clean text with original dashes: no tags, emphasis, bullets or headings.
    pub plain: String,
    /// `plain` with dashes unified and LaTeX removed: what recognisers match on.
    pub key: String,
    /// Cleaned cells when the line is a Markdown table row (empty cells kept).
    pub cells: Option<Vec<String>>,
    /// True for table separator rows and `---` page breaks.
    pub rule: bool,
}

impl Line {
    /// True when there is no text at all.
    pub fn is_blank(&self) -> bool {
        self.key.is_empty() && self.cells.as_ref().is_none_or(|c| c.iter().all(|s| s.is_empty()))
    }
}

/// Compiles a regex known to be valid at build time; `None` would only mean a typo,
/// which the unit tests catch, so callers treat `None` as "no match" instead of panicking.
pub(crate) fn re(cell: &'static OnceLock<Option<Regex>>, pat: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pat).ok()).as_ref()
}

/// Declares a lazily compiled regex accessor.
macro_rules! lazy_re {
    ($name:ident, $pat:expr) => {
        pub(crate) fn $name() -> Option<&'static regex::Regex> {
            static CELL: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
            crate::markscheme::lines::re(&CELL, $pat)
        }
    };
}
pub(crate) use lazy_re;

lazy_re!(re_glued, r"(\S)\*{3,}(\S)");
lazy_re!(re_comment, r"(?s)<!--.*?-->");
lazy_re!(re_br, r"(?i)<br\s*/?>");
lazy_re!(re_tag, r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>");
lazy_re!(re_bullet, r"^(?:[-*+•▪●◦·]\s+|#{1,6}\s*|>\s*)+");
lazy_re!(re_latex_env, r"\\(?:begin|end)\s*\{[a-z*]*\}|\\text\s*|\\mathrm\s*|\\\\");
lazy_re!(re_pipe_digits, r"^(\d)\s*\|\s*(\d)$");
lazy_re!(re_open_marks, r"[(\[]\s*\d+\s*[A-Za-z]{0,4}$");
lazy_re!(re_close_marks, r"^[A-Za-z]{0,5}\s*[)\]]");
lazy_re!(re_rule, r"^\|?[\s:|\-]*-{3,}[\s:|\-]*$");
lazy_re!(re_page_marker, r"^\{\d+\}-{5,}$");
lazy_re!(re_marks_label, r"(?i)^marks?\s*:?\s*(\d+\s*(?:-|to)\s*\d+|\d+)$");

/// The last `n` characters of `s` (char-boundary safe): regexes anchored at the
/// end run on this window only, because the regex engines are slow on long lines in debug builds.
pub(crate) fn suffix(s: &str, n: usize) -> &str {
    let start = s.char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(i, _)| i);
    &s[start..]
}

/// True if the text looks like binary data rather than a document.
pub(crate) fn looks_binary(text: &str) -> bool {
    let total = text.chars().count();
    if total == 0 {
        return false;
    }
    let bad =
        text.chars().filter(|c| *c == '\0' || *c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))).count();
    bad * 20 > total || text.contains('\0')
}

/// Splits, joins and cleans the source into logical lines.
pub(crate) fn normalise(text: &str) -> Vec<Line> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = match re_comment().filter(|_| text.contains("<!--")) {
        // Comments may span lines; blank them but keep the line count intact.
        Some(r) => r.replace_all(text, |c: &regex::Captures| "\n".repeat(c[0].matches('\n').count())).into_owned(),
        None => text.to_string(),
    };
    let raw: Vec<&str> = text.split('\n').collect();
    let mut joined: Vec<(usize, String)> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let mut cur = raw[i].trim_end_matches('\r').to_string();
        let no = i + 1;
        // "(24 m" / "arks)": a marks tag broken over two lines.
        while i + 1 < raw.len() && (is_broken_marks(&cur, raw[i + 1]) || is_broken_row(&cur, raw[i + 1])) {
            let next = raw[i + 1].trim();
            let glue = if cur.ends_with(|c: char| c.is_alphabetic()) && next.starts_with(|c: char| c.is_alphabetic()) { "" } else { " " };
            cur = format!("{}{}{}", cur.trim_end(), glue, next);
            i += 1;
        }
        joined.push((no, cur));
        i += 1;
    }
    let mut out = Vec::with_capacity(joined.len());
    for (no, line) in joined {
        for part in split_glued(&line) {
            out.push(make_line(no, &part));
        }
    }
    out
}

/// True if `cur` ends in an unfinished "(24 m" and `next` closes it.
fn is_broken_marks(cur: &str, next: &str) -> bool {
    let cur = suffix(cur.trim_end(), 16);
    if !cur.contains(['(', '[']) {
        return false;
    }
    let cur = strip_emphasis(cur);
    let next = strip_emphasis(next.trim().get(..12).unwrap_or(next.trim()));
    matches!((re_open_marks(), re_close_marks()), (Some(a), Some(b)) if a.is_match(&cur) && b.is_match(&next))
}

/// True if a table row was wrapped: "| 01 | 1 | text ..." then "... more | 1 |".
fn is_broken_row(cur: &str, next: &str) -> bool {
    let (cur, next) = (cur.trim(), next.trim());
    cur.starts_with('|') && !cur.ends_with('|') && !next.starts_with('|') && next.ends_with('|')
}

/// Splits `**Question 1****02**` and `*Target: ...)***Levels**` into separate lines.
fn split_glued(line: &str) -> Vec<String> {
    // Cheap pre-check: regexes are slow in debug builds and most lines have no "***".
    let Some(r) = re_glued().filter(|_| line.contains("***")) else { return vec![line.to_string()] };
    let mut parts = Vec::new();
    let mut rest = line.to_string();
    // Bounded loop: each pass strictly shortens `rest`.
    while let Some(m) = r.find(&rest) {
        let (Some(a), Some(b)) = (rest[m.start()..].chars().next(), rest[..m.end()].chars().last()) else { break };
        let left_end = m.start() + a.len_utf8();
        let right_start = m.end() - b.len_utf8();
        if right_start <= left_end {
            break;
        }
        parts.push(rest[..left_end].to_string());
        rest = rest[right_start..].to_string();
    }
    parts.push(rest);
    parts
}

/// Removes Markdown emphasis markers (`*`, `__`) but keeps a leading "* " bullet.
fn strip_emphasis(s: &str) -> String {
    let (lead, body) = match s.strip_prefix("* ") {
        Some(b) => ("- ", b),
        None => ("", s),
    };
    format!("{}{}", lead, body.replace('*', "").replace("__", ""))
}

/// Strips HTML tags; `<br>` becomes `br` (a space or a newline).
fn strip_tags(s: &str, br: &str) -> String {
    if !s.contains('<') {
        return s.to_string();
    }
    let s = match re_br() {
        Some(r) => r.replace_all(s, br).into_owned(),
        None => s.to_string(),
    };
    match re_tag() {
        Some(r) => r.replace_all(&s, "").into_owned(),
        None => s,
    }
}

/// Collapses all whitespace runs (tabs, NBSP, Markdown hard breaks) to one space.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cleans one fragment of text to its `plain` form.
fn to_plain(s: &str) -> String {
    let s = collapse(&strip_emphasis(&strip_tags(s, " ")));
    let bulleted = s.starts_with(|c: char| "-*+•▪●◦·#>".contains(c));
    let s = match re_bullet().filter(|_| bulleted) {
        Some(r) => r.replace(&s, "").into_owned(),
        None => s,
    };
    s.trim().to_string()
}

/// Turns `plain` into the `key` form used for matching.
pub(crate) fn to_key(plain: &str) -> String {
    let mut s: String = plain
        .chars()
        .map(|c| match c {
            '–' | '—' | '‒' | '−' | '‐' | '‑' | '―' => '-',
            '‘' | '’' | '`' => '\'',
            '“' | '”' => '"',
            '×' => 'x',
            _ => c,
        })
        .collect();
    if s.contains('\\') || s.contains('$') {
        s = s.replace("\\times", " x ");
        if let Some(r) = re_latex_env() {
            s = r.replace_all(&s, " ").into_owned();
        }
        s = s.replace("\\%", "%").replace(['$', '{', '}', '&'], " ");
        s = s.replace("^ nd", "nd").replace("^ st", "st").replace("^ rd", "rd").replace("^ th", "th");
    }
    let s = if s.contains(char::is_whitespace) && s.contains("  ") { collapse(&s) } else { s.trim().to_string() };
    match re_pipe_digits().filter(|_| s.contains('|')) {
        Some(r) => r.replace(&s, "$1$2").into_owned(),
        None => s,
    }
}

/// A marks cell labelled "Marks: 7-9" (a PDF or Word table cell wrapped after
/// its label) is the range alone, as when the range has the column to itself.
fn unlabel_marks(cell: String) -> String {
    match re_marks_label().and_then(|r| r.captures(&cell)) {
        Some(c) => c[1].to_owned(),
        None => cell,
    }
}

/// Builds a [`Line`] from one (already split) source fragment.
fn make_line(no: usize, part: &str) -> Line {
    let md = strip_tags(part, "\n").trim_end().to_string();
    let trimmed = part.trim();
    let dashes = trimmed.contains("---");
    let rule = dashes && (re_rule().is_some_and(|r| r.is_match(trimmed)) || re_page_marker().is_some_and(|r| r.is_match(trimmed)));
    let cells = if trimmed.starts_with('|') && !rule {
        let inner = trimmed.trim_start_matches('|');
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        Some(inner.split('|').map(|c| unlabel_marks(to_key(&to_plain(c)))).collect::<Vec<_>>())
    } else {
        None
    };
    let plain = if rule { String::new() } else { to_plain(part) };
    let key = to_key(&plain);
    Line { no, md, plain, key, cells, rule }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_glued_headings() {
        let l = normalise("**Question 1****02** Use **Sources A, B and C**.\n*Target: AO1(b), AO2(a)***Levels Mark Scheme**");
        let keys: Vec<_> = l.iter().map(|l| (l.no, l.key.as_str())).collect();
        assert_eq!(
            keys,
            vec![(1, "Question 1"), (1, "02 Use Sources A, B and C."), (2, "Target: AO1(b), AO2(a)"), (2, "Levels Mark Scheme")]
        );
    }

    #[test]
    fn cleans_tags_tabs_and_dashes() {
        let l = normalise("<b>L1:</b>\tAnswers <b>either</b> x.\t<b>1–2</b>\n- L2:** y **3-6**\n(12 m\narks)\n0|1");
        assert_eq!(l[0].key, "L1: Answers either x. 1-2");
        assert_eq!(l[1].key, "L2: y 3-6");
        assert_eq!((l[2].no, l[2].key.as_str()), (3, "(12 marks)"));
        assert_eq!(l[3].key, "01");
    }

    #[test]
    fn latex_and_tables() {
        let l = normalise("|  |  | $\\begin{gathered} 2 \\\\ \\text { (Clear) } \\end{gathered}$ | $3-4$ | AO2 - x |");
        assert_eq!(l[0].cells.clone().unwrap_or_default(), vec!["", "", "2 (Clear)", "3-4", "AO2 - x"]);
        let l = normalise("| L3: | Compares. | Marks: 7–9 |\n| L2 | Sets against. | marks 3 to 6 |");
        assert_eq!(l[0].cells.clone().unwrap_or_default(), vec!["L3:", "Compares.", "7-9"]);
        assert_eq!(l[1].cells.clone().unwrap_or_default()[2], "3 to 6");
    }
}
