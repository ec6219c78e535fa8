//! Exports of the marks matrix, the examiner and question statistics and every
//! mark in full: CSV, and one Excel workbook with them all. Each carries the
//! judgement as well as the numbers: levels beside marks, examiners by name,
//! flags, who drives a suggested tolerance, and why a figure is missing.

use rust_xlsxwriter::{Format, Workbook};

use super::{
    compute::{MIN_KAPPA_N, MeetingStats},
    data::{FullMark, GridCell, MeetingData},
    explain::{Gap, suggestion_words},
    view::icc_fig,
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

/// Rows of the marks matrix above its data: examiners by name, then by email.
pub const MATRIX_HEADER_ROWS: usize = 2;

/// The matrix as rows: two heading rows, then one row per response. Each
/// examiner has two columns, their mark and their level, so both stay numbers in
/// a spreadsheet; a draft says so (and is not a number: statistics leave it out).
/// The first heading row names the examiners as the principal examiner knows
/// them; the second gives their emails, which tell apart two of the same name
/// (a second row rather than "Name <email>", so the email stays a cell of its own).
pub fn matrix_rows(data: &MeetingData) -> Vec<Vec<String>> {
    let mut grid: Vec<Vec<GridCell>> = vec![vec![None; data.examiners.len()]; data.responses.len()];
    for c in &data.cells {
        grid[c.response][c.examiner] = Some((c.mark, c.level, c.submitted));
    }
    let mut header = ["candidate", "question", "purpose", "definitive", "definitive_level"].map(str::to_owned).to_vec();
    let mut emails = vec![String::new(); header.len()];
    for e in &data.examiners {
        header.extend([e.name.clone(), format!("{} level", e.name)]);
        emails.extend([e.email.clone(), e.email.clone()]);
    }
    let mut rows = vec![header, emails];
    for (i, r) in data.responses.iter().enumerate() {
        let mut row = vec![
            r.candidate.clone(),
            data.questions[r.question].number.clone(),
            r.purpose.to_string(),
            data.definitive[i].map(|d| d.mark.to_string()).unwrap_or_default(),
            data.definitive[i].and_then(|d| d.level).map(|l| l.to_string()).unwrap_or_default(),
        ];
        for cell in &grid[i] {
            let (mark, level) = match cell {
                Some((mark, level, true)) => (mark.to_string(), level.map(|l| l.to_string()).unwrap_or_default()),
                Some((mark, level, false)) => (format!("{mark} (draft)"), level.map(|l| format!("{l} (draft)")).unwrap_or_default()),
                None => (String::new(), String::new()),
            };
            row.extend([mark, level]);
        }
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
    for q in &data.questions {
        header.extend([format!("kappa_{}", q.number), format!("kappa_{}_marks", q.number)]);
    }
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
        // κ stays a number or blank; the count beside it says why a blank is one
        // (fewer than MIN_KAPPA_N marks), so the column can be sorted and averaged.
        for &(k, n) in &s.kappa {
            row.extend([fmt(k.filter(|_| n >= MIN_KAPPA_N)), n.to_string()]);
        }
        rows.push(row);
    }
    rows
}

/// The question statistics as rows: a header, then one row per question, with
/// who sets the suggested tolerance and, for each figure left blank, why.
pub fn question_rows(data: &MeetingData, stats: &MeetingStats) -> Vec<Vec<String>> {
    let header = [
        "question",
        "max_mark",
        "tolerance",
        "responses",
        "marks_submitted",
        "mean_mark",
        "sd_mark",
        "marks_compared",
        "mean_deviation",
        "sd_deviation",
        "mean_abs_deviation",
        "within_tolerance_rate",
        "suggested_tolerance",
        "suggestion_set_by",
        "suggestion_warning",
        "krippendorff_alpha",
        "icc_a1",
        "icc_responses_used",
        "kappa_median",
        "kappa_examiners",
        "why_blank",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for (q, (info, s)) in data.questions.iter().zip(&stats.questions).enumerate() {
        let kappas: Vec<f64> =
            stats.examiners.iter().filter_map(|e| e.kappa.get(q)).filter(|(_, n)| *n >= MIN_KAPPA_N).filter_map(|(k, _)| *k).collect();
        let name = |e: usize| data.examiners.get(e).map(|x| x.name.clone()).unwrap_or_default();
        let words = s.drivers.as_ref().map(|d| suggestion_words(d, name)).unwrap_or_default();
        // Why each blank is blank, in the dashboard's words.
        let alpha_gap = if s.pairable == 0 { Gap::AlphaFew } else { Gap::NoVariation };
        let mut why: Vec<String> = [
            ("mean_deviation", s.mean_deviation.is_none().then_some(Gap::NoneCompared)),
            ("krippendorff_alpha", s.alpha.is_none().then_some(alpha_gap)),
            ("icc_a1", icc_fig(s.icc, s.complete, data.examiners.len()).gap),
        ]
        .iter()
        .filter_map(|(column, gap)| gap.map(|g| format!("{column}: {}", g.title())))
        .collect();
        if kappas.is_empty() {
            why.push(format!("kappa_median: no examiner has the {MIN_KAPPA_N} marks compared that κ needs"));
        }
        rows.push(vec![
            info.number.clone(),
            info.max_mark.to_string(),
            info.tolerance.to_string(),
            s.n_responses.to_string(),
            s.n_marks.to_string(),
            fmt(s.mean_mark),
            fmt(s.sd_mark),
            s.n_compared.to_string(),
            fmt(s.mean_deviation),
            fmt(s.sd_deviation),
            fmt(s.mean_abs_deviation),
            fmt(s.within_rate),
            s.suggested.map(|t| t.to_string()).unwrap_or_default(),
            words.set_by.unwrap_or_default(),
            words.warning.unwrap_or_default(),
            fmt(s.alpha),
            fmt(s.icc),
            s.complete.to_string(),
            fmt(crate::stats::median(&kappas)),
            kappas.len().to_string(),
            why.join("; "),
        ]);
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

/// The four tables as an Excel workbook, a sheet each; numbers are written as
/// numbers, everything else as strings (which Excel never evaluates as formulas).
pub fn to_xlsx(data: &MeetingData, stats: &MeetingStats, marks: &[FullMark]) -> Result<Vec<u8>, AppError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for (name, rows, headings) in [
        ("Marks", matrix_rows(data), MATRIX_HEADER_ROWS),
        ("Examiners", examiner_rows(data, stats), 1),
        ("Questions", question_rows(data, stats), 1),
        ("Every mark", full_rows(marks), 1),
    ] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(internal)?;
        let headings = u32::try_from(headings).map_err(internal)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r).map_err(internal)?;
            for (c, value) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(internal)?;
                if r < headings {
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
        // The heading rows and the first column (candidate, question, examiner) stay in view.
        sheet.set_freeze_panes(headings, 1).map_err(internal)?;
        // Wide enough to read, not so wide that a long rationale fills the screen.
        sheet.autofit_to_max_width(320);
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

    fn meeting() -> (MeetingData, MeetingStats) {
        use crate::{
            dashboard::data::{Cell, Def, ExaminerInfo, QuestionInfo, ResponseInfo},
            meetings::Purpose,
            scripts::ResponseId,
            users::UserId,
        };
        let data = MeetingData {
            questions: vec![QuestionInfo { number: "01".into(), max_mark: 12, tolerance: 1, levels: vec![] }],
            responses: (0..2)
                .map(|i| ResponseInfo {
                    id: ResponseId::new_v4(),
                    candidate: format!("000{i}"),
                    question: 0,
                    purpose: Purpose::Practice,
                    released: false,
                })
                .collect(),
            examiners: [("Eve Examiner", "ex1@x"), ("Ed Erratic", "ex2@x")]
                .map(|(name, email)| ExaminerInfo { id: UserId::new_v4(), email: email.into(), name: name.into(), team_leader: None })
                .to_vec(),
            cells: vec![
                Cell { response: 0, examiner: 0, level: Some(3), mark: 8, submitted: true },
                Cell { response: 0, examiner: 1, level: Some(4), mark: 11, submitted: true },
                Cell { response: 1, examiner: 0, level: Some(2), mark: 5, submitted: false },
            ],
            definitive: vec![Some(Def { level: Some(3), mark: 8 }), None],
        };
        let stats = super::super::compute::compute(&data);
        (data, stats)
    }

    #[test]
    fn the_matrix_has_levels_beside_marks_under_names_and_emails() {
        let (data, _) = meeting();
        let rows = matrix_rows(&data);
        assert_eq!(rows.len(), MATRIX_HEADER_ROWS + 2);
        assert_eq!(rows[0][5..], ["Eve Examiner", "Eve Examiner level", "Ed Erratic", "Ed Erratic level"]);
        assert_eq!(rows[1], ["", "", "", "", "", "ex1@x", "ex1@x", "ex2@x", "ex2@x"]);
        assert_eq!(rows[2], ["0000", "01", "practice", "8", "3", "8", "3", "11", "4"]);
        assert_eq!(rows[3], ["0001", "01", "practice", "", "", "5 (draft)", "2 (draft)", "", ""]);
    }

    #[test]
    fn question_statistics_say_who_drives_the_suggestion_and_why_a_figure_is_blank() {
        let (data, stats) = meeting();
        let rows = question_rows(&data, &stats);
        let row: std::collections::HashMap<&str, &str> =
            rows[0].iter().map(String::as_str).zip(rows[1].iter().map(String::as_str)).collect();
        assert_eq!((row["marks_submitted"], row["marks_compared"], row["mean_deviation"]), ("2", "2", "1.500"));
        assert_eq!((row["within_tolerance_rate"], row["suggested_tolerance"]), ("0.500", "3"));
        assert_eq!(row["suggestion_warning"], "±3 is driven by Ed Erratic alone: without Ed Erratic's marks it would be ±0.");
        assert_eq!(row["icc_a1"], "");
        assert!(row["why_blank"].contains("icc_a1: 1 response marked by all 2 examiners; ICC needs 2"), "{}", row["why_blank"]);
        assert!(row["why_blank"].contains("kappa_median: no examiner has the 5 marks compared that κ needs"));
    }

    #[test]
    fn the_workbook_has_a_sheet_per_table() {
        let (data, stats) = meeting();
        let xlsx = to_xlsx(&data, &stats, &[]).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut workbook = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut workbook).unwrap();
        for name in ["Marks", "Examiners", "Questions", "Every mark"] {
            assert!(workbook.contains(&format!("<sheet name=\"{name}\"")), "{name}: {workbook}");
        }
    }

    #[test]
    fn every_csv_cell_is_made_safe() {
        let csv = to_csv(&[["name", "mark"], ["=cmd|' /C calc'!A0", "-2"]]).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text, "name,mark\n'=cmd|' /C calc'!A0,-2\n");
    }
}
