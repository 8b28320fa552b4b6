//! The SQLite store's log (its WAL file) stays bounded while uploads never
//! stop: it is folded into the database and started again from its
//! beginning, not left to grow with everything written.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use sealtip_api::ItemKind;
use sealtip_relay::store::sqlite::SqliteStore;
use sealtip_relay::store::{Place, Store, Upload};

const UPLOADS: usize = 10;
const UPLOAD_BYTES: usize = 48 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_log_stays_bounded_under_constant_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("relay.db");
    let store = SqliteStore::open(&database, &dir.path().join("blobs")).unwrap();
    let mut tasks = Vec::new();
    for n in 0..UPLOADS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let piece = vec![n as u8; 64 * 1024];
            let mut upload = store.begin().await.unwrap();
            for _ in 0..UPLOAD_BYTES / piece.len() {
                upload.write(&piece).await.unwrap();
            }
            store
                .commit(upload, "demo", Place::Inbox(ItemKind::Tip), None, 1000)
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.inbox_len("demo").await.unwrap(), UPLOADS as u64);
    let written = (UPLOADS * UPLOAD_BYTES) as u64;
    let log = std::fs::metadata(dir.path().join("relay.db-wal"))
        .unwrap()
        .len();
    assert!(
        log < written / 2,
        "the log holds {log} bytes after {written} written"
    );
}
