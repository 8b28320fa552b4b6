//! An inbox grouped into threads, for `sealtip thread`, `sealtip reply` and
//! the desk. Which item belongs where is the format's rule
//! ([`sealtip_envelope::thread`]); this module only groups and orders.
//!
//! A verified tip opens a thread; follow-ups and replies proven with its key
//! join it. Anything else that names a mailbox is shown on its own, marked
//! unverified (schema 1 items with one mailbox together, as they were sent
//! before thread proofs). Items are in the order the relay received them, as
//! the caller knows it.

use std::collections::BTreeMap;

use sealtip_envelope::{
    ItemView, ThreadOpening, case_is_proven, is_proven_in_thread, opens_thread,
};
use sealtip_envelope::{Recipient, ThreadKey};

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

    fn opened_by(opening: ThreadOpening) -> Self {
        Thread {
            mailbox: Some(opening.mailbox),
            reply_to: Some(opening.reply_to),
            key: Some(opening.key),
            items: Vec::new(),
        }
    }

    fn apart(items: Vec<ThreadItem<T>>) -> Self {
        Thread {
            mailbox: None,
            reply_to: None,
            key: None,
            items,
        }
    }
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
    let mut rest = Vec::new();
    for item in items {
        match opens_thread(&view(&item)) {
            Some(opening) => verified
                .entry(opening.mailbox.clone())
                .or_insert_with(|| Thread::opened_by(opening))
                .items
                .push(ThreadItem {
                    item,
                    standing: Standing::Verified,
                }),
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
        let thread = verified.get_mut(&mailbox).filter(|thread| {
            thread
                .key
                .as_ref()
                .is_some_and(|key| is_proven_in_thread(&v, &mailbox, key))
        });
        if let Some(thread) = thread {
            thread.items.push(ThreadItem {
                item,
                standing: Standing::Verified,
            });
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
    let mut threads: Vec<Thread<T>> = verified
        .into_values()
        .chain(legacy.into_values().map(Thread::apart))
        .chain(alone.into_iter().map(Thread::apart))
        .collect();
    for thread in &mut threads {
        thread
            .items
            .sort_by_cached_key(|entry| received(&entry.item));
    }
    threads.sort_by_cached_key(|thread| thread.items.first().map(|entry| received(&entry.item)));
    threads
}

/// Case items sorted to their threads: `by_thread[i]` holds those proven in
/// `threads[i]`; `refused` those proven in none, never merged.
#[derive(Debug)]
pub struct CaseItems<T> {
    /// Per thread, in the order of the threads given.
    pub by_thread: Vec<Vec<T>>,
    /// Items that claim to be case items but are not proven in any thread.
    pub refused: Vec<T>,
}

/// Sorts `items` (each claiming to be a case item) into `threads`: an item
/// joins the verified thread whose mailbox it names when the relay listed
/// it as a case item (`listed_as_case`), it is sealed as one, and its
/// `tip.mac` is the thread's case proof (FORMAT.md §7). A tipster's
/// follow-up is listed as a message, so it never joins, whatever it says
/// inside; an item the relay made up has no proof.
pub fn case_items_of<T, U>(
    threads: &[Thread<U>],
    items: Vec<T>,
    view: impl Fn(&T) -> ItemView<'_>,
    listed_as_case: impl Fn(&T) -> bool,
) -> CaseItems<T> {
    let mut sorted = CaseItems {
        by_thread: threads.iter().map(|_| Vec::new()).collect(),
        refused: Vec::new(),
    };
    for item in items {
        let v = view(&item);
        let home = threads.iter().position(|thread| {
            let (Some(mailbox), Some(key)) = (&thread.mailbox, &thread.key) else {
                return false;
            };
            listed_as_case(&item) && case_is_proven(&v, mailbox, key)
        });
        match home {
            Some(i) => sorted.by_thread[i].push(item),
            None => sorted.refused.push(item),
        }
    }
    sorted
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
    use sealtip_envelope::{Identity, KeyKind};
    use sealtip_envelope::{Kind, ReplyTo, Tip};

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

    fn case_item(mailbox: &str, key: &ThreadKey, case_proof: bool, seq: u32) -> Item {
        let mut tip = in_thread(Kind::Case, mailbox, "2026-12-07", "");
        tip.case = Some(sealtip_envelope::CaseChange {
            officer: "Ana".into(),
            written: "2026-12-07T05:10:00Z".into(),
            note: Some("noted".into()),
            ..Default::default()
        });
        let json = serde_json::to_vec(&tip).unwrap();
        let mac = Some(if case_proof {
            key.case_proof(&json)
        } else {
            key.proof(&json)
        });
        Item {
            tip,
            json,
            mac,
            seq,
        }
    }

    #[test]
    fn a_case_item_joins_its_thread_only_listed_as_case_and_proven() {
        let (recipient, key, mailbox) = thread_of(1);
        let (_, other_key, other_mailbox) = thread_of(2);
        let grouped = threads(
            vec![item(tip(&recipient, &key, &mailbox, "t"), Some(&key), 1)],
            view,
            |i| i.seq,
        );
        let items = vec![
            case_item(&mailbox, &key, true, 10),
            // A follow-up's proof (what the thread's tipster could write).
            case_item(&mailbox, &key, false, 11),
            // Proven for another thread, or made up by the relay.
            case_item(&mailbox, &other_key, true, 12),
            case_item(&other_mailbox, &other_key, true, 13),
            // Proven, but the relay listed it as a message: not case state.
            case_item(&mailbox, &key, true, 14),
        ];
        let sorted = case_items_of(&grouped, items, view, |i| i.seq != 14);
        let joined: Vec<u32> = sorted.by_thread[0].iter().map(|i| i.seq).collect();
        assert_eq!(joined, [10]);
        let refused: Vec<u32> = sorted.refused.iter().map(|i| i.seq).collect();
        assert_eq!(refused, [11, 12, 13, 14]);
    }

    #[test]
    fn first_lines_are_cut_with_a_mark() {
        assert_eq!(first_line("one\ntwo"), "one …");
        assert_eq!(first_line("one\n"), "one");
        assert_eq!(first_line(""), "");
    }
}
