//! Storage behind one trait, so the server is generic over its backend.
//!
//! A backend keeps sealed blobs and a little metadata per blob: the agency,
//! the kind (tip, message, or reply with its mailbox), the size, and the hour
//! it arrived. It also remembers which proof-of-work tags were spent.
//!
//! The contract every backend keeps:
//! - [`Store::commit`] returns only once the blob and its metadata are
//!   durable; after a crash at any moment, an item is either listed whole or
//!   not listed at all.
//! - An upload that is dropped before `commit` leaves nothing behind (or
//!   leftovers that the backend removes when it next opens).
//! - Ids are 128 random bits, never derived from time or order.
//!
//! Upload sessions (an inbox item received in parts, over several requests):
//! - [`Store::open_session`] makes the session durable with its spent tag;
//! - [`Store::begin_part`] starts the next part, only at the offset the
//!   session holds and only if no other part or commit of this relay holds
//!   it; the part is counted when [`Store::append`] returns (durable), and
//!   dropping it instead leaves the session exactly as it was;
//! - a part being received holds no shared resource (no pooled database
//!   connection, no row lock), however slowly its bytes arrive: it may wait
//!   in memory until `append` (PostgreSQL) or go to slots of the chunk
//!   file that only this part writes (SQLite). So `append` checks the offset again, in the same step
//!   that stores the part: a part stored meanwhile through another relay
//!   sharing the storage makes it [`StoreError::Conflict`];
//! - after a crash at any moment a session holds exactly the appended parts,
//!   or is gone; nothing of it is listed before [`Store::commit_session`],
//!   which makes it an item as [`Store::commit`] does and ends the session;
//! - a session past its expiry is unknown, and
//!   [`Store::remove_expired_sessions`] removes it with its bytes.
//!
//! Replies (items in a mailbox):
//! - a mailbox has no record of its own: it is the `mailbox` column of its
//!   replies, so deleting its last reply leaves nothing of it;
//! - [`Store::delete_reply`] deletes one reply, and
//!   [`Store::remove_replies_before`] every reply older than the relay's
//!   retention, each with its bytes.
//!
//! Retention (an agency's `retention_days`):
//! - [`Store::remove_agency_items_before`] deletes every item of one agency
//!   (inbox items of any kind, and replies) received before an hour, each
//!   with its bytes; other agencies are untouched and the inbox count
//!   follows.
//!
//! Capacity (counted before a proof of work is spent):
//! - [`Store::usage`] tells items, replies, bytes and open sessions per
//!   agency, counts only;
//! - [`Store::empty_sessions`] and [`Store::drop_empty_session`] let the
//!   relay end sessions that received nothing within minutes, though the
//!   store keeps expiries on the hour.

#[cfg(feature = "postgres")]
pub mod postgres;
mod session_hold;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "sealtip-relay needs a storage backend: build it with the feature sqlite, postgres or both"
);

use std::future::Future;

use sealtip_api::ItemKind;
use tokio::io::AsyncRead;

/// Where an item lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The agency's inbox: a tip, a follow-up message or a case item.
    Inbox(ItemKind),
    /// A mailbox: the agency's reply to a tipster.
    Mailbox(String),
}

impl Place {
    /// The `kind` column backends store: `tip`, `message`, `case` or `reply`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Place::Inbox(kind) => kind.as_str(),
            Place::Mailbox(_) => "reply",
        }
    }

    /// The mailbox column backends store (replies only).
    pub fn mailbox(&self) -> Option<&str> {
        match self {
            Place::Mailbox(mailbox) => Some(mailbox),
            Place::Inbox(_) => None,
        }
    }

    /// The place of a stored `kind` and `mailbox` column pair.
    pub fn from_columns(kind: &str, mailbox: Option<String>) -> Place {
        match (kind, mailbox) {
            ("message", _) => Place::Inbox(ItemKind::Message),
            ("case", _) => Place::Inbox(ItemKind::Case),
            ("reply", Some(mailbox)) => Place::Mailbox(mailbox),
            _ => Place::Inbox(ItemKind::Tip),
        }
    }

    /// The inbox kind of a stored `kind` column (`tip` or `message`).
    pub fn inbox_kind(kind: &str) -> ItemKind {
        match Place::from_columns(kind, None) {
            Place::Inbox(kind) => kind,
            Place::Mailbox(_) => ItemKind::Tip,
        }
    }

    /// Whether an item stored at `stored` opens when asked for at `self`: any
    /// inbox kind for an inbox, the same mailbox for a mailbox.
    pub fn admits(&self, stored: &Place) -> bool {
        match (self, stored) {
            (Place::Inbox(_), Place::Inbox(_)) => true,
            (Place::Mailbox(wanted), Place::Mailbox(stored)) => wanted == stored,
            _ => false,
        }
    }
}

/// An item's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMeta {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Where it lives.
    pub place: Place,
    /// Bytes.
    pub size: u64,
    /// The hour it arrived, Unix seconds (a multiple of 3600).
    pub received: u64,
}

/// A spent proof-of-work tag and when its challenge expires (after which it
/// need not be remembered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpentTag {
    /// The challenge's random tag.
    pub tag: [u8; 16],
    /// The challenge's expiry, Unix seconds.
    pub expires: u64,
}

impl SpentTag {
    /// The expiry backends store: rounded up to the hour, so that it does not
    /// tell when the proof was spent.
    pub fn stored_expiry(&self) -> u64 {
        crate::time::floor_hour(self.expires) + crate::time::HOUR
    }
}

/// Why storage refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The agency's inbox or the mailbox holds as many items as allowed.
    #[error("full")]
    Full,
    /// As many upload sessions are open as allowed.
    #[error("too many sessions")]
    TooManySessions,
    /// The upload session holds this many bytes, which is not where the
    /// request starts, or another request is writing to it.
    #[error("conflict at {0} bytes")]
    Conflict(u64),
    /// The disk or database failed; the message is for the operator's log only.
    #[error("storage failed: {0}")]
    Failed(String),
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Failed(e.to_string())
    }
}

/// An upload session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The agency whose inbox it goes to.
    pub agency: String,
    /// What it becomes.
    pub kind: ItemKind,
    /// Bytes durably received.
    pub received: u64,
    /// The length of the age header the first part began with, once received.
    pub header_len: Option<u64>,
}

/// What one agency holds: counts and bytes only, nothing per tip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgencyUsage {
    /// Items in its inbox (tips and messages).
    pub items: u64,
    /// Replies in its mailboxes.
    pub replies: u64,
    /// Bytes of its items, replies and unexpired upload sessions.
    pub bytes: u64,
    /// Unexpired upload sessions.
    pub open_sessions: u64,
}

/// What the store holds, per agency (agencies holding nothing are absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// By agency id.
    pub agencies: std::collections::HashMap<String, AgencyUsage>,
}

impl Usage {
    /// What agency `id` holds.
    pub fn of(&self, id: &str) -> AgencyUsage {
        self.agencies.get(id).copied().unwrap_or_default()
    }

    /// What every agency holds together.
    pub fn total(&self) -> AgencyUsage {
        self.agencies
            .values()
            .fold(AgencyUsage::default(), |sum, one| AgencyUsage {
                items: sum.items + one.items,
                replies: sum.replies + one.replies,
                bytes: sum.bytes + one.bytes,
                open_sessions: sum.open_sessions + one.open_sessions,
            })
    }

    /// Adds `bytes` of items, replies or sessions to agency `id`.
    pub fn add_bytes(&mut self, id: &str, bytes: u64) {
        let usage = self.agencies.entry(id.to_owned()).or_default();
        usage.bytes = usage.bytes.saturating_add(bytes);
    }
}

/// A blob being received: bytes go in order, then [`Store::commit`] or drop.
pub trait Upload: Send + 'static {
    /// Appends bytes.
    fn write(&mut self, bytes: &[u8]) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Bytes written so far.
    fn written(&self) -> u64;
}

/// The relay's storage.
pub trait Store: Clone + Send + Sync + 'static {
    /// A blob being received.
    type Upload: Upload;
    /// A stored blob being read.
    type Reader: AsyncRead + Send + Unpin + 'static;
    /// A part of an upload session being received: dropping it discards it.
    /// It holds no shared resource while its bytes arrive.
    type Part: Upload;
    /// Whether a [`Store::Part`] keeps its bytes in memory until
    /// [`Store::append`]; the relay then bounds the bytes of parts it
    /// receives at once (`limits.part_buffer_bytes`).
    const PARTS_IN_MEMORY: bool;

    /// Starts receiving a blob.
    fn begin(&self) -> impl Future<Output = Result<Self::Upload, StoreError>> + Send;

    /// Makes `upload` a durable item of `agency` at `place`, recording `spent`
    /// in the same step. Fails with [`StoreError::Full`] beyond `max_items`
    /// (counted per inbox, or per mailbox for replies).
    fn commit(
        &self,
        upload: Self::Upload,
        agency: &str,
        place: Place,
        spent: Option<SpentTag>,
        max_items: u64,
    ) -> impl Future<Output = Result<ItemMeta, StoreError>> + Send;

    /// How many items the agency's inbox holds.
    fn inbox_len(&self, agency: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The agency's inbox, oldest first.
    fn inbox(&self, agency: &str)
    -> impl Future<Output = Result<Vec<ItemMeta>, StoreError>> + Send;

    /// A mailbox's replies, oldest first.
    fn mailbox(
        &self,
        agency: &str,
        mailbox: &str,
    ) -> impl Future<Output = Result<Vec<ItemMeta>, StoreError>> + Send;

    /// Opens an item of `agency` for reading, if it exists at `place`
    /// (for inbox items, any inbox kind matches).
    fn open(
        &self,
        agency: &str,
        place: &Place,
        id: &str,
    ) -> impl Future<Output = Result<Option<(ItemMeta, Self::Reader)>, StoreError>> + Send;

    /// Deletes an inbox item; `false` if there was none.
    fn delete(
        &self,
        agency: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes reply `id` of `agency` if it is in `mailbox`; `false` if there
    /// was none. A mailbox is nothing but its replies: once its last reply
    /// is gone, nothing of it is stored.
    fn delete_reply(
        &self,
        agency: &str,
        mailbox: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every reply received before `cutoff` (Unix seconds), with its
    /// bytes, in every agency. Returns how many. Requests go on meanwhile.
    fn remove_replies_before(
        &self,
        cutoff: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes every item of `agency` (inbox items of any kind, and
    /// replies) received before `cutoff` (Unix seconds), with its bytes.
    /// Returns how many. Requests go on meanwhile.
    fn remove_agency_items_before(
        &self,
        agency: &str,
        cutoff: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Marks a proof-of-work tag as spent; `false` if it already was.
    /// The mark is durable once an item committed with it is.
    fn spend(&self, tag: SpentTag) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Opens an upload session for an inbox item of `kind` in `agency`,
    /// durable with `spent`, living until `expires` (Unix seconds, a multiple
    /// of 3600). Returns its id. Fails with [`StoreError::TooManySessions`]
    /// when `max_open` unexpired sessions exist.
    fn open_session(
        &self,
        agency: &str,
        kind: ItemKind,
        spent: SpentTag,
        expires: u64,
        max_open: u64,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The session `id`, unless unknown or expired.
    fn session(&self, id: &str)
    -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;

    /// Starts the next part of session `id` at byte `offset`. `None` if the
    /// session is unknown or expired; [`StoreError::Conflict`] if `offset` is
    /// not what it holds or another part or commit holds it.
    fn begin_part(
        &self,
        id: &str,
        offset: u64,
    ) -> impl Future<Output = Result<Option<Self::Part>, StoreError>> + Send;

    /// Makes `part` durable and counts it, records `header_len` if the part
    /// began the file, and moves the session's expiry to `expires`, in one
    /// short step. Returns the bytes the session now holds; `None` if the
    /// session ended meanwhile; [`StoreError::Conflict`] if it no longer
    /// holds the bytes the part starts at, or another relay is writing to it.
    fn append(
        &self,
        part: Self::Part,
        header_len: Option<u64>,
        expires: u64,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// Makes session `id` a durable inbox item, as [`Store::commit`] does,
    /// and ends the session. `None` if unknown or expired;
    /// [`StoreError::Conflict`] if it no longer holds `received` bytes or a
    /// part is being written; [`StoreError::Full`] (the session stays)
    /// beyond `max_items`.
    fn commit_session(
        &self,
        id: &str,
        received: u64,
        max_items: u64,
    ) -> impl Future<Output = Result<Option<ItemMeta>, StoreError>> + Send;

    /// Ends session `id` and removes its bytes; `false` if unknown or expired.
    /// [`StoreError::Conflict`] while a part is being written.
    fn drop_session(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes sessions past their expiry, with their bytes (not one a part
    /// is being written to). Returns how many.
    fn remove_expired_sessions(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// What every agency holds: items, replies, bytes, open sessions.
    fn usage(&self) -> impl Future<Output = Result<Usage, StoreError>> + Send;

    /// The ids of unexpired sessions that hold no byte yet.
    fn empty_sessions(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Ends session `id` if it still holds no byte and no part is being
    /// written to it; `true` if it did.
    fn drop_empty_session(&self, id: &str)
    -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A fresh random id: 128 bits as 32 lowercase hex digits.
pub fn random_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Failed(format!("random generator: {e}")))?;
    Ok(hex::encode(bytes))
}
