//! The form screen: the intro with the agency's keys, the questions, the
//! attachments, and sending.

use std::cell::RefCell;
use std::rc::Rc;

use sealtip_api::{AgencyProfile, QuestionKind};
use sealtip_envelope::Recipient;
use yew::prelude::*;

use super::files;
use crate::browser;
use crate::components::{
    Attachments, FileRow, Intro, QuestionField, QuestionInput, SendProgress, attachments, intro,
    question_field, send_progress,
};
use crate::i18n::{Texts, msg};
use crate::pin::{PinCheck, Pins};
use crate::send::{self, Cancel};
use crate::state::{Action, Replies, Screen, State, WHAT_HAPPENED, has_what_question};

/// The form screen: the intro, the questions, attachments, and sending.
pub(super) fn form(
    state: &UseReducerHandle<State>,
    texts: &Texts,
    profile: &Rc<AgencyProfile>,
    cancel: &Rc<RefCell<Cancel>>,
) -> Html {
    let default = profile.languages.first().map(String::as_str);
    let sending = state.is_sending();
    // Keys pinned by the address that the relay no longer serves: never seal.
    let pin_refusal = match Pins::of_page().check(&profile.recipients) {
        PinCheck::Mismatch { served } => Some(with_fingerprints(
            texts,
            msg::PIN_MISMATCH,
            &profile.name,
            &served,
        )),
        PinCheck::NotPinned | PinCheck::Matches => None,
    };
    let pinned_elsewhere = pin_refusal.is_some();
    let on_input = {
        let dispatch = state.dispatcher();
        Callback::from(move |(id, value)| dispatch.dispatch(Action::Answer { id, value }))
    };
    let field = |id: &str, label: String, help: String, required: bool, input: QuestionInput| {
        let error = if state.missing.iter().any(|m| m == id) {
            texts.get(msg::ERROR_REQUIRED)
        } else {
            String::new()
        };
        let value = state.answers.get(id).cloned().unwrap_or_default();
        let marker = texts.get(if required {
            msg::REQUIRED
        } else {
            msg::OPTIONAL
        });
        question_field(&QuestionField {
            id: id.to_string().into(),
            label: label.into(),
            help: help.into(),
            marker: marker.into(),
            required,
            input,
            value: value.into(),
            error: error.into(),
            disabled: sending,
            on_input: on_input.clone(),
        })
    };

    let mut fields = Vec::new();
    if !has_what_question(profile) {
        fields.push(field(
            WHAT_HAPPENED,
            texts.get(msg::WHAT_HAPPENED),
            texts.get(msg::WHAT_HAPPENED_HELP),
            true,
            QuestionInput::LongText,
        ));
    }
    for question in &profile.form.questions {
        let input = match question.kind {
            QuestionKind::Text => QuestionInput::Text,
            QuestionKind::LongText => QuestionInput::LongText,
            QuestionKind::Date => QuestionInput::Date,
            QuestionKind::Place => QuestionInput::Place,
            QuestionKind::Choice => QuestionInput::Choice(
                question
                    .choices
                    .iter()
                    .map(|c| (c.id.clone(), texts.pick(&c.label, default).to_string()))
                    .collect(),
                texts.get(msg::CHOOSE).into(),
            ),
        };
        fields.push(field(
            &question.id,
            texts.pick(&question.label, default).to_string(),
            texts.pick(&question.help, default).to_string(),
            question.required,
            input,
        ));
    }

    let rows: Vec<FileRow> = state
        .files
        .iter()
        .map(|file| files::file_row(texts, file))
        .collect();
    let on_pick = {
        let dispatch = state.dispatcher();
        Callback::from(move |files| files::pick(dispatch.clone(), files))
    };
    let on_remove = {
        let dispatch = state.dispatcher();
        Callback::from(move |index| dispatch.dispatch(Action::RemoveFile(index)))
    };
    let on_keep = {
        let dispatch = state.dispatcher();
        Callback::from(move |(index, keep)| dispatch.dispatch(Action::KeepOriginal(index, keep)))
    };
    let on_keep_name = {
        let dispatch = state.dispatcher();
        Callback::from(move |(index, keep)| dispatch.dispatch(Action::KeepName(index, keep)))
    };

    let onsubmit = {
        let state = state.clone();
        let cancel = cancel.clone();
        let profile = profile.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            if state.is_sending() || state.reading > 0 || pinned_elsewhere {
                return;
            }
            state.dispatch(Action::Validate);
            if let Some(first) = state.missing_answers().first() {
                browser::focus(&format!("q-{first}"));
                return;
            }
            let fresh = Cancel::default();
            *cancel.borrow_mut() = fresh.clone();
            let dispatch = state.dispatcher();
            let (profile, lang) = (profile.clone(), state.lang);
            let (answers, files) = (state.answers.clone(), state.files.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let report = {
                    let dispatch = dispatch.clone();
                    move |progress| dispatch.dispatch(Action::Progress(progress))
                };
                match send::send_tip(profile, lang, answers, files, report, fresh).await {
                    Ok(codename) => {
                        dispatch.dispatch(Action::Sent { codename });
                        browser::focus("sent-title");
                    }
                    Err(failure) => {
                        dispatch.dispatch(Action::Failed(failure));
                        // The reason is above the form's fields: brought
                        // into view for a tipster who pressed Send or
                        // Cancel at the bottom.
                        browser::focus("send-failure");
                    }
                }
            });
        }
    };
    let on_check = {
        let dispatch = state.dispatcher();
        move |_| dispatch.dispatch(Action::Show(Screen::Replies(Replies::default())))
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |()| cancel.borrow().cancel())
    };

    let fingerprints: Vec<String> = profile
        .recipients
        .iter()
        .filter_map(|r| Recipient::parse(r).ok())
        .map(|r| r.fingerprint())
        .collect();
    let failure = state.failure.as_ref().map(|f| {
        let reason = texts.with(f.key, &[("detail", &f.detail)]);
        if f.key == msg::SEND_CANCELLED {
            reason
        } else {
            texts.with(msg::SEND_FAILED, &[("reason", &reason)])
        }
    });

    html! {
        <>
            { intro(&Intro {
                agency: profile.name.clone().into(),
                only: texts.with(msg::INTRO_ONLY, &[("agency", &profile.name)]).into(),
                emergency: texts.pick(&profile.emergency, default).to_string().into(),
                safer_device: texts.get(msg::SAFER_DEVICE).into(),
                fingerprint: with_fingerprints(texts, msg::FINGERPRINT, &profile.name, &fingerprints),
            }) }
            <form novalidate=true autocomplete="off" {onsubmit}>
                <div aria-live="assertive" class="alerts">
                    if let Some(refusal) = pin_refusal {
                        <p class="error pin-mismatch" role="alert" id="pin-mismatch">{ refusal }</p>
                    }
                    if !state.missing.is_empty() {
                        <p class="error error-summary">{ texts.get(msg::ERROR_SUMMARY) }</p>
                    }
                    if let Some(failure) = failure {
                        <p class="error" id="send-failure" tabindex="-1">{ failure }</p>
                    }
                </div>
                { for fields }
                { attachments(&Attachments {
                    label: texts.get(msg::ATTACHMENTS).into(),
                    help: texts.get(msg::ATTACHMENTS_HELP).into(),
                    choose_label: texts.get(msg::CHOOSE_FILES).into(),
                    camera_label: texts.get(msg::TAKE_PHOTO).into(),
                    keep_label: texts.get(msg::KEEP_ORIGINAL).into(),
                    keep_name_label: texts.get(msg::KEEP_FILE_NAME).into(),
                    files: rows,
                    busy: if state.reading > 0 { texts.get(msg::READING_FILES) } else { String::new() }.into(),
                    disabled: sending,
                    on_pick,
                    on_remove,
                    on_keep,
                    on_keep_name,
                }) }
                if let Some(progress) = state.progress {
                    { send_progress(&SendProgress {
                        stage: texts.with(progress.stage.key(), &[("agency", &profile.name)]).into(),
                        fraction: progress.fraction,
                        label: texts.get(msg::PROGRESS_LABEL).into(),
                        cancel: if sending { texts.get(msg::CANCEL) } else { String::new() }.into(),
                        on_cancel,
                    }) }
                } else {
                    <button type="submit" class="send" disabled={pinned_elsewhere}
                        aria-describedby={pinned_elsewhere.then_some("pin-mismatch")}>
                        { texts.get(msg::SEND) }
                    </button>
                }
            </form>
            <p class="check-replies">
                <button type="button" class="secondary" disabled={sending} onclick={on_check}>
                    { texts.get(msg::CHECK_REPLIES) }
                </button>
            </p>
        </>
    }
}

/// A message naming key fingerprints (`{ $fingerprint }`) and the agency:
/// each fingerprint reads left to right in every language and breaks
/// between its groups on a narrow screen.
pub(super) fn with_fingerprints(
    texts: &Texts,
    key: &str,
    agency: &str,
    fingerprints: &[String],
) -> Html {
    const MARK: &str = "\u{1}";
    let text = texts.with(key, &[("agency", agency), ("fingerprint", MARK)]);
    let (before, after) = text.split_once(MARK).unwrap_or((&text, ""));
    let separator = texts.get(msg::LIST_SEPARATOR);
    let keys = fingerprints.iter().enumerate().map(|(index, fingerprint)| {
        let groups = fingerprint.split_inclusive('-').map(|group| {
            html! { <>{ group.to_string() }<wbr /></> }
        });
        html! {
            <>
                if index > 0 { { separator.clone() } }
                <span class="key-fingerprint" dir="ltr">{ for groups }</span>
            </>
        }
    });
    html! { <>{ before.to_string() }{ for keys }{ after.to_string() }</> }
}
