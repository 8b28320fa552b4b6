//! The desk's pages: plain HTML, no script, one stylesheet. Every text from
//! a tip, the relay or the officer is escaped; attachments are never shown
//! here, only linked (an image in an `<img>` only once asked for).
//!
//! This file holds the frame of every page and the small pages; `inbox`
//! (find, filter, status, expiry), `thread` (the entries and the reply
//! box) and `case` (case state, its form, retention and export) the rest.

mod case;
mod inbox;
mod thread;

pub use inbox::inbox;
pub use thread::{ThreadView, thread};

use crate::threads::first_line;
use sealtip_api::ItemKind;

use super::Desk;
use super::state::{Item, Origin, Round, State};

/// The stylesheet, served at `desk.css`: the base the page shares
/// (`www/base.css`), then the desk's own.
pub const CSS: &str = concat!(
    include_str!("../../../../../www/base.css"),
    include_str!("../desk.css")
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
    sealtip_api::html::escape(text)
}

/// `2026-11-29T14:05:09Z` as `2026-11-29 14:05 UTC`; anything else as it is.
pub fn readable_time(time: &str) -> String {
    let b = time.as_bytes();
    match (time.get(..10), time.get(11..16)) {
        (Some(day), Some(minute)) if b.len() == 20 && b[10] == b'T' && b[19] == b'Z' => {
            format!("{day} {minute} UTC")
        }
        _ => time.to_string(),
    }
}

/// The frame of every page: title, the desk's bar (check now, lock), the
/// status of the rounds and `note`, then `body`.
pub(super) fn layout(
    desk: &Desk,
    state: &State,
    title: &str,
    note: Option<Note>,
    body: &str,
) -> String {
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
        format!(
            "<p class=\"status\" role=\"status\" aria-live=\"polite\">{}</p>",
            esc(text)
        )
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
pub(super) fn kind_word(desk: &Desk, item: &Item) -> String {
    desk.words.get(match item.origin {
        Origin::Inbox(ItemKind::Tip, _) => "desk-kind-tip",
        Origin::Inbox(ItemKind::Message, _) => "desk-kind-message",
        Origin::Inbox(ItemKind::Case, _) | Origin::QueuedCase => "desk-kind-case",
        Origin::Reply | Origin::Queued => "desk-kind-reply",
    })
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
        assert_eq!(
            readable_time("2026-12-07T05:10:37Z"),
            "2026-12-07 05:10 UTC"
        );
    }
}
