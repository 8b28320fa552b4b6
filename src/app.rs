//! The page: loads the agency, holds the state, and wires components to
//! actions, the network (`api`, `send`) and the browser (`browser`).

use std::cell::RefCell;
use std::rc::Rc;

use sealtip_api::{AgencyProfile, QuestionKind};
use sealtip_envelope::{CodenameError, Recipient};
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::browser;
use crate::components::{
    AttachmentsProps, CodenameCardProps, FileRow, IntroProps, LanguagePickerProps,
    QuestionFieldProps, QuestionInput, QuickExitProps, RepliesPanelProps, ReplyRow,
    SendProgressProps, attachments, cancel_id, codename_card, delete_id, intro, language_picker,
    question_field, quick_exit, replies_panel, send_progress,
};
use crate::embed::{self, EmbedFrame};
use crate::i18n::{Lang, Texts, use_texts};
use crate::pin::{PinCheck, Pins};
use crate::send::{self, Cancel};
use crate::state::{
    Action, Cleaning, Contents, Load, Picked, Screen, ShiftTaps, State, WHAT_HAPPENED,
    agency_in_address, has_what_question,
};

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().reduce(action))
    }
}

/// Props of [`App`].
#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    /// An agency profile to show at once, instead of asking the relay
    /// (the browser tests use it).
    #[prop_or_default]
    pub profile: Option<Rc<AgencyProfile>>,
}

/// The whole page.
#[function_component]
pub fn App(props: &AppProps) -> Html {
    let state = {
        let profile = props.profile.clone();
        use_reducer(move || {
            // `?lang=` (the widget's `data-lang`) first, then the browser's.
            let asked = embed::Look::from_query(&browser::query()).lang;
            let preferred = browser::languages();
            let state = State::new(Lang::negotiate(
                asked.iter().chain(&preferred).map(String::as_str),
            ));
            match profile {
                Some(profile) => state.reduce(Action::Loaded(Load::Ready(profile))),
                None => state,
            }
        })
    };
    // A language whose file cannot be had gives way to English.
    let texts = use_texts(state.lang, "page-title", {
        let dispatch = state.dispatcher();
        Callback::from(move |_| dispatch.dispatch(Action::SetLang(Lang::En)))
    });
    let cancel = use_mut_ref(Cancel::default);
    let copied = use_state(|| false);
    let replies = Replies {
        keys: use_mut_ref(|| None),
        agency_keys: use_mut_ref(Vec::new),
        rows: use_state(|| None),
        unreadable: use_state(|| 0),
        confirming: use_state(|| None),
        status: use_state(|| (String::new(), false)),
        busy: use_state(|| false),
    };
    let exit_url = use_mut_ref(String::new);
    if let Some(profile) = state.profile() {
        *exit_url.borrow_mut() = profile.exit_url.clone();
    }

    // Load the agency named by the address, or the relay's default one.
    {
        let dispatch = state.dispatcher();
        let needed = props.profile.is_none();
        use_effect_with((), move |_| {
            if needed {
                wasm_bindgen_futures::spawn_local(async move {
                    dispatch.dispatch(Action::Loaded(load_agency().await));
                });
            }
        });
    }

    let leave = {
        let dispatch = state.dispatcher();
        let exit_url = exit_url.clone();
        let cancel = cancel.clone();
        Callback::from(move |()| {
            cancel.borrow().cancel();
            dispatch.dispatch(Action::Exit);
            let url = exit_url.borrow().clone();
            embed::tell_parent_to_leave(&url);
            browser::leave(if url.is_empty() { "about:blank" } else { &url });
        })
    };

    // Shift pressed three times within five seconds: leave.
    {
        let leave = leave.clone();
        use_effect_with((), move |_| {
            let taps = RefCell::new(ShiftTaps::default());
            let listener = browser::on_key_down(move |key| {
                if taps.borrow_mut().press(key, browser::now_ms()) {
                    leave.emit(());
                }
            });
            move || drop(listener)
        });
    }

    if state.exiting {
        return html! {};
    }
    let Some(texts) = texts else {
        return waiting(leave);
    };

    let on_lang = {
        let dispatch = state.dispatcher();
        Callback::from(move |lang| dispatch.dispatch(Action::SetLang(lang)))
    };

    let body = match &state.agency {
        Load::Loading => html! { <p role="status">{ texts.get("loading") }</p> },
        Load::Unknown => {
            html! { <p class="error" role="alert">{ texts.get("unknown-agency") }</p> }
        }
        Load::Failed => html! { <p class="error" role="alert">{ texts.get("load-failed") }</p> },
        Load::Ready(profile) => match &state.screen {
            Screen::Form => form(&state, &texts, profile, &cancel),
            Screen::Sent {
                codename,
                confirmed,
            } => {
                let on_copy = {
                    let codename = codename.clone();
                    let copied = copied.clone();
                    Callback::from(move |()| {
                        let codename = codename.clone();
                        let copied = copied.clone();
                        wasm_bindgen_futures::spawn_local(async move {
                            copied.set(browser::copy(&codename).await);
                        });
                    })
                };
                let dispatch = state.dispatcher();
                let on_confirm = Callback::from(move |()| dispatch.dispatch(Action::Confirmed));
                let dispatch = state.dispatcher();
                let on_done = {
                    let copied = copied.clone();
                    Callback::from(move |()| {
                        copied.set(false);
                        dispatch.dispatch(Action::Show(Screen::Form));
                    })
                };
                codename_card(&CodenameCardProps {
                    title: texts.get("sent-title").into(),
                    intro: texts
                        .with("codename-intro", &[("agency", &profile.name)])
                        .into(),
                    codename: codename.to_string().into(),
                    copy: texts.get("copy").into(),
                    copied: if *copied {
                        texts.get("copied")
                    } else {
                        String::new()
                    }
                    .into(),
                    confirm: texts.get("written-down").into(),
                    confirmed: *confirmed,
                    done: texts.get("done").into(),
                    on_copy,
                    on_confirm,
                    on_done,
                })
            }
            Screen::Replies => replies_screen(&state, &texts, profile, &replies),
        },
    };

    let page = html! {
        <main id="main">
            { language_picker(&LanguagePickerProps {
                current: state.lang,
                label: texts.get("language").into(),
                on_change: on_lang,
            }) }
            { body }
        </main>
    };
    // In a partner's page, the form shows only once the framing origin is checked.
    let page = if browser::path() == embed::EMBED_PATH {
        let allowed = state.profile().map(|p| Rc::new(p.embed_origins.clone()));
        html! {
            <EmbedFrame {allowed} checking={texts.get("embed-checking")}
                refused={texts.get("embed-refused")}>{ page }</EmbedFrame>
        }
    } else {
        page
    };
    html! {
        <>
            { quick_exit(&QuickExitProps {
                label: texts.get("quick-exit").into(),
                hint: texts.get("quick-exit-hint").into(),
                on_exit: leave,
            }) }
            { page }
        </>
    }
}

/// While the page's language loads: the quick exit, marked by a sign, and
/// the loading state, with no words in another language.
fn waiting(leave: Callback<()>) -> Html {
    html! {
        <>
            { quick_exit(&QuickExitProps { label: "✕".into(), hint: "".into(), on_exit: leave }) }
            <main id="main">
                <p role="status" class="loading" aria-busy="true"></p>
            </main>
        </>
    }
}

/// What the replies screen holds while it is shown; forgotten on leaving it.
#[derive(Clone)]
struct Replies {
    keys: Rc<RefCell<Option<sealtip_envelope::ReplyKeys>>>,
    /// The agency keys the last proven reply named: follow-ups go there.
    agency_keys: Rc<RefCell<Vec<String>>>,
    rows: UseStateHandle<Option<Vec<ReplyRow>>>,
    /// Replies that could not be opened, or not proven to be the agency's.
    unreadable: UseStateHandle<usize>,
    /// The reply whose deletion is being confirmed.
    confirming: UseStateHandle<Option<String>>,
    status: UseStateHandle<(String, bool)>,
    busy: UseStateHandle<bool>,
}

/// "Check for replies": derive the keys from the codename, open the
/// mailbox, show the replies, send an answer.
fn replies_screen(
    state: &UseReducerHandle<State>,
    texts: &Rc<Texts>,
    profile: &Rc<AgencyProfile>,
    replies: &Replies,
) -> Html {
    let on_open = {
        let (texts, profile) = (texts.clone(), profile.clone());
        let replies = replies.clone();
        Callback::from(move |typed: String| {
            let Replies {
                keys,
                agency_keys,
                rows,
                unreadable,
                status,
                busy,
                ..
            } = replies.clone();
            status.set((texts.get("deriving"), false));
            busy.set(true);
            let (texts, profile) = (texts.clone(), profile.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let codename = match send::wordlist().await {
                    Ok(list) => list.parse(&typed).map_err(|e| codename_problem(&texts, &e)),
                    Err(f) => Err(texts.with(f.key, &[("detail", &f.detail)])),
                };
                let codename = match codename {
                    Ok(codename) => codename,
                    Err(problem) => {
                        status.set((problem, true));
                        busy.set(false);
                        return;
                    }
                };
                browser::yield_now().await;
                browser::yield_now().await;
                let Ok(derived) = codename.derive() else {
                    status.set((texts.get("reason-seal"), true));
                    busy.set(false);
                    return;
                };
                match send::open_replies(&profile.id, &derived).await {
                    Ok(opened) => {
                        let list = opened
                            .replies
                            .into_iter()
                            .map(|r| ReplyRow {
                                id: r.id,
                                // A date is never broken at its hyphens.
                                heading: texts.with(
                                    "reply-from",
                                    &[
                                        ("agency", &profile.name),
                                        ("date", &r.date.replace('-', "\u{2011}")),
                                    ],
                                ),
                                text: r.text,
                            })
                            .collect();
                        *keys.borrow_mut() = Some(derived);
                        *agency_keys.borrow_mut() = opened.agency_keys;
                        unreadable.set(opened.unreadable);
                        rows.set(Some(list));
                        status.set((String::new(), false));
                    }
                    Err(f) => status.set((texts.with(f.key, &[("detail", &f.detail)]), true)),
                }
                busy.set(false);
            });
        })
    };
    let on_answer = {
        let (texts, profile, lang) = (texts.clone(), profile.clone(), state.lang);
        let (keys, agency_keys, status, busy) = (
            replies.keys.clone(),
            replies.agency_keys.clone(),
            replies.status.clone(),
            replies.busy.clone(),
        );
        Callback::from(move |text: String| {
            let Some(derived) = keys.borrow().clone() else {
                return;
            };
            let named = agency_keys.borrow().clone();
            status.set((texts.get("stage-sending"), false));
            busy.set(true);
            let (texts, profile, status, busy) =
                (texts.clone(), profile.clone(), status.clone(), busy.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match send::send_message(profile, lang, &derived, &named, text).await {
                    Ok(()) => status.set((texts.get("follow-up-sent"), false)),
                    Err(f) => {
                        let reason = texts.with(f.key, &[("detail", &f.detail)]);
                        status.set((texts.with("answer-failed", &[("reason", &reason)]), true));
                    }
                }
                busy.set(false);
            });
        })
    };
    let on_ask_delete = {
        let confirming = replies.confirming.clone();
        Callback::from(move |reply: Option<String>| {
            // Focus follows the question: to "Keep it" when it is asked, back
            // to the reply's delete button when the tipster keeps it.
            match (&reply, &*confirming) {
                (Some(asked), _) => browser::focus(&cancel_id(asked)),
                (None, Some(kept)) => browser::focus(&delete_id(kept)),
                (None, None) => {}
            }
            confirming.set(reply);
        })
    };
    let on_delete = {
        let (texts, profile) = (texts.clone(), profile.clone());
        let replies = replies.clone();
        Callback::from(move |reply: String| {
            let Some(derived) = replies.keys.borrow().clone() else {
                return;
            };
            let Replies {
                rows,
                confirming,
                status,
                busy,
                ..
            } = replies.clone();
            busy.set(true);
            let (texts, profile) = (texts.clone(), profile.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match send::delete_reply(&profile.id, &derived, &reply).await {
                    Ok(()) => {
                        let left = (*rows).clone().map(|mut list| {
                            list.retain(|row| row.id != reply);
                            list
                        });
                        rows.set(left);
                        status.set((texts.get("reply-deleted"), false));
                        browser::focus("replies-title");
                    }
                    Err(f) if f.key == "reason-network" => {
                        status.set((texts.get("delete-failed-network"), true));
                    }
                    Err(f) => {
                        status.set((texts.with("delete-failed", &[("detail", &f.detail)]), true));
                    }
                }
                confirming.set(None);
                busy.set(false);
            });
        })
    };
    let on_back = {
        let dispatch = state.dispatcher();
        let replies = replies.clone();
        Callback::from(move |()| {
            replies.keys.borrow_mut().take();
            replies.agency_keys.borrow_mut().clear();
            replies.rows.set(None);
            replies.unreadable.set(0);
            replies.confirming.set(None);
            replies.status.set((String::new(), false));
            dispatch.dispatch(Action::Show(Screen::Form));
        })
    };
    let unreadable = match *replies.unreadable {
        0 => String::new(),
        1 => texts.with("replies-unreadable-one", &[("agency", &profile.name)]),
        count => texts.with(
            "replies-unreadable-many",
            &[("count", &count.to_string()), ("agency", &profile.name)],
        ),
    };
    replies_panel(&RepliesPanelProps {
        title: texts
            .with("replies-title", &[("agency", &profile.name)])
            .into(),
        codename_label: texts.get("codename-label").into(),
        codename_help: texts.get("codename-help").into(),
        open_label: texts.get("open-replies").into(),
        status: replies.status.0.clone().into(),
        is_error: replies.status.1,
        busy: *replies.busy,
        replies: (*replies.rows).clone(),
        empty_label: texts.get("no-replies").into(),
        unreadable: unreadable.into(),
        delete_label: texts.get("delete-reply").into(),
        delete_question: texts.get("delete-reply-question").into(),
        delete_confirm_label: texts.get("delete-reply-confirm").into(),
        delete_cancel_label: texts.get("delete-reply-cancel").into(),
        confirming: (*replies.confirming).clone(),
        answer_label: texts.get("follow-up").into(),
        send_label: texts.get("send-follow-up").into(),
        back_label: texts.get("back-to-form").into(),
        on_open,
        on_answer,
        on_ask_delete,
        on_delete,
        on_back,
    })
}

/// The form screen: the intro, the questions, attachments, and sending.
fn form(
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
            "pin-mismatch",
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
            texts.get("error-required")
        } else {
            String::new()
        };
        let value = state.answers.get(id).cloned().unwrap_or_default();
        let marker = texts.get(if required { "required" } else { "optional" });
        question_field(&QuestionFieldProps {
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
            texts.get("what-happened"),
            texts.get("what-happened-help"),
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
                texts.get("choose").into(),
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
        .map(|file| file_row(texts, file))
        .collect();
    let on_pick = {
        let dispatch = state.dispatcher();
        Callback::from(move |files: Vec<web_sys::File>| {
            dispatch.dispatch(Action::Reading(files.len()));
            let dispatch = dispatch.clone();
            wasm_bindgen_futures::spawn_local(async move {
                for file in files {
                    browser::yield_now().await;
                    dispatch.dispatch(Action::Picked(read_picked(file).await));
                }
            });
        })
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
                    Err(failure) => dispatch.dispatch(Action::Failed(failure)),
                }
            });
        }
    };
    let on_check = {
        let dispatch = state.dispatcher();
        move |_| dispatch.dispatch(Action::Show(Screen::Replies))
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
        if f.key == "send-cancelled" {
            reason
        } else {
            texts.with("send-failed", &[("reason", &reason)])
        }
    });

    html! {
        <>
            { intro(&IntroProps {
                agency: profile.name.clone().into(),
                only: texts.with("intro-only", &[("agency", &profile.name)]).into(),
                emergency: texts.pick(&profile.emergency, default).to_string().into(),
                safer_device: texts.get("safer-device").into(),
                fingerprint: with_fingerprints(texts, "fingerprint", &profile.name, &fingerprints),
            }) }
            <form novalidate=true autocomplete="off" {onsubmit}>
                <div aria-live="assertive" class="alerts">
                    if let Some(refusal) = pin_refusal {
                        <p class="error pin-mismatch" role="alert" id="pin-mismatch">{ refusal }</p>
                    }
                    if !state.missing.is_empty() {
                        <p class="error error-summary">{ texts.get("error-summary") }</p>
                    }
                    if let Some(failure) = failure {
                        <p class="error">{ failure }</p>
                    }
                </div>
                { for fields }
                { attachments(&AttachmentsProps {
                    label: texts.get("attachments").into(),
                    help: texts.get("attachments-help").into(),
                    choose_label: texts.get("choose-files").into(),
                    camera_label: texts.get("take-photo").into(),
                    keep_label: texts.get("keep-original").into(),
                    keep_name_label: texts.get("keep-file-name").into(),
                    files: rows,
                    busy: if state.reading > 0 { texts.get("reading-files") } else { String::new() }.into(),
                    disabled: sending,
                    on_pick,
                    on_remove,
                    on_keep,
                    on_keep_name,
                }) }
                if let Some(progress) = state.progress {
                    { send_progress(&SendProgressProps {
                        stage: texts.with(progress.stage.key(), &[("agency", &profile.name)]).into(),
                        fraction: progress.fraction,
                        label: texts.get("progress-label").into(),
                        cancel: if sending { texts.get("cancel") } else { String::new() }.into(),
                        on_cancel,
                    }) }
                } else {
                    <button type="submit" class="send" disabled={pinned_elsewhere}
                        aria-describedby={pinned_elsewhere.then_some("pin-mismatch")}>
                        { texts.get("send") }
                    </button>
                }
            </form>
            <p class="check-replies">
                <button type="button" class="secondary" disabled={sending} onclick={on_check}>
                    { texts.get("check-replies") }
                </button>
            </p>
        </>
    }
}

/// Why a typed codename was refused, in the page's language.
fn codename_problem(texts: &Texts, error: &CodenameError) -> String {
    let reason = match error {
        CodenameError::WordCount(count) => {
            texts.with("codename-word-count", &[("count", &count.to_string())])
        }
        CodenameError::UnknownWord {
            position,
            word,
            suggestion,
        } => texts.with(
            "codename-unknown-word",
            &[
                ("position", &position.to_string()),
                ("word", word),
                ("suggestion", suggestion),
            ],
        ),
        CodenameError::Random | CodenameError::Derivation => texts.get("reason-seal"),
    };
    texts.with("codename-bad", &[("reason", &reason)])
}

/// The largest photo read into memory to be cleaned; a larger file is sent
/// as it is, read in slices while sealing.
const CLEAN_LIMIT: u64 = 64 << 20;

/// A picked file: a photo of a format the page cleans is read and cleaned;
/// anything else stays on the device until it is sealed.
async fn read_picked(file: web_sys::File) -> Picked {
    let (name, media_type) = (file.name(), file.type_());
    let size = file.size() as u64;
    let head = browser::read_slice(&file, 0, 16).await.unwrap_or_default();
    let original: web_sys::Blob = file.into();
    let photo = size <= CLEAN_LIMIT && sealtip_scrub::detect(&head).is_some();
    if photo && let Some(bytes) = browser::read_file(&original).await {
        return Picked::clean_with_original(name, media_type, &bytes, Contents::File(original));
    }
    Picked::not_checked(name, media_type, Contents::File(original))
}

/// What was removed from a photo, in the page's language: each kind's
/// English words (`camera model`) name its message (`removed-camera-model`).
fn removed_words(texts: &Texts, removed: &[&str]) -> String {
    let words: Vec<String> = removed
        .iter()
        .map(|kind| texts.get(&format!("removed-{}", kind.replace(' ', "-"))))
        .collect();
    words.join(&texts.get("list-separator"))
}

/// The words `removed` lists when the file's name is left out of the tip.
const FILE_NAME: &str = sealtip_envelope::bundle::FILE_NAME_REMOVED;

fn file_row(texts: &Texts, file: &Picked) -> FileRow {
    let name_removed: &[&str] = if file.keep_name { &[] } else { &[FILE_NAME] };
    let removed_note = |removed: &[&str]| {
        texts.with(
            "attachment-cleaned",
            &[("removed", &removed_words(texts, removed))],
        )
    };
    // What cleaning found, then the file name, when it is removed, in the
    // same list as the photo's details or in one of its own.
    let (note, can_keep, warn) = match &file.cleaning {
        Cleaning::Cleaned { removed, .. } if !removed.is_empty() => {
            let all: Vec<&str> = removed.iter().chain(name_removed).copied().collect();
            (removed_note(&all), true, false)
        }
        cleaning => {
            let (key, warn) = match cleaning {
                Cleaning::NotChecked => ("attachment-not-checked", true),
                Cleaning::Damaged => ("attachment-damaged", true),
                Cleaning::Cleaned { .. } => ("attachment-clean", false),
            };
            let mut note = texts.get(key);
            if !name_removed.is_empty() {
                note.push(' ');
                note.push_str(&removed_note(name_removed));
            }
            (note, false, warn)
        }
    };
    FileRow {
        name: file.name.clone(),
        note,
        can_keep,
        keep: file.keep_original,
        keep_name: file.keep_name,
        warn: warn || file.keep_original,
        remove_label: texts.with("remove-file", &[("name", &file.name)]),
    }
}

/// A message naming key fingerprints (`{ $fingerprint }`) and the agency:
/// each fingerprint reads left to right in every language and breaks
/// between its groups on a narrow screen.
fn with_fingerprints(texts: &Texts, key: &str, agency: &str, fingerprints: &[String]) -> Html {
    const MARK: &str = "\u{1}";
    let text = texts.with(key, &[("agency", agency), ("fingerprint", MARK)]);
    let (before, after) = text.split_once(MARK).unwrap_or((&text, ""));
    let separator = texts.get("list-separator");
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

async fn load_agency() -> Load {
    let id = match agency_in_address(&browser::path(), &browser::query()) {
        Some(id) => id,
        None => match api::default_agency().await {
            Ok(id) => id,
            Err(_) => return Load::Failed,
        },
    };
    match api::agency(&id).await {
        Ok(profile) => Load::Ready(Rc::new(profile)),
        Err(ApiError::Status { status: 404, .. }) => Load::Unknown,
        Err(_) => Load::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_kind_of_removed_detail_is_named_in_every_language() {
        let kinds: Vec<&str> = sealtip_scrub::Removed::ALL
            .iter()
            .map(|kind| kind.words())
            .chain([FILE_NAME])
            .collect();
        for lang in Lang::ALL {
            let texts = Texts::from_disk(lang);
            for kind in &kinds {
                let words = removed_words(&texts, &[kind]);
                assert!(!words.starts_with("removed-"), "{lang:?} lacks {words}");
            }
        }
        let spanish = removed_words(&Texts::from_disk(Lang::Es), &["location", "camera model"]);
        assert_eq!(spanish, "ubicación, modelo de cámara");
        let chinese = removed_words(
            &Texts::from_disk(Lang::ZhHans),
            &["location", "camera model"],
        );
        assert!(
            chinese.contains('、') && !chinese.contains(", "),
            "{chinese}"
        );
    }

    #[test]
    fn the_list_says_the_file_name_is_removed_unless_it_is_kept() {
        let texts = Texts::from_disk(Lang::Es);
        let jpeg = include_bytes!("../crates/scrub/tests/fixtures/gps.jpg").to_vec();
        let mut photo = Picked::clean("IMG_0001.jpg".into(), "image/jpeg".into(), jpeg);
        let note = file_row(&texts, &photo).note;
        assert!(
            note.starts_with("Eliminado: ubicación") && note.contains("nombre del archivo"),
            "{note}"
        );
        photo.keep_name = true;
        let row = file_row(&texts, &photo);
        assert!(
            row.keep_name && !row.note.contains("nombre del archivo"),
            "{}",
            row.note
        );

        let mut text = Picked::clean("notes.txt".into(), "text/plain".into(), b"x".to_vec());
        let note = file_row(&texts, &text).note;
        assert!(note.ends_with("Eliminado: nombre del archivo."), "{note}");
        text.keep_name = true;
        assert!(!file_row(&texts, &text).note.contains("nombre del archivo"));
    }

    #[test]
    fn every_new_message_of_the_page_is_in_every_language() {
        for lang in Lang::ALL {
            let texts = Texts::from_disk(lang);
            for key in [
                "keep-file-name",
                "removed-file-name",
                "replies-unreadable-one",
                "replies-unreadable-many",
                "replies-open-failed",
                "delete-reply",
                "delete-reply-question",
                "delete-reply-confirm",
                "delete-reply-cancel",
                "reply-deleted",
                "delete-failed",
                "delete-failed-network",
            ] {
                let english = Texts::english().get(key);
                assert_ne!(english, key, "English lacks {key}");
                if lang != Lang::En {
                    assert_ne!(texts.get(key), english, "{lang:?} does not translate {key}");
                }
            }
        }
    }
}
