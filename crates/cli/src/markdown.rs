//! Answers rendered as Markdown on a terminal: bold headings and emphasis, styled code, bullets,
//! quotes and links with their targets. Every piece of server text goes through
//! [`crate::text`], so the only escape sequences in the result are the styles added here.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::text::{multi_line, one_line};

const BOLD: &str = "\u{1b}[1m";
const ITALIC: &str = "\u{1b}[3m";
const CODE: &str = "\u{1b}[36m";
const DIM: &str = "\u{1b}[2m";
const UNDERLINE: &str = "\u{1b}[4m";
const RESET: &str = "\u{1b}[0m";

/// Styles that are on, so that a reset can restore the outer ones.
#[derive(Default)]
struct Styles {
    bold: u32,
    italic: u32,
    code_block: bool,
}

impl Styles {
    fn restore(&self, out: &mut String) {
        out.push_str(RESET);
        if self.bold > 0 {
            out.push_str(BOLD);
        }
        if self.italic > 0 {
            out.push_str(ITALIC);
        }
    }
}

/// `markdown` as text with ANSI styles, for a terminal.
pub fn render(markdown: &str) -> String {
    let mut out = String::new();
    let mut styles = Styles::default();
    // One entry per open list: the next number of an ordered list, `None` for bullets.
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quote = 0usize;
    let mut links: Vec<String> = Vec::new();
    let newline = |out: &mut String, quote: usize| {
        out.push('\n');
        for _ in 0..quote {
            out.push_str("│ ");
        }
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                out.push_str(BOLD);
                if level == HeadingLevel::H1 {
                    out.push_str(UNDERLINE);
                }
                styles.bold += 1;
            }
            Event::End(TagEnd::Heading(_)) => {
                styles.bold = styles.bold.saturating_sub(1);
                styles.restore(&mut out);
                newline(&mut out, quote);
                newline(&mut out, quote);
            }
            Event::Start(Tag::Paragraph) => {}
            Event::End(TagEnd::Paragraph) => {
                newline(&mut out, quote);
                if lists.is_empty() {
                    newline(&mut out, quote);
                }
            }
            Event::Start(Tag::Strong) => {
                styles.bold += 1;
                out.push_str(BOLD);
            }
            Event::End(TagEnd::Strong) => {
                styles.bold = styles.bold.saturating_sub(1);
                styles.restore(&mut out);
            }
            Event::Start(Tag::Emphasis) => {
                styles.italic += 1;
                out.push_str(ITALIC);
            }
            Event::End(TagEnd::Emphasis) => {
                styles.italic = styles.italic.saturating_sub(1);
                styles.restore(&mut out);
            }
            Event::Start(Tag::BlockQuote(_)) => {
                quote += 1;
                out.push_str("│ ");
            }
            Event::End(TagEnd::BlockQuote(_)) => quote = quote.saturating_sub(1),
            Event::Start(Tag::CodeBlock(kind)) => {
                styles.code_block = true;
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    out.push_str(DIM);
                    out.push_str(&one_line(&lang));
                    out.push_str(RESET);
                    newline(&mut out, quote);
                }
                out.push_str(CODE);
            }
            Event::End(TagEnd::CodeBlock) => {
                styles.code_block = false;
                styles.restore(&mut out);
                newline(&mut out, quote);
            }
            Event::Start(Tag::List(first)) => {
                if lists.is_empty() && !out.is_empty() && !out.ends_with("\n\n") {
                    newline(&mut out, quote);
                }
                lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    newline(&mut out, quote);
                }
            }
            Event::Start(Tag::Item) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    newline(&mut out, quote);
                }
                out.push_str(&"  ".repeat(lists.len().saturating_sub(1)));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n = n.saturating_add(1);
                    }
                    _ => out.push_str("• "),
                }
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => newline(&mut out, quote),
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.into_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop() {
                    out.push_str(DIM);
                    out.push_str(" (");
                    out.push_str(&one_line(&url));
                    out.push(')');
                    styles.restore(&mut out);
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                out.push_str("[image: ");
                links.push(dest_url.into_string());
            }
            Event::End(TagEnd::Image) => {
                if let Some(url) = links.pop() {
                    out.push_str(&format!("] ({})", one_line(&url)));
                }
            }
            Event::End(TagEnd::TableCell) => out.push_str(" | "),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => newline(&mut out, quote),
            Event::End(TagEnd::Table) => newline(&mut out, quote),
            Event::Text(text) => {
                if styles.code_block {
                    for (i, line) in multi_line(&text).split('\n').enumerate() {
                        if i > 0 {
                            newline(&mut out, quote);
                        }
                        out.push_str(line);
                    }
                } else {
                    out.push_str(&one_line(&text));
                }
            }
            Event::Code(code) => {
                out.push_str(CODE);
                out.push_str(&one_line(&code));
                styles.restore(&mut out);
            }
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => newline(&mut out, quote),
            Event::Rule => {
                out.push_str(DIM);
                out.push_str(&"─".repeat(40));
                out.push_str(RESET);
                newline(&mut out, quote);
                newline(&mut out, quote);
            }
            Event::Html(html) | Event::InlineHtml(html) => out.push_str(&multi_line(&html)),
            Event::TaskListMarker(done) => out.push_str(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(name) => out.push_str(&format!("[{}]", one_line(&name))),
            Event::InlineMath(m) | Event::DisplayMath(m) => out.push_str(&one_line(&m)),
            _ => {}
        }
    }
    out.trim_end_matches(['\n', ' ', '│']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text without the styles this module adds.
    fn plain(rendered: &str) -> String {
        let mut out = String::new();
        let mut rest = rendered;
        while let Some(at) = rest.find('\u{1b}') {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            let end = tail.find('m').map_or(tail.len(), |m| m + 1);
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn markdown_becomes_styled_text() {
        let shown = render(
            "# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n1. first\n2. second\n\n[docs](https://example.com)",
        );
        assert!(shown.contains(&format!("{BOLD}bold")), "{shown:?}");
        assert!(shown.contains(&format!("{CODE}code")), "{shown:?}");
        assert_eq!(
            plain(&shown),
            "Title\n\nSome bold and code.\n\n• one\n• two\n\n1. first\n2. second\n\ndocs (https://example.com)"
        );
    }

    #[test]
    fn server_escapes_inside_markdown_are_escaped() {
        let shown = render("hi \u{1b}]0;pwned\u{7} `\u{1b}[2J`\n\n```\nx\u{1b}[31m\n```");
        let added: usize = [BOLD, ITALIC, CODE, DIM, UNDERLINE, RESET]
            .iter()
            .map(|s| shown.matches(s).count())
            .sum();
        assert_eq!(
            shown.matches('\u{1b}').count(),
            added,
            "only our own styles: {shown:?}"
        );
        assert!(plain(&shown).contains("\\u{1b}]0;pwned\\u{7}"), "{shown:?}");
    }
}
