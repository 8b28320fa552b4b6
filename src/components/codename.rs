use yew::prelude::*;

/// What [`codename_card`] shows, and its callbacks.
pub struct CodenameCard {
    /// The heading ("Your tip was sent").
    pub title: AttrValue,
    /// The one sentence on what the codename is for.
    pub intro: AttrValue,
    /// The codename's words.
    pub codename: AttrValue,
    /// Copy button words, and the words after copying.
    pub copy: AttrValue,
    /// Shown after a successful copy, or empty.
    pub copied: AttrValue,
    /// "I have written it down".
    pub confirm: AttrValue,
    /// Whether it is confirmed.
    pub confirmed: bool,
    /// "Done" button words.
    pub done: AttrValue,
    /// Copy the codename.
    pub on_copy: Callback<()>,
    /// The tipster confirmed.
    pub on_confirm: Callback<()>,
    /// Leave this screen (forgets the codename).
    pub on_done: Callback<()>,
}

/// The codename, shown once, large, with copy and "written down" confirmation.
pub fn codename_card(view: &CodenameCard) -> Html {
    let (on_copy, on_confirm, on_done) = (
        view.on_copy.clone(),
        view.on_confirm.clone(),
        view.on_done.clone(),
    );
    html! {
        <section class="codename" aria-labelledby="sent-title">
            <h2 id="sent-title" tabindex="-1">{ view.title.clone() }</h2>
            <p>{ view.intro.clone() }</p>
            <p class="words" lang="en" dir="ltr" translate="no">
                { for view.codename.split(' ').map(|w| html! { <span>{ w.to_string() }</span> }) }
            </p>
            <div class="actions">
                <button type="button" class="secondary" onclick={move |_| on_copy.emit(())}>
                    { view.copy.clone() }
                </button>
                <span role="status" aria-live="polite">{ view.copied.clone() }</span>
            </div>
            <p class="confirm">
                <input type="checkbox" id="written-down" checked={view.confirmed}
                    onchange={move |_| on_confirm.emit(())} />
                <label for="written-down">{ view.confirm.clone() }</label>
            </p>
            <button type="button" disabled={!view.confirmed} onclick={move |_| on_done.emit(())}>
                { view.done.clone() }
            </button>
        </section>
    }
}
