//! The sealed-tip format of sealtip.
//!
//! A sealed tip is an [age v1](https://age-encryption.org/v1) file whose
//! plaintext is a padded ustar archive (the tip bundle). This crate is the only
//! place that format is written or read: keys, sealing, opening, the bundle,
//! padding and codenames. It does no I/O of its own: it reads and writes
//! through `std::io::Read`/`Write` given by the caller, and takes randomness
//! only from the operating system's or browser's CSPRNG.
//!
//! Features: `seal` (building files), `open` (opening them) and `wordlist`
//! (the codename wordlist built in), all on by default. Without `seal` and
//! `open` the crate holds keys, header syntax and codenames only: the relay
//! builds it that way and links no code that can open a tip. The web client
//! leaves `wordlist` out and reads the list with [`Wordlist::from_text`].
//!
//! See `FORMAT.md` beside this crate for the format in full.
//!
//! The modules are private: everything a caller uses is re-exported here,
//! once, so the crate's surface is this page.

#[cfg(any(feature = "seal", feature = "open"))]
mod armor;
mod bundle;
mod codename;
mod header;
mod keys;
mod layout;
#[cfg(any(feature = "seal", feature = "open"))]
mod mlkem768x25519;
#[cfg(feature = "open")]
mod open;
#[cfg(any(feature = "seal", feature = "open"))]
mod passphrase;
mod primitives;
mod proof;
mod reply;
#[cfg(feature = "seal")]
mod seal;
mod sealed_tip;
#[cfg(any(feature = "seal", feature = "open"))]
mod stream;
mod thread;
#[cfg(any(feature = "seal", feature = "open"))]
mod x25519;

// Keys and identities.
pub use keys::{HYBRID_PUBLIC_KEY_BYTES, Identity, IdentityFile, KeyError, KeyKind, Recipient};
pub use primitives::FileKey;

// The age header (all the relay reads) and the payload's layout.
pub use header::{Header, HeaderError, MAX_HEADER_BYTES, Stanza, VERSION_LINE};
pub use layout::{CHUNK_SIZE, NONCE_SIZE, SEALED_CHUNK_SIZE, TAG_SIZE, is_payload_length};

// The tip bundle: tip.json's schema and the archive's names.
pub use bundle::{
    ATTACHMENTS_DIR, Answer, Attachment, CaseChange, CaseStatus, Kind, MAX_LABEL_CHANGES,
    MAX_NAME_CHARS, MAX_NOTE_CHARS, MAX_SEEN, MetadataStatus, OpenedTip, ReplyTo, TIP_FORMAT,
    TIP_JSON, TIP_MAC, TIP_TXT, TIP_VERSION, TIP_VERSION_OLDEST, Tip, is_item_id, padme,
};
#[cfg(feature = "open")]
pub use bundle::{
    AttachmentSink, BundleReadError, HashingSink, Limits, read_bundle, read_bundle_hashed_by,
};
#[cfg(feature = "seal")]
pub use bundle::{
    AttachmentWriter, BundleWriteError, BundleWriter, FILE_NAME_REMOVED, MIN_PLAINTEXT_BYTES,
    NewAttachment,
};

// Codenames, reply keys and thread proofs.
pub use codename::{
    ARGON2_LANES, ARGON2_MEMORY_KIB, ARGON2_PASSES, Codename, CodenameError, DEFAULT_WORDS,
    MAX_WORDS, MIN_WORDS, ReplyKeys, WORDLIST_SHA256, Wordlist, WrongWordlist,
};
#[cfg(feature = "wordlist")]
pub use codename::{WORDLIST_TEXT, nearest_word};
pub use proof::{NotHex32, ThreadKey, mailbox_id_of_secret, parse_hex32};

// Threads and replies: which items are proven, who a reply goes to.
pub use reply::{AgencyReply, agency_reply};
#[cfg(feature = "open")]
pub use reply::{OpenedReplies, ProvenReply, open_replies};
pub use thread::{
    ItemView, ThreadOpening, case_is_proven, is_proven_in_thread, opens_thread, reply_is_proven,
};

// Sealing and opening: age files, and tips inside them.
#[cfg(feature = "seal")]
pub use armor::ArmoredWriter;
#[cfg(any(feature = "seal", feature = "open"))]
pub use armor::{ArmorError, ArmoredReader, BEGIN as ARMOR_BEGIN, END as ARMOR_END, is_armored};
#[cfg(feature = "open")]
pub use open::{
    IdentityFileError, OpenError, Opened, is_age_file, open, open_to_vec, open_with_passphrase,
    read_identity_file,
};
#[cfg(feature = "seal")]
pub use seal::{SealError, WrapError, seal, seal_to_vec, seal_with_passphrase};
#[cfg(feature = "seal")]
pub use sealed_tip::{SealingTip, seal_tip};
#[cfg(feature = "open")]
pub use sealed_tip::{TipError, open_tip};
#[cfg(feature = "seal")]
pub use stream::StreamWriter;
#[cfg(feature = "open")]
pub use stream::{PayloadError, StreamReader};
