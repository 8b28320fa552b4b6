//! The format inside a real browser: these tests run in headless Chromium
//! with `cargo test -p sealtip-envelope --target wasm32-unknown-unknown`
//! (the runner is wasm-bindgen-test-runner; set `CHROMEDRIVER`).
//!
//! What the tipster's page does is checked where it happens: a tip with a
//! 200 KB photo is sealed with the browser's CSPRNG and opens again, armor
//! round-trips, and a codename derives the same reply key and mailbox in the
//! browser as natively. The sealing tests also run natively; the codename
//! constants are checked on both platforms against the one pair of constants
//! below, so a wasm-only difference in Argon2id or HKDF cannot go unnoticed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::{self, Read, Write};

use sealtip_envelope::{ARMOR_BEGIN, ARMOR_END, ArmoredWriter};
use sealtip_envelope::{AttachmentSink, Kind, Limits, MetadataStatus, NewAttachment, ReplyTo, Tip};
use sealtip_envelope::{Codename, Identity, open_tip, open_to_vec, seal_tip, seal_to_vec};
use sha2::{Digest, Sha256};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

/// A fixed codename and what it must derive, on every platform. The two
/// constants were also computed outside this crate, with OpenSSL's Argon2id,
/// HKDF and X25519 (Python `cryptography` 48) following FORMAT.md.
const CODENAME: &str = "lantern harbor velvet pancake mango canal glacier juniper";
/// The fingerprint of its (hybrid, 1,960-character) reply recipient.
const CODENAME_FINGERPRINT: &str = "a2e4-db15-aec4-f1ef-f3c1-bc19-551a-2ed7";
const CODENAME_MAILBOX: &str = "707ecfd5c90aff4e6e9ebf7cbfa5f039";

/// Keeps every attachment it is given, as the officer's unpacking would.
#[derive(Default)]
struct Collect(Vec<(String, u64, Vec<u8>)>);

impl AttachmentSink for Collect {
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        self.0.push((path.to_string(), size, bytes));
        Ok(())
    }
}

/// 200 KB that look like a photo to nobody, but are not all alike.
fn photo() -> Vec<u8> {
    (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_tip_with_a_photo_sealed_here_opens_with_the_agency_key() {
    let agency = Identity::generate().unwrap();
    let photo = photo();
    let text = "The night guard at the depot lets a white van in at 2 a.m.";

    let mut sealing = seal_tip(&[agency.recipient()], Vec::new()).unwrap();
    sealing
        .add_attachment(
            NewAttachment {
                name: "IMG_2041.jpg",
                media_type: "image/jpeg",
                size: photo.len() as u64,
                metadata: MetadataStatus::Removed,
                removed: vec!["location".into(), "camera model".into()],
                keep_name: false,
            },
            &mut photo.as_slice(),
        )
        .unwrap();
    let mut tip = Tip::new(Kind::Tip, "demo-agency", "2026-11-29");
    tip.language = "en".into();
    tip.text = text.into();
    let (sealed, written) = sealing.finish(tip).unwrap();

    // Only the age header is readable; the words of the tip are not there.
    assert!(sealed.starts_with(b"age-encryption.org/v1\n-> mlkem768x25519 "));
    assert!(!sealed.windows(11).any(|w| w == b"night guard"));
    assert!(sealed.len() > photo.len());

    let mut sink = Collect::default();
    let opened = open_tip(
        sealed.as_slice(),
        std::slice::from_ref(&agency),
        &Limits::default(),
        &mut sink,
    )
    .unwrap();
    assert_eq!(opened, written);
    assert_eq!(opened.tip.text, text);
    assert_eq!(opened.tip.language, "en");
    assert!(opened.text.unwrap().contains(text));
    let [listed] = opened.tip.attachments.as_slice() else {
        panic!("one attachment expected: {:?}", opened.tip.attachments);
    };
    assert_eq!(listed.path, "attachments/01.jpg");
    assert_eq!(listed.name, "", "the device's file name was removed");
    assert_eq!(listed.size, 200_000);
    assert_eq!(listed.sha256, hex::encode(Sha256::digest(&photo)));
    assert_eq!(listed.removed, ["location", "camera model", "file name"]);
    let [(path, size, bytes)] = sink.0.as_slice() else {
        panic!("the sink got {} attachments", sink.0.len());
    };
    assert_eq!(path, "attachments/01.jpg");
    assert_eq!(*size, 200_000);
    assert!(*bytes == photo, "the photo's bytes changed on the way");

    // Another key cannot open it.
    let stranger = Identity::generate().unwrap();
    let err = open_tip(sealed.as_slice(), &[stranger], &Limits::default(), &mut ()).unwrap_err();
    assert!(err.to_string().contains("not to this one"), "{err}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn an_armored_file_opens_like_the_binary_one() {
    let agency = Identity::generate().unwrap();
    let message: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    let binary = seal_to_vec(&[agency.recipient()], &message).unwrap();

    let mut writer = ArmoredWriter::new(Vec::new()).unwrap();
    writer.write_all(&binary).unwrap();
    let armored = writer.finish().unwrap();
    let text = std::str::from_utf8(&armored).unwrap();
    assert!(text.starts_with(ARMOR_BEGIN));
    assert!(text.trim_end().ends_with(ARMOR_END));
    assert!(text.lines().all(|line| line.len() <= 64));

    assert_eq!(
        open_to_vec(&armored, std::slice::from_ref(&agency)).unwrap(),
        message
    );
    assert_eq!(open_to_vec(&binary, &[agency]).unwrap(), message);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_reply_sealed_to_a_codename_opens_with_the_codename() {
    let codename = Codename::generate(8).unwrap();
    assert_eq!(codename.words().count(), 8);
    let retyped = Codename::parse(&codename.as_str().to_uppercase()).unwrap();
    let keys = retyped.derive().unwrap();

    let mut tip = Tip::new(Kind::Tip, "demo-agency", "2026-11-29");
    tip.reply = Some(ReplyTo::from_keys(&keys));
    let agency = Identity::generate().unwrap();
    let (sealed, _) = seal_tip(&[agency.recipient()], Vec::new())
        .unwrap()
        .finish(tip)
        .unwrap();
    let opened = open_tip(sealed.as_slice(), &[agency], &Limits::default(), &mut ()).unwrap();
    let reply_to = opened.tip.reply.unwrap();

    // The agency answers to what the tip carried; the codename opens it.
    let answer = b"Thank you. Can you say which depot?";
    let reply = seal_to_vec(&[reply_to.recipient.parse().unwrap()], answer).unwrap();
    let again = codename.derive().unwrap();
    assert_eq!(again.mailbox, reply_to.mailbox);
    assert_eq!(open_to_vec(&reply, &[again.identity]).unwrap(), answer);
}

/// Derives [`CODENAME`] and checks it against the constants.
fn derive_the_fixed_codename() {
    let keys = Codename::parse(CODENAME).unwrap().derive().unwrap();
    assert_eq!(keys.recipient().fingerprint(), CODENAME_FINGERPRINT);
    assert_eq!(keys.mailbox, CODENAME_MAILBOX);
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test]
fn the_codename_derives_in_the_browser_what_it_derives_natively() {
    let started = js_sys::Date::now();
    derive_the_fixed_codename();
    wasm_bindgen_test::console_log!(
        "Codename::derive (Argon2id 64 MiB, t=3, p=1) in this browser: {:.0} ms",
        js_sys::Date::now() - started
    );
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_codename_derives_natively_what_the_browser_must_derive() {
    derive_the_fixed_codename();
}
