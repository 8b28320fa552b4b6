//! The schema, created and upgraded at start under an advisory lock, so
//! relays started together do not migrate twice.

use super::StoreError;

/// Any number; relays starting together take this advisory lock to migrate.
const MIGRATION_LOCK: i64 = 0x5ea1_7100;

/// The schema, one step per version. Never edit a step that has shipped: add one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/1_items.sql"),
    include_str!("migrations/2_sessions.sql"),
];

/// Applies the migrations the database has not seen, under an advisory lock.
pub(super) async fn migrate(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)",
            )
            .await?;
        let done: i32 = client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .await?
            .get(0);
        for (version, step) in (1i32..)
            .zip(MIGRATIONS)
            .skip(usize::try_from(done).unwrap_or(0))
        {
            let tx = client.transaction().await?;
            tx.batch_execute(step).await?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&version],
            )
            .await?;
            tx.commit().await?;
        }
        if usize::try_from(done).unwrap_or(0) > MIGRATIONS.len() {
            return Err(StoreError::Failed(format!(
                "the database schema is version {done}, newer than this relay ({}): \
                 upgrade the relay",
                MIGRATIONS.len()
            )));
        }
        Ok(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    result
}
