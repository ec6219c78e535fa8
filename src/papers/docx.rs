//! The text of a Word (`.docx`) mark scheme, laid out as the importer reads text.
//!
//! A `.docx` file is a ZIP holding `word/document.xml`. Paragraphs become lines;
//! each table row becomes one Markdown table row (`| cell | cell |`), so a
//! level's mark range that sits in its own column, or wraps inside its cell
//! ("Marks:" then "7–9"), stays on the row of its level, as the importer's
//! table reading expects. Pure: bytes in, text out, no I/O.

use std::io::{Cursor, Read};

use quick_xml::{Reader, events::Event};

/// The document body may not expand beyond this: a mark scheme's XML is a few
/// hundred kilobytes, and a ZIP bomb must not take the server's memory.
const MAX_XML_BYTES: u64 = 32 * 1024 * 1024;

/// Whether the bytes are a ZIP archive (a Word file is one).
pub fn looks_like_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The document's text, or a message for the person who uploaded it.
pub fn text(bytes: &[u8]) -> Result<String, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| "This file is a damaged or unreadable ZIP archive; save the Word file again and upload it.".to_owned())?;
    let entry = archive.by_name("word/document.xml").map_err(|_| {
        "This ZIP archive is not a Word document (it has no word/document.xml). Upload the mark scheme as a Word .docx file, \
         a PDF, Markdown or plain text."
            .to_owned()
    })?;
    let mut xml = Vec::new();
    entry
        .take(MAX_XML_BYTES + 1)
        .read_to_end(&mut xml)
        .map_err(|_| "The Word document could not be decompressed; save it again and upload it.".to_owned())?;
    if xml.len() as u64 > MAX_XML_BYTES {
        return Err(format!("The Word document's text expands beyond {} MB, which no mark scheme needs.", MAX_XML_BYTES >> 20));
    }
    body_text(&xml).map_err(|e| format!("The Word document's XML could not be read ({e}); save it again and upload it."))
}

/// Walks `document.xml`, writing paragraphs as lines and table rows as `| … |` lines.
fn body_text(xml: &[u8]) -> Result<String, quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut out = String::new();
    let mut buf = Vec::new();
    // The paragraph being written, and for the innermost table the row's cells.
    let mut paragraph = String::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut in_text = false;
    // A list paragraph (Word's numbering or a "List …" style) is an indicative
    // point; written as a Markdown bullet, it stays one.
    let mut listed = false;
    // Word writes a text box twice (`mc:Choice` and an `mc:Fallback` copy for old readers): read it once.
    let mut fallback = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf)?;
        match &event {
            Event::Start(e) if e.local_name().as_ref() == b"Fallback" => fallback += 1,
            Event::End(e) if e.local_name().as_ref() == b"Fallback" => fallback = fallback.saturating_sub(1),
            _ => {}
        }
        if fallback > 0 {
            buf.clear();
            continue;
        }
        if let Event::Start(e) | Event::Empty(e) = &event {
            match e.local_name().as_ref() {
                b"numPr" => listed = true,
                b"pStyle" => {
                    let style = e.attributes().flatten().find(|a| a.key.local_name().as_ref() == b"val");
                    if style.is_some_and(|a| a.value.windows(4).any(|w| w.eq_ignore_ascii_case(b"list"))) {
                        listed = true;
                    }
                }
                _ => {}
            }
        }
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                b"t" => in_text = true,
                b"tr" => rows.push(Vec::new()),
                b"tc" => {
                    if let Some(row) = rows.last_mut() {
                        row.push(String::new());
                    }
                }
                b"tab" => paragraph.push('\t'),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"tab" => paragraph.push('\t'),
                // "7‑9" typed with a non-breaking hyphen is a range, not 79.
                b"noBreakHyphen" => paragraph.push('-'),
                b"br" | b"cr" => paragraph.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => paragraph.push_str(&t.unescape()?),
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => {
                    let mut text = std::mem::take(&mut paragraph);
                    if std::mem::take(&mut listed) && !text.trim().is_empty() {
                        text = format!("- {}", text.trim_start());
                    }
                    match rows.last_mut().and_then(|row| row.last_mut()) {
                        // Paragraphs inside a cell stay in that cell.
                        Some(cell) => {
                            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                            if !text.is_empty() {
                                if !cell.is_empty() {
                                    cell.push(' ');
                                }
                                cell.push_str(&text);
                            }
                        }
                        None => {
                            out.push_str(text.trim_end());
                            out.push('\n');
                        }
                    }
                }
                b"tr" => {
                    if let Some(row) = rows.pop() {
                        let row: Vec<String> = row.into_iter().map(|c| c.replace('|', "/")).collect();
                        if row.iter().any(|c| !c.is_empty()) {
                            let line = format!("| {} |", row.join(" | "));
                            // A row of a table inside a cell is kept in that cell.
                            match rows.last_mut().and_then(|r| r.last_mut()) {
                                Some(cell) => {
                                    cell.push(' ');
                                    cell.push_str(&line);
                                }
                                None => {
                                    out.push_str(&line);
                                    out.push('\n');
                                }
                            }
                        }
                    }
                }
                b"tbl" if rows.is_empty() => out.push('\n'),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A minimal Word file: the parts Word itself needs are not required to read the body.
    fn docx(body: &str) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
        )
        .unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    fn p(text: &str) -> String {
        format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
    }

    #[test]
    fn paragraphs_are_lines_and_a_wrapped_cell_stays_on_its_row() {
        let body = format!(
            "{}{}<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}{}</w:tc></w:tr><w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr></w:tbl>{}",
            p("01 Explain why the canal was built. (12 marks)"),
            p("Target: AO1 &amp; AO2"),
            p("Level 2: explains with support"),
            p("Marks:"),
            p("7–12"),
            p("Level 1: describes"),
            p("1–6"),
            p("After the table"),
        );
        let text = text(&docx(&body)).unwrap();
        assert_eq!(
            text,
            "01 Explain why the canal was built. (12 marks)\nTarget: AO1 & AO2\n\
             | Level 2: explains with support | Marks: 7–12 |\n| Level 1: describes | 1–6 |\n\nAfter the table\n"
        );
    }

    #[test]
    fn a_non_breaking_hyphen_stays_a_hyphen_and_a_text_box_is_read_once() {
        let body = "<w:p><w:r><w:t>Level 3</w:t><w:tab/><w:t>7</w:t><w:noBreakHyphen/><w:t>9</w:t></w:r></w:p>\
                    <w:p><w:r><mc:AlternateContent xmlns:mc=\"m\"><mc:Choice><w:p><w:r><w:t>Question 2</w:t></w:r></w:p></mc:Choice>\
                    <mc:Fallback><w:p><w:r><w:t>Question 2</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent></w:r></w:p>";
        assert_eq!(text(&docx(body)).unwrap(), "Level 3\t7-9\nQuestion 2\n\n");
    }

    #[test]
    fn list_paragraphs_are_bullets() {
        let body = "<w:p><w:pPr><w:pStyle w:val=\"ListBullet\"/></w:pPr><w:r><w:t>a point</w:t></w:r></w:p>\
                    <w:p><w:pPr><w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"3\"/></w:numPr></w:pPr><w:r><w:t>another</w:t></w:r></w:p>\
                    <w:p><w:r><w:t>prose</w:t></w:r></w:p>";
        assert_eq!(text(&docx(body)).unwrap(), "- a point\n- another\nprose\n");
    }

    #[test]
    fn runs_split_mid_word_join_and_tabs_and_breaks_are_kept() {
        let body = "<w:p><w:r><w:t>L</w:t></w:r><w:r><w:t>evel 3</w:t></w:r><w:r><w:tab/><w:t>7-9</w:t></w:r></w:p>";
        assert_eq!(text(&docx(body)).unwrap(), "Level 3\t7-9\n");
    }

    #[test]
    fn what_is_not_a_word_file_is_refused_with_advice() {
        assert!(text(b"PK\x03\x04garbage").unwrap_err().contains("damaged"));
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file("a.txt", zip::write::SimpleFileOptions::default()).unwrap();
        zip.finish().unwrap();
        assert!(text(&out.into_inner()).unwrap_err().contains("not a Word document"));
        assert!(text(&docx("<w:p><w:r><w:t>unclosed")).unwrap_err().contains("could not be read"));
    }

    #[test]
    fn a_zip_bomb_inside_a_docx_is_refused_without_expanding_it() {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..40 {
            zip.write_all(&chunk).unwrap();
        }
        zip.finish().unwrap();
        let bytes = out.into_inner();
        assert!(bytes.len() < 1 << 20, "the bomb is small on disk");
        assert!(text(&bytes).unwrap_err().contains("expands beyond"));
    }
}
