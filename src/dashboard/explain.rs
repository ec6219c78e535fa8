//! The dashboard's words for what its numbers cannot say by themselves: why a
//! figure is missing, and who a suggested tolerance rests on. Pure.
//!
//! A missing figure is explained once, in a note under its table, not in every
//! cell: the cell shows a short mark ("–" for "not enough marks yet", "n/a" for
//! "these marks leave it undefined") tied to that note by `aria-describedby`,
//! with the particulars of the cell in its `title`.

use super::compute::MIN_KAPPA_N;
use crate::stats::SuggestionDrivers;

/// Why a figure is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// A response nobody has submitted a mark for.
    NoMarks,
    /// A response with one submitted mark: no SD.
    OneMark,
    /// A response without a definitive mark: nothing to compare with.
    NoDefinitive,
    /// An examiner with no submitted mark that has a definitive mark.
    NotCompared,
    /// An examiner whose compared marks never have a level on both sides.
    NoLevels,
    /// κ on fewer than [`MIN_KAPPA_N`] compared marks (`n` of them).
    KappaFew {
        /// Marks compared on the question.
        n: usize,
    },
    /// κ on marks that are all one and the same mark: 0/0.
    KappaUndefined,
    /// α without a response marked by two examiners.
    AlphaFew,
    /// ICC(A,1) without two responses marked by every examiner.
    IccFew {
        /// Responses marked by every examiner.
        complete: usize,
        /// Examiners in the meeting.
        examiners: usize,
    },
    /// α or ICC on marks that do not vary: 0/0.
    NoVariation,
    /// A question with no submitted mark that has a definitive mark.
    NoneCompared,
}

impl Gap {
    /// What the cell shows.
    pub fn mark(&self) -> &'static str {
        match self {
            Gap::KappaUndefined | Gap::NoVariation => "n/a",
            _ => "–",
        }
    }

    /// The kind of gap, for the note's id (with its table's prefix).
    pub fn kind(&self) -> &'static str {
        match self {
            Gap::NoMarks => "no-marks",
            Gap::OneMark => "one-mark",
            Gap::NoDefinitive => "no-definitive",
            Gap::NotCompared => "not-compared",
            Gap::NoLevels => "no-levels",
            Gap::KappaFew { .. } => "kappa-few",
            Gap::KappaUndefined => "kappa-undefined",
            Gap::AlphaFew => "alpha-few",
            Gap::IccFew { .. } => "icc-few",
            Gap::NoVariation => "no-variation",
            Gap::NoneCompared => "none-compared",
        }
    }

    /// This cell's particulars, for its tooltip.
    pub fn title(&self) -> String {
        match self {
            Gap::NoMarks => "no submitted marks yet".into(),
            Gap::OneMark => "one submitted mark: an SD needs two".into(),
            Gap::NoDefinitive => "no definitive mark yet".into(),
            Gap::NotCompared => "no submitted mark with a definitive mark yet".into(),
            Gap::NoLevels => "no compared mark with a level on both sides".into(),
            Gap::KappaFew { n } => format!("{n} of the {MIN_KAPPA_N} marks κ needs"),
            Gap::KappaUndefined => "every mark and definitive mark the same: κ is undefined".into(),
            Gap::AlphaFew => "no response marked by two examiners yet".into(),
            Gap::IccFew { complete, examiners } if *examiners < 2 => {
                format!("{examiners} examiner{}: ICC needs two; {complete} complete", plural(*examiners))
            }
            Gap::IccFew { complete, examiners } => {
                format!("{complete} response{} marked by all {examiners} examiners; ICC needs 2", plural(*complete))
            }
            Gap::NoVariation => "every mark the same: nothing varies to compare".into(),
            Gap::NoneCompared => "no submitted mark with a definitive mark yet".into(),
        }
    }

    /// The note under the table, said once for every cell with this gap. It
    /// names the columns it can appear in, since one table may have several.
    pub fn note(&self) -> String {
        match self {
            Gap::NoMarks => "in Mean, SD and Range: nobody has submitted a mark for the response yet.".into(),
            Gap::OneMark => "in SD: only one mark is submitted, and a standard deviation needs at least two.".into(),
            Gap::NoDefinitive => "there is no definitive mark yet, so no mark can be compared with it.".into(),
            Gap::NotCompared => "in the deviations, Within tolerance and Same level: none of the examiner's submitted marks \
                                 has a definitive mark yet."
                .into(),
            Gap::NoLevels => "in Same level: no compared mark has a level on both sides (the question is marked without \
                              levels, or no level was given)."
                .into(),
            Gap::KappaFew { .. } => format!(
                "in κ: κ needs at least {MIN_KAPPA_N} submitted marks with a definitive mark for the question; the examiner \
                 has fewer so far."
            ),
            Gap::KappaUndefined => "in κ: the examiner's marks and the definitive marks are all one and the same mark, so κ \
                                    is 0/0: they agree, but κ cannot say how much better than chance."
                .into(),
            Gap::AlphaFew => "in Krippendorff's α: it compares examiners' marks on the same response, and no response has \
                              been marked by two examiners yet."
                .into(),
            Gap::IccFew { examiners, .. } => format!(
                "in ICC(A,1): it uses only the responses marked by every one of the {examiners} examiners (it cannot allow \
                 for a gap), and needs at least two of them; there are fewer so far."
            ),
            Gap::NoVariation => "in Krippendorff's α or ICC(A,1): every mark it would use is the same, so there is no \
                                 variation to share out: they agree, but the coefficient is 0/0."
                .into(),
            Gap::NoneCompared => "in the deviations, Within tolerance and Suggested tolerance: no submitted mark on the \
                                  question has a definitive mark yet."
                .into(),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A figure as a table shows it: its text, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct Fig {
    /// The figure, formatted (empty when missing).
    pub text: String,
    /// Why it is missing.
    pub gap: Option<Gap>,
    /// The id of the note that explains the gap (set by [`Notes::add`]).
    pub note: String,
}

impl Fig {
    /// A figure formatted by `show`, or the gap when there is none.
    pub fn of<T>(x: Option<T>, show: impl FnOnce(T) -> String, gap: Gap) -> Fig {
        match x {
            Some(v) => Fig { text: show(v), gap: None, note: String::new() },
            None => Fig { text: String::new(), gap: Some(gap), note: String::new() },
        }
    }

    /// What a spreadsheet or plain text gets: the figure, or the gap's mark.
    pub fn plain(&self) -> &str {
        match &self.gap {
            Some(g) => g.mark(),
            None => &self.text,
        }
    }
}

/// A note under a table: the mark, its id (for `aria-describedby`) and the words.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// The mark the cells show.
    pub mark: &'static str,
    /// The element id, unique on the page.
    pub id: String,
    /// What it means.
    pub text: String,
}

/// The notes a table needs: one per kind of gap in it, in the order first met.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    prefix: &'static str,
    notes: Vec<Note>,
}

impl Notes {
    /// Notes for the table whose ids begin with `prefix`.
    pub fn new(prefix: &'static str) -> Notes {
        Notes { prefix, notes: Vec::new() }
    }

    /// Records the gap of a figure (if any), ties the figure to its note and hands it back.
    pub fn add(&mut self, mut fig: Fig) -> Fig {
        if let Some(gap) = fig.gap {
            let id = format!("{}-{}", self.prefix, gap.kind());
            if !self.notes.iter().any(|n| n.id == id) {
                self.notes.push(Note { mark: gap.mark(), id: id.clone(), text: gap.note() });
            }
            fig.note = id;
        }
        fig
    }

    /// The notes, in the order first met.
    pub fn list(&self) -> &[Note] {
        &self.notes
    }
}

/// Up to `shown` names joined as English does, with the rest counted.
fn names(mut list: Vec<String>, shown: usize) -> String {
    let rest = list.len().saturating_sub(shown);
    list.truncate(shown);
    if rest > 0 {
        list.push(format!("{rest} other{}", plural(rest)));
    }
    match list.len() {
        0 => String::new(),
        1 => list.remove(0),
        _ => {
            let last = list.pop().unwrap_or_default();
            format!("{} and {last}", list.join(", "))
        }
    }
}

/// The words beside a suggested tolerance: who sets it, and a warning when single
/// examiners hold it up. `name` gives an examiner's name from their index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SuggestionWords {
    /// E.g. "Set by marks 5 away from the definitive mark: Ed Erratic (3), Al Able (1)."
    pub set_by: Option<String>,
    /// E.g. "±5 is driven by Ed Erratic alone: without Ed Erratic's marks it would be ±2."
    pub warning: Option<String>,
}

/// Words for a suggestion's drivers (see [`SuggestionWords`]).
pub fn suggestion_words(d: &SuggestionDrivers, name: impl Fn(usize) -> String) -> SuggestionWords {
    let s = d.suggested;
    let set_by = (!d.setters.is_empty()).then(|| {
        let who: Vec<String> = d.setters.iter().map(|&(e, n)| format!("{} ({n})", name(e))).collect();
        format!("Set by marks {s} away from the definitive mark: {}.", names(who, 4))
    });
    let without = |e: usize, t: Option<i32>| match t {
        Some(t) => format!("without {}'s marks it would be ±{t}", name(e)),
        None => format!("nobody but {} has a mark compared with a definitive mark on this question yet", name(e)),
    };
    let warning = match d.lowered_without.as_slice() {
        [] => None,
        [(e, t)] => Some(format!("±{s} is driven by {} alone: {}.", name(*e), without(*e, *t))),
        many => {
            let each: Vec<String> = many.iter().map(|&(e, t)| without(e, t)).collect();
            Some(format!("±{s} hangs on single examiners: {}.", each.join("; ")))
        }
    };
    SuggestionWords { set_by, warning }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(e: usize) -> String {
        ["Ed Erratic", "Al Able", "Bo Brown", "Cy Cole", "Di Dean", "Eli Ek"][e].to_owned()
    }

    #[test]
    fn one_examiner_alone_is_a_warning_that_names_them() {
        let d = SuggestionDrivers { suggested: 5, setters: vec![(0, 3), (1, 1)], lowered_without: vec![(0, Some(2))] };
        let w = suggestion_words(&d, who);
        assert_eq!(w.set_by.as_deref(), Some("Set by marks 5 away from the definitive mark: Ed Erratic (3) and Al Able (1)."));
        assert_eq!(w.warning.as_deref(), Some("±5 is driven by Ed Erratic alone: without Ed Erratic's marks it would be ±2."));
        let alone = SuggestionDrivers { suggested: 3, setters: vec![(0, 1)], lowered_without: vec![(0, None)] };
        assert_eq!(
            suggestion_words(&alone, who).warning.as_deref(),
            Some(
                "±3 is driven by Ed Erratic alone: nobody but Ed Erratic has a mark compared with a definitive mark on this question yet."
            )
        );
    }

    #[test]
    fn several_single_examiners_and_none() {
        let d = SuggestionDrivers { suggested: 5, setters: vec![(0, 1), (1, 1)], lowered_without: vec![(0, Some(0)), (1, Some(0))] };
        assert_eq!(
            suggestion_words(&d, who).warning.as_deref(),
            Some("±5 hangs on single examiners: without Ed Erratic's marks it would be ±0; without Al Able's marks it would be ±0.")
        );
        let spread = SuggestionDrivers { suggested: 2, setters: (0..6).map(|e| (e, 1)).collect(), lowered_without: vec![] };
        let w = suggestion_words(&spread, who);
        assert_eq!(
            w.set_by.as_deref(),
            Some("Set by marks 2 away from the definitive mark: Ed Erratic (1), Al Able (1), Bo Brown (1), Cy Cole (1) and 2 others.")
        );
        assert_eq!(w.warning, None);
        assert_eq!(
            suggestion_words(&SuggestionDrivers { suggested: 0, setters: vec![], lowered_without: vec![] }, who),
            SuggestionWords::default()
        );
    }

    #[test]
    fn a_table_explains_each_kind_of_gap_once() {
        let mut notes = Notes::new("examiners");
        for n in [0, 2, 3] {
            let fig = notes.add(Fig::of(None::<f64>, |k| format!("{k:.2}"), Gap::KappaFew { n }));
            assert_eq!((fig.plain(), fig.note.as_str()), ("–", "examiners-kappa-few"));
        }
        notes.add(Fig::of(Some(0.5), |k| format!("{k:.2}"), Gap::KappaFew { n: 9 }));
        notes.add(Fig::of(None::<f64>, |k| format!("{k:.2}"), Gap::KappaUndefined));
        let list = notes.list();
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!((list[0].mark, list[0].id.as_str()), ("–", "examiners-kappa-few"));
        assert!(list[0].text.contains(&format!("at least {MIN_KAPPA_N} submitted marks with a definitive mark")));
        assert_eq!(list[1].mark, "n/a");
        assert_eq!(Gap::KappaFew { n: 3 }.title(), format!("3 of the {MIN_KAPPA_N} marks κ needs"));
        assert_eq!(Gap::IccFew { complete: 1, examiners: 5 }.title(), "1 response marked by all 5 examiners; ICC needs 2");
        assert_eq!(Fig::of(Some(2), |v: i32| format!("±{v}"), Gap::NoneCompared).plain(), "±2");
    }
}
