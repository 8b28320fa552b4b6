//! What the page does to files and codenames, in a real browser: metadata
//! removal on JPEG, PNG and WebP photos carrying GPS (the result still
//! decodes), and the codename derivation.

#![cfg(target_arch = "wasm32")]
// A test fails loudly on what it set up itself.
#![allow(clippy::expect_used)]

use sealtip_envelope::Codename;
use sealtip_web::state::{Cleaning, Contents, Picked};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Cleans `photo` as the page does, checks by parsing the output that
/// nothing is left to remove, and that the browser still decodes the image.
async fn cleaned_in_the_browser(name: &str, media_type: &str, photo: &[u8]) {
    let picked = Picked::clean(name.into(), media_type.into(), photo.to_vec());
    let Cleaning::Cleaned {
        bytes,
        removed,
        media_type: cleaned_type,
    } = &picked.cleaning
    else {
        panic!("{name} was not cleaned: {:?}", picked.cleaning);
    };
    assert_eq!(*cleaned_type, media_type);
    assert!(removed.contains(&"location"), "{name}: {removed:?}");
    let again = sealtip_scrub::scrub(bytes, Some(media_type)).expect("still an image");
    assert!(again.removed.is_empty(), "{name}: {:?}", again.removed);
    assert!(bytes.len() < photo.len());
    // What is sealed is the cleaned copy, unless the original is kept.
    assert_eq!(picked.to_send().0, Contents::Memory(bytes.clone()));

    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).expect("blob");
    let window = web_sys::window().expect("window");
    let decoded = JsFuture::from(window.create_image_bitmap_with_blob(&blob).expect("decode"))
        .await
        .unwrap_or_else(|e| panic!("{name}: the browser cannot decode the cleaned image: {e:?}"));
    let bitmap: web_sys::ImageBitmap = decoded.unchecked_into();
    assert!(bitmap.width() > 0 && bitmap.height() > 0, "{name}");
}

#[wasm_bindgen_test]
async fn a_gps_jpeg_loses_its_location_and_still_decodes() {
    let jpeg = include_bytes!("../crates/scrub/tests/fixtures/gps.jpg");
    cleaned_in_the_browser("photo.jpg", "image/jpeg", jpeg).await;
}

#[wasm_bindgen_test]
async fn a_gps_png_loses_its_location_and_still_decodes() {
    let png = include_bytes!("../crates/scrub/tests/fixtures/gps.png");
    cleaned_in_the_browser("photo.png", "image/png", png).await;
}

#[wasm_bindgen_test]
async fn a_gps_webp_loses_its_location_and_still_decodes() {
    let webp = include_bytes!("../crates/scrub/tests/fixtures/gps.webp");
    cleaned_in_the_browser("photo.webp", "image/webp", webp).await;
}

#[wasm_bindgen_test]
fn the_codename_derives_the_published_keys_in_the_browser() {
    let keys = Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom able")
        .expect("codename")
        .derive()
        .expect("derive");
    // The known answer of crates/envelope (FORMAT.md): a hybrid reply key,
    // the thread key, and the mailbox bound to both.
    assert!(keys.recipient().to_string().starts_with("age1pq1"));
    assert_eq!(
        keys.recipient().fingerprint(),
        "62d6-4d4d-f522-8eb7-34f8-6db1-cc08-c9d6"
    );
    assert_eq!(
        keys.thread_key.to_hex().as_str(),
        "5770fbf4e2e3e3a85085d81c30d9eae15bd638d8709cec1fe0788986bd56bf47"
    );
    assert_eq!(keys.mailbox, "160901a8ce5f34756e81ba181d4f02ac");
}
