//! The inbox page: what is new since the officer last looked, the search
//! box and filters, then every tip and follow-up with its thread's status,
//! size, when received and when the relay deletes it.

use std::collections::BTreeSet;

use crate::threads::first_line;
use sealtip_api::human_size;
use sealtip_envelope::CaseStatus;

use super::case::{expiry_text, status_word};
use super::{Note, esc, kind_word, layout, readable_time};
use crate::desk::Desk;
use crate::desk::case::{cases_by_item, stray_cases};
use crate::desk::find::Find;
use crate::desk::state::{Origin, State};

/// The inbox: what is new, find and filter, then the items `find` lets
/// through, oldest first.
pub fn inbox(desk: &Desk, state: &State, note: Option<Note>, find: &Find) -> String {
    let w = &desk.words;
    let base = desk.base();
    let items = state.inbox();
    let threads = state.threads();
    let cases = cases_by_item(state, &threads);
    let mut body = format!(
        "<h1>{}</h1>",
        esc(&w.with("desk-inbox-of", &[("agency", &desk.agency)]))
    );
    let new = state.new_since_looked();
    if new > 0 {
        body.push_str(&format!(
            "<p class=\"new-count\" role=\"status\" aria-live=\"polite\"><strong>{}</strong></p>",
            esc(&w.with("desk-new-count", &[("count", &new.to_string())]))
        ));
    }
    let stray = stray_cases(state, &threads);
    if stray > 0 {
        body.push_str(&format!(
            "<p class=\"status error\" role=\"alert\">{}</p>",
            esc(&w.with("desk-case-stray", &[("count", &stray.to_string())]))
        ));
    }
    if items.is_empty() {
        body.push_str(&format!("<p>{}</p>", esc(&w.get("desk-empty"))));
        return layout(desk, state, &w.get("desk-inbox-title"), note, &body);
    }
    let labels: BTreeSet<&str> = cases
        .values()
        .flat_map(|case| case.labels().iter().map(String::as_str))
        .collect();
    let officers: BTreeSet<&str> = cases
        .values()
        .map(|case| case.assignee())
        .filter(|name| !name.is_empty())
        .collect();
    body.push_str(&find_form(desk, find, &labels, &officers));
    let shown: Vec<_> = items
        .iter()
        .filter(|item| find.matches(item, cases.get(item.id.as_str()).map(|c| &**c)))
        .collect();
    if find.is_active() {
        let (count, total) = (shown.len().to_string(), items.len().to_string());
        body.push_str(&format!(
            "<p class=\"found\" role=\"status\" aria-live=\"polite\">{}</p>",
            esc(&w.with("desk-found", &[("count", &count), ("total", &total)]))
        ));
    }
    if shown.is_empty() {
        return layout(desk, state, &w.get("desk-inbox-title"), note, &body);
    }
    let expires_head = match state.retention_days {
        Some(_) => format!("<th scope=\"col\">{}</th>", esc(&w.get("desk-expires"))),
        None => String::new(),
    };
    body.push_str(&format!(
        "<table class=\"inbox\"><caption class=\"hidden\">{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>{expires_head}<th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(&w.get("desk-inbox-caption")),
        esc(&w.get("desk-kind")),
        esc(&w.get("desk-status")),
        esc(&w.get("desk-size")),
        esc(&w.get("desk-received")),
        esc(&w.get("desk-actions")),
    ));
    for item in shown {
        let kind = kind_word(desk, item);
        let size = match item.origin {
            Origin::Inbox(_, size) => human_size(size),
            _ => String::new(),
        };
        let received = readable_time(&item.received);
        let args = [("kind", kind.as_str()), ("received", received.as_str())];
        let new_mark = match item.order > state.looked {
            true => format!(
                "<strong class=\"new\">{}</strong> ",
                esc(&w.get("desk-new"))
            ),
            false => String::new(),
        };
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
        let case = cases.get(item.id.as_str());
        let status = case.map_or(CaseStatus::New, |case| case.status());
        // On a phone each row is a card without the table's headings.
        let mut status_cell = format!(
            "<span class=\"cell-label\">{}: </span>{}",
            esc(&w.get("desk-status")),
            esc(&status_word(desk, status))
        );
        if let Some(case) = case.filter(|case| !case.labels().is_empty()) {
            let labels: Vec<&str> = case.labels().iter().map(String::as_str).collect();
            status_cell.push_str(&format!(
                "<span class=\"labels\">{}</span>",
                esc(&labels.join(", "))
            ));
        }
        let expires = match state.retention_days {
            Some(days) => format!(
                "<td class=\"expires\">{}</td>",
                expiry_text(desk, &item.received, days)
            ),
            None => String::new(),
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
            "<tr><td class=\"kind\">{new_mark}{}{summary}</td><td class=\"case-status\">{status_cell}</td><td class=\"size\">{}</td><td class=\"received\">{}</td>{expires}<td><span class=\"actions\">{open}<a class=\"button secondary\" href=\"{base}item/{id}/delete\" aria-label=\"{}\">{}</a></span></td></tr>",
            esc(&kind),
            esc(&size),
            esc(&received),
            esc(&w.with("desk-delete-item", &args)),
            esc(&w.get("desk-delete")),
            id = item.id,
        ));
    }
    body.push_str("</tbody></table>");
    layout(desk, state, &w.get("desk-inbox-title"), note, &body)
}

/// The search box and the filters: a plain GET form to the inbox.
fn find_form(
    desk: &Desk,
    find: &Find,
    labels: &BTreeSet<&str>,
    officers: &BTreeSet<&str>,
) -> String {
    let w = &desk.words;
    let any = esc(&w.get("desk-any"));
    let options = |chosen: &str, values: &mut dyn Iterator<Item = (String, String)>| {
        let mut out = format!("<option value=\"\">{any}</option>");
        for (value, words) in values {
            let selected = if value == chosen { " selected" } else { "" };
            out.push_str(&format!(
                "<option value=\"{}\"{selected}>{}</option>",
                esc(&value),
                esc(&words)
            ));
        }
        out
    };
    let statuses = options(
        &find.status,
        &mut CaseStatus::ALL
            .into_iter()
            .map(|status| (status.as_str().to_string(), status_word(desk, status))),
    );
    let labels = options(
        &find.label,
        &mut labels
            .iter()
            .map(|label| (label.to_string(), label.to_string())),
    );
    let officers = options(
        &find.officer,
        &mut officers
            .iter()
            .map(|name| (name.to_string(), name.to_string())),
    );
    // The filters fold away on a small screen unless one is in use.
    let filtering = !(find.status.is_empty() && find.label.is_empty() && find.officer.is_empty());
    let open = if filtering { " open" } else { "" };
    format!(
        "<form method=\"get\" action=\"{base}\" class=\"find\" role=\"search\" aria-label=\"{}\"><p class=\"field wide\"><label for=\"find-q\">{}</label><input type=\"search\" id=\"find-q\" name=\"q\" value=\"{}\" aria-describedby=\"find-help\"></p><p class=\"help\" id=\"find-help\">{}</p><details class=\"filters\"{open}><summary>{}</summary><div class=\"filter-fields\"><p class=\"field\"><label for=\"find-status\">{}</label><select id=\"find-status\" name=\"status\">{statuses}</select></p><p class=\"field\"><label for=\"find-label\">{}</label><select id=\"find-label\" name=\"label\">{labels}</select></p><p class=\"field\"><label for=\"find-officer\">{}</label><select id=\"find-officer\" name=\"officer\">{officers}</select></p></div></details><p class=\"find-actions\"><button type=\"submit\">{}</button> <a class=\"button secondary\" href=\"{base}\">{}</a></p></form>",
        esc(&w.get("desk-find-title")),
        esc(&w.get("desk-find")),
        esc(&find.q),
        esc(&w.get("desk-find-help")),
        esc(&w.get("desk-filters")),
        esc(&w.get("desk-status")),
        esc(&w.get("desk-label")),
        esc(&w.get("desk-assignee")),
        esc(&w.get("desk-find-button")),
        esc(&w.get("desk-show-all")),
        base = desk.base(),
    )
}
