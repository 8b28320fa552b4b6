//! Threads: a tip with the follow-ups and replies proven to belong to it,
//! in the order the relay received them. Shared by `sealtip thread`,
//! `sealtip reply` and `sealtip desk`.
//!
//! An item joins a thread only with proof (schema 2, [`crate::proof`]):
//!
//! - a **tip** offering replies is verified when its mailbox id is the one
//!   its reply recipient and thread key give, and its `tip.mac` is that
//!   thread key's proof of its `tip.json`;
//! - a **follow-up** or a **reply** naming a mailbox is verified when its
//!   `tip.mac` is the proof under the thread key of a verified tip with that
//!   mailbox.
//!
//! Anything else that names a mailbox (a forgery, a damaged item, a
//! schema 1 item) is never merged into a verified thread and never gives a
//! thread its reply key: it is shown on its own (schema 1 items with one
//! mailbox together), marked unverified. A thread's replies go to the
//! recipient of its first verified tip. Dates inside items are the
//! sender's word and order nothing: items are ordered by when the relay
//! received them, as the caller knows it.

use std::collections::BTreeMap;

use crate::bundle::{Kind, Tip};
use crate::codename::ReplyKeys;
use crate::keys::{KeyKind, Recipient};
use crate::proof::ThreadKey;

/// What the thread rules read of one opened item.
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    /// Its `tip.json`, parsed.
    pub tip: &'a Tip,
    /// The exact bytes of its `tip.json`.
    pub json: &'a [u8],
    /// Its `tip.mac`, if it had one.
    pub mac: Option<&'a [u8; 32]>,
}

/// How an item stands in its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Proven to come from the codename holder, or sealed by the agency.
    Verified,
    /// Names a mailbox but fails the proof (or is schema 1): shown apart.
    Unverified,
    /// Names no thread (a tip without replies).
    Alone,
}

/// One item of a thread.
#[derive(Debug)]
pub struct ThreadItem<T> {
    /// The caller's item.
    pub item: T,
    /// How it stands.
    pub standing: Standing,
}

/// A thread: one verified conversation, or one item (or one schema 1
/// mailbox) standing apart.
#[derive(Debug)]
pub struct Thread<T> {
    /// The mailbox of a verified thread (where replies are posted).
    pub mailbox: Option<String>,
    /// Where replies are sealed to: the first verified tip's recipient.
    pub reply_to: Option<Recipient>,
    /// The thread key, to prove replies with.
    pub key: Option<ThreadKey>,
    /// Its items, in the order the relay received them.
    pub items: Vec<ThreadItem<T>>,
}

impl<T> Thread<T> {
    /// Whether replies can be sent in this thread: it is verified and
    /// offers a reply key.
    pub fn can_reply(&self) -> bool {
        self.mailbox.is_some() && self.reply_to.is_some() && self.key.is_some()
    }
}

/// The thread a verified tip opens: its mailbox, reply key and thread key.
fn verified_tip(view: &ItemView<'_>) -> Option<(String, Recipient, ThreadKey)> {
    let tip = view.tip;
    if tip.version < 2 || tip.kind != Kind::Tip {
        return None;
    }
    let reply = tip.reply.as_ref()?;
    let key = ThreadKey::from_hex(reply.thread_key.as_deref()?).ok()?;
    let recipient = Recipient::parse(&reply.recipient).ok()?;
    let proven = recipient.kind() == KeyKind::Hybrid
        && key.mailbox(&recipient) == reply.mailbox
        && view.mac.is_some_and(|mac| key.verifies(view.json, mac));
    proven.then(|| (reply.mailbox.clone(), recipient, key))
}

/// Groups items into threads, each in the order of `received` (when the
/// relay received the item: its place in the relay's listing). Threads are
/// ordered by their first item.
pub fn threads<T, K: Ord + Clone>(
    items: Vec<T>,
    view: impl Fn(&T) -> ItemView<'_>,
    received: impl Fn(&T) -> K,
) -> Vec<Thread<T>> {
    let mut items = items;
    items.sort_by_cached_key(|item| received(item));
    // Verified tips open threads; the first one received gives the reply key.
    let mut verified: BTreeMap<String, Thread<T>> = BTreeMap::new();
    let mut opened: Vec<Option<(String, Recipient, ThreadKey)>> =
        items.iter().map(|item| verified_tip(&view(item))).collect();
    let mut rest = Vec::new();
    for (item, tip) in items.into_iter().zip(opened.iter_mut()) {
        match tip.take() {
            Some((mailbox, recipient, key)) => {
                let thread = verified.entry(mailbox.clone()).or_insert_with(|| Thread {
                    mailbox: Some(mailbox),
                    reply_to: Some(recipient),
                    key: Some(key),
                    items: Vec::new(),
                });
                thread.items.push(ThreadItem {
                    item,
                    standing: Standing::Verified,
                });
            }
            None => rest.push(item),
        }
    }
    let mut legacy: BTreeMap<String, Vec<ThreadItem<T>>> = BTreeMap::new();
    let mut alone = Vec::new();
    for item in rest {
        let v = view(&item);
        let Some(mailbox) = v.tip.claimed_mailbox().map(str::to_string) else {
            alone.push(vec![ThreadItem {
                item,
                standing: Standing::Alone,
            }]);
            continue;
        };
        let proven = v.tip.version >= 2
            && v.tip.kind != Kind::Tip
            && verified.get(&mailbox).is_some_and(|thread| {
                thread
                    .key
                    .as_ref()
                    .is_some_and(|key| v.mac.is_some_and(|mac| key.verifies(v.json, mac)))
            });
        if proven {
            if let Some(thread) = verified.get_mut(&mailbox) {
                thread.items.push(ThreadItem {
                    item,
                    standing: Standing::Verified,
                });
            }
        } else if v.tip.version < 2 {
            legacy.entry(mailbox).or_default().push(ThreadItem {
                item,
                standing: Standing::Unverified,
            });
        } else {
            alone.push(vec![ThreadItem {
                item,
                standing: Standing::Unverified,
            }]);
        }
    }
    let apart = |items: Vec<ThreadItem<T>>| Thread {
        mailbox: None,
        reply_to: None,
        key: None,
        items,
    };
    let mut threads: Vec<Thread<T>> = verified
        .into_values()
        .chain(legacy.into_values().map(apart))
        .chain(alone.into_iter().map(apart))
        .collect();
    for thread in &mut threads {
        thread
            .items
            .sort_by_cached_key(|entry| received(&entry.item));
    }
    threads.sort_by_cached_key(|thread| thread.items.first().map(|entry| received(&entry.item)));
    threads
}

/// Whether `view` is an agency reply proven for the codename whose keys are
/// `keys`: what the tipster's page and `sealtip replies` check before they
/// show a reply as the agency's.
pub fn reply_is_proven(view: &ItemView<'_>, keys: &ReplyKeys) -> bool {
    view.tip.version >= 2
        && view.tip.kind == Kind::Reply
        && view.tip.thread.as_deref() == Some(keys.mailbox.as_str())
        && view
            .mac
            .is_some_and(|mac| keys.thread_key.verifies(view.json, mac))
}

/// The first line of `text`, at most 200 characters, with ` …` when cut.
pub fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let short: String = line.chars().take(200).collect();
    if short.len() < text.trim_end().len() {
        format!("{short} …")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bundle::ReplyTo;
    use crate::keys::Identity;

    struct Item {
        tip: Tip,
        json: Vec<u8>,
        mac: Option<[u8; 32]>,
        seq: u32,
    }

    fn item(tip: Tip, key: Option<&ThreadKey>, seq: u32) -> Item {
        let json = serde_json::to_vec(&tip).unwrap();
        let mac = key.map(|key| key.proof(&json));
        Item {
            tip,
            json,
            mac,
            seq,
        }
    }

    fn view(item: &Item) -> ItemView<'_> {
        ItemView {
            tip: &item.tip,
            json: &item.json,
            mac: item.mac.as_ref(),
        }
    }

    fn thread_of(seed: u8) -> (Recipient, ThreadKey, String) {
        let recipient = Identity::hybrid_from_seed([seed; 32]).recipient();
        let key = ThreadKey::from_bytes([seed; 32]);
        let mailbox = key.mailbox(&recipient);
        (recipient, key, mailbox)
    }

    fn tip(recipient: &Recipient, key: &ThreadKey, mailbox: &str, text: &str) -> Tip {
        let mut tip = Tip::new(Kind::Tip, "demo", "2026-12-06");
        tip.text = text.into();
        tip.reply = Some(ReplyTo {
            recipient: recipient.to_string(),
            mailbox: mailbox.into(),
            thread_key: Some(key.to_hex().to_string()),
        });
        tip
    }

    fn in_thread(kind: Kind, mailbox: &str, date: &str, text: &str) -> Tip {
        let mut tip = Tip::new(kind, "demo", date);
        tip.text = text.into();
        tip.thread = Some(mailbox.into());
        tip
    }

    #[test]
    fn proven_items_join_their_tip_in_relay_order() {
        let (recipient, key, mailbox) = thread_of(1);
        let items = vec![
            item(
                in_thread(Kind::Message, &mailbox, "2026-12-01", "more"),
                Some(&key),
                4,
            ),
            item(Tip::new(Kind::Tip, "demo", "2026-12-06"), None, 1),
            item(
                in_thread(Kind::Reply, &mailbox, "2026-12-09", "thanks"),
                Some(&key),
                3,
            ),
            item(tip(&recipient, &key, &mailbox, "first"), Some(&key), 2),
        ];
        let threads = threads(items, view, |item| item.seq);
        assert_eq!(threads.len(), 2);
        assert_eq!(threads[0].items[0].standing, Standing::Alone);
        let texts: Vec<&str> = threads[1]
            .items
            .iter()
            .map(|e| e.item.tip.text.as_str())
            .collect();
        assert_eq!(
            texts,
            vec!["first", "thanks", "more"],
            "relay order, not dates"
        );
        assert!(
            threads[1]
                .items
                .iter()
                .all(|e| e.standing == Standing::Verified)
        );
        assert_eq!(threads[1].reply_to.as_ref(), Some(&recipient));
        assert!(threads[1].can_reply());
    }

    #[test]
    fn a_forged_follow_up_with_the_victims_mailbox_stays_apart() {
        let (recipient, key, mailbox) = thread_of(1);
        // The forger knows the mailbox id (the relay sees it), seals to the
        // agency with its own reply key and thread key and an old date.
        let (forger, forger_key, _) = thread_of(9);
        let mut forged_tip = tip(&forger, &forger_key, &mailbox, "forged tip");
        forged_tip.date = "2020-01-01".into();
        let forged_message = in_thread(Kind::Message, &mailbox, "2020-01-01", "forged message");
        let items = vec![
            item(forged_tip, Some(&forger_key), 1),
            item(forged_message, Some(&forger_key), 2),
            item(tip(&recipient, &key, &mailbox, "real"), Some(&key), 3),
        ];
        let threads = threads(items, view, |item| item.seq);
        let real = threads.iter().find(|t| t.mailbox.is_some()).unwrap();
        assert_eq!(real.items.len(), 1);
        assert_eq!(real.items[0].item.tip.text, "real");
        assert_eq!(
            real.reply_to.as_ref(),
            Some(&recipient),
            "never the forger's key"
        );
        let apart: Vec<_> = threads.iter().filter(|t| t.mailbox.is_none()).collect();
        assert_eq!(apart.len(), 2);
        assert!(apart.iter().all(|t| !t.can_reply()));
        assert!(
            apart
                .iter()
                .all(|t| t.items[0].standing == Standing::Unverified)
        );
    }

    #[test]
    fn a_changed_item_or_a_missing_proof_is_unverified() {
        let (recipient, key, mailbox) = thread_of(1);
        let mut changed = item(
            in_thread(Kind::Message, &mailbox, "2026-12-06", "a"),
            Some(&key),
            2,
        );
        changed.json =
            serde_json::to_vec(&in_thread(Kind::Message, &mailbox, "2026-12-06", "b")).unwrap();
        let unproven = item(in_thread(Kind::Reply, &mailbox, "2026-12-06", "c"), None, 3);
        let items = vec![
            item(tip(&recipient, &key, &mailbox, "t"), Some(&key), 1),
            changed,
            unproven,
        ];
        let threads = threads(items, view, |item| item.seq);
        assert_eq!(threads[0].items.len(), 1);
        assert_eq!(threads.len(), 3);
    }

    #[test]
    fn schema_1_threads_are_grouped_but_unverified() {
        let mut old = Tip::new(Kind::Tip, "demo", "2026-11-29");
        old.version = 1;
        old.reply = Some(ReplyTo {
            recipient: Identity::generate_kind(KeyKind::X25519)
                .unwrap()
                .recipient()
                .to_string(),
            mailbox: "043ce1420b517b712bd8d3d45b7ebbe0".into(),
            thread_key: None,
        });
        let threads = threads(
            vec![item(old.clone(), None, 1), item(old, None, 2)],
            view,
            |i| i.seq,
        );
        assert_eq!(threads.len(), 1);
        assert_eq!(threads[0].items.len(), 2);
        assert!(!threads[0].can_reply());
        assert!(
            threads[0]
                .items
                .iter()
                .all(|e| e.standing == Standing::Unverified)
        );
    }

    #[test]
    fn first_lines_are_cut_with_a_mark() {
        assert_eq!(first_line("one\ntwo"), "one …");
        assert_eq!(first_line("one\n"), "one");
        assert_eq!(first_line(""), "");
    }
}
