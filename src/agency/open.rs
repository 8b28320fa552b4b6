//! Opening and sealing for the inbox, in memory, with envelope's functions:
//! the officer's identity file, inbox items and mailbox replies, and the
//! reply to a tipster. Pure (no browser, no network), tested natively.
//!
//! Failures are a message key of `www/i18n/*.ftl` and a detail, so that each
//! is one line a person understands.

use std::io::Read;

use sealtip_envelope::bundle::{AttachmentSink, Kind, Limits, ReplyTo, Tip};
use sealtip_envelope::{
    Identity, IdentityFileError, OpenError, Recipient, TipError, open_tip, read_identity_file,
};
use zeroize::Zeroizing;

use super::state::{Opened, OpenedFile, Source};

/// Why something could not be opened or sealed: a message key and its detail.
pub type Failure = (&'static str, String);

/// The identities of an identity file (plain, or protected by `passphrase`).
/// `agency-needs-passphrase` means: ask for the passphrase and try again.
pub fn load_identities(bytes: &[u8], passphrase: Option<&str>) -> Result<Vec<Identity>, Failure> {
    match read_identity_file(bytes, passphrase) {
        Ok(file) => Ok(file.identities),
        Err(IdentityFileError::NeedsPassphrase) => Err(("agency-needs-passphrase", String::new())),
        Err(IdentityFileError::Open(OpenError::WrongPassphrase)) => {
            Err(("agency-wrong-passphrase", String::new()))
        }
        Err(error) => Err(("agency-bad-key-file", error.to_string())),
    }
}

/// Opens a sealed inbox item or reply with `identities`, attachments in memory.
pub fn open_item(
    id: &str,
    source: Source,
    sealed: &[u8],
    identities: &[Identity],
) -> Result<Opened, Failure> {
    let mut files = Files(Vec::new());
    let opened = open_tip(sealed, identities, &Limits::default(), &mut files).map_err(|error| {
        let key = match &error {
            TipError::Open(OpenError::NoMatch { .. } | OpenError::Unsupported(_)) => {
                "agency-wrong-key"
            }
            _ => "agency-corrupt",
        };
        (key, error.to_string())
    })?;
    let files = opened
        .tip
        .attachments
        .iter()
        .filter_map(|attachment| {
            let index = files
                .0
                .iter()
                .position(|(path, _)| *path == attachment.path)?;
            let (_, bytes) = files.0.swap_remove(index);
            Some(OpenedFile {
                name: attachment.name.clone(),
                media_type: attachment.media_type.clone(),
                bytes,
            })
        })
        .collect();
    Ok(Opened {
        id: id.to_string(),
        source,
        tip: opened.tip,
        files,
    })
}

/// Attachments as they stream out of the bundle, by archive path.
struct Files(Vec<(String, Zeroizing<Vec<u8>>)>);

impl AttachmentSink for Files {
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> std::io::Result<()> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(size.min(1 << 26) as usize));
        data.read_to_end(&mut bytes)?;
        self.0.push((path.to_string(), bytes));
        Ok(())
    }
}

/// A reply to the tipster of `to`: the mailbox to post it to, the sealed
/// bytes and the reply itself. Sealed to the tipster's reply key and to the
/// officer's own keys (as `sealtip reply` does), so the thread stays readable.
pub fn seal_reply(
    agency: &str,
    to: &Tip,
    text: &str,
    identities: &[Identity],
    date: &str,
) -> Result<(String, Vec<u8>, Tip), Failure> {
    let reply_to = to
        .reply
        .as_ref()
        .ok_or(("agency-no-reply-key", String::new()))?;
    let tipster = Recipient::parse(&reply_to.recipient)
        .map_err(|error| ("agency-corrupt", error.to_string()))?;
    let mut recipients = vec![tipster];
    recipients.extend(identities.iter().map(Identity::recipient));
    let mut reply = Tip::new(Kind::Reply, agency, date);
    reply.text = text.trim().to_string();
    reply.reply = Some(ReplyTo {
        recipient: reply_to.recipient.clone(),
        mailbox: reply_to.mailbox.clone(),
    });
    let failed = |error: &dyn std::fmt::Display| ("reason-seal", error.to_string());
    let sealing = sealtip_envelope::seal_tip(&recipients, Vec::new()).map_err(|e| failed(&e))?;
    let (sealed, _) = sealing.finish(reply.clone()).map_err(|e| failed(&e))?;
    Ok((reply_to.mailbox.clone(), sealed, reply))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use sealtip_api::ItemKind;
    use sealtip_envelope::bundle::{MetadataStatus, NewAttachment};
    use sealtip_envelope::{Codename, IdentityFile};
    use std::io::Write;

    fn sealed_tip(to: &[Recipient], reply: Option<ReplyTo>) -> Vec<u8> {
        let mut sealing = sealtip_envelope::seal_tip(to, Vec::new()).unwrap();
        let png = b"\x89PNG not really".to_vec();
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

    fn source() -> Source {
        Source::Inbox(ItemKind::Tip, "2026-11-29T14:00:00Z".into())
    }

    #[test]
    fn a_tip_opens_with_its_text_and_photo() {
        let officer = Identity::generate().unwrap();
        let sealed = sealed_tip(&[officer.recipient()], None);
        let opened = open_item("t1", source(), &sealed, &[officer]).unwrap();
        assert_eq!(opened.tip.text, "I saw it");
        assert_eq!(opened.files.len(), 1);
        assert_eq!(opened.files[0].name, "photo.png");
        assert!(opened.files[0].is_image());
        assert_eq!(opened.files[0].bytes.as_slice(), b"\x89PNG not really");
    }

    #[test]
    fn a_wrong_key_and_a_damaged_tip_are_told_apart() {
        let a = Identity::generate().unwrap();
        let b = Identity::generate().unwrap();
        let sealed = sealed_tip(&[a.recipient(), b.recipient()], None);
        let other = Identity::generate().unwrap();
        let (key, detail) = open_item("t1", source(), &sealed, &[other]).unwrap_err();
        assert_eq!(key, "agency-wrong-key");
        assert!(
            detail.contains("sealed to 2 other keys, not to this one"),
            "{detail}"
        );

        let mut damaged = sealed.clone();
        let last = damaged.len() - 20;
        damaged[last] ^= 1;
        let (key, _) = open_item("t1", source(), &damaged, &[a]).unwrap_err();
        assert_eq!(key, "agency-corrupt");
    }

    #[test]
    fn identity_files_plain_and_protected() {
        let officer = Identity::generate().unwrap();
        let text = IdentityFile::to_text(&officer, "2026-11-29T00:00:00Z");
        let plain = load_identities(text.as_bytes(), None).unwrap();
        assert_eq!(plain[0].recipient(), officer.recipient());

        let mut writer =
            sealtip_envelope::seal_with_passphrase("correct horse", Vec::new()).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
        let protected = writer.finish().unwrap();
        assert_eq!(
            load_identities(&protected, None).unwrap_err().0,
            "agency-needs-passphrase"
        );
        assert_eq!(
            load_identities(&protected, Some("wrong")).unwrap_err().0,
            "agency-wrong-passphrase"
        );
        let opened = load_identities(&protected, Some("correct horse")).unwrap();
        assert_eq!(opened[0].recipient(), officer.recipient());
        assert_eq!(
            load_identities(b"hello", None).unwrap_err().0,
            "agency-bad-key-file"
        );
    }

    #[test]
    fn a_reply_opens_with_the_codename_and_with_the_officer_key() {
        let officer = Identity::generate().unwrap();
        let keys = Codename::parse("abacus abdomen abdominal abide abiding ability ablaze able")
            .unwrap()
            .derive()
            .unwrap();
        let reply_to = ReplyTo {
            recipient: keys.recipient().to_string(),
            mailbox: keys.mailbox.clone(),
        };
        let sealed = sealed_tip(&[officer.recipient()], Some(reply_to));
        let tip = open_item("t1", source(), &sealed, std::slice::from_ref(&officer))
            .unwrap()
            .tip;
        let (mailbox, reply, _) = seal_reply(
            "demo",
            &tip,
            " Thank you ",
            std::slice::from_ref(&officer),
            "2026-11-30",
        )
        .unwrap();
        assert_eq!(mailbox, keys.mailbox);
        let reply_source = Source::Reply("2026-11-30T09:00:00Z".into());
        let by_tipster = open_item(
            "r1",
            reply_source.clone(),
            &reply,
            std::slice::from_ref(&keys.identity),
        );
        assert_eq!(by_tipster.unwrap().tip.text, "Thank you");
        let by_officer = open_item("r1", reply_source, &reply, &[officer]).unwrap();
        assert_eq!(by_officer.tip.kind, Kind::Reply);

        let no_reply = Tip::new(Kind::Tip, "demo", "2026-11-29");
        let error = seal_reply("demo", &no_reply, "hi", &[], "2026-11-30").unwrap_err();
        assert_eq!(error.0, "agency-no-reply-key");
    }
}
