//! A scheme written back out as a document, in the layout of the boards'
//! levels-of-response schemes that the importer reads (cover, generic
//! guidance, then each question with its target, levels table and indicative
//! content), so the final, amended scheme can be published and imported again.

use std::fmt::Write;

use super::model::{QuestionKind, Scheme};

/// The scheme as a Markdown document the importer reads back to the same structure.
pub fn to_markdown(s: &Scheme) -> String {
    let mut out = String::new();
    let p = &s.paper;
    if !p.board.is_empty() {
        let _ = writeln!(out, "**{}**\n", p.board);
    }
    let _ = writeln!(out, "**{}**\n", p.series);
    let _ = writeln!(out, "**{}: {}**\n", p.code, p.title);
    out.push_str("***Mark Scheme***\n\n");
    if !s.guidance.trim().is_empty() {
        out.push_str(s.guidance.trim());
        out.push_str("\n\n");
    }
    out.push_str("---\n\n");
    let _ = writeln!(out, "{}\n", p.series);
    let _ = writeln!(out, "**{}: {}**\n", p.code, p.title);
    for (i, q) in s.questions.iter().enumerate() {
        let _ = writeln!(out, "**Question {}**\n", i + 1);
        let _ = writeln!(out, "**{}** {} ({} marks)\n", q.number, q.prompt.trim(), q.max_mark);
        if !q.targets.is_empty() {
            let _ = writeln!(out, "*Target: {}*\n", q.targets.join(", "));
        }
        if q.kind == QuestionKind::Levels && !q.levels.is_empty() {
            out.push_str("**Levels Mark Scheme**\n\n");
            for l in &q.levels {
                let descriptor = l.descriptor.replace(['\n', '\t'], " ");
                let range = if l.min == l.max { l.min.to_string() } else { format!("{}-{}", l.min, l.max) };
                if l.level == 0 {
                    let _ = writeln!(out, "\t{descriptor}\t<b>{range}</b>");
                } else {
                    let _ = writeln!(out, "<b>L{}:</b>\t{descriptor}\t<b>{range}</b>", l.level);
                }
            }
            out.push('\n');
        }
        if !q.indicative_content.trim().is_empty() {
            out.push_str("**Indicative content**\n\n");
            out.push_str(q.indicative_content.trim());
            out.push_str("\n\n");
        }
        out.push_str("---\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markscheme::parse;

    /// The scheme without where its parts came from in a document.
    fn content(mut s: Scheme) -> Scheme {
        for q in &mut s.questions {
            q.source = None;
        }
        s
    }

    #[test]
    fn the_sample_paper_round_trips() {
        let original =
            content(parse(include_str!("../../tests/fixtures/markschemes/standardise-sample-history.md")).into_result().unwrap());
        let mut with_board = original.clone();
        with_board.paper.board = "Standardise Sample Papers".into();
        let written = to_markdown(&with_board);
        let back = parse(&written);
        assert!(back.problems.is_empty(), "{:?}\n{written}", back.problems);
        let back = content(back.scheme);
        assert_eq!(back.paper.code, original.paper.code);
        assert_eq!(back.paper.title, original.paper.title);
        assert_eq!(back.paper.series, original.paper.series);
        assert_eq!(back.guidance, original.guidance);
        assert_eq!(back.questions, original.questions);
    }
}
