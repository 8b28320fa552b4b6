//! `POST /api/v1/agencies/{agency}/case-items`: an officer's sealed case
//! item, with the agency's token, within 256 KiB, counted in the agency's
//! items and storage, listed in the inbox as `case`, never in a mailbox and
//! never through an upload session; on SQLite and on PostgreSQL (with
//! `SEALTIP_TEST_POSTGRES`; `cargo xtask with-postgres cargo test -p
//! sealtip-relay --test case_items`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{TestRelay, error_line, sealed, start, start_on_postgres};
use sealtip_api::{CASE_ITEM_MAX_BYTES, Created, ItemKind};
use sealtip_harness::TestDatabase;
use sealtip_relay::Config;

const CASE_ITEMS: &str = "/api/v1/agencies/demo/case-items";

/// The relay on SQLite, or on a fresh PostgreSQL database (`None` when no
/// server is configured), with `tweak` applied.
async fn relay(
    postgres: bool,
    test: &str,
    tweak: impl FnOnce(&mut Config),
) -> Option<(TestRelay, Option<TestDatabase>)> {
    if !postgres {
        return Some((start(|_| String::new(), tweak).await, None));
    }
    let db = sealtip_harness::test_database(test).await.unwrap()?;
    let relay = start_on_postgres(&db.url, 4, tweak).await;
    Some((relay, Some(db)))
}

async fn post_case(relay: &TestRelay, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut request = relay
        .client
        .post(relay.url(CASE_ITEMS))
        .header("content-type", "application/octet-stream")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn listed_as_case_with_the_agencys_token_only(postgres: bool) {
    let Some((relay, _db)) = relay(postgres, "case_items_listed", |_| {}).await else {
        return;
    };
    let body = sealed(&relay.recipient, 1000);
    for token in [None, Some("not-the-token")] {
        let response = post_case(&relay, token, body.clone()).await;
        assert_eq!(response.status(), 401);
    }
    assert!(relay.inbox().await.items.is_empty());
    let response = post_case(&relay, Some(&relay.token.clone()), body.clone()).await;
    assert_eq!(response.status(), 201);
    let created: Created = response.json().await.unwrap();
    let inbox = relay.inbox().await;
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].id, created.id);
    assert_eq!(inbox.items[0].kind, ItemKind::Case);
    let json: serde_json::Value = relay
        .get_authed("/api/v1/agencies/demo/inbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["items"][0]["kind"], "case");
    let fetched = relay
        .get_authed(&format!("/api/v1/agencies/demo/inbox/{}", created.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(fetched.to_vec(), body);
    // Never in a mailbox, by its id or any other.
    assert!(relay.mailbox(&created.id).await.replies.is_empty());
    // Deleted like any other item.
    assert_eq!(relay.delete_item(&created.id).await.status(), 204);
    assert!(relay.inbox().await.items.is_empty());
}

async fn over_256_kib_is_refused(postgres: bool) {
    let Some((relay, _db)) = relay(postgres, "case_items_size", |_| {}).await else {
        return;
    };
    let token = relay.token.clone();
    let large = sealed(&relay.recipient, CASE_ITEM_MAX_BYTES as usize);
    assert!(large.len() as u64 > CASE_ITEM_MAX_BYTES);
    let response = post_case(&relay, Some(&token), large.clone()).await;
    assert_eq!(response.status(), 413);
    assert!(error_line(&response.text().await.unwrap()).contains("262144"));
    // Sent without a length, it is cut off at the limit all the same.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        large.chunks(65_536).map(|c| Ok(c.to_vec())).collect();
    let response = relay
        .client
        .post(relay.url(CASE_ITEMS))
        .header("content-type", "application/octet-stream")
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(relay.inbox().await.items.is_empty());
    // Not a sealed file: refused, nothing stored.
    let response = post_case(&relay, Some(&token), b"not an age file".to_vec()).await;
    assert_eq!(response.status(), 400);
    assert!(relay.inbox().await.items.is_empty());
}

async fn counted_in_the_agencys_items_and_storage(postgres: bool) {
    let Some((relay, _db)) = relay(postgres, "case_items_items", |c| {
        c.limits.max_items_per_agency = 1;
    })
    .await
    else {
        return;
    };
    let token = relay.token.clone();
    let response = post_case(&relay, Some(&token), sealed(&relay.recipient, 1000)).await;
    assert_eq!(response.status(), 201);
    let response = post_case(&relay, Some(&token), sealed(&relay.recipient, 1000)).await;
    assert_eq!(response.status(), 429, "the inbox holds one item");
    assert_eq!(relay.inbox().await.items.len(), 1);

    let Some((relay, _db)) = relay_with_quota(postgres).await else {
        return;
    };
    let token = relay.token.clone();
    let response = post_case(&relay, Some(&token), sealed(&relay.recipient, 1000)).await;
    assert_eq!(response.status(), 201);
    let response = post_case(&relay, Some(&token), sealed(&relay.recipient, 1000)).await;
    assert_eq!(response.status(), 507, "over the storage quota");
    assert_eq!(relay.inbox().await.items.len(), 1);
}

async fn relay_with_quota(postgres: bool) -> Option<(TestRelay, Option<TestDatabase>)> {
    // One small sealed file (to a hybrid key, as init's) fits; a second does not.
    let hybrid = sealtip_envelope::Identity::generate().unwrap().recipient();
    let one = sealed(&hybrid, 1000).len() as u64;
    relay(postgres, "case_items_quota", |c| {
        c.limits.max_bytes = one + one / 2;
    })
    .await
}

async fn never_through_an_upload_session(postgres: bool) {
    let Some((relay, _db)) = relay(postgres, "case_items_session", |_| {}).await else {
        return;
    };
    let proof = relay.proof().await;
    let response = relay
        .uploads()
        .open_with(r#"{"kind": "case"}"#, &proof)
        .await;
    assert_eq!(response.status(), 400);
    assert!(relay.inbox().await.items.is_empty());
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(false).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(true).await;
            })*
        }
    };
}

on_both_stores!(
    listed_as_case_with_the_agencys_token_only,
    over_256_kib_is_refused,
    counted_in_the_agencys_items_and_storage,
    never_through_an_upload_session,
);
