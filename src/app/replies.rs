//! "Check for replies": derive the keys from the codename, open the
//! mailbox, show the replies, answer, and delete a reply. The screen's data
//! is the reducer's ([`Replies`]); this file starts the work and says in
//! words what the screen holds.

use std::rc::Rc;

use sealtip_api::AgencyProfile;
use sealtip_envelope::CodenameError;
use yew::prelude::*;

use crate::browser;
use crate::components::{RepliesPanel, ReplyRow, cancel_id, delete_id, replies_panel};
use crate::i18n::{Texts, msg};
use crate::send;
use crate::state::{Action, CodenameKeys, Failure, Notice, Replies, RepliesAction, Screen, State};

/// The replies screen.
pub(super) fn replies(
    state: &UseReducerHandle<State>,
    texts: &Texts,
    profile: &Rc<AgencyProfile>,
    replies: &Replies,
) -> Html {
    let act = {
        let dispatch = state.dispatcher();
        move |action: RepliesAction| dispatch.dispatch(Action::Replies(action))
    };
    let on_codename = {
        let act = act.clone();
        Callback::from(move |typed| act(RepliesAction::TypeCodename(typed)))
    };
    let on_answer_input = {
        let act = act.clone();
        Callback::from(move |typed| act(RepliesAction::TypeAnswer(typed)))
    };
    let on_open = {
        let (act, profile) = (act.clone(), profile.clone());
        let typed = replies.codename.clone();
        Callback::from(move |()| {
            act(RepliesAction::Opening);
            wasm_bindgen_futures::spawn_local(open(act.clone(), profile.id.clone(), typed.clone()));
        })
    };
    let on_answer = {
        let (act, profile, lang) = (act.clone(), profile.clone(), state.lang);
        let mailbox = replies.mailbox.clone();
        let text = replies.answer.clone();
        Callback::from(move |()| {
            let Some(mailbox) = &mailbox else {
                return;
            };
            if text.trim().is_empty() {
                return;
            }
            act(RepliesAction::Answering);
            let (act, profile) = (act.clone(), profile.clone());
            let (keys, named, text) = (
                mailbox.keys.clone(),
                mailbox.agency_keys.clone(),
                text.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let sent = send::send_message(profile, lang, &keys.0, &named, text).await;
                act(RepliesAction::Answered(sent));
            });
        })
    };
    let on_ask_delete = {
        let (act, confirming) = (act.clone(), replies.confirming.clone());
        Callback::from(move |reply: Option<String>| {
            // Focus follows the question: to "Keep it" when it is asked, back
            // to the reply's delete button when the tipster keeps it.
            match (&reply, &confirming) {
                (Some(asked), _) => browser::focus(&cancel_id(asked)),
                (None, Some(kept)) => browser::focus(&delete_id(kept)),
                (None, None) => {}
            }
            act(RepliesAction::AskDelete(reply));
        })
    };
    let on_delete = {
        let (act, profile) = (act.clone(), profile.clone());
        let keys = replies.mailbox.as_ref().map(|mailbox| mailbox.keys.clone());
        Callback::from(move |reply: String| {
            let Some(keys) = keys.clone() else {
                return;
            };
            act(RepliesAction::Deleting);
            let (act, agency) = (act.clone(), profile.id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let deleted = send::delete_reply(&agency, &keys.0, &reply).await;
                if deleted.is_ok() {
                    browser::focus("replies-title");
                }
                act(RepliesAction::Deleted(deleted.map(|()| reply)));
            });
        })
    };
    let on_back = {
        let dispatch = state.dispatcher();
        Callback::from(move |()| dispatch.dispatch(Action::Show(Screen::Form)))
    };
    let rows = replies.mailbox.as_ref().map(|mailbox| {
        mailbox
            .replies
            .iter()
            .map(|reply| ReplyRow {
                id: reply.id.clone(),
                // A date is never broken at its hyphens.
                heading: texts.with(
                    msg::REPLY_FROM,
                    &[
                        ("agency", &profile.name),
                        ("date", &reply.date.replace('-', "\u{2011}")),
                    ],
                ),
                text: reply.text.clone(),
            })
            .collect()
    });
    let unreadable = match replies.mailbox.as_ref().map_or(0, |m| m.unreadable) {
        0 => String::new(),
        1 => texts.with(msg::REPLIES_UNREADABLE_ONE, &[("agency", &profile.name)]),
        count => texts.with(
            msg::REPLIES_UNREADABLE_MANY,
            &[("count", &count.to_string()), ("agency", &profile.name)],
        ),
    };
    let notice = replies.notice.as_ref();
    replies_panel(&RepliesPanel {
        title: texts
            .with(msg::REPLIES_TITLE, &[("agency", &profile.name)])
            .into(),
        codename_label: texts.get(msg::CODENAME_LABEL).into(),
        codename_help: texts.get(msg::CODENAME_HELP).into(),
        open_label: texts.get(msg::OPEN_REPLIES).into(),
        codename: replies.codename.clone().into(),
        status: notice
            .map(|n| notice_text(texts, n))
            .unwrap_or_default()
            .into(),
        is_error: notice.is_some_and(Notice::is_error),
        busy: replies.busy,
        replies: rows,
        empty_label: texts.get(msg::NO_REPLIES).into(),
        unreadable: unreadable.into(),
        delete_label: texts.get(msg::DELETE_REPLY).into(),
        delete_question: texts.get(msg::DELETE_REPLY_QUESTION).into(),
        delete_confirm_label: texts.get(msg::DELETE_REPLY_CONFIRM).into(),
        delete_cancel_label: texts.get(msg::DELETE_REPLY_CANCEL).into(),
        confirming: replies.confirming.clone(),
        answer_label: texts.get(msg::FOLLOW_UP).into(),
        answer: replies.answer.clone().into(),
        send_label: texts.get(msg::SEND_FOLLOW_UP).into(),
        back_label: texts.get(msg::BACK_TO_FORM).into(),
        on_codename,
        on_open,
        on_answer_input,
        on_answer,
        on_ask_delete,
        on_delete,
        on_back,
    })
}

/// Opens the mailbox of the codename `typed`: checks its words, derives its
/// keys (slow: the page paints its notice first), fetches and opens the
/// replies.
async fn open(act: impl Fn(RepliesAction), agency: String, typed: String) {
    let codename = match send::wordlist().await {
        Ok(list) => list.parse(&typed).map_err(Notice::CodenameRefused),
        Err(failure) => Err(Notice::OpenFailed(failure)),
    };
    let codename = match codename {
        Ok(codename) => codename,
        Err(notice) => return act(RepliesAction::NotOpened(notice)),
    };
    browser::yield_now().await;
    browser::yield_now().await;
    let Ok(keys) = codename.derive() else {
        let failure = Failure {
            key: msg::REASON_SEAL,
            detail: String::new(),
        };
        return act(RepliesAction::NotOpened(Notice::OpenFailed(failure)));
    };
    match send::open_replies(&agency, &keys).await {
        Ok(opened) => act(RepliesAction::Opened(CodenameKeys(Rc::new(keys)), opened)),
        Err(failure) => act(RepliesAction::NotOpened(Notice::OpenFailed(failure))),
    }
}

/// What the replies screen says, in the page's language.
fn notice_text(texts: &Texts, notice: &Notice) -> String {
    let reason = |f: &Failure| texts.with(f.key, &[("detail", &f.detail)]);
    match notice {
        Notice::Opening => texts.get(msg::DERIVING),
        Notice::Answering => texts.get(msg::STAGE_SENDING),
        Notice::Answered => texts.get(msg::FOLLOW_UP_SENT),
        Notice::Deleted => texts.get(msg::REPLY_DELETED),
        Notice::CodenameRefused(error) => codename_problem(texts, error),
        Notice::OpenFailed(failure) => reason(failure),
        Notice::AnswerFailed(failure) => {
            texts.with(msg::ANSWER_FAILED, &[("reason", &reason(failure))])
        }
        Notice::DeleteFailed(failure) if failure.key == msg::REASON_NETWORK => {
            texts.get(msg::DELETE_FAILED_NETWORK)
        }
        Notice::DeleteFailed(failure) => {
            texts.with(msg::DELETE_FAILED, &[("detail", &failure.detail)])
        }
    }
}

/// Why a typed codename was refused, in the page's language.
fn codename_problem(texts: &Texts, error: &CodenameError) -> String {
    let reason = match error {
        CodenameError::WordCount(count) => {
            texts.with(msg::CODENAME_WORD_COUNT, &[("count", &count.to_string())])
        }
        CodenameError::UnknownWord {
            position,
            word,
            suggestion,
        } => texts.with(
            msg::CODENAME_UNKNOWN_WORD,
            &[
                ("position", &position.to_string()),
                ("word", word),
                ("suggestion", suggestion),
            ],
        ),
        CodenameError::Random | CodenameError::Derivation => texts.get(msg::REASON_SEAL),
    };
    texts.with(msg::CODENAME_BAD, &[("reason", &reason)])
}
