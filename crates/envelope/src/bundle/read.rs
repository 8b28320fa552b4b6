//! Reading a bundle as a stream, refusing anything unsafe.
//!
//! Only regular files named `tip.json`, `tip.mac`, `tip.txt` or
//! `attachments/<name>` are accepted; absolute paths, `..`, links, devices, duplicates, names that
//! are not UTF-8 and sizes over the caller's limits are each refused with
//! their own error. Every attachment must be listed in `tip.json` with its
//! size and SHA-256, and every listed one must be present. After the archive,
//! only zero padding may follow.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};

use super::hashing::{CountingReader, HashingReader};
use super::{
    ATTACHMENTS_DIR, Kind, OpenedTip, TIP_FORMAT, TIP_JSON, TIP_MAC, TIP_TXT, TIP_VERSION,
    TIP_VERSION_OLDEST, Tip,
};
use crate::keys::Recipient;

/// Size limits for reading a bundle, chosen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most archive entries.
    pub max_entries: usize,
    /// The largest single attachment, in bytes.
    pub max_attachment_bytes: u64,
    /// The largest total of all entries, in bytes.
    pub max_total_bytes: u64,
    /// The largest `tip.json` or `tip.txt`, in bytes.
    pub max_text_bytes: u64,
}

impl Default for Limits {
    /// Limits for an agency's machine: up to 2 GiB in all (a long phone
    /// video), 10,000 entries, 4 MiB of text. The relay's own upload limit
    /// (256 MiB by default) is usually the tighter one.
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_attachment_bytes: 2 << 30,
            max_total_bytes: 2 << 30,
            max_text_bytes: 4 << 20,
        }
    }
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleReadError {
    /// An entry name with an absolute path or a `..`, `.` or empty component.
    #[error("unsafe entry name {0:?} (absolute path or \"..\")")]
    UnsafePath(String),
    /// An entry name that is not valid UTF-8.
    #[error("an entry name is not valid UTF-8")]
    NameNotUtf8,
    /// A link, device, fifo or other non-file entry.
    #[error("entry {path:?} is a {kind}, not a regular file")]
    NotAFile {
        /// The entry name.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// The same name twice.
    #[error("entry {0:?} appears twice")]
    Duplicate(String),
    /// A regular file outside the bundle's layout.
    #[error("unexpected entry {0:?}")]
    UnexpectedEntry(String),
    /// An entry or the whole bundle is over the caller's limits.
    #[error("{what} is over the limit of {limit} bytes")]
    TooLarge {
        /// What is too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// More entries than the caller allows.
    #[error("more than {0} entries")]
    TooManyEntries(usize),
    /// No `tip.json`.
    #[error("the bundle has no tip.json")]
    MissingTipJson,
    /// `tip.json` does not follow its schema version.
    #[error("tip.json is invalid: {0}")]
    InvalidTipJson(String),
    /// `tip.json` of another format or version.
    #[error(
        "tip.json is format {format:?} version {version}; this reader knows {TIP_FORMAT:?} versions {TIP_VERSION_OLDEST} to {TIP_VERSION}"
    )]
    UnsupportedVersion {
        /// Its `format`.
        format: String,
        /// Its `version`.
        version: u32,
    },
    /// An attachment whose bytes do not match `tip.json`.
    #[error("attachment {0:?} does not match its SHA-256 or size in tip.json")]
    AttachmentMismatch(String),
    /// An attachment listed in `tip.json` but absent, or present but unlisted.
    #[error("attachment {0:?} is listed in tip.json but missing, or present but not listed")]
    AttachmentUnlisted(String),
    /// Non-zero bytes after the end of the archive.
    #[error("data follows the end of the archive")]
    TrailingData,
    /// The archive structure is broken, or reading failed (including
    /// decryption errors of the sealed file underneath: see
    /// [`crate::OpenError::from_io`]).
    #[error("could not read the tip bundle: {0}")]
    Io(#[from] io::Error),
}

/// Receives attachments while the bundle is read.
pub trait AttachmentSink {
    /// Called once per attachment with its archive path (`attachments/…`),
    /// size and bytes. Must consume `data` to its end (or fail).
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<()>;
}

/// Discards attachments: for callers that only want `tip.json`.
impl AttachmentSink for () {
    fn attachment(&mut self, _path: &str, _size: u64, data: &mut dyn Read) -> io::Result<()> {
        io::copy(data, &mut io::sink()).map(|_| ())
    }
}

/// Receives attachments and hashes them itself: for a caller that hashes
/// on another core while it writes ([`read_bundle_hashed_by`]).
pub trait HashingSink {
    /// As [`AttachmentSink::attachment`], and returns the SHA-256 of exactly
    /// the bytes it read from `data`. The bundle reader counts those bytes,
    /// reads whatever the sink left, and holds the count and this hash to
    /// `tip.json`: a sink that reads less, or hashes wrong, gets the
    /// attachment refused.
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<[u8; 32]>;
}

/// An [`AttachmentSink`] whose attachments are hashed here, on the way to it.
struct HashedOnTheWay<'a>(&'a mut dyn AttachmentSink);

impl HashingSink for HashedOnTheWay<'_> {
    fn attachment(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<[u8; 32]> {
        let mut hashing = HashingReader::new(data);
        self.0.attachment(path, size, &mut hashing)?;
        io::copy(&mut hashing, &mut io::sink())?;
        Ok(hashing.digest())
    }
}

/// Reads and checks a bundle; attachments go to `sink` as they stream by.
///
/// The caller must treat what the sink received as unverified until this
/// returns `Ok` (the CLI unpacks into a temporary folder for that reason).
pub fn read_bundle<R: Read>(
    input: R,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<OpenedTip, BundleReadError> {
    read_bundle_hashed_by(input, limits, &mut HashedOnTheWay(sink))
}

/// [`read_bundle`], with each attachment's SHA-256 computed by `sink`
/// instead of on the reading thread: every other check is the same.
pub fn read_bundle_hashed_by<R: Read>(
    input: R,
    limits: &Limits,
    sink: &mut dyn HashingSink,
) -> Result<OpenedTip, BundleReadError> {
    let mut archive = tar::Archive::new(input);
    let mut names = BTreeSet::new();
    let mut seen: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut tip_json = None;
    let mut text = None;
    let mut mac = None;
    let mut total = 0u64;
    // Raw entries: GNU long-name and PAX extension records reach `check_kind`
    // (and are refused) instead of being buffered whole by the tar reader
    // before any limit applies. sealtip's writer never emits them.
    for entry in archive.entries()?.raw(true) {
        let mut entry = entry?;
        if names.len() >= limits.max_entries {
            return Err(BundleReadError::TooManyEntries(limits.max_entries));
        }
        let path = std::str::from_utf8(&entry.path_bytes())
            .map_err(|_| BundleReadError::NameNotUtf8)?
            .to_string();
        check_path(&path)?;
        check_kind(&path, entry.header().entry_type())?;
        if !names.insert(path.clone()) {
            return Err(BundleReadError::Duplicate(path));
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(BundleReadError::TooLarge {
                what: "the bundle".into(),
                limit: limits.max_total_bytes,
            });
        }
        if path == TIP_MAC {
            if size != 65 {
                return Err(BundleReadError::InvalidTipJson(
                    "tip.mac is not 64 hex digits and a newline".into(),
                ));
            }
            let mut bytes = Vec::with_capacity(65);
            entry.read_to_end(&mut bytes)?;
            let hex = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|text| text.strip_suffix('\n'))
                .and_then(|hex| crate::proof::parse_hex32(hex).ok());
            mac = Some(hex.ok_or_else(|| {
                BundleReadError::InvalidTipJson("tip.mac is not 64 hex digits and a newline".into())
            })?);
        } else if path == TIP_JSON || path == TIP_TXT {
            if size > limits.max_text_bytes {
                return Err(BundleReadError::TooLarge {
                    what: path,
                    limit: limits.max_text_bytes,
                });
            }
            let mut bytes = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut bytes)?;
            if path == TIP_JSON {
                tip_json = Some(bytes);
            } else {
                text =
                    Some(String::from_utf8(bytes).map_err(|_| {
                        BundleReadError::InvalidTipJson("tip.txt is not UTF-8".into())
                    })?);
            }
        } else if path
            .strip_prefix(ATTACHMENTS_DIR)
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
        {
            if size > limits.max_attachment_bytes {
                return Err(BundleReadError::TooLarge {
                    what: path,
                    limit: limits.max_attachment_bytes,
                });
            }
            let mut counting = CountingReader::new(&mut entry);
            let digest = sink.attachment(&path, size, &mut counting)?;
            // Bytes the sink left unread count, unhashed: its hash then
            // cannot match tip.json's.
            io::copy(&mut counting, &mut io::sink())?;
            seen.insert(path, (counting.count(), hex::encode(digest)));
        } else {
            return Err(BundleReadError::UnexpectedEntry(path));
        }
    }
    // Only zeros may follow the archive; reading to the end also makes the
    // sealed file underneath authenticate its final chunk.
    let mut rest = archive.into_inner();
    let mut buf = [0u8; 8192];
    loop {
        let n = rest.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|b| *b != 0) {
            return Err(BundleReadError::TrailingData);
        }
    }
    let json = tip_json.ok_or(BundleReadError::MissingTipJson)?;
    let tip = parse_tip(&json)?;
    for listed in &tip.attachments {
        match seen.remove(&listed.path) {
            None => return Err(BundleReadError::AttachmentUnlisted(listed.path.clone())),
            Some((size, digest)) if size != listed.size || digest != listed.sha256 => {
                return Err(BundleReadError::AttachmentMismatch(listed.path.clone()));
            }
            Some(_) => {}
        }
    }
    if let Some(path) = seen.into_keys().next() {
        return Err(BundleReadError::AttachmentUnlisted(path));
    }
    Ok(OpenedTip {
        tip,
        text,
        json,
        mac,
    })
}

fn check_path(path: &str) -> Result<(), BundleReadError> {
    let unsafe_path = path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if unsafe_path {
        return Err(BundleReadError::UnsafePath(path.to_string()));
    }
    Ok(())
}

fn check_kind(path: &str, kind: tar::EntryType) -> Result<(), BundleReadError> {
    let name = match kind {
        tar::EntryType::Regular | tar::EntryType::Continuous => return Ok(()),
        tar::EntryType::Link => "hard link",
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Directory => "directory",
        tar::EntryType::Fifo => "fifo",
        _ => "special entry",
    };
    Err(BundleReadError::NotAFile {
        path: path.to_string(),
        kind: name,
    })
}

fn parse_tip(json: &[u8]) -> Result<Tip, BundleReadError> {
    // Read as text, like the web page reads the relay's answers, so that the
    // page's wasm holds one JSON reader (`from_slice` would add a second).
    let json = std::str::from_utf8(json)
        .map_err(|err| BundleReadError::InvalidTipJson(err.to_string()))?;
    #[derive(serde::Deserialize)]
    struct Version {
        format: String,
        version: u32,
    }
    let version: Version = serde_json::from_str(json)
        .map_err(|err| BundleReadError::InvalidTipJson(err.to_string()))?;
    if version.format != TIP_FORMAT
        || !(TIP_VERSION_OLDEST..=TIP_VERSION).contains(&version.version)
    {
        return Err(BundleReadError::UnsupportedVersion {
            format: version.format,
            version: version.version,
        });
    }
    let tip: Tip = serde_json::from_str(json)
        .map_err(|err| BundleReadError::InvalidTipJson(err.to_string()))?;
    let invalid = |what: &str| Err(BundleReadError::InvalidTipJson(what.into()));
    if let Some(reply) = &tip.reply {
        Recipient::parse(&reply.recipient)
            .map_err(|err| BundleReadError::InvalidTipJson(format!("reply recipient: {err}")))?;
        if !is_mailbox_id(&reply.mailbox) {
            return invalid("reply mailbox is not 32 lowercase hex digits");
        }
    }
    if tip.version == 1 {
        let schema_2 = tip.thread.is_some()
            || tip.case.is_some()
            || tip.kind == Kind::Case
            || !tip.agency_keys.is_empty()
            || tip.reply.as_ref().is_some_and(|r| r.thread_key.is_some());
        if schema_2 {
            return invalid("version 1 has no thread, agency_keys or thread_key");
        }
        return Ok(tip);
    }
    if (tip.kind == Kind::Case) != tip.case.is_some() {
        return invalid("a case item, and only a case item, holds a case object");
    }
    if let Some(problem) = tip.case.as_ref().and_then(|case| case.problem()) {
        return invalid(problem);
    }
    match (tip.kind, &tip.reply, &tip.thread) {
        (Kind::Tip, _, None) => {}
        (Kind::Message | Kind::Reply | Kind::Case, None, Some(_)) => {}
        (Kind::Tip, _, Some(_)) => return invalid("a tip starts a thread; it names none"),
        _ => return invalid("a follow-up or reply names its thread and no reply details"),
    }
    if let Some(reply) = &tip.reply {
        let key = reply.thread_key.as_deref().unwrap_or("");
        if crate::proof::parse_hex32(key).is_err() {
            return invalid("reply thread_key is not 64 lowercase hex digits");
        }
    }
    if tip.thread.as_deref().is_some_and(|m| !is_mailbox_id(m)) {
        return invalid("thread is not a mailbox id (32 lowercase hex digits)");
    }
    if tip.kind != Kind::Reply && !tip.agency_keys.is_empty() {
        return invalid("only an agency's reply names agency keys");
    }
    for key in &tip.agency_keys {
        Recipient::parse(key)
            .map_err(|err| BundleReadError::InvalidTipJson(format!("agency key: {err}")))?;
    }
    Ok(tip)
}

/// 32 lowercase hex digits: a mailbox id.
pub(crate) fn is_mailbox_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
