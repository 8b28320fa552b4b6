//! Shared test helpers: a relay on port 0, sealed tips, proofs, raw HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sealtip_api::{Challenge, pow};
use sealtip_envelope::Recipient;
use sealtip_relay::store::Store;
use sealtip_relay::store::postgres::PgStore;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::{AppState, Config, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct TestRelay {
    pub base: String,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub token: String,
    pub secret: Vec<u8>,
    pub recipient: Recipient,
    pub client: reqwest::Client,
    /// The folder an earlier relay kept blobs in, and the database file
    /// (SQLite; empty on PostgreSQL).
    pub blobs: PathBuf,
    pub database: PathBuf,
    /// The wall clock the relay's periodic tasks wait on.
    pub clock: Arc<sealtip_relay::time::WallClock>,
    /// The hours whose alerts the relay has handled.
    pub alerts: Arc<sealtip_relay::alerts::Rounds>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A second agency that partner sites may embed.
pub fn news_agency(recipient: &Recipient) -> String {
    format!(
        r#"
[[agencies]]
id = "news"
name = "News desk"
recipients = ["{recipient}"]
embed_origins = ["https://news.example", "https://*.city.example"]
[agencies.form]
id = "news-1"
questions = []
"#
    )
}

/// Writes a config with `init` in a fresh folder, appends `extra` TOML,
/// applies `tweak` (proof of work is off unless `tweak` turns it on), and
/// serves it on 127.0.0.1:0.
pub async fn start(
    extra: impl FnOnce(&Recipient) -> String,
    tweak: impl FnOnce(&mut Config),
) -> TestRelay {
    let configured = configure(extra, tweak);
    let sealtip_relay::config::Storage::Sqlite { database, blobs } = &configured.relay.storage
    else {
        panic!("init writes SQLite storage");
    };
    let (blobs, database) = (blobs.clone(), database.clone());
    let store = SqliteStore::open(&database, &blobs).unwrap();
    configured.serve(store, blobs, database).await
}

/// Like [`start`] with nothing extra, on the PostgreSQL database `url` with
/// a pool of at most `pool_size` connections.
pub async fn start_on_postgres(
    url: &str,
    pool_size: usize,
    tweak: impl FnOnce(&mut Config),
) -> TestRelay {
    let configured = configure(
        |_| String::new(),
        |config| {
            config.storage = url.to_owned();
            config.blobs = None;
            tweak(config);
        },
    );
    let store = PgStore::open_with_pool(url, configured.relay.upload_total(), pool_size)
        .await
        .unwrap();
    configured
        .serve(store, PathBuf::new(), PathBuf::new())
        .await
}

/// A checked configuration in a fresh folder, not yet served.
struct Configured {
    dir: tempfile::TempDir,
    relay: sealtip_relay::Relay,
    token: String,
    secret: Vec<u8>,
    recipient: Recipient,
}

fn configure(
    extra: impl FnOnce(&Recipient) -> String,
    tweak: impl FnOnce(&mut Config),
) -> Configured {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let done = sealtip_relay::init::init(&data).unwrap();
    let recipient = Recipient::parse(&done.recipient).unwrap();
    let mut text = std::fs::read_to_string(&done.config).unwrap();
    text.push_str(&extra(&recipient));
    let mut config: Config = toml::from_str(&text).unwrap();
    config.pow.difficulty = 0;
    config.dist = dir.path().join("dist");
    tweak(&mut config);
    let secret = hex::decode(config.challenge_secret.as_ref().unwrap()).unwrap();
    let token = std::fs::read_to_string(&done.token)
        .unwrap()
        .trim()
        .to_owned();
    Configured {
        dir,
        relay: config.check().unwrap(),
        token,
        secret,
        recipient,
    }
}

impl Configured {
    /// Serves `store` on 127.0.0.1:0.
    async fn serve<S: Store>(self, store: S, blobs: PathBuf, database: PathBuf) -> TestRelay {
        let state = AppState::new(store, Arc::new(self.relay));
        let clock = state.clock.clone();
        let alerts = state.alerts.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = serve(listener, state).await;
        });
        TestRelay {
            base: format!("http://{addr}"),
            addr,
            dir: self.dir,
            token: self.token,
            secret: self.secret,
            recipient: self.recipient,
            client: reqwest::Client::new(),
            blobs,
            database,
            clock,
            alerts,
            task,
        }
    }
}

impl TestRelay {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A solved `Sealtip-Proof` header value from a fresh challenge.
    /// The agency's profile, as `GET /api/v1/agencies/{agency}` serves it.
    pub async fn profile(&self, agency: &str) -> sealtip_api::AgencyProfile {
        let url = self.url(&format!("/api/v1/agencies/{agency}"));
        let response = self.client.get(url).send().await.unwrap();
        response.json().await.unwrap()
    }

    pub async fn proof(&self) -> String {
        solved_proof(&self.client, &self.base).await
    }

    /// Posts `body` as a tip with a fresh proof.
    pub async fn post_tip(&self, agency: &str, body: Vec<u8>) -> reqwest::Response {
        let proof = self.proof().await;
        self.post_sealed(
            &format!("/api/v1/agencies/{agency}/tips"),
            body,
            Some(&proof),
        )
        .await
    }

    pub async fn post_sealed(
        &self,
        path: &str,
        body: Vec<u8>,
        proof: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/octet-stream")
            .body(body);
        if let Some(proof) = proof {
            request = request.header("sealtip-proof", proof);
        }
        request.send().await.unwrap()
    }

    pub async fn get_authed(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn inbox(&self) -> sealtip_api::Inbox {
        fetch_inbox(&self.client, &self.base, &self.token).await
    }

    /// `DELETE` an item of the demo agency's inbox with its token.
    pub async fn delete_item(&self, id: &str) -> reqwest::Response {
        self.client
            .delete(self.url(&format!("/api/v1/agencies/demo/inbox/{id}")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// A mailbox of the demo agency, as anyone may read it.
    pub async fn mailbox(&self, mailbox: &str) -> sealtip_api::Mailbox {
        self.client
            .get(self.url(&format!("/api/v1/agencies/demo/mailboxes/{mailbox}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The blobs whose bytes are stored (the ids of items, sessions and
    /// unfinished uploads in `chunks`), sorted.
    pub fn blob_names(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(&self.database).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        let mut stmt = conn
            .prepare("SELECT DISTINCT blob FROM chunks ORDER BY blob")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The inbox and every item's bytes: what must not change after bad input.
    pub async fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut all = Vec::new();
        for item in self.inbox().await.items {
            let bytes = self
                .get_authed(&format!("/api/v1/agencies/demo/inbox/{}", item.id))
                .await
                .bytes()
                .await
                .unwrap()
                .to_vec();
            all.push((item.id, bytes));
        }
        all
    }
}

/// A solved `Sealtip-Proof` header value from a fresh challenge of the relay at `base`.
pub async fn solved_proof(client: &reqwest::Client, base: &str) -> String {
    let challenge: Challenge = client
        .post(format!("{base}/api/v1/challenges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce = pow::solve(&challenge.challenge).unwrap();
    pow::proof_header(&challenge.challenge, nonce)
}

/// The demo agency's inbox at the relay at `base`.
pub async fn fetch_inbox(client: &reqwest::Client, base: &str, token: &str) -> sealtip_api::Inbox {
    let response = client
        .get(format!("{base}/api/v1/agencies/demo/inbox"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A request body that sends `first`, then nothing until the sender is
/// dropped (or sends more).
pub async fn stalling_body(
    first: Vec<u8>,
) -> (
    tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    reqwest::Body,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    sender.send(Ok(first)).await.unwrap();
    let stream = futures_util::stream::unfold(receiver, |mut r| async move {
        r.recv().await.map(|item| (item, r))
    });
    (sender, reqwest::Body::wrap_stream(stream))
}

/// The bytes of the demo agency's inbox item `id` at the relay at `base`.
pub async fn fetch_item(client: &reqwest::Client, base: &str, token: &str, id: &str) -> Vec<u8> {
    let response = client
        .get(format!("{base}/api/v1/agencies/demo/inbox/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

/// The demo agency's recipient and inbox token, as `init` wrote them in `DIR/data`.
pub fn demo_agency(dir: &std::path::Path) -> (Recipient, String) {
    let recipient = std::fs::read_to_string(dir.join("data/agency.pub")).unwrap();
    let token = std::fs::read_to_string(dir.join("data/agency.token")).unwrap();
    (
        Recipient::parse(recipient.trim()).unwrap(),
        token.trim().to_owned(),
    )
}

/// A real sealed tip of about `len` plaintext bytes.
pub fn sealed(recipient: &Recipient, len: usize) -> Vec<u8> {
    let mut plaintext = vec![0u8; len];
    getrandom::fill(&mut plaintext).unwrap();
    sealtip_envelope::seal_to_vec(std::slice::from_ref(recipient), &plaintext).unwrap()
}

/// Sends raw bytes and reads the whole answer (the request should say
/// `Connection: close`). Returns the status, the head, and the body.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The relay may answer and close before taking everything (e.g. oversize).
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    (status, head.to_owned(), body.to_owned())
}

/// Asserts the body is `{"error": "one line"}` and returns the line.
pub fn error_line(body: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    let line = value["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {body}"))
        .to_owned();
    assert!(!line.is_empty() && !line.contains('\n'), "{line:?}");
    assert_eq!(value.as_object().unwrap().len(), 1, "{body}");
    line
}

/// Runs `sealtip-relay init` in `dir` (config in `dir/data`, see
/// [`sealtip_harness::init_relay`]) with proof of work off. Returns the
/// config's path.
pub fn init_with_binary(dir: &std::path::Path) -> PathBuf {
    let config = sealtip_harness::init_relay(dir).unwrap();
    sealtip_harness::relay::set_difficulty(&config, 0).unwrap();
    config
}

/// A real sealed file of `plaintext` to `recipient`.
pub fn sealed_plaintext(recipient: &Recipient, plaintext: &[u8]) -> Vec<u8> {
    sealtip_envelope::seal_to_vec(std::slice::from_ref(recipient), plaintext).unwrap()
}

/// The length of the age header at the start of `sealed`.
pub fn header_len(sealed: &[u8]) -> usize {
    let mac_line = sealed.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    mac_line + sealed[mac_line..].iter().position(|b| *b == b'\n').unwrap() + 1
}

/// Opens `sealed` with the identity file `key`, as the agency would.
pub fn age_open(key: &std::path::Path, sealed: &[u8]) -> Vec<u8> {
    // The demo agency's key is hybrid post-quantum, which Debian's `age`
    // 1.1.1 does not know; the envelope's opening code is checked against
    // independent implementations in its own tests.
    let identities = sealtip_envelope::read_identity_file(&std::fs::read(key).unwrap(), None)
        .unwrap()
        .identities;
    sealtip_envelope::open_to_vec(sealed, &identities).unwrap()
}

/// An upload session of the relay at `base`: open, append parts, commit.
pub struct Uploads<'a> {
    pub client: &'a reqwest::Client,
    pub base: &'a str,
}

impl Uploads<'_> {
    /// `POST /api/v1/agencies/demo/uploads` with `body` and `proof`.
    pub async fn open_with(&self, body: &str, proof: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/agencies/demo/uploads", self.base))
            .header("content-type", "application/json")
            .header("sealtip-proof", proof)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// A new session for a `kind` (`tip` or `message`), with a fresh proof.
    pub async fn open(&self, kind: &str) -> sealtip_api::UploadSession {
        let proof = solved_proof(self.client, self.base).await;
        let response = self
            .open_with(&format!(r#"{{"kind": "{kind}"}}"#), &proof)
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// `PATCH` a part at `offset`.
    pub async fn patch(&self, upload: &str, offset: u64, part: &[u8]) -> reqwest::Response {
        self.patch_request(upload, offset, part.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// A `PATCH` of any body (a stream, say) at `offset`, to send.
    pub fn patch_request(
        &self,
        upload: &str,
        offset: u64,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        self.client
            .patch(self.url(upload))
            .header("content-type", "application/octet-stream")
            .header(sealtip_api::UPLOAD_OFFSET_HEADER, offset.to_string())
            .body(body)
    }

    /// `PATCH` a part at `offset` and expect `200` with the new length.
    pub async fn append(&self, upload: &str, offset: u64, part: &[u8]) -> u64 {
        let response = self.patch(upload, offset, part).await;
        assert_eq!(response.status(), 200);
        let progress: sealtip_api::UploadProgress = response.json().await.unwrap();
        assert_eq!(progress.received, offset + part.len() as u64);
        progress.received
    }

    /// `GET`: the status, and the bytes received when 200.
    pub async fn received(&self, upload: &str) -> (u16, Option<u64>) {
        let response = self.client.get(self.url(upload)).send().await.unwrap();
        let status = response.status().as_u16();
        if status == 200 {
            let progress: sealtip_api::UploadProgress = response.json().await.unwrap();
            (status, Some(progress.received))
        } else {
            error_line(&response.text().await.unwrap());
            (status, None)
        }
    }

    /// `POST …/commit`.
    pub async fn commit(&self, upload: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/commit", self.url(upload)))
            .send()
            .await
            .unwrap()
    }

    /// `DELETE`: the status.
    pub async fn delete(&self, upload: &str) -> u16 {
        let response = self.client.delete(self.url(upload)).send().await.unwrap();
        response.status().as_u16()
    }

    pub fn url(&self, upload: &str) -> String {
        format!("{}/api/v1/uploads/{upload}", self.base)
    }
}

impl TestRelay {
    /// Upload sessions at this relay.
    pub fn uploads(&self) -> Uploads<'_> {
        Uploads {
            client: &self.client,
            base: &self.base,
        }
    }
}
