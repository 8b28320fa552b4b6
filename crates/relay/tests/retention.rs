//! An agency's `retention_days`: its items (every inbox kind) and replies
//! older than that are deleted with their bytes, in both stores; newer ones
//! and other agencies' stay; the inbox says how long items are kept.
//!
//! The PostgreSQL test needs `SEALTIP_TEST_POSTGRES` (`cargo xtask
//! with-postgres cargo test -p sealtip-relay --test retention`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::future::Future;
use std::time::Duration;

use sealtip_api::ItemKind;
use sealtip_relay::store::postgres::PgStore;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::store::{ItemMeta, Place, Store, Upload};

const DAY: u64 = 86_400;
const TIP: Place = Place::Inbox(ItemKind::Tip);
const MESSAGE: Place = Place::Inbox(ItemKind::Message);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_deletes_an_agencys_items_past_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    let connect = || {
        let conn = rusqlite::Connection::open(&database).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn
    };
    expires(
        store,
        |ids, secs| {
            let conn = connect();
            async move {
                for id in ids {
                    let sql = "UPDATE items SET received = received - ?1 WHERE id = ?2";
                    assert_eq!(conn.execute(sql, rusqlite::params![secs, id]).unwrap(), 1);
                }
            }
        },
        |id| {
            let conn = connect();
            async move {
                let sql = "SELECT COUNT(*) FROM chunks WHERE blob = ?1";
                conn.query_row(sql, [&id], |r| r.get::<_, i64>(0)).unwrap() > 0
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deletes_an_agencys_items_past_its_retention() {
    let Some(db) = sealtip_harness::test_database("postgres_deletes_items_past_retention")
        .await
        .unwrap()
    else {
        return;
    };
    let store = PgStore::open(&db.url, Duration::from_secs(3600))
        .await
        .unwrap();
    let db = &db;
    expires(
        store,
        move |ids, secs| async move {
            for id in ids {
                db.execute(&format!(
                    "UPDATE items SET received = received - {secs} WHERE id = '{id}'"
                ))
                .await
                .unwrap();
            }
        },
        move |id| async move {
            db.query_i64(&format!("SELECT COUNT(*) FROM chunks WHERE blob = '{id}'"))
                .await
                .unwrap()
                > 0
        },
    )
    .await;
}

/// What every backend does with an agency's retention. `backdate(ids,
/// secs)` moves stored items' hour `secs` back; `has_bytes(id)` tells
/// whether a blob's bytes are still stored.
async fn expires<S, B, BF, H, HF>(store: S, backdate: B, has_bytes: H)
where
    S: Store,
    B: Fn(Vec<String>, u64) -> BF,
    BF: Future<Output = ()>,
    H: Fn(String) -> HF,
    HF: Future<Output = bool>,
{
    let mailbox = Place::Mailbox("5ea17a11ba5e0b0e5ea17a11ba5e0b0e".into());
    // Older than 30 days: a large tip (several chunks), a message, a reply,
    // and more small tips than one batch of deletions takes.
    let large = put(&store, "demo", TIP, &vec![7; 3 * 1024 * 1024]).await;
    let old_message = put(&store, "demo", MESSAGE, b"old message").await;
    let old_reply = put(&store, "demo", mailbox.clone(), b"old reply").await;
    let mut old = vec![large.id.clone(), old_message.id, old_reply.id.clone()];
    for i in 0..70u8 {
        old.push(put(&store, "demo", TIP, &[i; 100]).await.id);
    }
    backdate(old.clone(), 31 * DAY).await;
    // Exactly 30 days old (received at the cutoff hour), and new ones.
    let at_cutoff = put(&store, "demo", TIP, b"at the cutoff").await;
    backdate(vec![at_cutoff.id.clone()], 30 * DAY).await;
    let new_tip = put(&store, "demo", TIP, b"new tip").await;
    let new_reply = put(&store, "demo", mailbox.clone(), b"new reply").await;
    // Another agency's items, however old, are not this agency's.
    let other = put(&store, "news", TIP, b"news tip").await;
    let other_reply = put(&store, "news", mailbox.clone(), b"news reply").await;
    backdate(vec![other.id.clone(), other_reply.id.clone()], 400 * DAY).await;
    assert_eq!(store.inbox_len("demo").await.unwrap(), 74);
    assert!(has_bytes(large.id.clone()).await);

    let hour = sealtip_relay::time::this_hour();
    let cutoff = sealtip_relay::time::retention_cutoff(hour, 30);
    assert_eq!(cutoff, hour - 30 * DAY);
    assert_eq!(
        store
            .remove_agency_items_before("demo", cutoff)
            .await
            .unwrap(),
        old.len() as u64
    );

    let ids = |items: Vec<ItemMeta>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.inbox("demo").await.unwrap()),
        vec![at_cutoff.id.clone(), new_tip.id.clone()]
    );
    assert_eq!(
        store.inbox_len("demo").await.unwrap(),
        2,
        "the inbox count follows"
    );
    assert_eq!(
        ids(store
            .mailbox("demo", "5ea17a11ba5e0b0e5ea17a11ba5e0b0e")
            .await
            .unwrap()),
        vec![new_reply.id]
    );
    for id in [&large.id, &old_reply.id] {
        assert!(store.open("demo", &TIP, id).await.unwrap().is_none());
        assert!(!has_bytes(id.clone()).await, "bytes of {id} are gone");
    }
    assert!(has_bytes(new_tip.id.clone()).await);
    assert_eq!(ids(store.inbox("news").await.unwrap()), vec![other.id]);
    assert_eq!(
        ids(store
            .mailbox("news", "5ea17a11ba5e0b0e5ea17a11ba5e0b0e")
            .await
            .unwrap()),
        vec![other_reply.id]
    );
    assert_eq!(
        store
            .remove_agency_items_before("demo", cutoff)
            .await
            .unwrap(),
        0
    );

    // A full inbox has room again once old items are gone: the count the
    // limit is checked against followed the deletion.
    assert!(
        put_limited(&store, "demo", TIP, b"fits", 3).await.is_ok(),
        "room for a third item"
    );
}

async fn put<S: Store>(store: &S, agency: &str, place: Place, body: &[u8]) -> ItemMeta {
    put_limited(store, agency, place, body, 1000).await.unwrap()
}

async fn put_limited<S: Store>(
    store: &S,
    agency: &str,
    place: Place,
    body: &[u8],
    max_items: u64,
) -> Result<ItemMeta, sealtip_relay::store::StoreError> {
    let mut upload = store.begin().await?;
    upload.write(body).await?;
    store.commit(upload, agency, place, None, max_items).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_deletes_items_past_retention_and_says_how_long_it_keeps_them() {
    let relay = common::start(
        |_| String::new(),
        |config| config.agencies[0].retention_days = Some(2),
    )
    .await;
    let created = relay
        .post_tip("demo", common::sealed(&relay.recipient, 2000))
        .await;
    assert_eq!(created.status(), 201);
    let inbox = relay.inbox().await;
    assert_eq!(inbox.retention_days, Some(2));
    assert_eq!(inbox.items.len(), 1);

    // Two days and two hours on, the next cleaning deletes it.
    relay.clock.advance(2 * DAY + 2 * 3600);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !relay.inbox().await.items.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the item was not deleted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(relay.inbox().await.retention_days, Some(2));
}

#[test]
fn retention_days_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let written = sealtip_relay::init::init(&dir.path().join("data")).unwrap();
    let with = |line: &str| {
        let text = std::fs::read_to_string(&written.config).unwrap();
        let text = text.replacen("[[agencies]]\n", &format!("[[agencies]]\n{line}\n"), 1);
        toml::from_str::<sealtip_relay::Config>(&text)
            .unwrap()
            .check()
    };
    assert_eq!(
        with("retention_days = 30").unwrap().agencies["demo"].retention_days,
        Some(30)
    );
    for bad in ["retention_days = 0", "retention_days = 36501"] {
        let error = format!("{:#}", with(bad).err().unwrap());
        assert!(
            error.contains("retention_days must be 1 to 36500"),
            "{error}"
        );
    }
}
