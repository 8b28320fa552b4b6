use yew::prelude::*;

/// What [`quick_exit`] shows, and its callbacks.
pub struct QuickExit {
    /// The button's words.
    pub label: AttrValue,
    /// The hint about pressing Shift three times.
    pub hint: AttrValue,
    /// Leave the page.
    pub on_exit: Callback<()>,
}

/// The quick-exit button: sticky in the top corner, always on screen.
pub fn quick_exit(view: &QuickExit) -> Html {
    let on_exit = view.on_exit.clone();
    html! {
        <div class="quick-exit">
            <button type="button" class="quick-exit-button" aria-describedby="quick-exit-hint"
                onclick={move |_| on_exit.emit(())}>
                { view.label.clone() }
            </button>
            <span id="quick-exit-hint" class="visually-hidden">{ view.hint.clone() }</span>
        </div>
    }
}
