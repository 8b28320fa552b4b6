//! Durability: the real binary, killed with SIGKILL again and again while
//! clients upload, on SQLite and on PostgreSQL. Every tip answered 201 must
//! be listed, byte-identical; nothing half-written may be listed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{init_with_binary, sealed};
use sealtip_api::{Challenge, Created, pow};
use sealtip_envelope::Recipient;
use sealtip_harness::{RelayProcess, free_port};
use sealtip_relay::store::sqlite::CHUNK_BYTES;
use sha2::{Digest, Sha256};

const CLIENTS: usize = 6;
const KILLS: usize = 12;
/// Sizes of the bodies; the largest spans two PostgreSQL chunks.
const SIZES: [usize; 6] = [10, 3000, 65_536, 70_000, 300_000, 1_500_000];

#[derive(Default)]
struct Record {
    /// Hash of every body ever sent, whether or not it was answered.
    attempted: HashMap<[u8; 32], usize>,
    /// Id and hash of every body answered 201.
    accepted: Vec<(String, [u8; 32])>,
}

fn random_below(n: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % n
}

async fn client_loop(
    port: u16,
    recipient: Recipient,
    stop: Arc<AtomicBool>,
    record: Arc<Mutex<Record>>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let body = sealed(&recipient, SIZES[round % SIZES.len()]);
        let hash: [u8; 32] = Sha256::digest(&body).into();
        let result = async {
            let challenge: Challenge = client
                .post(format!("{base}/api/v1/challenges"))
                .send()
                .await?
                .json()
                .await?;
            let nonce = pow::solve(&challenge.challenge).unwrap();
            record.lock().unwrap().attempted.insert(hash, body.len());
            client
                .post(format!("{base}/api/v1/agencies/demo/tips"))
                .header("content-type", "application/octet-stream")
                .header(
                    "sealtip-proof",
                    pow::proof_header(&challenge.challenge, nonce),
                )
                .body(body)
                .send()
                .await
        }
        .await;
        match result {
            Ok(response) if response.status() == 201 => {
                if let Ok(created) = response.json::<Created>().await {
                    record.lock().unwrap().accepted.push((created.id, hash));
                }
            }
            Ok(response) => {
                let status = response.status();
                assert!(
                    status.as_u16() == 503 || status.as_u16() == 429,
                    "unexpected {status}: {:?}",
                    response.text().await
                );
            }
            // The relay was killed under us: try again once it is back.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_tip_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    init_with_binary(dir.path());
    kill_while_uploading(dir.path()).await;
    // No leftovers: chunks are stored for exactly the listed items, whole.
    let listed = listed_ids(dir.path()).await;
    assert_eq!(stored_blobs(dir.path()), listed);
    assert!(!dir.path().join("data/blobs").exists());
}

/// The blobs whose bytes the SQLite database in `dir` holds, sorted, each
/// checked to be exactly its item's size (if it is an item).
fn stored_blobs(dir: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("data/relay.db")).unwrap();
    let torn: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE size != (SELECT
             COALESCE(SUM(IIF(slot IS NULL, length(data), 262144)), 0)
             FROM chunks WHERE chunks.blob = items.id)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(torn, 0, "an item's chunks add up to its size");
    only_named_slots_hold_bytes(dir);
    let mut stmt = conn
        .prepare("SELECT DISTINCT blob FROM chunks ORDER BY blob")
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_tip_survives_sigkill_on_postgres() {
    let Some(db) =
        sealtip_harness::test_database("every_accepted_tip_survives_sigkill_on_postgres")
            .await
            .unwrap()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = init_with_binary(dir.path());
    sealtip_harness::relay::use_postgres(&config, &db.url).unwrap();
    kill_while_uploading(dir.path()).await;
    // Every chunk belongs to a listed item, or to an upload a kill cut short
    // (recorded as unfinished, for the clean-up once it is old enough).
    let orphans = db
        .query_i64(
            "SELECT COUNT(*) FROM chunks
             WHERE blob NOT IN (SELECT id FROM items) AND blob NOT IN (SELECT id FROM uploads)",
        )
        .await
        .unwrap();
    assert_eq!(orphans, 0);
    let items = db.query_i64("SELECT COUNT(*) FROM items").await.unwrap();
    assert_eq!(items as usize, listed_ids(dir.path()).await.len());
    assert!(!dir.path().join("data/blobs").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_session_keeps_exactly_its_acknowledged_parts_through_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    init_with_binary(dir.path());
    kill_during_session(dir.path()).await;
    // Only the item's bytes are left.
    let listed = listed_ids(dir.path()).await;
    assert_eq!(stored_blobs(dir.path()), listed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_session_keeps_exactly_its_acknowledged_parts_through_sigkill_on_postgres() {
    let Some(db) = sealtip_harness::test_database(
        "an_upload_session_keeps_exactly_its_acknowledged_parts_through_sigkill_on_postgres",
    )
    .await
    .unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = init_with_binary(dir.path());
    sealtip_harness::relay::use_postgres(&config, &db.url).unwrap();
    kill_during_session(dir.path()).await;
    let orphans = db
        .query_i64("SELECT COUNT(*) FROM chunks WHERE blob NOT IN (SELECT id FROM items)")
        .await
        .unwrap();
    assert_eq!(orphans, 0);
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM sessions").await.unwrap(),
        0
    );
}

/// Sends a sealed file in parts to the relay in `dir`, killing it right
/// after a part is acknowledged and in the middle of another; after each
/// restart the session holds exactly the acknowledged parts. Then commits,
/// and the item opens.
async fn kill_during_session(dir: &std::path::Path) {
    let (recipient, token) = common::demo_agency(dir);
    let port = free_port().unwrap();
    let mut relay = RelayProcess::start(dir, port).unwrap();
    let client = reqwest::Client::new();
    let base = relay.url.clone();
    let uploads = common::Uploads {
        client: &client,
        base: &base,
    };
    let plaintext: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let file = common::sealed_plaintext(&recipient, &plaintext);
    let id = uploads.open("tip").await.upload;
    let cuts = [0, 1_200_000, 2_500_000, file.len()];

    // Acknowledged, then killed at once.
    uploads.append(&id, 0, &file[..cuts[1]]).await;
    relay.kill();
    relay = RelayProcess::start(dir, port).unwrap();
    assert_eq!(uploads.received(&id).await, (200, Some(cuts[1] as u64)));

    // Killed in the middle of a part.
    let part = &file[cuts[1]..cuts[2]];
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let head = format!(
            "PATCH /api/v1/uploads/{id} HTTP/1.1\r\nhost: x\r\n\
             content-type: application/octet-stream\r\nupload-offset: {}\r\n\
             content-length: {}\r\n\r\n",
            cuts[1],
            part.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&part[..part.len() / 2]).await.unwrap();
        stream.flush().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // On SQLite, killed once the part's first two chunks are in slots (the
    // acknowledged bytes fill four).
    let chunk_file = dir.join("data/relay.db-chunks");
    let sqlite = chunk_file.exists();
    for _ in 0..100 {
        let len = std::fs::metadata(&chunk_file).map_or(u64::MAX, |m| m.len());
        if len >= 6 * CHUNK_BYTES as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.kill();
    drop(stream);
    relay = RelayProcess::start(dir, port).unwrap();
    assert_eq!(uploads.received(&id).await, (200, Some(cuts[1] as u64)));
    if sqlite {
        // The slots the cut part wrote are free again, and hold nothing.
        only_named_slots_hold_bytes(dir);
    }

    // The rest, the commit, and the item opens.
    uploads.append(&id, cuts[1] as u64, part).await;
    uploads.append(&id, cuts[2] as u64, &file[cuts[2]..]).await;
    relay.kill();
    relay = RelayProcess::start(dir, port).unwrap();
    assert_eq!(uploads.received(&id).await, (200, Some(file.len() as u64)));
    let committed = uploads.commit(&id).await;
    assert_eq!(committed.status(), 201);
    let created: Created = committed.json().await.unwrap();
    relay.kill();
    let relay = RelayProcess::start(dir, port).unwrap();
    assert_eq!(uploads.received(&id).await, (404, None));
    let inbox = common::fetch_inbox(&client, &relay.url, &token).await;
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].id, created.id);
    let bytes = common::fetch_item(&client, &relay.url, &token, &created.id).await;
    assert_eq!(bytes, file);
    let opened = common::age_open(&dir.join("data/agency.key"), &bytes);
    assert!(opened == plaintext, "the item opens to what was sealed");
}

/// The chunk file of the relay in `dir` (opened since its last kill) holds
/// the slots its rows name, each once, and no more: a slot written by an
/// upload a kill cut short is free again, and zeroed or cut off.
fn only_named_slots_hold_bytes(dir: &std::path::Path) {
    let conn = rusqlite::Connection::open(dir.join("data/relay.db")).unwrap();
    let named: Vec<u64> = conn
        .prepare("SELECT slot FROM chunks WHERE slot IS NOT NULL")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let file = std::fs::read(dir.join("data/relay.db-chunks")).unwrap();
    let highest = named.iter().max().map_or(0, |slot| slot + 1);
    assert_eq!(file.len() as u64, highest * CHUNK_BYTES as u64);
    for (slot, held) in file.chunks(CHUNK_BYTES).enumerate() {
        if !named.contains(&(slot as u64)) {
            assert!(held.iter().all(|b| *b == 0), "free slot {slot} holds bytes");
        }
    }
}

/// The ids the relay in `dir` lists (started afresh).
async fn listed_ids(dir: &std::path::Path) -> Vec<String> {
    let relay = RelayProcess::start_on_free_port(dir).unwrap();
    let (_, token) = common::demo_agency(dir);
    let inbox = common::fetch_inbox(&reqwest::Client::new(), &relay.url, &token).await;
    let mut ids: Vec<String> = inbox.items.into_iter().map(|i| i.id).collect();
    ids.sort();
    ids
}

/// Uploads from several clients while killing and restarting the relay in
/// `dir`, then checks every accepted tip is listed and whole.
async fn kill_while_uploading(dir: &std::path::Path) {
    let started = std::time::Instant::now();
    let (recipient, token) = common::demo_agency(dir);
    let port = free_port().unwrap();
    let mut relay = RelayProcess::start(dir, port).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let record = Arc::new(Mutex::new(Record::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(client_loop(
                port,
                recipient.clone(),
                stop.clone(),
                record.clone(),
            ))
        })
        .collect();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(150 + random_below(300))).await;
        relay.kill();
        relay = RelayProcess::start(dir, port).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    // One more kill, so the last uploads are checked after a crash too.
    relay.kill();
    let relay = RelayProcess::start(dir, port).unwrap();

    let client = reqwest::Client::new();
    let inbox = common::fetch_inbox(&client, &relay.url, &token).await;
    let record = std::mem::take(&mut *record.lock().unwrap());
    let listed: HashMap<&str, u64> = inbox
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.size))
        .collect();
    assert!(
        record.accepted.len() >= 50,
        "only {} tips accepted",
        record.accepted.len()
    );
    for (id, hash) in &record.accepted {
        assert!(
            listed.contains_key(id.as_str()),
            "accepted tip {id} is not listed"
        );
        assert_eq!(listed[id.as_str()], record.attempted[hash] as u64);
    }
    let mut stored = HashMap::new();
    for item in &inbox.items {
        let bytes = common::fetch_item(&client, &relay.url, &token, &item.id).await;
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        // Whole: byte-identical to a body some client sent.
        assert!(
            record.attempted.contains_key(&hash),
            "item {} is not a whole upload",
            item.id
        );
        assert_eq!(bytes.len() as u64, item.size);
        stored.insert(item.id.clone(), hash);
    }
    for (id, hash) in &record.accepted {
        assert_eq!(&stored[id], hash, "tip {id} changed");
    }
    eprintln!(
        "{} tips accepted, {} listed, {} kills, {:.1} s",
        record.accepted.len(),
        inbox.items.len(),
        KILLS + 1,
        started.elapsed().as_secs_f64()
    );
}
