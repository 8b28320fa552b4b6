//! Sealing in a real browser the way the page sends a tip: a file picked on
//! the device is read in slices from its `Blob`, and the ciphertext comes out
//! in parts as it is made. What comes out opens to the same bytes.

#![cfg(target_arch = "wasm32")]
// A test fails loudly on what it set up itself.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::cell::RefCell;
use std::io::Read;

use sealtip_envelope::{AttachmentSink, Kind, MetadataStatus, Tip};
use sealtip_envelope::{Identity, open_tip};
use sealtip_web::sealing::{Attachment, SLICE, seal};
use sealtip_web::send::Cancel;
use sealtip_web::state::{Contents, Failure, Picked};
use sealtip_web::upload::{Outlet, PART};
use sealtip_web::worker;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A "video" of 9.5 MiB and a few bytes: several slices, the last one short,
/// and two full parts of ciphertext before the last.
fn video() -> Vec<u8> {
    (0..(19 << 19) + 13u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect()
}

fn blob(bytes: &[u8]) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).expect("blob")
}

struct Keep(Vec<(String, Vec<u8>)>);

impl AttachmentSink for Keep {
    fn attachment(&mut self, path: &str, _: u64, data: &mut dyn Read) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        self.0.push((path.to_string(), bytes));
        Ok(())
    }
}

/// Keeps the parts as they come, as the uploader receives them.
#[derive(Default)]
struct Parts {
    full: Vec<Vec<u8>>,
    last: Option<Vec<u8>>,
}

impl Outlet for Parts {
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure> {
        assert!(self.last.is_none(), "a part after the last one");
        self.full.push(part);
        Ok(())
    }

    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure> {
        assert!(self.last.is_none(), "two last parts");
        self.last = Some(rest);
        Ok(())
    }
}

#[wasm_bindgen_test]
async fn a_file_on_the_device_is_sealed_slice_by_slice_into_parts() {
    let identity = Identity::generate().unwrap();
    let video = video();
    let picked = Picked::not_checked(
        "clip.mp4".into(),
        "video/mp4".into(),
        Contents::File(blob(&video)),
    );
    let mut tip = Tip::new(Kind::Tip, "demo", "2026-11-29");
    tip.text = "The van comes at night.".into();

    let reports = RefCell::new(Vec::new());
    let mut parts = Parts::default();
    seal(
        &[identity.recipient()],
        &[Attachment::of(&picked)],
        tip,
        None,
        &mut parts,
        |done| reports.borrow_mut().push(done),
        &Cancel::default(),
    )
    .await
    .expect("sealed");
    // One report per slice, the last one at the file's size.
    let reports = reports.into_inner();
    let slices = (video.len() as u64).div_ceil(SLICE) as usize;
    assert!(slices > 1, "the video fills more than one slice");
    assert_eq!(reports.len(), slices, "{reports:?}");
    assert_eq!(reports.last().copied(), Some(video.len() as u64));

    assert_eq!(parts.full.len(), 2);
    assert!(parts.full.iter().all(|part| part.len() == PART));
    let mut sealed = parts.full.concat();
    sealed.extend(parts.last.expect("sealing ended"));
    let mut sink = Keep(Vec::new());
    let opened = open_tip(
        sealed.as_slice(),
        &[identity],
        &Default::default(),
        &mut sink,
    )
    .expect("opens with the agency key");
    assert_eq!(opened.tip.text, "The van comes at night.");
    assert_eq!(
        opened.tip.attachments[0].metadata,
        MetadataStatus::NotChecked
    );
    // The device's file name is left out unless the tipster keeps it.
    assert_eq!(sink.0[0].0, "attachments/01.mp4");
    assert_eq!(opened.tip.attachments[0].name, "");
    assert_eq!(opened.tip.attachments[0].removed, ["file name"]);
    assert!(sink.0[0].1 == video, "the video came back changed");
}

#[wasm_bindgen_test]
async fn a_cancelled_send_stops_sealing() {
    let identity = Identity::generate().unwrap();
    let picked = Picked::not_checked(
        "clip.mp4".into(),
        "video/mp4".into(),
        Contents::File(blob(&video())),
    );
    let cancel = Cancel::default();
    let result = seal(
        &[identity.recipient()],
        &[Attachment::of(&picked)],
        Tip::new(Kind::Tip, "demo", "2026-11-29"),
        None,
        &mut Vec::new(),
        |done| {
            if done >= 1 << 20 {
                cancel.cancel();
            }
        },
        &cancel,
    )
    .await;
    let failure = result.expect_err("a cancelled send fails");
    assert_eq!(failure.key, "send-cancelled");
}

/// The replies worker's job, as the page hands it over and the worker reads
/// it in the browser: a proven reply is shown, one without the thread's
/// proof is counted.
#[wasm_bindgen_test]
fn the_replies_worker_shows_proven_replies_and_counts_the_rest() {
    use sealtip_envelope::BundleWriter;
    use sealtip_envelope::{ReplyKeys, ThreadKey};

    let identity = Identity::hybrid_from_seed([4; 32]);
    let thread_key = ThreadKey::from_bytes([4; 32]);
    let recipient = identity.recipient();
    let keys = ReplyKeys {
        mailbox: thread_key.mailbox(&recipient),
        mailbox_secret: thread_key.mailbox_secret(&recipient),
        identity,
        thread_key,
    };
    let reply = |text: &str, key: &ThreadKey| {
        let mut tip = Tip::new(Kind::Reply, "demo", "2026-12-07");
        tip.text = text.into();
        tip.thread = Some(keys.mailbox.clone());
        let output = sealtip_envelope::seal(&[keys.recipient()], Vec::new()).unwrap();
        let (stream, _) = BundleWriter::new(output)
            .finish_in_thread(tip, key)
            .unwrap();
        stream.finish().unwrap()
    };
    let sealed = vec![
        ("a".repeat(32), reply("From the agency.", &keys.thread_key)),
        (
            "b".repeat(32),
            reply("Forged.", &ThreadKey::from_bytes([5; 32])),
        ),
    ];
    let answer = sealtip_web::replies::answer(&sealtip_web::replies::job(&keys, sealed));
    let opened: sealtip_web::replies::OpenedMailbox =
        serde_json::from_str(&answer).expect("the worker's answer");
    assert_eq!(opened.replies.len(), 1);
    assert_eq!(opened.replies[0].text, "From the agency.");
    assert_eq!(opened.replies[0].id, "a".repeat(32));
    assert_eq!(opened.unreadable, 1);
    // Anything else posted to the worker gets an empty answer.
    assert_eq!(
        sealtip_web::replies::answer(&wasm_bindgen::JsValue::from_str("ready")),
        ""
    );
}

/// A worker starts only from glue whose bytes have the hash the page's
/// HTML names (`<meta name="sealtip-replies">`, `<meta
/// name="sealtip-sealing">`): from those bytes a worker starts and says it
/// is ready; from other bytes, or with no such element, none starts.
#[wasm_bindgen_test]
async fn a_worker_starts_only_from_the_bytes_the_page_pins() {
    for name in [worker::REPLIES, worker::SEALING] {
        starts_only_from_pinned_bytes(name).await;
    }
}

async fn starts_only_from_pinned_bytes(name: &str) {
    use sha2::{Digest, Sha384};

    // Glue standing in for the worker's: ready at once, without wasm.
    let glue = "var wasm_bindgen = function () { self.postMessage('ready'); \
                return new Promise(function () {}); };";
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(glue));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).unwrap();
    let url = web_sys::Url::create_object_url_with_blob(&blob).unwrap();
    let pinned = format!("sha384-{}", base64(&Sha384::digest(glue)));
    let other = format!("sha384-{}", base64(&Sha384::digest("other bytes")));

    let document = web_sys::window().unwrap().document().unwrap();
    assert!(worker::start(name).await.is_none(), "no element, no worker");
    let meta = document.create_element("meta").unwrap();
    for (attribute, value) in [
        ("name", name),
        ("data-js", &url),
        ("data-js-integrity", &pinned),
        ("data-wasm", &url),
        ("data-wasm-integrity", &pinned),
    ] {
        meta.set_attribute(attribute, value).unwrap();
    }
    let head = document.query_selector("head").unwrap().unwrap();
    head.append_child(&meta).unwrap();

    let mut started = worker::start(name)
        .await
        .expect("a worker from the pinned bytes");
    assert!(started.ready().await, "{name} said it is ready");
    drop(started);

    meta.set_attribute("data-js-integrity", &other).unwrap();
    assert!(
        worker::start(name).await.is_none(),
        "other bytes, no worker"
    );
    head.remove_child(&meta).unwrap();
    web_sys::Url::revoke_object_url(&url).unwrap();
}

/// Standard base64, as Subresource Integrity writes a hash: the browser's
/// own `btoa` over the bytes as a binary string.
fn base64(bytes: &[u8]) -> String {
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    web_sys::window().unwrap().btoa(&binary).unwrap()
}
