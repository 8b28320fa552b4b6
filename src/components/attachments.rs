use sealtip_api::first_screen::{ATTACHMENT_TYPES, CAMERA_TYPES};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// One picked file as the list shows it.
#[derive(Clone, PartialEq)]
pub struct FileRow {
    /// The file name.
    pub name: String,
    /// What cleaning did, in words.
    pub note: String,
    /// Whether "keep the original" is offered (cleaned photos only).
    pub can_keep: bool,
    /// Whether the original is kept.
    pub keep: bool,
    /// Whether the file's name is sent (by default it is removed).
    pub keep_name: bool,
    /// A warning rather than a plain note.
    pub warn: bool,
    /// "Remove <name>".
    pub remove_label: String,
}

/// What [`attachments`] shows, and its callbacks.
pub struct Attachments {
    /// The field's label.
    pub label: AttrValue,
    /// The words on the button that picks files ("Choose photos or files").
    pub choose_label: AttrValue,
    /// The words on the button that opens the camera (shown on touch screens).
    pub camera_label: AttrValue,
    /// What happens to photos.
    pub help: AttrValue,
    /// "Keep the original …".
    pub keep_label: AttrValue,
    /// "Keep the file name".
    pub keep_name_label: AttrValue,
    /// The files picked so far.
    pub files: Vec<FileRow>,
    /// "Reading files…" while files are read, else empty.
    pub busy: AttrValue,
    /// No changes while sending.
    pub disabled: bool,
    /// Files were picked.
    pub on_pick: Callback<Vec<web_sys::File>>,
    /// Remove the file at this index.
    pub on_remove: Callback<usize>,
    /// Keep (or not) the original of the file at this index.
    pub on_keep: Callback<(usize, bool)>,
    /// Keep (or not) the name of the file at this index.
    pub on_keep_name: Callback<(usize, bool)>,
}

/// The file picker and the list of picked files with what was removed from each.
pub fn attachments(view: &Attachments) -> Html {
    let on_pick = view.on_pick.clone();
    let onchange = move |event: Event| {
        let input: HtmlInputElement = event.target_unchecked_into();
        let mut files = Vec::new();
        if let Some(list) = input.files() {
            for index in 0..list.length() {
                files.extend(list.get(index));
            }
        }
        // Clear, so that picking the same file again is seen.
        input.set_value("");
        on_pick.emit(files);
    };
    let picker = |id: &'static str, words: &AttrValue, accept: &'static str, camera: bool| {
        // The input itself is hidden but focusable; its label is the button.
        html! {
            <label for={id} class={classes!("picker", camera.then_some("camera"), view.disabled.then_some("disabled"))}>
                { words.clone() }
                <input {id} type="file" class="picker-input" multiple={!camera} {accept}
                    capture={camera.then_some("environment")} aria-describedby="files-help"
                    disabled={view.disabled} onchange={onchange.clone()} />
            </label>
        }
    };
    html! {
        <fieldset class="question attachments">
            <legend>{ view.label.clone() }</legend>
            <p class="help" id="files-help">{ view.help.clone() }</p>
            <div class="pickers">
                { picker("files", &view.choose_label, ATTACHMENT_TYPES, false) }
                { picker("camera", &view.camera_label, CAMERA_TYPES, true) }
            </div>
            <p role="status" aria-live="polite" class="busy">{ view.busy.clone() }</p>
            <ul class="files">
                { for view.files.iter().enumerate().map(|(index, file)| {
                    let on_remove = view.on_remove.clone();
                    let on_keep = view.on_keep.clone();
                    let on_keep_name = view.on_keep_name.clone();
                    let keep_id = format!("keep-{index}");
                    let keep_name_id = format!("keep-name-{index}");
                    html! {
                        <li>
                            <span class="name">{ file.name.clone() }</span>
                            <span class={classes!("note", file.warn.then_some("warn"))}>{ file.note.clone() }</span>
                            if file.can_keep {
                                <span class="keep">
                                    <input type="checkbox" id={keep_id.clone()} checked={file.keep}
                                        disabled={view.disabled}
                                        onchange={move |e: Event| on_keep.emit((index, e.target_unchecked_into::<HtmlInputElement>().checked()))} />
                                    <label for={keep_id}>{ view.keep_label.clone() }</label>
                                </span>
                            }
                            <span class="keep keep-name">
                                <input type="checkbox" id={keep_name_id.clone()} checked={file.keep_name}
                                    disabled={view.disabled}
                                    onchange={move |e: Event| on_keep_name.emit((index, e.target_unchecked_into::<HtmlInputElement>().checked()))} />
                                <label for={keep_name_id}>{ view.keep_name_label.clone() }</label>
                            </span>
                            <button type="button" class="remove" aria-label={file.remove_label.clone()}
                                disabled={view.disabled} onclick={move |_| on_remove.emit(index)}>{ "×" }</button>
                        </li>
                    }
                }) }
            </ul>
        </fieldset>
    }
}
