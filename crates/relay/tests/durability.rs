//! Durability: the real binary, killed with SIGKILL again and again while
//! clients upload. Every tip answered 201 must be listed, byte-identical;
//! nothing half-written may be listed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{RelayProcess, free_port, init_with_binary, sealed};
use sealtip_api::{Challenge, Created, Inbox, pow};
use sealtip_envelope::Recipient;
use sha2::{Digest, Sha256};

const CLIENTS: usize = 6;
const KILLS: usize = 12;
const SIZES: [usize; 5] = [10, 3000, 65_536, 70_000, 300_000];

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
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    init_with_binary(dir.path());
    let (recipient, token) = common::demo_agency(dir.path());
    let port = free_port();
    let mut relay = RelayProcess::start(dir.path(), port).await;

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
        relay = RelayProcess::start(dir.path(), port).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    // One more kill, so the last uploads are checked after a crash too.
    relay.kill();
    let relay = RelayProcess::start(dir.path(), port).await;

    let client = reqwest::Client::new();
    let inbox: Inbox = client
        .get(format!("{}/api/v1/agencies/demo/inbox", relay.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
        let bytes = client
            .get(format!(
                "{}/api/v1/agencies/demo/inbox/{}",
                relay.base, item.id
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
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
    // No leftovers: the blob folder holds exactly the listed items.
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("data/blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut ids: Vec<String> = inbox.items.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    assert_eq!(files, ids);
    eprintln!(
        "{} tips accepted, {} listed, {} kills, {:.1} s",
        record.accepted.len(),
        inbox.items.len(),
        KILLS + 1,
        started.elapsed().as_secs_f64()
    );
}
