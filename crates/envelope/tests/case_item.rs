//! Case items: the officers' case state of a thread, sealed as a bundle
//! like a reply, proven with the thread's case key, refused when malformed.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use sealtip_envelope::{
    BundleWriteError, BundleWriter, CaseChange, CaseStatus, Identity, ItemView, Kind, Limits,
    ThreadKey, Tip, case_is_proven, is_proven_in_thread, open_tip, read_bundle, seal_tip,
};

const MAILBOX: &str = "0123456789abcdef0123456789abcdef";

fn case_tip() -> Tip {
    let mut tip = Tip::new(Kind::Case, "demo", "2026-12-07");
    tip.thread = Some(MAILBOX.into());
    tip.case = Some(CaseChange {
        officer: "Ana".into(),
        written: "2026-12-07T05:10:00Z".into(),
        status: Some(CaseStatus::InProgress),
        assignee: Some("Ben".into()),
        labels_added: vec!["urgent".into()],
        note: Some("Called the shelter.".into()),
        seen: vec!["ab".repeat(32)],
        ..CaseChange::default()
    });
    tip
}

#[test]
fn a_case_item_seals_opens_and_proves_with_the_case_key_only() {
    let key = ThreadKey::from_bytes([5; 32]);
    let officer = Identity::generate().unwrap();
    let sealing = seal_tip(&[officer.recipient()], Vec::new()).unwrap();
    let (sealed, written) = sealing.finish_case(case_tip(), &key).unwrap();
    let opened = open_tip(&sealed[..], &[officer], &Limits::default(), &mut ()).unwrap();
    assert_eq!(opened, written);
    assert_eq!(opened.tip, case_tip());
    let view = ItemView {
        tip: &opened.tip,
        json: &opened.json,
        mac: opened.mac.as_ref(),
    };
    assert!(case_is_proven(&view, MAILBOX, &key));
    assert!(!is_proven_in_thread(&view, MAILBOX, &key));
    assert!(!case_is_proven(
        &view,
        MAILBOX,
        &ThreadKey::from_bytes([6; 32])
    ));
    let text = opened.text.unwrap();
    assert!(text.contains("Status: in_progress"), "{text}");
    assert!(text.contains("Called the shelter."), "{text}");
}

#[test]
fn a_case_item_carries_a_case_proof_and_nothing_else_does() {
    let key = ThreadKey::from_bytes([5; 32]);
    let as_follow_up = BundleWriter::new(Vec::new()).finish_in_thread(case_tip(), &key);
    assert!(matches!(as_follow_up, Err(BundleWriteError::WrongProof)));
    let mut message = Tip::new(Kind::Message, "demo", "2026-12-07");
    message.thread = Some(MAILBOX.into());
    let as_case = BundleWriter::new(Vec::new()).finish_case(message, &key);
    assert!(matches!(as_case, Err(BundleWriteError::WrongProof)));
    assert!(BundleWriter::new(Vec::new()).finish(case_tip()).is_err());
}

#[test]
fn a_malformed_case_item_is_refused_on_reading() {
    let key = ThreadKey::from_bytes([5; 32]);
    let mut cases = Vec::new();
    let mut no_case = case_tip();
    no_case.case = None;
    cases.push(no_case);
    let mut no_thread = case_tip();
    no_thread.thread = None;
    cases.push(no_thread);
    let mut long_assignee = case_tip();
    long_assignee.case.as_mut().unwrap().assignee = Some("x".repeat(101));
    cases.push(long_assignee);
    let mut local_time = case_tip();
    local_time.case.as_mut().unwrap().written = "2026-12-07 05:10".into();
    cases.push(local_time);
    for tip in cases {
        // Written past the writer's checks, as a hostile sender would.
        let json = serde_json::to_vec(&tip).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, "tip.json", &json[..]).unwrap();
        let mac = format!("{}\n", hex::encode(key.case_proof(&json)));
        let mut header = tar::Header::new_ustar();
        header.set_size(mac.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, "tip.mac", mac.as_bytes())
            .unwrap();
        let bytes = tar.into_inner().unwrap();
        let read = read_bundle(&bytes[..], &Limits::default(), &mut ());
        assert!(read.is_err(), "{tip:?}");
    }
    // A follow-up that carries a case object is refused too.
    let mut message = case_tip();
    message.kind = Kind::Message;
    let bytes = BundleWriter::new(Vec::new())
        .finish_in_thread(message, &key)
        .unwrap()
        .0;
    assert!(read_bundle(&bytes[..], &Limits::default(), &mut ()).is_err());
}
