//! An agency's `retention_days`, as the relay runs it: checked in
//! `relay.toml`, said in the inbox answer, and its items deleted by the
//! periodic cleaning once the clock has moved past it. What each store
//! deletes and keeps is in `tests/store.rs` (`retention`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

const DAY: u64 = 86_400;

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
