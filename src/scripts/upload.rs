//! Reading uploaded candidate scripts: one form, a CSV or a ZIP. Pure: no
//! database, no HTTP. Files are checked by content, not by name, and a bulk
//! upload is read completely before anything is saved: every bad row (or file
//! of a ZIP) is reported at once with its row number (or name), so a file is
//! put right in one go, and one bad row still rejects the whole file.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    io::{Cursor, Read},
};

/// A file attached to a response (a scan of a handwritten answer).
#[derive(Debug, Clone, PartialEq)]
pub struct FileUpload {
    /// Detected from the bytes: application/pdf, image/png or image/jpeg.
    pub content_type: &'static str,
    /// The name it was uploaded with (for downloads).
    pub filename: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// One response of an uploaded script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseUpload {
    /// Question number as on the paper.
    pub question: String,
    /// Typed answer.
    pub text: Option<String>,
    /// Scanned answer.
    pub file: Option<FileUpload>,
    /// Where it came from, for messages ("row 4", "0001/02.txt").
    pub origin: String,
}

/// One uploaded script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScriptUpload {
    /// Anonymous candidate number.
    pub candidate: String,
    /// Its responses.
    pub responses: Vec<ResponseUpload>,
}

/// Largest single file inside a ZIP, uncompressed.
pub const MAX_ZIP_ENTRY: u64 = 10 * 1024 * 1024;
/// Largest total inside a ZIP, uncompressed (defends against ZIP bombs).
pub const MAX_ZIP_TOTAL: u64 = 200 * 1024 * 1024;
/// Most files in one ZIP.
pub const MAX_ZIP_ENTRIES: usize = 20_000;

/// The type of a scanned answer, from its first bytes; None when it is none of ours.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else {
        None
    }
}

/// True when the bytes are a ZIP archive.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Checks a candidate number: 1–32 letters, digits, `-` or `_`, no names.
pub fn check_candidate(raw: &str) -> Result<String, String> {
    let c = raw.trim();
    let ok = !c.is_empty()
        && c.len() <= 32
        && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        && c.chars().next().is_some_and(|ch| ch.is_ascii_alphanumeric());
    if ok {
        Ok(c.to_owned())
    } else {
        Err(format!("\"{c}\" is not a candidate number: use 1 to 32 letters, digits, - or _ (anonymous numbers such as 0001, not names)"))
    }
}

fn text_of(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).ok().filter(|t| !t.contains('\0')).map(str::to_owned)
}

/// Most problems listed for one upload; the rest are only counted.
pub const MAX_PROBLEMS: usize = 100;

/// Every problem found in an upload, in the order found, each naming its row
/// or file. Keeps the first [`MAX_PROBLEMS`] and counts the rest, so a file of
/// a million bad rows cannot fill the memory with messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problems {
    listed: Vec<String>,
    more: usize,
}

impl Problems {
    /// Notes one problem.
    pub fn push(&mut self, problem: impl Into<String>) {
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(problem.into());
        } else {
            self.more += 1;
        }
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// How many problems were found, listed or not.
    pub fn len(&self) -> usize {
        self.listed.len() + self.more
    }

    /// The problems to show: those kept, then "…and N more problems." when some were not.
    pub fn into_lines(self) -> Vec<String> {
        let mut lines = self.listed;
        match self.more {
            0 => {}
            1 => lines.push("…and 1 more problem.".to_owned()),
            n => lines.push(format!("…and {n} more problems.")),
        }
        lines
    }
}

impl From<String> for Problems {
    fn from(problem: String) -> Self {
        let mut problems = Problems::default();
        problems.push(problem);
        problems
    }
}

/// A bulk file as read: the scripts of its good rows (or files), and the
/// problems of the others. Nothing is saved unless `problems` is empty.
#[derive(Debug, Default)]
pub struct Bulk {
    /// The scripts read from the rows without problems.
    pub scripts: Vec<ScriptUpload>,
    /// Every problem found, each naming its row or file.
    pub problems: Problems,
}

fn not_on_paper(question: &str, questions: &[String]) -> String {
    format!("question {question} is not on this paper (its questions are {})", questions.join(", "))
}

/// Reads a CSV with the header `candidate,question,response` (responses may
/// span lines inside quotes), checking every row against the paper's
/// `questions`. Row numbers are as a spreadsheet shows them. `Err` only when
/// the file as a whole cannot be read; bad rows are in [`Bulk::problems`].
pub fn parse_csv(bytes: &[u8], questions: &[String]) -> Result<Bulk, String> {
    let text = text_of(bytes).ok_or("The CSV file is not text (UTF-8). Save it from your spreadsheet as \"CSV UTF-8\".")?;
    // Flexible, so a row with the wrong number of columns is one more problem
    // to report rather than the end of the reading.
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("Row 1: the header could not be read ({e})."))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    if headers != ["candidate", "question", "response"] {
        return Err(format!("Row 1: the header must be exactly candidate,question,response (found {}).", headers.join(",")));
    }
    let mut scripts: BTreeMap<String, ScriptUpload> = BTreeMap::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut problems = Problems::default();
    let mut rows = 0;
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        rows += 1;
        let record = match record {
            Ok(r) if r.len() == 3 => r,
            Ok(r) => {
                problems.push(format!(
                    "Row {row}: it has {} columns, not 3 (candidate, question, response). Check its quotes and commas.",
                    r.len()
                ));
                continue;
            }
            Err(e) => {
                problems.push(format!("Row {row}: {e}. Check its quotes and that it has three columns."));
                continue;
            }
        };
        let mut bad = false;
        let mut problem = |p: String| {
            problems.push(format!("Row {row}: {p}."));
            bad = true;
        };
        let candidate = if record[0].trim().is_empty() {
            problem("the candidate number is missing".into());
            None
        } else {
            check_candidate(&record[0]).map_err(&mut problem).ok()
        };
        let question = record[1].trim().to_owned();
        if question.is_empty() {
            problem("the question number is missing".into());
        } else if !questions.contains(&question) {
            problem(not_on_paper(&question, questions));
        }
        let response = record[2].trim();
        if response.is_empty() {
            let whose = candidate.as_deref().map(|c| format!(" of candidate {c}")).unwrap_or_default();
            let to = if question.is_empty() { String::new() } else { format!(" to question {question}") };
            problem(format!("the response{whose}{to} is empty"));
        }
        let Some(candidate) = candidate.filter(|_| !bad) else { continue };
        if let Some(first) = seen.get(&(candidate.clone(), question.clone())) {
            problems.push(format!("Row {row}: candidate {candidate} already has a response to question {question} (row {first})."));
            continue;
        }
        seen.insert((candidate.clone(), question.clone()), row);
        scripts
            .entry(candidate.clone())
            .or_insert_with(|| ScriptUpload { candidate, ..Default::default() })
            .responses
            .push(ResponseUpload { question, text: Some(response.to_owned()), file: None, origin: format!("row {row}") });
    }
    if rows == 0 {
        return Err("The CSV file has a header but no rows.".into());
    }
    Ok(Bulk { scripts: scripts.into_values().collect(), problems })
}

/// What one file of a ZIP holds.
enum Answer {
    Text(String),
    File(FileUpload),
}

/// The candidate, question and extension a ZIP entry's name gives, after
/// checking them; `None` when the name has problems (noted in `problems`).
fn zip_entry_name(
    raw: &str,
    enclosed: Option<std::path::PathBuf>,
    questions: &[String],
    problems: &mut Problems,
) -> Option<(String, String, String, String)> {
    // Refuse anything that would leave the folder, whatever the OS.
    let escapes = raw.starts_with('/') || raw.contains('\\') || raw.split('/').any(|part| part == "..");
    let Some(path) = enclosed.filter(|_| !escapes) else {
        problems.push(format!("{raw}: file names that point outside the ZIP's folder are refused."));
        return None;
    };
    let parts: Vec<String> = path.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let [candidate, file] = parts.as_slice() else {
        problems.push(format!("{raw}: files must be named <candidate>/<question>.txt, .pdf, .png or .jpg."));
        return None;
    };
    let Some((question, ext)) = file.rsplit_once('.') else {
        problems.push(format!("{raw}: the file has no extension; use .txt, .pdf, .png or .jpg."));
        return None;
    };
    let ext = ext.to_ascii_lowercase();
    let mut ok = true;
    if !matches!(ext.as_str(), "txt" | "pdf" | "png" | "jpg" | "jpeg") {
        problems.push(format!("{raw}: .{ext} files are not accepted; use .txt, .pdf, .png or .jpg."));
        ok = false;
    }
    let candidate = match check_candidate(candidate) {
        Ok(c) => Some(c),
        Err(e) => {
            problems.push(format!("{raw}: {e}."));
            None
        }
    };
    if !questions.iter().any(|q| q == question) {
        problems.push(format!("{raw}: {}.", not_on_paper(question, questions)));
        ok = false;
    }
    candidate.filter(|_| ok).map(|c| (c, question.to_owned(), ext, file.clone()))
}

/// The answer in a ZIP entry's bytes, checked against its extension.
fn zip_answer(raw: &str, candidate: &str, file: &str, ext: &str, data: Vec<u8>) -> Result<Answer, String> {
    if ext == "txt" {
        let text = text_of(&data).ok_or_else(|| format!("{raw}: is not a text file (UTF-8)."))?;
        if text.trim().is_empty() {
            return Err(format!("{raw}: is empty."));
        }
        return Ok(Answer::Text(text.trim().to_owned()));
    }
    let expected = match ext {
        "pdf" => "application/pdf",
        "png" => "image/png",
        _ => "image/jpeg",
    };
    if sniff(&data) != Some(expected) {
        return Err(format!("{raw}: is not really a .{ext} file (checked by its content)."));
    }
    Ok(Answer::File(FileUpload { content_type: expected, filename: format!("{candidate}-{file}"), bytes: data }))
}

/// Reads a ZIP of `<candidate>/<question>.txt|.pdf|.png|.jpg` files, checking
/// every file against the paper's `questions`. `Err` only when the archive as
/// a whole cannot be read or is too large; bad files are in [`Bulk::problems`].
pub fn parse_zip(bytes: &[u8], questions: &[String]) -> Result<Bulk, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("The ZIP file cannot be opened: {e}."))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!("The ZIP file holds {} files; at most {MAX_ZIP_ENTRIES} are accepted.", archive.len()));
    }
    let mut scripts: BTreeMap<String, ScriptUpload> = BTreeMap::new();
    let mut seen: HashSet<(String, String, bool)> = HashSet::new();
    let mut problems = Problems::default();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| format!("The ZIP file is damaged: {e}."))?;
        let raw = entry.name().to_owned();
        if entry.is_dir() || raw.starts_with("__MACOSX/") || raw.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        let Some((candidate, question, ext, file)) = zip_entry_name(&raw, entry.enclosed_name(), questions, &mut problems) else {
            continue;
        };
        if entry.size() > MAX_ZIP_ENTRY {
            problems.push(format!(
                "{raw}: {} MB is more than the {} MB allowed for one answer.",
                entry.size() / 1_048_576,
                MAX_ZIP_ENTRY / 1_048_576
            ));
            continue;
        }
        // Never trust the declared size: read at most one byte past the limit.
        let mut data = Vec::new();
        if let Err(e) = (&mut entry).take(MAX_ZIP_ENTRY + 1).read_to_end(&mut data) {
            problems.push(format!("{raw}: cannot be read from the ZIP file ({e})."));
            continue;
        }
        if data.len() as u64 > MAX_ZIP_ENTRY {
            problems.push(format!("{raw}: expands to more than the {} MB allowed for one answer.", MAX_ZIP_ENTRY / 1_048_576));
            continue;
        }
        // The whole archive's size ends the reading: going on is what a ZIP bomb wants.
        total += data.len() as u64;
        if total > MAX_ZIP_TOTAL {
            return Err(format!("The ZIP file expands to more than {} MB; split it into smaller uploads.", MAX_ZIP_TOTAL / 1_048_576));
        }
        let answer = match zip_answer(&raw, &candidate, &file, &ext, data) {
            Ok(a) => a,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let is_text = matches!(answer, Answer::Text(_));
        if !seen.insert((candidate.clone(), question.clone(), is_text)) {
            let what = if is_text { "typed answer" } else { "scanned file" };
            problems.push(format!("{raw}: candidate {candidate} has more than one {what} for question {question}."));
            continue;
        }
        let script =
            scripts.entry(candidate.clone()).or_insert_with(|| ScriptUpload { candidate: candidate.clone(), ..Default::default() });
        let response = match script.responses.iter().position(|r| r.question == question) {
            Some(p) => &mut script.responses[p],
            None => {
                script.responses.push(ResponseUpload { question: question.clone(), origin: raw.clone(), ..Default::default() });
                let last = script.responses.len() - 1;
                &mut script.responses[last]
            }
        };
        match answer {
            Answer::Text(text) => response.text = Some(text),
            Answer::File(file) => response.file = Some(file),
        }
    }
    if scripts.is_empty() && problems.is_empty() {
        return Err("The ZIP file holds no answers: name files <candidate>/<question>.txt, .pdf, .png or .jpg.".into());
    }
    Ok(Bulk { scripts: scripts.into_values().collect(), problems })
}

/// Checks uploads against the paper: every question exists, no candidate is
/// already on the paper or twice in the upload. Notes every problem.
pub fn check_against(uploads: &[ScriptUpload], questions: &[String], existing: &HashSet<String>, problems: &mut Problems) {
    let mut candidates = HashSet::new();
    for script in uploads {
        if existing.contains(&script.candidate) {
            problems.push(format!(
                "Candidate {} already has a script on this paper: candidate numbers are unique per paper.",
                script.candidate
            ));
        }
        if !candidates.insert(&script.candidate) {
            problems.push(format!("Candidate {} appears twice in this upload.", script.candidate));
        }
        if script.responses.is_empty() {
            problems.push(format!("Candidate {} has no responses.", script.candidate));
        }
        for r in &script.responses {
            if !questions.contains(&r.question) {
                problems.push(format!("{}: {}.", capitalise(&r.origin), not_on_paper(&r.question, questions)));
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, data) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    /// The sample paper's questions.
    fn qs() -> Vec<String> {
        vec!["01".to_owned(), "02".to_owned(), "03".to_owned()]
    }

    /// The problems of a CSV, as shown.
    fn csv_problems(csv: &str) -> Vec<String> {
        parse_csv(csv.as_bytes(), &qs()).unwrap().problems.into_lines()
    }

    /// The problems of a ZIP, as shown.
    fn zip_problems(files: &[(&str, &[u8])]) -> Vec<String> {
        parse_zip(&zip_of(files), &qs()).unwrap().problems.into_lines()
    }

    #[test]
    fn csv_with_multiline_responses() {
        let csv = "candidate,question,response\n0001,01,\"First line\nsecond line, with a comma\"\n0001,02,Short\n0002,01,Other\n";
        let read = parse_csv(csv.as_bytes(), &qs()).unwrap();
        assert!(read.problems.is_empty());
        let scripts = read.scripts;
        assert_eq!(scripts.len(), 2);
        assert_eq!(scripts[0].candidate, "0001");
        assert_eq!(scripts[0].responses[0].text.as_deref(), Some("First line\nsecond line, with a comma"));
        assert_eq!(scripts[0].responses[1].origin, "row 3");
    }

    #[test]
    fn a_file_that_cannot_be_read_as_a_whole_is_one_problem() {
        assert!(parse_csv(b"cand,q,r\n1,2,3\n", &qs()).unwrap_err().starts_with("Row 1:"));
        assert!(parse_csv(b"\xFF\xFEnot utf-8", &qs()).unwrap_err().contains("UTF-8"));
        assert_eq!(parse_csv(b"candidate,question,response\n", &qs()).unwrap_err(), "The CSV file has a header but no rows.");
    }

    #[test]
    fn csv_problems_name_the_row() {
        let cases: [(&str, &str); 7] = [
            ("0001,01,ok\n0001,01,again\n", "Row 3: candidate 0001 already has a response to question 01 (row 2)."),
            ("0001,01,ok\nJane Smith,01,x\n", "Row 3: \"Jane Smith\" is not a candidate number"),
            ("0001,01,ok\n0002,01,\n", "Row 3: the response of candidate 0002 to question 01 is empty."),
            ("0001,01,ok,extra\n", "Row 2: it has 4 columns, not 3"),
            (",01,an answer\n", "Row 2: the candidate number is missing."),
            ("0001,,an answer\n", "Row 2: the question number is missing."),
            ("0001,07,an answer\n", "Row 2: question 07 is not on this paper (its questions are 01, 02, 03)."),
        ];
        for (rows, expected) in cases {
            let problems = csv_problems(&format!("candidate,question,response\n{rows}"));
            assert_eq!(problems.len(), 1, "{rows}: {problems:?}");
            assert!(problems[0].starts_with(expected), "{rows}: {problems:?}");
        }
    }

    #[test]
    fn every_bad_row_of_a_csv_is_reported_in_row_order_and_the_good_rows_are_kept() {
        let csv = "candidate,question,response\n\
                   0001,01,fine\n\
                   0001,07,no such question\n\
                   0002,01,fine\n\
                   ,02,no candidate\n\
                   0003,01,\n\
                   0003,02,a,b\n\
                   Jane Smith,09,\n";
        let read = parse_csv(csv.as_bytes(), &qs()).unwrap();
        assert_eq!(read.problems.len(), 7);
        assert_eq!(
            read.problems.into_lines(),
            [
                "Row 3: question 07 is not on this paper (its questions are 01, 02, 03).",
                "Row 5: the candidate number is missing.",
                "Row 6: the response of candidate 0003 to question 01 is empty.",
                "Row 7: it has 4 columns, not 3 (candidate, question, response). Check its quotes and commas.",
                "Row 8: \"Jane Smith\" is not a candidate number: use 1 to 32 letters, digits, - or _ (anonymous numbers such as 0001, not names).",
                "Row 8: question 09 is not on this paper (its questions are 01, 02, 03).",
                "Row 8: the response to question 09 is empty.",
            ]
        );
        let candidates: Vec<&str> = read.scripts.iter().map(|s| s.candidate.as_str()).collect();
        assert_eq!(candidates, ["0001", "0002"]);
    }

    #[test]
    fn problems_past_the_cap_are_counted_not_listed() {
        let mut csv = String::from("candidate,question,response\n");
        for _ in 0..(MAX_PROBLEMS + 40) {
            csv.push_str("0001,99,x\n");
        }
        let read = parse_csv(csv.as_bytes(), &qs()).unwrap();
        assert_eq!(read.problems.len(), MAX_PROBLEMS + 40);
        let lines = read.problems.into_lines();
        assert_eq!(lines.len(), MAX_PROBLEMS + 1);
        assert!(lines[MAX_PROBLEMS - 1].starts_with(&format!("Row {}:", MAX_PROBLEMS + 1)), "{}", lines[MAX_PROBLEMS - 1]);
        assert_eq!(lines[MAX_PROBLEMS], "…and 40 more problems.");

        let mut one_more = Problems::default();
        (0..=MAX_PROBLEMS).for_each(|i| one_more.push(format!("{i}")));
        assert_eq!(one_more.into_lines().last().map(String::as_str), Some("…and 1 more problem."));
        assert_eq!(Problems::from("only".to_owned()).into_lines(), ["only"]);
    }

    #[test]
    fn zip_reads_text_and_scans() {
        let zip = zip_of(&[
            ("0001/01.txt", b"An answer"),
            ("0001/02.pdf", b"%PDF-1.4 ..."),
            ("0001/02.txt", b"Typed beside the scan"),
            ("0002/01.PNG", b"\x89PNG\r\n\x1a\nrest"),
            ("__MACOSX/x", b"junk"),
        ]);
        let read = parse_zip(&zip, &qs()).unwrap();
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        let scripts = read.scripts;
        assert_eq!(scripts.len(), 2);
        assert_eq!(scripts[0].responses[1].file.as_ref().unwrap().content_type, "application/pdf");
        assert_eq!(scripts[0].responses[1].text.as_deref(), Some("Typed beside the scan"));
        assert_eq!(scripts[1].responses[0].file.as_ref().unwrap().content_type, "image/png");
    }

    #[test]
    fn zip_refuses_escaping_paths_and_lying_files() {
        let err = zip_problems(&[("../../etc/passwd", b"root")]);
        assert!(err[0].contains("outside"), "{err:?}");
        let err = zip_problems(&[("0001/../../x.txt", b"root")]);
        assert!(err[0].contains("outside"), "{err:?}");
        let err = zip_problems(&[("0001/01.pdf", b"not a pdf")]);
        assert!(err[0].contains("checked by its content"), "{err:?}");
        let err = zip_problems(&[("0001/01.exe", b"MZ")]);
        assert!(err[0].contains(".exe files are not accepted"), "{err:?}");
        let err = zip_problems(&[("loose.txt", b"x")]);
        assert!(err[0].contains("<candidate>/<question>"), "{err:?}");
        assert!(parse_zip(&zip_of(&[]), &qs()).unwrap_err().contains("holds no answers"));
        assert!(parse_zip(b"PK\x03\x04 broken", &qs()).is_err());
    }

    #[test]
    fn every_bad_file_of_a_zip_is_reported() {
        let problems = zip_problems(&[
            ("0001/01.txt", b"fine"),
            ("0001/07.txt", b"no such question"),
            ("0002/01.pdf", b"not a pdf"),
            ("0003/01.txt", b"  "),
            ("0004/01.png", b"\x89PNG\r\n\x1a\n"),
            ("0004/01.jpg", b"\xFF\xD8\xFF"),
            ("Jane Smith/02.txt", b"a name"),
        ]);
        assert_eq!(
            problems,
            [
                "0001/07.txt: question 07 is not on this paper (its questions are 01, 02, 03).",
                "0002/01.pdf: is not really a .pdf file (checked by its content).",
                "0003/01.txt: is empty.",
                "0004/01.jpg: candidate 0004 has more than one scanned file for question 01.",
                "Jane Smith/02.txt: \"Jane Smith\" is not a candidate number: use 1 to 32 letters, digits, - or _ (anonymous numbers such as 0001, not names).",
            ]
        );
    }

    #[test]
    fn zip_bombs_are_stopped() {
        let big = vec![b'a'; (MAX_ZIP_ENTRY + 10) as usize];
        let mut out = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        w.start_file("0001/01.txt", opts).unwrap();
        w.write_all(&big).unwrap();
        w.finish().unwrap();
        let bytes = out.into_inner();
        assert!(bytes.len() < 100_000, "compresses well: a small bomb");
        let err = parse_zip(&bytes, &qs()).unwrap().problems.into_lines();
        assert!(err[0].contains("MB"), "{err:?}");
    }

    #[test]
    fn too_many_files_in_a_zip_are_refused_before_reading_them() {
        let mut out = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for i in 0..=MAX_ZIP_ENTRIES {
            w.start_file(format!("{i}/01.txt"), stored).unwrap();
        }
        w.finish().unwrap();
        let err = parse_zip(&out.into_inner(), &qs()).unwrap_err();
        assert!(err.contains("at most 20000 are accepted"), "{err}");
    }

    #[test]
    fn uploads_are_checked_against_the_paper() {
        let one = |question: &str| ScriptUpload {
            candidate: "0001".into(),
            responses: vec![ResponseUpload { question: question.into(), text: Some("a".into()), file: None, origin: "row 3".into() }],
        };
        let qs = vec!["01".to_owned(), "02".to_owned()];
        let mut problems = Problems::default();
        check_against(&[one("07")], &qs, &HashSet::new(), &mut problems);
        assert_eq!(problems.into_lines(), ["Row 3: question 07 is not on this paper (its questions are 01, 02)."]);

        // Every problem, not the first one only.
        let existing: HashSet<String> = ["0001".to_owned()].into();
        let mut problems = Problems::default();
        check_against(&[one("01"), one("07")], &qs, &existing, &mut problems);
        let lines = problems.into_lines();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].contains("already has a script"));
        assert!(lines[2].contains("appears twice"));
        assert!(lines[3].contains("question 07"));

        let mut problems = Problems::default();
        check_against(&[one("01")], &qs, &HashSet::new(), &mut problems);
        assert!(problems.is_empty());
    }
}
