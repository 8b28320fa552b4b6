//! Thread proofs (schema 2): only the codename holder, and the agency it
//! told, can speak in a thread.
//!
//! A codename derives a 32-byte **thread key** `K` and a hybrid reply
//! recipient `R` (see [`crate::codename`]). The tipster's first tip carries
//! `R`, `K` and the mailbox id inside the sealed `tip.json`, so only the
//! agency learns `K`. Then:
//!
//! ```text
//! mailbox secret = HMAC-SHA-256(K, "sealtip mailbox v2" || R's raw public key)
//! mailbox id     = hex(SHA-256(mailbox secret)[..16])
//! proof          = HMAC-SHA-256(K, "sealtip proof v2" || the exact bytes of tip.json)
//! ```
//!
//! The mailbox id is bound to `R` and `K`: an item that names a mailbox with
//! another reply key or thread key fails the check. Every item of a thread
//! (the tip, the tipster's follow-ups, the agency's replies) carries its
//! proof in the archive entry `tip.mac`; `tip.json` lists the attachments'
//! SHA-256, so the proof covers the whole item. The relay sees neither `K`
//! nor `R`, so it can neither forge an item into a thread nor read which
//! thread an item is in. The mailbox secret is what a tipster shows the
//! relay to delete a reply: the relay checks it against the mailbox id.
//!
//! A case item (the officers' case state of a thread) is proven under its
//! own key, derived from the thread key, so that no proof of a follow-up or
//! reply ever checks as a case item's, nor the other way round:
//!
//! ```text
//! case key   = HMAC-SHA-256(K, "sealtip case key v2")
//! case proof = HMAC-SHA-256(case key, "sealtip case proof v2" || the exact bytes of tip.json)
//! ```

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::keys::Recipient;

type HmacSha256 = hmac::Hmac<Sha256>;

const MAILBOX_LABEL: &[u8] = b"sealtip mailbox v2";
const PROOF_LABEL: &[u8] = b"sealtip proof v2";
const CASE_KEY_LABEL: &[u8] = b"sealtip case key v2";
const CASE_PROOF_LABEL: &[u8] = b"sealtip case proof v2";

/// A thread's secret key: known to the codename holder and the agency.
/// Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ThreadKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for ThreadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ThreadKey([redacted])")
    }
}

/// A value that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not 64 lowercase hex digits")]
pub struct NotHex32;

impl ThreadKey {
    /// A thread key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ThreadKey(Zeroizing::new(bytes))
    }

    /// Reads the 64 lowercase hex digits `tip.json` carries.
    pub fn from_hex(text: &str) -> Result<Self, NotHex32> {
        Ok(ThreadKey(Zeroizing::new(parse_hex32(text)?)))
    }

    /// The 64 lowercase hex digits, for `tip.json`. Treat as a secret.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    fn mac(&self, label: &[u8], message: &[u8]) -> [u8; 32] {
        // Invariant: HMAC takes keys of any length.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(self.0.as_ref()).expect("any key length");
        mac.update(label);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The mailbox secret of the thread whose reply recipient is `recipient`.
    pub fn mailbox_secret(&self, recipient: &Recipient) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.mac(MAILBOX_LABEL, recipient.as_bytes()))
    }

    /// The mailbox id of the thread whose reply recipient is `recipient`.
    pub fn mailbox(&self, recipient: &Recipient) -> String {
        mailbox_id_of_secret(&self.mailbox_secret(recipient))
    }

    /// The proof of an item whose `tip.json` is `json` (its exact bytes).
    pub fn proof(&self, json: &[u8]) -> [u8; 32] {
        self.mac(PROOF_LABEL, json)
    }

    /// Whether `proof` is this key's proof of `json` (constant time).
    pub fn verifies(&self, json: &[u8], proof: &[u8; 32]) -> bool {
        use subtle::ConstantTimeEq;
        self.proof(json).ct_eq(proof).into()
    }

    /// The key that proves the thread's case items.
    fn case_key(&self) -> ThreadKey {
        ThreadKey::from_bytes(self.mac(CASE_KEY_LABEL, &[]))
    }

    /// The proof of a case item whose `tip.json` is `json`.
    pub fn case_proof(&self, json: &[u8]) -> [u8; 32] {
        self.case_key().mac(CASE_PROOF_LABEL, json)
    }

    /// Whether `proof` is this thread's case proof of `json` (constant time).
    pub fn verifies_case(&self, json: &[u8], proof: &[u8; 32]) -> bool {
        use subtle::ConstantTimeEq;
        self.case_proof(json).ct_eq(proof).into()
    }
}

/// The mailbox id that `secret` (a mailbox secret) stands for:
/// `hex(SHA-256(secret)[..16])`. The relay checks a tipster's request to
/// delete a reply with it.
pub fn mailbox_id_of_secret(secret: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(secret)[..16])
}

/// Reads 64 lowercase hex digits (a proof, a key, a mailbox secret).
pub fn parse_hex32(text: &str) -> Result<[u8; 32], NotHex32> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(NotHex32);
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| NotHex32)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::Identity;

    #[test]
    fn the_mailbox_is_bound_to_the_reply_key_and_the_thread_key() {
        let key = ThreadKey::from_bytes([7; 32]);
        let r1 = Identity::generate().unwrap().recipient();
        let r2 = Identity::generate().unwrap().recipient();
        let mailbox = key.mailbox(&r1);
        assert_eq!(mailbox.len(), 32);
        assert_eq!(mailbox, key.mailbox(&r1));
        assert_ne!(
            mailbox,
            key.mailbox(&r2),
            "another reply key, another mailbox"
        );
        assert_ne!(mailbox, ThreadKey::from_bytes([8; 32]).mailbox(&r1));
        assert_eq!(mailbox_id_of_secret(&key.mailbox_secret(&r1)), mailbox);
    }

    #[test]
    fn a_proof_covers_every_byte_of_tip_json() {
        let key = ThreadKey::from_bytes([1; 32]);
        let proof = key.proof(b"{\"text\":\"a\"}");
        assert!(key.verifies(b"{\"text\":\"a\"}", &proof));
        assert!(!key.verifies(b"{\"text\":\"b\"}", &proof));
        assert!(!ThreadKey::from_bytes([2; 32]).verifies(b"{\"text\":\"a\"}", &proof));
    }

    #[test]
    fn a_case_proof_is_not_a_thread_proof() {
        let key = ThreadKey::from_bytes([1; 32]);
        let json = b"{\"kind\":\"case\"}";
        let case = key.case_proof(json);
        assert!(key.verifies_case(json, &case));
        assert!(
            !key.verifies(json, &case),
            "a case proof is no follow-up proof"
        );
        assert!(!key.verifies_case(json, &key.proof(json)));
        assert!(!ThreadKey::from_bytes([2; 32]).verifies_case(json, &case));
    }

    #[test]
    fn hex_is_64_lowercase_digits() {
        let key = ThreadKey::from_bytes([0xab; 32]);
        assert_eq!(ThreadKey::from_hex(&key.to_hex()).unwrap(), key);
        assert!(ThreadKey::from_hex(&key.to_hex().to_uppercase()).is_err());
        assert!(ThreadKey::from_hex("ab").is_err());
    }
}
