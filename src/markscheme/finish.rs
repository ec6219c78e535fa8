//! Final assembly of a question: chooses its kind, its maximum mark and its
//! levels, and reports what could not be determined.

use super::build::{QuestionBuilder, ao_bands_from, empty_question, to_levels};
use super::model::{Level, Problem, Question, QuestionKind};

/// Joins Markdown lines, dropping leading/trailing blank lines and runs of blanks.
pub(crate) fn tidy_md(lines: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for l in lines {
        let l = l.trim_end();
        if l.trim().is_empty() && out.last().is_none_or(|p| p.trim().is_empty()) {
            continue;
        }
        out.push(l);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// The generic grid printed once before the questions (OxfordAQA style), if any.
pub(crate) fn generic_grid(pre: QuestionBuilder, problems: &mut Vec<Problem>) -> Option<Vec<Level>> {
    let p = pre.into_parts();
    problems.extend(p.problems);
    let line = p.bands.first().map_or(1, |b| b.1);
    let hits: Vec<_> = p.bands.into_iter().map(|b| b.0).collect();
    (!hits.is_empty()).then(|| to_levels(hits, "the generic level grid", line, problems))
}

/// Turns a builder into a question, reporting what is missing.
pub(crate) fn finish_question(q: QuestionBuilder, grid: Option<&[Level]>, problems: &mut Vec<Problem>) -> Question {
    let p = q.into_parts();
    problems.extend(p.problems);
    let what = format!("question {}", p.number);
    let start = p.span.start;
    let mut out = empty_question(p.number.clone());
    out.prompt = p.prompt;
    out.targets = p.targets;
    out.indicative_content = tidy_md(&p.indicative);
    out.source = Some(p.span);
    let band_line = p.bands.first().map_or(start, |b| b.1);
    let mut max_mark = p.max_mark;
    let grids = ao_bands_from(p.ao_grids, &what, start, problems);
    if grids.len() == 1 && p.bands.is_empty() {
        // A grid for a single AO is an ordinary levels grid.
        for g in grids {
            for t in g.targets {
                if !out.targets.contains(&t) {
                    out.targets.push(t);
                }
            }
            out.levels = g.levels;
        }
    } else if !grids.is_empty() {
        out.kind = QuestionKind::AoBands;
        for t in grids.iter().flat_map(|g| g.targets.iter()) {
            if !out.targets.contains(t) {
                out.targets.push(t.clone());
            }
        }
        if max_mark.is_none() {
            let sum: i32 = grids.iter().map(|g| g.levels.iter().map(|l| l.max).max().unwrap_or(0)).sum();
            problems.push(Problem {
                line: start,
                message: format!(
                    "no total printed for {what}: taken as {sum}, the sum of its objectives' grids; check it against the question paper"
                ),
            });
            max_mark = Some(sum);
        }
        out.ao_bands = grids;
    } else if !p.bands.is_empty() {
        out.levels = to_levels(p.bands.into_iter().map(|b| b.0).collect(), &what, band_line, problems);
    } else if p.points_hint || max_mark == Some(1) {
        out.kind = QuestionKind::Points;
        max_mark = max_mark.or(p.up_to);
    } else if let Some(g) = grid {
        let top = g.iter().map(|l| l.max).max().unwrap_or(0);
        match max_mark {
            Some(m) if m != top => problems.push(Problem {
                line: start,
                message: format!("{what} is worth {m} marks but the generic level grid goes up to {top}; no bands applied"),
            }),
            _ => out.levels = g.to_vec(),
        }
    } else {
        problems
            .push(Problem { line: start, message: format!("no mark bands found for {what}, and no \"1 mark for each ...\" rule either") });
    }
    if out.kind == QuestionKind::Levels && max_mark.is_none() {
        // The top of a levels grid is the question's maximum by definition, but
        // a total not printed is a guess to check, not a fact read.
        max_mark = out.levels.iter().map(|l| l.max).max();
        if let Some(m) = max_mark {
            problems.push(Problem {
                line: start,
                message: format!(
                    "no total printed for {what}: taken as {m}, the top of its level grid; check it against the question paper"
                ),
            });
        }
    }
    match max_mark {
        Some(m) => out.max_mark = m,
        None => problems.push(Problem { line: start, message: format!("no maximum mark found for {what}") }),
    }
    out
}
