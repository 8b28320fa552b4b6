use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// One opened reply as the list shows it.
#[derive(Clone, PartialEq)]
pub struct ReplyRow {
    /// Its id in the mailbox.
    pub id: String,
    /// "Reply from …, <date>".
    pub heading: String,
    /// The reply's text.
    pub text: String,
}

/// What [`replies_panel`] shows, and its callbacks.
pub struct RepliesPanelProps {
    /// The heading.
    pub title: AttrValue,
    /// "Your codename", its hint, and the button words.
    pub codename_label: AttrValue,
    /// The hint under the codename box.
    pub codename_help: AttrValue,
    /// "Open replies".
    pub open_label: AttrValue,
    /// What is happening or went wrong (announced), or empty.
    pub status: AttrValue,
    /// Whether `status` is an error.
    pub is_error: bool,
    /// Whether work is under way.
    pub busy: bool,
    /// The opened replies; `None` before the mailbox was opened.
    pub replies: Option<Vec<ReplyRow>>,
    /// "There are no replies yet."
    pub empty_label: AttrValue,
    /// "One reply could not be opened." (or how many), or empty.
    pub unreadable: AttrValue,
    /// "Delete this reply".
    pub delete_label: AttrValue,
    /// "Delete this reply? …", asked before deleting.
    pub delete_question: AttrValue,
    /// "Yes, delete it".
    pub delete_confirm_label: AttrValue,
    /// "Keep it".
    pub delete_cancel_label: AttrValue,
    /// The reply whose deletion is being confirmed, if any.
    pub confirming: Option<String>,
    /// "Your answer" and "Send answer".
    pub answer_label: AttrValue,
    /// "Send answer".
    pub send_label: AttrValue,
    /// "Back to the form".
    pub back_label: AttrValue,
    /// Open the mailbox with this codename.
    pub on_open: Callback<String>,
    /// Send this answer.
    pub on_answer: Callback<String>,
    /// Ask to delete this reply (`Some`), or not any more (`None`).
    pub on_ask_delete: Callback<Option<String>>,
    /// Delete this reply (confirmed).
    pub on_delete: Callback<String>,
    /// Back to the form (forgets the codename).
    pub on_back: Callback<()>,
}

/// The "Check for replies" page: codename in, replies out, and an answer.
pub fn replies_panel(props: &RepliesPanelProps) -> Html {
    let onsubmit = {
        let on_open = props.on_open.clone();
        move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(input) = text_area("codename") {
                on_open.emit(input.value());
            }
        }
    };
    let on_send = {
        let on_answer = props.on_answer.clone();
        move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(input) = text_area("answer")
                && !input.value().trim().is_empty()
            {
                on_answer.emit(input.value());
                input.set_value("");
            }
        }
    };
    let on_back = props.on_back.clone();
    let status_class = classes!("status", props.is_error.then_some("error"));
    html! {
        <section class="replies" aria-labelledby="replies-title">
            <h2 id="replies-title" tabindex="-1">{ props.title.clone() }</h2>
            if props.replies.is_none() {
                <form {onsubmit} autocomplete="off">
                    <div class="question">
                        <label for="codename">{ props.codename_label.clone() }</label>
                        <p class="help" id="codename-help">{ props.codename_help.clone() }</p>
                        <textarea id="codename" rows="3" autocomplete="off"
                            autocapitalize="none" spellcheck="false" lang="en" dir="ltr"
                            aria-describedby="codename-help" disabled={props.busy} />
                    </div>
                    <button type="submit" disabled={props.busy}>{ props.open_label.clone() }</button>
                </form>
            }
            <p class={status_class} role="status" aria-live="polite">{ props.status.clone() }</p>
            if let Some(replies) = &props.replies {
                if replies.is_empty() && props.unreadable.is_empty() {
                    <p>{ props.empty_label.clone() }</p>
                }
                if !props.unreadable.is_empty() {
                    <p class="unreadable warn" role="alert">{ props.unreadable.clone() }</p>
                }
                <ul class="reply-list">
                    { for replies.iter().enumerate().map(|(index, r)| reply_item(props, index, r)) }
                </ul>
                <form onsubmit={on_send} autocomplete="off">
                    <div class="question">
                        <label for="answer">{ props.answer_label.clone() }</label>
                        <textarea id="answer" rows="5" autocomplete="off" disabled={props.busy} />
                    </div>
                    <button type="submit" disabled={props.busy}>{ props.send_label.clone() }</button>
                </form>
            }
            <p><button type="button" class="secondary" onclick={move |_| on_back.emit(())}>{ props.back_label.clone() }</button></p>
        </section>
    }
}

/// One reply, with its delete button, or the question that confirms it.
fn reply_item(props: &RepliesPanelProps, index: usize, reply: &ReplyRow) -> Html {
    let heading = format!("reply-{index}");
    let confirming = props.confirming.as_deref() == Some(reply.id.as_str());
    let delete = if confirming {
        let question = format!("delete-question-{index}");
        let (id, on_delete) = (reply.id.clone(), props.on_delete.clone());
        let on_cancel = props.on_ask_delete.clone();
        html! {
            <div class="confirm-delete" role="group" aria-labelledby={question.clone()}>
                <p id={question}>{ props.delete_question.clone() }</p>
                <button type="button" class="danger" disabled={props.busy}
                    onclick={move |_| on_delete.emit(id.clone())}>{ props.delete_confirm_label.clone() }</button>
                <button type="button" class="secondary" id={cancel_id(&reply.id)} disabled={props.busy}
                    onclick={move |_| on_cancel.emit(None)}>{ props.delete_cancel_label.clone() }</button>
            </div>
        }
    } else {
        let (id, on_ask) = (reply.id.clone(), props.on_ask_delete.clone());
        html! {
            <button type="button" class="secondary delete-reply" id={delete_id(&reply.id)}
                aria-describedby={heading.clone()}
                disabled={props.busy} onclick={move |_| on_ask.emit(Some(id.clone()))}>
                { props.delete_label.clone() }
            </button>
        }
    };
    html! {
        <li>
            <h3 id={heading}>{ reply.heading.clone() }</h3>
            <p class="reply-text" dir="auto">{ reply.text.clone() }</p>
            { delete }
        </li>
    }
}

/// The id of a reply's "Delete this reply" button (focus returns to it
/// when the tipster keeps the reply).
pub fn delete_id(reply: &str) -> String {
    format!("delete-{reply}")
}

/// The id of the button that keeps a reply, focused when deletion is asked.
pub fn cancel_id(reply: &str) -> String {
    format!("keep-reply-{reply}")
}

/// The text area with this id on the page.
fn text_area(id: &str) -> Option<HtmlTextAreaElement> {
    let element = web_sys::window()?.document()?.get_element_by_id(id)?;
    element.dyn_into().ok()
}
