//! The page: loads the agency, holds the state, and wires the screens to
//! actions, the network (`api`, `send`) and the browser (`browser`).
//!
//! One screen a file: the form (`form`, with the picked files' rows in
//! `files`), the codename after sending (`sent`) and "Check for replies"
//! (`replies`). The screens' data is the reducer's (`crate::state`).

use std::cell::RefCell;
use std::rc::Rc;

use sealtip_api::AgencyProfile;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::browser;
use crate::components::{self, LanguagePicker, QuickExit, language_picker, quick_exit};
use crate::embed::{self, EmbedFrame};
use crate::first_screen;
use crate::i18n::{Lang, msg, use_texts};
use crate::send::Cancel;
use crate::state::{Action, Load, Screen, ShiftTaps, State, agency_in_address};

mod files;
mod form;
mod replies;
mod sent;

impl Reducible for State {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().reduce(action))
    }
}

/// Properties of [`App`].
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
    let texts = use_texts(state.lang, msg::PAGE_TITLE, {
        let dispatch = state.dispatcher();
        Callback::from(move |_| dispatch.dispatch(Action::SetLang(Lang::En)))
    });
    let cancel = use_mut_ref(Cancel::default);
    let copied = use_state(|| false);
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

    // Once the page's own form (or what stands for it) is drawn, it takes
    // over the first screen the relay served, and what was typed there.
    {
        let dispatch = state.dispatcher();
        let drawn = texts.is_some() && state.agency != Load::Loading;
        use_effect_with(drawn, move |&drawn| {
            if drawn {
                // Send should start sealing at once: its code is fetched
                // a little after the form is drawn (`prepare`).
                crate::seal_worker::prepare();
            }
            if drawn && let Some(typed) = first_screen::take_over() {
                for (id, value) in typed.answers {
                    dispatch.dispatch(Action::Answer { id, value });
                }
                if let Some(lang) = typed.lang.as_deref().and_then(Lang::from_tag) {
                    dispatch.dispatch(Action::SetLang(lang));
                }
                if !typed.files.is_empty() {
                    files::pick(dispatch, typed.files);
                }
            }
        });
    }

    // When a send starts, its progress takes the Send button's place: the
    // focus goes to its stage in words, and all of it (the bar, Cancel)
    // comes into view, which a tipster who pressed Send at the bottom of a
    // phone's screen would otherwise not see.
    {
        let sending = state.progress.is_some();
        use_effect_with(sending, |&sending| {
            if sending {
                browser::focus_showing(components::STAGE_ID, components::PROGRESS_ID);
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
        Load::Loading => html! { <p role="status">{ texts.get(msg::LOADING) }</p> },
        Load::Unknown => {
            html! { <p class="error" role="alert">{ texts.get(msg::UNKNOWN_AGENCY) }</p> }
        }
        Load::Failed => {
            html! { <p class="error" role="alert">{ texts.get(msg::LOAD_FAILED) }</p> }
        }
        Load::Ready(profile) => match &state.screen {
            Screen::Form => form::form(&state, &texts, profile, &cancel),
            Screen::Sent {
                codename,
                confirmed,
            } => sent::sent(&state, &texts, profile, codename, *confirmed, &copied),
            Screen::Replies(replies) => replies::replies(&state, &texts, profile, replies),
        },
    };

    let page = html! {
        <main id="main">
            { language_picker(&LanguagePicker {
                current: state.lang,
                label: texts.get(msg::LANGUAGE).into(),
                on_change: on_lang,
            }) }
            { body }
        </main>
    };
    // In a partner's page, the form shows only once the framing origin is checked.
    let page = if browser::path() == embed::EMBED_PATH {
        let allowed = state.profile().map(|p| Rc::new(p.embed_origins.clone()));
        let exit_url = AttrValue::from(exit_url.borrow().clone());
        html! {
            <EmbedFrame {allowed} checking={texts.get(msg::EMBED_CHECKING)}
                refused={texts.get(msg::EMBED_REFUSED)} lang={state.lang.tag()} {exit_url}>
                { page }
            </EmbedFrame>
        }
    } else {
        page
    };
    html! {
        <>
            { quick_exit(&QuickExit {
                label: texts.get(msg::QUICK_EXIT).into(),
                hint: texts.get(msg::QUICK_EXIT_HINT).into(),
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
            { quick_exit(&QuickExit { label: "✕".into(), hint: "".into(), on_exit: leave }) }
            <main id="main">
                <p role="status" class="loading" aria-busy="true"></p>
            </main>
        </>
    }
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
