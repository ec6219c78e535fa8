//! Accumulates the pieces of one question while lines stream past, then turns
//! them into a [`Question`], inferring only what is certain (level numbers by
//! order, the maximum of a levels grid) and reporting everything else.

use super::bands::BandHit;
use super::lines::{Line, lazy_re};
use super::model::{AoBands, Level, LineSpan, Problem, Question, QuestionKind};

lazy_re!(re_marks_tag, r"(?i)\s*(?:\((\d{1,3})\s*marks?\)|\[(\d{1,3})(?:\s*marks?)?\])\s*");
lazy_re!(re_total, r"(?i)\btotal(?:\s+for\s+question(?:\s+\S+)?)?(?:\s+marks?)?\s*[:=]?\s*[(\[]?(\d{1,3})\b");
lazy_re!(
    re_points,
    r"(?i)\b(?:\d+|one|a)\s+marks?\s+(?:for|per)\s+(?:each|every|any|a|an|the|one|correct)\b|\b\d+\s*x\s*\d+\s*marks?\b|\bany\s+(?:one|two|three|four|five|six|\d+)\b.{0,20}\bfrom\b|\bmarks?\s+each\b|\bpoints?[- ]marked\b"
);
lazy_re!(re_up_to, r"(?i)\b(?:up\s+to(?:\s+a)?(?:\s+max(?:imum)?(?:\s+of)?)?|max(?:imum)?(?:\s+of)?)\s+(\d{1,3})\b");
lazy_re!(re_times, r"(?i)\b(\d{1,2})\s*x\s*(\d{1,2})\s*marks?\b");
lazy_re!(
    re_skip_cell,
    r"(?i)^(?:total\s+marks?|answers?|marks?|guidance|marking\s+guidance|extra\s+information|ao.*spec.*|question\s*\d*[a-z]?|ao\d?)$"
);

/// In-progress question (or the preamble, which may hold a generic grid).
#[derive(Debug, Default)]
pub(crate) struct QuestionBuilder {
    number: String,
    start: usize,
    last: usize,
    /// "Question N" with nothing after it (may be a mere group heading).
    pub bare_heading: bool,
    /// The text before the first question: bands there form a generic grid.
    pub is_preamble: bool,
    prompt: Vec<String>,
    prompt_open: bool,
    max_mark: Option<i32>,
    targets: Vec<String>,
    bands: Vec<(BandHit, usize)>,
    /// Continuation of the last band's descriptor: Some(heading_style).
    cont: Option<bool>,
    other_since_band: bool,
    ignore_bands: bool,
    /// Inside a levels section, where an unreadable "Level" line is a problem.
    pub band_context: bool,
    ao_grids: Vec<(String, Vec<BandHit>)>,
    ao_open: bool,
    /// Inside the indicative content.
    pub in_indicative: bool,
    indicative: Vec<String>,
    points_hint: bool,
    up_to: Option<i32>,
    problems: Vec<Problem>,
}

impl QuestionBuilder {
    /// A builder for a question starting on `line`.
    pub fn new(number: &str, line: usize, bare_heading: bool) -> Self {
        Self { number: number.to_string(), start: line, last: line, bare_heading, prompt_open: true, ..Self::default() }
    }

    /// A builder for the text before the first question.
    pub fn preamble() -> Self {
        Self { is_preamble: true, ..Self::default() }
    }

    /// True while nothing but the heading has been seen.
    pub fn is_empty(&self) -> bool {
        self.prompt.iter().all(|p| p.is_empty())
            && self.bands.is_empty()
            && self.max_mark.is_none()
            && self.ao_grids.is_empty()
            && self.indicative.is_empty()
    }

    /// Records a problem for this question.
    pub fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { line, message });
    }

    /// Extends the source span over a non-blank line.
    pub fn touch(&mut self, l: &Line) {
        if !l.is_blank() && !l.rule {
            self.last = self.last.max(l.no);
        }
    }

    /// A blank line ends a paragraph and a one-line band's continuation.
    pub fn blank_line(&mut self) {
        if self.prompt_open && self.prompt.last().is_some_and(|p| !p.is_empty()) {
            self.prompt.push(String::new());
        }
        if self.in_indicative {
            self.indicative.push(String::new());
        }
        if self.cont == Some(false) {
            self.cont = None;
        }
    }

    /// A page break or table rule ends any descriptor continuation.
    pub fn end_continuation(&mut self) {
        self.cont = None;
    }

    /// Sets the maximum from "(12 marks)"/"[30]"/"Total 20" in `s`; returns `s` without the tag.
    fn take_marks(&mut self, s: &str) -> String {
        let Some(r) = re_marks_tag().filter(|_| s.contains(['(', '['])) else { return self.take_total(s) };
        if let Some(c) = r.captures(s) {
            let v = c.get(1).or(c.get(2)).and_then(|m| m.as_str().parse().ok());
            if self.max_mark.is_none() {
                self.max_mark = v;
            }
            self.prompt_open = false;
            return r.replace(s, " ").trim().to_string();
        }
        self.take_total(s)
    }

    /// Sets the maximum from "Total for Question 2 = 12 marks" if none is known yet.
    fn take_total(&mut self, s: &str) -> String {
        if self.max_mark.is_none()
            && !self.in_indicative
            && s.to_lowercase().contains("total")
            && let Some(v) = re_total().and_then(|r| r.captures(s)).and_then(|c| c.get(1)?.as_str().parse().ok())
        {
            self.max_mark = Some(v);
            self.prompt_open = false;
        }
        s.to_string()
    }

    /// Adds prompt text (marks tags are taken out and close the prompt).
    pub fn prompt_text(&mut self, s: &str, _line: usize) {
        let text = self.take_marks(s);
        if text.is_empty() {
            return;
        }
        // Each element is a paragraph; an empty element marks a paragraph break.
        match self.prompt.last_mut() {
            Some(p) if !p.is_empty() => {
                p.push(' ');
                p.push_str(&text);
            }
            _ => self.prompt.push(text),
        }
    }

    /// Stops collecting the prompt.
    pub fn close_prompt(&mut self) {
        self.prompt_open = false;
    }

    /// Reads the rest of a question-start table row: prompt text, a mark cell, maybe a band.
    pub fn start_cells(&mut self, cells: &[String], line: usize) {
        if let Some(h) = super::bands::band_from_cells(cells).filter(|h| h.labelled) {
            self.add_band(h, line);
            return;
        }
        for c in cells {
            if re_skip_cell().is_some_and(|r| r.is_match(c)) {
                continue;
            }
            match c.parse::<i32>() {
                Ok(v) if self.max_mark.is_none() && (0..=200).contains(&v) => self.max_mark = Some(v),
                _ => {
                    self.note_points(c);
                    self.prompt_text(c, line)
                }
            }
        }
        self.prompt_open = self.max_mark.is_none();
    }

    /// Starts the indicative content.
    pub fn start_indicative(&mut self, rest: &str) {
        self.close_prompt();
        self.in_indicative = true;
        self.cont = None;
        self.ao_open = false;
        if !rest.is_empty() {
            self.indicative.push(rest.to_string());
        }
    }

    /// Adds targets, dropping duplicates.
    pub fn add_targets(&mut self, t: Vec<String>) {
        for a in t {
            if !self.targets.contains(&a) {
                self.targets.push(a);
            }
        }
    }

    /// Reports a grid appearing after another grid was complete (likely a lost heading).
    fn second_grid(&mut self, line: usize) -> bool {
        if self.ignore_bands {
            return true;
        }
        let had = !self.bands.is_empty() || !self.ao_grids.is_empty();
        if had && (self.other_since_band || !self.ao_grids.is_empty() && !self.ao_open) {
            let what = if self.is_preamble { "the generic guidance".to_string() } else { format!("question {}", self.number) };
            self.problem(line, format!("a second mark grid starts here in {what}; is a question heading missing? The grid was ignored"));
            self.ignore_bands = true;
            return true;
        }
        false
    }

    /// Adds one band line.
    pub fn add_band(&mut self, h: BandHit, line: usize) {
        self.close_prompt();
        self.in_indicative = false;
        self.band_context = true;
        if self.second_grid(line) {
            return;
        }
        self.cont = Some(h.heading_style);
        self.other_since_band = false;
        self.bands.push((h, line));
        self.last = self.last.max(line);
    }

    /// Opens a per-AO grid with the given column names.
    pub fn start_ao_grid(&mut self, aos: Vec<String>, line: usize) {
        self.close_prompt();
        self.in_indicative = false;
        self.other_since_band = !self.bands.is_empty() || !self.ao_grids.is_empty();
        self.ao_open = false;
        if self.second_grid(line) {
            return;
        }
        self.ao_grids = aos.into_iter().map(|a| (a, Vec::new())).collect();
        self.ao_open = true;
        self.band_context = true;
    }

    /// True while a per-AO grid is being read.
    pub fn ao_grid_open(&self) -> bool {
        self.ao_open && !self.ignore_bands
    }

    /// Number of AO columns of the open grid.
    pub fn ao_grid_width(&self) -> usize {
        self.ao_grids.len()
    }

    /// Adds one row of a per-AO grid.
    pub fn add_ao_row(&mut self, _label: Option<i32>, hits: Vec<Option<BandHit>>, line: usize) {
        for (grid, h) in self.ao_grids.iter_mut().zip(hits) {
            if let Some(h) = h {
                grid.1.push(h);
            }
        }
        self.last = self.last.max(line);
    }

    /// Notes "1 mark for each ..." and "up to 4".
    fn note_points(&mut self, s: &str) {
        let lower = s.to_lowercase();
        if !(lower.contains("mark") || lower.contains("any ")) {
            return;
        }
        if re_points().is_some_and(|r| r.is_match(s)) {
            self.points_hint = true;
            if let Some(v) = re_up_to().and_then(|r| r.captures(s)).and_then(|c| c.get(1)?.as_str().parse().ok()) {
                self.up_to = Some(v);
            } else if let Some(c) = re_times().and_then(|r| r.captures(s)) {
                // "2 x 1 marks" states the total as a product.
                let f = |i| c.get(i).and_then(|m| m.as_str().parse::<i32>().ok());
                if let (Some(a), Some(b)) = (f(1), f(2)) {
                    self.up_to = Some(a * b);
                }
            }
        }
    }

    /// Routes a plain text line.
    pub fn text_line(&mut self, l: &Line) {
        if !self.in_indicative {
            self.note_points(&l.key);
        }
        if self.prompt_open && !self.points_hint {
            self.prompt_text(&l.plain, l.no);
            return;
        }
        self.close_prompt();
        if self.in_indicative {
            self.indicative.push(l.md.clone());
            return;
        }
        if self.max_mark.is_none() {
            self.take_marks(&l.key);
        }
        if let (Some(_), Some((b, _))) = (self.cont, self.bands.last_mut()) {
            if !b.descriptor.is_empty() {
                b.descriptor.push(' ');
            }
            b.descriptor.push_str(&l.key);
            return;
        }
        if !self.bands.is_empty() {
            self.other_since_band = true;
        }
    }

    /// Routes a table row that is neither a band nor a question start.
    pub fn table_text(&mut self, cells: &[String], l: &Line) {
        if self.in_indicative {
            self.indicative.push(l.md.clone());
            return;
        }
        let text: Vec<&str> =
            cells.iter().map(|c| c.as_str()).filter(|c| !c.is_empty() && !re_skip_cell().is_some_and(|r| r.is_match(c))).collect();
        let joined = text.join(" ");
        self.note_points(&joined);
        if self.prompt_open {
            self.prompt_text(&joined, l.no);
        } else if self.max_mark.is_none() {
            self.take_marks(&joined);
        }
    }
}

pub(crate) use super::finish::{finish_question, generic_grid};

/// Turns accumulated band hits into ascending levels, inferring missing level numbers by order.
pub(crate) fn to_levels(hits: Vec<BandHit>, what: &str, line: usize, problems: &mut Vec<Problem>) -> Vec<Level> {
    let mut hits = hits;
    hits.sort_by_key(|h| (h.min, h.max));
    let explicit = hits.iter().filter(|h| h.level.is_some()).count();
    let base = if hits.first().is_some_and(|h| h.max == 0) { 0 } else { 1 };
    let mut levels = Vec::with_capacity(hits.len());
    for (i, h) in hits.into_iter().enumerate() {
        let level = match h.level {
            Some(l) => l,
            None if h.max == 0 => 0,
            None if explicit == 0 => base + i as i32,
            None => {
                problems.push(Problem { line, message: format!("{what}: the band {}-{} has no level number", h.min, h.max) });
                base + i as i32
            }
        };
        levels.push(Level { level, min: h.min, max: h.max, descriptor: h.descriptor });
    }
    levels.sort_by_key(|l| (l.level, l.min));
    levels
}

/// Everything `finish` needs from a builder, moved out in one go.
pub(crate) struct Parts {
    /// Question number.
    pub number: String,
    /// Source span.
    pub span: LineSpan,
    /// Prompt paragraphs.
    pub prompt: String,
    /// Printed maximum, if any.
    pub max_mark: Option<i32>,
    /// Targets.
    pub targets: Vec<String>,
    /// Band hits with their lines.
    pub bands: Vec<(BandHit, usize)>,
    /// Per-AO grids.
    pub ao_grids: Vec<(String, Vec<BandHit>)>,
    /// Indicative content lines (Markdown).
    pub indicative: Vec<String>,
    /// Saw "1 mark for each ...".
    pub points_hint: bool,
    /// "up to N" value.
    pub up_to: Option<i32>,
    /// Problems found while reading.
    pub problems: Vec<Problem>,
}

impl QuestionBuilder {
    /// Moves the collected parts out.
    pub fn into_parts(self) -> Parts {
        let prompt = self.prompt.iter().filter(|p| !p.is_empty()).cloned().collect::<Vec<_>>().join("\n\n");
        Parts {
            number: self.number,
            span: LineSpan { start: self.start, end: self.last.max(self.start) },
            prompt,
            max_mark: self.max_mark,
            targets: self.targets,
            bands: self.bands,
            ao_grids: self.ao_grids,
            indicative: self.indicative,
            points_hint: self.points_hint,
            up_to: self.up_to,
            problems: self.problems,
        }
    }
}

/// Builds the kind-specific part of a question from per-AO grids.
pub(crate) fn ao_bands_from(grids: Vec<(String, Vec<BandHit>)>, what: &str, line: usize, problems: &mut Vec<Problem>) -> Vec<AoBands> {
    grids
        .into_iter()
        .filter(|(_, hits)| !hits.is_empty())
        .map(|(ao, hits)| AoBands { targets: vec![ao], levels: to_levels(hits, what, line, problems) })
        .collect()
}

/// Default kind for a question with no bands: used by `finish`.
pub(crate) fn empty_question(number: String) -> Question {
    Question { number, kind: QuestionKind::Levels, ..Question::default() }
}
