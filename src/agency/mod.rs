//! The agency's inbox at `/agency`: an officer loads an identity file and
//! the inbox token, lists the inbox, opens tips and their threads in the
//! browser, replies and deletes.
//!
//! - [`state`]: state, actions, reducer (pure, tested natively);
//! - [`open`]: identity files, opening items, sealing replies, with
//!   envelope's functions (pure, tested natively);
//! - [`components`]: the page's pieces.
//!
//! Keys and token stay in this tab's memory only (never in cookies or any
//! storage) and are dropped on "Lock" and when the page is left. Nothing
//! opened is ever sent: the relay gets only the token, item ids and the
//! sealed reply.

pub mod components;
pub mod open;
pub mod state;

use std::rc::Rc;

use sealtip_api::{InboxItem, ItemKind, human_size};
use sealtip_envelope::bundle::Kind;
use yew::prelude::*;
use zeroize::Zeroizing;

use crate::api::{self, ApiError};
use crate::browser;
use crate::i18n::{Lang, Texts, use_texts};
use components::{
    InboxList, InboxRow, ReplyForm, ThreadEntry, UnlockForm, UnlockInput, UnlockWords,
};
use state::{Action, Opened, Session, Source, State, View};

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().reduce(action))
    }
}

type Dispatch = UseReducerDispatcher<State>;

/// The inbox page.
#[function_component]
pub fn AgencyInbox() -> Html {
    let state = use_reducer(State::default);
    let lang = *use_memo((), |_| {
        Lang::negotiate(browser::languages().iter().map(String::as_str))
    });
    let texts = use_texts(lang, "agency-title", Callback::noop());
    // Leaving the page (closing, reloading, navigating) forgets everything.
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let listener = browser::on_page_hide(move || dispatch.dispatch(Action::Lock));
            move || drop(listener)
        });
    }
    let Some(texts) = texts else {
        return html! {
            <main id="main" class="agency">
                <p role="status" class="loading" aria-busy="true"></p>
            </main>
        };
    };

    let busy = state.busy;
    let body = match (&state.session, &state.view) {
        (Some(session), Some(View::Thread(id))) => thread(&state, &texts, session, id),
        (Some(session), _) => inbox(&state, &texts, session),
        (None, _) => {
            let on_unlock = {
                let dispatch = state.dispatcher();
                Callback::from(move |input: UnlockInput| {
                    dispatch.dispatch(Action::Working("agency-loading-key"));
                    let dispatch = dispatch.clone();
                    wasm_bindgen_futures::spawn_local(unlock(input, dispatch));
                })
            };
            let words = UnlockWords {
                file: texts.get("agency-key-file").into(),
                paste: texts.get("agency-key-paste").into(),
                passphrase: texts.get("agency-passphrase").into(),
                token: texts.get("agency-token").into(),
                unlock: texts.get("agency-unlock").into(),
            };
            html! {
                <>
                    <p class="intro">{ texts.get("agency-intro") }</p>
                    <UnlockForm {words} needs_passphrase={state.needs_passphrase} {busy} {on_unlock} />
                </>
            }
        }
    };
    let note = &state.note;
    let line = if note.key.is_empty() {
        String::new()
    } else {
        texts.with(note.key, &[("detail", &note.detail)])
    };
    let lock = state.session.is_some().then(|| {
        let dispatch = state.dispatcher();
        html! {
            <button type="button" class="lock secondary" onclick={move |_| dispatch.dispatch(Action::Lock)}>
                { texts.get("agency-lock") }
            </button>
        }
    });
    html! {
        <main id="main" class="agency">
            <header class="agency-bar">
                <h1>{ texts.get("agency-title") }</h1>
                { for lock }
            </header>
            <p class={classes!("status", note.error.then_some("error"))}
                role={if note.error { "alert" } else { "status" }} aria-live="polite">{ line }</p>
            { body }
        </main>
    }
}

/// Reads the identity file, then lists the inbox with the token.
async fn unlock(input: UnlockInput, dispatch: Dispatch) {
    let agency = match agency_id().await {
        Ok(agency) => agency,
        Err(error) => return fail(&dispatch, error),
    };
    let bytes = match &input.file {
        Some(file) => Zeroizing::new(browser::read_file(file).await.unwrap_or_default()),
        None => Zeroizing::new(input.pasted.trim().as_bytes().to_vec()),
    };
    if bytes.is_empty() {
        return dispatch.dispatch(Action::Failed("agency-no-key", String::new()));
    }
    let token = Zeroizing::new(input.token.trim().to_string());
    if token.is_empty() {
        return dispatch.dispatch(Action::Failed("agency-no-token", String::new()));
    }
    // Let the page say what it is doing before scrypt takes the thread.
    browser::yield_now().await;
    browser::yield_now().await;
    let passphrase = Some(input.passphrase.as_str()).filter(|p| !p.is_empty());
    let identities = match open::load_identities(&bytes, passphrase) {
        Ok(identities) => identities,
        Err(("agency-needs-passphrase", _)) => {
            dispatch.dispatch(Action::AskPassphrase);
            return browser::focus("key-passphrase");
        }
        Err((key, detail)) => return dispatch.dispatch(Action::Failed(key, detail)),
    };
    match api::inbox(&agency, &token).await {
        Ok(inbox) => {
            let session = Rc::new(Session {
                agency,
                identities,
                token,
            });
            dispatch.dispatch(Action::Unlocked(session, inbox.items));
        }
        Err(error) => fail(&dispatch, error),
    }
}

/// The agency named by the address (`?agency=`), else the relay's default.
async fn agency_id() -> Result<String, ApiError> {
    match crate::state::agency_in_address(&browser::path(), &browser::query()) {
        Some(id) => Ok(id),
        None => api::default_agency().await,
    }
}

/// A failed request as one line: relay down, token refused, or its reason.
fn fail(dispatch: &Dispatch, error: ApiError) {
    let (key, detail) = match error {
        ApiError::Network => ("agency-relay-down", String::new()),
        ApiError::Status { status: 401, .. } => ("agency-token-refused", String::new()),
        ApiError::Status { status, reason } => ("agency-relay-error", format!("{status} {reason}")),
        ApiError::Decode => ("agency-relay-error", error.to_string()),
    };
    dispatch.dispatch(Action::Failed(key, detail));
}

/// `2026-11-29T14:00:00Z` as `2026-11-29 14:00 UTC`; anything else as it is.
pub fn readable_time(time: &str) -> String {
    match time.strip_suffix(":00Z").and_then(|t| t.split_once('T')) {
        Some((day, hour)) => format!("{day} {hour} UTC"),
        None => time.to_string(),
    }
}

/// The list, with refresh.
fn inbox(state: &UseReducerHandle<State>, texts: &Rc<Texts>, session: &Rc<Session>) -> Html {
    let kind_word = |kind: ItemKind| {
        texts.get(match kind {
            ItemKind::Tip => "agency-kind-tip",
            ItemKind::Message => "agency-kind-message",
        })
    };
    let rows: Vec<InboxRow> = state
        .items
        .iter()
        .map(|item| {
            let kind = kind_word(item.kind);
            let args = [
                ("kind", kind.as_str()),
                ("received", item.received.as_str()),
            ];
            InboxRow {
                id: item.id.clone().into(),
                kind: kind.clone().into(),
                size: human_size(item.size).into(),
                received: readable_time(&item.received).into(),
                summary: state
                    .opened
                    .get(&item.id)
                    .map(|o| sealtip_envelope::thread::first_line(&o.tip.text).into()),
                open_label: texts.with("agency-open-item", &args).into(),
                delete_label: texts.with("agency-delete-item", &args).into(),
            }
        })
        .collect();
    let on_open = {
        let (dispatch, session, items) = (state.dispatcher(), session.clone(), state.items.clone());
        let opened: Vec<String> = state.opened.keys().cloned().collect();
        Callback::from(move |id: String| {
            dispatch.dispatch(Action::Working("agency-opening"));
            let unopened: Vec<InboxItem> = items
                .iter()
                .filter(|i| i.kind == ItemKind::Message && !opened.contains(&i.id))
                .cloned()
                .collect();
            let (dispatch, session, items) = (dispatch.clone(), session.clone(), items.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let Some(item) = items.into_iter().find(|i| i.id == id) else {
                    return;
                };
                open_thread(item, unopened, session, dispatch).await;
            });
        })
    };
    let on_delete = delete_callback(state, session);
    let on_refresh = {
        let (dispatch, session) = (state.dispatcher(), session.clone());
        move |_| {
            dispatch.dispatch(Action::Working("agency-listing"));
            let (dispatch, session) = (dispatch.clone(), session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::inbox(&session.agency, &session.token).await {
                    Ok(inbox) => dispatch.dispatch(Action::Listed(inbox.items)),
                    Err(error) => fail(&dispatch, error),
                }
            });
        }
    };
    html! {
        <section class="inbox-list" aria-labelledby="inbox-title">
            <div class="inbox-head">
                <h2 id="inbox-title">{ texts.with("agency-inbox-of", &[("agency", &session.agency)]) }</h2>
                <button type="button" class="refresh secondary" disabled={state.busy} onclick={on_refresh}>
                    { texts.get("agency-refresh") }
                </button>
            </div>
            <InboxList {rows}
                headings={[texts.get("agency-kind").into(), texts.get("agency-size").into(), texts.get("agency-received").into()]}
                open={texts.get("agency-open")} delete={texts.get("agency-delete")}
                empty={texts.get("agency-empty")} busy={state.busy} {on_open} {on_delete} />
        </section>
    }
}

fn delete_callback(state: &UseReducerHandle<State>, session: &Rc<Session>) -> Callback<String> {
    let (dispatch, session) = (state.dispatcher(), session.clone());
    Callback::from(move |id: String| {
        dispatch.dispatch(Action::Working("agency-deleting"));
        let (dispatch, session) = (dispatch.clone(), session.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match api::delete_item(&session.agency, &session.token, &id).await {
                Ok(()) => dispatch.dispatch(Action::Deleted(id)),
                Err(error) => fail(&dispatch, error),
            }
        });
    })
}

/// Downloads and opens `item`, the follow-ups not opened yet (to find those
/// of the same tipster) and the replies in its mailbox; shows its thread.
async fn open_thread(
    item: InboxItem,
    messages: Vec<InboxItem>,
    session: Rc<Session>,
    dispatch: Dispatch,
) {
    let (agency, token) = (&session.agency, &session.token);
    let sealed = match api::inbox_item(agency, token, &item.id).await {
        Ok(sealed) => sealed,
        Err(error) => return fail(&dispatch, error),
    };
    browser::yield_now().await;
    let source = Source::Inbox(item.kind, item.received.clone());
    let first = match open::open_item(&item.id, source, &sealed, &session.identities) {
        Ok(opened) => opened,
        Err((key, detail)) => return dispatch.dispatch(Action::Failed(key, detail)),
    };
    let mut opened = Vec::new();
    // Follow-ups that do not open with these keys are not part of this thread.
    for message in messages.iter().filter(|m| m.id != item.id) {
        if let Ok(sealed) = api::inbox_item(agency, token, &message.id).await {
            browser::yield_now().await;
            let source = Source::Inbox(message.kind, message.received.clone());
            opened.extend(open::open_item(&message.id, source, &sealed, &session.identities).ok());
        }
    }
    if let Some(reply) = &first.tip.reply
        && let Ok(mailbox) = api::mailbox(agency, &reply.mailbox).await
    {
        for sealed_reply in mailbox.replies {
            if let Ok(sealed) = api::reply(agency, &reply.mailbox, &sealed_reply.id).await {
                let source = Source::Reply(sealed_reply.received.clone());
                let result =
                    open::open_item(&sealed_reply.id, source, &sealed, &session.identities);
                opened.extend(result.ok());
            }
        }
    }
    let id = first.id.clone();
    opened.insert(0, first);
    dispatch.dispatch(Action::Opened(id, opened));
}

/// The thread of an opened item: each entry, the reply box, back and delete.
fn thread(
    state: &UseReducerHandle<State>,
    texts: &Rc<Texts>,
    session: &Rc<Session>,
    id: &str,
) -> Html {
    let entries = state.thread(id);
    let download = {
        let texts = texts.clone();
        Callback::from(move |name: String| texts.with("agency-download", &[("name", &name)]))
    };
    let heading = |item: &Opened| {
        let date = match &item.source {
            Source::Inbox(_, received) | Source::Reply(received) => readable_time(received),
        };
        let key = match item.tip.kind {
            Kind::Tip => "agency-from-tip",
            Kind::Message => "agency-from-tipster",
            Kind::Reply => "agency-from-agency",
        };
        texts.with(key, &[("date", &date)])
    };
    let to = entries.iter().find(|e| e.tip.reply.is_some()).cloned();
    let on_reply = {
        let (dispatch, session, to) = (state.dispatcher(), session.clone(), to.clone());
        Callback::from(move |text: String| {
            let Some(to) = to.clone() else { return };
            dispatch.dispatch(Action::Working("agency-replying"));
            let (dispatch, session) = (dispatch.clone(), session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                browser::yield_now().await;
                let sealed = open::seal_reply(
                    &session.agency,
                    &to.tip,
                    &text,
                    &session.identities,
                    &browser::today(),
                );
                let (mailbox, sealed, tip) = match sealed {
                    Ok(sealed) => sealed,
                    Err((key, detail)) => return dispatch.dispatch(Action::Failed(key, detail)),
                };
                match api::post_reply(&session.agency, &session.token, &mailbox, &sealed).await {
                    Ok(created) => dispatch.dispatch(Action::Replied(Box::new(Opened {
                        id: created.id,
                        source: Source::Reply(browser::this_hour()),
                        tip,
                        files: Vec::new(),
                    }))),
                    Err(error) => fail(&dispatch, error),
                }
            });
        })
    };
    let back = {
        let dispatch = state.dispatcher();
        move |_| dispatch.dispatch(Action::ShowInbox)
    };
    let on_delete = delete_callback(state, session);
    let delete = {
        let id = id.to_string();
        move |_| on_delete.emit(id.clone())
    };
    html! {
        <section class="thread" aria-labelledby="thread-title">
            <p><button type="button" class="back secondary" onclick={back}>{ texts.get("agency-back") }</button></p>
            <h2 id="thread-title">{ texts.get("agency-thread-title") }</h2>
            { for entries.iter().map(|item| html! {
                <ThreadEntry key={item.id.clone()} item={item.clone()}
                    heading={heading(item)} download={download.clone()} />
            }) }
            if to.is_some() {
                <ReplyForm label={texts.get("agency-reply")} send={texts.get("agency-send-reply")}
                    busy={state.busy} {on_reply} />
            } else {
                <p class="help">{ texts.get("agency-no-reply-key") }</p>
            }
            <p><button type="button" class="delete-item secondary" disabled={state.busy} onclick={delete}>
                { texts.get("agency-delete-this") }
            </button></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::readable_time;

    #[test]
    fn relay_times_read_as_hours_in_utc() {
        assert_eq!(
            readable_time("2026-11-29T14:00:00Z"),
            "2026-11-29 14:00 UTC"
        );
        assert_eq!(readable_time("yesterday"), "yesterday");
    }
}
