//! The thread page's case work: the merged case state (status, assignee,
//! labels, notes), what the merge found wrong, the form that changes it,
//! and the thread's expiry on the relay with its export.

use sealtip_envelope::CaseStatus;

use super::{esc, readable_time};
use crate::desk::Desk;
use crate::desk::case::CaseView;
use crate::desk::retention::{expires_at, first_expiry, is_soon, now};

/// A status in the desk's words.
pub fn status_word(desk: &Desk, status: CaseStatus) -> String {
    desk.words.get(match status {
        CaseStatus::New => "desk-status-new",
        CaseStatus::InProgress => "desk-status-in-progress",
        CaseStatus::PassedOn => "desk-status-passed-on",
        CaseStatus::Closed => "desk-status-closed",
    })
}

/// When an item received at `received` expires, as HTML: the date, marked
/// when it is within a week.
pub fn expiry_text(desk: &Desk, received: &str, days: u64) -> String {
    match expires_at(received, days) {
        Some(time) => expiry_of(desk, time),
        None => String::new(),
    }
}

fn expiry_of(desk: &Desk, time: u64) -> String {
    let date = readable_time(&sealtip_api::time::rfc3339(time));
    match is_soon(time, now()) {
        true => format!(
            "<strong class=\"expiring\">{}</strong>",
            esc(&desk.words.with("desk-expires-soon", &[("date", &date)]))
        ),
        false => esc(&date),
    }
}

/// What the case section can offer.
pub struct CaseForm<'a> {
    /// The thread page's address (`…/item/<id>`).
    pub action: String,
    /// The merged state.
    pub case: &'a CaseView,
    /// Whether the thread can hold case state (a verified thread).
    pub verified: bool,
    /// The note box's text (after an error).
    pub note_text: &'a str,
}

/// The case section of a thread page.
pub fn case_section(desk: &Desk, form: &CaseForm) -> String {
    let w = &desk.words;
    let case = form.case;
    let mut out = format!(
        "<section class=\"case\" id=\"case\" aria-labelledby=\"case-title\"><h2 id=\"case-title\">{}</h2>",
        esc(&w.get("desk-case-title"))
    );
    if !form.verified {
        out.push_str(&format!(
            "<p>{}</p></section>",
            esc(&w.get("desk-case-unavailable"))
        ));
        return out;
    }
    if !case.state.missing.is_empty() {
        let count = case.state.missing.len().to_string();
        out.push_str(&format!(
            "<p class=\"status error\" role=\"alert\">{}</p>",
            esc(&w.with("desk-case-missing", &[("count", &count)]))
        ));
    }
    if case.refused > 0 {
        out.push_str(&format!(
            "<p class=\"status error\" role=\"alert\">{}</p>",
            esc(&w.with("desk-case-refused", &[("count", &case.refused.to_string())]))
        ));
    }
    let assignee = match case.assignee() {
        "" => w.get("desk-nobody"),
        name => name.to_string(),
    };
    out.push_str(&format!(
        "<dl class=\"case-state\"><dt>{}</dt><dd class=\"case-status\">{}</dd><dt>{}</dt><dd class=\"case-assignee\">{}</dd><dt>{}</dt><dd>",
        esc(&w.get("desk-status")),
        esc(&status_word(desk, case.status())),
        esc(&w.get("desk-assignee")),
        esc(&assignee),
        esc(&w.get("desk-labels")),
    ));
    if case.labels().is_empty() {
        out.push_str(&esc(&w.get("desk-no-labels")));
    } else {
        out.push_str("<ul class=\"labels\">");
        for label in case.labels() {
            let remove = match desk.officer.is_some() && desk.relay.is_some() {
                true => format!(
                    "<form method=\"post\" action=\"{}/case\"><input type=\"hidden\" name=\"remove\" value=\"{}\"><button type=\"submit\" class=\"secondary small\" aria-label=\"{}\">{}</button></form>",
                    form.action,
                    esc(label),
                    esc(&w.with("desk-remove-label", &[("label", label)])),
                    esc(&w.get("desk-remove")),
                ),
                false => String::new(),
            };
            out.push_str(&format!(
                "<li><span class=\"label\">{}</span>{remove}</li>",
                esc(label)
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str("</dd></dl>");
    out.push_str(&format!("<h3>{}</h3>", esc(&w.get("desk-notes"))));
    if case.notes().is_empty() {
        out.push_str(&format!("<p>{}</p>", esc(&w.get("desk-no-notes"))));
    } else {
        out.push_str("<ol class=\"notes\">");
        for note in case.notes() {
            let key = match case.queued.contains(&note.id) {
                true => "desk-note-by-queued",
                false => "desk-note-by",
            };
            let by = w.with(
                key,
                &[
                    ("officer", &note.officer),
                    ("time", &readable_time(&note.written)),
                ],
            );
            out.push_str(&format!(
                "<li><p class=\"note-by\">{}</p><p class=\"note-text\">{}</p></li>",
                esc(&by),
                esc(&note.text)
            ));
        }
        out.push_str("</ol>");
    }
    let help = |key: &str| format!("<p class=\"help\">{}</p>", esc(&w.get(key)));
    match (&desk.officer, &desk.relay) {
        (None, _) => out.push_str(&help("desk-case-no-officer")),
        (Some(_), None) => out.push_str(&help("desk-case-offline")),
        (Some(officer), Some(_)) => out.push_str(&change_form(desk, form, officer)),
    }
    out.push_str("</section>");
    out
}

/// The form that changes the case: status, assignee, a label, a note.
fn change_form(desk: &Desk, form: &CaseForm, officer: &str) -> String {
    let w = &desk.words;
    let case = form.case;
    let mut statuses = String::new();
    for status in CaseStatus::ALL {
        let selected = if status == case.status() {
            " selected"
        } else {
            ""
        };
        statuses.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            status.as_str(),
            esc(&status_word(desk, status))
        ));
    }
    format!(
        "<form method=\"post\" action=\"{action}/case\" class=\"case-form\"><fieldset><legend>{}</legend><p class=\"help\" id=\"case-help\">{}</p><p class=\"field\"><label for=\"case-status\">{}</label><select id=\"case-status\" name=\"status\">{statuses}</select></p><p class=\"field\"><label for=\"case-assignee\">{}</label><input type=\"text\" id=\"case-assignee\" name=\"assignee\" value=\"{}\" maxlength=\"100\" aria-describedby=\"assignee-help\"></p><p class=\"help\" id=\"assignee-help\">{}</p><p class=\"field\"><label for=\"case-label\">{}</label><input type=\"text\" id=\"case-label\" name=\"label\" maxlength=\"100\"></p><p class=\"field\"><label for=\"case-note\">{}</label><textarea id=\"case-note\" name=\"note\" rows=\"4\" aria-describedby=\"case-help\">{}</textarea></p><p><button type=\"submit\">{}</button></p></fieldset></form>",
        esc(&w.with("desk-case-change", &[("officer", officer)])),
        esc(&w.get("desk-case-help")),
        esc(&w.get("desk-status")),
        esc(&w.get("desk-assignee")),
        esc(case.assignee()),
        esc(&w.get("desk-assignee-help")),
        esc(&w.get("desk-add-label")),
        esc(&w.get("desk-add-note")),
        esc(form.note_text),
        esc(&w.get("desk-case-save")),
        action = form.action,
    )
}

/// The export section: when the relay deletes the thread (if it says), a
/// button to keep a local copy, and the evidence export.
pub fn keep_section<'a>(
    desk: &Desk,
    action: &str,
    retention_days: Option<u64>,
    received: impl Iterator<Item = &'a str>,
) -> String {
    let w = &desk.words;
    let dir = desk.export_dir.display().to_string();
    let mut out = format!(
        "<section class=\"keep\" id=\"keep\" aria-labelledby=\"keep-title\"><h2 id=\"keep-title\">{}</h2>",
        esc(&w.get("desk-keep-title"))
    );
    let expiry = retention_days.and_then(|days| first_expiry(received, days));
    if let Some(time) = expiry {
        out.push_str(&format!(
            "<p class=\"expiry\">{} {}</p>",
            esc(&w.get("desk-thread-expires")),
            expiry_of(desk, time)
        ));
    }
    out.push_str(&format!(
        "<p class=\"help\">{}</p>",
        esc(&w.with("desk-export-help", &[("dir", &dir)]))
    ));
    match desk.officer {
        Some(_) => {
            let button = match expiry {
                Some(_) => "desk-keep-copy",
                None => "desk-export",
            };
            out.push_str(&format!(
                "<form method=\"post\" action=\"{action}/export\"><button type=\"submit\">{}</button></form>",
                esc(&w.get(button))
            ));
        }
        None => out.push_str(&format!(
            "<p class=\"help\">{}</p>",
            esc(&w.get("desk-export-no-officer"))
        )),
    }
    out.push_str("</section>");
    out
}
