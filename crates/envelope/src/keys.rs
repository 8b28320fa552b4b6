//! Agency and tipster keys, written as age writes them.
//!
//! - a recipient is `age1…`: Bech32 (not Bech32m), HRP `age`, lowercase, holding
//!   the 32-byte X25519 public key;
//! - an identity is `AGE-SECRET-KEY-1…`: Bech32, HRP `AGE-SECRET-KEY-`,
//!   uppercase, holding the 32-byte X25519 secret scalar;
//! - an identity file holds identity lines, `#` comment lines and empty lines;
//!   `age-keygen` writes `# created: <RFC 3339>` and `# public key: age1…` above
//!   the key, and so does [`IdentityFile::to_text`].

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const RECIPIENT_HRP: &str = "age";
const IDENTITY_HRP: &str = "AGE-SECRET-KEY-";

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
    /// A key of a kind sealtip does not implement (post-quantum, SSH, plugin).
    #[error("unsupported key type {0:?}: sealtip uses X25519 keys (age1… / AGE-SECRET-KEY-1…)")]
    Unsupported(String),
    /// An identity file with no identity in it.
    #[error("the identity file holds no AGE-SECRET-KEY-1… line")]
    NoIdentity,
    /// The CSPRNG failed.
    #[error("the system random generator failed")]
    Random,
}

/// An agency's (or a tipster's reply) public key: who a tip is sealed to.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Recipient(pub(crate) PublicKey);

impl Recipient {
    /// Parses `age1…`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.starts_with("age1") && text.len() > 62 {
            // age1pq1…, plugin recipients `age1name1…` and other longer forms.
            return Err(KeyError::Unsupported(prefix_of(text)));
        }
        let bytes = decode_bech32(text, RECIPIENT_HRP, "age1… recipient")?;
        Ok(Recipient(PublicKey::from(bytes)))
    }

    /// The raw X25519 public key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Builds a recipient from a raw X25519 public key.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Recipient(PublicKey::from(bytes))
    }

    /// A short fingerprint a person can compare aloud: the first 8 bytes of
    /// SHA-256 over the 32-byte key, as four groups of four hex digits.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        let hex = hex::encode(&digest[..8]);
        let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join("-")
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&encode_bech32(RECIPIENT_HRP, self.0.as_bytes(), false))
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({self})")
    }
}

impl std::str::FromStr for Recipient {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Recipient::parse(s)
    }
}

/// A secret X25519 key that opens tips sealed to its [`Recipient`].
/// Zeroized on drop; its `Debug` prints only the public key.
#[derive(Clone)]
pub struct Identity(pub(crate) StaticSecret);

impl Identity {
    /// A new random identity from the system's CSPRNG.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        crate::primitives::random(bytes.as_mut()).map_err(|_| KeyError::Random)?;
        Ok(Identity(StaticSecret::from(*bytes)))
    }

    /// An identity from the 32 secret bytes (the codename derivation uses it).
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        Identity(StaticSecret::from(bytes))
    }

    /// Parses one `AGE-SECRET-KEY-1…` line.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.starts_with("AGE-SECRET-KEY-") && !text.starts_with("AGE-SECRET-KEY-1") {
            return Err(KeyError::Unsupported(prefix_of(text)));
        }
        if text.starts_with("AGE-PLUGIN-") {
            return Err(KeyError::Unsupported(prefix_of(text)));
        }
        let bytes = Zeroizing::new(decode_bech32(
            text,
            IDENTITY_HRP,
            "AGE-SECRET-KEY-1… identity",
        )?);
        Ok(Identity(StaticSecret::from(*bytes)))
    }

    /// The recipient that tips for this identity are sealed to.
    pub fn recipient(&self) -> Recipient {
        Recipient(PublicKey::from(&self.0))
    }

    /// The `AGE-SECRET-KEY-1…` text. The caller must treat it as a secret.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        Zeroizing::new(encode_bech32(IDENTITY_HRP, self.0.as_bytes(), true))
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Identity(recipient: {}, secret: [redacted])",
            self.recipient()
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

fn decode_bech32(text: &str, hrp: &str, expected: &'static str) -> Result<[u8; 32], KeyError> {
    let malformed = |reason: &str| KeyError::Malformed {
        expected,
        reason: reason.to_string(),
    };
    let checked = CheckedHrpstring::new::<Bech32>(text)
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
    let bytes: Vec<u8> = checked.byte_iter().collect();
    let bytes = Zeroizing::new(bytes);
    let array: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| malformed("wrong length"))?;
    Ok(array)
}

fn encode_bech32(hrp: &str, data: &[u8], upper: bool) -> String {
    // Invariant: both HRPs are valid constants and 32-byte keys are far below
    // Bech32's length limit, so neither call can fail.
    #[allow(clippy::expect_used)]
    let hrp = Hrp::parse(hrp).expect("constant HRP is valid");
    #[allow(clippy::expect_used)]
    let text = if upper {
        bech32::encode_upper::<Bech32>(hrp, data)
    } else {
        bech32::encode_lower::<Bech32>(hrp, data)
    }
    .expect("a 32-byte key fits Bech32");
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    // From the age spec's test keys (age-keygen output format).
    const SECRET: &str =
        "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

    #[test]
    fn identity_round_trips_and_derives_its_recipient() {
        let identity = Identity::parse(SECRET).unwrap();
        assert_eq!(identity.to_secret_string().as_str(), SECRET);
        let recipient = identity.recipient();
        assert!(recipient.to_string().starts_with("age1"));
        assert_eq!(Recipient::parse(&recipient.to_string()).unwrap(), recipient);
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let identity = Identity::parse(SECRET).unwrap();
        let debug = format!("{identity:?}");
        assert!(!debug.contains("AGE-SECRET"));
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn rejects_wrong_case_wrong_prefix_and_bad_checksum() {
        assert!(Identity::parse(&SECRET.to_lowercase()).is_err());
        let recipient = Identity::parse(SECRET).unwrap().recipient().to_string();
        assert!(Recipient::parse(&recipient.to_uppercase()).is_err());
        let mut broken = recipient.clone();
        broken.pop();
        broken.push(if recipient.ends_with('q') { 'p' } else { 'q' });
        assert!(matches!(
            Recipient::parse(&broken),
            Err(KeyError::Malformed { .. })
        ));
        assert!(Recipient::parse(SECRET).is_err());
    }

    #[test]
    fn post_quantum_keys_are_unsupported() {
        let pq = "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG";
        assert!(matches!(Identity::parse(pq), Err(KeyError::Unsupported(_))));
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
    fn fingerprint_is_short_and_stable() {
        let recipient = Identity::parse(SECRET).unwrap().recipient();
        let fingerprint = recipient.fingerprint();
        assert_eq!(fingerprint.len(), 19);
        assert_eq!(fingerprint, recipient.fingerprint());
    }
}
