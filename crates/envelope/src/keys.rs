//! Agency and tipster keys, written as age writes them.
//!
//! Two kinds, as in age 1.4:
//!
//! - **hybrid post-quantum** (the default): a recipient `age1pq1…` holds the
//!   1,216-byte ML-KEM-768 + X25519 (X-Wing) public key; an identity
//!   `AGE-SECRET-KEY-PQ-1…` holds its 32-byte seed;
//! - **X25519** (legacy): a recipient `age1…` holds the 32-byte X25519
//!   public key; an identity `AGE-SECRET-KEY-1…` its secret scalar.
//!
//! All are Bech32 (not Bech32m) without Bech32's 90-character limit,
//! recipients lowercase and identities uppercase. An identity file holds
//! identity lines, `#` comment lines and empty lines; `age-keygen` writes
//! `# created: <RFC 3339>` and `# public key: age1…` above the key, and so
//! does [`IdentityFile::to_text`].

use bech32::Hrp;
use bech32::primitives::checksum::Checksum;
use bech32::primitives::decode::CheckedHrpstring;
use bech32::primitives::gf32_ext::Fe1024;
use sha2::{Digest, Sha256};
use x_wing::{KeyExport, TryKeyInit};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const RECIPIENT_HRP: &str = "age";
const HYBRID_RECIPIENT_HRP: &str = "age1pq";
const IDENTITY_HRP: &str = "AGE-SECRET-KEY-";
const HYBRID_IDENTITY_HRP: &str = "AGE-SECRET-KEY-PQ-";

/// Bytes of a hybrid (X-Wing) public key: ML-KEM-768's 1,184 and X25519's 32.
pub const HYBRID_PUBLIC_KEY_BYTES: usize = x_wing::ENCAPSULATION_KEY_SIZE;

/// Why a key could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Not valid Bech32 with the expected prefix, or a bad checksum.
    #[error("not a valid {expected} key: {reason}")]
    Malformed {
        /// What kind of key was expected.
        expected: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A key of a kind sealtip does not implement (SSH, plugin).
    #[error(
        "unsupported key type {0:?}: sealtip uses age's hybrid (age1pq1… / AGE-SECRET-KEY-PQ-1…) and X25519 (age1… / AGE-SECRET-KEY-1…) keys"
    )]
    Unsupported(String),
    /// An identity file with no identity in it.
    #[error("the identity file holds no AGE-SECRET-KEY-PQ-1… or AGE-SECRET-KEY-1… line")]
    NoIdentity,
    /// The CSPRNG failed.
    #[error("the system random generator failed")]
    Random,
}

/// Which kind of key: hybrid post-quantum or X25519 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// ML-KEM-768 + X25519 (`age1pq1…`), age's `mlkem768x25519` stanza.
    Hybrid,
    /// X25519 only (`age1…`), age's `X25519` stanza.
    X25519,
}

/// An agency's (or a tipster's reply) public key: who a tip is sealed to.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Recipient(pub(crate) RecipientKey);

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum RecipientKey {
    X25519(PublicKey),
    /// The X-Wing encapsulation key bytes, checked to parse when read.
    Hybrid(Box<[u8; HYBRID_PUBLIC_KEY_BYTES]>),
}

impl Recipient {
    /// Parses `age1pq1…` (hybrid) or `age1…` (X25519).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.starts_with("age1pq1") {
            let bytes = decode_bech32(text, HYBRID_RECIPIENT_HRP, "age1pq1… recipient")?;
            let bytes: Box<[u8; HYBRID_PUBLIC_KEY_BYTES]> = bytes
                .to_vec()
                .into_boxed_slice()
                .try_into()
                .map_err(|_| KeyError::Malformed {
                    expected: "age1pq1… recipient",
                    reason: "wrong length".into(),
                })?;
            x_wing::EncapsulationKey::new_from_slice(bytes.as_slice()).map_err(|_| {
                KeyError::Malformed {
                    expected: "age1pq1… recipient",
                    reason: "not a valid ML-KEM-768 public key".into(),
                }
            })?;
            return Ok(Recipient(RecipientKey::Hybrid(bytes)));
        }
        if text.starts_with("age1") && text.len() > 62 {
            // Plugin recipients `age1name1…` and other longer forms.
            return Err(KeyError::Unsupported(prefix_of(text)));
        }
        let bytes = decode_bech32(text, RECIPIENT_HRP, "age1… recipient")?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Malformed {
                expected: "age1… recipient",
                reason: "wrong length".into(),
            })?;
        Ok(Recipient(RecipientKey::X25519(PublicKey::from(bytes))))
    }

    /// Hybrid post-quantum or X25519 only.
    pub fn kind(&self) -> KeyKind {
        match self.0 {
            RecipientKey::X25519(_) => KeyKind::X25519,
            RecipientKey::Hybrid(_) => KeyKind::Hybrid,
        }
    }

    /// The raw public key: 32 bytes (X25519) or 1,216 bytes (hybrid).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            RecipientKey::X25519(key) => key.as_bytes(),
            RecipientKey::Hybrid(bytes) => bytes.as_slice(),
        }
    }

    /// A fingerprint a person can compare: the first 16 bytes (128 bits) of
    /// SHA-256 over the raw public key, as eight groups of four hex digits
    /// (`3f2a-09c1-…`, 39 characters).
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.as_bytes());
        let hex = hex::encode(&digest[..16]);
        let groups: Vec<&str> = (0..8).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join("-")
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match &self.0 {
            RecipientKey::X25519(key) => encode_bech32(RECIPIENT_HRP, key.as_bytes(), false),
            RecipientKey::Hybrid(bytes) => {
                encode_bech32(HYBRID_RECIPIENT_HRP, bytes.as_slice(), false)
            }
        };
        f.write_str(&text)
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind() {
            KeyKind::X25519 => write!(f, "Recipient({self})"),
            KeyKind::Hybrid => write!(f, "Recipient(age1pq1…, {})", self.fingerprint()),
        }
    }
}

impl std::str::FromStr for Recipient {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Recipient::parse(s)
    }
}

/// A secret key that opens tips sealed to its [`Recipient`]. Zeroized on
/// drop; its `Debug` prints only the public key's fingerprint.
#[derive(Clone)]
pub struct Identity(pub(crate) IdentityKey);

#[derive(Clone)]
pub(crate) enum IdentityKey {
    X25519(StaticSecret),
    /// The X-Wing decapsulation key (its 32-byte seed), refusing an
    /// all-zero X25519 share as age does.
    Hybrid(Box<x_wing::DecapsulationKeyRejectNonContrib>),
}

impl Identity {
    /// A new random hybrid post-quantum identity (the default kind).
    pub fn generate() -> Result<Self, KeyError> {
        Self::generate_kind(KeyKind::Hybrid)
    }

    /// A new random identity of `kind`, from the system's CSPRNG.
    pub fn generate_kind(kind: KeyKind) -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        crate::primitives::random(bytes.as_mut()).map_err(|_| KeyError::Random)?;
        Ok(match kind {
            KeyKind::Hybrid => Identity::hybrid_from_seed(*bytes),
            KeyKind::X25519 => Identity::from_secret_bytes(*bytes),
        })
    }

    /// An X25519 identity from its 32 secret bytes.
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        Identity(IdentityKey::X25519(StaticSecret::from(bytes)))
    }

    /// A hybrid identity from its 32-byte X-Wing seed (the codename
    /// derivation uses it).
    pub fn hybrid_from_seed(seed: [u8; 32]) -> Self {
        Identity(IdentityKey::Hybrid(Box::new(
            x_wing::DecapsulationKeyRejectNonContrib::from(seed),
        )))
    }

    /// Parses one `AGE-SECRET-KEY-PQ-1…` or `AGE-SECRET-KEY-1…` line.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.starts_with("AGE-SECRET-KEY-PQ-1") {
            let bytes = decode_bech32(text, HYBRID_IDENTITY_HRP, "AGE-SECRET-KEY-PQ-1… identity")?;
            let seed: Zeroizing<[u8; 32]> = Zeroizing::new(bytes.as_slice().try_into().map_err(
                |_| KeyError::Malformed {
                    expected: "AGE-SECRET-KEY-PQ-1… identity",
                    reason: "wrong length".into(),
                },
            )?);
            return Ok(Identity::hybrid_from_seed(*seed));
        }
        if text.starts_with("AGE-SECRET-KEY-") && !text.starts_with("AGE-SECRET-KEY-1") {
            return Err(KeyError::Unsupported(prefix_of(text)));
        }
        if text.starts_with("AGE-PLUGIN-") {
            return Err(KeyError::Unsupported(prefix_of(text)));
        }
        let bytes = decode_bech32(text, IDENTITY_HRP, "AGE-SECRET-KEY-1… identity")?;
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(bytes.as_slice().try_into().map_err(
            |_| KeyError::Malformed {
                expected: "AGE-SECRET-KEY-1… identity",
                reason: "wrong length".into(),
            },
        )?);
        Ok(Identity::from_secret_bytes(*secret))
    }

    /// Hybrid post-quantum or X25519 only.
    pub fn kind(&self) -> KeyKind {
        match self.0 {
            IdentityKey::X25519(_) => KeyKind::X25519,
            IdentityKey::Hybrid(_) => KeyKind::Hybrid,
        }
    }

    /// The recipient that tips for this identity are sealed to.
    pub fn recipient(&self) -> Recipient {
        match &self.0 {
            IdentityKey::X25519(secret) => Recipient(RecipientKey::X25519(PublicKey::from(secret))),
            IdentityKey::Hybrid(key) => {
                use x_wing::Decapsulator;
                let bytes = key.encapsulation_key().to_bytes();
                let mut array = Box::new([0u8; HYBRID_PUBLIC_KEY_BYTES]);
                array.copy_from_slice(bytes.as_slice());
                Recipient(RecipientKey::Hybrid(array))
            }
        }
    }

    /// The `AGE-SECRET-KEY-PQ-1…` or `AGE-SECRET-KEY-1…` text. The caller
    /// must treat it as a secret.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        Zeroizing::new(match &self.0 {
            IdentityKey::X25519(secret) => encode_bech32(IDENTITY_HRP, secret.as_bytes(), true),
            IdentityKey::Hybrid(key) => {
                let seed = Zeroizing::new(<[u8; 32]>::from(key.to_bytes()));
                encode_bech32(HYBRID_IDENTITY_HRP, seed.as_slice(), true)
            }
        })
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Identity(recipient: {}, secret: [redacted])",
            self.recipient().fingerprint()
        )
    }
}

/// The identities of an identity file, in file order.
#[derive(Debug, Clone)]
pub struct IdentityFile {
    /// Every identity in the file.
    pub identities: Vec<Identity>,
}

impl IdentityFile {
    /// Reads an identity file as `age` reads it: identity lines, `#` comments
    /// and empty lines. Any other line is an error naming its line number
    /// (never its content, which could be a secret).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut identities = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let identity = Identity::parse(line).map_err(|err| match err {
                KeyError::Malformed { expected, .. } => KeyError::Malformed {
                    expected,
                    reason: format!("line {} is not an identity", number + 1),
                },
                other => other,
            })?;
            identities.push(identity);
        }
        if identities.is_empty() {
            return Err(KeyError::NoIdentity);
        }
        Ok(IdentityFile { identities })
    }

    /// The file `age-keygen` would write for `identity`, created at
    /// `created` (RFC 3339, e.g. `2026-11-29T13:51:15Z`).
    pub fn to_text(identity: &Identity, created: &str) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# created: {created}\n# public key: {}\n{}\n",
            identity.recipient(),
            identity.to_secret_string().as_str()
        ))
    }
}

fn prefix_of(text: &str) -> String {
    text.chars()
        .take_while(|c| *c != '1')
        .take(24)
        .collect::<String>()
        + "1…"
}

/// Bech32 as age uses it: the Bech32 checksum (BIP 173) without the
/// 90-character limit, since a hybrid recipient is about 1,960 characters.
/// Only the code length differs from [`bech32::Bech32`].
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Bech32Long {}

impl Checksum for Bech32Long {
    type MidstateRepr = u32;
    type CorrectionField = Fe1024;
    const ROOT_GENERATOR: Fe1024 = <bech32::Bech32 as Checksum>::ROOT_GENERATOR;
    const ROOT_EXPONENTS: core::ops::RangeInclusive<usize> =
        <bech32::Bech32 as Checksum>::ROOT_EXPONENTS;
    const CODE_LENGTH: usize = 8192;
    const CHECKSUM_LENGTH: usize = 6;
    const GENERATOR_SH: [u32; 5] = <bech32::Bech32 as Checksum>::GENERATOR_SH;
    const TARGET_RESIDUE: u32 = <bech32::Bech32 as Checksum>::TARGET_RESIDUE;
}

fn decode_bech32(
    text: &str,
    hrp: &str,
    expected: &'static str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let malformed = |reason: &str| KeyError::Malformed {
        expected,
        reason: reason.to_string(),
    };
    let checked = CheckedHrpstring::new::<Bech32Long>(text)
        .map_err(|_| malformed("bad Bech32 encoding or checksum"))?;
    if !checked.hrp().as_str().eq_ignore_ascii_case(hrp) {
        return Err(malformed("wrong prefix"));
    }
    // Lowercase for recipients, uppercase for identities, as age writes them;
    // Bech32 itself already rejects mixed case.
    let want_upper = hrp.chars().any(|c| c.is_ascii_uppercase());
    if want_upper != text.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(malformed("wrong letter case"));
    }
    checked
        .validate_segwit_padding()
        .map_err(|_| malformed("bad padding"))?;
    Ok(Zeroizing::new(checked.byte_iter().collect()))
}

fn encode_bech32(hrp: &str, data: &[u8], upper: bool) -> String {
    // Invariant: the HRPs are valid constants and every key is far below
    // the code length, so neither call can fail.
    #[allow(clippy::expect_used)]
    let hrp = Hrp::parse(hrp).expect("constant HRP is valid");
    #[allow(clippy::expect_used)]
    let text = if upper {
        bech32::encode_upper::<Bech32Long>(hrp, data)
    } else {
        bech32::encode_lower::<Bech32Long>(hrp, data)
    }
    .expect("a key fits the code length");
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    // From the age spec's test keys (age-keygen output format).
    const SECRET: &str =
        "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
    // From the C2SP hybrid test vector.
    const PQ_SECRET: &str =
        "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG";

    #[test]
    fn identity_round_trips_and_derives_its_recipient() {
        for secret in [SECRET, PQ_SECRET] {
            let identity = Identity::parse(secret).unwrap();
            assert_eq!(identity.to_secret_string().as_str(), secret);
            let recipient = identity.recipient();
            assert!(recipient.to_string().starts_with("age1"));
            assert_eq!(Recipient::parse(&recipient.to_string()).unwrap(), recipient);
        }
    }

    #[test]
    fn hybrid_keys_are_age1pq_and_about_1960_characters() {
        let identity = Identity::generate().unwrap();
        assert_eq!(identity.kind(), KeyKind::Hybrid);
        assert!(
            identity
                .to_secret_string()
                .starts_with("AGE-SECRET-KEY-PQ-1")
        );
        let text = identity.recipient().to_string();
        assert!(text.starts_with("age1pq1"), "{text}");
        assert!((1900..2000).contains(&text.len()), "{}", text.len());
        assert_eq!(Recipient::parse(&text).unwrap().kind(), KeyKind::Hybrid);
        let legacy = Identity::generate_kind(KeyKind::X25519).unwrap();
        assert_eq!(legacy.recipient().kind(), KeyKind::X25519);
        assert_eq!(legacy.recipient().to_string().len(), 62);
    }

    #[test]
    fn debug_never_prints_the_secret() {
        for secret in [SECRET, PQ_SECRET] {
            let identity = Identity::parse(secret).unwrap();
            let debug = format!("{identity:?}");
            assert!(!debug.contains("AGE-SECRET"));
            assert!(debug.contains("redacted"));
        }
    }

    #[test]
    fn rejects_wrong_case_wrong_prefix_and_bad_checksum() {
        assert!(Identity::parse(&SECRET.to_lowercase()).is_err());
        assert!(Identity::parse(&PQ_SECRET.to_lowercase()).is_err());
        let recipient = Identity::parse(SECRET).unwrap().recipient().to_string();
        assert!(Recipient::parse(&recipient.to_uppercase()).is_err());
        for text in [
            recipient.clone(),
            Identity::parse(PQ_SECRET).unwrap().recipient().to_string(),
        ] {
            let mut broken = text.clone();
            broken.pop();
            broken.push(if text.ends_with('q') { 'p' } else { 'q' });
            assert!(matches!(
                Recipient::parse(&broken),
                Err(KeyError::Malformed { .. })
            ));
        }
        assert!(Recipient::parse(SECRET).is_err());
    }

    #[test]
    fn plugin_keys_are_unsupported() {
        let plugin = "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        assert!(matches!(
            Identity::parse(plugin),
            Err(KeyError::Unsupported(_))
        ));
    }

    #[test]
    fn identity_file_reads_what_age_keygen_writes() {
        let identity = Identity::parse(SECRET).unwrap();
        let text = IdentityFile::to_text(&identity, "2026-11-29T00:00:00Z");
        assert!(text.starts_with("# created: 2026-11-29T00:00:00Z\n# public key: age1"));
        let parsed = IdentityFile::parse(&text).unwrap();
        assert_eq!(parsed.identities.len(), 1);
        assert_eq!(parsed.identities[0].recipient(), identity.recipient());
        assert_eq!(
            IdentityFile::parse("# only a comment\n").unwrap_err(),
            KeyError::NoIdentity
        );
        let err = IdentityFile::parse("hello\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn fingerprint_carries_128_bits_and_is_stable() {
        for secret in [SECRET, PQ_SECRET] {
            let recipient = Identity::parse(secret).unwrap().recipient();
            let fingerprint = recipient.fingerprint();
            assert_eq!(fingerprint.len(), 39);
            assert_eq!(fingerprint.split('-').count(), 8);
            assert_eq!(fingerprint, recipient.fingerprint());
        }
    }
}
