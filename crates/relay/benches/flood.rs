//! A flood cannot silence the tip line: figures.
//!
//! ```text
//! cargo bench -p sealtip-relay --bench flood
//! ```
//!
//! A relay in this process (SQLite in a temporary folder, the settings
//! `init` writes) with two agencies, `demo` (A) and `news` (B), for
//! `SEALTIP_FLOOD_SECS` seconds (default 60):
//!
//! - an attacker on one thread (one core) solves proofs for A at full native
//!   speed, one after the other, and spends each as soon as the relay takes
//!   it (a proof refused with 429 is tried again every 200 ms): every other
//!   one opens a session and sends a tiny tip, the others open a session and
//!   leave it empty, holding it (`SEALTIP_FLOOD_HOLD=0`: every proof sends a
//!   tiny tip, the most proofs one core can spend);
//! - an honest tipster sends a tip to A every 3 seconds, as the page does
//!   (challenge for its size, proof, session, part, commit), solving at the
//!   speed of the page's WebAssembly: it solves natively and then waits, so
//!   that each proof takes `SEALTIP_WASM_SLOWDOWN` (default 1.41) times the
//!   native time. 1.41 is measured on the development machine: Argon2id at
//!   256 KiB ran 2,928 attempts/s natively and 2,075/s as WebAssembly in
//!   Node 20 (V8, the engine of Chromium). On a 429 or 503 it waits as told
//!   and tries again with the same proof, as the page does;
//! - a tipster of B does the same, to B.
//!
//! It prints the honest tips accepted, the honest proof times (median, p99),
//! the attacker's proofs, sessions and bytes held at the end, and B's
//! acceptance.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealtip_api::{Challenge, UploadSession, pow};
use sealtip_envelope::Recipient;
use sealtip_relay::store::Store;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::{AppState, Config, serve};

/// Seconds between two honest tips.
const HONEST_EVERY: Duration = Duration::from_secs(3);
/// The plaintext of an honest tip, and of the attacker's.
const HONEST_BYTES: usize = 2000;
const ATTACKER_BYTES: usize = 10;
/// How long an honest tipster keeps trying one tip.
const PATIENCE: Duration = Duration::from_secs(60);

fn main() {
    let secs: u64 = env_or("SEALTIP_FLOOD_SECS", 60);
    let slowdown: f64 = env_or("SEALTIP_WASM_SLOWDOWN", 1.41);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (base, state, recipient) = runtime.block_on(start(dir.path()));
    println!(
        "flood: {secs} s, attacker on one core against agency A, honest tipsters to A and B \
         every {} s at {slowdown}x native proof time",
        HONEST_EVERY.as_secs()
    );
    let until = Instant::now() + Duration::from_secs(secs);
    let attacker = {
        let (base, recipient) = (base.clone(), recipient.clone());
        let hold = env_or("SEALTIP_FLOOD_HOLD", 1) == 1;
        std::thread::spawn(move || on_own_runtime(attack(base, recipient, until, hold)))
    };
    let honest = {
        let (base, recipient) = (base.clone(), recipient.clone());
        std::thread::spawn(move || {
            on_own_runtime(tipster(base, "demo", recipient, until, slowdown))
        })
    };
    let other = {
        let (base, recipient) = (base.clone(), recipient.clone());
        std::thread::spawn(move || {
            on_own_runtime(tipster(base, "news", recipient, until, slowdown))
        })
    };
    let attack = attacker.join().unwrap();
    let honest = honest.join().unwrap();
    let other = other.join().unwrap();
    let usage = runtime.block_on(state.store.usage()).unwrap().of("demo");
    println!(
        "attacker: {} proofs spent ({} tips stored, {} sessions opened empty), {} tries \
         refused (429); last work {} attempts",
        attack.spent, attack.tips, attack.held, attack.refused, attack.last_work
    );
    println!(
        "attacker holds at the end: {} open sessions of A, {} bytes in A ({} items)",
        usage.open_sessions, usage.bytes, usage.items
    );
    honest.print("honest tipster to A");
    other.print("tipster to B");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn on_own_runtime<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

/// A relay of `init`'s settings plus the agency `news`, served on loopback.
async fn start(dir: &std::path::Path) -> (String, AppState<SqliteStore>, Recipient) {
    let done = sealtip_relay::init::init(&dir.join("data")).unwrap();
    let recipient = Recipient::parse(&done.recipient).unwrap();
    let mut text = std::fs::read_to_string(&done.config).unwrap();
    text.push_str(&format!(
        "\n[[agencies]]\nid = \"news\"\nname = \"News desk\"\nrecipients = [\"{recipient}\"]\n\
         [agencies.form]\nid = \"news-1\"\nquestions = []\n"
    ));
    let mut config: Config = toml::from_str(&text).unwrap();
    config.dist = dir.join("dist");
    config.storage = format!("sqlite://{}", dir.join("data/relay.db").display());
    config.blobs = Some(dir.join("data/blobs"));
    let relay = config.check().unwrap();
    let sealtip_relay::config::Storage::Sqlite { database, blobs } = &relay.storage else {
        panic!("SQLite storage");
    };
    let store = SqliteStore::open(database, blobs).unwrap();
    let state = AppState::new(store, Arc::new(relay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = state.clone();
    tokio::spawn(async move {
        let _ = serve(listener, served).await;
    });
    (base, state, recipient)
}

/// What the attacker did.
#[derive(Default)]
struct Attack {
    spent: u64,
    tips: u64,
    held: u64,
    refused: u64,
    last_work: u32,
}

async fn attack(base: String, recipient: Recipient, until: Instant, hold: bool) -> Attack {
    let client = Client::new(base);
    let tip = sealtip_envelope::seal_to_vec(&[recipient], &[0u8; ATTACKER_BYTES]).unwrap();
    let mut done = Attack::default();
    while Instant::now() < until {
        let Some((proof, work)) = client.proof("demo", tip.len() as u64, until).await else {
            break;
        };
        done.last_work = work;
        // A refused proof is kept and tried again until a place frees.
        let session = loop {
            match client.open("demo", &proof).await {
                Ok(session) => break Some(session),
                Err(429) if Instant::now() < until => {
                    done.refused += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(_) => break None,
            }
        };
        let Some(session) = session else {
            continue;
        };
        done.spent += 1;
        if hold && done.spent % 2 == 0 {
            done.held += 1;
            continue;
        }
        if client.send(&session.upload, &tip).await.is_ok() {
            done.tips += 1;
        }
    }
    done
}

/// What an honest tipster saw.
#[derive(Default)]
struct Honest {
    sent: u64,
    accepted: u64,
    proof_secs: Vec<f64>,
}

impl Honest {
    fn print(mut self, who: &str) {
        self.proof_secs.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let n = self.proof_secs.len();
            if n == 0 {
                return 0.0;
            }
            self.proof_secs[((n as f64 * q).ceil() as usize).clamp(1, n) - 1]
        };
        println!(
            "{who}: {}/{} tips accepted ({:.0} %), proof time median {:.2} s, p99 {:.2} s",
            self.accepted,
            self.sent,
            100.0 * self.accepted as f64 / self.sent.max(1) as f64,
            at(0.5),
            at(0.99),
        );
    }
}

async fn tipster(
    base: String,
    agency: &'static str,
    recipient: Recipient,
    until: Instant,
    slowdown: f64,
) -> Honest {
    let client = Client::new(base);
    let mut seen = Honest::default();
    let mut next = Instant::now();
    while next < until {
        tokio::time::sleep_until(next.into()).await;
        next += HONEST_EVERY;
        let tip =
            sealtip_envelope::seal_to_vec(std::slice::from_ref(&recipient), &[7u8; HONEST_BYTES])
                .unwrap();
        seen.sent += 1;
        let started = Instant::now();
        let Some((proof, _)) = client
            .proof(agency, tip.len() as u64, started + PATIENCE)
            .await
        else {
            continue;
        };
        // The page's WebAssembly is this much slower than native code.
        let native = started.elapsed();
        tokio::time::sleep(native.mul_f64(slowdown - 1.0)).await;
        seen.proof_secs.push(started.elapsed().as_secs_f64());
        let give_up = started + PATIENCE;
        loop {
            match client.open(agency, &proof).await {
                Ok(session) => {
                    if client.send(&session.upload, &tip).await.is_ok() {
                        seen.accepted += 1;
                    }
                    break;
                }
                Err(status) if (status == 429 || status == 503) && Instant::now() < give_up => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Err(_) => break,
            }
        }
    }
    seen
}

/// The requests the page makes, over one connection pool.
struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn new(base: String) -> Self {
        Client {
            base,
            http: reqwest::Client::new(),
        }
    }

    /// A solved proof for `agency` and `bytes`, and its work; `None` if the
    /// relay does not answer or `until` passes while solving.
    async fn proof(&self, agency: &str, bytes: u64, until: Instant) -> Option<(String, u32)> {
        let challenge: Challenge = self
            .http
            .post(format!("{}/api/v1/challenges", self.base))
            .json(&serde_json::json!({"agency": agency, "bytes": bytes}))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let mut start = 0;
        loop {
            if let Some(nonce) = pow::solve_range(&challenge.challenge, start, 64).ok()? {
                return Some((
                    pow::proof_header(&challenge.challenge, nonce),
                    challenge.work,
                ));
            }
            start += 64;
            if Instant::now() > until {
                return None;
            }
        }
    }

    /// Opens a session with `proof`; the status when refused.
    async fn open(&self, agency: &str, proof: &str) -> Result<UploadSession, u16> {
        let response = self
            .http
            .post(format!("{}/api/v1/agencies/{agency}/uploads", self.base))
            .header("content-type", "application/json")
            .header("sealtip-proof", proof)
            .body(r#"{"kind": "tip"}"#)
            .send()
            .await
            .map_err(|_| 0u16)?;
        if response.status() != 201 {
            return Err(response.status().as_u16());
        }
        response.json().await.map_err(|_| 0)
    }

    /// Sends `file` as the session's one part, and commits it.
    async fn send(&self, upload: &str, file: &[u8]) -> Result<(), u16> {
        let url = format!("{}/api/v1/uploads/{upload}", self.base);
        let part = self
            .http
            .patch(&url)
            .header("content-type", "application/octet-stream")
            .header(sealtip_api::UPLOAD_OFFSET_HEADER, "0")
            .body(file.to_vec())
            .send()
            .await
            .map_err(|_| 0u16)?;
        if part.status() != 200 {
            return Err(part.status().as_u16());
        }
        let commit = self
            .http
            .post(format!("{url}/commit"))
            .send()
            .await
            .map_err(|_| 0u16)?;
        if commit.status() == 201 {
            Ok(())
        } else {
            Err(commit.status().as_u16())
        }
    }
}
