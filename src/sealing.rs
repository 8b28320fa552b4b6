//! Sealing a tip or a follow-up on the tipster's device: to which keys
//! (every agency key, checked against the page's pins), what the agency
//! reads (the answers labelled in its language), the files as they are
//! sealed ([`Attachment`]), and the sealing itself, which hands the
//! ciphertext on in parts as it is made ([`Outlet`]). The page decides the
//! first three; the sealing worker (`crate::seal_worker`) seals.
//!
//! Memory stays small whatever the size of the files: picked files stay on
//! the device and are read in slices while sealing (only cleaned photos are
//! held in memory).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;

use sealtip_api::{AgencyProfile, QuestionKind};
use sealtip_envelope::{Answer, BundleWriter, Kind, MetadataStatus, NewAttachment, ReplyTo, Tip};
use sealtip_envelope::{Recipient, ReplyKeys, ThreadKey};
use sha2::{Digest, Sha256};

use crate::browser;
use crate::i18n::Lang;
use crate::i18n::msg;
use crate::pin::{PinCheck, Pins};
use crate::send::{Cancel, failure};
use crate::state::{Cleaning, Contents, Failure, Picked, WHAT_HAPPENED};
use crate::upload::{Outlet, PART};

/// Parses every recipient of the agency; any bad one stops the send, and so
/// do recipients the page's address did not pin (`#pin=`, see [`crate::pin`]).
pub fn recipients(profile: &AgencyProfile) -> Option<Vec<Recipient>> {
    if profile.recipients.is_empty()
        || matches!(
            Pins::of_page().check(&profile.recipients),
            PinCheck::Mismatch { .. }
        )
    {
        return None;
    }
    profile
        .recipients
        .iter()
        .map(|r| Recipient::parse(r).ok())
        .collect()
}

/// The keys a follow-up is sealed to: those the agency's last proven reply
/// named (`agency_keys`), so that a returning tipster keeps the keys the
/// thread began with whatever the relay serves today; when no proven reply
/// names keys, the relay's keys as [`recipients`] checks them (pins
/// included). A named key that does not parse stops the send.
pub fn follow_up_recipients(profile: &AgencyProfile, named: &[String]) -> Option<Vec<Recipient>> {
    if named.is_empty() {
        return recipients(profile);
    }
    named.iter().map(|r| Recipient::parse(r).ok()).collect()
}

/// The tip as the agency will read it: answers labelled in the agency's
/// default language (choices by their label), the free text, and where to reply.
pub fn build_tip(
    profile: &AgencyProfile,
    lang: Lang,
    answers: &BTreeMap<String, String>,
    date: &str,
    reply: Option<&ReplyKeys>,
) -> Tip {
    let default = profile.languages.first().map(String::as_str);
    let label = |l: &sealtip_api::Localized| {
        default
            .and_then(|tag| l.get(tag))
            .or_else(|| l.values().next())
            .cloned()
            .unwrap_or_default()
    };
    let mut tip = Tip::new(Kind::Tip, &profile.id, date);
    tip.form = profile.form.id.clone();
    tip.language = lang.tag().to_string();
    tip.text = answers
        .get(WHAT_HAPPENED)
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    for question in &profile.form.questions {
        if question.id == WHAT_HAPPENED && question.kind == QuestionKind::LongText {
            continue;
        }
        let Some(value) = answers.get(&question.id).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let value = match question.kind {
            QuestionKind::Choice => question
                .choices
                .iter()
                .find(|c| c.id == *value)
                .map(|c| label(&c.label))
                .unwrap_or_else(|| value.clone()),
            _ => value.trim().to_string(),
        };
        tip.answers.push(Answer {
            id: question.id.clone(),
            label: label(&question.label),
            value,
        });
    }
    tip.reply = reply.map(ReplyTo::from_keys);
    tip
}

/// A file as it is sealed: what the tip says of it, and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// What the tip says of it (see [`Described`]).
    pub described: Described,
    /// Its bytes: the cleaned photo in memory, or the file on the device.
    pub contents: Contents,
}

/// What a sealed tip says of an attachment (`tip.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Described {
    /// The file's name on the device (left out unless `keep_name`).
    pub name: String,
    /// Its media type (the cleaned format's, for a cleaned photo).
    pub media_type: String,
    /// What happened to its metadata.
    pub metadata: MetadataStatus,
    /// What cleaning removed, in words.
    pub removed: Vec<String>,
    /// The tipster chose to send the file's name.
    pub keep_name: bool,
}

impl Attachment {
    /// What is sealed of a picked file: the cleaned photo unless the
    /// tipster keeps the original, and what cleaning removed.
    pub fn of(file: &Picked) -> Attachment {
        let (contents, media_type) = file.to_send();
        let (metadata, removed) = match (&file.cleaning, file.keep_original) {
            (Cleaning::Cleaned { .. }, true) => (MetadataStatus::Kept, Vec::new()),
            (Cleaning::Cleaned { removed, .. }, false) => (
                MetadataStatus::Removed,
                removed.iter().map(|w| w.to_string()).collect(),
            ),
            _ => (MetadataStatus::NotChecked, Vec::new()),
        };
        Attachment {
            described: Described {
                name: file.name.clone(),
                media_type: media_type.to_string(),
                metadata,
                removed,
                keep_name: file.keep_name,
            },
            contents,
        }
    }
}

/// Bytes of a file read and sealed at a time.
pub const SLICE: u64 = 4 << 20;

/// The work that runs beside sealing, on another core when there is one
/// (the sealing worker's helper, `crate::seal_worker::helper`): each
/// attachment's SHA-256, which `tip.json` lists, and a new codename's reply
/// details, which it offers. Both are needed only once the attachments are
/// sealed, since `tip.json` follows them.
// The page is single-threaded: its futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Beside {
    /// Takes the next bytes of the attachment being sealed: `bytes`, sealed
    /// already, and for bytes read from a file, the browser's arrays they
    /// were copied from (the same bytes of the file, in order, though the
    /// last may run on into the next slice's), which a helper in another
    /// worker takes over.
    async fn hash(&mut self, bytes: &[u8], read: Option<js_sys::Array>) -> Result<(), Failure>;
    /// The attachment being sealed has ended.
    fn end_attachment(&mut self) -> Result<(), Failure>;
    /// The SHA-256 of each attachment, in order, once all are taken.
    async fn digests(&mut self) -> Result<Vec<[u8; 32]>, Failure>;
    /// The reply details the tip offers, if a codename was made beside.
    async fn reply(&mut self) -> Result<Option<ReplyTo>, Failure>;
}

/// [`Beside`] on the sealing thread itself: hashing in turn with sealing,
/// the reply details (if any) given.
pub struct InTurn {
    hashing: Sha256,
    digests: Vec<[u8; 32]>,
    reply: Option<ReplyTo>,
}

impl InTurn {
    /// Hashes in turn; the tip offers `reply`, if given.
    pub fn new(reply: Option<ReplyTo>) -> InTurn {
        InTurn {
            hashing: Sha256::new(),
            digests: Vec::new(),
            reply,
        }
    }
}

impl Beside for InTurn {
    async fn hash(&mut self, bytes: &[u8], _: Option<js_sys::Array>) -> Result<(), Failure> {
        self.hashing.update(bytes);
        Ok(())
    }

    fn end_attachment(&mut self) -> Result<(), Failure> {
        self.digests.push(self.hashing.finalize_reset().into());
        Ok(())
    }

    async fn digests(&mut self) -> Result<Vec<[u8; 32]>, Failure> {
        Ok(std::mem::take(&mut self.digests))
    }

    async fn reply(&mut self) -> Result<Option<ReplyTo>, Failure> {
        Ok(self.reply.take())
    }
}

/// Seals `tip` with `files` to `recipients`, handing the ciphertext to
/// `outlet` in parts of [`PART`] bytes as it is made. Files on the device
/// are read as one stream, taken [`SLICE`] bytes at a time, so memory use
/// does not grow with their size; `sealed` hears the attachment bytes
/// sealed so far. Each slice, once sealed, goes to `beside` to be hashed,
/// and `beside` gives the reply details of a new codename (see
/// [`Beside`]). An item of a thread (a
/// follow-up) is proven with the thread's key, `thread`.
#[allow(clippy::too_many_arguments)] // each is one thing the caller decides
pub async fn seal(
    recipients: &[Recipient],
    files: &[Attachment],
    mut tip: Tip,
    thread: Option<&ThreadKey>,
    outlet: &mut impl Outlet,
    beside: &mut impl Beside,
    sealed: impl Fn(u64),
    cancel: &Cancel,
) -> Result<(), Failure> {
    let seal_failed = || failure(msg::REASON_SEAL, String::new());
    let output = Ciphertext::default();
    let stream = sealtip_envelope::seal(recipients, output.clone()).map_err(|_| seal_failed())?;
    let mut sealing = BundleWriter::new(stream);
    let mut done = 0u64;
    // The bytes of the slice being sealed, in the worker's own memory.
    let mut copied = Vec::new();
    for Attachment {
        described: file,
        contents,
    } in files
    {
        let size = contents.len();
        let attachment = NewAttachment {
            name: &file.name,
            media_type: &file.media_type,
            size,
            metadata: file.metadata,
            removed: file.removed.clone(),
            keep_name: file.keep_name,
        };
        let mut writer = sealing
            .begin_attachment_hashed_apart(attachment)
            .map_err(|_| seal_failed())?;
        let mut offset = 0;
        // A file on the device is read as one stream, taken a slice at a time.
        let mut source = match &contents {
            Contents::Memory(bytes) => Source::Memory(bytes),
            Contents::File(blob) => Source::File(
                browser::FileStream::new(blob)
                    .ok_or_else(|| failure(msg::REASON_READ, file.name.clone()))?,
            ),
        };
        while offset < size {
            cancel.check()?;
            let end = (offset + SLICE).min(size);
            let (bytes, arrays) = match &mut source {
                Source::Memory(bytes) => (&bytes[offset as usize..end as usize], None),
                Source::File(stream) => {
                    let arrays = js_sys::Array::new();
                    stream
                        .read_into(&mut copied, (end - offset) as usize, &arrays)
                        .await
                        .ok_or_else(|| failure(msg::REASON_READ, file.name.clone()))?;
                    (&copied[..], Some(arrays))
                }
            };
            writer.write_all(bytes).map_err(|_| seal_failed())?;
            beside.hash(bytes, arrays).await?;
            done += end - offset;
            offset = end;
            sealed(done);
            while let Some(part) = output.full_part() {
                outlet.part(part).await?;
            }
        }
        if let Source::File(stream) = &source
            && !stream.all_taken()
        {
            return Err(failure(msg::REASON_READ, file.name.clone()));
        }
        writer.finish().map_err(|_| seal_failed())?;
        beside.end_attachment()?;
    }
    drop(copied);
    for (index, digest) in beside.digests().await?.into_iter().enumerate() {
        sealing
            .set_sha256(index, digest)
            .map_err(|_| seal_failed())?;
    }
    if let Some(reply) = beside.reply().await? {
        tip.reply = Some(reply);
    }
    let (stream, _) = match thread {
        Some(key) => sealing.finish_in_thread(tip, key),
        None => sealing.finish(tip),
    }
    .map_err(|_| seal_failed())?;
    stream.finish().map_err(|_| seal_failed())?;
    while let Some(part) = output.full_part() {
        outlet.part(part).await?;
    }
    outlet.last(output.rest()).await
}

/// Where an attachment's bytes are read from.
enum Source<'a> {
    /// A cleaned photo, in memory.
    Memory(&'a [u8]),
    /// A file on the device.
    File(browser::FileStream),
}

/// The ciphertext as the envelope writes it, taken out a part at a time.
#[derive(Clone, Default)]
struct Ciphertext(Rc<RefCell<Vec<u8>>>);

impl Ciphertext {
    /// The first [`PART`] bytes, once there are that many.
    fn full_part(&self) -> Option<Vec<u8>> {
        let mut bytes = self.0.borrow_mut();
        if bytes.len() < PART {
            return None;
        }
        // The next part starts with room for what a slice adds (1 MiB and
        // its tags), so it never grows by copying itself.
        let mut rest = Vec::with_capacity(PART + 2 * SLICE as usize);
        rest.extend_from_slice(&bytes[PART..]);
        bytes.truncate(PART);
        Some(std::mem::replace(&mut *bytes, rest))
    }

    /// Everything left.
    fn rest(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl Write for Ciphertext {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealtip_api::{Choice, Form, Question};
    use sealtip_envelope::Identity;

    fn profile(recipient: &str) -> AgencyProfile {
        let en = |t: &str| [("en".to_string(), t.to_string())].into();
        AgencyProfile {
            id: "demo".into(),
            name: "Demo".into(),
            recipients: vec![recipient.into()],
            languages: vec!["en".into()],
            form: Form {
                id: "demo-1".into(),
                questions: vec![
                    Question {
                        id: "what".into(),
                        kind: QuestionKind::LongText,
                        label: en("What happened?"),
                        help: Default::default(),
                        required: true,
                        choices: vec![],
                    },
                    Question {
                        id: "topic".into(),
                        kind: QuestionKind::Choice,
                        label: en("Topic"),
                        help: Default::default(),
                        required: false,
                        choices: vec![Choice {
                            id: "safety".into(),
                            label: en("Public safety"),
                        }],
                    },
                ],
            },
            emergency: Default::default(),
            exit_url: "https://example.org/".into(),
            embed_origins: Vec::new(),
            pow_difficulty: 0,
            max_upload_bytes: 1 << 20,
        }
    }

    #[test]
    fn a_sealed_tip_opens_with_the_agency_key_and_holds_the_cleaned_photo() {
        let identity = Identity::generate().unwrap();
        let profile = profile(&identity.recipient().to_string());
        let answers: BTreeMap<_, _> = [
            ("what".to_string(), " I saw it ".to_string()),
            ("topic".to_string(), "safety".to_string()),
        ]
        .into();
        let tip = build_tip(&profile, Lang::Es, &answers, "2026-11-29", None);
        assert_eq!(tip.text, "I saw it");
        assert_eq!(tip.answers.len(), 1);
        assert_eq!(tip.answers[0].value, "Public safety");
        assert_eq!(tip.language, "es");

        let jpeg = include_bytes!("../crates/scrub/tests/fixtures/gps.jpg").to_vec();
        let photo = Picked::clean("p.jpg".into(), "image/jpeg".into(), jpeg);
        let mut sealed = Vec::new();
        futures_executor::block_on(seal(
            &recipients(&profile).unwrap(),
            &[Attachment::of(&photo)],
            tip,
            None,
            &mut sealed,
            &mut InTurn::new(None),
            |_| {},
            &Cancel::default(),
        ))
        .unwrap();

        struct Keep(Vec<Vec<u8>>);
        impl sealtip_envelope::AttachmentSink for Keep {
            fn attachment(
                &mut self,
                _: &str,
                _: u64,
                data: &mut dyn std::io::Read,
            ) -> std::io::Result<()> {
                let mut bytes = Vec::new();
                data.read_to_end(&mut bytes)?;
                self.0.push(bytes);
                Ok(())
            }
        }
        let mut sink = Keep(Vec::new());
        let opened = sealtip_envelope::open_tip(
            sealed.as_slice(),
            &[identity],
            &Default::default(),
            &mut sink,
        )
        .unwrap();
        assert_eq!(opened.tip.text, "I saw it");
        assert_eq!(opened.tip.attachments[0].metadata, MetadataStatus::Removed);
        assert!(
            sealtip_scrub::scrub(&sink.0[0], None)
                .unwrap()
                .removed
                .is_empty()
        );
    }

    /// Opens `sealed` with `identity`: the tip and its attachments' paths.
    fn open(sealed: &[u8], identity: Identity) -> (sealtip_envelope::OpenedTip, Vec<String>) {
        struct Paths(Vec<String>);
        impl sealtip_envelope::AttachmentSink for Paths {
            fn attachment(
                &mut self,
                path: &str,
                _: u64,
                data: &mut dyn std::io::Read,
            ) -> std::io::Result<()> {
                std::io::copy(data, &mut std::io::sink())?;
                self.0.push(path.to_string());
                Ok(())
            }
        }
        let mut paths = Paths(Vec::new());
        let opened =
            sealtip_envelope::open_tip(sealed, &[identity], &Default::default(), &mut paths)
                .unwrap();
        (opened, paths.0)
    }

    fn seal_now(
        recipients: &[Recipient],
        files: &[Attachment],
        tip: Tip,
        key: Option<&ThreadKey>,
    ) -> Vec<u8> {
        let mut sealed = Vec::new();
        futures_executor::block_on(seal(
            recipients,
            files,
            tip,
            key,
            &mut sealed,
            &mut InTurn::new(None),
            |_| {},
            &Cancel::default(),
        ))
        .unwrap();
        sealed
    }

    #[test]
    fn the_file_name_is_removed_unless_the_tipster_keeps_it() {
        let identity = Identity::generate().unwrap();
        let file = |name: &str, keep_name| {
            let mut file = Picked::clean(name.into(), "text/plain".into(), b"notes".to_vec());
            file.keep_name = keep_name;
            file
        };
        let files = [
            file("Maria at the depot 2026-12-01.txt", false),
            file("notes.txt", true),
        ];
        let tip = Tip::new(Kind::Tip, "demo", "2026-12-06");
        let files: Vec<Attachment> = files.iter().map(Attachment::of).collect();
        let sealed = seal_now(&[identity.recipient()], &files, tip, None);
        let (opened, paths) = open(&sealed, identity);
        assert_eq!(paths, ["attachments/01.txt", "attachments/02.txt"]);
        let [removed, kept] = &opened.tip.attachments[..] else {
            panic!("{:?}", opened.tip.attachments)
        };
        assert_eq!(removed.name, "");
        assert_eq!(removed.removed, ["file name"]);
        assert!(!String::from_utf8_lossy(&opened.json).contains("Maria"));
        assert_eq!(kept.name, "notes.txt");
        assert!(kept.removed.is_empty());
    }

    /// A codename's keys without the slow derivation.
    fn reply_keys(seed: u8) -> ReplyKeys {
        ReplyKeys::new(
            Identity::hybrid_from_seed([seed; 32]),
            ThreadKey::from_bytes([seed; 32]),
        )
    }

    #[test]
    fn a_tip_offering_replies_carries_the_thread_and_a_follow_up_is_proven() {
        let agency = Identity::generate().unwrap();
        let profile = profile(&agency.recipient().to_string());
        let keys = reply_keys(3);
        let tip = build_tip(
            &profile,
            Lang::En,
            &BTreeMap::new(),
            "2026-12-06",
            Some(&keys),
        );
        let reply = tip.reply.clone().unwrap();
        assert_eq!(reply.mailbox, keys.mailbox);
        assert!(reply.recipient.starts_with("age1pq1"));
        assert_eq!(
            reply.thread_key.as_deref(),
            Some(keys.thread_key.to_hex().as_str())
        );

        let mut follow_up = Tip::new(Kind::Message, "demo", "2026-12-06");
        follow_up.thread = Some(keys.mailbox.clone());
        let sealed = seal_now(
            &[agency.recipient()],
            &[],
            follow_up,
            Some(&keys.thread_key),
        );
        let (opened, _) = open(&sealed, agency);
        assert_eq!(opened.tip.thread.as_deref(), Some(keys.mailbox.as_str()));
        let mac = opened.mac.expect("a follow-up carries its proof");
        assert!(keys.thread_key.verifies(&opened.json, &mac));
    }

    #[test]
    fn follow_ups_go_to_the_keys_the_agency_named_else_to_the_checked_relay_keys() {
        let served = Identity::generate().unwrap().recipient();
        let named = Identity::generate().unwrap().recipient();
        let profile = profile(&served.to_string());
        assert_eq!(
            follow_up_recipients(&profile, &[named.to_string()]),
            Some(vec![named])
        );
        assert_eq!(follow_up_recipients(&profile, &[]), Some(vec![served]));
        assert_eq!(
            follow_up_recipients(&profile, &["age1nonsense".into()]),
            None
        );
    }

    #[test]
    fn a_bad_recipient_stops_the_send() {
        assert!(recipients(&profile("age1nonsense")).is_none());
        let mut empty = profile("x");
        empty.recipients.clear();
        assert!(recipients(&empty).is_none());
    }
}
