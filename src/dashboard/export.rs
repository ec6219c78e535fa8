//! Exports of the marks matrix and the examiner statistics: CSV, and one
//! Excel workbook with both.

use rust_xlsxwriter::{Format, Workbook};

use super::{
    compute::MeetingStats,
    data::{GridCell, MeetingData},
};
use crate::error::AppError;

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

/// Rows as CSV.
pub fn to_csv(rows: &[Vec<String>]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row).map_err(internal)?;
    }
    w.into_inner().map_err(internal)
}

/// Both tables as an Excel workbook; numbers are written as numbers.
pub fn to_xlsx(data: &MeetingData, stats: &MeetingStats) -> Result<Vec<u8>, AppError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for (name, rows) in [("Marks", matrix_rows(data)), ("Examiners", examiner_rows(data, stats))] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(internal)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r).map_err(internal)?;
            for (c, value) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(internal)?;
                if r == 0 {
                    sheet.write_string_with_format(r, c, value, &bold).map_err(internal)?;
                } else if let Ok(n) = value.parse::<f64>() {
                    sheet.write_number(r, c, n).map_err(internal)?;
                } else {
                    sheet.write_string(r, c, value).map_err(internal)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(internal)?;
    }
    book.save_to_buffer().map_err(internal)
}
