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

#[cfg(any(feature = "seal", feature = "open"))]
pub mod armor;
pub mod bundle;
pub mod codename;
pub mod header;
pub mod keys;
pub mod layout;
#[cfg(any(feature = "seal", feature = "open"))]
mod mlkem768x25519;
mod primitives;
pub mod proof;
pub mod reply;
pub mod sealed_tip;
#[cfg(any(feature = "seal", feature = "open"))]
pub mod stream;
pub mod thread;
#[cfg(any(feature = "seal", feature = "open"))]
mod x25519;

#[cfg(feature = "open")]
pub mod open;
#[cfg(any(feature = "seal", feature = "open"))]
mod passphrase;
#[cfg(feature = "seal")]
pub mod seal;

pub use codename::{Codename, CodenameError, ReplyKeys, Wordlist};
pub use keys::{Identity, IdentityFile, KeyError, KeyKind, Recipient};
pub use primitives::FileKey;
pub use proof::ThreadKey;

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
