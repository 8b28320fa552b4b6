//! Taking over the first screen the relay served.
//!
//! For `/a/{agency}` the relay serves the form already drawn in the HTML
//! (`sealtip_api::first_screen`), inside `<div id="first-screen">`, so a
//! tipster can read and type before the wasm arrives. The page then renders
//! into a hidden root of its own ([`app_root`]) and, once its form is drawn,
//! [`take_over`] moves what was typed into it in one go, with no event in
//! between: every answer, the choice made, the files picked, a language
//! picked, and the focused field with its caret and selection; then the
//! first screen goes and the page's own form shows in its place, drawn with
//! the same elements and classes, so nothing moves.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

use sealtip_api::first_screen::ROOT_ID;

/// The id of the element the page renders into.
const APP_ROOT_ID: &str = "app";
/// The file pickers, by id, whose picks are taken over.
const PICKERS: [&str; 2] = ["files", "camera"];

/// What the tipster did in the first screen, for the page's state.
#[derive(Default)]
pub struct Typed {
    /// Answers by question id (without the `q-` of the control's id), the
    /// non-empty ones, in form order.
    pub answers: Vec<(String, String)>,
    /// Files picked.
    pub files: Vec<web_sys::File>,
    /// The tag of a language picked in the first screen's picker.
    pub lang: Option<String>,
}

/// The element the page renders into, added to `<body>`: hidden while the
/// relay's first screen is shown, until [`take_over`].
pub fn app_root() -> Option<Element> {
    let document = web_sys::window()?.document()?;
    let root = document.create_element("div").ok()?;
    root.set_id(APP_ROOT_ID);
    root.set_class_name("page-root");
    if document.get_element_by_id(ROOT_ID).is_some() {
        root.set_attribute("hidden", "").ok()?;
    }
    document.body()?.append_child(&root).ok()?;
    Some(root)
}

/// Moves what was typed in the first screen into the page's form (drawn,
/// hidden, in the page's root), removes the first screen, shows the page
/// and gives the focus back where it was, with its caret. `None` when there
/// is no first screen (already taken over, or none served).
pub fn take_over() -> Option<Typed> {
    let document = web_sys::window()?.document()?;
    let first = document.get_element_by_id(ROOT_ID)?;
    let app = document.get_element_by_id(APP_ROOT_ID)?;
    let mut typed = Typed::default();

    let controls = first
        .query_selector_all("input[id^='q-'], textarea[id^='q-'], select[id^='q-']")
        .ok()?;
    for index in 0..controls.length() {
        let Some(control) = controls
            .item(index)
            .and_then(|n| n.dyn_into::<Element>().ok())
        else {
            continue;
        };
        let id = control.id();
        let value = value_of(&control);
        if value.is_empty() {
            continue;
        }
        if let Some(own) = app.query_selector(&format!("#{id}")).ok().flatten() {
            set_value(&own, &value);
        }
        if let Some(question) = id.strip_prefix("q-") {
            typed.answers.push((question.to_string(), value));
        }
    }
    for picker in PICKERS {
        let list = first
            .query_selector(&format!("#{picker}"))
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
            .and_then(|input| input.files());
        if let Some(list) = list {
            typed
                .files
                .extend((0..list.length()).filter_map(|index| list.get(index)));
        }
    }
    if let Some(picker) = first
        .query_selector("#language")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
    {
        let served = picker
            .query_selector("option[selected]")
            .ok()
            .flatten()
            .and_then(|option| option.get_attribute("value"));
        if served.as_deref() != Some(picker.value().as_str()) {
            typed.lang = Some(picker.value());
        }
    }

    // The focused field, with its caret or selection.
    let focused = document
        .active_element()
        .filter(|active| first.contains(Some(active)))
        .map(|active| (active.id(), selection_of(&active)));

    first.remove();
    let _ = app.remove_attribute("hidden");
    if let Some((id, selection)) = focused
        && let Some(own) = document.get_element_by_id(&id)
    {
        if let Some(element) = own.dyn_ref::<HtmlElement>() {
            let _ = element.focus();
        }
        if let Some((start, end, direction)) = selection {
            set_selection(&own, start, end, &direction);
        }
    }
    Some(typed)
}

/// The value of an input, text area or select.
fn value_of(control: &Element) -> String {
    if let Some(input) = control.dyn_ref::<HtmlInputElement>() {
        input.value()
    } else if let Some(area) = control.dyn_ref::<HtmlTextAreaElement>() {
        area.value()
    } else if let Some(select) = control.dyn_ref::<HtmlSelectElement>() {
        select.value()
    } else {
        String::new()
    }
}

fn set_value(control: &Element, value: &str) {
    if let Some(input) = control.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = control.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(value);
    } else if let Some(select) = control.dyn_ref::<HtmlSelectElement>() {
        select.set_value(value);
    }
}

/// The selection of a text field (start, end, direction); `None` for
/// controls without one (a date, a select, a button).
fn selection_of(element: &Element) -> Option<(u32, u32, String)> {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        let start = input.selection_start().ok().flatten()?;
        let end = input.selection_end().ok().flatten()?;
        let direction = input.selection_direction().ok().flatten()?;
        Some((start, end, direction))
    } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        let start = area.selection_start().ok().flatten()?;
        let end = area.selection_end().ok().flatten()?;
        let direction = area.selection_direction().ok().flatten()?;
        Some((start, end, direction))
    } else {
        None
    }
}

fn set_selection(element: &Element, start: u32, end: u32, direction: &str) {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        let _ = input.set_selection_range_with_direction(start, end, direction);
    } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        let _ = area.set_selection_range_with_direction(start, end, direction);
    }
}
