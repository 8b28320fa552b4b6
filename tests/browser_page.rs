//! The page in a real browser: mounts the app and looks at what a tipster sees.
//! Run by `cargo xtask test` (wasm32, headless Chromium); empty on native.

#![cfg(target_arch = "wasm32")]

use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_heading_is_visible() {
    let heading = mount_and_find("h1").await;
    assert_eq!(heading.text_content().as_deref(), Some("sealtip"));
    let heading: HtmlElement = heading.unchecked_into();
    assert!(
        heading.offset_width() > 0 && heading.offset_height() > 0,
        "the heading takes no space"
    );
}

#[wasm_bindgen_test]
async fn the_page_says_who_can_read_a_tip() {
    let text = mount_and_find("main")
        .await
        .text_content()
        .unwrap_or_default();
    assert!(
        text.contains("Only the agency can read what you send. This website cannot."),
        "{text}"
    );
}

/// Mounts the app into a fresh `<div>` in the document and waits until an
/// element matching `selector` appears in it (yew renders asynchronously).
async fn mount_and_find(selector: &str) -> Element {
    let document = web_sys::window().and_then(|window| window.document());
    let Some(document) = document else {
        panic!("no document")
    };
    let Ok(root) = document.create_element("div") else {
        panic!("cannot create a div")
    };
    let Some(body) = document.body() else {
        panic!("no body")
    };
    if body.append_child(&root).is_err() {
        panic!("cannot add the div to the body");
    }
    yew::Renderer::<sealtip_web::App>::with_root(root.clone()).render();
    for _ in 0..100 {
        if let Ok(Some(found)) = root.query_selector(selector) {
            return found;
        }
        yew::platform::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("`{selector}` did not appear within a second");
}
