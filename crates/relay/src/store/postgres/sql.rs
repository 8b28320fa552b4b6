//! Conversions between the store's numbers and PostgreSQL's, and statements
//! prepared once per connection and pipelined.

use crate::store::{ItemMeta, Place, StoreError};

/// Runs `sql` in `tx` as a statement prepared once per connection. Several of
/// these awaited together are pipelined: sent at once, answered in order.
pub(super) async fn exec(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, StoreError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, params).await?)
}

/// Like [`exec`], for a query answering one number.
pub(super) async fn count(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<i64, StoreError> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&statement, params).await?.try_get(0)?)
}

/// Does nothing, for a step a case skips.
pub(super) async fn skip() -> Result<u64, StoreError> {
    Ok(0)
}

/// Unix seconds and sizes as PostgreSQL's BIGINT (none comes near 2^63).
pub(super) fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// PostgreSQL's BIGINT as Unix seconds or a size.
pub(super) fn from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// An item from the columns `id, kind, mailbox, size, received`.
pub(super) fn meta_from_row(row: &tokio_postgres::Row) -> Result<ItemMeta, StoreError> {
    Ok(ItemMeta {
        id: row.try_get(0)?,
        place: Place::from_columns(row.try_get(1)?, row.try_get(2)?),
        size: from_sql(row.try_get(3)?),
        received: from_sql(row.try_get(4)?),
    })
}
