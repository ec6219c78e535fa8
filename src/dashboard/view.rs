//! The dashboard's view: the figures arranged as the page shows them, with
//! filters, sorting and paging of examiners applied. Pure.

use serde::Deserialize;

use super::{
    compute::{MIN_KAPPA_N, MeetingStats},
    data::{GridCell, MeetingData},
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
    pub(super) definitive: String,
    pub(super) n: usize,
    pub(super) mean: String,
    pub(super) sd: String,
    pub(super) spread: String,
    pub(super) outside: String,
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
    pub(super) mean_deviation: String,
    pub(super) mean_abs_deviation: String,
    pub(super) within: String,
    pub(super) level_agreement: String,
    pub(super) kappa: Vec<String>,
    pub(super) flags: Vec<(String, String)>,
}

/// A row of the questions table.
pub struct QuestionView {
    pub(super) number: String,
    pub(super) max_mark: i32,
    pub(super) tolerance: i32,
    pub(super) alpha: String,
    pub(super) icc: String,
    pub(super) n_responses: usize,
    pub(super) n_marks: usize,
    pub(super) suggested: Option<i32>,
    pub(super) pass_rates: Vec<(i32, String)>,
}

/// Everything the dashboard's templates show.
pub struct DashboardView {
    pub(super) meeting: Meeting,
    pub(super) filters: Filters,
    pub(super) query: String,
    pub(super) is_pe: bool,
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
}

fn f2(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

fn signed(x: Option<f64>) -> String {
    x.map(|v| format!("{v:+.2}")).unwrap_or_else(|| "–".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

/// Builds the view from the figures; pure apart from its inputs.
pub fn build_view(meeting: Meeting, role: Role, filters: Filters, data: &MeetingData, stats: &MeetingStats) -> DashboardView {
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
    for c in &data.cells {
        let col = column_of[c.examiner];
        if col != usize::MAX && keep(c.response) {
            grid[c.response][col] = Some((c.mark, c.level, c.submitted));
        }
    }
    let mut marks_in = 0;
    let rows = (0..data.responses.len())
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
            let marks: Vec<i32> = data.cells.iter().filter(|c| c.response == i && c.submitted).map(|c| c.mark).collect();
            RowView {
                response_id: r.id,
                candidate: r.candidate.clone(),
                question: q.number.clone(),
                definitive: def
                    .map(|d| format!("{}{}", d.mark, d.level.map(|l| format!(" (L{l})")).unwrap_or_default()))
                    .unwrap_or_else(|| "–".into()),
                n: s.summary.n,
                mean: f2(s.summary.mean),
                sd: f2(s.summary.sd),
                spread: match (s.summary.min, s.summary.max) {
                    (Some(a), Some(b)) => format!("{a}–{b}"),
                    _ => "–".into(),
                },
                outside: s.summary.outside_tolerance.map(|o| o.to_string()).unwrap_or_else(|| "–".into()),
                rank: s.rank,
                plot: strip_plot(&marks, q.max_mark, &q.levels, def.map(|d| d.mark), q.tolerance),
                cells,
            }
        })
        .collect();
    let columns = shown
        .iter()
        .map(|&e| ColumnView {
            name: data.examiners[e].name.clone(),
            email: data.examiners[e].email.clone(),
            deviation: signed(stats.examiners[e].stats.mean_deviation),
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
    let examiners = shown
        .iter()
        .map(|&e| {
            let s = &stats.examiners[e];
            ExaminerView {
                name: data.examiners[e].name.clone(),
                email: data.examiners[e].email.clone(),
                n: s.stats.n,
                drafts: s.drafts,
                mean_deviation: signed(s.stats.mean_deviation),
                mean_abs_deviation: f2(s.stats.mean_abs_deviation),
                within: pct(s.stats.within_tolerance_rate),
                level_agreement: pct(s.stats.level_agreement_rate),
                kappa: s.kappa.iter().map(|(k, n)| if *n < MIN_KAPPA_N { "n too small".into() } else { f2(*k) }).collect(),
                flags: s.stats.flags.iter().zip(&s.flag_reasons).map(|(f, r)| (f.label().to_owned(), r.clone())).collect(),
            }
        })
        .collect();
    let questions = data
        .questions
        .iter()
        .zip(&stats.questions)
        .map(|(q, s)| QuestionView {
            number: q.number.clone(),
            max_mark: q.max_mark,
            tolerance: q.tolerance,
            alpha: f2(s.alpha),
            icc: f2(s.icc),
            n_responses: s.n_responses,
            n_marks: s.n_marks,
            suggested: s.suggested,
            pass_rates: s.pass_rates.iter().map(|(t, r)| (*t, pct(Some(*r)))).collect(),
        })
        .collect();
    let mut teams: Vec<(UserId, String)> = data
        .examiners
        .iter()
        .filter(|e| data.examiners.iter().any(|m| m.team_leader == Some(e.id)))
        .map(|e| (e.id, e.name.clone()))
        .collect();
    teams.dedup();
    DashboardView {
        query: filters.query(),
        meeting,
        is_pe: role == Role::Pe,
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
    }
}
