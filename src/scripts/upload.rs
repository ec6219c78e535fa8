//! Reading uploaded candidate scripts: one form, a CSV or a ZIP. Pure: no
//! database, no HTTP. Files are checked by content, not by name, and a bulk
//! upload is read completely before anything is saved, so one bad row
//! rejects the whole file with that row's number.

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

/// Reads a CSV with the header `candidate,question,response` (responses may
/// span lines inside quotes). Row numbers are as a spreadsheet shows them.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ScriptUpload>, String> {
    let text = text_of(bytes).ok_or("The CSV file is not text (UTF-8). Save it from your spreadsheet as \"CSV UTF-8\".")?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
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
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| format!("Row {row}: {e}. Check its quotes and that it has three columns."))?;
        let candidate = check_candidate(&record[0]).map_err(|e| format!("Row {row}: {e}."))?;
        let question = record[1].trim().to_owned();
        if question.is_empty() {
            return Err(format!("Row {row}: the question number is missing."));
        }
        let response = record[2].trim();
        if response.is_empty() {
            return Err(format!("Row {row}: the response of candidate {candidate} to question {question} is empty."));
        }
        if let Some(first) = seen.insert((candidate.clone(), question.clone()), row) {
            return Err(format!("Row {row}: candidate {candidate} already has a response to question {question} (row {first})."));
        }
        scripts
            .entry(candidate.clone())
            .or_insert_with(|| ScriptUpload { candidate, ..Default::default() })
            .responses
            .push(ResponseUpload { question, text: Some(response.to_owned()), file: None, origin: format!("row {row}") });
    }
    if scripts.is_empty() {
        return Err("The CSV file has a header but no rows.".into());
    }
    Ok(scripts.into_values().collect())
}

/// Reads a ZIP of `<candidate>/<question>.txt|.pdf|.png|.jpg` files.
pub fn parse_zip(bytes: &[u8]) -> Result<Vec<ScriptUpload>, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("The ZIP file cannot be opened: {e}."))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!("The ZIP file holds {} files; at most {MAX_ZIP_ENTRIES} are accepted.", archive.len()));
    }
    let mut scripts: BTreeMap<String, ScriptUpload> = BTreeMap::new();
    let mut seen: HashSet<(String, String, bool)> = HashSet::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| format!("The ZIP file is damaged: {e}."))?;
        let raw = entry.name().to_owned();
        if entry.is_dir() || raw.starts_with("__MACOSX/") || raw.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        // Refuse anything that would leave the folder, whatever the OS.
        let escapes = raw.starts_with('/') || raw.contains('\\') || raw.split('/').any(|part| part == "..");
        let Some(path) = entry.enclosed_name().filter(|_| !escapes) else {
            return Err(format!("{raw}: file names that point outside the ZIP's folder are refused."));
        };
        let parts: Vec<String> = path.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let [candidate, file] = parts.as_slice() else {
            return Err(format!("{raw}: files must be named <candidate>/<question>.txt, .pdf, .png or .jpg."));
        };
        let candidate = check_candidate(candidate).map_err(|e| format!("{raw}: {e}."))?;
        let Some((question, ext)) = file.rsplit_once('.') else {
            return Err(format!("{raw}: the file has no extension; use .txt, .pdf, .png or .jpg."));
        };
        let (question, ext) = (question.to_owned(), ext.to_ascii_lowercase());
        if entry.size() > MAX_ZIP_ENTRY {
            return Err(format!(
                "{raw}: {} MB is more than the {} MB allowed for one answer.",
                entry.size() / 1_048_576,
                MAX_ZIP_ENTRY / 1_048_576
            ));
        }
        // Never trust the declared size: read at most one byte past the limit.
        let mut data = Vec::new();
        (&mut entry)
            .take(MAX_ZIP_ENTRY + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("{raw}: cannot be read from the ZIP file ({e})."))?;
        if data.len() as u64 > MAX_ZIP_ENTRY {
            return Err(format!("{raw}: expands to more than the {} MB allowed for one answer.", MAX_ZIP_ENTRY / 1_048_576));
        }
        total += data.len() as u64;
        if total > MAX_ZIP_TOTAL {
            return Err(format!("The ZIP file expands to more than {} MB; split it into smaller uploads.", MAX_ZIP_TOTAL / 1_048_576));
        }
        let is_text = ext == "txt";
        if !seen.insert((candidate.clone(), question.clone(), is_text)) {
            let what = if is_text { "typed answer" } else { "scanned file" };
            return Err(format!("{raw}: candidate {candidate} has more than one {what} for question {question}."));
        }
        let script =
            scripts.entry(candidate.clone()).or_insert_with(|| ScriptUpload { candidate: candidate.clone(), ..Default::default() });
        let position = script.responses.iter().position(|r| r.question == question);
        let response = match position {
            Some(p) => &mut script.responses[p],
            None => {
                script.responses.push(ResponseUpload { question: question.clone(), origin: raw.clone(), ..Default::default() });
                let last = script.responses.len() - 1;
                &mut script.responses[last]
            }
        };
        match ext.as_str() {
            "txt" => {
                let text = text_of(&data).ok_or_else(|| format!("{raw}: is not a text file (UTF-8)."))?;
                if text.trim().is_empty() {
                    return Err(format!("{raw}: is empty."));
                }
                response.text = Some(text.trim().to_owned());
            }
            "pdf" | "png" | "jpg" | "jpeg" => {
                let expected = match ext.as_str() {
                    "pdf" => "application/pdf",
                    "png" => "image/png",
                    _ => "image/jpeg",
                };
                let found = sniff(&data);
                if found != Some(expected) {
                    return Err(format!("{raw}: is not really a .{ext} file (checked by its content)."));
                }
                response.file = Some(FileUpload { content_type: expected, filename: format!("{candidate}-{file}"), bytes: data });
            }
            _ => return Err(format!("{raw}: .{ext} files are not accepted; use .txt, .pdf, .png or .jpg.")),
        }
    }
    if scripts.is_empty() {
        return Err("The ZIP file holds no answers: name files <candidate>/<question>.txt, .pdf, .png or .jpg.".into());
    }
    Ok(scripts.into_values().collect())
}

/// Checks uploads against the paper: every question exists, no candidate is
/// already on the paper or twice in the upload. Returns the first problem.
pub fn check_against(uploads: &[ScriptUpload], questions: &[String], existing: &HashSet<String>) -> Result<(), String> {
    let mut candidates = HashSet::new();
    for script in uploads {
        if existing.contains(&script.candidate) {
            return Err(format!(
                "Candidate {} already has a script on this paper: candidate numbers are unique per paper.",
                script.candidate
            ));
        }
        if !candidates.insert(&script.candidate) {
            return Err(format!("Candidate {} appears twice in this upload.", script.candidate));
        }
        if script.responses.is_empty() {
            return Err(format!("Candidate {} has no responses.", script.candidate));
        }
        for r in &script.responses {
            if !questions.contains(&r.question) {
                return Err(format!(
                    "{}: question {} is not on this paper (its questions are {}).",
                    capitalise(&r.origin),
                    r.question,
                    questions.join(", ")
                ));
            }
        }
    }
    Ok(())
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

    #[test]
    fn csv_with_multiline_responses() {
        let csv = "candidate,question,response\n0001,01,\"First line\nsecond line, with a comma\"\n0001,02,Short\n0002,01,Other\n";
        let scripts = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(scripts.len(), 2);
        assert_eq!(scripts[0].candidate, "0001");
        assert_eq!(scripts[0].responses[0].text.as_deref(), Some("First line\nsecond line, with a comma"));
        assert_eq!(scripts[0].responses[1].origin, "row 3");
    }

    #[test]
    fn csv_errors_name_the_row() {
        assert!(parse_csv(b"cand,q,r\n1,2,3\n").unwrap_err().starts_with("Row 1:"));
        let err = parse_csv(b"candidate,question,response\n0001,01,ok\n0001,01,again\n").unwrap_err();
        assert_eq!(err, "Row 3: candidate 0001 already has a response to question 01 (row 2).");
        let err = parse_csv(b"candidate,question,response\n0001,01,ok\nJane Smith,01,x\n").unwrap_err();
        assert!(err.starts_with("Row 3: \"Jane Smith\" is not a candidate number"), "{err}");
        let err = parse_csv(b"candidate,question,response\n0001,01,ok\n0002,01,\n").unwrap_err();
        assert!(err.starts_with("Row 3:") && err.contains("empty"));
        let err = parse_csv(b"candidate,question,response\n0001,01,ok,extra\n").unwrap_err();
        assert!(err.starts_with("Row 2:"), "{err}");
    }

    #[test]
    fn zip_reads_text_and_scans() {
        let zip = zip_of(&[
            ("0001/01.txt", b"An answer"),
            ("0001/02.pdf", b"%PDF-1.4 ..."),
            ("0002/01.PNG", b"\x89PNG\r\n\x1a\nrest"),
            ("__MACOSX/x", b"junk"),
        ]);
        let scripts = parse_zip(&zip).unwrap();
        assert_eq!(scripts.len(), 2);
        assert_eq!(scripts[0].responses[1].file.as_ref().unwrap().content_type, "application/pdf");
        assert_eq!(scripts[1].responses[0].file.as_ref().unwrap().content_type, "image/png");
    }

    #[test]
    fn zip_refuses_escaping_paths_and_lying_files() {
        let err = parse_zip(&zip_of(&[("../../etc/passwd", b"root")])).unwrap_err();
        assert!(err.contains("outside"), "{err}");
        let err = parse_zip(&zip_of(&[("0001/../../x.txt", b"root")])).unwrap_err();
        assert!(err.contains("outside"), "{err}");
        let err = parse_zip(&zip_of(&[("0001/01.pdf", b"not a pdf")])).unwrap_err();
        assert!(err.contains("checked by its content"), "{err}");
        let err = parse_zip(&zip_of(&[("0001/01.exe", b"MZ")])).unwrap_err();
        assert!(err.contains(".exe files are not accepted"), "{err}");
        let err = parse_zip(&zip_of(&[("loose.txt", b"x")])).unwrap_err();
        assert!(err.contains("<candidate>/<question>"), "{err}");
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
        let err = parse_zip(&bytes).unwrap_err();
        assert!(err.contains("MB"), "{err}");
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
        let err = parse_zip(&out.into_inner()).unwrap_err();
        assert!(err.contains("at most 20000 are accepted"), "{err}");
    }

    #[test]
    fn uploads_are_checked_against_the_paper() {
        let scripts = parse_csv(b"candidate,question,response\n0001,01,a\n0001,07,b\n").unwrap();
        let qs = vec!["01".to_owned(), "02".to_owned()];
        let err = check_against(&scripts, &qs, &HashSet::new()).unwrap_err();
        assert_eq!(err, "Row 3: question 07 is not on this paper (its questions are 01, 02).");
        let scripts = parse_csv(b"candidate,question,response\n0001,01,a\n").unwrap();
        let existing: HashSet<String> = ["0001".to_owned()].into();
        assert!(check_against(&scripts, &qs, &existing).unwrap_err().contains("already has a script"));
    }
}
