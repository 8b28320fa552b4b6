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
use sealtip_web::browser::FileStream;
use sealtip_web::seal_worker::helper::{self, Helper};
use sealtip_web::sealing::{Attachment, InTurn, SLICE, seal};
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

/// A file is read as one stream and taken in pieces of any size: each byte
/// once, in order; the browser's arrays they came from hold the same bytes;
/// a piece past the end is refused, and bytes left untaken are told.
#[wasm_bindgen_test]
async fn a_file_is_streamed_and_taken_in_pieces_of_any_size() {
    let bytes = video();
    let mut stream = FileStream::new(&blob(&bytes)).expect("a stream");
    let (mut taken, mut piece) = (Vec::new(), Vec::new());
    let arrays = js_sys::Array::new();
    let rest = bytes.len() - (1 + 65_535 + (3 << 20) + (5 << 20));
    for length in [1, 65_535, 3 << 20, 5 << 20, rest - 10, 10] {
        stream
            .read_into(&mut piece, length, &arrays)
            .await
            .expect("a piece");
        assert_eq!(piece.len(), length);
        taken.extend_from_slice(&piece);
    }
    assert!(taken == bytes, "the pieces are the file");
    let read: Vec<u8> = arrays
        .iter()
        .flat_map(|a| js_sys::Uint8Array::from(a).to_vec())
        .collect();
    assert!(read == bytes, "the browser's arrays are the file");
    assert!(stream.all_taken());
    assert_eq!(stream.read_into(&mut piece, 1, &arrays).await, None);

    let mut short = FileStream::new(&blob(&[7; 100])).expect("a stream");
    short
        .read_into(&mut piece, 60, &arrays)
        .await
        .expect("60 bytes");
    assert_eq!(piece, [7; 60]);
    assert!(!short.all_taken(), "40 bytes were left");
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

impl Parts {
    /// The sealed tip the parts make, opened with `identity`, and its
    /// attachments.
    fn open(self, identity: Identity) -> (sealtip_envelope::OpenedTip, Keep) {
        let mut sealed = self.full.concat();
        sealed.extend(self.last.expect("sealing ended"));
        let mut sink = Keep(Vec::new());
        let opened = open_tip(
            sealed.as_slice(),
            &[identity],
            &Default::default(),
            &mut sink,
        )
        .expect("opens with the agency key");
        (opened, sink)
    }
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
        &mut InTurn::new(None),
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
    let (opened, sink) = parts.open(identity);
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

/// Sealing with the helper beside, as the sealing worker does (here both
/// ends of their channel in one thread): every sealed slice is handed over
/// to be hashed, more of them than the helper keeps waiting, and `tip.json`
/// lists each attachment's SHA-256 as the helper took it, which opening
/// checks against the bytes.
#[wasm_bindgen_test]
async fn the_helper_hashes_the_sealed_slices_and_tip_json_lists_its_digests() {
    use sha2::{Digest, Sha256};

    let identity = Identity::generate().unwrap();
    // 41 MiB and a few bytes: more slices than the helper keeps waiting.
    let video: Vec<u8> = (0..(41 << 20) + 5u32).map(|i| (i % 253) as u8).collect();
    let note = b"a note".to_vec();
    let files = [
        Picked::not_checked(
            "clip.mp4".into(),
            "video/mp4".into(),
            Contents::File(blob(&video)),
        ),
        Picked::clean("note.txt".into(), "text/plain".into(), note.clone()),
        Picked::not_checked(
            "empty.txt".into(),
            "text/plain".into(),
            Contents::File(blob(&[])),
        ),
    ];
    let channel = web_sys::MessageChannel::new().unwrap();
    let task = helper::Task {
        origin: String::new(),
        make_codename: false,
    };
    wasm_bindgen_futures::spawn_local(helper::serve(task, channel.port2()));
    let mut beside = Helper::new(channel.port1(), false);
    let mut parts = Parts::default();
    seal(
        &[identity.recipient()],
        &files.iter().map(Attachment::of).collect::<Vec<_>>(),
        Tip::new(Kind::Tip, "demo", "2026-12-07"),
        None,
        &mut parts,
        &mut beside,
        |_| {},
        &Cancel::default(),
    )
    .await
    .expect("sealed");
    assert_eq!(beside.codename(), None);

    // Opening checks each attachment against its SHA-256.
    let (opened, sink) = parts.open(identity);
    let listed: Vec<&str> = opened
        .tip
        .attachments
        .iter()
        .map(|a| a.sha256.as_str())
        .collect();
    let expected: Vec<String> = [&video[..], &note[..], &[]]
        .iter()
        .map(|bytes| hex::encode(Sha256::digest(bytes)))
        .collect();
    assert_eq!(listed, expected);
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
        &mut InTurn::new(None),
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

    // Glue standing in for the worker's: ready once it is handed the wasm.
    let glue = "var wasm_bindgen = function () { self.postMessage('ready'); \
                return new Promise(function () {}); };";
    let url = object_url(glue.as_bytes(), "text/javascript");
    let pinned = format!("sha384-{}", base64(&Sha384::digest(glue)));
    let other = format!("sha384-{}", base64(&Sha384::digest("other bytes")));
    // The smallest wasm module: the page compiles it before any worker starts.
    let empty_module = b"\0asm\x01\0\0\0";
    let wasm_url = object_url(empty_module, "application/wasm");
    let wasm_pinned = format!("sha384-{}", base64(&Sha384::digest(empty_module)));

    let document = web_sys::window().unwrap().document().unwrap();
    assert!(worker::start(name).await.is_none(), "no element, no worker");
    let meta = document.create_element("meta").unwrap();
    for (attribute, value) in [
        ("name", name),
        ("data-js", &url),
        ("data-js-integrity", &pinned),
        ("data-wasm", &wasm_url),
        ("data-wasm-integrity", &wasm_pinned),
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

    // One code, fetched and compiled once, starts two workers.
    let code = worker::code(name).await.expect("the pinned code");
    for _ in 0..2 {
        assert!(code.start().expect("a worker").ready().await);
    }

    meta.set_attribute("data-js-integrity", &other).unwrap();
    assert!(worker::start(name).await.is_none(), "other glue, no worker");
    meta.set_attribute("data-js-integrity", &pinned).unwrap();
    meta.set_attribute("data-wasm-integrity", &other).unwrap();
    assert!(worker::start(name).await.is_none(), "other wasm, no worker");
    head.remove_child(&meta).unwrap();
    web_sys::Url::revoke_object_url(&url).unwrap();
    web_sys::Url::revoke_object_url(&wasm_url).unwrap();
}

/// A `blob:` address of `bytes` served as `media_type`.
fn object_url(bytes: &[u8], media_type: &str) -> String {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

/// Standard base64, as Subresource Integrity writes a hash: the browser's
/// own `btoa` over the bytes as a binary string.
fn base64(bytes: &[u8]) -> String {
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    web_sys::window().unwrap().btoa(&binary).unwrap()
}
