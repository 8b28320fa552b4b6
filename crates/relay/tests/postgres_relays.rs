//! Two real `sealtip-relay` processes on one PostgreSQL database behave as
//! one relay: tips sent through either are listed and fetched through both,
//! a deletion through one is seen by the other, a proof of work is spent
//! once across both, and neither keeps anything per tip on its disk. And a
//! relay whose upload-session parts arrive slowly still has database
//! connections for everything else, and keeps the parts waiting in memory
//! within `limits.part_buffer_bytes`.
//!
//! Needs `SEALTIP_TEST_POSTGRES` (`cargo xtask test` starts a server).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use common::{fetch_inbox, init_with_binary, sealed, solved_proof};
use sealtip_api::{Created, Mailbox, pow};
use sealtip_harness::RelayProcess;

const MAILBOX: &str = "00112233445566778899aabbccddeeff";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_on_one_database_act_as_one() {
    let Some(db) = sealtip_harness::test_database("two_relays_on_one_database_act_as_one")
        .await
        .unwrap()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = init_with_binary(dir.path());
    sealtip_harness::relay::use_postgres(&config, &db.url).unwrap();
    let files_before = files_under(dir.path());
    let (recipient, token) = common::demo_agency(dir.path());
    let token = token.as_str();

    let a = RelayProcess::start_on_free_port(dir.path()).unwrap();
    let b = RelayProcess::start_on_free_port(dir.path()).unwrap();
    let relays = [&a, &b];
    let client = reqwest::Client::new();

    // Submit through both at once, each with a challenge from the other
    // relay; one tip spans several database chunks.
    let mut sent = HashMap::new();
    let mut uploads = Vec::new();
    for i in 0..12usize {
        let (from, to) = (relays[i % 2], relays[(i + 1) % 2]);
        let body = sealed(&recipient, if i == 0 { 3_000_000 } else { 1000 + i });
        let proof = solved_proof(&client, &from.url).await;
        let (client, base) = (client.clone(), to.url.clone());
        uploads.push(tokio::spawn(async move {
            let response = post_tip(&client, &base, &proof, body.clone()).await;
            assert_eq!(response.status(), 201);
            let created: Created = response.json().await.unwrap();
            (created.id, body)
        }));
    }
    for upload in uploads {
        let (id, body) = upload.await.unwrap();
        sent.insert(id, body);
    }

    // Each relay lists every tip, and serves each one byte for byte.
    let sent_ids: BTreeSet<&String> = sent.keys().collect();
    for relay in relays {
        let inbox = fetch_inbox(&client, &relay.url, token).await;
        let listed: BTreeSet<&String> = inbox.items.iter().map(|i| &i.id).collect();
        assert_eq!(listed, sent_ids, "{} lists another inbox", relay.url);
        for item in &inbox.items {
            assert_eq!(item.size, sent[&item.id].len() as u64);
            let bytes = client
                .get(format!(
                    "{}/api/v1/agencies/demo/inbox/{}",
                    relay.url, item.id
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert!(
                bytes == sent[&item.id],
                "{} changed tip {}",
                relay.url,
                item.id
            );
        }
    }

    // A solution accepted by one relay is refused by the other.
    let spent = solved_proof(&client, &a.url).await;
    let body = sealed(&recipient, 500);
    assert_eq!(
        post_tip(&client, &a.url, &spent, body.clone())
            .await
            .status(),
        201
    );
    let replay = post_tip(&client, &b.url, &spent, body.clone()).await;
    assert_eq!(replay.status(), 409);
    assert_eq!(
        post_tip(&client, &a.url, &spent, body.clone())
            .await
            .status(),
        409
    );
    // Sent to both at the same moment, it is accepted exactly once.
    for _ in 0..5 {
        let raced = solved_proof(&client, &b.url).await;
        let (first, second) = tokio::join!(
            post_tip(&client, &a.url, &raced, body.clone()),
            post_tip(&client, &b.url, &raced, body.clone())
        );
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409]);
    }
    let total = sent.len() + 6;
    assert_eq!(fetch_inbox(&client, &a.url, token).await.items.len(), total);

    // Deleting through one relay removes the tip from the other.
    let (gone, _) = sent.iter().next().unwrap();
    let path = format!("/api/v1/agencies/demo/inbox/{gone}");
    let deleted = client
        .delete(format!("{}{path}", a.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let fetched = client
        .get(format!("{}{path}", b.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 404);
    let listed = fetch_inbox(&client, &b.url, token).await;
    assert_eq!(listed.items.len(), total - 1);
    assert!(listed.items.iter().all(|i| &i.id != gone));

    // A reply posted through one relay is read through the other.
    let reply = sealed(&recipient, 300);
    let posted = client
        .post(format!(
            "{}/api/v1/agencies/demo/mailboxes/{MAILBOX}",
            b.url
        ))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(reply.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);
    let mailbox: Mailbox = client
        .get(format!(
            "{}/api/v1/agencies/demo/mailboxes/{MAILBOX}",
            a.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mailbox.replies.len(), 1);
    let read = client
        .get(format!(
            "{}/api/v1/agencies/demo/mailboxes/{MAILBOX}/{}",
            a.url, mailbox.replies[0].id
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(read == reply);

    // Nothing per tip on the relays' disk: only their log is new.
    let mut expected = files_before;
    expected.insert("relay.log".into());
    assert_eq!(files_under(dir.path()), expected);
    let log = std::fs::read_to_string(dir.path().join("relay.log")).unwrap();
    assert!(sent.keys().all(|id| !log.contains(id.as_str())), "{log}");
}

/// Parts of upload sessions whose bodies trickle in hold no database
/// connection: with more of them arriving than the relay's pool has
/// connections, the inbox, a tip and a session's progress are answered
/// while every slow part is still arriving, and each slow part is then
/// stored whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_parts_leave_the_database_to_other_requests() {
    let Some(db) =
        sealtip_harness::test_database("slow_parts_leave_the_database_to_other_requests")
            .await
            .unwrap()
    else {
        return;
    };
    const POOL: usize = 2;
    let relay = common::start_on_postgres(&db.url, POOL, |_| {}).await;
    let uploads = relay.uploads();
    let file = sealed(&relay.recipient, 200_000);
    // The first piece holds the whole age header.
    let first = 50_000;

    // Twice as many slow first parts as connections, each in its own
    // session: a byte every 100 ms until `finish`, then the rest.
    let mut sessions = Vec::new();
    for _ in 0..2 * POOL {
        sessions.push(uploads.open("tip").await.upload);
    }
    let (finish, finishing) = tokio::sync::watch::channel(false);
    let mut answers = Vec::new();
    for id in &sessions {
        let (sender, body) = common::stalling_body(file[..first].to_vec()).await;
        answers.push(tokio::spawn(uploads.patch_request(id, 0, body).send()));
        let (rest, mut finishing) = (file[first..].to_vec(), finishing.clone());
        tokio::spawn(async move {
            let mut sent = 0;
            while !*finishing.borrow() {
                tokio::select! {
                    _ = finishing.changed() => {}
                    () = tokio::time::sleep(Duration::from_millis(100)) => {
                        sender.send(Ok(rest[sent..=sent].to_vec())).await.unwrap();
                        sent += 1;
                    }
                }
            }
            sender.send(Ok(rest[sent..].to_vec())).await.unwrap();
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile the relay answers requests that need the database.
    let inbox = relay.get_authed("/api/v1/agencies/demo/inbox").await;
    assert_eq!(inbox.status(), 200);
    let tip = relay.post_tip("demo", sealed(&relay.recipient, 1000)).await;
    assert_eq!(tip.status(), 201);
    assert_eq!(uploads.received(&sessions[0]).await, (200, Some(0)));
    assert!(
        answers.iter().all(|answer| !answer.is_finished()),
        "a slow part ended before the other requests were answered"
    );

    // The slow parts end, and each is stored whole.
    finish.send(true).unwrap();
    for answer in answers {
        let response = answer.await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        let progress: sealtip_api::UploadProgress = response.json().await.unwrap();
        assert_eq!(progress.received, file.len() as u64);
    }
    let committed = uploads.commit(&sessions[0]).await;
    assert_eq!(committed.status(), 201);
    let created: Created = committed.json().await.unwrap();
    let stored = common::fetch_item(&relay.client, &relay.base, &relay.token, &created.id).await;
    assert!(stored == file);
}

/// On PostgreSQL a part waits in memory until it is whole, within
/// `limits.part_buffer_bytes`: a part that does not fit beside those
/// arriving is refused with 429 before its body is read, one that fits is
/// stored, and once the memory is free again the refused part is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_in_memory_stay_within_part_buffer_bytes() {
    let Some(db) = sealtip_harness::test_database("parts_in_memory_stay_within_part_buffer_bytes")
        .await
        .unwrap()
    else {
        return;
    };
    const MIB: usize = 1024 * 1024;
    let relay = common::start_on_postgres(&db.url, 4, |c| {
        c.limits.part_buffer_bytes = 16 * MIB as u64;
    })
    .await;
    let uploads = relay.uploads();
    let file = sealed(&relay.recipient, 6 * MIB);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(uploads.open("tip").await.upload);
    }
    let [slow, refused, small] = &sessions[..] else {
        unreachable!()
    };
    let patch_head = |id: &str, length: usize| {
        format!(
            "PATCH /api/v1/uploads/{id} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
             content-type: application/octet-stream\r\nupload-offset: 0\r\n\
             content-length: {length}\r\n\r\n"
        )
    };

    // A part announcing 12 MiB arrives slowly: 12 of the 16 MiB are taken.
    let mut arriving = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    arriving
        .write_all(patch_head(slow, 12 * MIB).as_bytes())
        .await
        .unwrap();
    arriving.write_all(&file[..100_000]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 6 MiB do not fit, nor does a part of unknown length (counted as the
    // largest part): 429, and nothing of them counts.
    let (status, _, body) = common::raw(relay.addr, patch_head(refused, 6 * MIB).as_bytes()).await;
    assert_eq!(status, 429);
    assert!(common::error_line(&body).contains("busy"), "{body}");
    let (sender, unknown_length) = common::stalling_body(file[..MIB].to_vec()).await;
    drop(sender);
    let response = uploads
        .patch_request(refused, 0, unknown_length)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(uploads.received(refused).await, (200, Some(0)));
    // One MiB fits.
    uploads.append(small, 0, &file[..MIB]).await;

    // The slow part ends (its connection is lost): the memory is free again.
    drop(arriving);
    let mut stored = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let response = uploads.patch_request(refused, 0, file.clone()).send().await;
        // (Refused while the lost part still holds its share.)
        if let Ok(response) = response
            && response.status() == 200
        {
            stored = Some(response);
            break;
        }
    }
    let progress: sealtip_api::UploadProgress = stored.unwrap().json().await.unwrap();
    assert_eq!(progress.received, file.len() as u64);
    assert_eq!(uploads.received(slow).await, (200, Some(0)));
}

async fn post_tip(
    client: &reqwest::Client,
    base: &str,
    proof: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/v1/agencies/demo/tips"))
        .header("content-type", "application/octet-stream")
        .header(pow::PROOF_HEADER, proof)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                found.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    found
}
