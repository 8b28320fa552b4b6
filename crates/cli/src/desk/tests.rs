//! The desk's guards and pages, through its router (no network, no relay):
//! what a browser on this machine, or a hostile page in it, would get.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use sealtip_api::ItemKind;
use sealtip_envelope::{Codename, Identity, ReplyKeys};
use sealtip_envelope::{Kind, MetadataStatus, NewAttachment, ReplyTo, Tip};
use tower::ServiceExt;
use zeroize::Zeroizing;

use super::state::{Item, Keys, Origin, Sealed, State};
use super::{Desk, hosts, server, words::Words};

const HOST: &str = "127.0.0.1:4000";
const TIP: &str = "0123456789abcdef0123456789abcdef";

/// A sealed tip with a photo, a PDF and a "photo" that is really HTML,
/// proven in the codename's thread.
fn sealed_tip(officer: &Identity, keys: &ReplyKeys) -> Vec<u8> {
    let mut sealing = sealtip_envelope::seal_tip(&[officer.recipient()], Vec::new()).unwrap();
    let files: [(&str, &str, &[u8]); 3] = [
        (
            "photo.png",
            "image/png",
            b"\x89PNG\r\n\x1a\nnot really a png",
        ),
        ("report \"q3\".pdf", "application/pdf", b"%PDF-1.4 <html>"),
        ("trap.png", "image/png", b"<html><script>alert(1)</script>"),
    ];
    for (name, media_type, bytes) in files {
        let attachment = NewAttachment {
            name,
            media_type,
            size: bytes.len() as u64,
            metadata: MetadataStatus::NotChecked,
            removed: vec![],
            keep_name: true,
        };
        sealing.add_attachment(attachment, &mut &bytes[..]).unwrap();
    }
    let mut tip = Tip::new(Kind::Tip, "demo", "2026-11-29");
    tip.text = "The <script>alert(1)</script> at the depot".into();
    tip.reply = Some(ReplyTo::from_keys(keys));
    sealing.finish_in_thread(tip, &keys.thread_key).unwrap().0
}

fn desk(relay: Option<&str>) -> Arc<Desk> {
    let codename = Codename::parse("abacus abdomen abdominal abide abiding ability ablaze able")
        .unwrap()
        .derive()
        .unwrap();
    // Keys of one kind: a reply is never sealed to hybrid and X25519 keys together.
    let officer = Identity::generate_kind(codename.identity.kind()).unwrap();
    let sealed = sealed_tip(&officer, &codename);
    let keys = Keys {
        identities: vec![officer],
        token: Some(Zeroizing::new("token".into())),
    };
    let sealed = Sealed::Memory(Arc::new(Zeroizing::new(sealed)));
    let opened = super::sync::open_sealed(&sealed, &keys);
    let mut state = State {
        keys: Some(Arc::new(keys)),
        ..State::default()
    };
    state.add(Item {
        id: TIP.into(),
        origin: Origin::Inbox(ItemKind::Tip, 2048),
        received: "2026-11-29T14:00:00Z".into(),
        order: 0,
        sealed,
        opened,
    });
    Arc::new(Desk {
        words: Words::for_tag("en"),
        agency: "demo".into(),
        relay: relay.map(str::to_string),
        inbox_dir: None,
        officer: Some("Ana".into()),
        export_dir: std::env::temp_dir().join("sealtip-desk-tests-unused"),
        secret: "00112233445566778899aabbccddeeff".into(),
        hosts: hosts(HOST.parse::<SocketAddr>().unwrap()),
        state: Mutex::new(state),
        rounds: tokio::sync::Mutex::new(()),
        wake: tokio::sync::Notify::new(),
    })
}

async fn send(desk: &Arc<Desk>, request: Request<Body>) -> (Response<Body>, String) {
    let response = server::router(desk.clone()).oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (Response::from_parts(parts, Body::empty()), text)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", HOST)
        .body(Body::empty())
        .unwrap()
}

fn post(path: &str, origin: Option<&str>, form: &str) -> Request<Body> {
    let mut request = Request::post(path)
        .header("host", HOST)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.body(Body::from(form.to_string())).unwrap()
}

fn base(desk: &Desk) -> String {
    desk.base()
}

#[tokio::test]
async fn every_address_needs_the_secret() {
    let desk = desk(None);
    for path in [
        "/",
        "/s/",
        "/s/00112233445566778899aabbccddeef0/",
        "/s/x/desk.css",
        "/agency",
    ] {
        let (response, body) = send(&desk, get(path)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("depot"), "{path}");
    }
    let (response, body) = send(&desk, get(&base(&desk))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Inbox of demo"));
}

#[tokio::test]
async fn another_host_name_is_refused() {
    let desk = desk(None);
    let page = base(&desk);
    for host in [
        "evil.example",
        "evil.example:4000",
        "127.0.0.1:4001",
        "127.0.0.2:4000",
        "",
    ] {
        let request = Request::get(&page)
            .header("host", host)
            .body(Body::empty())
            .unwrap();
        let (response, body) = send(&desk, request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{host}");
        assert!(!body.contains("depot"));
    }
    let request = Request::get(&page)
        .header("host", "localhost:4000")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&desk, request).await.0.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_answer_is_strict_and_not_stored() {
    let desk = desk(None);
    let page = base(&desk);
    for path in [
        page.clone(),
        format!("{page}item/{TIP}"),
        format!("{page}nothing"),
        "/".into(),
    ] {
        let (response, _) = send(&desk, get(&path)).await;
        let headers = response.headers();
        assert_eq!(headers["content-security-policy"], server::CSP, "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    let (response, css) = send(&desk, get(&format!("{page}desk.css"))).await;
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert!(css.contains(":focus-visible"));
}

#[tokio::test]
async fn the_thread_shows_text_escaped_and_files_as_links() {
    let desk = desk(None);
    let page = base(&desk);
    let (_, body) = send(&desk, get(&format!("{page}item/{TIP}"))).await;
    assert!(body.contains("The &lt;script&gt;alert(1)&lt;/script&gt; at the depot"));
    assert!(!body.contains("<script"));
    assert!(body.contains("Download photo.png"));
    assert!(body.contains("Show photo photo.png"));
    // A photo is drawn only once asked for.
    assert!(!body.contains("<img"));
    let (_, shown) = send(&desk, get(&format!("{page}item/{TIP}?show={TIP}-0"))).await;
    assert!(shown.contains(&format!("<img class=\"photo\" src=\"{page}image/{TIP}/0\"")));
    assert!(shown.contains("Hide photo photo.png"));
}

#[tokio::test]
async fn a_photo_is_served_only_if_its_bytes_are_an_image() {
    let desk = desk(None);
    let page = base(&desk);
    let (response, body) = send(&desk, get(&format!("{page}image/{TIP}/0"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert!(body.starts_with("\u{fffd}PNG"));
    // Named .png, typed image/png, but HTML inside: not served as anything.
    let (response, body) = send(&desk, get(&format!("{page}image/{TIP}/2"))).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(!body.contains("<script"));
    // The PDF is not offered as a photo, and is not served as one.
    let (response, _) = send(&desk, get(&format!("{page}image/{TIP}/1"))).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn any_other_file_is_an_inert_download() {
    let desk = desk(None);
    let page = base(&desk);
    for (number, name) in [(1, "report__q3_.pdf"), (2, "trap.png")] {
        let (response, body) = send(&desk, get(&format!("{page}file/{TIP}/{number}"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/octet-stream");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert_eq!(disposition, format!("attachment; filename=\"{name}\""));
        assert!(body.starts_with("%PDF") || body.starts_with("<html>"));
    }
    let (response, _) = send(&desk, get(&format!("{page}file/{TIP}/9"))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_from_another_origin_is_refused() {
    let desk = desk(None);
    let lock = format!("{}lock", base(&desk));
    for origin in ["http://evil.example", "null", "http://127.0.0.1:4001"] {
        let (response, _) = send(&desk, post(&lock, Some(origin), "")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(!desk.state().locked());
    }
    // Another site's page, by the browser's word, even with no Origin.
    let mut request = post(&lock, None, "");
    let headers = request.headers_mut();
    headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&desk, request).await.0.status(), StatusCode::FORBIDDEN);
    assert!(!desk.state().locked());
    // The desk's own form, under no-referrer: Origin null, same-origin.
    let mut request = post(&lock, Some("null"), "");
    let headers = request.headers_mut();
    headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
    let (response, body) = send(&desk, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("The desk is locked"));
}

#[tokio::test]
async fn a_form_from_the_desk_itself_is_taken() {
    let desk = desk(None);
    let lock = format!("{}lock", base(&desk));
    let (response, body) = send(&desk, post(&lock, Some("http://127.0.0.1:4000"), "")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("The desk is locked"));
}

#[tokio::test]
async fn locking_forgets_everything_and_shows_only_the_locked_page() {
    let desk = desk(None);
    let page = base(&desk);
    send(&desk, post(&format!("{page}lock"), None, "")).await;
    {
        let state = desk.state();
        assert!(state.keys.is_none() && state.items.is_empty());
    }
    // What a round under way brings back after the lock is not kept.
    let reply = sealtip_envelope::OpenedTip {
        tip: Tip::new(Kind::Reply, "demo", "2026-11-30"),
        json: Vec::new(),
        mac: None,
        text: None,
    };
    let sealed = Zeroizing::new(vec![1]);
    desk.state()
        .queue_reply(sealed, reply, "2026-11-30T09:00:00Z".into());
    assert!(desk.state().items.is_empty());
    for path in [
        page.clone(),
        format!("{page}item/{TIP}"),
        format!("{page}file/{TIP}/0"),
    ] {
        let (response, body) = send(&desk, get(&path)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(body.contains("The desk is locked"), "{path}");
        assert!(body.contains("start sealtip desk again"));
        assert!(!body.contains("depot"));
    }
}

#[tokio::test]
async fn replies_say_what_is_wrong_and_are_queued_not_sent() {
    let offline = desk(None);
    let page = base(&offline);
    let reply = format!("{page}item/{TIP}/reply");
    let (response, body) = send(&offline, post(&reply, None, "text=Thanks")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("Replies need the relay"));

    // A relay nobody listens on: nothing is sent now, so nothing fails.
    let desk = desk(Some("http://127.0.0.1:9"));
    let page = base(&desk);
    let reply = format!("{page}item/{TIP}/reply");
    let (response, body) = send(&desk, post(&reply, None, "text=+++")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("Write a reply first."));
    let (response, _) = send(&desk, post(&reply, None, "text=Are+you+safe%3F")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, body) = send(&desk, get(&format!("{page}item/{TIP}?note=queued"))).await;
    assert!(body.contains("The reply is sealed and queued"));
    assert!(body.contains("Are you safe?"));
    assert!(body.contains("Replies waiting for the next check: 1."));
    assert_eq!(desk.state().queued_replies().len(), 1);
}

#[tokio::test]
async fn deleting_asks_first() {
    let desk = desk(None);
    let page = base(&desk);
    let (response, body) = send(&desk, get(&format!("{page}item/{TIP}/delete"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("Yes, delete it"));
    assert!(desk.state().items.contains_key(TIP));
    let (response, _) = send(&desk, post(&format!("{page}item/{TIP}/delete"), None, "")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!desk.state().items.contains_key(TIP));
    let (response, body) = send(&desk, get(&format!("{page}item/{TIP}"))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body.contains("There is no such item"));
}

#[tokio::test]
async fn an_item_without_the_thread_proof_is_marked_and_cannot_be_answered() {
    let desk = desk(None);
    let page = base(&desk);
    // A "follow-up" naming the tip's mailbox, without the thread's proof.
    let forged = "fedcba9876543210fedcba9876543210";
    {
        let mut state = desk.state();
        let keys = state.keys.clone().unwrap();
        let mailbox = state.verified_mailboxes().into_iter().next().unwrap();
        let officer = keys.identities[0].recipient();
        let sealing = sealtip_envelope::seal_tip(&[officer], Vec::new()).unwrap();
        let mut tip = Tip::new(Kind::Message, "demo", "2026-11-30");
        tip.text = "Send the money to this account".into();
        tip.thread = Some(mailbox);
        // Proven with a key that is not the thread's.
        let wrong = sealtip_envelope::ThreadKey::from_bytes([7; 32]);
        let bytes = sealing.finish_in_thread(tip, &wrong).unwrap().0;
        let sealed = Sealed::Memory(Arc::new(Zeroizing::new(bytes)));
        let opened = super::sync::open_sealed(&sealed, &keys);
        state.add(Item {
            id: forged.into(),
            origin: Origin::Inbox(ItemKind::Message, 1024),
            received: "2026-11-29T15:00:00Z".into(),
            order: 0,
            sealed,
            opened,
        });
    }
    let (_, tip) = send(&desk, get(&format!("{page}item/{TIP}"))).await;
    assert!(tip.contains("Verified: proven to belong to this conversation."));
    assert!(!tip.contains("Send the money"));
    let (_, forged_page) = send(&desk, get(&format!("{page}item/{forged}"))).await;
    assert!(forged_page.contains("Send the money to this account"));
    assert!(forged_page.contains("Unverified."));
    assert!(forged_page.contains("No reply can be sent here"));
    assert!(!forged_page.contains("reply-text"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_does_not_answer_is_one_line_on_the_page() {
    // Nothing listens on port 9 of this machine.
    let desk = desk(Some("http://127.0.0.1:9"));
    desk.round().await;
    let (_, body) = send(&desk, get(&base(&desk))).await;
    assert!(body.contains("The relay cannot be reached: check the connection."));
    assert!(body.contains("role=\"alert\""));
    // What the desk already holds is still there.
    assert!(body.contains("The &lt;script&gt;alert(1)&lt;/script&gt; at the depot"));
}

#[tokio::test]
async fn an_item_for_another_key_says_so_in_the_inbox() {
    let desk = desk(None);
    {
        let mut state = desk.state();
        let keys = state.keys.clone().unwrap();
        let stranger = Identity::generate().unwrap();
        let codename =
            Codename::parse("abacus abdomen abdominal abide abiding ability ablaze able")
                .unwrap()
                .derive()
                .unwrap();
        let sealed = sealed_tip(&stranger, &codename);
        let sealed = Sealed::Memory(Arc::new(Zeroizing::new(sealed)));
        let opened = super::sync::open_sealed(&sealed, &keys);
        state.add(Item {
            id: "ffffffffffffffffffffffffffffffff".into(),
            origin: Origin::Inbox(ItemKind::Tip, 4096),
            received: "2026-11-29T16:00:00Z".into(),
            order: 0,
            sealed,
            opened,
        });
    }
    let (_, body) = send(&desk, get(&base(&desk))).await;
    assert!(body.contains("It does not open with this key: "), "{body}");
    // Nothing to open, but it can be deleted.
    assert!(!body.contains("item/ffffffffffffffffffffffffffffffff\""));
    assert!(body.contains("item/ffffffffffffffffffffffffffffffff/delete"));
}

/// The desk's thread key and mailbox (the codename's, as `desk` seals).
fn thread_of_tip() -> (String, sealtip_envelope::ThreadKey) {
    let keys = Codename::parse("abacus abdomen abdominal abide abiding ability ablaze able")
        .unwrap()
        .derive()
        .unwrap();
    (keys.mailbox.clone(), keys.thread_key.clone())
}

/// Adds a case item sealed with the desk's keys, proven with `key`.
fn add_case(desk: &Desk, id: &str, key: &sealtip_envelope::ThreadKey, mailbox: &str) {
    use sealtip_envelope::{CaseChange, CaseStatus};
    let change = CaseChange {
        officer: "Ben <i>".into(),
        written: "2026-12-07T05:10:00Z".into(),
        status: Some(CaseStatus::InProgress),
        assignee: Some("Ben <i>".into()),
        labels_added: vec!["<b>port</b>".into()],
        note: Some("<script>alert(2)</script> called".into()),
        ..CaseChange::default()
    };
    let keys = desk.state().keys.clone().unwrap();
    let (sealed, _) =
        super::open::seal_case("demo", mailbox, key, change, &keys.identities).unwrap();
    let size = sealed.len() as u64;
    let sealed = Sealed::Memory(Arc::new(sealed));
    let opened = super::sync::open_sealed(&sealed, &keys);
    desk.state().add(Item {
        id: id.into(),
        origin: Origin::Inbox(ItemKind::Case, size),
        received: "2026-12-07T05:00:00Z".into(),
        order: 0,
        sealed,
        opened,
    });
}

#[tokio::test]
async fn case_text_is_escaped_and_a_case_item_without_the_proof_is_refused() {
    let desk = desk(Some("http://127.0.0.1:9"));
    let (mailbox, key) = thread_of_tip();
    add_case(&desk, "11111111111111111111111111111111", &key, &mailbox);
    let forged = sealtip_envelope::ThreadKey::from_bytes([9; 32]);
    add_case(&desk, "22222222222222222222222222222222", &forged, &mailbox);
    let page = base(&desk);
    let (_, body) = send(&desk, get(&format!("{page}item/{TIP}"))).await;
    for expected in [
        "<dd class=\"case-status\">In progress</dd>",
        "<dd class=\"case-assignee\">Ben &lt;i&gt;</dd>",
        "<span class=\"label\">&lt;b&gt;port&lt;/b&gt;</span>",
        "&lt;script&gt;alert(2)&lt;/script&gt; called",
        "Ben &lt;i&gt;, 2026-12-07 05:10 UTC",
        "Case changes refused: 1.",
        "<fieldset><legend>Change the case, as Ana</legend>",
        "aria-label=\"Remove the label &lt;b&gt;port&lt;/b&gt;\"",
    ] {
        assert!(body.contains(expected), "{expected:?} not in {body}");
    }
    assert!(
        !body.contains("<script") && !body.contains("<b>port"),
        "{body}"
    );
    // Case items are case state: no row, no entry of their own; the one
    // proven in no thread is said on the inbox too.
    let (_, inbox) = send(&desk, get(&page)).await;
    assert!(
        inbox.contains("Case changes that count in no case: 1."),
        "{inbox}"
    );
    assert_eq!(inbox.matches("<tr>").count(), 2, "{inbox}");
    assert!(inbox.contains("Status: </span>In progress"), "{inbox}");
    let (_, found) = send(&desk, get(&format!("{page}?q=CALLED+depot"))).await;
    assert!(found.contains("1 of 1 items shown"), "{found}");
    let (_, found) = send(&desk, get(&format!("{page}?q=harbour"))).await;
    assert!(found.contains("0 of 1 items shown"), "{found}");
    let (_, found) = send(&desk, get(&format!("{page}?status=closed"))).await;
    assert!(found.contains("0 of 1 items shown"), "{found}");
}

#[tokio::test]
async fn the_case_form_seals_and_queues_only_what_changed() {
    let desk = desk(Some("http://127.0.0.1:9"));
    let page = base(&desk);
    let thread = format!("{page}item/{TIP}");
    let origin = format!("http://{HOST}");
    let form = "status=closed&assignee=&label=&note=Handed+to+the+prosecutor";
    let request = post(&format!("{thread}/case"), Some(&origin), form);
    let (response, _) = send(&desk, request).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(desk.state().queued_cases().len(), 1);
    let (_, body) = send(&desk, get(&format!("{thread}?note=case"))).await;
    assert!(body.contains("The change is sealed and queued"), "{body}");
    assert!(
        body.contains("<dd class=\"case-status\">Closed</dd>"),
        "{body}"
    );
    assert!(body.contains("Ana, "), "{body}");
    assert!(body.contains("(queued)"), "{body}");
    // The same form again changes nothing: refused, nothing queued.
    let request = post(
        &format!("{thread}/case"),
        Some(&origin),
        "status=closed&assignee=",
    );
    let (response, body) = send(&desk, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(body.contains("Nothing was changed"), "{body}");
    assert_eq!(desk.state().queued_cases().len(), 1);
    // Another site's form is refused before anything is sealed.
    let request = post(&format!("{thread}/case"), Some("http://evil.example"), form);
    assert_eq!(send(&desk, request).await.0.status(), StatusCode::FORBIDDEN);
    assert_eq!(desk.state().queued_cases().len(), 1);
}

#[tokio::test]
async fn with_the_relays_retention_each_item_shows_when_it_is_deleted() {
    let desk = desk(Some("http://127.0.0.1:9"));
    desk.state().retention_days = Some(10);
    let page = base(&desk);
    let (_, inbox) = send(&desk, get(&page)).await;
    assert!(inbox.contains("Deleted from the relay"), "{inbox}");
    // Received 2026-11-29 14:00: deleted 2026-12-09, within a week of
    // this desk's clock (or past): marked.
    assert!(
        inbox.contains("<strong class=\"expiring\">2026-12-09 14:00 UTC (within a week)</strong>"),
        "{inbox}"
    );
    let (_, thread) = send(&desk, get(&format!("{page}item/{TIP}"))).await;
    assert!(thread.contains("Keep a local copy"), "{thread}");
    assert!(thread.contains("The relay deletes this thread"), "{thread}");
}
