//! The dashboard's figures from a meeting's marks, in one pass over them.
//! Pure: no database, no HTTP. Statistics count submitted marks only;
//! deviations need a definitive mark; what cannot be computed is `None`.

use crate::stats::{
    self, ExaminerStats, MarkPair, ResponseSummary, SuggestionDrivers, discussion_order, discussion_reason, examiner_stats,
    icc_a1_complete_units, krippendorff_alpha_interval, mean, pass_rates, quadratic_weighted_kappa, sd, suggested_tolerance,
    suggestion_drivers, summarise_response, within_tolerance,
};

use super::data::{Def, MeetingData};

/// Weighted kappa needs at least this many marks to mean anything.
pub const MIN_KAPPA_N: usize = 5;

/// Figures for one response.
#[derive(Debug, Clone)]
pub struct ResponseStats {
    /// n, mean, median, sd, range, levels, outside tolerance.
    pub summary: ResponseSummary,
    /// The definitive mark, if recorded.
    pub definitive: Option<Def>,
    /// Why it ranks where it does in "discuss next".
    pub reason: String,
    /// Its place in "discuss next" (1 = first).
    pub rank: usize,
}

/// Figures for one examiner.
#[derive(Debug, Clone)]
pub struct ExaminerRow {
    /// Deviation figures and flags.
    pub stats: ExaminerStats,
    /// The flags' reasons in plain words.
    pub flag_reasons: Vec<String>,
    /// Per question: quadratic weighted kappa against the definitive marks,
    /// with the number of marks it rests on (None when n < 5 or not computable).
    pub kappa: Vec<(Option<f64>, usize)>,
    /// Marks submitted (with or without a definitive mark).
    pub submitted: usize,
    /// Drafts not yet submitted.
    pub drafts: usize,
}

/// Figures for one question across the panel.
#[derive(Debug, Clone)]
pub struct QuestionStats {
    /// Krippendorff's alpha, interval metric, examiners as coders.
    pub alpha: Option<f64>,
    /// ICC(A,1) on the responses every examiner marked.
    pub icc: Option<f64>,
    /// Responses of this question in the meeting.
    pub n_responses: usize,
    /// Submitted marks on them.
    pub n_marks: usize,
    /// Mean of those marks.
    pub mean_mark: Option<f64>,
    /// Their sample SD.
    pub sd_mark: Option<f64>,
    /// Submitted marks with a definitive mark to compare with.
    pub n_compared: usize,
    /// Mean of mark − definitive mark over them (negative: the panel is severe).
    pub mean_deviation: Option<f64>,
    /// Sample SD of those deviations.
    pub sd_deviation: Option<f64>,
    /// Mean of |mark − definitive mark|.
    pub mean_abs_deviation: Option<f64>,
    /// Share of them within the question's tolerance.
    pub within_rate: Option<f64>,
    /// Responses marked by two examiners or more (what α can pair; none: no α).
    pub pairable: usize,
    /// Responses marked by every examiner (all ICC can use: it allows no gap).
    pub complete: usize,
    /// The smallest tolerance that would put 90% of marks within it.
    pub suggested: Option<i32>,
    /// Who that suggestion rests on (same rule, same marks).
    pub drivers: Option<SuggestionDrivers>,
    /// Share of marks each candidate tolerance would pass.
    pub pass_rates: Vec<(i32, f64)>,
}

/// All the dashboard's figures.
#[derive(Debug, Clone)]
pub struct MeetingStats {
    /// Per response, in the meeting's order.
    pub responses: Vec<ResponseStats>,
    /// Response indices in "discuss next" order.
    pub order: Vec<usize>,
    /// Per examiner, in `data.examiners` order.
    pub examiners: Vec<ExaminerRow>,
    /// Per question, in paper order.
    pub questions: Vec<QuestionStats>,
}

/// Computes everything from the marks.
pub fn compute(data: &MeetingData) -> MeetingStats {
    let nr = data.responses.len();
    let ne = data.examiners.len();
    let nq = data.questions.len();
    // The examiners' figures on a second thread while this one does the
    // responses' and the questions': at 5,000 examiners each is tens of
    // milliseconds, and the principal examiner waits for both. Each thread
    // walks the marks for what it needs itself, so that pass is split too.
    let (examiners, (responses, order, questions)) = std::thread::scope(|scope| {
        let examiners = scope.spawn(|| {
            let mut pairs: Vec<Vec<MarkPair>> = vec![Vec::new(); ne];
            let mut submitted = vec![0usize; ne];
            let mut drafts = vec![0usize; ne];
            for c in &data.cells {
                if !c.submitted {
                    drafts[c.examiner] += 1;
                    continue;
                }
                submitted[c.examiner] += 1;
                if let Some(d) = data.definitive[c.response] {
                    let question = data.responses[c.response].question;
                    pairs[c.examiner].push(MarkPair {
                        question,
                        mark: c.mark,
                        level: c.level,
                        definitive_mark: d.mark,
                        definitive_level: d.level,
                        tolerance: data.questions[question].tolerance,
                    });
                }
            }
            pairs
                .iter()
                .enumerate()
                .map(|(e, ps)| {
                    let s = examiner_stats(ps);
                    let flag_reasons = s.flags.iter().map(|f| f.reason(&s)).collect();
                    let kappa = (0..nq)
                        .map(|q| {
                            let (a, b): (Vec<i32>, Vec<i32>) =
                                ps.iter().filter(|p| p.question == q).map(|p| (p.mark, p.definitive_mark)).unzip();
                            let k =
                                if a.len() >= MIN_KAPPA_N { quadratic_weighted_kappa(&a, &b, 0, data.questions[q].max_mark) } else { None };
                            (k, a.len())
                        })
                        .collect();
                    ExaminerRow { stats: s, flag_reasons, kappa, submitted: submitted[e], drafts: drafts[e] }
                })
                .collect()
        });
        let mut by_response: Vec<Vec<(i32, Option<i32>)>> = vec![Vec::new(); nr];
        // Per question: units (responses) × coders (examiners), for alpha and ICC.
        let mut unit_of: Vec<usize> = vec![0; nr];
        let mut units: Vec<Vec<Vec<Option<f64>>>> = vec![Vec::new(); nq];
        for (i, r) in data.responses.iter().enumerate() {
            unit_of[i] = units[r.question].len();
            units[r.question].push(vec![None; ne]);
        }
        // Per question: (examiner, mark − definitive mark), so a suggestion can name who drives it.
        let mut deviations: Vec<Vec<(usize, i32)>> = vec![Vec::new(); nq];
        let mut marks_of: Vec<Vec<f64>> = vec![Vec::new(); nq];
        for c in data.cells.iter().filter(|c| c.submitted) {
            let question = data.responses[c.response].question;
            by_response[c.response].push((c.mark, c.level));
            units[question][unit_of[c.response]][c.examiner] = Some(f64::from(c.mark));
            marks_of[question].push(f64::from(c.mark));
            if let Some(d) = data.definitive[c.response] {
                deviations[question].push((c.examiner, c.mark - d.mark));
            }
        }
        let summaries: Vec<ResponseSummary> = data
            .responses
            .iter()
            .enumerate()
            .map(|(i, r)| summarise_response(&by_response[i], data.definitive[i].map(|d| d.mark), data.questions[r.question].tolerance))
            .collect();
        let order = discussion_order(&summaries);
        let mut rank = vec![0; nr];
        for (place, &i) in order.iter().enumerate() {
            rank[i] = place + 1;
        }
        let responses = summaries
            .into_iter()
            .enumerate()
            .map(|(i, summary)| ResponseStats {
                reason: discussion_reason(&summary, data.questions[data.responses[i].question].tolerance),
                summary,
                definitive: data.definitive[i],
                rank: rank[i],
            })
            .collect();
        let questions = (0..nq)
            .map(|q| {
                let devs: Vec<i32> = deviations[q].iter().map(|&(_, d)| d).collect();
                let as_f64: Vec<f64> = devs.iter().map(|&d| f64::from(d)).collect();
                let abs: Vec<f64> = as_f64.iter().map(|d| d.abs()).collect();
                let tolerance = data.questions[q].tolerance;
                let within = devs.iter().filter(|&&d| within_tolerance(d, tolerance)).count();
                let suggested = suggested_tolerance(&devs);
                let up_to = suggested.unwrap_or(0).max(tolerance).saturating_add(2);
                QuestionStats {
                    alpha: krippendorff_alpha_interval(&units[q]),
                    icc: icc_a1_complete_units(&units[q]),
                    n_responses: units[q].len(),
                    n_marks: units[q].iter().map(|u| u.iter().flatten().count()).sum(),
                    mean_mark: mean(&marks_of[q]),
                    sd_mark: sd(&marks_of[q]),
                    n_compared: devs.len(),
                    mean_deviation: mean(&as_f64),
                    sd_deviation: sd(&as_f64),
                    mean_abs_deviation: mean(&abs),
                    within_rate: (!devs.is_empty()).then(|| within as f64 / devs.len() as f64),
                    pairable: units[q].iter().filter(|u| u.iter().flatten().count() >= 2).count(),
                    complete: units[q].iter().filter(|u| !u.is_empty() && u.iter().all(Option::is_some)).count(),
                    suggested,
                    drivers: suggestion_drivers(&deviations[q]),
                    pass_rates: pass_rates(&devs, up_to),
                }
            })
            .collect();
        (examiners.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), (responses, order, questions))
    });
    MeetingStats { responses, order, examiners, questions }
}

/// Rounds a figure for display and JSON (3 decimals), keeping `None`.
pub fn round3(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 1000.0).round() / 1000.0)
}

/// Re-exported so pages need not reach into `stats`.
pub use stats::Flag;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        dashboard::data::{Cell, ExaminerInfo, QuestionInfo, ResponseInfo},
        scripts::ResponseId,
        users::UserId,
    };

    fn data() -> MeetingData {
        let q = QuestionInfo { number: "01".into(), max_mark: 12, tolerance: 1, levels: vec![] };
        let responses = (0..3)
            .map(|i| ResponseInfo {
                id: ResponseId::new_v4(),
                candidate: format!("000{i}"),
                question: 0,
                purpose: crate::meetings::Purpose::Practice,
                released: false,
            })
            .collect();
        let examiners = (0..3)
            .map(|i| ExaminerInfo { id: UserId::new_v4(), email: format!("e{i}@x"), name: format!("E{i}"), team_leader: None })
            .collect();
        // Response 0: 8, 6, 10 (definitive 8). Response 1: 5, 5, missing (definitive 5).
        // Response 2: 2, 3, 2 (no definitive). Examiner 2 has a draft on response 1.
        let cell = |response, examiner, mark, submitted| Cell { response, examiner, level: None, mark, submitted };
        MeetingData {
            questions: vec![q],
            responses,
            examiners,
            cells: vec![
                cell(0, 0, 8, true),
                cell(0, 1, 6, true),
                cell(0, 2, 10, true),
                cell(1, 0, 5, true),
                cell(1, 1, 5, true),
                cell(1, 2, 9, false),
                cell(2, 0, 2, true),
                cell(2, 1, 3, true),
                cell(2, 2, 2, true),
            ],
            definitive: vec![Some(Def { level: None, mark: 8 }), Some(Def { level: None, mark: 5 }), None],
        }
    }

    #[test]
    fn figures_by_hand() {
        let s = compute(&data());
        let r0 = &s.responses[0].summary;
        assert_eq!((r0.n, r0.mean, r0.min, r0.max), (3, Some(8.0), Some(6), Some(10)));
        assert_eq!(r0.sd, Some(2.0));
        assert_eq!(r0.outside_tolerance, Some(2));
        assert_eq!(s.responses[1].summary.n, 2, "drafts do not count");
        assert_eq!(s.responses[2].summary.outside_tolerance, None, "no definitive mark, no deviation");
        assert_eq!(s.order[0], 0, "the response with most examiners outside tolerance comes first");
        assert_eq!(s.responses[0].rank, 1);

        // Examiner 1: deviations -2 (r0) and 0 (r1): mean -1, within tolerance 1 of 2.
        let e1 = &s.examiners[1].stats;
        assert_eq!(e1.n, 2);
        assert_eq!(e1.mean_deviation, Some(-1.0));
        assert_eq!(e1.mean_abs_deviation, Some(1.0));
        assert_eq!(e1.within_tolerance_rate, Some(0.5));
        assert_eq!(s.examiners[2].drafts, 1);
        assert_eq!(s.examiners[2].stats.n, 1, "only the submitted mark with a definitive mark counts");
        assert_eq!(s.examiners[0].kappa[0], (None, 2), "n too small for kappa");

        let q = &s.questions[0];
        assert_eq!((q.n_responses, q.n_marks), (3, 8));
        assert!(q.alpha.is_some());
        // Deviations: 0, -2, +2, 0, 0 → 90% within 2.
        assert_eq!(q.suggested, Some(2));
        assert_eq!((q.n_compared, q.mean_deviation, q.mean_abs_deviation), (5, Some(0.0), Some(0.8)));
        assert_eq!(q.within_rate, Some(0.6), "0, 0, 0 within ±1; −2 and +2 not");
        assert_eq!((q.pairable, q.complete), (3, 2), "response 1 lacks examiner 2's submitted mark");
        assert_eq!(q.mean_mark, Some(41.0 / 8.0));
        let drivers = q.drivers.as_ref().unwrap();
        assert_eq!(drivers.setters, vec![(1, 1), (2, 1)], "examiners 1 (−2) and 2 (+2) set ±2");
        assert!(drivers.lowered_without.is_empty(), "neither alone holds it up");
    }

    #[test]
    fn an_empty_meeting_has_no_made_up_numbers() {
        let mut d = data();
        d.cells.clear();
        let s = compute(&d);
        assert_eq!(s.responses[0].summary.mean, None);
        assert_eq!(s.questions[0].alpha, None);
        assert_eq!(s.questions[0].icc, None);
        assert_eq!(s.examiners[0].stats.mean_deviation, None);
        assert_eq!(s.questions[0].suggested, None);
    }
}
