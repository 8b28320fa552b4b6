//! The tip bundle: round trips (proptest), and every kind of unsafe or
//! inconsistent archive refused with its own error.

#![cfg(not(target_arch = "wasm32"))] // native only: files, processes, the age crate
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::collections::BTreeMap;
use std::io::Read;

use proptest::prelude::*;
use sealtip_envelope::{
    AttachmentSink, BundleReadError, BundleWriteError, BundleWriter, HashingSink, Kind, Limits,
    MetadataStatus, NewAttachment, ReplyTo, Tip, padme, read_bundle, read_bundle_hashed_by,
};
use sealtip_envelope::{Identity, OpenError, TipError, open_tip, seal_tip};
use sha2::{Digest, Sha256};

#[derive(Default)]
struct Collect(BTreeMap<String, Vec<u8>>);

impl AttachmentSink for Collect {
    fn attachment(&mut self, path: &str, _size: u64, data: &mut dyn Read) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        self.0.insert(path.to_string(), bytes);
        Ok(())
    }
}

fn sample_tip() -> Tip {
    let mut tip = Tip::new(Kind::Tip, "demo", "2026-11-29");
    tip.language = "es".into();
    tip.text = "Vi una furgoneta en el puerto.".into();
    tip
}

/// A cleaned JPEG of `size` bytes named `name`.
fn photo_attachment(name: &str, size: usize) -> NewAttachment<'_> {
    NewAttachment {
        name,
        media_type: "image/jpeg",
        size: size as u64,
        metadata: MetadataStatus::Removed,
        removed: vec!["location".into()],
        keep_name: false,
    }
}

/// A photo's bytes: 70,001 of them, more than one 64 KiB chunk.
fn photo() -> Vec<u8> {
    (0..70_001u32).map(|i| (i % 251) as u8).collect()
}

fn bundle(files: &[(&str, &[u8])], tip: Tip) -> Vec<u8> {
    let mut writer = BundleWriter::new(Vec::new());
    for (name, data) in files {
        let attachment = photo_attachment(name, data.len());
        writer.add_attachment(attachment, &mut &data[..]).unwrap();
    }
    writer.finish(tip).unwrap().0
}

fn read(bytes: &[u8]) -> Result<(Tip, Collect), BundleReadError> {
    let mut sink = Collect::default();
    let opened = read_bundle(bytes, &Limits::default(), &mut sink)?;
    Ok((opened.tip, sink))
}

#[test]
fn a_bundle_reads_back_and_is_padded() {
    let photo = vec![0xAB; 70_000];
    let bytes = bundle(
        &[("photo.jpg", &photo), ("note.txt", b"hello")],
        sample_tip(),
    );
    assert_eq!(
        bytes.len() as u64,
        padme(bytes.len() as u64),
        "the plaintext length is a Padmé size"
    );
    let (tip, files) = read(&bytes).unwrap();
    assert_eq!(tip.text, "Vi una furgoneta en el puerto.");
    assert_eq!(tip.attachments.len(), 2);
    assert_eq!(tip.attachments[0].path, "attachments/01.jpg");
    assert_eq!(tip.attachments[0].removed, vec!["location", "file name"]);
    assert_eq!(files.0["attachments/01.jpg"], photo);
    assert_eq!(files.0["attachments/02.txt"], b"hello");
}

#[test]
fn system_tar_reads_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tip.tar");
    std::fs::write(&path, bundle(&[("photo.jpg", b"jpeg bytes")], sample_tip())).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "attachments/01.jpg\ntip.json\ntip.txt\n"
    );
}

#[test]
fn a_declared_size_that_does_not_match_is_refused_when_writing() {
    let mut writer = BundleWriter::new(Vec::new());
    let short = NewAttachment {
        name: "a.jpg",
        media_type: "image/jpeg",
        size: 10,
        metadata: MetadataStatus::NotChecked,
        removed: vec![],
        keep_name: false,
    };
    assert!(matches!(
        writer.add_attachment(short.clone(), &mut &[1u8; 5][..]),
        Err(BundleWriteError::SizeMismatch { actual: 5, .. })
    ));
    let mut writer = BundleWriter::new(Vec::new());
    assert!(matches!(
        writer.add_attachment(short, &mut &[1u8; 11][..]),
        Err(BundleWriteError::SizeMismatch { .. })
    ));
}

#[test]
fn an_attachment_written_in_pieces_equals_one_read_whole() {
    let photo = photo();
    let whole = bundle(&[("a.jpg", &photo)], sample_tip());

    let mut writer = BundleWriter::new(Vec::new());
    let mut attachment = writer
        .begin_attachment(photo_attachment("a.jpg", photo.len()))
        .unwrap();
    for piece in photo.chunks(4_099) {
        std::io::Write::write_all(&mut attachment, piece).unwrap();
    }
    assert_eq!(attachment.written(), photo.len() as u64);
    attachment.finish().unwrap();
    let pieces = writer.finish(sample_tip()).unwrap().0;

    assert_eq!(pieces, whole);
    let (tip, files) = read(&pieces).unwrap();
    assert_eq!(files.0["attachments/01.jpg"], photo);
    assert_eq!(tip.attachments[0].size, photo.len() as u64);
}

/// Writes `photo` as an attachment hashed apart, its SHA-256 given as
/// `digest` (when `Some`), then `tip.json`.
fn hashed_apart(photo: &[u8], digest: Option<[u8; 32]>) -> Result<Vec<u8>, BundleWriteError> {
    let mut writer = BundleWriter::new(Vec::new());
    let mut attachment =
        writer.begin_attachment_hashed_apart(photo_attachment("a.jpg", photo.len()))?;
    for piece in photo.chunks(4_099) {
        std::io::Write::write_all(&mut attachment, piece)?;
    }
    attachment.finish()?;
    assert_eq!(writer.attachments_written(), 1);
    if let Some(digest) = digest {
        writer.set_sha256(0, digest)?;
    }
    Ok(writer.finish(sample_tip())?.0)
}

#[test]
fn an_attachment_hashed_apart_equals_one_the_bundle_hashed() {
    let photo = photo();
    let whole = bundle(&[("a.jpg", &photo)], sample_tip());
    let digest: [u8; 32] = Sha256::digest(&photo).into();
    assert_eq!(hashed_apart(&photo, Some(digest)).unwrap(), whole);

    // Without its SHA-256 the bundle is not finished.
    assert!(matches!(
        hashed_apart(&photo, None),
        Err(BundleWriteError::MissingDigest { path }) if path == "attachments/01.jpg"
    ));
    // A wrong SHA-256 is written, and every reader refuses the attachment.
    let wrong = hashed_apart(&photo, Some([7; 32])).unwrap();
    assert!(matches!(
        read(&wrong),
        Err(BundleReadError::AttachmentMismatch(path)) if path == "attachments/01.jpg"
    ));

    // Only an attachment hashed apart, and finished, takes a SHA-256, once.
    let mut writer = BundleWriter::new(Vec::new());
    let new = || NewAttachment {
        name: "b.txt",
        media_type: "text/plain",
        size: 2,
        metadata: MetadataStatus::NotChecked,
        removed: vec![],
        keep_name: false,
    };
    writer.add_attachment(new(), &mut &b"hi"[..]).unwrap();
    assert!(matches!(
        writer.set_sha256(0, digest),
        Err(BundleWriteError::UnexpectedDigest { index: 0 })
    ));
    let mut apart = writer.begin_attachment_hashed_apart(new()).unwrap();
    std::io::Write::write_all(&mut apart, b"hi").unwrap();
    apart.finish().unwrap();
    writer.set_sha256(1, Sha256::digest(b"hi").into()).unwrap();
    assert!(matches!(
        writer.set_sha256(1, digest),
        Err(BundleWriteError::UnexpectedDigest { index: 1 })
    ));
    assert!(matches!(
        writer.set_sha256(2, digest),
        Err(BundleWriteError::UnexpectedDigest { index: 2 })
    ));
    let (tip, files) = read(&writer.finish(sample_tip()).unwrap().0).unwrap();
    assert_eq!(tip.attachments[0].sha256, tip.attachments[1].sha256);
    assert_eq!(files.0.len(), 2);
}

#[test]
fn pieces_of_the_wrong_size_or_an_unfinished_attachment_are_refused() {
    let new = |size| NewAttachment {
        name: "v.mp4",
        media_type: "video/mp4",
        size,
        metadata: MetadataStatus::NotChecked,
        removed: vec![],
        keep_name: false,
    };
    let mut writer = BundleWriter::new(Vec::new());
    let mut attachment = writer.begin_attachment(new(4)).unwrap();
    assert!(std::io::Write::write_all(&mut attachment, &[1; 5]).is_err());
    assert!(matches!(
        attachment.finish(),
        Err(BundleWriteError::SizeMismatch { declared: 4, .. })
    ));

    let mut writer = BundleWriter::new(Vec::new());
    let mut attachment = writer.begin_attachment(new(4)).unwrap();
    std::io::Write::write_all(&mut attachment, &[1; 3]).unwrap();
    assert!(matches!(
        attachment.finish(),
        Err(BundleWriteError::SizeMismatch { actual: 3, .. })
    ));

    let mut writer = BundleWriter::new(Vec::new());
    drop(writer.begin_attachment(new(4)).unwrap());
    assert!(matches!(
        writer.begin_attachment(new(1)),
        Err(BundleWriteError::Unfinished { .. })
    ));
    assert!(matches!(
        writer.finish(sample_tip()),
        Err(BundleWriteError::Unfinished { name }) if name == "v.mp4"
    ));
}

/// A raw tar entry, bypassing the tar crate's own path checks.
fn raw_entry(builder: &mut tar::Builder<Vec<u8>>, name: &[u8], kind: tar::EntryType, data: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(kind);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

fn archive_with(name: &[u8], kind: tar::EntryType) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    raw_entry(&mut builder, name, kind, b"x");
    builder.into_inner().unwrap()
}

#[test]
fn unsafe_entries_are_refused_each_with_its_own_error() {
    use tar::EntryType::*;
    let check = |bytes: Vec<u8>, expected: &str| {
        let err = read(&bytes).err().expect("must be refused");
        assert!(
            format!("{err:?}").starts_with(expected),
            "expected {expected}, got {err:?}"
        );
    };
    check(archive_with(b"/etc/passwd", Regular), "UnsafePath");
    check(archive_with(b"attachments/../../x", Regular), "UnsafePath");
    check(archive_with(b"attachments//x", Regular), "UnsafePath");
    check(
        archive_with(b"attachments/\xff\xfe", Regular),
        "NameNotUtf8",
    );
    check(archive_with(b"attachments/link", Symlink), "NotAFile");
    check(archive_with(b"attachments/hard", Link), "NotAFile");
    check(archive_with(b"attachments/dev", Char), "NotAFile");
    check(archive_with(b"attachments/blk", Block), "NotAFile");
    check(archive_with(b"attachments/fifo", Fifo), "NotAFile");
    check(archive_with(b"other.txt", Regular), "UnexpectedEntry");
    check(archive_with(b"attachments/a/b", Regular), "UnexpectedEntry");

    let mut builder = tar::Builder::new(Vec::new());
    raw_entry(&mut builder, b"attachments/01-a", Regular, b"x");
    raw_entry(&mut builder, b"attachments/01-a", Regular, b"y");
    check(builder.into_inner().unwrap(), "Duplicate");

    check(
        tar::Builder::new(Vec::new()).into_inner().unwrap(),
        "MissingTipJson",
    );
}

#[test]
fn sizes_over_the_callers_limits_are_refused() {
    let bytes = bundle(&[("big.jpg", &[7u8; 5000])], sample_tip());
    let sink = &mut Collect::default();
    let small = Limits {
        max_attachment_bytes: 4999,
        ..Limits::default()
    };
    assert!(matches!(
        read_bundle(&bytes[..], &small, sink),
        Err(BundleReadError::TooLarge { .. })
    ));
    let small = Limits {
        max_total_bytes: 5000,
        ..Limits::default()
    };
    assert!(matches!(
        read_bundle(&bytes[..], &small, sink),
        Err(BundleReadError::TooLarge { .. })
    ));
    let small = Limits {
        max_text_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        read_bundle(&bytes[..], &small, sink),
        Err(BundleReadError::TooLarge { .. })
    ));
    let small = Limits {
        max_entries: 2,
        ..Limits::default()
    };
    assert!(matches!(
        read_bundle(&bytes[..], &small, sink),
        Err(BundleReadError::TooManyEntries(2))
    ));
}

/// Rewrites tip.json inside a bundle (keeping the same length by padding
/// with spaces, which JSON ignores).
fn with_tip_json(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut archive = tar::Archive::new(bytes);
    let mut builder = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if path == "tip.json" {
            let mut value: serde_json::Value = serde_json::from_slice(&data).unwrap();
            edit(&mut value);
            data = serde_json::to_vec(&value).unwrap();
        }
        raw_entry(
            &mut builder,
            path.as_bytes(),
            tar::EntryType::Regular,
            &data,
        );
    }
    builder.into_inner().unwrap()
}

#[test]
fn attachments_must_match_tip_json() {
    let bytes = bundle(&[("photo.jpg", b"real photo")], sample_tip());
    let wrong_hash = with_tip_json(&bytes, |v| {
        v["attachments"][0]["sha256"] = "00".repeat(32).into()
    });
    assert!(matches!(
        read(&wrong_hash),
        Err(BundleReadError::AttachmentMismatch(_))
    ));
    let wrong_size = with_tip_json(&bytes, |v| v["attachments"][0]["size"] = 3.into());
    assert!(matches!(
        read(&wrong_size),
        Err(BundleReadError::AttachmentMismatch(_))
    ));
    let unlisted = with_tip_json(&bytes, |v| v["attachments"] = serde_json::json!([]));
    assert!(matches!(
        read(&unlisted),
        Err(BundleReadError::AttachmentUnlisted(_))
    ));
    let missing = with_tip_json(&bytes, |v| {
        v["attachments"][0]["path"] = "attachments/99-gone.jpg".into()
    });
    assert!(matches!(
        read(&missing),
        Err(BundleReadError::AttachmentUnlisted(_))
    ));
    let future = with_tip_json(&bytes, |v| v["version"] = 3.into());
    assert!(matches!(
        read(&future),
        Err(BundleReadError::UnsupportedVersion { version: 3, .. })
    ));
    let unknown_field = with_tip_json(&bytes, |v| v["surprise"] = true.into());
    assert!(matches!(
        read(&unknown_field),
        Err(BundleReadError::InvalidTipJson(_))
    ));
    let bad_reply = with_tip_json(&bytes, |v| {
        v["reply"] = serde_json::json!({"recipient": "age1nope", "mailbox": "00"})
    });
    assert!(matches!(
        read(&bad_reply),
        Err(BundleReadError::InvalidTipJson(_))
    ));
}

/// A sink that hashes what it reads itself: honestly, after stopping
/// short, or lying about the hash.
enum SelfHashing {
    Honest,
    StopsAfter(usize),
    Lies,
}

impl HashingSink for SelfHashing {
    fn attachment(
        &mut self,
        _path: &str,
        _size: u64,
        data: &mut dyn Read,
    ) -> std::io::Result<[u8; 32]> {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        Ok(match self {
            SelfHashing::Honest => Sha256::digest(&bytes).into(),
            SelfHashing::StopsAfter(n) => Sha256::digest(&bytes[..*n]).into(),
            SelfHashing::Lies => [7; 32],
        })
    }
}

#[test]
fn a_sink_that_hashes_is_held_to_tip_json() {
    let bytes = bundle(
        &[("photo.jpg", b"real photo"), ("clip.mp4", &[3; 200_000])],
        sample_tip(),
    );
    let opened = read_bundle_hashed_by(&bytes[..], &Limits::default(), &mut SelfHashing::Honest);
    assert_eq!(opened.unwrap().tip.attachments.len(), 2);
    for mut sink in [SelfHashing::StopsAfter(4), SelfHashing::Lies] {
        assert!(matches!(
            read_bundle_hashed_by(&bytes[..], &Limits::default(), &mut sink),
            Err(BundleReadError::AttachmentMismatch(_))
        ));
    }
}

#[test]
fn only_zeros_may_follow_the_archive() {
    let mut bytes = bundle(&[], sample_tip());
    let last = bytes.len() - 1;
    bytes[last] = 1;
    assert!(matches!(read(&bytes), Err(BundleReadError::TrailingData)));
}

#[test]
fn a_sealed_tip_opens_only_for_its_recipients() {
    let agency = Identity::generate().unwrap();
    let other = Identity::generate().unwrap();
    let mut tip = sample_tip();
    let key = sealtip_envelope::ThreadKey::from_bytes([3; 32]);
    let reply_to = Identity::generate().unwrap().recipient();
    tip.reply = Some(ReplyTo {
        recipient: reply_to.to_string(),
        mailbox: key.mailbox(&reply_to),
        thread_key: Some(key.to_hex().to_string()),
    });
    let mut sealing = seal_tip(&[agency.recipient()], Vec::new()).unwrap();
    let photo = vec![1u8; 100_000];
    let attachment = NewAttachment {
        name: "p.jpg",
        media_type: "image/jpeg",
        size: photo.len() as u64,
        metadata: MetadataStatus::Kept,
        removed: vec![],
        keep_name: false,
    };
    sealing.add_attachment(attachment, &mut &photo[..]).unwrap();
    let (sealed, written) = sealing.finish(tip).unwrap();
    let mut sink = Collect::default();
    let opened = open_tip(
        &sealed[..],
        std::slice::from_ref(&agency),
        &Limits::default(),
        &mut sink,
    )
    .unwrap();
    assert_eq!(
        opened, written,
        "sealing gives back exactly what opening gives"
    );
    assert_eq!(sink.0["attachments/01.jpg"], photo);
    let err = open_tip(&sealed[..], &[other], &Limits::default(), &mut ()).unwrap_err();
    assert!(matches!(
        err,
        TipError::Open(OpenError::NoMatch { stanzas: 1, .. })
    ));
    assert_eq!(
        err.to_string(),
        "this file was sealed to 1 other key, not to this one"
    );
}

fn arbitrary_tip() -> impl Strategy<Value = (Tip, Vec<(String, Vec<u8>)>)> {
    let files = proptest::collection::vec(
        (
            "[a-zA-Z0-9 ._-]{0,80}",
            proptest::collection::vec(any::<u8>(), 0..3000),
        ),
        0..4,
    );
    ("\\PC{0,400}", "[a-z]{2}", files).prop_map(|(text, language, files)| {
        let mut tip = Tip::new(Kind::Tip, "agency-1", "2026-11-29");
        tip.text = text;
        tip.language = language;
        (tip, files)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bundle_round_trips((tip, files) in arbitrary_tip()) {
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        let bytes = bundle(&refs, tip.clone());
        prop_assert_eq!(bytes.len() as u64, padme(bytes.len() as u64));
        let (read_tip, sink) = read(&bytes).unwrap();
        prop_assert_eq!(&read_tip.text, &tip.text);
        prop_assert_eq!(read_tip.attachments.len(), files.len());
        for (listed, (_, data)) in read_tip.attachments.iter().zip(&files) {
            prop_assert_eq!(&sink.0[&listed.path], data);
        }
    }
}

#[test]
fn text_only_tips_all_seal_to_one_size() {
    let short = bundle(&[], sample_tip());
    let mut long_tip = sample_tip();
    long_tip.text = "x".repeat(20_000);
    let long = bundle(&[], long_tip);
    assert_eq!(short.len(), long.len());
    assert!(short.len() as u64 >= sealtip_envelope::MIN_PLAINTEXT_BYTES);
}

#[test]
fn the_device_file_name_is_removed_unless_kept() {
    let mut writer = BundleWriter::new(Vec::new());
    for (name, keep_name) in [("IMG_20261206_Maria.jpg", false), ("evidence.jpg", true)] {
        let attachment = NewAttachment {
            name,
            media_type: "image/jpeg",
            size: 3,
            metadata: MetadataStatus::Removed,
            removed: vec!["location".into()],
            keep_name,
        };
        writer.add_attachment(attachment, &mut &b"abc"[..]).unwrap();
    }
    let bytes = writer.finish(sample_tip()).unwrap().0;
    let (tip, files) = read(&bytes).unwrap();
    assert_eq!(tip.attachments[0].path, "attachments/01.jpg");
    assert_eq!(tip.attachments[0].name, "");
    assert_eq!(tip.attachments[0].removed, vec!["location", "file name"]);
    assert_eq!(tip.attachments[1].name, "evidence.jpg");
    assert_eq!(tip.attachments[1].removed, vec!["location"]);
    assert!(files.0.keys().all(|path| !path.contains("Maria")));
    let json = String::from_utf8(bytes).unwrap_or_default();
    assert!(!json.contains("Maria"), "the name is nowhere in the bundle");
}

#[test]
fn items_in_a_thread_carry_a_proof_of_their_tip_json() {
    use sealtip_envelope::ThreadKey;
    let key = ThreadKey::from_bytes([5; 32]);
    let mut message = Tip::new(Kind::Message, "demo", "2026-12-06");
    message.thread = Some("0123456789abcdef0123456789abcdef".into());
    // Without the thread key, a follow-up cannot be written.
    let err = BundleWriter::new(Vec::new())
        .finish(message.clone())
        .unwrap_err();
    assert!(err.to_string().contains("thread key"), "{err}");
    let bytes = BundleWriter::new(Vec::new())
        .finish_in_thread(message, &key)
        .unwrap()
        .0;
    let opened = read_bundle(&bytes[..], &Limits::default(), &mut ()).unwrap();
    assert!(key.verifies(&opened.json, opened.mac.as_ref().unwrap()));
    assert!(!ThreadKey::from_bytes([6; 32]).verifies(&opened.json, opened.mac.as_ref().unwrap()));
}
