//! Markdown to HTML for guidance, indicative content and rationales.
//!
//! Raw HTML in the source is shown as text, never passed through: documents
//! come from outside (converted PDFs carry `<b>` tags) and must not be able to
//! inject markup. Links may only be http(s), mailto or relative.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Renders Markdown as safe HTML.
pub fn to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme_free = !lower.contains(':') || lower.starts_with('/') || lower.starts_with('#');
    if scheme_free || lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:") {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn raw_html_is_escaped() {
        let html = to_html("<script>alert(1)</script> and <b>bold</b>");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
    }

    #[test]
    fn dangerous_links_are_neutralised() {
        let html = to_html("[x](javascript:alert(1)) [y](https://www.aqa.org.uk) [z](data:text/html,hi)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("https://www.aqa.org.uk"));
    }

    #[test]
    fn markdown_renders() {
        assert_eq!(
            to_html("**Source A** says\n\n- one\n- two").trim(),
            "<p><strong>Source A</strong> says</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>"
        );
    }
}
