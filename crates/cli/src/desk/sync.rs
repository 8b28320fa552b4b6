//! Talking to the relay, on the desk's own schedule.
//!
//! A hostile relay sees when each request comes. So opening a tip never
//! fetches anything: the desk exchanges with the relay in rounds (at start,
//! then every few minutes at random, or when the officer asks to check now),
//! and each round does the same for every thread: list the inbox, download
//! what is new, then check every known mailbox, in random order, posting the
//! replies queued for it. A mailbox first seen in a round is checked from
//! the next round on, so checking it never follows its tip's download.
//!
//! Case items (an officer's change to a thread's case state) are posted in
//! the round too, right after the inbox listing: they go to the agency's
//! inbox, not to a mailbox, so they name no thread to the relay.
//!
//! Deleting is the one thing done at once: it names only the item deleted.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sealtip_api::{ItemKind, is_valid_id};
use zeroize::Zeroizing;

use super::Desk;
use super::open::{Failure, open_tip_only};
use super::state::{Item, Keys, Origin, Round, Sealed};
use crate::files::AtomicFile;
use crate::received::{Received, ReceivedOrder};
use crate::relay_client::{RelayClient, Upload, is_unreachable, status_of};
use sealtip_envelope::OpenedTip;

/// The shortest and longest wait between two rounds, in seconds.
const WAIT_SECONDS: (u64, u64) = (120, 420);

/// Rounds until the desk is locked: one now, then one after each wait.
pub async fn rounds(desk: Arc<Desk>) {
    loop {
        desk.round().await;
        let wait =
            Duration::from_secs(random_below(WAIT_SECONDS.1 - WAIT_SECONDS.0) + WAIT_SECONDS.0);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = desk.wake.notified() => {}
        }
        if desk.state().locked() {
            return;
        }
    }
}

impl Desk {
    /// One round with the relay (none without `--relay`, or once locked);
    /// rounds never overlap.
    pub async fn round(self: &Arc<Self>) {
        let _one_at_a_time = self.rounds.lock().await;
        if self.relay.is_none() || self.state().locked() {
            return;
        }
        let desk = self.clone();
        let _ = tokio::task::spawn_blocking(move || desk.round_now()).await;
    }

    fn round_now(&self) {
        let (keys, mailboxes) = {
            let mut state = self.state();
            let Some(keys) = state.keys.clone() else {
                return;
            };
            state.round = Round::Running;
            (keys, state.mailboxes.clone())
        };
        let result = self.exchange(&keys, mailboxes);
        drop(keys);
        let mut state = self.state();
        if state.locked() {
            return;
        }
        state.round = match result {
            Ok(()) => Round::Done(crate::time::now_rfc3339()),
            Err(error) => {
                let (key, detail) = failure(&error);
                Round::Failed(key, detail)
            }
        };
        // Mailboxes learned in this round are checked from the next one on.
        state.mailboxes = state.verified_mailboxes();
    }

    /// The round itself: inbox, then every mailbox.
    fn exchange(&self, keys: &Keys, mailboxes: BTreeSet<String>) -> Result<()> {
        let Some(url) = &self.relay else {
            return Ok(());
        };
        let Some(token) = keys.token.as_ref() else {
            return Ok(());
        };
        let relay = RelayClient::new(url)?;
        let inbox = relay.inbox(&self.agency, token)?;
        self.state().retention_days = inbox.retention_days;
        for listed in inbox.items {
            if !is_valid_id(&listed.id) {
                continue;
            }
            {
                let mut state = self.state();
                if state.locked() {
                    return Ok(());
                }
                if let Some(item) = state.items.get_mut(&listed.id) {
                    item.received = listed.received.clone();
                    continue;
                }
            }
            let name = format!("{}-{}.age", listed.kind.as_str(), listed.id);
            let sealed = self.keep(&name, |out| {
                relay.download(&self.agency, token, &listed.id, out, &mut |_| {})?;
                Ok(())
            })?;
            let opened = as_listed(open_sealed(&sealed, keys), listed.kind.as_str());
            self.remember_order(&listed.id, listed.kind.as_str(), &listed.received)?;
            self.state().add(Item {
                id: listed.id,
                origin: Origin::Inbox(listed.kind, listed.size),
                received: listed.received,
                order: 0,
                sealed,
                opened,
            });
        }

        self.post_cases(&relay, token)?;

        let queued = self.state().queued_replies();
        let mut order: Vec<String> = mailboxes
            .into_iter()
            .chain(queued.iter().map(|(_, mailbox, _)| mailbox.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        shuffle(&mut order);
        for mailbox in &order {
            for (queued_id, _, sealed) in queued.iter().filter(|(_, m, _)| m == mailbox) {
                let upload = Upload::Reply { mailbox, token };
                let (id, _, kept) = self.post(&relay, upload, sealed, "reply")?;
                self.state().posted(queued_id, &id, kept);
            }
            let listing = match relay.mailbox(&self.agency, mailbox) {
                Ok(listing) => listing,
                // No reply was ever posted there.
                Err(error) if status_of(&error) == Some(404) => continue,
                Err(error) => return Err(error),
            };
            for reply in listing.replies {
                if !is_valid_id(&reply.id) {
                    continue;
                }
                {
                    let mut state = self.state();
                    if state.locked() {
                        return Ok(());
                    }
                    if let Some(item) = state.items.get_mut(&reply.id) {
                        item.received = reply.received.clone();
                        continue;
                    }
                }
                let sealed = self.keep(&format!("reply-{}.age", reply.id), |out| {
                    out.write_all(&relay.reply(&self.agency, mailbox, &reply.id)?)?;
                    Ok(())
                })?;
                let opened = open_sealed(&sealed, keys);
                self.remember_order(&reply.id, "reply", &reply.received)?;
                self.state().add(Item {
                    id: reply.id,
                    origin: Origin::Reply,
                    received: reply.received,
                    order: 0,
                    sealed,
                    opened,
                });
            }
        }
        Ok(())
    }

    /// Posts the queued case items; each posted one is kept (in the
    /// `--inbox` folder as `case-<id>.age`) like a pulled one.
    fn post_cases(&self, relay: &RelayClient, token: &str) -> Result<()> {
        // The list first: the state's lock is not held while posting.
        let queued = self.state().queued_cases();
        for (queued_id, sealed) in queued {
            let upload = Upload::Case { token };
            let (id, size, kept) = self.post(relay, upload, &sealed, "case")?;
            self.state().posted_case(&queued_id, &id, size, kept);
        }
        Ok(())
    }

    /// Posts `sealed` as `upload` and keeps it as `<kind>-<id>.age`, as
    /// pulled items are kept; its id, size and kept copy.
    fn post(
        &self,
        relay: &RelayClient,
        upload: Upload<'_>,
        sealed: &Sealed,
        kind: &str,
    ) -> Result<(String, u64, Sealed)> {
        let mut bytes = Zeroizing::new(Vec::new());
        sealed.reader()?.read_to_end(&mut bytes)?;
        let size = bytes.len() as u64;
        let id = relay.upload(&self.agency, upload, &mut bytes.as_slice(), size)?;
        let kept = self.keep(&format!("{kind}-{id}.age"), |out| {
            out.write_all(&bytes)?;
            Ok(())
        })?;
        self.remember_order(&id, kind, "")?;
        Ok((id, size, kept))
    }

    /// Appends an item kept in the `--inbox` folder to its
    /// `relay-order.json`, as `sealtip pull` does, so `sealtip thread` and a
    /// later desk order it as the relay received it.
    fn remember_order(&self, id: &str, kind: &str, received: &str) -> Result<()> {
        let Some(dir) = &self.inbox_dir else {
            return Ok(());
        };
        let mut order = ReceivedOrder::load(dir)?;
        order.push(Received {
            id: id.to_string(),
            kind: kind.to_string(),
            received: received.to_string(),
        });
        order.save()
    }

    /// Keeps what `write` writes: as `name` in the `--inbox` folder (written
    /// whole, then renamed), else in memory.
    fn keep(
        &self,
        name: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
    ) -> Result<Sealed> {
        match &self.inbox_dir {
            Some(dir) => {
                let path = dir.join(name);
                let mut file = AtomicFile::create(&path)?;
                write(file.file())?;
                file.commit()?;
                Ok(Sealed::File(path))
            }
            None => {
                let mut bytes = Zeroizing::new(Vec::new());
                write(&mut *bytes)?;
                Ok(Sealed::Memory(Arc::new(bytes)))
            }
        }
    }

    /// Deletes inbox item `id`: on the relay (if the desk has one), and its
    /// file in the `--inbox` folder (if there).
    pub async fn delete(self: &Arc<Self>, id: String) -> Result<(), Failure> {
        let desk = self.clone();
        let deleted = tokio::task::spawn_blocking(move || desk.delete_now(&id)).await;
        deleted.unwrap_or_else(|error| Err(("desk-relay-error", error.to_string())))
    }

    fn delete_now(&self, id: &str) -> Result<(), Failure> {
        let (keys, sealed) = {
            let state = self.state();
            let keys = state.keys.clone().ok_or(("desk-locked", String::new()))?;
            let item = state
                .items
                .get(id)
                .ok_or(("desk-no-such-item", String::new()))?;
            (keys, item.sealed.clone())
        };
        if let (Some(url), Some(token)) = (&self.relay, keys.token.as_ref()) {
            let relay = RelayClient::new(url).map_err(|error| failure(&error))?;
            match relay.delete(&self.agency, token, id) {
                Ok(()) => {}
                // Gone already (another officer).
                Err(error) if status_of(&error) == Some(404) => {}
                Err(error) => return Err(failure(&error)),
            }
        }
        if let Sealed::File(path) = &sealed {
            std::fs::remove_file(path)
                .map_err(|error| ("desk-delete-file-failed", error.to_string()))?;
        }
        self.state().items.remove(id);
        Ok(())
    }
}

/// Opens a kept item with the desk's keys.
pub(super) fn open_sealed(sealed: &Sealed, keys: &Keys) -> Result<OpenedTip, Failure> {
    let reader = sealed
        .reader()
        .map_err(|error| ("desk-corrupt", error.to_string()))?;
    open_tip_only(reader, &keys.identities)
}

/// The relay lists each item with its kind; an item sealed as another kind
/// (a follow-up listed as a tip, a "reply" in the inbox) is refused.
fn as_listed(opened: Result<OpenedTip, Failure>, listed: &str) -> Result<OpenedTip, Failure> {
    let opened = opened?;
    match crate::received::kind_mismatch(listed, opened.tip.kind) {
        Some(why) => Err(("desk-corrupt", why)),
        None => Ok(opened),
    }
}

/// Every item of the `--inbox` folder (`tip-<id>.age`, `message-<id>.age`,
/// `case-<id>.age`, as `sealtip pull` writes them, and `reply-<id>.age`),
/// opened.
pub fn load_folder(dir: &Path, keys: &Keys) -> Result<Vec<Item>> {
    let order = ReceivedOrder::load(dir)?;
    let mut items = Vec::new();
    let listing =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in listing {
        let path: PathBuf = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((kind, id)) = name
            .strip_suffix(".age")
            .and_then(|stem| stem.split_once('-'))
        else {
            continue;
        };
        let origin = match kind {
            "tip" => Origin::Inbox(ItemKind::Tip, 0),
            "message" => Origin::Inbox(ItemKind::Message, 0),
            "case" => Origin::Inbox(ItemKind::Case, 0),
            "reply" => Origin::Reply,
            _ => continue,
        };
        if !is_valid_id(id) {
            continue;
        }
        let metadata = std::fs::metadata(&path)?;
        let origin = match origin {
            Origin::Inbox(kind, _) => Origin::Inbox(kind, metadata.len()),
            other => other,
        };
        let sealed = Sealed::File(path.clone());
        let opened = as_listed(open_sealed(&sealed, keys), kind);
        let written = metadata.modified().unwrap_or(std::time::UNIX_EPOCH);
        items.push((
            written,
            Item {
                id: id.to_string(),
                origin,
                received: hour_of(&metadata),
                order: 0,
                sealed,
                opened,
            },
        ));
    }
    // In the relay's order (relay-order.json), then as they were written.
    let place = |item: &Item| order.position(&item.id).unwrap_or(usize::MAX);
    items.sort_by(|a, b| (place(&a.1), a.0, &a.1.id).cmp(&(place(&b.1), b.0, &b.1.id)));
    Ok(items.into_iter().map(|(_, item)| item).collect())
}

/// When a file was written, at hour precision, as the relay writes times.
fn hour_of(metadata: &std::fs::Metadata) -> String {
    let secs = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    sealtip_api::time::rfc3339(secs - secs % 3600)
}

/// A failed exchange as a message key and its detail.
fn failure(error: &anyhow::Error) -> Failure {
    if is_unreachable(error) {
        return ("desk-relay-down", String::new());
    }
    match status_of(error) {
        Some(401 | 403) => ("desk-token-refused", String::new()),
        _ => {
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            ("desk-relay-error", chain.join(": "))
        }
    }
}

/// A random number below `bound` (from the system's generator; 0 if it fails).
fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() || bound == 0 {
        return 0;
    }
    u64::from_le_bytes(bytes) % bound
}

/// Shuffles `items` (Fisher–Yates).
fn shuffle<T>(items: &mut [T]) {
    for last in (1..items.len()).rev() {
        let other = random_below(last as u64 + 1) as usize;
        items.swap(last, other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffle_keeps_every_item() {
        let mut items: Vec<u32> = (0..50).collect();
        shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert!(random_below(10) < 10 && random_below(0) == 0);
    }

    #[test]
    fn an_item_sealed_as_another_kind_than_the_relay_lists_is_refused() {
        use sealtip_envelope::{Kind, Tip};
        let opened = |kind| {
            Ok(OpenedTip {
                tip: Tip::new(kind, "demo", "2026-12-07"),
                json: Vec::new(),
                mac: None,
                text: None,
            })
        };
        assert!(as_listed(opened(Kind::Tip), "tip").is_ok());
        assert!(as_listed(opened(Kind::Message), "message").is_ok());
        let Err((key, detail)) = as_listed(opened(Kind::Tip), "message") else {
            panic!("a tip listed as a message was taken");
        };
        assert_eq!(key, "desk-corrupt");
        assert!(detail.contains("lists it as a message"), "{detail}");
        assert!(as_listed(opened(Kind::Reply), "tip").is_err());
    }
}
