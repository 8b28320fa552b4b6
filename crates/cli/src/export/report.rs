//! `report.html`: the thread in order, printable, for a person to read.
//!
//! One file with no script and nothing from elsewhere: its policy allows
//! only its own style and images from its own folder (the photos of the
//! export, shown when their first bytes say JPEG, PNG, WebP or GIF). Every
//! string from a tip is HTML-escaped after its control and bidirectional
//! characters are made visible as `\u{…}` ([`crate::display`]).

use std::io::Read;
use std::path::Path;

use sealtip_envelope::Tip;

use super::Exporter;
use super::manifest::{FileEntry, ManifestAttachment, ManifestItem};
use crate::case_state::CaseState;
use crate::commands::case::state_lines;
use crate::commands::thread::Item;
use crate::desk::attachments::image_type;
use crate::desk::pages::esc as escape;
use crate::display;
use crate::threads::Thread;

/// The report's file name, at the top of a case folder.
pub const FILE_NAME: &str = "report.html";

/// The content security policy in the report's `<meta>`.
const POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
                      form-action 'none'; base-uri 'none'";

const STYLE: &str = "
body { font: 11pt/1.45 system-ui, sans-serif; color: #111; max-width: 50rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .4rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #999; padding-bottom: .2rem; margin-top: 2rem; break-after: avoid; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; }
th, td { text-align: start; vertical-align: top; padding: .15rem .5rem .15rem 0; }
th { font-weight: 600; white-space: nowrap; width: 12rem; }
table.files th { width: auto; }
code, .hash { font-family: ui-monospace, monospace; font-size: .85em; word-break: break-all; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; border-inline-start: 3px solid #999; padding-inline-start: .7rem; margin: .6rem 0; }
.warn { font-weight: 600; }
figure { margin: .8rem 0; break-inside: avoid; }
img { max-width: 100%; max-height: 18cm; border: 1px solid #999; }
figcaption { font-size: .9em; }
.note { font-size: .9em; }
@page { margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-before: auto; }
  .item { break-inside: auto; }
  tr, figure, img { break-inside: avoid; }
}
";

/// What the report shows.
pub struct Report<'a> {
    /// The thread, for its items' content.
    pub thread: &'a Thread<Item>,
    /// Its items as exported, in the same order.
    pub items: &'a [ManifestItem],
    /// The case folder, where photos are looked at.
    pub case: &'a Path,
    /// Who exports.
    pub exporter: &'a Exporter,
    /// When.
    pub exported_at: &'a str,
    /// The merged case state, if any.
    pub case_state: Option<&'a CaseState>,
}

/// The whole page.
pub fn render(report: &Report<'_>) -> String {
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n"
    ));
    html.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>Evidence export: {} item(s), exported {}</title>\n",
        report.items.len(),
        line(report.exported_at)
    ));
    html.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    header(&mut html, report);
    if let Some(state) = report.case_state {
        case_state(&mut html, state);
    }
    html.push_str("<main>\n");
    for (exported, entry) in report.items.iter().zip(&report.thread.items) {
        item(&mut html, exported, &entry.item.opened.tip, report.case);
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn header(html: &mut String, report: &Report<'_>) {
    let thread = match (&report.thread.mailbox, &report.thread.reply_to) {
        (Some(_), Some(key)) => format!(
            "a verified conversation: every item below is proven with the thread key of its tip; \
             the tipster's reply key has the fingerprint <code>{}</code>",
            line(&key.fingerprint())
        ),
        _ => "<span class=\"warn\">not a verified conversation</span>: the items below are \
              not proven to come from one tipster"
            .to_string(),
    };
    html.push_str("<header>\n<h1>Evidence export</h1>\n<table>\n");
    row(html, "Exported by", &line(&report.exporter.officer));
    row(
        html,
        "Exported at",
        &format!("{} (UTC)", line(report.exported_at)),
    );
    row(
        html,
        "Program",
        &format!("sealtip {}", line(env!("CARGO_PKG_VERSION"))),
    );
    row(html, "Thread", &thread);
    row(html, "Items", &report.items.len().to_string());
    html.push_str(
        "</table>\n<p class=\"note\">Every file of this folder but two is listed with \
        its size and SHA-256 in <code>manifest.json</code>; <code>SHA256SUMS</code> lists the same \
        files and <code>manifest.json</code> itself: <code>sha256sum -c SHA256SUMS</code> checks \
        them all, and <code>sealtip export --verify</code> also finds files added or removed. \
        “Received” is the relay's time, to the hour; the date an item was written is its \
        sender's own word. The items are in the order the relay received them.</p>\n</header>\n",
    );
}

fn case_state(html: &mut String, state: &CaseState) {
    html.push_str("<section class=\"case\">\n<h2>Case state</h2>\n<ul>\n");
    // Already shown safely (control characters as \u{…}): only escaped.
    for shown in state_lines(state) {
        html.push_str(&format!("<li>{}</li>\n", escape(&shown)));
    }
    html.push_str("</ul>\n</section>\n");
}

fn item(html: &mut String, exported: &ManifestItem, tip: &Tip, case: &Path) {
    let who = match exported.kind.as_str() {
        "tip" => "Tip",
        "message" => "Follow-up from the tipster",
        "reply" => "Reply from the agency",
        "case" => "Case change by an officer",
        other => other,
    };
    let standing = match exported.standing.as_str() {
        "verified" => "verified".to_string(),
        "unverified" => {
            "<span class=\"warn\">UNVERIFIED: it claims this conversation without a valid proof</span>"
                .to_string()
        }
        _ => "on its own".to_string(),
    };
    html.push_str(&format!(
        "<section class=\"item\">\n<h2>{}. {} ({standing})</h2>\n<table>\n",
        exported.number,
        line(who)
    ));
    let received = exported.received.as_deref().map_or_else(
        || "not known (not in relay-order.json)".to_string(),
        |hour| format!("{} (UTC, to the hour)", line(hour)),
    );
    row(html, "Received by the relay", &received);
    row(
        html,
        "Written (sender's date)",
        &line(&exported.sender_date),
    );
    row(
        html,
        "Relay id",
        &format!("<code>{}</code>", line(&exported.id)),
    );
    if !tip.language.is_empty() {
        row(html, "Language", &line(&tip.language));
    }
    row(
        html,
        "Opened files",
        &format!("<code>{}/</code>", line(&exported.folder)),
    );
    let sealed = exported.sealed.as_ref().map_or_else(
        || {
            "<span class=\"warn\">not kept</span> (no sealed file beside the opened one)"
                .to_string()
        },
        file_facts,
    );
    row(html, "Sealed file", &sealed);
    html.push_str("</table>\n");
    for answer in &tip.answers {
        html.push_str(&format!(
            "<h3>{}</h3>\n<div class=\"text\">{}</div>\n",
            line(&answer.label),
            text_block(&answer.value)
        ));
    }
    if !tip.text.trim().is_empty() {
        let label = match exported.kind.as_str() {
            "tip" => "What happened",
            _ => "Message",
        };
        html.push_str(&format!(
            "<h3>{label}</h3>\n<div class=\"text\">{}</div>\n",
            text_block(tip.text.trim_end())
        ));
    }
    if !exported.attachments.is_empty() {
        html.push_str("<h3>Attachments</h3>\n");
        for attachment in &exported.attachments {
            attachment_block(html, attachment, tip, case);
        }
    }
    html.push_str("</section>\n");
}

fn attachment_block(html: &mut String, attachment: &ManifestAttachment, tip: &Tip, case: &Path) {
    let declared = tip
        .attachments
        .iter()
        .find(|a| a.path == attachment.archive_path);
    let mut facts = format!("<code>{}</code>", line(&attachment.archive_path));
    if let Some(declared) = declared {
        if !declared.name.is_empty() {
            facts.push_str(&format!(", named “{}” by the sender", line(&declared.name)));
        }
        facts.push_str(&format!(", {}", line(&declared.media_type)));
    }
    let Some(file) = &attachment.file else {
        html.push_str(&format!(
            "<p>{facts}: <span class=\"warn\">listed in tip.json but missing from the opened \
             folder</span></p>\n"
        ));
        return;
    };
    let check = match (declared, attachment.matches_declaration) {
        (Some(_), true) => "size and SHA-256 as tip.json declares",
        (Some(_), false) => {
            "<span class=\"warn\">NOT the size and SHA-256 tip.json declares</span>"
        }
        (None, _) => "<span class=\"warn\">not listed in tip.json</span>",
    };
    let caption = format!("{facts}<br>{}; {check}", file_facts(file));
    if is_image(&case.join(&file.path)) {
        html.push_str(&format!(
            "<figure><img src=\"{}\" alt=\"Photo {}\">\n<figcaption>{caption}</figcaption></figure>\n",
            line(&file.path),
            line(&attachment.archive_path)
        ));
    } else {
        html.push_str(&format!("<p>{caption}</p>\n"));
    }
}

/// `path`, size and SHA-256 of an exported file.
fn file_facts(file: &FileEntry) -> String {
    format!(
        "<code>{}</code>, {} bytes, SHA-256 <span class=\"hash\">{}</span>",
        line(&file.path),
        file.size,
        line(&file.sha256)
    )
}

/// Whether the file's first bytes say JPEG, PNG, WebP or GIF (whatever the
/// tip claims).
fn is_image(path: &Path) -> bool {
    let mut start = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut file| file.read(&mut start));
    read.is_ok_and(|n| image_type(&start[..n]).is_some())
}

fn row(html: &mut String, name: &str, value: &str) {
    html.push_str(&format!("<tr><th>{name}</th><td>{value}</td></tr>\n"));
}

/// `value` on one line, safe in HTML text and attribute values.
fn line(value: &str) -> String {
    escape(&display::line(value).to_string())
}

/// `value` with its lines kept, safe in HTML text.
fn text_block(value: &str) -> String {
    escape(&display::text(value, "").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tip_strings_are_escaped_and_controls_shown() {
        assert_eq!(
            line("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(line("a\u{202e}b\u{1b}[2J"), "a\\u{202e}b\\u{1b}[2J");
        assert_eq!(text_block("one\ntwo\r"), "one\ntwo\\u{d}");
    }
}
