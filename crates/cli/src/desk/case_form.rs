//! The thread page's two forms: a change to the case (sealed now, queued,
//! posted with the next round like a reply) and the export button. Both
//! are POSTs behind the desk's guards (secret, `Host`, `Origin`).

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::Desk;
use super::case::{CaseForm, case_of, change_of};
use super::open::seal_case;
use super::pages::{self, Note, ThreadView};
use super::server::{html, thread_page};

/// Seals the change the case form asks for and queues it for the next round.
pub async fn change_case(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id)): Path<(String, String)>,
    form: Result<axum::Form<CaseForm>, FormRejection>,
) -> Response {
    let form = form.map(|form| form.0).unwrap_or_default();
    let failed = |key: &'static str, detail: &str, note: &str| {
        let view = ThreadView {
            note: Note::error(desk.words.with(key, &[("detail", detail)])),
            case_note: note,
            ..ThreadView::default()
        };
        thread_page(&desk, &id, view, StatusCode::BAD_REQUEST)
    };
    let Some(officer) = desk.officer.clone() else {
        return failed("desk-case-no-officer", "", &form.note);
    };
    if desk.relay.is_none() {
        return failed("desk-case-offline", "", &form.note);
    }
    let prepared = {
        let state = desk.state();
        let Some(keys) = state.keys.clone() else {
            return html(StatusCode::OK, pages::locked(&desk));
        };
        state.thread_of(&id).map(|thread| {
            let case = case_of(&state, &thread);
            let target = thread.mailbox.clone().zip(thread.key.clone());
            (keys, case, target)
        })
    };
    let Some((keys, case, target)) = prepared else {
        let state = desk.state();
        let page = pages::not_found(&desk, &state, "desk-no-such-item");
        return html(StatusCode::NOT_FOUND, page);
    };
    let Some((mailbox, key)) = target else {
        return failed("desk-case-unavailable", "", &form.note);
    };
    let written = crate::time::now_rfc3339();
    let change = match change_of(&form, &case, &officer, written.clone()) {
        Ok(change) => change,
        Err(problem) => return failed(problem, "", &form.note),
    };
    let agency = desk.agency.clone();
    let sealed = tokio::task::spawn_blocking(move || {
        seal_case(&agency, &mailbox, &key, change, &keys.identities)
    })
    .await
    .unwrap_or_else(|error| Err(("desk-case-seal-failed", error.to_string())));
    match sealed {
        Ok((sealed, opened)) => {
            desk.state().queue_case(sealed, opened, written);
            let to = format!("{}item/{id}?note=case#case", desk.base());
            Redirect::to(&to).into_response()
        }
        Err((key, detail)) => failed(key, &detail, &form.note),
    }
}

/// Exports the thread into a new folder under `--export-dir`, then shows
/// the thread with where it went and how to check it.
pub async fn export(
    Shared(desk): Shared<Arc<Desk>>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match desk.export(id.clone()).await {
        Ok(folder) => {
            let folder = folder.display().to_string();
            let text = desk.words.with("desk-exported", &[("dir", &folder)]);
            let view = ThreadView {
                note: Note::info(text),
                ..ThreadView::default()
            };
            thread_page(&desk, &id, view, StatusCode::OK)
        }
        Err((key, detail)) => {
            let view = ThreadView {
                note: Note::error(desk.words.with(key, &[("detail", &detail)])),
                ..ThreadView::default()
            };
            let status = match key {
                "desk-export-no-officer" => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            thread_page(&desk, &id, view, status)
        }
    }
}
