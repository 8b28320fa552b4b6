//! The page in a real browser: mounts the app with an agency profile and looks
//! at what a tipster sees and does. Run by `cargo xtask test` (wasm32,
//! headless Chromium); empty on native.

#![cfg(target_arch = "wasm32")]
// A test fails loudly on what it set up itself.
#![allow(clippy::expect_used)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use sealtip_api::AgencyProfile;
use sealtip_web::{App, AppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The demo agency as `sealtip-relay init` writes it (its hybrid
/// post-quantum recipient, 1,960 characters, made for each test).
const PROFILE: &str = r#"{
  "id": "demo", "name": "Demo agency",
  "recipients": ["RECIPIENT"],
  "languages": ["en", "fr"],
  "form": {"id": "demo-1", "questions": [
    {"id": "what", "kind": "long_text", "label": {"en": "What happened?"},
     "help": {"en": "Say what you saw or know, in your own words."}, "required": true},
    {"id": "topic", "kind": "choice", "label": {"en": "What is it about?"},
     "choices": [{"id": "safety", "label": {"en": "Public safety"}}]},
    {"id": "when", "kind": "date", "label": {"en": "When did it happen?"}},
    {"id": "where", "kind": "place", "label": {"en": "Where did it happen?"}, "required": true},
    {"id": "who", "kind": "text", "label": {"en": "Who is involved?"}}
  ]},
  "emergency": {"en": "In danger right now? Call 112."},
  "exit_url": "https://www.wikipedia.org/",
  "pow_difficulty": 18, "max_upload_bytes": 268435456
}"#;

#[wasm_bindgen_test]
async fn the_first_screen_names_the_agency_and_who_can_read() {
    let root = mount().await;
    let heading = find(&root, "h1").await;
    assert_eq!(heading.text_content().as_deref(), Some("Demo agency"));
    let heading: HtmlElement = heading.unchecked_into();
    assert!(heading.offset_width() > 0 && heading.offset_height() > 0);
    let text = root.text_content().unwrap_or_default();
    for expected in [
        "Only Demo agency can read what you send. This website cannot.",
        "In danger right now? Call 112.",
        "Quick exit",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    // The key fingerprint: eight groups of four hex digits (128 bits),
    // left to right in every language, breakable between its groups.
    let fingerprint = find(&root, ".fingerprint .key-fingerprint").await;
    let text = fingerprint.text_content().unwrap_or_default();
    assert_eq!(text.len(), 39, "{text}");
    assert_eq!(text.split('-').count(), 8, "{text}");
    assert_eq!(fingerprint.get_attribute("dir").as_deref(), Some("ltr"));
    assert_eq!(count(&fingerprint, "wbr"), 8);
    let line = find(&root, ".fingerprint")
        .await
        .text_content()
        .unwrap_or_default();
    assert_eq!(line, format!("Key of Demo agency: {text}"));
}

#[wasm_bindgen_test]
async fn the_form_renders_every_question_kind_each_control_labelled() {
    let root = mount().await;
    find(&root, "form").await;
    for (selector, label) in [
        ("textarea#q-what", "What happened?"),
        ("select#q-topic", "What is it about?"),
        ("input#q-when[type=date]", "When did it happen?"),
        ("input#q-where[type=text]", "Where did it happen?"),
        ("input#q-who[type=text]", "Who is involved?"),
    ] {
        assert!(
            root.query_selector(selector).ok().flatten().is_some(),
            "{selector}"
        );
        let id = selector
            .split(['#', '['])
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let text = label_of(&root, &id);
        assert!(text.starts_with(label), "{id}: {text}");
    }
    // The agency's form has its own "What happened?" box: no second one.
    assert_eq!(count(&root, "textarea"), 1);
    // Every control has a label.
    let controls = root
        .query_selector_all("input, select, textarea")
        .expect("selector");
    for index in 0..controls.length() {
        let control: Element = controls.get(index).expect("node").unchecked_into();
        assert!(
            !label_of(&root, &control.id()).is_empty(),
            "{} has no label",
            control.id()
        );
    }
    assert!(
        root.query_selector("input[type=file][multiple]")
            .ok()
            .flatten()
            .is_some()
    );
}

#[wasm_bindgen_test]
async fn sending_with_required_answers_missing_shows_inline_messages() {
    let root = mount().await;
    let send: HtmlElement = find(&root, "button.send").await.unchecked_into();
    send.click();
    let summary = find(&root, ".error-summary").await;
    assert!(
        summary
            .text_content()
            .unwrap_or_default()
            .contains("missing")
    );
    for id in ["q-what", "q-where"] {
        let error = find(&root, &format!("#{id}-error")).await;
        assert_eq!(
            error.text_content().as_deref(),
            Some("Please answer this question.")
        );
        let control = find(&root, &format!("#{id}")).await;
        assert_eq!(
            control.get_attribute("aria-invalid").as_deref(),
            Some("true")
        );
        let described = control
            .get_attribute("aria-describedby")
            .unwrap_or_default();
        assert!(described.contains(&format!("{id}-error")), "{described}");
    }
    assert!(root.query_selector("#q-who-error").ok().flatten().is_none());
    // Nothing was sent: no progress bar.
    assert!(root.query_selector("progress").ok().flatten().is_none());
}

#[wasm_bindgen_test]
async fn typing_capital_letters_does_not_leave_the_page() {
    let went: Rc<RefCell<Vec<String>>> = Rc::default();
    let record = went.clone();
    sealtip_web::browser::stub_location_replace(move |url| record.borrow_mut().push(url.into()));
    let root = mount().await;
    find(&root, "form").await;
    for key in ["Shift", "L", "Shift", "T", "Shift", "S"] {
        press(key);
    }
    sleep().await;
    assert!(went.borrow().is_empty(), "{:?}", went.borrow());
    assert!(root.query_selector("form").ok().flatten().is_some());
}

#[wasm_bindgen_test]
async fn three_shift_presses_blank_the_page_and_replace_the_location() {
    let went: Rc<RefCell<Vec<String>>> = Rc::default();
    let record = went.clone();
    sealtip_web::browser::stub_location_replace(move |url| record.borrow_mut().push(url.into()));
    let root = mount().await;
    find(&root, "form").await;
    for _ in 0..3 {
        press("Shift");
    }
    sleep().await;
    assert!(
        went.borrow()
            .iter()
            .any(|url| url == "https://www.wikipedia.org/"),
        "{:?}",
        went.borrow()
    );
    let html = document().document_element().expect("html");
    assert!(html.class_list().contains("exiting"));
    assert_eq!(document().title(), "");
    for _ in 0..100 {
        if root.child_element_count() == 0 {
            break;
        }
        sleep().await;
    }
    assert_eq!(root.inner_html(), "", "the page was not blanked");
    let _ = html.class_list().remove_1("exiting");
}

#[wasm_bindgen_test]
async fn a_picked_file_loses_its_name_unless_the_tipster_keeps_it() {
    let root = mount().await;
    let input: web_sys::HtmlInputElement = find(&root, "#files").await.unchecked_into();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&b"notes"[..]));
    let options = web_sys::FilePropertyBag::new();
    options.set_type("text/plain");
    let file = web_sys::File::new_with_u8_array_sequence_and_options(
        &parts,
        "Maria at the depot.txt",
        &options,
    )
    .expect("file");
    let picked = web_sys::DataTransfer::new().expect("data transfer");
    picked.items().add_with_file(&file).expect("add");
    input.set_files(picked.files().as_ref());
    input
        .dispatch_event(&web_sys::Event::new("change").expect("event"))
        .expect("dispatch");
    let note = find(&root, ".files .note").await;
    let text = note.text_content().unwrap_or_default();
    assert!(text.ends_with("Removed: file name."), "{text}");
    let keep: web_sys::HtmlInputElement = find(&root, "#keep-name-0").await.unchecked_into();
    assert!(!keep.checked());
    assert_eq!(label_of(&root, "keep-name-0"), "Keep the file name");
    keep.click();
    for _ in 0..100 {
        if !note
            .text_content()
            .unwrap_or_default()
            .contains("file name")
        {
            break;
        }
        sleep().await;
    }
    let text = note.text_content().unwrap_or_default();
    assert!(!text.contains("file name"), "{text}");
    assert!(keep.checked());
}

fn press(key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    let window = web_sys::window().expect("window");
    window.dispatch_event(&event).expect("dispatch");
}

fn label_of(root: &Element, id: &str) -> String {
    root.query_selector(&format!("label[for='{id}']"))
        .ok()
        .flatten()
        .and_then(|label| label.text_content())
        .unwrap_or_default()
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector)
        .map(|l| l.length())
        .unwrap_or(0)
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

async fn sleep() {
    yew::platform::time::sleep(Duration::from_millis(10)).await;
}

/// Mounts the app with the demo profile into a fresh `<div>`.
async fn mount() -> Element {
    let recipient = sealtip_envelope::Identity::generate()
        .expect("a key")
        .recipient()
        .to_string();
    assert!(recipient.starts_with("age1pq1"), "{recipient}");
    let profile: AgencyProfile =
        serde_json::from_str(&PROFILE.replace("RECIPIENT", &recipient)).expect("profile");
    let root = document().create_element("div").expect("div");
    document()
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    let props = AppProps {
        profile: Some(Rc::new(profile)),
    };
    yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    root
}

/// Waits until an element matching `selector` appears under `root`.
async fn find(root: &Element, selector: &str) -> Element {
    for _ in 0..200 {
        if let Ok(Some(found)) = root.query_selector(selector) {
            return found;
        }
        sleep().await;
    }
    panic!("`{selector}` did not appear within two seconds");
}
