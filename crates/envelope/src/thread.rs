//! Threads: which items are proven to belong to a conversation. The rules
//! are the format's; grouping an inbox by them is the caller's (the CLI and
//! the desk share `sealtip`'s `threads` module).
//!
//! An item joins a thread only with proof (schema 2, [`crate::proof`]):
//!
//! - a **tip** offering replies opens a thread ([`opens_thread`]) when its
//!   mailbox id is the one its reply recipient and thread key give, and its
//!   `tip.mac` is that thread key's proof of its `tip.json`;
//! - a **follow-up** or a **reply** naming a mailbox belongs to it
//!   ([`is_proven_in_thread`]) when its `tip.mac` is the proof under that
//!   thread's key;
//! - a **case item** (the officers' case state) belongs to it
//!   ([`case_is_proven`]) when its `tip.mac` is the thread's case proof, a
//!   proof under a key of its own that no follow-up or reply carries.
//!
//! Anything else that names a mailbox (a forgery, a damaged item, a
//! schema 1 item) never joins a verified thread and never gives a thread
//! its reply key. A thread's replies go to the recipient of its first
//! verified tip. Dates inside items are the sender's word and order
//! nothing: items are ordered by when the relay received them.

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

/// The conversation a verified tip opens.
#[derive(Debug)]
pub struct ThreadOpening {
    /// Its mailbox id (where replies are posted).
    pub mailbox: String,
    /// Where replies are sealed to: the tip's hybrid reply key.
    pub reply_to: Recipient,
    /// The thread key, which proves every later item.
    pub key: ThreadKey,
}

/// The thread `view` opens, if it is a schema 2 tip offering a hybrid reply
/// key whose mailbox and `tip.mac` its own thread key proves.
pub fn opens_thread(view: &ItemView<'_>) -> Option<ThreadOpening> {
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
    proven.then(|| ThreadOpening {
        mailbox: reply.mailbox.clone(),
        reply_to: recipient,
        key,
    })
}

/// Whether `view` is a schema 2 follow-up or reply of the thread whose
/// mailbox is `mailbox`, proven with its key.
pub fn is_proven_in_thread(view: &ItemView<'_>, mailbox: &str, key: &ThreadKey) -> bool {
    view.tip.version >= 2
        && matches!(view.tip.kind, Kind::Message | Kind::Reply)
        && view.tip.thread.as_deref() == Some(mailbox)
        && view.mac.is_some_and(|mac| key.verifies(view.json, mac))
}

/// Whether `view` is a case item of the thread whose mailbox is `mailbox`,
/// proven with the thread's case key. The caller also checks that the relay
/// listed it as a case item: a tipster, who knows the thread key too, can
/// only send follow-ups, which the relay lists as messages.
pub fn case_is_proven(view: &ItemView<'_>, mailbox: &str, key: &ThreadKey) -> bool {
    view.tip.version >= 2
        && view.tip.kind == Kind::Case
        && view.tip.case.is_some()
        && view.tip.thread.as_deref() == Some(mailbox)
        && view
            .mac
            .is_some_and(|mac| key.verifies_case(view.json, mac))
}

/// Whether `view` is an agency reply proven for the codename whose keys are
/// `keys`: what the tipster's page and `sealtip replies` check before they
/// show a reply as the agency's.
pub fn reply_is_proven(view: &ItemView<'_>, keys: &ReplyKeys) -> bool {
    view.tip.kind == Kind::Reply && is_proven_in_thread(view, &keys.mailbox, &keys.thread_key)
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
    }

    fn item(tip: Tip, key: Option<&ThreadKey>) -> Item {
        let json = serde_json::to_vec(&tip).unwrap();
        let mac = key.map(|key| key.proof(&json));
        Item { tip, json, mac }
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

    fn tip(recipient: &Recipient, key: &ThreadKey, mailbox: &str) -> Tip {
        let mut tip = Tip::new(Kind::Tip, "demo", "2026-12-06");
        tip.reply = Some(ReplyTo {
            recipient: recipient.to_string(),
            mailbox: mailbox.into(),
            thread_key: Some(key.to_hex().to_string()),
        });
        tip
    }

    fn in_thread(kind: Kind, mailbox: &str, text: &str) -> Tip {
        let mut tip = Tip::new(kind, "demo", "2026-12-06");
        tip.text = text.into();
        tip.thread = Some(mailbox.into());
        tip
    }

    #[test]
    fn a_proven_tip_opens_its_thread_and_proven_items_belong_to_it() {
        let (recipient, key, mailbox) = thread_of(1);
        let opening = opens_thread(&view(&item(tip(&recipient, &key, &mailbox), Some(&key))));
        let opening = opening.unwrap();
        assert_eq!(opening.mailbox, mailbox);
        assert_eq!(opening.reply_to, recipient);
        for kind in [Kind::Message, Kind::Reply] {
            let proven = item(in_thread(kind, &mailbox, "more"), Some(&key));
            assert!(is_proven_in_thread(&view(&proven), &mailbox, &opening.key));
        }
    }

    #[test]
    fn a_forger_who_knows_the_mailbox_proves_nothing() {
        let (recipient, key, mailbox) = thread_of(1);
        // The forger knows the mailbox id (the relay sees it) and seals with
        // its own reply key and thread key.
        let (forger, forger_key, _) = thread_of(9);
        let forged_tip = item(tip(&forger, &forger_key, &mailbox), Some(&forger_key));
        assert!(
            opens_thread(&view(&forged_tip)).is_none(),
            "mailbox not the forger's"
        );
        let forged = item(
            in_thread(Kind::Message, &mailbox, "forged"),
            Some(&forger_key),
        );
        assert!(!is_proven_in_thread(&view(&forged), &mailbox, &key));
        let real = item(tip(&recipient, &key, &mailbox), Some(&key));
        assert!(opens_thread(&view(&real)).is_some());
    }

    #[test]
    fn a_changed_item_a_missing_proof_or_an_old_schema_proves_nothing() {
        let (recipient, key, mailbox) = thread_of(1);
        let mut changed = item(in_thread(Kind::Message, &mailbox, "a"), Some(&key));
        changed.json = serde_json::to_vec(&in_thread(Kind::Message, &mailbox, "b")).unwrap();
        assert!(!is_proven_in_thread(&view(&changed), &mailbox, &key));
        let unproven = item(in_thread(Kind::Reply, &mailbox, "c"), None);
        assert!(!is_proven_in_thread(&view(&unproven), &mailbox, &key));
        let other_thread = item(in_thread(Kind::Reply, &mailbox, "d"), Some(&key));
        assert!(!is_proven_in_thread(
            &view(&other_thread),
            "0".repeat(32).as_str(),
            &key
        ));
        let mut old = tip(&recipient, &key, &mailbox);
        old.version = 1;
        assert!(opens_thread(&view(&item(old, Some(&key)))).is_none());
        let x25519 = Identity::generate_kind(KeyKind::X25519)
            .unwrap()
            .recipient();
        let legacy_key = tip(&x25519, &key, &key.mailbox(&x25519));
        assert!(opens_thread(&view(&item(legacy_key, Some(&key)))).is_none());
    }

    #[test]
    fn a_case_item_is_proven_only_with_the_case_key() {
        let (_, key, mailbox) = thread_of(1);
        let mut case = in_thread(Kind::Case, &mailbox, "note");
        case.case = Some(crate::bundle::CaseChange {
            officer: "Ana".into(),
            written: "2026-12-07T05:10:00Z".into(),
            ..Default::default()
        });
        let json = serde_json::to_vec(&case).unwrap();
        let proven = Item {
            tip: case.clone(),
            mac: Some(key.case_proof(&json)),
            json: json.clone(),
        };
        assert!(case_is_proven(&view(&proven), &mailbox, &key));
        assert!(!is_proven_in_thread(&view(&proven), &mailbox, &key));
        // With a follow-up's proof (what a tipster would write), or under
        // another thread's key (what a relay could), it proves nothing.
        let thread_proof = item(case.clone(), Some(&key));
        assert!(!case_is_proven(&view(&thread_proof), &mailbox, &key));
        let (_, other_key, _) = thread_of(2);
        let other = Item {
            tip: case,
            mac: Some(other_key.case_proof(&json)),
            json,
        };
        assert!(!case_is_proven(&view(&other), &mailbox, &key));
        // A follow-up proven with the case key is no follow-up.
        let message = in_thread(Kind::Message, &mailbox, "m");
        let json = serde_json::to_vec(&message).unwrap();
        let message = Item {
            tip: message,
            mac: Some(key.case_proof(&json)),
            json,
        };
        assert!(!is_proven_in_thread(&view(&message), &mailbox, &key));
        assert!(!case_is_proven(&view(&message), &mailbox, &key));
    }

    #[test]
    fn only_a_proven_reply_is_the_agencys() {
        let keys = ReplyKeys::new(
            Identity::hybrid_from_seed([2; 32]),
            ThreadKey::from_bytes([3; 32]),
        );
        let reply = item(
            in_thread(Kind::Reply, &keys.mailbox, "r"),
            Some(&keys.thread_key),
        );
        assert!(reply_is_proven(&view(&reply), &keys));
        let message = item(
            in_thread(Kind::Message, &keys.mailbox, "m"),
            Some(&keys.thread_key),
        );
        assert!(
            !reply_is_proven(&view(&message), &keys),
            "a follow-up is not a reply"
        );
    }
}
