//! The desk's pages: plain HTML, no script, one stylesheet. Every text from
//! a tip, the relay or the officer is escaped; attachments are never shown
//! here, only linked (an image in an `<img>` only once asked for).

use crate::threads::{Standing, Thread, first_line};
use sealtip_api::{ItemKind, human_size};
use sealtip_envelope::{Attachment, Kind, Tip};

use super::Desk;
use super::state::{Item, Origin, Round, State, reply_target};
use sealtip_envelope::OpenedTip;

/// The stylesheet, served at `desk.css`: the base the page shares
/// (`www/base.css`), then the desk's own.
pub const CSS: &str = concat!(
    include_str!("../../../../www/base.css"),
    include_str!("desk.css")
);

/// A line at the top of a page: a message, and whether it is an error.
pub struct Note {
    /// The words.
    pub text: String,
    /// Shown as an alert.
    pub error: bool,
}

impl Note {
    /// A message that tells what happened.
    pub fn info(text: String) -> Option<Note> {
        Some(Note { text, error: false })
    }

    /// A message that tells what went wrong.
    pub fn error(text: String) -> Option<Note> {
        Some(Note { text, error: true })
    }
}

/// HTML text or attribute value.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `2026-11-29T14:00:00Z` as `2026-11-29 14:00 UTC`; anything else as it is.
pub fn readable_time(time: &str) -> String {
    match time.strip_suffix(":00Z").and_then(|t| t.split_once('T')) {
        Some((day, hour)) => format!("{day} {hour} UTC"),
        None => time.to_string(),
    }
}

/// The frame of every page: title, the desk's bar (check now, lock), the
/// status of the rounds and `note`, then `body`.
fn layout(desk: &Desk, state: &State, title: &str, note: Option<Note>, body: &str) -> String {
    let w = &desk.words;
    let base = desk.base();
    let mut status = String::new();
    match &desk.relay {
        None => status.push_str(&format!(
            "<p class=\"status\">{}</p>",
            esc(&w.with("desk-offline", &[("dir", &desk.folder_name())]))
        )),
        Some(_) => {
            let (line, error) = match &state.round {
                Round::NotYet | Round::Running => (w.get("desk-checking"), false),
                Round::Done(time) => (
                    w.with(
                        "desk-checked",
                        &[("time", &time.replace('T', " ").replace('Z', " UTC"))],
                    ),
                    false,
                ),
                Round::Failed(key, detail) => (w.with(key, &[("detail", detail)]), true),
            };
            status.push_str(&status_line(&line, error));
            let queued = state.queued_replies().len();
            if queued > 0 {
                let count = queued.to_string();
                status.push_str(&format!(
                    "<p class=\"status\">{}</p>",
                    esc(&w.with("desk-queued-count", &[("count", &count)]))
                ));
            }
        }
    }
    if let Some(note) = note {
        status.push_str(&status_line(&note.text, note.error));
    }
    let check = match desk.relay {
        Some(_) => format!(
            "<form method=\"post\" action=\"{base}check\"><button type=\"submit\" class=\"secondary\">{}</button></form>",
            esc(&w.get("desk-check-now"))
        ),
        None => String::new(),
    };
    let bar = format!(
        "<header class=\"bar\"><p class=\"name\"><a href=\"{base}\">{}</a></p><div class=\"bar-actions\">{check}<form method=\"post\" action=\"{base}lock\"><button type=\"submit\" class=\"lock\">{}</button></form></div></header>",
        esc(&w.with("desk-title", &[("agency", &desk.agency)])),
        esc(&w.get("desk-lock")),
    );
    document(
        desk,
        &format!("{bar}<main id=\"main\">{status}{body}</main>"),
        title,
    )
}

fn status_line(text: &str, error: bool) -> String {
    if error {
        format!("<p class=\"status error\" role=\"alert\">{}</p>", esc(text))
    } else {
        format!("<p class=\"status\" role=\"status\">{}</p>", esc(text))
    }
}

/// A whole HTML document with the desk's stylesheet.
fn document(desk: &Desk, inner: &str, title: &str) -> String {
    let w = &desk.words;
    let dir = if w.rtl() { "rtl" } else { "ltr" };
    format!(
        "<!doctype html>\n<html lang=\"{}\" dir=\"{dir}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>{}</title><link rel=\"stylesheet\" href=\"{}desk.css\"></head><body><a class=\"skip\" href=\"#main\">{}</a>{inner}</body></html>\n",
        esc(w.tag()),
        esc(title),
        desk.base(),
        esc(&w.get("desk-skip")),
    )
}

/// The word for an item's kind.
fn kind_word(desk: &Desk, item: &Item) -> String {
    desk.words.get(match item.origin {
        Origin::Inbox(ItemKind::Tip, _) => "desk-kind-tip",
        Origin::Inbox(ItemKind::Message, _) => "desk-kind-message",
        Origin::Reply | Origin::Queued => "desk-kind-reply",
    })
}

/// The inbox: every tip and follow-up, with size, when received and its
/// first line.
pub fn inbox(desk: &Desk, state: &State, note: Option<Note>) -> String {
    let w = &desk.words;
    let base = desk.base();
    let items = state.inbox();
    let mut body = format!(
        "<h1>{}</h1>",
        esc(&w.with("desk-inbox-of", &[("agency", &desk.agency)]))
    );
    if items.is_empty() {
        body.push_str(&format!("<p>{}</p>", esc(&w.get("desk-empty"))));
    } else {
        body.push_str(&format!(
            "<table class=\"inbox\"><caption class=\"hidden\">{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            esc(&w.get("desk-inbox-caption")),
            esc(&w.get("desk-kind")),
            esc(&w.get("desk-size")),
            esc(&w.get("desk-received")),
            esc(&w.get("desk-actions")),
        ));
        for item in items {
            let kind = kind_word(desk, item);
            let size = match item.origin {
                Origin::Inbox(_, size) => human_size(size),
                _ => String::new(),
            };
            let received = readable_time(&item.received);
            let args = [("kind", kind.as_str()), ("received", received.as_str())];
            let summary = match &item.opened {
                Ok(opened) => format!(
                    "<span class=\"summary\">{}</span>",
                    esc(&first_line(&opened.tip.text))
                ),
                Err((key, detail)) => format!(
                    "<span class=\"summary error\">{}</span>",
                    esc(&w.with(key, &[("detail", detail)]))
                ),
            };
            let open = match item.opened {
                Ok(_) => format!(
                    "<a class=\"button\" href=\"{base}item/{id}\" aria-label=\"{}\">{}</a>",
                    esc(&w.with("desk-open-item", &args)),
                    esc(&w.get("desk-open")),
                    id = item.id,
                ),
                Err(_) => String::new(),
            };
            body.push_str(&format!(
                "<tr><td class=\"kind\">{}{summary}</td><td class=\"size\">{}</td><td class=\"received\">{}</td><td><span class=\"actions\">{open}<a class=\"button secondary\" href=\"{base}item/{id}/delete\" aria-label=\"{}\">{}</a></span></td></tr>",
                esc(&kind),
                esc(&size),
                esc(&received),
                esc(&w.with("desk-delete-item", &args)),
                esc(&w.get("desk-delete")),
                id = item.id,
            ));
        }
        body.push_str("</tbody></table>");
    }
    layout(desk, state, &w.get("desk-inbox-title"), note, &body)
}

/// What the thread page shows beside the thread.
#[derive(Default)]
pub struct ThreadView<'a> {
    /// The photo to draw: item id and attachment number.
    pub show: Option<(&'a str, usize)>,
    /// The reply box's text (after an error).
    pub reply_text: &'a str,
    /// A line at the top.
    pub note: Option<Note>,
}

/// The thread of item `id`: each entry with its text, answers and files,
/// then the reply box.
pub fn thread(
    desk: &Desk,
    state: &State,
    id: &str,
    thread: &Thread<(&Item, &OpenedTip)>,
    view: ThreadView,
) -> String {
    let w = &desk.words;
    let base = desk.base();
    let mut body = format!(
        "<p><a href=\"{base}\">{}</a></p><h1>{}</h1>",
        esc(&w.get("desk-back")),
        esc(&w.get("desk-thread-title"))
    );
    for in_thread in &thread.items {
        let (item, opened) = in_thread.item;
        let standing = in_thread.standing;
        body.push_str(&entry(desk, id, item, &opened.tip, standing, view.show));
    }
    let can_reply = desk.relay.is_some();
    body.push_str("<section class=\"reply\" aria-labelledby=\"reply-title\">");
    body.push_str(&format!(
        "<h2 id=\"reply-title\">{}</h2>",
        esc(&w.get("desk-reply-title"))
    ));
    // A tip that offers replies but is not proven: say so, not "no key".
    let claims_replies = thread
        .items
        .iter()
        .any(|entry| entry.item.1.tip.claimed_mailbox().is_some());
    match (reply_target(thread), can_reply) {
        (None, _) if claims_replies => body.push_str(&format!(
            "<p>{}</p>",
            esc(&w.get("desk-reply-unverified"))
        )),
        (None, _) => body.push_str(&format!("<p>{}</p>", esc(&w.get("desk-no-reply-key")))),
        (Some(_), false) => body.push_str(&format!("<p>{}</p>", esc(&w.get("desk-reply-offline")))),
        (Some(_), true) => body.push_str(&format!(
            "<form method=\"post\" action=\"{base}item/{id}/reply\"><label for=\"reply-text\">{}</label><p class=\"help\" id=\"reply-help\">{}</p><textarea id=\"reply-text\" name=\"text\" rows=\"5\" aria-describedby=\"reply-help\" required>{}</textarea><p><button type=\"submit\">{}</button></p></form>",
            esc(&w.get("desk-reply")),
            esc(&w.get("desk-reply-help")),
            esc(view.reply_text),
            esc(&w.get("desk-queue-reply")),
        )),
    }
    body.push_str("</section>");
    layout(desk, state, &w.get("desk-thread-title"), view.note, &body)
}

/// One entry of a thread.
fn entry(
    desk: &Desk,
    thread_id: &str,
    item: &Item,
    tip: &Tip,
    standing: Standing,
    show: Option<(&str, usize)>,
) -> String {
    let w = &desk.words;
    let date = readable_time(&item.received);
    let key = match (&item.origin, tip.kind) {
        (Origin::Queued, _) => "desk-from-agency-queued",
        (_, Kind::Tip) => "desk-from-tip",
        (_, Kind::Message) => "desk-from-tipster",
        (_, Kind::Reply | Kind::Case) => "desk-from-agency",
    };
    let class = match tip.kind {
        Kind::Reply => "entry from-agency",
        _ => "entry",
    };
    let mark = match standing {
        Standing::Verified => format!(
            "<p class=\"mark verified\">{}</p>",
            esc(&w.get("desk-verified"))
        ),
        Standing::Unverified => format!(
            "<p class=\"mark unverified\"><strong>{}</strong> {}</p>",
            esc(&w.get("desk-unverified")),
            esc(&w.get("desk-unverified-help"))
        ),
        Standing::Alone => String::new(),
    };
    let mut out = format!(
        "<article class=\"{class}\" id=\"entry-{id}\" aria-labelledby=\"title-{id}\"><h2 id=\"title-{id}\">{}</h2>{mark}",
        esc(&w.with(key, &[("date", &date)])),
        id = esc(&item.id),
    );
    if !tip.text.is_empty() {
        out.push_str(&format!("<p class=\"tip-text\">{}</p>", esc(&tip.text)));
    }
    if !tip.answers.is_empty() {
        out.push_str("<dl class=\"answers\">");
        for answer in &tip.answers {
            out.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>",
                esc(&answer.label),
                esc(&answer.value)
            ));
        }
        out.push_str("</dl>");
    }
    if !tip.attachments.is_empty() {
        out.push_str(&format!(
            "<h3>{}</h3><ul class=\"files\">",
            esc(&w.get("desk-attachments"))
        ));
        for (number, attachment) in tip.attachments.iter().enumerate() {
            let shown = show == Some((item.id.as_str(), number));
            out.push_str(&file_row(desk, thread_id, item, number, attachment, shown));
        }
        out.push_str("</ul>");
    }
    if item.origin == Origin::Queued {
        out.push_str(&format!(
            "<p class=\"help\">{}</p>",
            esc(&w.get("desk-queued-help"))
        ));
    } else if let Origin::Inbox(..) = item.origin {
        out.push_str(&format!(
            "<p><a class=\"button secondary\" href=\"{}item/{}/delete\">{}</a></p>",
            desk.base(),
            item.id,
            esc(&w.get("desk-delete-this"))
        ));
    }
    out.push_str("</article>");
    out
}

/// One attachment: its name and size, a download link, and for a photo a
/// link that draws it (or the photo itself, once asked for).
fn file_row(
    desk: &Desk,
    thread_id: &str,
    item: &Item,
    number: usize,
    attachment: &Attachment,
    shown: bool,
) -> String {
    let w = &desk.words;
    let base = desk.base();
    // A file whose name the tipster left out shows its archive name.
    let name = &match attachment.name.is_empty() {
        true => super::attachments::download_name(&attachment.path),
        false => attachment.name.clone(),
    };
    let mut out = format!(
        "<li id=\"file-{id}-{number}\"><span class=\"file-name\">{}</span> <span class=\"file-size\">({})</span> <span class=\"actions\"><a class=\"button secondary\" href=\"{base}file/{id}/{number}\" download>{}</a>",
        esc(name),
        esc(&human_size(attachment.size)),
        esc(&w.with("desk-download", &[("name", name)])),
        id = item.id,
    );
    if super::attachments::may_be_image(&attachment.media_type) {
        if shown {
            out.push_str(&format!(
                "<a class=\"button secondary\" href=\"{base}item/{thread_id}#file-{id}-{number}\">{}</a></span><img class=\"photo\" src=\"{base}image/{id}/{number}\" alt=\"{}\">",
                esc(&w.with("desk-hide-photo", &[("name", name)])),
                esc(&w.with("desk-photo-alt", &[("name", name)])),
                id = item.id,
            ));
        } else {
            out.push_str(&format!(
                "<a class=\"button secondary\" href=\"{base}item/{thread_id}?show={id}-{number}#file-{id}-{number}\">{}</a></span>",
                esc(&w.with("desk-show-photo", &[("name", name)])),
                id = item.id,
            ));
        }
    } else {
        out.push_str("</span>");
    }
    out.push_str("</li>");
    out
}

/// The question before deleting item `item`.
pub fn confirm_delete(desk: &Desk, state: &State, item: &Item, note: Option<Note>) -> String {
    let w = &desk.words;
    let base = desk.base();
    let kind = kind_word(desk, item);
    let received = readable_time(&item.received);
    let args = [("kind", kind.as_str()), ("received", received.as_str())];
    let question = match (&desk.relay, &desk.inbox_dir) {
        (Some(_), Some(_)) => "desk-delete-question-both",
        (Some(_), None) => "desk-delete-question-relay",
        (None, _) => "desk-delete-question-folder",
    };
    let summary = item
        .tip()
        .map(|tip| format!("<blockquote>{}</blockquote>", esc(&first_line(&tip.text))))
        .unwrap_or_default();
    let body = format!(
        "<h1>{}</h1><p>{}</p>{summary}<form method=\"post\" action=\"{base}item/{id}/delete\" class=\"confirm\"><button type=\"submit\" class=\"danger\">{}</button> <a class=\"button secondary\" href=\"{back}\">{}</a></form>",
        esc(&w.with("desk-delete-title", &args)),
        esc(&w.with(question, &[("dir", &desk.folder_name())])),
        esc(&w.get("desk-delete-confirm")),
        esc(&w.get("desk-cancel")),
        id = item.id,
        back = match item.opened {
            Ok(_) => format!("{base}item/{}", item.id),
            Err(_) => base.clone(),
        },
    );
    layout(desk, state, &w.get("desk-delete"), note, &body)
}

/// A page for a missing item or file.
pub fn not_found(desk: &Desk, state: &State, key: &str) -> String {
    let w = &desk.words;
    let body = format!(
        "<h1>{}</h1><p><a href=\"{}\">{}</a></p>",
        esc(&w.get(key)),
        desk.base(),
        esc(&w.get("desk-back"))
    );
    layout(desk, state, &w.get(key), None, &body)
}

/// What every address shows once the desk is locked.
pub fn locked(desk: &Desk) -> String {
    let w = &desk.words;
    let body = format!(
        "<main id=\"main\"><h1>{}</h1><p>{}</p><p>{}</p></main>",
        esc(&w.get("desk-locked-title")),
        esc(&w.get("desk-locked")),
        esc(&w.get("desk-locked-again")),
    );
    document(desk, &body, &w.get("desk-locked-title"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_times_read_in_utc() {
        assert_eq!(
            esc("<img src=x onerror='a'> & \"b\""),
            "&lt;img src=x onerror=&#39;a&#39;&gt; &amp; &quot;b&quot;"
        );
        assert_eq!(
            readable_time("2026-11-29T14:00:00Z"),
            "2026-11-29 14:00 UTC"
        );
        assert_eq!(readable_time("yesterday"), "yesterday");
    }
}
