//! `storage` (and `blobs`): where the relay keeps items, checked against the
//! backends this relay was built with (cargo features `sqlite` and
//! `postgres`).

use std::path::PathBuf;

use anyhow::{bail, ensure};
use zeroize::Zeroizing;

/// Where the relay keeps items, checked.
#[derive(Debug)]
pub enum Storage {
    /// One SQLite database on this machine: rows and sealed bytes.
    #[cfg(feature = "sqlite")]
    Sqlite {
        /// The SQLite database file.
        database: PathBuf,
        /// Where an earlier relay kept sealed blobs as files: moved into
        /// the database at start, then removed (`blobs`, default: a
        /// `blobs` folder beside the database).
        blobs: PathBuf,
    },
    /// A PostgreSQL database holding everything, shared by any number of relays.
    #[cfg(feature = "postgres")]
    Postgres(PostgresUrl),
}

/// A `postgres://` URL, which may hold a password: zeroized when dropped and
/// never printed.
#[cfg(feature = "postgres")]
pub struct PostgresUrl(Zeroizing<String>);

#[cfg(feature = "postgres")]
impl PostgresUrl {
    /// The URL, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "postgres")]
impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresUrl(…)")
    }
}

/// Checks `storage` and `blobs`: a storage this relay was not built with is
/// refused in one line that says so.
pub(super) fn check_storage(
    storage: Zeroizing<String>,
    blobs: Option<PathBuf>,
) -> anyhow::Result<Storage> {
    if let Some(path) = storage.strip_prefix("sqlite://") {
        ensure!(!path.is_empty(), "storage = \"sqlite://\" needs a path");
        return sqlite(PathBuf::from(path), blobs);
    }
    if storage.starts_with("postgres://") || storage.starts_with("postgresql://") {
        ensure!(
            blobs.is_none(),
            "blobs is for sqlite:// storage only: with PostgreSQL every blob is in the database"
        );
        return postgres(storage);
    }
    bail!("storage must be sqlite://PATH or postgres://USER@HOST/DATABASE")
}

#[cfg(feature = "sqlite")]
fn sqlite(database: PathBuf, blobs: Option<PathBuf>) -> anyhow::Result<Storage> {
    let blobs = blobs.unwrap_or_else(|| {
        database
            .parent()
            .map(|dir| dir.join("blobs"))
            .unwrap_or_else(|| PathBuf::from("blobs"))
    });
    Ok(Storage::Sqlite { database, blobs })
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: PathBuf, _: Option<PathBuf>) -> anyhow::Result<Storage> {
    bail!(
        "storage is sqlite://, but this relay was built without SQLite (cargo feature \"sqlite\"): \
         use a postgres:// URL, or a relay built with that feature"
    )
}

#[cfg(feature = "postgres")]
fn postgres(url: Zeroizing<String>) -> anyhow::Result<Storage> {
    // Checked now so that a typo stops the relay at start; the error
    // names no part of the URL, which may hold a password.
    if url.parse::<tokio_postgres::Config>().is_err() {
        bail!("storage is not a valid postgres:// URL");
    }
    Ok(Storage::Postgres(PostgresUrl(url)))
}

#[cfg(not(feature = "postgres"))]
fn postgres(_: Zeroizing<String>) -> anyhow::Result<Storage> {
    bail!(
        "storage is postgres://, but this relay was built without PostgreSQL (cargo feature \"postgres\"): \
         use sqlite://PATH, or a relay built with that feature"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(feature = "sqlite", feature = "postgres"))]
    #[test]
    fn storage_is_sqlite_or_postgres() {
        let Ok(Storage::Sqlite { database, blobs }) =
            check_storage(Zeroizing::new("sqlite://data/relay.db".into()), None)
        else {
            panic!("sqlite storage refused");
        };
        assert_eq!(database, PathBuf::from("data/relay.db"));
        assert_eq!(blobs, PathBuf::from("data/blobs"));

        let url = "postgres://relay:hunter2@db.internal:5432/sealtip";
        let Ok(Storage::Postgres(checked)) = check_storage(Zeroizing::new(url.into()), None) else {
            panic!("postgres storage refused");
        };
        assert_eq!(checked.expose(), url);
        assert!(!format!("{checked:?}").contains("hunter2"));

        let with_blobs = check_storage(Zeroizing::new(url.into()), Some("blobs".into()));
        assert!(with_blobs.is_err());
        for bad in ["mysql://x", "sqlite://", "data/relay.db"] {
            assert!(
                check_storage(Zeroizing::new(bad.into()), None).is_err(),
                "{bad}"
            );
        }
        let typo = check_storage(
            Zeroizing::new("postgres://relay:hunter2@db:notaport/x".into()),
            None,
        );
        let message = format!(
            "{:#}",
            typo.err().unwrap_or_else(|| panic!("typo accepted"))
        );
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_relay_built_without_postgres_says_so() {
        let url = "postgres://relay:hunter2@db.internal:5432/sealtip";
        let error = check_storage(Zeroizing::new(url.into()), None)
            .err()
            .unwrap_or_else(|| panic!("postgres storage accepted"));
        let message = format!("{error:#}");
        assert!(message.contains("built without PostgreSQL"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn a_relay_built_without_sqlite_says_so() {
        let error = check_storage(Zeroizing::new("sqlite://data/relay.db".into()), None)
            .err()
            .unwrap_or_else(|| panic!("sqlite storage accepted"));
        let message = format!("{error:#}");
        assert!(message.contains("built without SQLite"), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}
