use yew::prelude::*;

/// What [`send_progress`] shows, and its callbacks.
pub struct SendProgress {
    /// What is happening now, in words.
    pub stage: AttrValue,
    /// How far, 0.0–1.0.
    pub fraction: f64,
    /// The bar's accessible name.
    pub label: AttrValue,
    /// The cancel button's words; no button when empty.
    pub cancel: AttrValue,
    /// Cancel sending.
    pub on_cancel: Callback<()>,
}

/// The id of the progress's block.
pub const PROGRESS_ID: &str = "send-progress";
/// The id of its stage in words, which takes the focus when a send starts.
pub const STAGE_ID: &str = "send-stage";

/// One progress bar with the stage in words, announced politely, and a cancel button.
pub fn send_progress(view: &SendProgress) -> Html {
    // A whole number: formatting an f64 would bring the float printing code
    // (about 12 KB of wasm) into the page for this one bar.
    let percent = (view.fraction.clamp(0.0, 1.0) * 100.0).round() as u8;
    let on_cancel = view.on_cancel.clone();
    html! {
        <div class="progress" id={PROGRESS_ID}>
            <p class="stage" id={STAGE_ID} tabindex="-1" role="status" aria-live="polite">
                { view.stage.clone() }
            </p>
            <progress max="100" value={percent.to_string()} aria-label={view.label.clone()}>
                { format!("{percent}%") }
            </progress>
            if !view.cancel.is_empty() {
                <button type="button" class="secondary" onclick={move |_| on_cancel.emit(())}>
                    { view.cancel.clone() }
                </button>
            }
        </div>
    }
}
