//! The agency's reply: who it is sealed to and what it carries, and which
//! replies a codename's holder is shown. One rule for `sealtip reply`, the
//! desk, `sealtip replies` and the tipster's page.

use crate::bundle::{Kind, Tip};
use crate::keys::Recipient;

/// A reply ready to seal: the tip to write and who to seal it to.
#[derive(Debug)]
pub struct AgencyReply {
    /// `tip.json` of the reply (kind `reply`, in the thread, naming the
    /// agency keys the tipster seals follow-ups to).
    pub tip: Tip,
    /// The tipster's reply key first, then the officer's own keys.
    pub recipients: Vec<Recipient>,
}

/// The reply of `agency` in the thread whose mailbox is `mailbox`, sealed
/// to the tipster's reply key and to the officer's own keys of the same
/// kind (a file never mixes kinds), so the reply stays readable to the
/// agency. The reply names those keys: the tipster's follow-ups are sealed
/// to them, not to whatever the relay serves. Seal it with
/// `finish_in_thread` and the thread's key, so the tipster can prove it.
pub fn agency_reply(
    agency: &str,
    date: &str,
    text: String,
    mailbox: &str,
    tipster: Recipient,
    officers: &[Recipient],
) -> AgencyReply {
    let agency_keys: Vec<Recipient> = officers
        .iter()
        .filter(|r| r.kind() == tipster.kind())
        .cloned()
        .collect();
    let mut tip = Tip::new(Kind::Reply, agency, date);
    tip.text = text;
    tip.thread = Some(mailbox.to_string());
    tip.agency_keys = agency_keys.iter().map(Recipient::to_string).collect();
    let mut recipients = vec![tipster];
    recipients.extend(agency_keys);
    AgencyReply { tip, recipients }
}

#[cfg(feature = "open")]
pub use open::{OpenedReplies, ProvenReply, open_replies};

#[cfg(feature = "open")]
mod open {
    use crate::bundle::{Limits, Tip};
    use crate::codename::ReplyKeys;
    use crate::sealed_tip::open_tip;
    use crate::thread::{ItemView, reply_is_proven};

    /// A reply that opened with the codename's key and is proven with its
    /// thread key: the agency's answer in this thread.
    #[derive(Debug, Clone)]
    pub struct ProvenReply {
        /// The relay's id of the reply (to delete it).
        pub id: String,
        /// Its `tip.json`.
        pub tip: Tip,
    }

    /// A codename's mailbox, opened.
    #[derive(Debug, Clone, Default)]
    pub struct OpenedReplies {
        /// The proven replies, in the relay's order.
        pub proven: Vec<ProvenReply>,
        /// How many did not open with the codename's key or are not proven
        /// to be the agency's: counted and told, never shown as the
        /// agency's, never skipped in silence.
        pub unproven: usize,
    }

    impl OpenedReplies {
        /// The agency keys named by the last proven reply that names any:
        /// where follow-ups are sealed to.
        pub fn agency_keys(&self) -> Option<&[String]> {
            self.proven
                .iter()
                .rev()
                .map(|reply| reply.tip.agency_keys.as_slice())
                .find(|keys| !keys.is_empty())
        }
    }

    /// Opens each `(id, sealed reply)`, in the relay's order, with the
    /// codename's keys.
    pub fn open_replies<'a>(
        keys: &ReplyKeys,
        sealed: impl IntoIterator<Item = (String, &'a [u8])>,
    ) -> OpenedReplies {
        let identities = std::slice::from_ref(&keys.identity);
        let mut opened = OpenedReplies::default();
        for (id, bytes) in sealed {
            let proven = open_tip(bytes, identities, &Limits::default(), &mut ())
                .ok()
                .filter(|reply| {
                    reply_is_proven(
                        &ItemView {
                            tip: &reply.tip,
                            json: &reply.json,
                            mac: reply.mac.as_ref(),
                        },
                        keys,
                    )
                });
            match proven {
                Some(reply) => opened.proven.push(ProvenReply { id, tip: reply.tip }),
                None => opened.unproven += 1,
            }
        }
        opened
    }
}

#[cfg(all(test, feature = "seal", feature = "open"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::codename::ReplyKeys;
    use crate::keys::{Identity, KeyKind};
    use crate::proof::ThreadKey;
    use crate::sealed_tip::seal_tip;

    fn keys() -> ReplyKeys {
        ReplyKeys::new(
            Identity::hybrid_from_seed([4; 32]),
            ThreadKey::from_bytes([5; 32]),
        )
    }

    fn sealed(reply: AgencyReply, key: &ThreadKey) -> Vec<u8> {
        let sealing = seal_tip(&reply.recipients, Vec::new()).unwrap();
        sealing.finish_in_thread(reply.tip, key).unwrap().0
    }

    #[test]
    fn a_reply_goes_to_the_tipster_and_the_officers_keys_of_its_kind() {
        let keys = keys();
        let hybrid = Identity::generate().unwrap().recipient();
        let x25519 = Identity::generate_kind(KeyKind::X25519)
            .unwrap()
            .recipient();
        let reply = agency_reply(
            "demo",
            "2026-12-07",
            "We read it.".into(),
            &keys.mailbox,
            keys.identity.recipient(),
            &[hybrid.clone(), x25519],
        );
        assert_eq!(
            reply.recipients,
            [keys.identity.recipient(), hybrid.clone()]
        );
        assert_eq!(reply.tip.kind, Kind::Reply);
        assert_eq!(reply.tip.thread.as_deref(), Some(keys.mailbox.as_str()));
        assert_eq!(reply.tip.agency_keys, [hybrid.to_string()]);
        // The officer's copy is exactly what the tipster opens, proof included.
        let sealing = seal_tip(&reply.recipients, Vec::new()).unwrap();
        let (sealed, written) = sealing
            .finish_in_thread(reply.tip, &keys.thread_key)
            .unwrap();
        let identities = [keys.identity.clone()];
        let opened =
            crate::open_tip(&sealed[..], &identities, &Default::default(), &mut ()).unwrap();
        assert_eq!(opened, written);
        assert!(crate::thread::reply_is_proven(&written.view(), &keys));
    }

    #[test]
    fn only_proven_replies_are_shown_and_the_others_are_counted() {
        let keys = keys();
        let officer = Identity::generate().unwrap().recipient();
        let reply = |text: &str| {
            agency_reply(
                "demo",
                "2026-12-07",
                text.into(),
                &keys.mailbox,
                keys.identity.recipient(),
                std::slice::from_ref(&officer),
            )
        };
        let proven = sealed(reply("first"), &keys.thread_key);
        // The relay (or anyone who knows the mailbox) injects a reply it
        // sealed to the codename's public key, without the thread key.
        let injected = sealed(reply("from the relay"), &ThreadKey::from_bytes([6; 32]));
        let garbage = b"not an age file".to_vec();
        let mut last = reply("last");
        last.tip.agency_keys.clear();
        let last = sealed(last, &keys.thread_key);
        let opened = open_replies(
            &keys,
            [
                ("a".to_string(), proven.as_slice()),
                ("b".to_string(), injected.as_slice()),
                ("c".to_string(), garbage.as_slice()),
                ("d".to_string(), last.as_slice()),
            ],
        );
        let shown: Vec<(&str, &str)> = opened
            .proven
            .iter()
            .map(|r| (r.id.as_str(), r.tip.text.as_str()))
            .collect();
        assert_eq!(shown, [("a", "first"), ("d", "last")]);
        assert_eq!(opened.unproven, 2);
        assert_eq!(
            opened.agency_keys(),
            Some([officer.to_string()].as_slice()),
            "the last reply that names keys"
        );
    }
}
