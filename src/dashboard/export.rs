//! Exports of the marks matrix and the examiner statistics: CSV, and one
//! Excel workbook with both.

use rust_xlsxwriter::{Format, Workbook};

use super::{
    compute::MeetingStats,
    data::{FullMark, GridCell, MeetingData},
};
use crate::{
    error::AppError,
    marking::{
        MarkState,
        rules::{parts_text, tolerance_in_force, within_tolerance},
    },
};

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("export: {e}"))
}

/// The matrix as rows: a header, then one row per response.
pub fn matrix_rows(data: &MeetingData) -> Vec<Vec<String>> {
    let mut grid: Vec<Vec<GridCell>> = vec![vec![None; data.examiners.len()]; data.responses.len()];
    for c in &data.cells {
        grid[c.response][c.examiner] = Some((c.mark, c.level, c.submitted));
    }
    let mut header = vec!["candidate".to_owned(), "question".to_owned(), "purpose".to_owned(), "definitive".to_owned()];
    header.extend(data.examiners.iter().map(|e| e.email.clone()));
    let mut rows = vec![header];
    for (i, r) in data.responses.iter().enumerate() {
        let mut row = vec![
            r.candidate.clone(),
            data.questions[r.question].number.clone(),
            r.purpose.to_string(),
            data.definitive[i].map(|d| d.mark.to_string()).unwrap_or_default(),
        ];
        row.extend(grid[i].iter().map(|cell| match cell {
            Some((mark, _, true)) => mark.to_string(),
            Some((mark, _, false)) => format!("{mark} (draft)"),
            None => String::new(),
        }));
        rows.push(row);
    }
    rows
}

/// Every mark in full as rows, one per examiner and response: level, mark,
/// the parts of a question marked per objective, the definitive mark beside
/// it, and the rationale. Drafts are listed but not compared.
pub fn full_rows(marks: &[FullMark]) -> Vec<Vec<String>> {
    let header = [
        "candidate",
        "question",
        "purpose",
        "examiner",
        "name",
        "state",
        "level",
        "mark",
        "parts",
        "definitive_level",
        "definitive_mark",
        "definitive_parts",
        "difference",
        "tolerance",
        "within_tolerance",
        "rationale",
    ];
    let opt = |x: Option<i32>| x.map(|v| v.to_string()).unwrap_or_default();
    let mut rows = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    for m in marks {
        let tolerance = tolerance_in_force(m.tolerance, m.max_mark);
        let difference = m.definitive_mark.filter(|_| m.state == MarkState::Submitted).map(|d| m.mark - d);
        rows.push(vec![
            m.candidate.clone(),
            m.question.clone(),
            m.purpose.to_string(),
            m.email.clone(),
            m.name.clone(),
            m.state.to_string(),
            opt(m.level),
            m.mark.to_string(),
            parts_text(&m.parts),
            opt(m.definitive_level),
            opt(m.definitive_mark),
            m.definitive_parts.as_ref().map(|p| parts_text(p)).unwrap_or_default(),
            opt(difference),
            tolerance.to_string(),
            difference.map(|d| if within_tolerance(d, tolerance) { "yes" } else { "no" }.to_owned()).unwrap_or_default(),
            m.comment.clone(),
        ]);
    }
    rows
}

fn fmt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_default()
}

/// The examiner statistics as rows: a header, then one row per examiner.
pub fn examiner_rows(data: &MeetingData, stats: &MeetingStats) -> Vec<Vec<String>> {
    let mut header: Vec<String> = [
        "examiner",
        "name",
        "marks_compared",
        "mean_deviation",
        "mean_abs_deviation",
        "sd_deviation",
        "within_tolerance_rate",
        "level_agreement_rate",
        "flags",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    header.extend(data.questions.iter().map(|q| format!("kappa_{}", q.number)));
    let mut rows = vec![header];
    for (e, s) in data.examiners.iter().zip(&stats.examiners) {
        let mut row = vec![
            e.email.clone(),
            e.name.clone(),
            s.stats.n.to_string(),
            fmt(s.stats.mean_deviation),
            fmt(s.stats.mean_abs_deviation),
            fmt(s.stats.sd_deviation),
            fmt(s.stats.within_tolerance_rate),
            fmt(s.stats.level_agreement_rate),
            s.flag_reasons.join("; "),
        ];
        row.extend(s.kappa.iter().map(|(k, n)| if *n < super::compute::MIN_KAPPA_N { "n too small".into() } else { fmt(*k) }));
        rows.push(row);
    }
    rows
}

/// True for a number as the exports write one (`3`, `-2`, `0.125`, `-0.500`):
/// an optional minus sign, digits, optionally a point and more digits, and no
/// leading zero to lose (`01`, `0001` stay text, as questions and candidates).
pub fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// A cell as a spreadsheet may safely open it. Text beginning with `=`, `+`,
/// `-`, `@`, a tab or a carriage return would be read as a formula (CSV
/// injection), so it gets a leading `'` as OWASP advises; numbers (`-2`) stay
/// numbers. Every CSV the application writes goes through [`to_csv`], which
/// applies this to every cell.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(cell) { format!("'{cell}").into() } else { cell.into() }
}

/// Rows as CSV, every cell made [`spreadsheet_safe`]: the one CSV writer of the
/// application (marks, examiners, the audit log).
pub fn to_csv<R: AsRef<[C]>, C: AsRef<str>>(rows: &[R]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        let cells: Vec<String> = row.as_ref().iter().map(|c| spreadsheet_safe(c.as_ref()).into_owned()).collect();
        w.write_record(&cells).map_err(internal)?;
    }
    w.into_inner().map_err(internal)
}

/// The three tables as an Excel workbook; numbers are written as numbers, everything
/// else as strings (which Excel never evaluates as formulas).
pub fn to_xlsx(data: &MeetingData, stats: &MeetingStats, marks: &[FullMark]) -> Result<Vec<u8>, AppError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for (name, rows) in [("Marks", matrix_rows(data)), ("Examiners", examiner_rows(data, stats)), ("Every mark", full_rows(marks))] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(internal)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r).map_err(internal)?;
            for (c, value) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(internal)?;
                if r == 0 {
                    sheet.write_string_with_format(r, c, value, &bold).map_err(internal)?;
                } else if let Some(n) = value.parse::<f64>().ok().filter(|_| is_plain_number(value)) {
                    sheet.write_number(r, c, n).map_err(internal)?;
                } else {
                    // A string cell is never evaluated, so text starting with `=` is safe here
                    // as it is; candidate "0001" and question "01" keep their zeros.
                    sheet.write_string(r, c, value).map_err(internal)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(internal)?;
    }
    book.save_to_buffer().map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_numbers_stay_numbers() {
        for risky in ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-", "--2", "-inf", "-2e5"] {
            assert_eq!(spreadsheet_safe(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in ["-2", "-0.500", "3", "0", "0.125", "0001", "Eve", "a=b", "", "'quoted"] {
            assert_eq!(spreadsheet_safe(safe), safe, "{safe:?}");
        }
    }

    #[test]
    fn plain_numbers() {
        for n in ["0", "7", "-2", "12.5", "-0.500", "0.125"] {
            assert!(is_plain_number(n), "{n}");
        }
        for t in ["", "-", "01", "0001", "1e5", "inf", "NaN", "1.", ".5", "+1", "1 (draft)", "1,000"] {
            assert!(!is_plain_number(t), "{t}");
        }
    }

    #[test]
    fn every_csv_cell_is_made_safe() {
        let csv = to_csv(&[["name", "mark"], ["=cmd|' /C calc'!A0", "-2"]]).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text, "name,mark\n'=cmd|' /C calc'!A0,-2\n");
    }
}
