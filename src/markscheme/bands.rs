//! Recognisers for single band lines ("L3: ... 7-9", "Level 3 (7-9 marks)",
//! "| 3 | 7-9 | ... |", "0 marks - nothing ...") and per-AO grid cells.
//!
//! All of them work on the normalised `key` text, so dashes, tags and
//! emphasis have already been unified and each board's layout is just one
//! more regex in a small family rather than a special case.

use super::lines::{lazy_re, suffix};

/// Highest mark accepted in a band; anything larger is a year or a page number.
const MAX_BAND_MARK: i32 = 200;

/// One band read from a line, before level numbers are inferred.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BandHit {
    /// Printed level number, if any.
    pub level: Option<i32>,
    /// Lowest mark.
    pub min: i32,
    /// Highest mark.
    pub max: i32,
    /// Descriptor text so far.
    pub descriptor: String,
    /// True when the range came before the descriptor ("Level 3 (7-9 marks)"),
    /// so the descriptor may continue over following paragraphs.
    pub heading_style: bool,
    /// True when a "Level N"/"Band N" label was printed (not just a bare number).
    pub labelled: bool,
}

/// What a non-table line says about bands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LineBand {
    /// A readable band.
    Band(BandHit),
    /// Looks like a level/band line with a mark range, but the range is unreadable.
    Unreadable,
    /// Not a band line.
    No,
}

lazy_re!(
    re_label_first,
    r"(?i)^(?:level|band|lvl|l)\s*(\d{1,2})\b\s*(?:\([a-z ]{1,20}\))?\s*[:.,\-]?\s*[(\[]?\s*\b(\d{1,3})\b\s*(?:(?:-|to)\s*(\d{1,3})\b)?\s*(?:marks?\b)?\s*[)\]]?\s*(?:[:.,\-]\s*)?"
);
lazy_re!(re_label_head, r"(?i)^(?:level|band|l)\s*(\d{1,2})\s*[:.\-]?\s+");
lazy_re!(re_range_tail, r"(?i)\s*[(\[]?\b(\d{1,3})(?:\s*-\s*(\d{1,3}))?\s*(?:marks?)?[)\]]?$");
lazy_re!(re_zero_tail, r"(?i)\s*[(\[]?\b0\s*(?:marks?)?[)\]]?$");
lazy_re!(re_nothing, r"(?i)\b(?:nothing|no\s+(?:relevant|creditworthy|rewardable|response|answer|marks?)|not\s+worthy)\b");
lazy_re!(re_zero_first, r"(?i)^[(\[]?0\s*(?:marks?\b\s*[)\]]?|[)\]]|:|$)\s*[:.,\-]?\s*");
lazy_re!(re_label_start, r"(?i)^(?:level|band)\s*\d{1,2}\b(.{0,30})|^l\d{1,2}\s*:(.{0,30})");
lazy_re!(re_cell_label, r"(?i)^(?:level|band|l)\s*(\d{1,2})\b\s*(?:\([^)]{0,20}\))?\s*[:.\-]?\s*(.*)$");
lazy_re!(re_cell_bare_label, r"^(\d{1,2})\s*(?:\([^)]{0,20}\))?$");
lazy_re!(re_cell_range, r"(?i)^[(\[]?(\d{1,3})\s*(?:(?:-|to)\s*(\d{1,3}))?\s*(?:marks?)?[)\]]?$");
lazy_re!(re_ao_cell, r"(?i)^(\d{1,3})(?:\s*-\s*(\d{1,3}))?\s*marks?\b\s*(?:[•·:\-]\s*)?(.*)$");
lazy_re!(re_header_word, r"(?i)^(?:levels?|bands?|marks?|descriptors?|descriptions?|mark\s+range|level\s+descriptors?|criteria)$");
lazy_re!(re_ao_name, r"(?i)^AO\s*\d{1,2}(?:\s*\(\s*[a-z]\s*\))?$");

/// Parses a mark as i32, rejecting absurd values.
fn num(s: Option<regex::Match<'_>>) -> Option<i32> {
    let v: i32 = s?.as_str().parse().ok()?;
    (0..=MAX_BAND_MARK).contains(&v).then_some(v)
}

/// Builds a hit if the range is sane.
fn hit(level: Option<i32>, min: Option<i32>, max: Option<i32>, desc: &str, heading_style: bool) -> Option<BandHit> {
    let min = min?;
    let max = max.unwrap_or(min);
    (min <= max).then(|| BandHit { level, min, max, descriptor: desc.trim().to_string(), heading_style, labelled: level.is_some() })
}

/// Recognises a band written on one (non-table) line.
pub(crate) fn band_from_line(key: &str) -> LineBand {
    let key = key.trim();
    // Every band line holds a digit; skipping the rest keeps debug builds fast.
    if key.is_empty() || !key.contains(|c: char| c.is_ascii_digit()) {
        return LineBand::No;
    }
    let lead = key.chars().next().map_or(' ', |c| c.to_ascii_lowercase());
    let labelled = lead == 'l' || lead == 'b';
    let tail = key.trim_end_matches(|c: char| ")].: ".contains(c)).to_lowercase();
    let zero_end = tail.ends_with('0') || tail.ends_with("mark") || tail.ends_with("marks");
    if let Some(c) = re_label_first().filter(|_| labelled).and_then(|r| r.captures(key)) {
        let level = num(c.get(1));
        let rest = c.get(0).map_or("", |m| &key[m.end()..]);
        if let Some(h) = hit(level, num(c.get(2)), num(c.get(3)).or(num(c.get(2))), rest, true) {
            // "Level 3: 7 ..." with a long text after is prose, unless "marks" follows.
            let marks_word = key.to_lowercase().contains("mark");
            if c.get(3).is_some() || marks_word || h.descriptor.is_empty() || h.max == 0 {
                return LineBand::Band(h);
            }
        }
    }
    if let Some(h) = label_desc_range(key).filter(|_| labelled) {
        return LineBand::Band(h);
    }
    if let Some(m) = re_zero_first().filter(|_| "0([".contains(lead)).and_then(|r| r.find(key)) {
        return LineBand::Band(BandHit {
            level: None,
            min: 0,
            max: 0,
            descriptor: key[m.end()..].trim().to_string(),
            heading_style: true,
            labelled: false,
        });
    }
    if zero_end {
        let win = suffix(key, 16);
        if let Some(m) = re_zero_tail().and_then(|r| r.find(win)) {
            let desc = key[..key.len() - win.len() + m.start()].trim();
            if re_nothing().is_some_and(|r| r.is_match(desc)) {
                return LineBand::Band(BandHit {
                    level: None,
                    min: 0,
                    max: 0,
                    descriptor: desc.to_string(),
                    heading_style: false,
                    labelled: false,
                });
            }
        }
    }
    if let Some(c) = re_label_start().filter(|_| labelled).and_then(|r| r.captures(key)) {
        // A level label followed soon by digits or "marks" promises a range we failed to read.
        let tail = c.get(1).or(c.get(2)).map_or("", |m| m.as_str()).to_lowercase();
        if tail.contains("mark") || tail.chars().take(12).any(|ch| ch.is_ascii_digit()) {
            return LineBand::Unreadable;
        }
    }
    LineBand::No
}

/// "L1: descriptor ... 1-6": label first, range last (the range is read from the
/// line's last characters only, so a year inside the descriptor is never taken).
fn label_desc_range(key: &str) -> Option<BandHit> {
    let head = re_label_head()?.captures(key)?;
    let head_end = head.get(0)?.end();
    let win = suffix(key, 24);
    let win_start = key.len() - win.len();
    let tail = re_range_tail()?.captures(win)?;
    let t0 = tail.get(0)?;
    let abs_start = win_start + t0.start();
    if abs_start <= head_end || key[..win_start + tail.get(1)?.start()].ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let min = num(tail.get(1));
    hit(num(head.get(1)), min, num(tail.get(2)).or(min), &key[head_end..abs_start], false)
}

/// True for a table header row such as "| Level | Mark | Descriptor |".
pub(crate) fn is_header_row(cells: &[String]) -> bool {
    let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
    !filled.is_empty() && filled.iter().filter(|c| re_header_word().is_some_and(|r| r.is_match(c))).count() >= 2
}

/// The AO names of a grid header such as "| Band | AO1 | AO2 |" (empty if not one).
pub(crate) fn ao_header(cells: &[String]) -> Vec<String> {
    let has_band = cells.iter().any(|c| re_header_word().is_some_and(|r| r.is_match(c)));
    let aos: Vec<String> = cells
        .iter()
        .filter(|c| re_ao_name().is_some_and(|r| r.is_match(c)))
        .map(|c| c.chars().filter(|ch| !ch.is_whitespace()).collect())
        .collect();
    if has_band && !aos.is_empty() { aos } else { Vec::new() }
}

/// Reads one row of a per-AO grid: "N marks • ..." cells in AO order, plus an
/// optional bare band number in the first or last column (columns are often shifted).
pub(crate) fn ao_row(cells: &[String], n_aos: usize) -> Option<(Option<i32>, Vec<Option<BandHit>>)> {
    let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
    let r = re_ao_cell()?;
    let is_label = |c: &&&String| c.len() <= 2 && c.chars().all(|ch| ch.is_ascii_digit());
    let label = filled.first().filter(is_label).or(filled.last().filter(is_label)).and_then(|c| c.parse().ok());
    let hits: Vec<Option<BandHit>> = filled
        .iter()
        .filter_map(|c| r.captures(c))
        .take(n_aos)
        .map(|cap| hit(label, num(cap.get(1)), num(cap.get(2)).or(num(cap.get(1))), cap.get(3).map_or("", |m| m.as_str()), false))
        .collect();
    hits.iter().any(|h| h.is_some()).then_some((label, hits))
}

/// Recognises a band in a Markdown table row (columns may be shifted or empty).
pub(crate) fn band_from_cells(cells: &[String]) -> Option<BandHit> {
    if is_header_row(cells) {
        return None;
    }
    let filled: Vec<&str> = cells.iter().map(|c| c.as_str()).filter(|c| !c.is_empty()).collect();
    if filled.iter().any(|c| c.to_lowercase().starts_with("total")) {
        return None;
    }
    let (mut level, mut desc_parts, mut nums, mut labelled) = (None, Vec::new(), Vec::new(), false);
    for c in &filled {
        if let Some(cap) = re_cell_range().and_then(|r| r.captures(c)) {
            nums.push((num(cap.get(1)), num(cap.get(2)), cap.get(2).is_none()));
        } else if let Some(cap) = re_cell_bare_label().and_then(|r| r.captures(c)) {
            level = num(cap.get(1));
        } else if let Some(cap) = re_cell_label().and_then(|r| r.captures(c)).filter(|_| level.is_none()) {
            level = num(cap.get(1));
            labelled = true;
            desc_parts.push(cap.get(2).map_or("", |m| m.as_str()).to_string());
        } else {
            desc_parts.push((*c).to_string());
        }
    }
    // Two numbers: "| 3 | 7-9 |" is level then range; one number is the range.
    let (min, max) = match nums.as_slice() {
        [(a, _, true), (b, c, _), ..] if level.is_none() => {
            level = *a;
            (*b, c.or(*b))
        }
        [(a, b, _), ..] => (*a, b.or(*a)),
        [] => return None,
    };
    let descriptor = desc_parts.into_iter().filter(|d| !d.is_empty()).max_by_key(|d| d.chars().count()).unwrap_or_default();
    if descriptor.is_empty() && level.is_none() {
        return None;
    }
    hit(level, min, max, &descriptor, false).map(|h| BandHit { labelled, ..h })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(key: &str) -> Option<(Option<i32>, i32, i32, String)> {
        match band_from_line(key) {
            LineBand::Band(h) => Some((h.level, h.min, h.max, h.descriptor)),
            _ => None,
        }
    }

    #[test]
    fn line_family() {
        assert_eq!(b("L1: Answers will be weak. 1-2"), Some((Some(1), 1, 2, "Answers will be weak.".into())));
        assert_eq!(b("Level 3 (7-9 marks)"), Some((Some(3), 7, 9, String::new())));
        assert_eq!(b("L3: 7-9 Clear answers."), Some((Some(3), 7, 9, "Clear answers.".into())));
        assert_eq!(b("Level 3 7-9 Clear"), Some((Some(3), 7, 9, "Clear".into())));
        assert_eq!(b("Band 2 (3-4 marks): Some."), Some((Some(2), 3, 4, "Some.".into())));
        assert_eq!(b("Level 6 - 26-30 marks, Convincing"), Some((Some(6), 26, 30, "Convincing".into())));
        assert_eq!(b("Nothing written worthy of credit. 0"), Some((None, 0, 0, "Nothing written worthy of credit.".into())));
        assert_eq!(b("0 marks - nothing worthy of credit"), Some((None, 0, 0, "nothing worthy of credit".into())));
        assert_eq!(b("L1: the events of 1941"), None);
        assert_eq!(b("Level 0 0 Nothing."), Some((Some(0), 0, 0, "Nothing.".into())));
        assert_eq!(b("L0: 0"), Some((Some(0), 0, 0, String::new())));
        assert_eq!(b("01 Use Sources A and B"), None);
        assert_eq!(b("Level 2 (clear) - identifies the link"), None);
        assert_eq!(band_from_line("Level 3 (seven to nine marks)"), LineBand::Unreadable);
    }

    #[test]
    fn cell_family() {
        let c = |v: &[&str]| {
            band_from_cells(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).map(|h| (h.level, h.min, h.max, h.descriptor))
        };
        assert_eq!(c(&["3", "7-9", "Good."]), Some((Some(3), 7, 9, "Good.".into())));
        assert_eq!(c(&["", "", "2 (Clear)", "3-4", "AO2 - clear"]), Some((Some(2), 3, 4, "AO2 - clear".into())));
        assert_eq!(c(&["", "", "", "0", "No relevant content."]), Some((None, 0, 0, "No relevant content.".into())));
        assert_eq!(c(&["Level 3: Relevant points.", "5-6", "AO1 AO2"]), Some((Some(3), 5, 6, "Relevant points.".into())));
        assert_eq!(c(&["Level", "Marks", "Descriptor"]), None);
    }
}
