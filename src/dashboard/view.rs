//! The dashboard's view: the figures arranged as the page shows them, with
//! filters, sorting and paging of examiners applied. Pure.

use std::collections::HashSet;

use serde::Deserialize;

use super::{
    compute::{MIN_KAPPA_N, MeetingStats},
    data::{GridCell, MeetingData},
    explain::{Fig, Gap, Notes, SuggestionWords, suggestion_words},
    svg::strip_plot,
};
use crate::{
    meetings::{Meeting, Role},
    scripts::ResponseId,
    stats::within_tolerance,
    users::UserId,
};

/// Examiners shown per page of the matrix.
pub const PAGE_SIZE: usize = 100;

/// What the dashboard shows: filters and sort order.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    /// Only this question.
    #[serde(default)]
    pub question: Option<String>,
    /// Only this team leader's team.
    #[serde(default)]
    pub team: Option<String>,
    /// Only scripts with this purpose.
    #[serde(default)]
    pub purpose: Option<String>,
    /// `name` (default) or `deviation`.
    #[serde(default)]
    pub sort: Option<String>,
    /// Page of examiners, from 1.
    #[serde(default)]
    pub page: Option<usize>,
}

impl Filters {
    pub(super) fn query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [("question", &self.question), ("team", &self.team), ("purpose", &self.purpose), ("sort", &self.sort)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", crate::error::urlencode(v)));
            }
        }
        if let Some(p) = self.page.filter(|p| *p > 1) {
            parts.push(format!("page={p}"));
        }
        parts.join("&")
    }

    pub(super) fn is(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "question" => &self.question,
            "team" => &self.team,
            "purpose" => &self.purpose,
            _ => &self.sort,
        };
        current.as_deref() == Some(value)
    }
}

/// One cell of the matrix.
pub struct CellView {
    pub(super) text: String,
    pub(super) class: &'static str,
    pub(super) title: String,
}

/// One row of the matrix: a response.
pub struct RowView {
    pub(super) response_id: ResponseId,
    pub(super) candidate: String,
    pub(super) question: String,
    pub(super) definitive: Fig,
    pub(super) n: usize,
    pub(super) mean: Fig,
    pub(super) sd: Fig,
    pub(super) spread: Fig,
    pub(super) outside: Fig,
    pub(super) rank: usize,
    pub(super) plot: String,
    pub(super) cells: Vec<CellView>,
}

/// A column of the matrix: an examiner.
pub struct ColumnView {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) deviation: String,
    pub(super) flagged: bool,
}

/// A line of "discuss next".
pub struct DiscussView {
    pub(super) response_id: ResponseId,
    pub(super) label: String,
    pub(super) reason: String,
}

/// A row of the examiners table.
pub struct ExaminerView {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) n: usize,
    pub(super) drafts: usize,
    pub(super) mean_deviation: Fig,
    pub(super) mean_abs_deviation: Fig,
    pub(super) within: Fig,
    pub(super) level_agreement: Fig,
    pub(super) kappa: Vec<Fig>,
    pub(super) flags: Vec<(String, String)>,
}

/// A row of the questions table.
pub struct QuestionView {
    pub(super) number: String,
    pub(super) max_mark: i32,
    pub(super) tolerance: i32,
    pub(super) alpha: Fig,
    pub(super) icc: Fig,
    pub(super) n_responses: usize,
    pub(super) n_marks: usize,
    pub(super) n_compared: usize,
    pub(super) mean_deviation: Fig,
    pub(super) within: Fig,
    pub(super) suggested: Option<i32>,
    /// "–" with its note when there is no suggestion.
    pub(super) no_suggestion: Fig,
    /// Who sets the suggestion, and whether one examiner alone holds it up.
    pub(super) words: SuggestionWords,
    pub(super) pass_rates: Vec<(i32, String)>,
}

/// Everything the dashboard's templates show.
pub struct DashboardView {
    pub(super) meeting: Meeting,
    pub(super) filters: Filters,
    pub(super) query: String,
    pub(super) is_pe: bool,
    /// The tolerances may still change: the meeting is not closed and
    /// qualification has not opened (examiners are judged against them then).
    pub(super) tolerances_can_change: bool,
    pub(super) columns: Vec<ColumnView>,
    pub(super) rows: Vec<RowView>,
    pub(super) discuss: Vec<DiscussView>,
    pub(super) examiners: Vec<ExaminerView>,
    pub(super) questions: Vec<QuestionView>,
    pub(super) question_numbers: Vec<String>,
    pub(super) teams: Vec<(UserId, String)>,
    pub(super) page: usize,
    pub(super) pages: usize,
    pub(super) total_examiners: usize,
    pub(super) marks_in: usize,
    /// Why figures are missing, once per table.
    pub(super) matrix_notes: Notes,
    pub(super) response_notes: Notes,
    pub(super) examiner_notes: Notes,
    pub(super) question_notes: Notes,
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

fn signed(x: f64) -> String {
    format!("{x:+.2}")
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Builds the view from the figures; pure apart from its inputs.
pub fn build_view(
    meeting: Meeting,
    role: Role,
    filters: Filters,
    tolerances_can_change: bool,
    data: &MeetingData,
    stats: &MeetingStats,
) -> DashboardView {
    // Which examiners, in which order, on which page.
    let team: Option<UserId> = filters.team.as_deref().and_then(|t| t.parse().ok());
    let mut chosen: Vec<usize> = (0..data.examiners.len())
        .filter(|&e| team.is_none_or(|t| data.examiners[e].team_leader == Some(t) || data.examiners[e].id == t))
        .collect();
    if filters.sort.as_deref() == Some("deviation") {
        chosen.sort_by(|&a, &b| {
            let key = |e: usize| stats.examiners[e].stats.mean_deviation.map(f64::abs);
            key(b).partial_cmp(&key(a)).unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let total_examiners = chosen.len();
    let pages = total_examiners.div_ceil(PAGE_SIZE).max(1);
    let page = filters.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<usize> = chosen.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    let mut column_of = vec![usize::MAX; data.examiners.len()];
    for (col, &e) in shown.iter().enumerate() {
        column_of[e] = col;
    }

    let keep = |i: usize| {
        let r = &data.responses[i];
        filters.question.as_deref().is_none_or(|q| q.is_empty() || data.questions[r.question].number == q)
            && filters.purpose.as_deref().is_none_or(|p| p.is_empty() || r.purpose.as_str() == p)
    };
    let mut grid: Vec<Vec<GridCell>> = vec![Vec::new(); data.responses.len()];
    for (i, g) in grid.iter_mut().enumerate() {
        if keep(i) {
            *g = vec![None; shown.len()];
        }
    }
    // Each shown response's submitted marks (its strip plot) and the shown
    // examiners' cells, in one pass over the marks.
    let mut marks_of: Vec<Vec<i32>> = vec![Vec::new(); data.responses.len()];
    for c in &data.cells {
        if !keep(c.response) {
            continue;
        }
        if c.submitted {
            marks_of[c.response].push(c.mark);
        }
        let col = column_of[c.examiner];
        if col != usize::MAX {
            grid[c.response][col] = Some((c.mark, c.level, c.submitted));
        }
    }
    let mut marks_in = 0;
    let mut matrix_notes = Notes::new("matrix");
    let mut response_notes = Notes::new("responses");
    let rows: Vec<RowView> = (0..data.responses.len())
        .filter(|&i| keep(i))
        .map(|i| {
            let r = &data.responses[i];
            let q = &data.questions[r.question];
            let s = &stats.responses[i];
            let def = data.definitive[i];
            let cells = grid[i]
                .iter()
                .map(|cell| match cell {
                    None => CellView { text: String::new(), class: "empty", title: "not marked".into() },
                    Some((mark, level, false)) => CellView {
                        text: "…".into(),
                        class: "draft",
                        title: format!("draft: {}{mark}", level.map(|l| format!("level {l}, ")).unwrap_or_default()),
                    },
                    Some((mark, level, true)) => {
                        marks_in += 1;
                        let text = match level {
                            Some(l) => format!("{mark}<small>L{l}</small>"),
                            None => mark.to_string(),
                        };
                        let (class, title) = match def {
                            None => ("nodef", "no definitive mark yet".to_owned()),
                            Some(d) if within_tolerance(mark - d.mark, q.tolerance) => {
                                ("within", format!("within tolerance ({:+})", mark - d.mark))
                            }
                            Some(d) if *mark > d.mark => ("above", format!("above the definitive mark by {}", mark - d.mark)),
                            Some(d) => ("below", format!("below the definitive mark by {}", d.mark - mark)),
                        };
                        CellView { text, class, title }
                    }
                })
                .collect();
            let shown = |d: super::data::Def| format!("{}{}", d.mark, d.level.map(|l| format!(" (L{l})")).unwrap_or_default());
            // The matrix and the responses table are apart on the page: each explains its own "–".
            let definitive = matrix_notes.add(Fig::of(def, shown, Gap::NoDefinitive));
            let none_or_one = if s.summary.n == 0 { Gap::NoMarks } else { Gap::OneMark };
            let mut n = |fig| response_notes.add(fig);
            RowView {
                response_id: r.id,
                candidate: r.candidate.clone(),
                question: q.number.clone(),
                definitive,
                n: s.summary.n,
                mean: n(Fig::of(s.summary.mean, f2, Gap::NoMarks)),
                sd: n(Fig::of(s.summary.sd, f2, none_or_one)),
                spread: n(Fig::of(s.summary.min.zip(s.summary.max), |(a, b)| format!("{a}–{b}"), Gap::NoMarks)),
                outside: n(Fig::of(s.summary.outside_tolerance, |o| o.to_string(), Gap::NoDefinitive)),
                rank: s.rank,
                plot: strip_plot(&marks_of[i], q.max_mark, &q.levels, def.map(|d| d.mark), q.tolerance),
                cells,
            }
        })
        .collect();
    let columns = shown
        .iter()
        .map(|&e| ColumnView {
            name: data.examiners[e].name.clone(),
            email: data.examiners[e].email.clone(),
            deviation: stats.examiners[e].stats.mean_deviation.map(signed).unwrap_or_default(),
            flagged: !stats.examiners[e].stats.flags.is_empty(),
        })
        .collect();
    let discuss = stats
        .order
        .iter()
        .filter(|&&i| keep(i) && stats.responses[i].summary.n > 0)
        .take(10)
        .map(|&i| DiscussView {
            response_id: data.responses[i].id,
            label: format!("Candidate {}, question {}", data.responses[i].candidate, data.questions[data.responses[i].question].number),
            reason: stats.responses[i].reason.clone(),
        })
        .collect();
    let mut examiner_notes = Notes::new("examiners");
    let examiners = shown
        .iter()
        .map(|&e| {
            let s = &stats.examiners[e];
            let mut n = |fig| examiner_notes.add(fig);
            let levels_gap = if s.stats.n == 0 { Gap::NotCompared } else { Gap::NoLevels };
            ExaminerView {
                name: data.examiners[e].name.clone(),
                email: data.examiners[e].email.clone(),
                n: s.stats.n,
                drafts: s.drafts,
                mean_deviation: n(Fig::of(s.stats.mean_deviation, signed, Gap::NotCompared)),
                mean_abs_deviation: n(Fig::of(s.stats.mean_abs_deviation, f2, Gap::NotCompared)),
                within: n(Fig::of(s.stats.within_tolerance_rate, pct, Gap::NotCompared)),
                level_agreement: n(Fig::of(s.stats.level_agreement_rate, pct, levels_gap)),
                kappa: s.kappa.iter().map(|&(k, count)| n(kappa_fig(k, count))).collect(),
                flags: s.stats.flags.iter().zip(&s.flag_reasons).map(|(f, r)| (f.label().to_owned(), r.clone())).collect(),
            }
        })
        .collect();
    let mut question_notes = Notes::new("questions");
    let questions = data
        .questions
        .iter()
        .zip(&stats.questions)
        .map(|(q, s)| {
            let mut n = |fig| question_notes.add(fig);
            let name = |e: usize| data.examiners.get(e).map(|x| x.name.clone()).unwrap_or_default();
            QuestionView {
                number: q.number.clone(),
                max_mark: q.max_mark,
                tolerance: q.tolerance,
                alpha: n(Fig::of(s.alpha, f2, if s.pairable == 0 { Gap::AlphaFew } else { Gap::NoVariation })),
                icc: n(icc_fig(s.icc, s.complete, data.examiners.len())),
                n_responses: s.n_responses,
                n_marks: s.n_marks,
                n_compared: s.n_compared,
                mean_deviation: n(Fig::of(s.mean_deviation, signed, Gap::NoneCompared)),
                within: n(Fig::of(s.within_rate, pct, Gap::NoneCompared)),
                suggested: s.suggested,
                no_suggestion: n(Fig::of(s.suggested, |t| format!("±{t}"), Gap::NoneCompared)),
                words: s.drivers.as_ref().map(|d| suggestion_words(d, name)).unwrap_or_default(),
                pass_rates: s.pass_rates.iter().map(|(t, r)| (*t, pct(*r))).collect(),
            }
        })
        .collect();
    let leaders: HashSet<UserId> = data.examiners.iter().filter_map(|e| e.team_leader).collect();
    let teams: Vec<(UserId, String)> = data.examiners.iter().filter(|e| leaders.contains(&e.id)).map(|e| (e.id, e.name.clone())).collect();
    DashboardView {
        query: filters.query(),
        meeting,
        is_pe: role == Role::Pe,
        tolerances_can_change,
        filters,
        columns,
        rows,
        discuss,
        examiners,
        questions,
        question_numbers: data.questions.iter().map(|q| q.number.clone()).collect(),
        teams,
        page,
        pages,
        total_examiners,
        marks_in,
        matrix_notes,
        response_notes,
        examiner_notes,
        question_notes,
    }
}

/// κ, or why not: too few marks compared, or marks that leave it 0/0.
pub fn kappa_fig(kappa: Option<f64>, n: usize) -> Fig {
    let gap = if n < MIN_KAPPA_N { Gap::KappaFew { n } } else { Gap::KappaUndefined };
    Fig::of(kappa.filter(|_| n >= MIN_KAPPA_N), f2, gap)
}

/// ICC(A,1), or why not: too few responses marked by every examiner (or too few
/// examiners), or marks that do not vary.
pub fn icc_fig(icc: Option<f64>, complete: usize, examiners: usize) -> Fig {
    let gap = if complete < 2 || examiners < 2 { Gap::IccFew { complete, examiners } } else { Gap::NoVariation };
    Fig::of(icc, f2, gap)
}
