//! The inbox page's components: they render their props and call their
//! callbacks, nothing more.

use std::rc::Rc;

use sealtip_envelope::bundle::Kind;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;
use zeroize::Zeroizing;

use super::state::{Opened, OpenedFile};
use crate::browser;

/// What the officer typed or picked to unlock the inbox.
pub struct UnlockInput {
    /// The picked identity file, if any.
    pub file: Option<web_sys::File>,
    /// The pasted identity, if any.
    pub pasted: Zeroizing<String>,
    /// The passphrase of a protected identity file (may be empty).
    pub passphrase: Zeroizing<String>,
    /// The inbox token.
    pub token: Zeroizing<String>,
}

/// The words of [`UnlockForm`].
#[derive(Clone, PartialEq)]
pub struct UnlockWords {
    /// "Identity file".
    pub file: AttrValue,
    /// "Or paste the identity".
    pub paste: AttrValue,
    /// "Passphrase of the identity file".
    pub passphrase: AttrValue,
    /// "Inbox token".
    pub token: AttrValue,
    /// "Open the inbox".
    pub unlock: AttrValue,
}

/// Props of [`UnlockForm`].
#[derive(Properties, PartialEq)]
pub struct UnlockFormProps {
    /// Its words.
    pub words: UnlockWords,
    /// Show the passphrase box (the identity file is protected).
    pub needs_passphrase: bool,
    /// Work under way.
    pub busy: bool,
    /// The officer pressed "Open the inbox".
    pub on_unlock: Callback<UnlockInput>,
}

/// Identity file (pick or paste), its passphrase when protected, the token.
#[function_component]
pub fn UnlockForm(props: &UnlockFormProps) -> Html {
    let (file, pasted, passphrase, token) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let onsubmit = {
        let (file, pasted, passphrase, token) = (
            file.clone(),
            pasted.clone(),
            passphrase.clone(),
            token.clone(),
        );
        let on_unlock = props.on_unlock.clone();
        move |e: SubmitEvent| {
            e.prevent_default();
            let text = |node: &NodeRef| {
                Zeroizing::new(
                    node.cast::<HtmlInputElement>()
                        .map(|i| i.value())
                        .or_else(|| node.cast::<HtmlTextAreaElement>().map(|t| t.value()))
                        .unwrap_or_default(),
                )
            };
            on_unlock.emit(UnlockInput {
                file: file
                    .cast::<HtmlInputElement>()
                    .and_then(|input| input.files())
                    .and_then(|files| files.get(0)),
                pasted: text(&pasted),
                passphrase: text(&passphrase),
                token: text(&token),
            });
        }
    };
    let w = &props.words;
    html! {
        <form class="unlock" {onsubmit} autocomplete="off">
            <div class="question">
                <label for="key-file">{ w.file.clone() }</label>
                <input id="key-file" type="file" ref={file} disabled={props.busy} />
            </div>
            <div class="question">
                <label for="key-paste">{ w.paste.clone() }</label>
                <textarea id="key-paste" ref={pasted} rows="2" autocomplete="off"
                    autocapitalize="none" spellcheck="false" dir="ltr" disabled={props.busy} />
            </div>
            if props.needs_passphrase {
                <div class="question">
                    <label for="key-passphrase">{ w.passphrase.clone() }</label>
                    <input id="key-passphrase" type="password" ref={passphrase}
                        autocomplete="off" disabled={props.busy} />
                </div>
            }
            <div class="question">
                <label for="inbox-token">{ w.token.clone() }</label>
                <input id="inbox-token" type="password" ref={token} autocomplete="off"
                    spellcheck="false" dir="ltr" disabled={props.busy} />
            </div>
            <button type="submit" disabled={props.busy}>{ w.unlock.clone() }</button>
        </form>
    }
}

/// One inbox item as the list shows it.
#[derive(Clone, PartialEq)]
pub struct InboxRow {
    /// Its id on the relay.
    pub id: AttrValue,
    /// "Tip" or "Follow-up".
    pub kind: AttrValue,
    /// "4.0 KiB".
    pub size: AttrValue,
    /// When it arrived.
    pub received: AttrValue,
    /// Its first line, once opened.
    pub summary: Option<AttrValue>,
    /// "Open tip received …" (names the row for screen readers).
    pub open_label: AttrValue,
    /// "Delete tip received …".
    pub delete_label: AttrValue,
}

/// Props of [`InboxList`].
#[derive(Properties, PartialEq)]
pub struct InboxListProps {
    /// The rows, oldest first.
    pub rows: Vec<InboxRow>,
    /// Column headings: kind, size, received.
    pub headings: [AttrValue; 3],
    /// "Open" and "Delete".
    pub open: AttrValue,
    /// "Delete".
    pub delete: AttrValue,
    /// "The inbox is empty."
    pub empty: AttrValue,
    /// Work under way.
    pub busy: bool,
    /// Open this item.
    pub on_open: Callback<String>,
    /// Delete this item.
    pub on_delete: Callback<String>,
}

/// The inbox: kind, size, received, and what to do with each item.
#[function_component]
pub fn InboxList(props: &InboxListProps) -> Html {
    if props.rows.is_empty() {
        return html! { <p class="empty">{ props.empty.clone() }</p> };
    }
    let [kind, size, received] = props.headings.clone();
    html! {
        <table class="inbox">
            <thead><tr>
                <th scope="col">{ kind }</th>
                <th scope="col">{ size }</th>
                <th scope="col">{ received }</th>
                <th scope="col"><span class="visually-hidden">{ props.open.clone() }</span></th>
            </tr></thead>
            <tbody>
                { for props.rows.iter().map(|row| {
                    let open = { let (id, cb) = (row.id.to_string(), props.on_open.clone()); move |_| cb.emit(id.clone()) };
                    let delete = { let (id, cb) = (row.id.to_string(), props.on_delete.clone()); move |_| cb.emit(id.clone()) };
                    html! {
                        <tr key={row.id.to_string()} data-id={row.id.clone()}>
                            <td class="kind">
                                { row.kind.clone() }
                                if let Some(summary) = &row.summary {
                                    <span class="summary" dir="auto">{ summary.clone() }</span>
                                }
                            </td>
                            <td class="size">{ row.size.clone() }</td>
                            <td class="received">{ row.received.clone() }</td>
                            <td class="actions">
                                <button type="button" class="open" aria-label={row.open_label.clone()}
                                    disabled={props.busy} onclick={open}>{ props.open.clone() }</button>
                                <button type="button" class="delete secondary" aria-label={row.delete_label.clone()}
                                    disabled={props.busy} onclick={delete}>{ props.delete.clone() }</button>
                            </td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

/// Props of [`ThreadEntry`].
#[derive(Properties, PartialEq)]
pub struct ThreadEntryProps {
    /// The opened item.
    pub item: Rc<Opened>,
    /// "Tip, 2026-11-29" and so on.
    pub heading: AttrValue,
    /// "Download {name}" for each file that is not shown inline.
    pub download: Callback<String, String>,
}

/// One tip, follow-up or reply: its text, its answers, its files.
#[function_component]
pub fn ThreadEntry(props: &ThreadEntryProps) -> Html {
    let tip = &props.item.tip;
    let class = classes!(
        "entry",
        match tip.kind {
            Kind::Tip => "from-tip",
            Kind::Message => "from-tipster",
            Kind::Reply => "from-agency",
        }
    );
    html! {
        <article {class} data-id={props.item.id.clone()}>
            <h3>{ props.heading.clone() }</h3>
            if !tip.text.is_empty() {
                <p class="tip-text" dir="auto">{ tip.text.clone() }</p>
            }
            if !tip.answers.is_empty() {
                <dl class="answers">
                    { for tip.answers.iter().map(|a| html! {
                        <><dt>{ a.label.clone() }</dt><dd dir="auto">{ a.value.clone() }</dd></>
                    }) }
                </dl>
            }
            { for (0..props.item.files.len()).map(|index| html! {
                <FileView item={props.item.clone()} {index}
                    download={props.download.emit(props.item.files[index].name.clone())} />
            }) }
        </article>
    }
}

/// Props of [`FileView`].
#[derive(Properties, PartialEq)]
pub struct FileViewProps {
    /// The opened item holding the file.
    pub item: Rc<Opened>,
    /// Which of its files.
    pub index: usize,
    /// "Download photo.jpg".
    pub download: AttrValue,
}

/// A file of an opened tip: a photo shown inline, anything else offered for
/// download. Its object URL lives as long as this component.
#[function_component]
pub fn FileView(props: &FileViewProps) -> Html {
    let url = use_state(|| None::<String>);
    {
        let url = url.clone();
        use_effect_with((props.item.clone(), props.index), move |(item, index)| {
            let made = item
                .files
                .get(*index)
                .and_then(|f| browser::object_url(&f.bytes, &f.media_type));
            url.set(made.clone());
            move || {
                if let Some(made) = made {
                    browser::revoke_object_url(&made);
                }
            }
        });
    }
    let Some(file) = props.item.files.get(props.index) else {
        return html! {};
    };
    let Some(href) = (*url).clone() else {
        return html! {};
    };
    let link = html! {
        <a class="download" href={href.clone()} download={file.name.clone()}>{ props.download.clone() }</a>
    };
    if OpenedFile::is_image(file) {
        html! {
            <figure class="photo">
                <img src={href} alt={file.name.clone()} />
                <figcaption>{ link }</figcaption>
            </figure>
        }
    } else {
        html! { <p class="file">{ link }</p> }
    }
}

/// Props of [`ReplyForm`].
#[derive(Properties, PartialEq)]
pub struct ReplyFormProps {
    /// "Your reply to the tipster".
    pub label: AttrValue,
    /// "Seal and send the reply".
    pub send: AttrValue,
    /// Work under way.
    pub busy: bool,
    /// Seal and send this text.
    pub on_reply: Callback<String>,
}

/// The reply box under a thread.
#[function_component]
pub fn ReplyForm(props: &ReplyFormProps) -> Html {
    let text = use_node_ref();
    let onsubmit = {
        let (text, on_reply) = (text.clone(), props.on_reply.clone());
        move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(input) = text.cast::<HtmlTextAreaElement>()
                && !input.value().trim().is_empty()
            {
                on_reply.emit(input.value());
                input.set_value("");
            }
        }
    };
    html! {
        <form class="reply" {onsubmit} autocomplete="off">
            <div class="question">
                <label for="reply-text">{ props.label.clone() }</label>
                <textarea id="reply-text" ref={text} rows="4" dir="auto" disabled={props.busy} />
            </div>
            <button type="submit" disabled={props.busy}>{ props.send.clone() }</button>
        </form>
    }
}
