//! Opening items and sealing replies, natively, with envelope's functions:
//! inbox items and mailbox replies, whole or one attachment at a time, and
//! the reply to a tipster.
//!
//! Failures are a message key of `www/i18n/*.ftl` and a detail, so that each
//! is one line a person understands.

use std::io::Read;

use sealtip_envelope::CaseChange;
use sealtip_envelope::{AgencyReply, agency_reply};
use sealtip_envelope::{AttachmentSink, Limits, OpenedTip};
use sealtip_envelope::{Identity, OpenError, Recipient, ThreadKey, TipError, open_tip};
use zeroize::Zeroizing;

use crate::commands::case::{officer_recipients, seal_case_item};

/// Why something could not be opened or sealed: a message key and its detail.
pub type Failure = (&'static str, String);

/// Opens a sealed item with `identities` and returns what it says; the
/// attachments are read (to authenticate them) and dropped.
pub fn open_tip_only(sealed: impl Read, identities: &[Identity]) -> Result<OpenedTip, Failure> {
    open(sealed, identities, &mut ())
}

/// Opens a sealed item and returns the bytes of its attachment at archive
/// path `path`, once the whole item authenticated.
pub fn open_attachment(
    sealed: impl Read,
    identities: &[Identity],
    path: &str,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut sink = OneFile { path, bytes: None };
    open(sealed, identities, &mut sink)?;
    sink.bytes.ok_or(("desk-no-such-file", String::new()))
}

fn open(
    sealed: impl Read,
    identities: &[Identity],
    sink: &mut dyn AttachmentSink,
) -> Result<OpenedTip, Failure> {
    let opened = open_tip(sealed, identities, &Limits::default(), sink).map_err(|error| {
        let key = match &error {
            TipError::Open(OpenError::NoMatch { .. } | OpenError::Unsupported(_)) => {
                "desk-wrong-key"
            }
            _ => "desk-corrupt",
        };
        (key, error.to_string())
    })?;
    Ok(opened)
}

/// Keeps one attachment, by archive path; reads past the others.
struct OneFile<'a> {
    path: &'a str,
    bytes: Option<Zeroizing<Vec<u8>>>,
}

impl AttachmentSink for OneFile<'_> {
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> std::io::Result<()> {
        if path != self.path {
            std::io::copy(data, &mut std::io::sink())?;
            return Ok(());
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(size.min(1 << 26) as usize));
        data.read_to_end(&mut bytes)?;
        self.bytes = Some(bytes);
        Ok(())
    }
}

/// Where a reply in a verified thread goes: the thread's mailbox, the
/// recipient of its first verified tip, and the thread key that proves it.
#[derive(Clone)]
pub struct ReplyTarget {
    /// The tipster's mailbox on the relay.
    pub mailbox: String,
    /// The tipster's reply key.
    pub tipster: Recipient,
    /// The thread key.
    pub key: ThreadKey,
}

/// A reply to the tipster of `to`: the sealed bytes and the reply as opened
/// (its exact `tip.json` and proof). Sealed, as `sealtip reply` does, to the
/// tipster's reply key and to the officer's own keys of the same kind
/// (hybrid or X25519: never both together), so the thread stays readable;
/// proven with the thread key, so the tipster's side knows it is ours.
pub fn seal_reply(
    agency: &str,
    to: &ReplyTarget,
    text: &str,
    identities: &[Identity],
    date: &str,
) -> Result<(Zeroizing<Vec<u8>>, OpenedTip), Failure> {
    let officers: Vec<_> = identities.iter().map(Identity::recipient).collect();
    let AgencyReply {
        tip: reply,
        recipients,
    } = agency_reply(
        agency,
        date,
        text.trim().to_string(),
        &to.mailbox,
        to.tipster.clone(),
        &officers,
    );
    let failed = |error: &dyn std::fmt::Display| ("desk-seal-failed", error.to_string());
    let sealing = sealtip_envelope::seal_tip(&recipients, Vec::new()).map_err(|e| failed(&e))?;
    let (sealed, written) = sealing
        .finish_in_thread(reply, &to.key)
        .map_err(|e| failed(&e))?;
    // The reply as the tipster opens it: its exact tip.json and proof.
    Ok((Zeroizing::new(sealed), written))
}

/// A case item for the thread whose mailbox is `mailbox` and key `key`:
/// the sealed bytes and the item as opened. Sealed to the officer's own
/// keys only (never to the tipster), of one kind (hybrid if the officer
/// holds any, else X25519), and proven with the thread's case key.
pub fn seal_case(
    agency: &str,
    mailbox: &str,
    key: &ThreadKey,
    change: CaseChange,
    identities: &[Identity],
) -> Result<(Zeroizing<Vec<u8>>, OpenedTip), Failure> {
    let failed = |error: anyhow::Error| ("desk-case-seal-failed", format!("{error:#}"));
    let recipients = officer_recipients(identities, &[]).map_err(failed)?;
    let date = change.written.get(..10).unwrap_or_default().to_string();
    let (sealed, written) =
        seal_case_item(agency, &date, mailbox, key, change, &recipients).map_err(failed)?;
    Ok((Zeroizing::new(sealed), written))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::threads::{Standing, threads};
    use sealtip_envelope::{Codename, KeyKind, Kind, ReplyKeys, Tip};
    use sealtip_envelope::{MetadataStatus, NewAttachment, ReplyTo};

    fn codename() -> ReplyKeys {
        Codename::parse("abacus abdomen abdominal abide abiding ability ablaze able")
            .unwrap()
            .derive()
            .unwrap()
    }

    /// A schema 2 tip with a photo, proven with the codename's thread key.
    fn sealed_tip(to: &[Recipient], keys: &ReplyKeys) -> Vec<u8> {
        let mut sealing = sealtip_envelope::seal_tip(to, Vec::new()).unwrap();
        let png = b"\x89PNG\r\n\x1a\n not really".to_vec();
        let photo = NewAttachment {
            name: "photo.png",
            media_type: "image/png",
            size: png.len() as u64,
            metadata: MetadataStatus::Removed,
            removed: vec![],
            keep_name: true,
        };
        sealing.add_attachment(photo, &mut png.as_slice()).unwrap();
        let mut tip = Tip::new(Kind::Tip, "demo", "2026-11-29");
        tip.text = "I saw it".into();
        tip.reply = Some(ReplyTo::from_keys(keys));
        sealing.finish_in_thread(tip, &keys.thread_key).unwrap().0
    }

    #[test]
    fn a_tip_opens_with_its_text_and_photo() {
        let keys = codename();
        let officer = Identity::generate().unwrap();
        let sealed = sealed_tip(&[officer.recipient()], &keys);
        let officers = std::slice::from_ref(&officer);
        let opened = open_tip_only(sealed.as_slice(), officers).unwrap();
        assert_eq!(opened.tip.text, "I saw it");
        assert_eq!(opened.tip.attachments[0].name, "photo.png");
        assert!(opened.mac.is_some());
        let path = &opened.tip.attachments[0].path;
        let bytes = open_attachment(sealed.as_slice(), officers, path).unwrap();
        assert_eq!(bytes.as_slice(), b"\x89PNG\r\n\x1a\n not really");
        let missing = open_attachment(sealed.as_slice(), officers, "attachments/none");
        assert_eq!(missing.unwrap_err().0, "desk-no-such-file");
    }

    #[test]
    fn a_wrong_key_and_a_damaged_tip_are_told_apart() {
        let a = Identity::generate().unwrap();
        let sealed = sealed_tip(&[a.recipient()], &codename());
        let other = Identity::generate().unwrap();
        let (key, _) = open_tip_only(sealed.as_slice(), &[other]).err().unwrap();
        assert_eq!(key, "desk-wrong-key");
        let mut damaged = sealed.clone();
        let last = damaged.len() - 20;
        damaged[last] ^= 1;
        let (key, _) = open_tip_only(damaged.as_slice(), &[a]).err().unwrap();
        assert_eq!(key, "desk-corrupt");
    }

    #[test]
    fn a_reply_is_proven_in_the_thread_and_opens_with_the_codename_and_the_officer_key() {
        let keys = codename();
        // The officer holds keys of both kinds; the reply is sealed to the
        // one of the codename's kind (never to hybrid and X25519 together).
        let officer = Identity::generate_kind(keys.identity.kind()).unwrap();
        let other_kind = match keys.identity.kind() {
            KeyKind::Hybrid => KeyKind::X25519,
            KeyKind::X25519 => KeyKind::Hybrid,
        };
        let officers = [
            Identity::generate_kind(other_kind).unwrap(),
            officer.clone(),
        ];
        let tip = sealed_tip(&[officer.recipient()], &keys);
        let tip = open_tip_only(tip.as_slice(), &officers).unwrap();
        let thread = threads(vec![&tip], |o| o.view(), |_| 0).remove(0);
        assert!(thread.can_reply());
        let target = ReplyTarget {
            mailbox: thread.mailbox.clone().unwrap(),
            tipster: thread.reply_to.clone().unwrap(),
            key: thread.key.clone().unwrap(),
        };
        let (sealed, queued) =
            seal_reply("demo", &target, " Thank you ", &officers, "2026-11-30").unwrap();
        assert_eq!(queued.tip.kind, Kind::Reply);
        let by_tipster = open_tip_only(sealed.as_slice(), std::slice::from_ref(&keys.identity));
        assert_eq!(by_tipster.unwrap().tip.text, "Thank you");
        let by_officer = open_tip_only(sealed.as_slice(), &[officer]).unwrap();
        assert_eq!(by_officer.json, queued.json);
        assert_eq!(by_officer.mac, queued.mac);
        // Opened, and as queued: both verified in the tip's thread.
        for reply in [&by_officer, &queued] {
            let grouped = threads(
                vec![&tip, reply],
                |o| o.view(),
                |o| o.tip.kind == Kind::Reply,
            );
            assert_eq!(grouped.len(), 1);
            let standings: Vec<Standing> = grouped[0].items.iter().map(|i| i.standing).collect();
            assert_eq!(standings, [Standing::Verified, Standing::Verified]);
        }
    }
}
