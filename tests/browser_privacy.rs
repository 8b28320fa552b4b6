//! What the page does to files and codenames, in a real browser: metadata
//! removal on a photo carrying GPS, and the codename derivation.

#![cfg(target_arch = "wasm32")]
// A test fails loudly on what it set up itself.
#![allow(clippy::expect_used)]

use sealtip_envelope::Codename;
use sealtip_web::state::{Cleaning, Picked};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_gps_jpeg_loses_its_location_in_the_browser() {
    let jpeg = include_bytes!("../crates/scrub/tests/fixtures/gps.jpg").to_vec();
    let picked = Picked::clean("photo.jpg".into(), "image/jpeg".into(), jpeg.clone());
    let Cleaning::Cleaned {
        bytes,
        removed,
        media_type,
    } = &picked.cleaning
    else {
        panic!("the photo was not cleaned: {:?}", picked.cleaning);
    };
    assert_eq!(*media_type, "image/jpeg");
    assert!(removed.contains(&"location"), "{removed:?}");
    // Parsing the output again finds nothing left to remove.
    let again = sealtip_scrub::scrub(bytes, Some("image/jpeg")).expect("still a JPEG");
    assert!(again.removed.is_empty(), "{:?}", again.removed);
    assert!(bytes.len() < jpeg.len());
    // What is sealed is the cleaned copy, unless the original is kept.
    assert_eq!(picked.to_send().0.as_slice(), bytes.as_slice());
}

#[wasm_bindgen_test]
fn the_codename_derives_the_published_keys_in_the_browser() {
    let keys = Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom able")
        .expect("codename")
        .derive()
        .expect("derive");
    assert_eq!(
        keys.recipient().to_string(),
        "age1e43hrnyaz654dtcmdj2rv3nkegr6x4cc3xzxn7gmu33efu8ncghsx9zxrh"
    );
    assert_eq!(keys.mailbox, "043ce1420b517b712bd8d3d45b7ebbe0");
}
