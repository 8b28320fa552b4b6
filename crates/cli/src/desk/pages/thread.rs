//! The thread page: each entry with its text, answers and files, the
//! case section, the reply box and the export section.

use crate::threads::{Standing, Thread};
use sealtip_api::human_size;
use sealtip_envelope::{Attachment, Kind, OpenedTip, Tip};

use super::case::{CaseForm, case_section, keep_section};
use super::{Note, esc, layout, readable_time};
use crate::desk::Desk;
use crate::desk::case::case_of;
use crate::desk::state::{Item, Origin, State, reply_target};

/// What the thread page shows beside the thread.
#[derive(Default)]
pub struct ThreadView<'a> {
    /// The photo to draw: item id and attachment number.
    pub show: Option<(&'a str, usize)>,
    /// The reply box's text (after an error).
    pub reply_text: &'a str,
    /// A line at the top.
    pub note: Option<Note>,
    /// The case note box's text (after an error).
    pub case_note: &'a str,
}

/// The thread of item `id`: each entry with its text, answers and files,
/// then its case state, the reply box, and its expiry and export.
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
    let action = format!("{base}item/{id}");
    let case = case_of(state, thread);
    body.push_str(&case_section(
        desk,
        &CaseForm {
            action: action.clone(),
            case: &case,
            verified: thread.key.is_some(),
            note_text: view.case_note,
        },
    ));
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
    // What the relay holds of the thread, and so deletes in time.
    let on_relay = thread
        .items
        .iter()
        .filter(|entry| matches!(entry.item.0.origin, Origin::Inbox(..) | Origin::Reply))
        .map(|entry| entry.item.0.received.as_str());
    body.push_str(&keep_section(desk, &action, state.retention_days, on_relay));
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
        true => crate::desk::attachments::download_name(&attachment.path),
        false => attachment.name.clone(),
    };
    let mut out = format!(
        "<li id=\"file-{id}-{number}\"><span class=\"file-name\">{}</span> <span class=\"file-size\">({})</span> <span class=\"actions\"><a class=\"button secondary\" href=\"{base}file/{id}/{number}\" download>{}</a>",
        esc(name),
        esc(&human_size(attachment.size)),
        esc(&w.with("desk-download", &[("name", name)])),
        id = item.id,
    );
    if crate::desk::attachments::may_be_image(&attachment.media_type) {
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
