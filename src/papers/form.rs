//! The paper form: a scheme shown as editable fields, and the posted fields
//! read back into a scheme. Pure, so it is unit-tested without HTTP.
//!
//! Field names are flat (`q3.g0.b2.min`) because HTML forms are flat. Blank
//! band rows and a blank question block are offered for additions and are
//! ignored when left empty; a question is removed with its `remove` box.

use std::collections::BTreeMap;

use crate::markscheme::{AoBands, Level, LineSpan, PaperInfo, Question, QuestionKind, Scheme};

/// How many empty band rows each grid offers for additions.
const SPARE_BANDS: usize = 2;

/// One band row of the form.
#[derive(Debug, Clone, Default)]
pub struct BandField {
    /// Level number as typed.
    pub level: String,
    /// Lowest mark as typed.
    pub min: String,
    /// Highest mark as typed.
    pub max: String,
    /// Descriptor.
    pub descriptor: String,
}

/// One grid of bands: grid 0 is the question's levels, 1.. the per-objective grids.
#[derive(Debug, Clone, Default)]
pub struct GridField {
    /// Grid number.
    pub grid: usize,
    /// Objectives (per-objective grids only), comma-separated.
    pub targets: String,
    /// Its band rows, spare rows included.
    pub bands: Vec<BandField>,
}

/// One question block of the form.
#[derive(Debug, Clone, Default)]
pub struct QuestionField {
    /// Position in the form.
    pub index: usize,
    /// Number as the board writes it.
    pub number: String,
    /// Question text.
    pub prompt: String,
    /// Maximum mark as typed.
    pub max_mark: String,
    /// Targets, comma-separated.
    pub targets: String,
    /// `levels`, `points` or `ao_bands`.
    pub kind: String,
    /// Indicative content, Markdown.
    pub indicative_content: String,
    /// Grids of bands.
    pub grids: Vec<GridField>,
    /// Where in the source document the question came from.
    pub source: Option<LineSpan>,
    /// What the importer could not read in this question; a flagged question is
    /// saved only once someone has checked it against the document.
    pub flags: Vec<String>,
    /// Whether that check has been confirmed.
    pub checked: bool,
}

/// The whole form.
#[derive(Debug, Clone, Default)]
pub struct PaperForm {
    /// Exam board.
    pub board: String,
    /// Paper code.
    pub code: String,
    /// Title.
    pub title: String,
    /// Series.
    pub series: String,
    /// Generic guidance, Markdown.
    pub guidance: String,
    /// The question blocks, a blank one last.
    pub questions: Vec<QuestionField>,
}

fn band_fields(levels: &[Level]) -> Vec<BandField> {
    levels
        .iter()
        .map(|l| BandField { level: l.level.to_string(), min: l.min.to_string(), max: l.max.to_string(), descriptor: l.descriptor.clone() })
        .chain(std::iter::repeat_with(BandField::default).take(SPARE_BANDS))
        .collect()
}

impl PaperForm {
    /// The form showing `scheme`, with room for additions.
    pub fn from_scheme(scheme: &Scheme) -> PaperForm {
        let mut questions: Vec<QuestionField> = scheme
            .questions
            .iter()
            .enumerate()
            .map(|(index, q)| {
                let mut grids = Vec::new();
                if q.kind != QuestionKind::AoBands {
                    grids.push(GridField { grid: 0, targets: String::new(), bands: band_fields(&q.levels) });
                } else {
                    for (i, g) in q.ao_bands.iter().enumerate() {
                        grids.push(GridField { grid: i + 1, targets: g.targets.join(", "), bands: band_fields(&g.levels) });
                    }
                    grids.push(GridField { grid: q.ao_bands.len() + 1, targets: String::new(), bands: band_fields(&[]) });
                }
                QuestionField {
                    index,
                    number: q.number.clone(),
                    prompt: q.prompt.clone(),
                    max_mark: if q.max_mark > 0 { q.max_mark.to_string() } else { String::new() },
                    targets: q.targets.join(", "),
                    kind: q.kind.as_str().to_owned(),
                    indicative_content: q.indicative_content.clone(),
                    grids,
                    source: q.source,
                    flags: Vec::new(),
                    checked: false,
                }
            })
            .collect();
        let index = questions.len();
        questions.push(QuestionField {
            index,
            kind: "levels".into(),
            grids: vec![GridField { grid: 0, targets: String::new(), bands: (0..6).map(|_| BandField::default()).collect() }],
            ..QuestionField::default()
        });
        let info = &scheme.paper;
        PaperForm {
            board: info.board.clone(),
            code: info.code.clone(),
            title: info.title.clone(),
            series: info.series.clone(),
            guidance: scheme.guidance.clone(),
            questions,
        }
    }
}

/// A grid's posted fields: its targets, and each band row's fields by row.
impl PaperForm {
    /// Puts the importer's problems on the questions whose lines they are in.
    pub fn flag(&mut self, problems: &[crate::markscheme::Problem]) {
        for q in &mut self.questions {
            if let Some(span) = q.source {
                q.flags = problems.iter().filter(|p| (span.start..=span.end).contains(&p.line)).map(|p| p.to_string()).collect();
            }
        }
    }

    /// Carries the flags and confirmations posted with the form back onto it
    /// (by question number, as questions may have been removed or added).
    pub fn carry_flags(&mut self, fields: &[(String, String)]) {
        let posted = posted_flags(fields);
        for q in &mut self.questions {
            if let Some((flags, checked)) = posted.get(q.number.as_str()) {
                q.flags = flags.clone();
                q.checked = *checked;
            }
        }
    }
}

/// For each question number posted with flags: its flags and whether it was checked.
fn posted_flags(fields: &[(String, String)]) -> BTreeMap<&str, (Vec<String>, bool)> {
    let mut by_index: BTreeMap<&str, (Vec<String>, bool)> = BTreeMap::new();
    let mut numbers: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, value) in fields {
        let Some((idx, field)) = key.strip_prefix('q').and_then(|r| r.split_once('.')) else { continue };
        match field {
            "flag" if !value.trim().is_empty() => by_index.entry(idx).or_default().0.push(value.trim().to_owned()),
            "checked" => by_index.entry(idx).or_default().1 = true,
            "number" => {
                numbers.insert(idx, value.trim());
            }
            _ => {}
        }
    }
    // Two flagged questions posted with one number share their flags, and count
    // as checked only if both were: a refusal must never come back ticked.
    let mut by_number: BTreeMap<&str, (Vec<String>, bool)> = BTreeMap::new();
    for (idx, (flags, checked)) in by_index.into_iter().filter(|(_, (flags, _))| !flags.is_empty()) {
        let Some(number) = numbers.get(idx) else { continue };
        match by_number.get_mut(number) {
            Some(entry) => {
                entry.0.extend(flags);
                entry.1 &= checked;
            }
            None => {
                by_number.insert(number, (flags, checked));
            }
        }
    }
    by_number
}

/// The questions flagged by the importer that nobody has yet confirmed, as messages.
pub fn unchecked_flags(fields: &[(String, String)]) -> Vec<String> {
    let removed: Vec<&str> = fields.iter().filter_map(|(k, _)| k.strip_prefix('q').and_then(|r| r.strip_suffix(".remove"))).collect();
    let mut out = Vec::new();
    for (key, value) in fields {
        let Some(idx) = key.strip_prefix('q').and_then(|r| r.strip_suffix(".number")) else { continue };
        let flagged = fields.iter().any(|(k, v)| k == &format!("q{idx}.flag") && !v.trim().is_empty());
        let checked = fields.iter().any(|(k, _)| k == &format!("q{idx}.checked"));
        if flagged && !checked && !removed.contains(&idx) {
            out.push(format!(
                "Question {} was flagged when the document was read: correct it against the document, then tick \"I have checked this question\" and save.",
                value.trim()
            ));
        }
    }
    out
}

type GridFields<'a> = (String, BTreeMap<usize, BTreeMap<&'a str, &'a str>>);

fn split_targets(s: &str) -> Vec<String> {
    s.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

fn number(value: &str, what: &str, problems: &mut Vec<String>) -> i32 {
    match value.trim().parse::<i32>() {
        Ok(n) => n,
        Err(_) => {
            problems.push(format!("{what}: \"{}\" is not a whole number.", value.trim()));
            0
        }
    }
}

/// Reads posted fields back into a scheme. Values that are not numbers are
/// reported (naming the question and band); rules such as contiguous bands
/// are `markscheme::validate`'s job afterwards.
pub fn to_scheme(fields: &[(String, String)]) -> Result<Scheme, Vec<String>> {
    let (scheme, problems) = read_fields(fields);
    if problems.is_empty() { Ok(scheme) } else { Err(problems) }
}

/// The form as far as it reads, with what did not: a page shown again keeps
/// everything the person typed that could be read (a word where a number
/// belongs comes back empty, named in the problems).
pub fn read_fields(fields: &[(String, String)]) -> (Scheme, Vec<String>) {
    let mut top: BTreeMap<&str, &str> = BTreeMap::new();
    // question index -> (field -> value); band keys kept whole.
    let mut questions: BTreeMap<usize, BTreeMap<&str, &str>> = BTreeMap::new();
    for (key, value) in fields {
        if let Some(rest) = key.strip_prefix('q')
            && let Some((idx, field)) = rest.split_once('.')
            && let Ok(i) = idx.parse::<usize>()
        {
            questions.entry(i).or_default().insert(field, value);
            continue;
        }
        top.insert(key, value);
    }
    let get = |m: &BTreeMap<&str, &str>, k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (i, q) in &questions {
        if q.contains_key("remove") {
            continue;
        }
        let number_text = get(q, "number").trim().to_owned();
        let label = if number_text.is_empty() { format!("Question block {}", i + 1) } else { format!("Question {number_text}") };
        let blank = number_text.is_empty() && get(q, "prompt").trim().is_empty() && get(q, "max_mark").trim().is_empty();
        if blank {
            continue; // the spare block for adding a question, left empty
        }
        let max_mark = number(&get(q, "max_mark"), &format!("{label}, maximum mark"), &mut problems);
        let kind = match get(q, "kind").as_str() {
            "" => QuestionKind::Levels,
            text => text.parse().unwrap_or_else(|_| {
                problems.push(format!("{label}: choose how it is marked (levels, points or bands per objective)."));
                QuestionKind::Levels
            }),
        };
        // Bands: keys like g0.b3.level
        let mut grids: BTreeMap<usize, GridFields<'_>> = BTreeMap::new();
        for (field, value) in q {
            let Some(rest) = field.strip_prefix('g') else { continue };
            let Some((g, rest)) = rest.split_once('.') else { continue };
            let Ok(g) = g.parse::<usize>() else { continue };
            let entry = grids.entry(g).or_default();
            if rest == "targets" {
                entry.0 = value.to_string();
            } else if let Some((b, name)) = rest.strip_prefix('b').and_then(|r| r.split_once('.'))
                && let Ok(b) = b.parse::<usize>()
            {
                entry.1.entry(b).or_default().insert(name, value);
            }
        }
        let mut levels = Vec::new();
        let mut ao_bands = Vec::new();
        for (g, (targets, bands)) in grids {
            let mut grid_levels = Vec::new();
            for band in bands.values() {
                let (lv, mn, mx) = (get(band, "level"), get(band, "min"), get(band, "max"));
                if lv.trim().is_empty() && mn.trim().is_empty() && mx.trim().is_empty() {
                    continue; // a spare row
                }
                let where_ = format!("{label}, level {}", lv.trim());
                grid_levels.push(Level {
                    level: number(&lv, &format!("{label}, a band's level"), &mut problems),
                    min: number(&mn, &format!("{where_}, lowest mark"), &mut problems),
                    max: number(&mx, &format!("{where_}, highest mark"), &mut problems),
                    descriptor: get(band, "descriptor").trim().to_owned(),
                });
            }
            grid_levels.sort_by_key(|l| l.level);
            if g == 0 {
                levels = grid_levels;
            } else if !grid_levels.is_empty() || !targets.trim().is_empty() {
                ao_bands.push(AoBands { targets: split_targets(&targets), levels: grid_levels });
            }
        }
        let source = match (get(q, "src_start").parse::<usize>(), get(q, "src_end").parse::<usize>()) {
            (Ok(start), Ok(end)) => Some(LineSpan { start, end }),
            _ => None,
        };
        out.push(Question {
            number: number_text,
            prompt: get(q, "prompt").trim().to_owned(),
            max_mark,
            targets: split_targets(&get(q, "targets")),
            // A points question keeps any bands typed in, so validation can say they do not belong.
            levels: if kind == QuestionKind::AoBands { Vec::new() } else { levels },
            ao_bands: if kind == QuestionKind::AoBands { ao_bands } else { Vec::new() },
            indicative_content: get(q, "indicative_content").trim().to_owned(),
            kind,
            source,
        });
    }
    let scheme = Scheme {
        paper: PaperInfo {
            board: get(&top, "board").trim().to_owned(),
            code: get(&top, "code").trim().to_owned(),
            title: get(&top, "title").trim().to_owned(),
            series: get(&top, "series").trim().to_owned(),
        },
        guidance: get(&top, "guidance").trim().to_owned(),
        questions: out,
    };
    (scheme, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Scheme {
        Scheme {
            paper: PaperInfo { code: "HIS2L".into(), title: "Stalin".into(), series: "January 2011".into(), board: "AQA".into() },
            guidance: "Be fair.".into(),
            questions: vec![Question {
                number: "01".into(),
                prompt: "Explain.".into(),
                max_mark: 12,
                targets: vec!["AO2(a)".into()],
                levels: vec![
                    Level { level: 0, min: 0, max: 0, descriptor: "Nothing".into() },
                    Level { level: 1, min: 1, max: 2, descriptor: "Some".into() },
                    Level { level: 2, min: 3, max: 12, descriptor: "Most".into() },
                ],
                ao_bands: vec![],
                indicative_content: "- a point".into(),
                kind: QuestionKind::Levels,
                source: Some(LineSpan { start: 3, end: 9 }),
            }],
        }
    }

    /// Flattens the form as a browser would post it.
    fn post(form: &PaperForm) -> Vec<(String, String)> {
        let mut f = vec![
            ("board".to_owned(), form.board.clone()),
            ("code".to_owned(), form.code.clone()),
            ("title".to_owned(), form.title.clone()),
            ("series".to_owned(), form.series.clone()),
            ("guidance".to_owned(), form.guidance.clone()),
        ];
        for q in &form.questions {
            let p = format!("q{}.", q.index);
            f.push((format!("{p}number"), q.number.clone()));
            f.push((format!("{p}prompt"), q.prompt.clone()));
            f.push((format!("{p}max_mark"), q.max_mark.clone()));
            f.push((format!("{p}targets"), q.targets.clone()));
            f.push((format!("{p}kind"), q.kind.clone()));
            f.push((format!("{p}indicative_content"), q.indicative_content.clone()));
            if let Some(s) = q.source {
                f.push((format!("{p}src_start"), s.start.to_string()));
                f.push((format!("{p}src_end"), s.end.to_string()));
            }
            for g in &q.grids {
                f.push((format!("{p}g{}.targets", g.grid), g.targets.clone()));
                for (j, b) in g.bands.iter().enumerate() {
                    let bp = format!("{p}g{}.b{j}.", g.grid);
                    f.push((format!("{bp}level"), b.level.clone()));
                    f.push((format!("{bp}min"), b.min.clone()));
                    f.push((format!("{bp}max"), b.max.clone()));
                    f.push((format!("{bp}descriptor"), b.descriptor.clone()));
                }
            }
        }
        f
    }

    #[test]
    fn a_scheme_round_trips_through_the_form() {
        let scheme = sample();
        let back = to_scheme(&post(&PaperForm::from_scheme(&scheme))).unwrap();
        assert_eq!(back, scheme);
    }

    #[test]
    fn edits_in_the_form_are_read_back() {
        let mut form = PaperForm::from_scheme(&sample());
        form.questions[0].grids[0].bands[2].max = "9".into();
        // Use a spare row to add a band, and the spare question block to add a question.
        form.questions[0].grids[0].bands[3] = BandField { level: "3".into(), min: "10".into(), max: "12".into(), descriptor: "All".into() };
        form.questions[1].number = "02".into();
        form.questions[1].max_mark = "4".into();
        form.questions[1].kind = "points".into();
        let scheme = to_scheme(&post(&form)).unwrap();
        assert_eq!(scheme.questions[0].levels.len(), 4);
        assert_eq!(scheme.questions[0].levels[3].min, 10);
        assert_eq!(scheme.questions[1].kind, QuestionKind::Points);
        assert!(scheme.questions[1].levels.is_empty());
    }

    #[test]
    fn flags_posted_twice_under_one_number_come_back_unchecked() {
        let fields: Vec<(String, String)> = [
            ("q1.number", "3"),
            ("q1.flag", "line 4: no bands"),
            ("q2.number", "3"),
            ("q2.flag", "line 9: no total"),
            ("q2.checked", "on"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(unchecked_flags(&fields).len(), 1);
        let flags = posted_flags(&fields);
        assert_eq!(flags.get("3"), Some(&(vec!["line 4: no bands".to_owned(), "line 9: no total".to_owned()], false)));
    }

    #[test]
    fn removed_questions_and_bad_numbers() {
        let form = PaperForm::from_scheme(&sample());
        let mut fields = post(&form);
        fields.push(("q0.remove".into(), "on".into()));
        assert!(to_scheme(&fields).unwrap().questions.is_empty());

        let mut fields = post(&form);
        for (k, v) in fields.iter_mut() {
            if k == "q0.g0.b1.max" {
                *v = "two".into();
            }
        }
        let problems = to_scheme(&fields).unwrap_err();
        assert_eq!(problems, vec!["Question 01, level 1, highest mark: \"two\" is not a whole number."]);
    }
}
