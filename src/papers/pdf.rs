//! The text of a PDF mark scheme (one with a text layer), laid out as the importer reads text.
//!
//! `pdf-extract` is pure Rust, so the server stays one binary with nothing to
//! install. It writes a table row's cells one after another, the descriptor
//! wrapped over several lines and the marks cell ("Marks:" then "7–9") after
//! it, with a blank line between rows. A level is one line to the importer, so
//! each such block is joined back into one line ending in its range. Pure:
//! bytes in, text out.

/// Whether the bytes are a PDF file.
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
}

/// The document's text, or a message for the person who uploaded it.
pub fn text(bytes: &[u8]) -> Result<String, String> {
    // The extractor panics on some malformed files rather than returning an error:
    // a bad upload must be a clear message, never a dropped request.
    let extracted = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    let text = match extracted {
        Ok(Ok(text)) => text,
        Ok(Err(_)) | Err(_) => {
            return Err("This PDF could not be read: it may be damaged or password-protected. Save it again, or upload the \
                        mark scheme as a Word .docx file."
                .into());
        }
    };
    let text = join_level_blocks(&tidy(&text));
    if text.chars().filter(|c| c.is_alphanumeric()).count() < 20 {
        return Err("This PDF has no text to read: it looks like a scan. Upload a PDF with a text layer (run it through \
                    OCR first), or the Word file the mark scheme was written in."
            .into());
    }
    Ok(text)
}

/// Drops the form feeds between pages and the trailing spaces the extractor leaves.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.replace('\u{c}', "").trim_end());
        out.push('\n');
    }
    out
}

/// A block that starts with a level's label.
fn re_level_start() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"(?i)^\s*(?:L\d+\b|level\s+\d+\b|band\s+\d+\b)").expect("valid pattern"))
}

/// A block that ends with a mark or range, labelled or not ("Marks: 7-9", "7 to 9", "0").
fn re_range_end() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"(?i)(?:^|\s)(?:marks?\s*:?\s*)?(\d+(?:\s*(?:-|–|—|to)\s*\d+)?)\s*(?:marks?)?\s*$").expect("valid pattern")
    })
}

/// Joins each level back into one line ending in its range, the "Marks:" label
/// before the range dropped. A level starts at its label ("L2", "Level 2",
/// "Band 2") and runs to the first line ending in a mark or range; a block with
/// no label but several lines ending in a range (a 0-mark row) is joined whole.
/// Bulleted blocks (indicative content) are left as they are.
fn join_level_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lines: Vec<&str> = text.lines().collect();
    for block in lines.split(|l| l.trim().is_empty()) {
        if block.is_empty() {
            out.push('\n');
            continue;
        }
        let bulleted = block.iter().any(|l| l.trim_start().starts_with(['-', '•', '*', '▪']));
        let labelled = block.iter().any(|l| re_level_start().is_match(l));
        let last = block[block.len() - 1].trim();
        if bulleted && !labelled {
            push_lines(&mut out, block);
        } else if labelled {
            let mut rest = block;
            while let Some(start) = rest.iter().position(|l| re_level_start().is_match(l)) {
                push_lines(&mut out, &rest[..start]);
                let level = &rest[start..];
                // The level ends at its range, or at the next level's label.
                let next_label = level.iter().skip(1).position(|l| re_level_start().is_match(l)).map_or(level.len(), |p| p + 1);
                let end = level[..next_label].iter().position(|l| re_range_end().is_match(l.trim())).map_or(next_label, |p| p + 1);
                push_joined(&mut out, &level[..end]);
                rest = &level[end..];
            }
            push_lines(&mut out, rest);
        } else if block.len() > 1 && last.len() <= 16 && re_range_end().is_match(last) {
            push_joined(&mut out, block);
        } else {
            push_lines(&mut out, block);
        }
        out.push('\n');
    }
    out
}

fn push_lines(out: &mut String, lines: &[&str]) {
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
}

/// Writes lines as one, the "Marks:" label before a final range dropped.
fn push_joined(out: &mut String, lines: &[&str]) {
    let joined = lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    let joined = match re_range_end().captures(&joined) {
        Some(c) => {
            let whole = c.get(0).map_or(joined.len(), |m| m.start());
            format!("{} {}", joined[..whole].trim_end(), &c[1])
        }
        None => joined,
    };
    out.push_str(joined.trim());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_wrapped_across_lines_with_its_marks_in_a_cell_is_one_line() {
        let text = "Levels Mark Scheme\n\nNothing written worthy of credit. Marks:\n0\n\nL1: The answer relies on\nthe sources alone.\n Marks:\n1-6\n\nL2: Uses both\nsources. 7 to 11\n\nIndicative content\nfirst line\nsecond line\n";
        assert_eq!(
            join_level_blocks(text),
            "Levels Mark Scheme\n\nNothing written worthy of credit. 0\n\nL1: The answer relies on the sources alone. 1-6\n\nL2: Uses both sources. 7 to 11\n\nIndicative content\nfirst line\nsecond line\n\n"
        );
    }

    #[test]
    fn levels_without_blank_lines_between_them_and_bullets_are_kept_apart() {
        let text = "Levels\n\nLevel 3: compares\nclosely. 7-9\nLevel 2: sets\nagainst. 3-6\nIndicative content\n\n- The canal cut costs\n- Trade grew after\n1832\n";
        assert_eq!(
            join_level_blocks(text),
            "Levels\n\nLevel 3: compares closely. 7-9\nLevel 2: sets against. 3-6\nIndicative content\n\n- The canal cut costs\n- Trade grew after\n1832\n\n"
        );
    }

    #[test]
    fn what_is_not_a_readable_pdf_gets_a_clear_message() {
        assert!(text(b"%PDF-1.7\n%garbage\x00\x01").unwrap_err().contains("could not be read"));
        assert!(text(b"%PDF-").unwrap_err().contains("could not be read"));
    }
}
