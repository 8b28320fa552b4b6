//! Opening items and sealing replies, natively, with envelope's functions:
//! inbox items and mailbox replies, whole or one attachment at a time, and
//! the reply to a tipster.
//!
//! Failures are a message key of `www/i18n/*.ftl` and a detail, so that each
//! is one line a person understands.

use std::io::Read;

use sealtip_envelope::bundle::{AttachmentSink, Kind, Limits, ReplyTo, Tip};
use sealtip_envelope::{Identity, OpenError, Recipient, TipError, open_tip};
use zeroize::Zeroizing;

/// Why something could not be opened or sealed: a message key and its detail.
pub type Failure = (&'static str, String);

/// Opens a sealed item with `identities` and returns what it says; the
/// attachments are read (to authenticate them) and dropped.
pub fn open_tip_only(sealed: impl Read, identities: &[Identity]) -> Result<Tip, Failure> {
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
) -> Result<Tip, Failure> {
    let opened = open_tip(sealed, identities, &Limits::default(), sink).map_err(|error| {
        let key = match &error {
            TipError::Open(OpenError::NoMatch { .. } | OpenError::Unsupported(_)) => {
                "desk-wrong-key"
            }
            _ => "desk-corrupt",
        };
        (key, error.to_string())
    })?;
    Ok(opened.tip)
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

/// A reply to the tipster whose reply key is `reply_to`: the sealed bytes and
/// the reply itself. Sealed to the tipster's reply key and to the officer's
/// own keys of the same kind (hybrid or X25519: never both together), so the
/// thread stays readable.
pub fn seal_reply(
    agency: &str,
    reply_to: &ReplyTo,
    text: &str,
    identities: &[Identity],
    date: &str,
) -> Result<(Zeroizing<Vec<u8>>, Tip), Failure> {
    let tipster = Recipient::parse(&reply_to.recipient)
        .map_err(|error| ("desk-corrupt", error.to_string()))?;
    let mut recipients = vec![tipster];
    let kind = recipients[0].kind();
    recipients.extend(
        identities
            .iter()
            .map(Identity::recipient)
            .filter(|recipient| recipient.kind() == kind),
    );
    let mut reply = Tip::new(Kind::Reply, agency, date);
    reply.text = text.trim().to_string();
    reply.reply = Some(reply_to.clone());
    let failed = |error: &dyn std::fmt::Display| ("desk-seal-failed", error.to_string());
    let sealing = sealtip_envelope::seal_tip(&recipients, Vec::new()).map_err(|e| failed(&e))?;
    let (sealed, _) = sealing.finish(reply.clone()).map_err(|e| failed(&e))?;
    Ok((Zeroizing::new(sealed), reply))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use sealtip_envelope::bundle::{MetadataStatus, NewAttachment};
    use sealtip_envelope::{Codename, KeyKind};

    pub fn sealed_tip(to: &[Recipient], reply: Option<ReplyTo>) -> Vec<u8> {
        let mut sealing = sealtip_envelope::seal_tip(to, Vec::new()).unwrap();
        let png = b"\x89PNG\r\n\x1a\n not really".to_vec();
        sealing
            .add_attachment(
                NewAttachment {
                    name: "photo.png",
                    media_type: "image/png",
                    size: png.len() as u64,
                    metadata: MetadataStatus::Removed,
                    removed: vec![],
                },
                &mut png.as_slice(),
            )
            .unwrap();
        let mut tip = Tip::new(Kind::Tip, "demo", "2026-11-29");
        tip.text = "I saw it".into();
        tip.reply = reply;
        sealing.finish(tip).unwrap().0
    }

    #[test]
    fn a_tip_opens_with_its_text_and_photo() {
        let officer = Identity::generate().unwrap();
        let sealed = sealed_tip(&[officer.recipient()], None);
        let keys = std::slice::from_ref(&officer);
        let tip = open_tip_only(sealed.as_slice(), keys).unwrap();
        assert_eq!(tip.text, "I saw it");
        assert_eq!(tip.attachments[0].name, "photo.png");
        let path = &tip.attachments[0].path;
        let bytes = open_attachment(sealed.as_slice(), keys, path).unwrap();
        assert_eq!(bytes.as_slice(), b"\x89PNG\r\n\x1a\n not really");
        let missing = open_attachment(sealed.as_slice(), keys, "attachments/none");
        assert_eq!(missing.unwrap_err().0, "desk-no-such-file");
    }

    #[test]
    fn a_wrong_key_and_a_damaged_tip_are_told_apart() {
        let a = Identity::generate().unwrap();
        let sealed = sealed_tip(&[a.recipient()], None);
        let other = Identity::generate().unwrap();
        let (key, _) = open_tip_only(sealed.as_slice(), &[other]).unwrap_err();
        assert_eq!(key, "desk-wrong-key");
        let mut damaged = sealed.clone();
        let last = damaged.len() - 20;
        damaged[last] ^= 1;
        let (key, _) = open_tip_only(damaged.as_slice(), &[a]).unwrap_err();
        assert_eq!(key, "desk-corrupt");
    }

    #[test]
    fn a_reply_opens_with_the_codename_and_with_the_officer_key() {
        let keys = Codename::parse("abacus abdomen abdominal abide abiding ability ablaze able")
            .unwrap()
            .derive()
            .unwrap();
        // The officer holds keys of both kinds; the reply is sealed to the
        // one of the codename's kind (never to hybrid and X25519 together).
        let officer = Identity::generate_kind(keys.identity.kind()).unwrap();
        let other_kind = match keys.identity.kind() {
            KeyKind::Hybrid => KeyKind::X25519,
            KeyKind::X25519 => KeyKind::Hybrid,
        };
        let other = Identity::generate_kind(other_kind).unwrap();
        let reply_to = ReplyTo {
            recipient: keys.recipient().to_string(),
            mailbox: keys.mailbox.clone(),
        };
        let officers = [other, officer.clone()];
        let (sealed, tip) =
            seal_reply("demo", &reply_to, " Thank you ", &officers, "2026-11-30").unwrap();
        assert_eq!(tip.kind, Kind::Reply);
        let by_tipster = open_tip_only(sealed.as_slice(), std::slice::from_ref(&keys.identity));
        assert_eq!(by_tipster.unwrap().text, "Thank you");
        let by_officer = open_tip_only(sealed.as_slice(), &[officer]).unwrap();
        assert_eq!(by_officer.reply, Some(reply_to));
    }
}
