//! Codenames: how a tipster hears back without an account.
//!
//! A codename is words drawn uniformly from the EFF large wordlist (7,776
//! words, log2(7776) ≈ 12.9 bits each; 8 words ≈ 103 bits). It is generated
//! on the tipster's device and never leaves it. From it:
//!
//! ```text
//! master     = Argon2id(password = the words joined by single spaces,
//!                       salt = "sealtip codename v1",
//!                       m = 64 MiB, t = 3, p = 1, 32-byte output)
//! seed       = HKDF-SHA-256(ikm = master, salt = "", "sealtip reply identity v2")
//! identity   = the hybrid (ML-KEM-768 + X25519) identity with that X-Wing seed
//! thread key = HKDF-SHA-256(ikm = master, salt = "", "sealtip thread key v2")
//! mailbox    = bound to the identity's recipient and the thread key (crate::proof)
//! ```
//!
//! The tip carries the recipient, the thread key and the mailbox id inside
//! the ciphertext. The agency seals replies to that recipient and posts them
//! to that mailbox; the tipster re-derives all three from the words on any
//! device. Replies are post-quantum like the tips.
//!
//! Parameters: the words already carry ~103 bits, so Argon2id is there to
//! make a guessed or partly overheard codename expensive to test, not to
//! stretch a weak secret. 64 MiB with 3 passes takes about 0.3 s natively and
//! 0.6 s in wasm (headless Chromium, release build) on a 2-core server, so
//! 1–2 s on a mid-range phone (3–4× slower), which a tipster waits once per
//! visit; 64 MiB still fits the memory of a cheap
//! phone's browser tab. One lane, because wasm runs it on one thread anyway.
//!
//! The wordlist is the EFF's (<https://www.eff.org/dice>, CC BY 3.0 US).

#[cfg(feature = "wordlist")]
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::keys::{Identity, Recipient};
use crate::primitives::hkdf;
pub use crate::proof::{ThreadKey, mailbox_id_of_secret};

/// Words in a new codename.
pub const DEFAULT_WORDS: usize = 8;
/// The fewest words accepted when a codename is typed back (≈ 77 bits).
pub const MIN_WORDS: usize = 6;
/// The most words accepted.
pub const MAX_WORDS: usize = 24;
/// Argon2id memory in KiB.
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_PASSES: u32 = 3;
/// Argon2id lanes.
pub const ARGON2_LANES: u32 = 1;
const SALT: &[u8] = b"sealtip codename v1";

/// SHA-256 (hex) of `eff_large_wordlist.txt`: one word a line, 7,776 lines.
pub const WORDLIST_SHA256: &str =
    "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522";

/// The wordlist file, built in (feature `wordlist`). The web client leaves
/// it out of its first load and fetches the file when it needs it.
#[cfg(feature = "wordlist")]
pub const WORDLIST_TEXT: &str = include_str!("eff_large_wordlist.txt");

/// The EFF large wordlist, checked against [`WORDLIST_SHA256`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wordlist {
    words: Vec<Box<str>>,
}

/// The wordlist text given is not the EFF large list this format uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this is not the codename wordlist (its SHA-256 differs)")]
pub struct WrongWordlist;

impl Wordlist {
    /// Reads the wordlist file, refusing any text but the published one.
    pub fn from_text(text: &str) -> Result<Wordlist, WrongWordlist> {
        if hex::encode(Sha256::digest(text.as_bytes())) != WORDLIST_SHA256 {
            return Err(WrongWordlist);
        }
        Ok(Wordlist {
            words: text.lines().map(Box::from).collect(),
        })
    }

    /// The list built into this program.
    #[cfg(feature = "wordlist")]
    pub fn builtin() -> &'static Wordlist {
        static LIST: OnceLock<Wordlist> = OnceLock::new();
        LIST.get_or_init(|| Wordlist {
            words: WORDLIST_TEXT.lines().map(Box::from).collect(),
        })
    }

    /// The 7,776 words, in the EFF's (alphabetical) order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &str> {
        self.words.iter().map(|word| &**word)
    }

    /// Whether `word` (lowercase) is in the list.
    pub fn contains(&self, word: &str) -> bool {
        self.words.binary_search_by(|w| (**w).cmp(word)).is_ok()
    }

    /// A new codename of `words` words, each drawn uniformly from the list.
    pub fn generate(&self, words: usize) -> Result<Codename, CodenameError> {
        let list = &self.words;
        let mut chosen = Vec::with_capacity(words);
        // Rejection sampling from 16-bit draws: 62,208 = 8 × 7,776 is the
        // largest multiple of the list length below 2^16, so every word is
        // equally likely.
        let limit = (u16::MAX as usize + 1) / list.len() * list.len();
        while chosen.len() < words {
            let mut draw = [0u8; 2];
            crate::primitives::random(&mut draw).map_err(|_| CodenameError::Random)?;
            let value = u16::from_le_bytes(draw) as usize;
            if value < limit {
                chosen.push(&*list[value % list.len()]);
            }
        }
        Ok(Codename(Zeroizing::new(chosen.join(" "))))
    }

    /// Reads a typed codename: case, extra spaces and line breaks do not
    /// matter; every word must be in the list.
    pub fn parse(&self, text: &str) -> Result<Codename, CodenameError> {
        let lower = Zeroizing::new(text.to_lowercase());
        let words: Vec<&str> = lower
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        if !(MIN_WORDS..=MAX_WORDS).contains(&words.len()) {
            return Err(CodenameError::WordCount(words.len()));
        }
        for (index, word) in words.iter().enumerate() {
            if !self.contains(word) {
                return Err(CodenameError::UnknownWord {
                    position: index + 1,
                    word: word.to_string(),
                    suggestion: self.nearest(word).to_string(),
                });
            }
        }
        Ok(Codename(Zeroizing::new(words.join(" "))))
    }

    /// The list word closest to `typed` by edit distance (ties: list order).
    pub fn nearest(&self, typed: &str) -> &str {
        let mut best = (usize::MAX, "");
        for word in self.words() {
            let distance = edit_distance(typed, word);
            if distance < best.0 {
                best = (distance, word);
            }
        }
        best.1
    }
}

/// Why a typed codename was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodenameError {
    /// Too few or too many words.
    #[error("a codename has {MIN_WORDS} to {MAX_WORDS} words; this has {0}")]
    WordCount(usize),
    /// A word that is not in the list, with the nearest one that is.
    #[error("word {position} ({word:?}) is not a codename word; did you mean {suggestion:?}?")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
        /// The word as typed.
        word: String,
        /// The nearest word of the list.
        suggestion: String,
    },
    /// The CSPRNG failed.
    #[error("the system random generator failed")]
    Random,
    /// Argon2id refused its parameters (cannot happen with the constants).
    #[error("key derivation failed")]
    Derivation,
}

/// A codename: a few words from the list. Zeroized on drop, never printed
/// by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Codename(Zeroizing<String>);

impl std::fmt::Debug for Codename {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codename([redacted])")
    }
}

/// What a codename derives: the tipster's reply identity, thread key and
/// mailbox.
#[derive(Debug, Clone)]
pub struct ReplyKeys {
    /// Opens the agency's replies (hybrid post-quantum).
    pub identity: Identity,
    /// Proves items of this thread (see [`crate::proof`]).
    pub thread_key: ThreadKey,
    /// What the tipster shows the relay to delete a reply of the mailbox.
    pub mailbox_secret: Zeroizing<[u8; 32]>,
    /// The relay mailbox the agency posts replies to: 32 lowercase hex digits.
    pub mailbox: String,
}

impl ReplyKeys {
    /// The keys of a reply identity and a thread key: the mailbox is bound
    /// to both (see [`crate::proof`]).
    pub fn new(identity: Identity, thread_key: ThreadKey) -> Self {
        let mailbox_secret = thread_key.mailbox_secret(&identity.recipient());
        ReplyKeys {
            mailbox: mailbox_id_of_secret(&mailbox_secret),
            identity,
            thread_key,
            mailbox_secret,
        }
    }

    /// The recipient the agency seals replies to.
    pub fn recipient(&self) -> Recipient {
        self.identity.recipient()
    }
}

impl Codename {
    /// A new codename of `words` words from the built-in list.
    #[cfg(feature = "wordlist")]
    pub fn generate(words: usize) -> Result<Self, CodenameError> {
        Wordlist::builtin().generate(words)
    }

    /// Reads a typed codename with the built-in list; see [`Wordlist::parse`].
    #[cfg(feature = "wordlist")]
    pub fn parse(text: &str) -> Result<Self, CodenameError> {
        Wordlist::builtin().parse(text)
    }

    /// The words, separated by single spaces. Treat as a secret.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The words, one by one.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ')
    }

    /// Derives the reply identity, thread key and mailbox (slow on purpose:
    /// about a second on a phone).
    pub fn derive(&self) -> Result<ReplyKeys, CodenameError> {
        let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, Some(32))
            .map_err(|_| CodenameError::Derivation)?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut master = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(self.0.as_bytes(), SALT, master.as_mut())
            .map_err(|_| CodenameError::Derivation)?;
        let mut seed = hkdf(&[], b"sealtip reply identity v2", master.as_ref());
        let identity = Identity::hybrid_from_seed(seed);
        seed.zeroize();
        let thread_key =
            ThreadKey::from_bytes(hkdf(&[], b"sealtip thread key v2", master.as_ref()));
        Ok(ReplyKeys::new(identity, thread_key))
    }
}

/// The built-in list's word closest to `typed`; see [`Wordlist::nearest`].
#[cfg(feature = "wordlist")]
pub fn nearest_word(typed: &str) -> &'static str {
    Wordlist::builtin().nearest(typed)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(all(test, feature = "wordlist"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_wordlist_is_the_eff_large_list() {
        let list: Vec<&str> = Wordlist::builtin().words().collect();
        assert_eq!(list.len(), 7776);
        assert_eq!(list[0], "abacus");
        assert_eq!(list[7775], "zoom");
        assert!(
            list.windows(2).all(|w| w[0] < w[1]),
            "sorted, so binary search works"
        );
        // The built-in text is the published one, and reads the same way.
        assert_eq!(
            &Wordlist::from_text(WORDLIST_TEXT).unwrap(),
            Wordlist::builtin()
        );
    }

    #[test]
    fn any_other_wordlist_text_is_refused() {
        let changed = WORDLIST_TEXT.replacen("abacus", "abacas", 1);
        assert_eq!(Wordlist::from_text(&changed), Err(WrongWordlist));
        assert_eq!(Wordlist::from_text(""), Err(WrongWordlist));
        let with_crlf = WORDLIST_TEXT.replace('\n', "\r\n");
        assert_eq!(Wordlist::from_text(&with_crlf), Err(WrongWordlist));
    }

    #[test]
    fn generated_codenames_parse_back() {
        let codename = Codename::generate(DEFAULT_WORDS).unwrap();
        assert_eq!(codename.words().count(), 8);
        let retyped = format!(
            "  {}\n",
            codename.as_str().to_uppercase().replace(' ', "   ")
        );
        assert_eq!(Codename::parse(&retyped).unwrap(), codename);
        assert_ne!(Codename::generate(DEFAULT_WORDS).unwrap(), codename);
    }

    #[test]
    fn typos_get_the_nearest_word() {
        let err = Codename::parse("abacus abdomen abide ablaze abrasion zoologi").unwrap_err();
        assert_eq!(
            err,
            CodenameError::UnknownWord {
                position: 6,
                word: "zoologi".into(),
                suggestion: "zoology".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "word 6 (\"zoologi\") is not a codename word; did you mean \"zoology\"?"
        );
        assert_eq!(
            Codename::parse("abacus zoom").unwrap_err(),
            CodenameError::WordCount(2)
        );
    }

    #[test]
    fn debug_never_prints_the_words() {
        let codename = Codename::parse("abacus abdomen abide ablaze abrasion zoology").unwrap();
        assert_eq!(format!("{codename:?}"), "Codename([redacted])");
    }

    /// The known answer published in FORMAT.md, for second implementations.
    #[test]
    fn derivation_known_answer() {
        let keys = Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom able")
            .unwrap()
            .derive()
            .unwrap();
        assert_eq!(
            keys.identity.to_secret_string().as_str(),
            "AGE-SECRET-KEY-PQ-1P0DFACM0UL75V7J523U3X9L7ZYXGRZD27FCVEXJ9Z562NEGK6FJS4645HG"
        );
        assert_eq!(
            keys.recipient().fingerprint(),
            "62d6-4d4d-f522-8eb7-34f8-6db1-cc08-c9d6"
        );
        assert_eq!(
            keys.thread_key.to_hex().as_str(),
            "5770fbf4e2e3e3a85085d81c30d9eae15bd638d8709cec1fe0788986bd56bf47"
        );
        assert_eq!(
            hex::encode(keys.mailbox_secret.as_ref()),
            "597a80537474fda4ea05d771bc86489eecc5139ecde7accace0441932051ca1a"
        );
        assert_eq!(keys.mailbox, "160901a8ce5f34756e81ba181d4f02ac");
    }

    #[test]
    fn derivation_is_deterministic_and_separates_keys() {
        let codename =
            Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom able").unwrap();
        let first = codename.derive().unwrap();
        let again = codename.derive().unwrap();
        assert_eq!(first.recipient(), again.recipient());
        assert_eq!(first.mailbox, again.mailbox);
        assert_eq!(first.mailbox.len(), 32);
        let other = Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom abide")
            .unwrap()
            .derive()
            .unwrap();
        assert_ne!(other.recipient(), first.recipient());
        assert_ne!(other.mailbox, first.mailbox);
    }
}
