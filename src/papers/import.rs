//! Turning an uploaded document into a scheme: the board's Markdown or plain
//! text, a Word file or a PDF through the parser, or standardise's own JSON back again.
//! Pure, except [`read_upload`], which runs the same on a blocking thread for the server.

use serde::Deserialize;

use super::{docx, pdf};
use crate::markscheme::{self, Problem, Scheme};

/// What an uploaded document gave.
#[derive(Debug)]
pub struct Imported {
    /// The scheme as far as it was understood.
    pub scheme: Scheme,
    /// What was not understood, with line numbers.
    pub problems: Vec<Problem>,
    /// The document's text.
    pub text: String,
}

/// The JSON `markscheme parse` prints, with the board at the top level too.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SchemeUpload {
    /// The scheme.
    #[serde(flatten)]
    pub scheme: Scheme,
    /// The exam board, if not inside `paper`.
    #[serde(default)]
    pub board: Option<String>,
}

impl SchemeUpload {
    /// The scheme with the board filled in from the top level if given there.
    pub fn into_scheme(self) -> Scheme {
        let mut scheme = self.scheme;
        if let Some(board) = self.board.filter(|b| !b.trim().is_empty()) {
            scheme.paper.board = board;
        }
        scheme
    }
}

/// Checks the bytes are a text document and reads it. The error says what
/// to do instead.
pub fn read_document(bytes: &[u8]) -> Result<Imported, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("The document is empty. Choose the mark scheme file, or paste its text.".into());
    }
    // Told apart by content, not by name: an upload has none, and names lie.
    let text = if docx::looks_like_zip(bytes) {
        docx::text(bytes)?
    } else if pdf::looks_like_pdf(bytes) {
        pdf::text(bytes)?
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => text.to_owned(),
            _ => {
                return Err("This file is not a document standardise can read. Upload the mark scheme as a PDF, a Word .docx file, \
                            Markdown or plain text, or the JSON standardise exports."
                    .into());
            }
        }
    };
    // JSON is an object whose first key is quoted; OCR output may also open with '{'.
    let looks_like_json = text.trim_start().strip_prefix('{').is_some_and(|rest| rest.trim_start().starts_with(['"', '}']));
    if looks_like_json {
        let upload: SchemeUpload =
            serde_json::from_str(&text).map_err(|e| format!("This looks like JSON but is not a mark scheme standardise can read: {e}."))?;
        return Ok(Imported { scheme: upload.into_scheme(), problems: Vec::new(), text });
    }
    let parsed = markscheme::parse(&text);
    if parsed.scheme.questions.is_empty() {
        return Err("No questions were found in this document: is it a mark scheme? standardise looks for \
                    question numbers with their marks, e.g. \"01 ... (12 marks)\", and level bands such as \"L2: 3-6\"."
            .into());
    }
    Ok(Imported { scheme: parsed.scheme, problems: parsed.problems, text })
}

/// How long reading one upload may take before the person is told; a mark
/// scheme of a hundred pages reads in well under a second.
const READ_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// [`read_document`] on a blocking thread: a long PDF takes real CPU time, which
/// must not stall the server's other requests, and a hostile one must not hold
/// the request open for ever (the thread cannot be stopped, but the answer comes).
pub async fn read_upload(bytes: Vec<u8>) -> Result<Imported, String> {
    match tokio::time::timeout(READ_TIME_LIMIT, tokio::task::spawn_blocking(move || read_document(&bytes))).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err("The document could not be read; save it again and upload it.".into()),
        Err(_) => Err("Reading this document took too long. Save it again (or as a Word .docx file) and upload it.".into()),
    }
}

impl Imported {
    /// Everything that was read, each question carrying the problems found
    /// within its lines and the paper those found elsewhere: what the command
    /// line prints and the API returns, so a slip in one question loses nothing
    /// of the others.
    pub fn report(&self) -> serde_json::Value {
        let mut paper = serde_json::to_value(&self.scheme).unwrap_or_default();
        let mut placed = vec![false; self.problems.len()];
        if let Some(questions) = paper.get_mut("questions").and_then(serde_json::Value::as_array_mut) {
            for (value, question) in questions.iter_mut().zip(&self.scheme.questions) {
                let mine: Vec<&Problem> = self
                    .problems
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| question.source.is_some_and(|s| (s.start..=s.end).contains(&p.line)))
                    .map(|(i, p)| {
                        placed[i] = true;
                        p
                    })
                    .collect();
                value["problems"] = serde_json::json!(mine);
            }
        }
        let rest: Vec<&Problem> = self.problems.iter().zip(&placed).filter(|(_, placed)| !**placed).map(|(p, _)| p).collect();
        paper["problems"] = serde_json::json!(rest);
        paper
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_binary_files_are_refused_with_advice() {
        assert!(read_document(b"  \n ").unwrap_err().contains("empty"));
        assert!(read_document(b"%PDF-1.4\x00\x01\x02").unwrap_err().contains("could not be read"));
        assert!(read_document(&[0xff, 0xfe, 0x41]).unwrap_err().contains("not a document standardise can read"));
    }

    #[test]
    fn prose_is_not_a_mark_scheme() {
        let err = read_document(b"Dear parents, the school trip is on Friday.").unwrap_err();
        assert!(err.contains("No questions were found"), "{err}");
    }

    #[test]
    fn json_comes_back_with_a_top_level_board() {
        let json = br#"{"board": "AQA", "paper": {"code": "X1", "title": "T", "series": "June 2024"}, "guidance": "",
            "questions": [{"number": "01", "prompt": "p", "max_mark": 4, "targets": [], "levels": [], "kind": "points", "indicative_content": ""}]}"#;
        let imported = read_document(json).unwrap();
        assert_eq!(imported.scheme.paper.board, "AQA");
        assert_eq!(imported.scheme.questions[0].max_mark, 4);
        assert!(read_document(b"{\"paper\": 3}").unwrap_err().contains("JSON"));
        // OCR output that merely starts with a brace is read as a document.
        assert!(read_document(b"{Section A}\nno questions here").unwrap_err().contains("No questions"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..proptest::prelude::ProptestConfig::default() })]
        /// Random bytes behind a PDF's or a ZIP's signature are refused with a message, never a panic.
        #[test]
        fn any_bytes_in_a_pdf_or_word_wrapper_get_an_answer(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            for magic in [&b"%PDF-1.7\n"[..], &b"PK\x03\x04"[..]] {
                let mut bytes = magic.to_vec();
                bytes.extend_from_slice(&body);
                let _ = read_document(&bytes);
            }
        }
    }

    /// A 20 MB document (the upload limit) is read, not hung on.
    #[test]
    fn a_twenty_megabyte_document_is_read() {
        let sample = include_str!("../../tests/fixtures/markschemes/standardise-sample-history.md");
        let big = sample.repeat(20 * 1024 * 1024 / sample.len());
        let started = std::time::Instant::now();
        let imported = read_document(big.as_bytes()).unwrap();
        eprintln!("{} questions in {:?}", imported.scheme.questions.len(), started.elapsed());
        assert!(imported.scheme.questions.len() >= 3);
    }
}
