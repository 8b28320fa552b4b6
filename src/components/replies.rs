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
pub struct RepliesPanel {
    /// The heading.
    pub title: AttrValue,
    /// "Your codename", its hint, and the button words.
    pub codename_label: AttrValue,
    /// The hint under the codename box.
    pub codename_help: AttrValue,
    /// "Open replies".
    pub open_label: AttrValue,
    /// The codename as typed.
    pub codename: AttrValue,
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
    /// "Your answer".
    pub answer_label: AttrValue,
    /// The answer as typed.
    pub answer: AttrValue,
    /// "Send answer".
    pub send_label: AttrValue,
    /// "Back to the form".
    pub back_label: AttrValue,
    /// The codename box changed.
    pub on_codename: Callback<String>,
    /// Open the mailbox with the codename typed.
    pub on_open: Callback<()>,
    /// The answer box changed.
    pub on_answer_input: Callback<String>,
    /// Send the answer typed.
    pub on_answer: Callback<()>,
    /// Ask to delete this reply (`Some`), or not any more (`None`).
    pub on_ask_delete: Callback<Option<String>>,
    /// Delete this reply (confirmed).
    pub on_delete: Callback<String>,
    /// Back to the form (forgets the codename).
    pub on_back: Callback<()>,
}

/// The "Check for replies" page: codename in, replies out, and an answer.
pub fn replies_panel(view: &RepliesPanel) -> Html {
    let onsubmit = {
        let on_open = view.on_open.clone();
        move |e: SubmitEvent| {
            e.prevent_default();
            on_open.emit(());
        }
    };
    let on_send = {
        let on_answer = view.on_answer.clone();
        move |e: SubmitEvent| {
            e.prevent_default();
            on_answer.emit(());
        }
    };
    let on_codename = typed(&view.on_codename);
    let on_answer_input = typed(&view.on_answer_input);
    let on_back = view.on_back.clone();
    let status_class = classes!("status", view.is_error.then_some("error"));
    html! {
        <section class="replies" aria-labelledby="replies-title">
            <h2 id="replies-title" tabindex="-1">{ view.title.clone() }</h2>
            if view.replies.is_none() {
                <form {onsubmit} autocomplete="off">
                    <div class="question">
                        <label for="codename">{ view.codename_label.clone() }</label>
                        <p class="help" id="codename-help">{ view.codename_help.clone() }</p>
                        <textarea id="codename" rows="3" autocomplete="off"
                            autocapitalize="none" spellcheck="false" lang="en" dir="ltr"
                            aria-describedby="codename-help" disabled={view.busy}
                            value={view.codename.clone()} oninput={on_codename} />
                    </div>
                    <button type="submit" disabled={view.busy}>{ view.open_label.clone() }</button>
                </form>
            }
            <p class={status_class} role="status" aria-live="polite">{ view.status.clone() }</p>
            if let Some(replies) = &view.replies {
                if replies.is_empty() && view.unreadable.is_empty() {
                    <p>{ view.empty_label.clone() }</p>
                }
                if !view.unreadable.is_empty() {
                    <p class="unreadable warn" role="alert">{ view.unreadable.clone() }</p>
                }
                <ul class="reply-list">
                    { for replies.iter().enumerate().map(|(index, r)| reply_item(view, index, r)) }
                </ul>
                <form onsubmit={on_send} autocomplete="off">
                    <div class="question">
                        <label for="answer">{ view.answer_label.clone() }</label>
                        <textarea id="answer" rows="5" autocomplete="off" disabled={view.busy}
                            value={view.answer.clone()} oninput={on_answer_input} />
                    </div>
                    <button type="submit" disabled={view.busy}>{ view.send_label.clone() }</button>
                </form>
            }
            <p><button type="button" class="secondary" onclick={move |_| on_back.emit(())}>{ view.back_label.clone() }</button></p>
        </section>
    }
}

/// One reply, with its delete button, or the question that confirms it.
fn reply_item(view: &RepliesPanel, index: usize, reply: &ReplyRow) -> Html {
    let heading = format!("reply-{index}");
    let confirming = view.confirming.as_deref() == Some(reply.id.as_str());
    let delete = if confirming {
        let question = format!("delete-question-{index}");
        let (id, on_delete) = (reply.id.clone(), view.on_delete.clone());
        let on_cancel = view.on_ask_delete.clone();
        html! {
            <div class="confirm-delete" role="group" aria-labelledby={question.clone()}>
                <p id={question}>{ view.delete_question.clone() }</p>
                <button type="button" class="danger" disabled={view.busy}
                    onclick={move |_| on_delete.emit(id.clone())}>{ view.delete_confirm_label.clone() }</button>
                <button type="button" class="secondary" id={cancel_id(&reply.id)} disabled={view.busy}
                    onclick={move |_| on_cancel.emit(None)}>{ view.delete_cancel_label.clone() }</button>
            </div>
        }
    } else {
        let (id, on_ask) = (reply.id.clone(), view.on_ask_delete.clone());
        html! {
            <button type="button" class="secondary delete-reply" id={delete_id(&reply.id)}
                aria-describedby={heading.clone()}
                disabled={view.busy} onclick={move |_| on_ask.emit(Some(id.clone()))}>
                { view.delete_label.clone() }
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

/// An `input` handler that hands on the text area's new text.
fn typed(on_text: &Callback<String>) -> impl Fn(InputEvent) + 'static {
    let on_text = on_text.clone();
    move |e: InputEvent| on_text.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value())
}
