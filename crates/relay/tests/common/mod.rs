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
    /// The blob folder and database file (SQLite; empty on PostgreSQL).
    pub blobs: PathBuf,
    pub database: PathBuf,
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
            task,
        }
    }
}

impl TestRelay {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A solved `Sealtip-Proof` header value from a fresh challenge.
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

    /// Every file name in the blob folder.
    pub fn blob_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.blobs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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

/// A file's modification time, Unix seconds.
pub fn modified_secs(path: &std::path::Path) -> u64 {
    std::fs::metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
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

/// The real `sealtip-relay` binary, started and killed by tests.
pub struct RelayProcess {
    pub child: std::process::Child,
    pub base: String,
    pub port: u16,
}

/// Runs `sealtip-relay init --dir DIR/data` in `dir`, then sets the
/// proof-of-work difficulty to 0. Returns the config path.
pub fn init_with_binary(dir: &std::path::Path) -> PathBuf {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_sealtip-relay"))
        .current_dir(dir)
        .args(["init", "--dir", "data"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let config = dir.join("data/relay.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("difficulty = 18", "difficulty = 0")).unwrap();
    config
}

/// Switches the config `init` wrote to PostgreSQL storage at `url`.
pub fn use_postgres(config: &std::path::Path, url: &str) {
    let text: String = std::fs::read_to_string(config)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("blobs ="))
        .map(|line| {
            if line.starts_with("storage =") {
                format!("storage = \"{url}\"\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    std::fs::write(config, text).unwrap();
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RelayProcess {
    /// Starts the binary in `dir` (config `data/relay.toml`), appending its
    /// output to `dir/relay.log`, and waits until it answers.
    pub async fn start(dir: &std::path::Path, port: u16) -> RelayProcess {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("relay.log"))
            .unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_sealtip-relay"))
            .current_dir(dir)
            .args(["--config", "data/relay.toml", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ready = client
                .get(format!("{base}/api/v1/agencies/demo"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the relay did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        RelayProcess { child, base, port }
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The PostgreSQL server tests use: `postgres://USER@HOST:PORT`, no database
/// (each test creates its own). `cargo xtask test` starts one and sets it.
pub const POSTGRES_ENV: &str = "SEALTIP_TEST_POSTGRES";
/// Set by `cargo xtask test`: a test needing PostgreSQL fails without it
/// instead of skipping.
pub const REQUIRE_POSTGRES_ENV: &str = "SEALTIP_REQUIRE_POSTGRES";

/// A fresh database, dropped (with its connections) when this is.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    server: String,
    name: String,
}

/// A fresh database on the test server; `None` (with a printed line) when
/// no server is configured and none is required.
pub async fn test_database(test: &str) -> Option<TestDatabase> {
    let server = match std::env::var(POSTGRES_ENV) {
        Ok(server) => server.trim_end_matches('/').to_owned(),
        Err(_) if std::env::var_os(REQUIRE_POSTGRES_ENV).is_some() => {
            panic!("{test} needs PostgreSQL: {POSTGRES_ENV} is not set")
        }
        Err(_) => {
            eprintln!(
                "{test}: skipped, no PostgreSQL (set {POSTGRES_ENV}=postgres://USER@HOST:PORT)"
            );
            return None;
        }
    };
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).unwrap();
    let name = format!("sealtip_test_{}", hex::encode(id));
    admin(&server, &format!("CREATE DATABASE {name}")).await;
    Some(TestDatabase {
        url: format!("{server}/{name}"),
        server,
        name,
    })
}

async fn admin(server: &str, sql: &str) {
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {server}: {e}"));
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

impl TestDatabase {
    /// Runs `sql` (one or more statements) on this database.
    pub async fn execute(&self, sql: &str) {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(connection);
        client.batch_execute(sql).await.unwrap();
        drop(client);
        let _ = task.await;
    }

    /// Runs `sql` on this database and returns the first column of the first row.
    pub async fn query_i64(&self, sql: &str) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let task = tokio::spawn(connection);
        let value = client.query_one(sql, &[]).await.unwrap().get(0);
        drop(client);
        let _ = task.await;
        value
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, sql) = (
            self.server.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // Drop may run inside a runtime, which cannot block: use a thread.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(admin(&server, &sql));
        })
        .join();
    }
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
