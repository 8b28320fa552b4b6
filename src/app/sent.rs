//! The screen after sending: the codename, shown once.

use std::rc::Rc;

use sealtip_api::AgencyProfile;
use yew::prelude::*;

use crate::browser;
use crate::components::{CodenameCard, codename_card};
use crate::i18n::{Texts, msg};
use crate::state::{Action, Screen, State};

/// The codename card: copy, "written down", and back to the form.
pub(super) fn sent(
    state: &UseReducerHandle<State>,
    texts: &Texts,
    profile: &AgencyProfile,
    codename: &Rc<str>,
    confirmed: bool,
    copied: &UseStateHandle<bool>,
) -> Html {
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
    codename_card(&CodenameCard {
        title: texts.get(msg::SENT_TITLE).into(),
        intro: texts
            .with(msg::CODENAME_INTRO, &[("agency", &profile.name)])
            .into(),
        codename: codename.to_string().into(),
        copy: texts.get(msg::COPY).into(),
        copied: if **copied {
            texts.get(msg::COPIED)
        } else {
            String::new()
        }
        .into(),
        confirm: texts.get(msg::WRITTEN_DOWN).into(),
        confirmed,
        done: texts.get(msg::DONE).into(),
        on_copy,
        on_confirm,
        on_done,
    })
}
