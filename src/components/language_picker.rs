use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::i18n::Lang;

/// What [`language_picker`] shows, and its callbacks.
pub struct LanguagePicker {
    /// The language shown.
    pub current: Lang,
    /// The label ("Language"), in the current language.
    pub label: AttrValue,
    /// A language was chosen.
    pub on_change: Callback<Lang>,
}

/// A select listing each language in its own name.
pub fn language_picker(view: &LanguagePicker) -> Html {
    let on_change = view.on_change.clone();
    let onchange = move |event: Event| {
        let select: HtmlSelectElement = event.target_unchecked_into();
        if let Some(lang) = Lang::from_tag(&select.value()) {
            on_change.emit(lang);
        }
    };
    html! {
        <div class="language">
            <label for="language">{ view.label.clone() }</label>
            <select id="language" {onchange}>
                { for Lang::ALL.into_iter().map(|lang| html! {
                    <option value={lang.tag()} lang={lang.tag()} selected={lang == view.current}>
                        { lang.native_name() }
                    </option>
                }) }
            </select>
        </div>
    }
}
