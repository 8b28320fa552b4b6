//! A flooding client cannot silence the tip line: room is checked before a
//! proof is spent, open sessions are bounded per agency and per relay, empty
//! sessions end within minutes, storage has quotas, the work rises with an
//! agency's load and falls back, and the operator sees fill levels (counts
//! only, behind a token).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::{Uploads, error_line, sealed};
use sealtip_api::{Challenge, Created, pow};
use sealtip_envelope::Recipient;
use sealtip_relay::http::empty_sessions::EmptySessions;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::{AppState, Config, serve};
use sha2::{Digest, Sha256};

const METRICS_TOKEN: &str = "an operator's metrics token";

/// A relay with the demo and news agencies, served in this process, with
/// its state at hand (the store, the load and its clock).
struct Relay {
    base: String,
    client: reqwest::Client,
    state: AppState<SqliteStore>,
    token: String,
    recipient: Recipient,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A second agency, `news`, with `extra` lines of its own.
fn news(recipient: &Recipient, extra: &str) -> String {
    format!(
        "\n[[agencies]]\nid = \"news\"\nname = \"News desk\"\nrecipients = [\"{recipient}\"]\n{extra}\
         [agencies.form]\nid = \"news-1\"\nquestions = []\n"
    )
}

/// Serves a relay of the demo and news agencies (`news_extra`: lines of
/// the news agency's own), as `tweak` changes it.
async fn start(news_extra: &str, tweak: impl FnOnce(&mut Config)) -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let done = sealtip_relay::init::init(&data).unwrap();
    let recipient = Recipient::parse(&done.recipient).unwrap();
    let mut text = std::fs::read_to_string(&done.config).unwrap();
    text.push_str(&news(&recipient, news_extra));
    let mut config: Config = toml::from_str(&text).unwrap();
    config.pow.difficulty = 0;
    config.dist = dir.path().join("dist");
    tweak(&mut config);
    let relay = config.check().unwrap();
    let sealtip_relay::config::Storage::Sqlite { database, blobs } = &relay.storage else {
        panic!("init writes SQLite storage");
    };
    let store = SqliteStore::open(database, blobs).unwrap();
    let state = AppState::new(store, Arc::new(relay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = state.clone();
    let task = tokio::spawn(async move {
        let _ = serve(listener, served).await;
    });
    Relay {
        base,
        client: reqwest::Client::new(),
        state,
        token: std::fs::read_to_string(&done.token)
            .unwrap()
            .trim()
            .to_owned(),
        recipient,
        _dir: dir,
        task,
    }
}

impl Relay {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A challenge for `agency` and `bytes`.
    async fn challenge(&self, agency: &str, bytes: u64) -> Challenge {
        let response = self
            .client
            .post(self.url("/api/v1/challenges"))
            .json(&serde_json::json!({"agency": agency, "bytes": bytes}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A solved proof for `agency` and `bytes`.
    async fn proof(&self, agency: &str, bytes: u64) -> String {
        let challenge = self.challenge(agency, bytes).await;
        let nonce = pow::solve(&challenge.challenge).unwrap();
        pow::proof_header(&challenge.challenge, nonce)
    }

    /// Posts `body` as a tip to `agency` with `proof`.
    async fn tip(&self, agency: &str, body: Vec<u8>, proof: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/agencies/{agency}/tips")))
            .header("content-type", "application/octet-stream")
            .header("sealtip-proof", proof)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Declares a tip of `declared` bytes to `agency` with `proof` and
    /// reads the answer without sending the body: the relay refuses a size
    /// the proof does not cover from the headers alone, and a client still
    /// writing a large body when that answer comes may see the connection
    /// closed instead of the answer (so reqwest cannot be used here).
    async fn tip_refused_on_its_size(
        &self,
        agency: &str,
        declared: u64,
        proof: &str,
    ) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
        let request = format!(
            "POST /api/v1/agencies/{agency}/tips HTTP/1.1\r\nhost: {host}\r\n\
             content-type: application/octet-stream\r\nsealtip-proof: {proof}\r\n\
             content-length: {declared}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        let (head_end, body_len) = loop {
            let read = stream.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the relay closed without an answer: {answer:?}");
            answer.extend_from_slice(&buffer[..read]);
            let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&answer[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map(|n| n.trim().parse::<usize>().unwrap())
                .expect("the answer says its length");
            break (end + 4, length);
        };
        while answer.len() < head_end + body_len {
            let read = stream.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the answer was cut short");
            answer.extend_from_slice(&buffer[..read]);
        }
        let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = String::from_utf8_lossy(&answer[head_end..head_end + body_len]).into_owned();
        (status, error_line(&body))
    }

    /// Opens a session for `agency` with `proof`.
    async fn open(&self, agency: &str, proof: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/agencies/{agency}/uploads")))
            .header("content-type", "application/json")
            .header("sealtip-proof", proof)
            .body(r#"{"kind": "tip"}"#)
            .send()
            .await
            .unwrap()
    }

    fn uploads(&self) -> Uploads<'_> {
        Uploads {
            client: &self.client,
            base: &self.base,
        }
    }

    async fn metrics(&self, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }
}

/// The status and one-line reason of a refusal.
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, error_line(&response.text().await.unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_for_capacity_leaves_the_proof_usable() {
    let relay = start("", |c| {
        c.limits.max_open_uploads_per_agency = 1;
        c.limits.max_bytes = 4000;
    })
    .await;
    // Sessions: the agency's one place is taken.
    let first: sealtip_api::UploadSession = relay
        .open("demo", &relay.proof("demo", 100).await)
        .await
        .json()
        .await
        .unwrap();
    let waiting = relay.proof("demo", 100).await;
    let (status, reason) = refusal(relay.open("demo", &waiting).await).await;
    assert_eq!(status, 429);
    assert!(reason.contains("for this agency"), "{reason}");
    assert_eq!(relay.uploads().delete(&first.upload).await, 204);
    let second: sealtip_api::UploadSession =
        relay.open("demo", &waiting).await.json().await.unwrap();
    assert_eq!(relay.uploads().delete(&second.upload).await, 204);
    let (status, reason) = refusal(relay.open("demo", &waiting).await).await;
    assert_eq!((status, reason.contains("already used")), (409, true));

    // Storage: a tip that does not fit is refused with 507, its proof kept.
    let tip = sealed(&relay.recipient, 2000);
    let stored: Created = relay
        .tip("demo", tip.clone(), &relay.proof("demo", 3000).await)
        .await
        .json()
        .await
        .unwrap();
    let waiting = relay.proof("demo", 3000).await;
    let (status, reason) = refusal(relay.tip("demo", tip.clone(), &waiting).await).await;
    assert_eq!(status, 507);
    assert_eq!(reason, "the relay's storage is full; try again later");
    let deleted = relay
        .client
        .delete(relay.url(&format!("/api/v1/agencies/demo/inbox/{}", stored.id)))
        .bearer_auth(&relay.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(relay.tip("demo", tip, &waiting).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_sessions_are_bounded_per_agency_and_per_relay() {
    let relay = start("", |c| {
        c.limits.max_open_uploads_per_agency = 2;
        c.limits.max_open_uploads = 3;
    })
    .await;
    for _ in 0..2 {
        let proof = relay.proof("demo", 100).await;
        assert_eq!(relay.open("demo", &proof).await.status(), 201);
    }
    let proof = relay.proof("demo", 100).await;
    let (status, reason) = refusal(relay.open("demo", &proof).await).await;
    assert_eq!(status, 429);
    assert_eq!(
        reason,
        "too many upload sessions are open for this agency; try again later"
    );
    // The other agency still has its own place, until the relay is full.
    let proof = relay.proof("news", 100).await;
    assert_eq!(relay.open("news", &proof).await.status(), 201);
    let proof = relay.proof("news", 100).await;
    let (status, reason) = refusal(relay.open("news", &proof).await).await;
    assert_eq!(status, 429);
    assert_eq!(reason, "too many upload sessions are open; try again later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_sessions_are_all_taken_the_one_silent_longest_gives_its_place() {
    let relay = start("", |c| c.limits.max_open_uploads_per_agency = 2).await;
    let uploads = relay.uploads();
    let open = async || {
        relay
            .open("demo", &relay.proof("demo", 100).await)
            .await
            .json::<sealtip_api::UploadSession>()
            .await
            .unwrap()
            .upload
    };
    let older = open().await;
    relay.state.load.clock.advance(10);
    let newer = open().await;
    let waiting = relay.proof("demo", 100).await;
    let (status, _) = refusal(relay.open("demo", &waiting).await).await;
    assert_eq!(status, 429, "none silent longer than a part may be");
    relay.state.load.clock.advance(25);
    // The newer one hears from its tipster; the older one stays silent.
    let file = sealed(&relay.recipient, 100);
    let header = common::header_len(&file);
    uploads.append(&newer, 0, &file[..header]).await;
    assert_eq!(relay.open("demo", &waiting).await.status(), 201);
    assert_eq!(uploads.received(&older).await, (404, None));
    assert_eq!(uploads.received(&newer).await, (200, Some(header as u64)));
    let (status, _) = refusal(relay.open("demo", &relay.proof("demo", 100).await).await).await;
    assert_eq!(status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_receives_nothing_ends_at_the_second_look() {
    let relay = start("", |_| {}).await;
    let uploads = relay.uploads();
    let empty = relay
        .open("demo", &relay.proof("demo", 100).await)
        .await
        .json::<sealtip_api::UploadSession>()
        .await
        .unwrap()
        .upload;
    let started = relay
        .open("demo", &relay.proof("demo", 100).await)
        .await
        .json::<sealtip_api::UploadSession>()
        .await
        .unwrap()
        .upload;
    let file = sealed(&relay.recipient, 100);
    let header = common::header_len(&file);
    uploads.append(&started, 0, &file[..header]).await;

    let mut sweeper = EmptySessions::default();
    assert_eq!(sweeper.sweep(&relay.state.store).await.unwrap(), 0);
    assert_eq!(uploads.received(&empty).await, (200, Some(0)));
    assert_eq!(sweeper.sweep(&relay.state.store).await.unwrap(), 1);
    assert_eq!(uploads.received(&empty).await, (404, None));
    assert_eq!(uploads.received(&started).await, (200, Some(header as u64)));
    // A session opened since the last look is not ended at the next one.
    let fresh = relay
        .open("demo", &relay.proof("demo", 100).await)
        .await
        .json::<sealtip_api::UploadSession>()
        .await
        .unwrap()
        .upload;
    assert_eq!(sweeper.sweep(&relay.state.store).await.unwrap(), 0);
    assert_eq!(uploads.received(&fresh).await, (200, Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_quotas_count_tips_sessions_and_replies() {
    let extra = "max_bytes = 30000\n"; // the news agency's own quota
    let relay = start(extra, |c| c.limits.max_bytes = 1_000_000).await;
    let tip = sealed(&relay.recipient, 20_000);
    let proof = relay.proof("news", 30_000).await;
    assert_eq!(relay.tip("news", tip.clone(), &proof).await.status(), 201);
    let proof = relay.proof("news", 30_000).await;
    let (status, reason) = refusal(relay.tip("news", tip.clone(), &proof).await).await;
    assert_eq!(status, 507);
    assert_eq!(
        reason,
        "this agency's storage on the relay is full; try again later"
    );
    // The other agency is not affected.
    let proof = relay.proof("demo", 30_000).await;
    assert_eq!(relay.tip("demo", tip.clone(), &proof).await.status(), 201);

    // A part that would not fit is refused before it is read.
    let proof = relay.proof("news", 30_000).await;
    let session: sealtip_api::UploadSession =
        relay.open("news", &proof).await.json().await.unwrap();
    let (status, _) = refusal(relay.uploads().patch(&session.upload, 0, &tip).await).await;
    assert_eq!(status, 507);

    // The agency's replies count toward its storage too.
    let mailbox = "0123456789abcdef0123456789abcdef";
    let reply = |body: Vec<u8>| {
        relay
            .client
            .post(relay.url(&format!("/api/v1/agencies/demo/mailboxes/{mailbox}")))
            .bearer_auth(&relay.token)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
    };
    assert_eq!(
        reply(sealed(&relay.recipient, 100)).await.unwrap().status(),
        201
    );
    let huge = sealed(&relay.recipient, 1_000_000);
    let (status, reason) = refusal(reply(huge).await.unwrap()).await;
    assert_eq!(status, 507);
    assert_eq!(reason, "the relay's storage is full; try again later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_spent_only_on_its_agency_and_size() {
    let relay = start("", |_| {}).await;
    let tip = sealed(&relay.recipient, 100);
    let for_news = relay.proof("news", 1000).await;
    let (status, reason) = refusal(relay.tip("demo", tip.clone(), &for_news).await).await;
    assert_eq!(status, 403);
    assert!(reason.contains("another agency"), "{reason}");
    assert_eq!(relay.tip("news", tip, &for_news).await.status(), 201);
    let small = relay.proof("demo", 1000).await;
    let (status, reason) = relay
        .tip_refused_on_its_size("demo", 2 * 1024 * 1024, &small)
        .await;
    assert_eq!(status, 413);
    assert!(reason.contains("1048576 bytes"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_rises_with_an_agencys_load_and_falls_back_when_calm() {
    let relay = start("", |c| {
        c.pow.difficulty = 2;
        c.pow.calm_per_hour = 6;
    })
    .await;
    let calm = relay.challenge("demo", 100).await;
    assert_eq!((calm.work, calm.difficulty), (4, 2));
    assert_eq!(relay.challenge("demo", 10_000_000).await.work, 8);
    let hoarded = relay.proof("demo", 100).await;
    for _ in 0..12 {
        let proof = relay.proof("demo", 100).await;
        let tip = sealed(&relay.recipient, 100);
        assert_eq!(relay.tip("demo", tip, &proof).await.status(), 201);
    }
    // 12 proofs in a moment: 72 an hour, 12 times the calm rate.
    let busy = relay.challenge("demo", 100).await;
    assert!(busy.work >= 40, "{}", busy.work);
    assert_eq!(relay.challenge("news", 100).await.work, 4, "per agency");
    // Any agency: the busiest one's price.
    let any: Challenge = relay
        .client
        .post(relay.url("/api/v1/challenges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(any.work >= busy.work, "{} {}", any.work, busy.work);
    // A token fetched while calm is worth nothing under load.
    let tip = sealed(&relay.recipient, 100);
    let (status, reason) = refusal(relay.tip("demo", tip, &hoarded).await).await;
    assert_eq!(status, 403);
    assert!(reason.contains("too cheap"), "{reason}");

    relay.state.load.clock.advance(3 * 3600);
    assert_eq!(relay.challenge("demo", 100).await.work, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_counts_behind_the_operators_token() {
    let off = start("", |_| {}).await;
    let (status, _) = refusal(off.metrics(Some(METRICS_TOKEN)).await).await;
    assert_eq!(status, 404);

    let hash = hex::encode(Sha256::digest(METRICS_TOKEN.as_bytes()));
    let relay = start("", |c| c.metrics_token_hash = Some(hash)).await;
    for token in [None, Some("wrong"), Some(relay.token.as_str())] {
        let (status, _) = refusal(relay.metrics(token).await).await;
        assert_eq!(status, 401, "{token:?}");
    }
    let tip = sealed(&relay.recipient, 100);
    let size = tip.len();
    let proof = relay.proof("demo", 1000).await;
    let created: Created = relay.tip("demo", tip, &proof).await.json().await.unwrap();
    let response = relay.metrics(Some(METRICS_TOKEN)).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        "sealtip_agency_items{agency=\"demo\"} 1".to_owned(),
        "sealtip_agency_items{agency=\"news\"} 0".to_owned(),
        format!("sealtip_agency_bytes{{agency=\"demo\"}} {size}"),
        "sealtip_agency_open_uploads{agency=\"demo\"} 0".to_owned(),
        "sealtip_agency_pow_work{agency=\"demo\"} 1".to_owned(),
        "sealtip_relay_items 1".to_owned(),
        format!("sealtip_relay_bytes {size}"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(!text.contains(&created.id));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 2, "name and value only, no time: {line}");
        assert!(fields[1].parse::<u64>().is_ok(), "{line}");
    }
}
