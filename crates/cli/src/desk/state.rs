//! What the desk holds while it runs: the officer's keys and token, the items
//! it knows (sealed, with what each says), the replies waiting for the next
//! round, and how the last round went.
//!
//! Keys, token and sealed bytes are in memory only and zeroized when
//! dropped; locking drops them all at once ([`State::lock`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::case_state::case_item_id;
use crate::threads::{Thread, threads};
use sealtip_api::{CASE_ITEM_MAX_BYTES, ItemKind};
use sealtip_envelope::Identity;
use sealtip_envelope::{OpenedTip, Tip};
use zeroize::Zeroizing;

use super::open::{Failure, ReplyTarget};

/// The officer's identities and the inbox token (none when offline).
/// Zeroized when the last reference goes.
pub struct Keys {
    /// The identities of `-i`.
    pub identities: Vec<Identity>,
    /// The inbox token of `--token-file`.
    pub token: Option<Zeroizing<String>>,
}

/// Where an item's sealed bytes are.
#[derive(Clone)]
pub enum Sealed {
    /// Downloaded into memory (no `--inbox`, or a queued reply).
    Memory(Arc<Zeroizing<Vec<u8>>>),
    /// A file in the `--inbox` folder.
    File(PathBuf),
}

impl Sealed {
    /// A reader over the sealed bytes.
    pub fn reader(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Sealed::Memory(bytes) => Box::new(std::io::Cursor::new(MemoryBytes(bytes.clone()))),
            Sealed::File(path) => Box::new(std::io::BufReader::new(std::fs::File::open(path)?)),
        })
    }
}

/// Shared sealed bytes as a slice for a cursor.
struct MemoryBytes(Arc<Zeroizing<Vec<u8>>>);

impl AsRef<[u8]> for MemoryBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// Where an item came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The agency's inbox: a tip or a tipster's follow-up, and its size.
    Inbox(ItemKind, u64),
    /// A reply in a tipster's mailbox (ours or another officer's).
    Reply,
    /// Our reply, sealed and waiting for the next round to be posted.
    Queued,
    /// Our case item (a change to a thread's case state), sealed and
    /// waiting for the next round to be posted.
    QueuedCase,
}

impl Origin {
    /// Whether it is a case item (posted, or queued): case state, never a
    /// row of the inbox or an entry of a thread.
    pub fn is_case(&self) -> bool {
        matches!(self, Origin::Inbox(ItemKind::Case, _) | Origin::QueuedCase)
    }
}

/// A tip, follow-up or reply the desk knows.
pub struct Item {
    /// Its id on the relay (`queued-N` until a queued reply is posted).
    pub id: String,
    /// Where it came from.
    pub origin: Origin,
    /// When the relay received it (RFC 3339, hour precision), or when the
    /// file was written, for items known only from `--inbox`.
    pub received: String,
    /// Its place in the order the desk learned of items (the relay's
    /// listing order; set by [`State::add`]): the order within an hour.
    pub order: u64,
    /// Its sealed bytes.
    pub sealed: Sealed,
    /// What it says, or why it does not open.
    pub opened: Result<OpenedTip, Failure>,
}

impl Item {
    /// What it says, when it opened.
    pub fn tip(&self) -> Option<&Tip> {
        self.opened.as_ref().ok().map(|opened| &opened.tip)
    }

    /// When it arrived: the relay's hour, then the order the desk learned of
    /// it (the relay's listing order).
    pub fn arrival(&self) -> (String, u64) {
        (self.received.clone(), self.order)
    }
}

/// How the last round with the relay went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Round {
    /// None yet.
    #[default]
    NotYet,
    /// Under way.
    Running,
    /// Done at this time (RFC 3339, UTC).
    Done(String),
    /// Failed: a message key and its detail.
    Failed(&'static str, String),
}

/// Everything the desk holds.
#[derive(Default)]
pub struct State {
    /// Keys and token; `None` once locked.
    pub keys: Option<Arc<Keys>>,
    /// Every known item, by id.
    pub items: BTreeMap<String, Item>,
    /// Mailboxes the next round checks (learned in an earlier round, so that
    /// checking one never follows the download of its tip).
    pub mailboxes: BTreeSet<String>,
    /// The last round.
    pub round: Round,
    /// Numbers queued replies.
    pub queued: u64,
    /// The next [`Item::order`].
    pub next_order: u64,
    /// Days the relay keeps the agency's items (its last inbox answer).
    pub retention_days: Option<u64>,
    /// The [`Item::order`] of the last item known when the officer last
    /// looked at the inbox: later ones are new.
    pub looked: u64,
    /// Each case item's case item id (the SHA-256 of its sealed file), by
    /// its item id: hashed once, when it is added, not at every page.
    /// Missing for one too large to be a case item.
    pub case_ids: BTreeMap<String, String>,
}

impl State {
    /// Whether the desk is locked.
    pub fn locked(&self) -> bool {
        self.keys.is_none()
    }

    /// Inbox items the officer has not seen listed yet (see [`State::looked`]).
    pub fn new_since_looked(&self) -> usize {
        self.inbox()
            .iter()
            .filter(|item| item.order > self.looked)
            .count()
    }

    /// The officer looked at the inbox: what it lists is no longer new.
    pub fn look(&mut self) {
        self.looked = self.next_order;
    }

    /// Forgets keys, token, items and queued replies (each zeroized as it
    /// drops; a round under way drops its copy of the keys when it ends).
    pub fn lock(&mut self) {
        *self = State::default();
    }

    /// Adds an item, unless one with its id is there or the desk is locked
    /// (a round that was under way when the officer locked keeps nothing).
    pub fn add(&mut self, mut item: Item) {
        if self.locked() || self.items.contains_key(&item.id) {
            return;
        }
        self.next_order += 1;
        item.order = self.next_order;
        if item.origin.is_case()
            && let Some(id) = case_item_id_of(&item.sealed)
        {
            self.case_ids.insert(item.id.clone(), id);
        }
        self.items.insert(item.id.clone(), item);
    }

    /// Queues `reply` (sealed in `sealed`) for the next round; returns its
    /// temporary id.
    pub fn queue_reply(
        &mut self,
        sealed: Zeroizing<Vec<u8>>,
        reply: OpenedTip,
        received: String,
    ) -> String {
        self.queued += 1;
        let id = format!("queued-{}", self.queued);
        self.add(Item {
            id: id.clone(),
            origin: Origin::Queued,
            received,
            order: 0,
            sealed: Sealed::Memory(Arc::new(sealed)),
            opened: Ok(reply),
        });
        id
    }

    /// Queues a case item (sealed in `sealed`) for the next round.
    pub fn queue_case(&mut self, sealed: Zeroizing<Vec<u8>>, case: OpenedTip, written: String) {
        self.queued += 1;
        self.add(Item {
            id: format!("queued-{}", self.queued),
            origin: Origin::QueuedCase,
            received: written,
            order: 0,
            sealed: Sealed::Memory(Arc::new(sealed)),
            opened: Ok(case),
        });
    }

    /// The queued case items: id and sealed bytes.
    pub fn queued_cases(&self) -> Vec<(String, Sealed)> {
        self.items
            .values()
            .filter(|item| item.origin == Origin::QueuedCase)
            .map(|item| (item.id.clone(), item.sealed.clone()))
            .collect()
    }

    /// A queued case item was posted and got `id`, `size` bytes.
    pub fn posted_case(&mut self, queued: &str, id: &str, size: u64, sealed: Sealed) {
        if let Some(case_id) = self.case_ids.remove(queued) {
            self.case_ids.insert(id.to_string(), case_id);
        }
        if let Some(mut item) = self.items.remove(queued) {
            item.id = id.to_string();
            item.origin = Origin::Inbox(ItemKind::Case, size);
            item.sealed = sealed;
            self.items.insert(id.to_string(), item);
        }
    }

    /// The queued replies: id, mailbox and sealed bytes.
    pub fn queued_replies(&self) -> Vec<(String, String, Sealed)> {
        self.items
            .values()
            .filter(|item| item.origin == Origin::Queued)
            .filter_map(|item| {
                let mailbox = item.tip()?.claimed_mailbox()?.to_string();
                Some((item.id.clone(), mailbox, item.sealed.clone()))
            })
            .collect()
    }

    /// A queued reply was posted and got `id`.
    pub fn posted(&mut self, queued: &str, id: &str, sealed: Sealed) {
        if let Some(mut item) = self.items.remove(queued) {
            item.id = id.to_string();
            item.origin = Origin::Reply;
            item.sealed = sealed;
            self.items.insert(id.to_string(), item);
        }
    }

    /// Inbox items (tips and follow-ups; case items are case state),
    /// oldest first.
    pub fn inbox(&self) -> Vec<&Item> {
        let mut items: Vec<&Item> = self
            .items
            .values()
            .filter(|item| matches!(item.origin, Origin::Inbox(..)) && !item.origin.is_case())
            .collect();
        items.sort_by_key(|item| item.arrival());
        items
    }

    /// Every thread, in order: grouping and proofs are envelope's; items
    /// are ordered by when the relay received them. Case items are not in
    /// them: they are the threads' case state ([`super::case`]).
    pub fn threads(&self) -> Vec<Thread<(&Item, &OpenedTip)>> {
        let opened: Vec<(&Item, &OpenedTip)> = self
            .items
            .values()
            .filter(|item| !item.origin.is_case())
            .filter_map(|item| Some((item, item.opened.as_ref().ok()?)))
            .collect();
        threads(
            opened,
            |(_, opened)| opened.view(),
            |(item, _)| item.arrival(),
        )
    }

    /// The thread that holds item `id`.
    pub fn thread_of(&self, id: &str) -> Option<Thread<(&Item, &OpenedTip)>> {
        self.threads()
            .into_iter()
            .find(|thread| thread.items.iter().any(|entry| entry.item.0.id == id))
    }

    /// The mailboxes of verified threads: the ones a round checks (a forged
    /// item cannot make the desk ask for another mailbox).
    pub fn verified_mailboxes(&self) -> BTreeSet<String> {
        self.threads()
            .into_iter()
            .filter_map(|thread| thread.mailbox)
            .collect()
    }
}

/// Where a reply in `thread` goes, if it is a verified thread that offers
/// replies.
pub fn reply_target<T>(thread: &Thread<T>) -> Option<ReplyTarget> {
    match (&thread.mailbox, &thread.reply_to, &thread.key) {
        (Some(mailbox), Some(tipster), Some(key)) => Some(ReplyTarget {
            mailbox: mailbox.clone(),
            tipster: tipster.clone(),
            key: key.clone(),
        }),
        _ => None,
    }
}

/// The case item id of a case item's sealed file, if no larger than a case
/// item may be (a relay that lists a large file as a case item gets it
/// refused, not read into memory).
fn case_item_id_of(sealed: &Sealed) -> Option<String> {
    let mut bytes = Vec::new();
    sealed
        .reader()
        .ok()?
        .take(CASE_ITEM_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= CASE_ITEM_MAX_BYTES).then(|| case_item_id(&bytes))
}
