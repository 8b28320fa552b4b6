use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

/// How a question is answered.
#[derive(Clone, PartialEq)]
pub enum QuestionInput {
    /// One line.
    Text,
    /// Several lines.
    LongText,
    /// A calendar date.
    Date,
    /// A place, typed.
    Place,
    /// One of several options: (id, label), and the "Choose one" words.
    Choice(Vec<(String, String)>, AttrValue),
}

/// What [`question_field`] shows, and its callbacks.
pub struct QuestionField {
    /// The question id (also the control's id, prefixed).
    pub id: AttrValue,
    /// The question.
    pub label: AttrValue,
    /// A hint under it, or empty.
    pub help: AttrValue,
    /// "required" or "optional", in the page's language.
    pub marker: AttrValue,
    /// Whether an answer is required.
    pub required: bool,
    /// How it is answered.
    pub input: QuestionInput,
    /// The current answer.
    pub value: AttrValue,
    /// The inline error, or empty.
    pub error: AttrValue,
    /// Whether the control can be changed.
    pub disabled: bool,
    /// The answer changed: (question id, value).
    pub on_input: Callback<(String, String)>,
}

/// One labelled question with its hint and inline error.
pub fn question_field(view: &QuestionField) -> Html {
    let control = format!("q-{}", view.id);
    let help_id = format!("{control}-help");
    let error_id = format!("{control}-error");
    let mut described = Vec::new();
    if !view.help.is_empty() {
        described.push(help_id.clone());
    }
    if !view.error.is_empty() {
        described.push(error_id.clone());
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = (!view.error.is_empty()).then_some("true");
    let emit = {
        let on_input = view.on_input.clone();
        let id = view.id.to_string();
        move |value: String| on_input.emit((id.clone(), value))
    };
    let field = match &view.input {
        QuestionInput::LongText => {
            let oninput =
                move |e: InputEvent| emit(e.target_unchecked_into::<HtmlTextAreaElement>().value());
            html! {
                <textarea id={control.clone()} rows="6" autocomplete="off"
                    aria-describedby={described.clone()} aria-invalid={invalid}
                    aria-required={view.required.to_string()} disabled={view.disabled}
                    value={view.value.clone()} {oninput} />
            }
        }
        QuestionInput::Choice(choices, prompt) => {
            let onchange =
                move |e: Event| emit(e.target_unchecked_into::<HtmlSelectElement>().value());
            html! {
                <select id={control.clone()} aria-describedby={described.clone()}
                    aria-invalid={invalid} aria-required={view.required.to_string()}
                    disabled={view.disabled} {onchange}>
                    <option value="" selected={view.value.is_empty()}>{ prompt.clone() }</option>
                    { for choices.iter().map(|(id, label)| html! {
                        <option value={id.clone()} dir="auto" selected={view.value == id.as_str()}>{ label.clone() }</option>
                    }) }
                </select>
            }
        }
        kind => {
            let kind = match kind {
                QuestionInput::Date => "date",
                _ => "text",
            };
            let oninput =
                move |e: InputEvent| emit(e.target_unchecked_into::<HtmlInputElement>().value());
            html! {
                <input id={control.clone()} type={kind} autocomplete="off"
                    aria-describedby={described.clone()} aria-invalid={invalid}
                    aria-required={view.required.to_string()} disabled={view.disabled}
                    value={view.value.clone()} {oninput} />
            }
        }
    };
    html! {
        <div class={classes!("question", (!view.error.is_empty()).then_some("has-error"))}>
            <label for={control.clone()}>
                <bdi>{ view.label.clone() }</bdi>
                <span class="marker">{ format!(" ({})", view.marker) }</span>
            </label>
            if !view.help.is_empty() {
                <p class="help" id={help_id} dir="auto">{ view.help.clone() }</p>
            }
            if !view.error.is_empty() {
                <p class="error" id={error_id}>{ view.error.clone() }</p>
            }
            { field }
        </div>
    }
}
