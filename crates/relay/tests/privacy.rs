//! The relay's own privacy: nothing it writes (database, blob names, logs)
//! holds the client's address, user agent, referrer or cookie.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::Path;

use common::{init_with_binary, sealed};
use sealtip_api::{Challenge, Created, pow};
use sealtip_harness::RelayProcess;

const CLIENT_ADDRESS: &str = "127.0.0.2";
const USER_AGENT: &str = "Mozilla/5.0 (DistinctiveAgent-7f3a91)";
const REFERRER: &str = "https://referrer-7f3a91.example/page";
const COOKIE: &str = "session=cookie-7f3a91";
const FORWARDED: &str = "198.51.100.73";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_the_relay_writes_identifies_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = init_with_binary(dir.path());
    // init refuses to overwrite.
    let before = std::fs::read(&config).unwrap();
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_sealtip-relay"))
        .current_dir(dir.path())
        .args(["init", "--dir", "data"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&config).unwrap(), before);

    let (recipient, token) = common::demo_agency(dir.path());
    let token = token.as_str();
    let mut relay = RelayProcess::start_on_free_port(dir.path()).unwrap();

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("referer", REFERRER.parse().unwrap());
    headers.insert("cookie", COOKIE.parse().unwrap());
    headers.insert("x-forwarded-for", FORWARDED.parse().unwrap());
    headers.insert("x-real-ip", FORWARDED.parse().unwrap());
    headers.insert("forwarded", format!("for={FORWARDED}").parse().unwrap());
    let client = reqwest::Client::builder()
        .local_address(CLIENT_ADDRESS.parse::<std::net::IpAddr>().unwrap())
        .user_agent(USER_AGENT)
        .default_headers(headers)
        .build()
        .unwrap();
    let url = |path: &str| format!("{}{path}", relay.url);
    let proof = || async {
        let challenge: Challenge = client
            .post(url("/api/v1/challenges"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pow::proof_header(
            &challenge.challenge,
            pow::solve(&challenge.challenge).unwrap(),
        )
    };
    let post = |path: String, body: Vec<u8>, proof: String| {
        client
            .post(url(&path))
            .header("content-type", "application/octet-stream")
            .header("sealtip-proof", proof)
            .bearer_auth(token)
            .body(body)
            .send()
    };

    let tip = post(
        "/api/v1/agencies/demo/tips".into(),
        sealed(&recipient, 5000),
        proof().await,
    )
    .await
    .unwrap();
    assert_eq!(tip.status(), 201);
    let id = tip.json::<Created>().await.unwrap().id;
    let message = post(
        "/api/v1/agencies/demo/messages".into(),
        sealed(&recipient, 100),
        proof().await,
    )
    .await
    .unwrap();
    assert_eq!(message.status(), 201);
    let mailbox = "00112233445566778899aabbccddeeff";
    let reply = post(
        format!("/api/v1/agencies/demo/mailboxes/{mailbox}"),
        sealed(&recipient, 100),
        String::new(),
    )
    .await
    .unwrap();
    assert_eq!(reply.status(), 201);
    for path in [
        "/api/v1/agencies/demo/inbox".to_owned(),
        format!("/api/v1/agencies/demo/inbox/{id}"),
        format!("/api/v1/agencies/demo/mailboxes/{mailbox}"),
        "/api/v1/agencies/nobody".to_owned(),
        "/a/demo".to_owned(),
    ] {
        client
            .get(url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
    }
    // Upload sessions: one committed, one left open with a part, one refused.
    let uploads = common::Uploads {
        client: &client,
        base: &relay.url,
    };
    let file = sealed(&recipient, 200_000);
    let committed = uploads.open("tip").await.upload;
    uploads.append(&committed, 0, &file[..100_000]).await;
    uploads.append(&committed, 100_000, &file[100_000..]).await;
    assert_eq!(uploads.commit(&committed).await.status(), 201);
    let open = uploads.open("message").await.upload;
    uploads.append(&open, 0, &file[..50_000]).await;
    assert_eq!(uploads.received(&open).await, (200, Some(50_000)));
    assert_eq!(uploads.patch(&open, 7, b"x").await.status(), 409);
    let bad = post(
        "/api/v1/agencies/demo/tips".into(),
        b"garbage".to_vec(),
        proof().await,
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = client
        .get(url("/api/v1/agencies/demo/inbox"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    relay.kill();

    let needles = [
        CLIENT_ADDRESS,
        USER_AGENT,
        "DistinctiveAgent-7f3a91",
        REFERRER,
        "referrer-7f3a91",
        "cookie-7f3a91",
        FORWARDED,
    ];
    let mut searched = 0;
    search(dir.path(), &needles, &mut searched);
    assert!(searched >= 6, "searched {searched} files");

    // A session's id is its only credential: it names no file and is never
    // logged. Its expiry is kept to the hour.
    let log = std::fs::read_to_string(dir.path().join("relay.log")).unwrap();
    for id in [&committed, &open] {
        assert!(!log.contains(id.as_str()), "{id} in the log");
        assert!(
            !names_under(dir.path())
                .iter()
                .any(|n| n.contains(id.as_str()))
        );
    }
    let conn = rusqlite::Connection::open(dir.path().join("data/relay.db")).unwrap();
    let (rows, odd): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE expires % 3600 != 0) FROM sessions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, odd), (1, 0));
    // No file per tip or session (tests/disk_times.rs checks every time).
    assert!(!dir.path().join("data/blobs").exists());
}

/// The names of every file and folder under `dir`.
fn names_under(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        names.push(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_dir() {
            names.extend(names_under(&entry.path()));
        }
    }
    names
}

/// Every file under `dir` (its name and its bytes) must hold none of `needles`.
fn search(dir: &Path, needles: &[&str], searched: &mut usize) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        for needle in needles {
            assert!(
                !name.contains(needle),
                "{needle} in the name {}",
                path.display()
            );
        }
        if path.is_dir() {
            search(&path, needles, searched);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            for needle in needles {
                let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                assert!(!found, "{needle} in {}", path.display());
            }
            *searched += 1;
        }
    }
}
