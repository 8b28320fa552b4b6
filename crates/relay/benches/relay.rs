//! The relay's throughput benchmark, against the real binary over loopback.
//!
//! ```text
//! cargo bench -p sealtip-relay --bench relay
//! cargo xtask with-postgres cargo bench -p sealtip-relay --bench relay
//! ```
//!
//! It runs on SQLite, then, when `SEALTIP_TEST_POSTGRES` names a PostgreSQL
//! server (`cargo xtask with-postgres` starts a throwaway one), on a fresh
//! database of it with one relay and with two relays sharing the database
//! (clients spread over both; each fetches its challenge from one relay and
//! sends its tip to the other).
//!
//! 1. 4 KiB sealed tips from 32 concurrent clients, proof of work at
//!    difficulty 0 (each tip still fetches and spends a challenge): accepted
//!    tips per second, and p50/p99 latency of the upload request (and of
//!    challenge + upload).
//! 2. With one relay: ten concurrent 64 MiB uploads: MB/s, and the relay's
//!    peak RSS (VmHWM from /proc; the relay runs in its own process).
//! 3. With one relay: ten concurrent upload sessions, each sending a 64 MiB
//!    file in 4 MiB parts (each acknowledged durable before the next is
//!    sent, as the page does), then committing: MB/s, and parts per second.
//!
//! `BENCH_SECS` sets the length of part 1 (default 10); `BENCH_RELAY` names
//! another relay binary to measure (one built from another commit, to
//! compare on the same machine at the same time).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sealtip_api::{Challenge, pow};
use sealtip_envelope::Recipient;

const CLIENTS: usize = 32;
const TIP_BYTES: usize = 4096;
const BIG_UPLOADS: usize = 10;
const BIG_BYTES: u64 = 64 * 1024 * 1024;
/// The part size of upload sessions, as the page sends them.
const PART_BYTES: usize = 4 * 1024 * 1024;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!("== SQLite, one relay");
    bench(None, 1, secs).await;
    match std::env::var("SEALTIP_TEST_POSTGRES") {
        Ok(server) => {
            let server = server.trim_end_matches('/');
            for relays in [1, 2] {
                println!("== PostgreSQL, {relays} relay(s) on one database");
                let mut id = [0u8; 8];
                getrandom::fill(&mut id).unwrap();
                let name = format!("sealtip_bench_{}", hex::encode(id));
                admin(server, &format!("CREATE DATABASE {name}")).await;
                bench(Some(format!("{server}/{name}")), relays, secs).await;
                admin(server, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
            }
        }
        Err(_) => println!(
            "(PostgreSQL skipped: run through `cargo xtask with-postgres`, \
             or set SEALTIP_TEST_POSTGRES=postgres://USER@HOST:PORT)"
        ),
    }
}

async fn admin(server: &str, sql: &str) {
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls)
            .await
            .unwrap();
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

/// Both parts against `relays` relay processes on `storage` (a PostgreSQL
/// URL; SQLite when `None`).
async fn bench(storage: Option<String>, relays: usize, secs: u64) {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let status = std::process::Command::new(relay_binary())
        .current_dir(dir.path())
        .args(["init", "--dir", "data"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let config = dir.path().join("data/relay.toml");
    sealtip_harness::relay::set_difficulty(&config, 0).unwrap();
    sealtip_harness::relay::edit_config(&config, |text| {
        text.replace(
            "max_items_per_agency = 10000",
            "max_items_per_agency = 100000000",
        )
    })
    .unwrap();
    if let Some(url) = &storage {
        sealtip_harness::relay::use_postgres(&config, url).unwrap();
    }
    let recipient = Recipient::parse(
        std::fs::read_to_string(dir.path().join("data/agency.pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();

    let mut children = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..relays {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(relay_binary())
            .current_dir(dir.path())
            .args(["--config", "data/relay.toml", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        for _ in 0..500 {
            if probe
                .get(format!("{base}/api/v1/agencies/demo"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        children.push(child);
        bases.push(base);
    }
    let pids: Vec<u32> = children.iter().map(std::process::Child::id).collect();

    // A 4 KiB sealed tip (plaintext sized so that the sealed file is 4096 bytes).
    let overhead = sealtip_envelope::seal_to_vec(std::slice::from_ref(&recipient), b"")
        .unwrap()
        .len();
    let tip = sealtip_envelope::seal_to_vec(
        std::slice::from_ref(&recipient),
        &vec![7u8; TIP_BYTES - overhead],
    )
    .unwrap();
    println!("relay pid(s) {pids:?}, data in {}", dir.path().display());
    println!(
        "part 1: {CLIENTS} clients, {}-byte sealed tips, difficulty 0, {secs} s",
        tip.len()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        // With several relays, the challenge comes from one and the tip goes to the next.
        let challenge_base = bases[i % relays].clone();
        let base = bases[(i + 1) % relays].clone();
        let (tip, stop) = (tip.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut upload_latencies = Vec::new();
            let mut round_latencies = Vec::new();
            let mut failed = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let round = Instant::now();
                let challenge: Challenge = client
                    .post(format!("{challenge_base}/api/v1/challenges"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let nonce = pow::solve(&challenge.challenge).unwrap();
                let upload = Instant::now();
                let response = client
                    .post(format!("{base}/api/v1/agencies/demo/tips"))
                    .header("content-type", "application/octet-stream")
                    .header(
                        pow::PROOF_HEADER,
                        pow::proof_header(&challenge.challenge, nonce),
                    )
                    .body(tip.clone())
                    .send()
                    .await
                    .unwrap();
                let ok = response.status() == 201;
                let _ = response.bytes().await;
                if ok {
                    upload_latencies.push(upload.elapsed());
                    round_latencies.push(round.elapsed());
                } else {
                    failed += 1;
                }
            }
            (upload_latencies, round_latencies, failed)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut uploads = Vec::new();
    let mut rounds = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (u, r, f) = task.await.unwrap();
        uploads.extend(u);
        rounds.extend(r);
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    uploads.sort();
    rounds.sort();
    let pct = |v: &[Duration], p: f64| {
        v[((v.len() as f64 * p) as usize).min(v.len() - 1)].as_secs_f64() * 1000.0
    };
    println!(
        "  {} tips accepted ({failed} refused) in {elapsed:.1} s: {:.0} tips/s durable",
        uploads.len(),
        uploads.len() as f64 / elapsed
    );
    println!(
        "  upload latency p50 {:.1} ms, p99 {:.1} ms; challenge + upload p50 {:.1} ms, p99 {:.1} ms",
        pct(&uploads, 0.50),
        pct(&uploads, 0.99),
        pct(&rounds, 0.50),
        pct(&rounds, 0.99)
    );
    for pid in &pids {
        println!(
            "  relay {pid} peak RSS so far: {:.1} MiB",
            peak_rss_kib(*pid) as f64 / 1024.0
        );
    }
    if relays > 1 {
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        return;
    }
    let (pid, base) = (pids[0], bases[0].clone());

    // Part 2: ten 64 MiB uploads at once, streamed from a real age header.
    let header_source =
        sealtip_envelope::seal_to_vec(std::slice::from_ref(&recipient), b"x").unwrap();
    let header_end = header_source
        .windows(4)
        .position(|w| w == b"\n---")
        .unwrap()
        + 1;
    let header_end = header_end
        + header_source[header_end..]
            .iter()
            .position(|b| *b == b'\n')
            .unwrap()
        + 1;
    let header = header_source[..header_end].to_vec();
    // Nonce, then full 64 KiB chunks: a length a real age payload has.
    let chunks = BIG_BYTES / (64 * 1024);
    let payload = 16 + chunks * (64 * 1024 + 16);
    let total = header.len() as u64 + payload;
    println!("part 2: {BIG_UPLOADS} concurrent uploads of {total} bytes");
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0u64;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(current_rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let cpu_before = cpu_secs(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..BIG_UPLOADS {
        let (base, header) = (base.clone(), header.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let proof = proof(&client, &base).await;
            let block = axum::body::Bytes::from(vec![0x5au8; 64 * 1024]);
            let mut pieces: Vec<axum::body::Bytes> = vec![header.into(), vec![1u8; 16].into()];
            let chunk_piece = axum::body::Bytes::from(vec![0xa5u8; 64 * 1024 + 16]);
            pieces.extend((0..chunks).map(|_| chunk_piece.clone()));
            drop(block);
            let stream =
                futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
            let response = client
                .post(format!("{base}/api/v1/agencies/demo/tips"))
                .header("content-type", "application/octet-stream")
                .header(pow::PROOF_HEADER, proof)
                .header("content-length", total)
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{:?}", response.text().await);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let sampled_peak = sampler.await.unwrap();
    let megabytes = (total * BIG_UPLOADS as u64) as f64 / 1e6;
    println!(
        "  {megabytes:.0} MB in {elapsed:.2} s: {:.0} MB/s durable; relay CPU {:.2} s",
        megabytes / elapsed,
        cpu_secs(pid) - cpu_before
    );
    println!(
        "  relay RSS during part 2: peak {:.1} MiB sampled; VmHWM since start {:.1} MiB",
        sampled_peak as f64 / 1024.0,
        peak_rss_kib(pid) as f64 / 1024.0
    );
    let _ = std::io::stdout().flush();

    // Part 3: the same files through upload sessions, in 4 MiB parts.
    let mut file = header.clone();
    file.extend_from_slice(&[1u8; 16]);
    for _ in 0..chunks {
        file.extend_from_slice(&[0xa5u8; 64 * 1024 + 16]);
    }
    let file = axum::body::Bytes::from(file);
    let parts = file.len().div_ceil(PART_BYTES);
    println!("part 3: {BIG_UPLOADS} concurrent upload sessions of {total} bytes in {parts} parts");
    let cpu_before = cpu_secs(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..BIG_UPLOADS {
        let (base, file) = (base.clone(), file.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let proof = proof(&client, &base).await;
            let session: sealtip_api::UploadSession = client
                .post(format!("{base}/api/v1/agencies/demo/uploads"))
                .header("content-type", "application/json")
                .header(pow::PROOF_HEADER, proof)
                .body(r#"{"kind": "tip"}"#)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let url = format!("{base}/api/v1/uploads/{}", session.upload);
            for offset in (0..file.len()).step_by(PART_BYTES) {
                let part = file.slice(offset..(offset + PART_BYTES).min(file.len()));
                let response = client
                    .patch(&url)
                    .header("content-type", "application/octet-stream")
                    .header(sealtip_api::UPLOAD_OFFSET_HEADER, offset.to_string())
                    .body(part)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{:?}", response.text().await);
            }
            let response = client.post(format!("{url}/commit")).send().await.unwrap();
            assert_eq!(response.status(), 201, "{:?}", response.text().await);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "  {megabytes:.0} MB in {elapsed:.2} s: {:.0} MB/s durable, {:.0} parts/s; relay CPU {:.2} s",
        megabytes / elapsed,
        (parts * BIG_UPLOADS) as f64 / elapsed,
        cpu_secs(pid) - cpu_before
    );
    println!(
        "  relay VmHWM since start {:.1} MiB",
        peak_rss_kib(pid) as f64 / 1024.0
    );
    let _ = std::io::stdout().flush();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The relay binary measured: `BENCH_RELAY`, or the one built with the bench.
fn relay_binary() -> std::ffi::OsString {
    std::env::var_os("BENCH_RELAY").unwrap_or_else(|| env!("CARGO_BIN_EXE_sealtip-relay").into())
}

/// A proof for a fresh challenge of the relay at `base` (difficulty 0).
async fn proof(client: &reqwest::Client, base: &str) -> String {
    let challenge: Challenge = client
        .post(format!("{base}/api/v1/challenges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pow::proof_header(&challenge.challenge, 0)
}

fn status_field_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The CPU time (user and system) process `pid` has used so far, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |n: usize| {
        fields
            .get(n)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime (fields 14 and 15), in clock ticks of 1/100 s.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn peak_rss_kib(pid: u32) -> u64 {
    status_field_kib(pid, "VmHWM:")
}

fn current_rss_kib(pid: u32) -> u64 {
    status_field_kib(pid, "VmRSS:")
}
