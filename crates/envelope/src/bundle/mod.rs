//! The tip bundle: the plaintext inside a sealed tip.
//!
//! A ustar archive, written and read as a stream:
//!
//! ```text
//! attachments/01.jpg      each attached file, metadata already removed
//! attachments/02.mp4
//! tip.json                the machine-readable tip (schema: [`Tip`])
//! tip.mac                 its thread proof, if it is in a thread ([`crate::proof`])
//! tip.txt                 the same, for a person
//! <end-of-archive>        two zero blocks
//! <zero padding>          to at least 64 KiB, then to the Padmé size
//! ```
//!
//! Attachments come first so a writer can stream them and hash them on the
//! way; `tip.json`, which lists their SHA-256, follows them. tar readers stop
//! at the end-of-archive blocks, so the padding costs them nothing.

mod case;
#[cfg(feature = "open")]
mod hashing;
mod padme;
mod tip;

#[cfg(feature = "open")]
mod read;
#[cfg(feature = "seal")]
mod write;

pub use case::{
    CaseChange, CaseStatus, MAX_LABEL_CHANGES, MAX_NAME_CHARS, MAX_NOTE_CHARS, MAX_SEEN, is_item_id,
};
pub use padme::padme;
pub use tip::{
    Answer, Attachment, Kind, MetadataStatus, OpenedTip, ReplyTo, TIP_FORMAT, TIP_VERSION,
    TIP_VERSION_OLDEST, Tip,
};

#[cfg(feature = "open")]
pub use read::{
    AttachmentSink, BundleReadError, HashingSink, Limits, read_bundle, read_bundle_hashed_by,
};
#[cfg(feature = "seal")]
pub use write::{
    AttachmentWriter, BundleWriteError, BundleWriter, FILE_NAME_REMOVED, MIN_PLAINTEXT_BYTES,
    NewAttachment,
};

/// The archive path of the machine-readable tip.
pub const TIP_JSON: &str = "tip.json";
/// The archive path of the thread proof: 64 lowercase hex digits and a newline.
pub const TIP_MAC: &str = "tip.mac";
/// The archive path of the human-readable tip.
pub const TIP_TXT: &str = "tip.txt";
/// The archive folder of attachments.
pub const ATTACHMENTS_DIR: &str = "attachments/";
