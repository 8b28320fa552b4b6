//! The proof-of-work puzzle that guards the relay's upload routes.
//!
//! The relay takes no account and records nothing about a client, so it makes
//! each upload cost the uploader a little work instead.
//!
//! # The challenge token
//!
//! The relay issues a token, stateless, of 58 bytes, sent as unpadded base64url
//! (78 characters):
//!
//! ```text
//! offset size
//!      0    1  version, 1
//!      1    1  difficulty d: leading zero bits required, 0..=32
//!      2    8  expiry, Unix seconds, big-endian
//!     10   16  random bytes (the token's single-use tag)
//!     26   32  HMAC-SHA-256(secret, "sealtip-challenge-v1" || bytes 0..26)
//! ```
//!
//! # The solution
//!
//! A nonce `n` (an unsigned 64-bit integer) solves the token `T` (its 78 ASCII
//! characters, exactly as received) when
//!
//! ```text
//! SHA-256(T || n as 8 bytes big-endian)
//! ```
//!
//! starts with at least `d` zero bits (bits counted from the most significant
//! bit of the first byte). With `d = 0` every nonce solves it. The client sends
//! the solution in the request header
//!
//! ```text
//! Sealtip-Proof: <token>:<nonce in decimal>
//! ```
//!
//! The relay checks the MAC, the expiry and the hash, and accepts each token
//! once: the tag is spent when the relay checks the proof, whether or not the
//! upload then succeeds.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The request header carrying a solution (HTTP header names are case-insensitive).
pub const PROOF_HEADER: &str = "sealtip-proof";
/// The largest difficulty a token may carry: about 4 billion hashes on average.
pub const MAX_DIFFICULTY: u8 = 32;
/// Length of a token in bytes, before base64url.
pub const TOKEN_BYTES: usize = 58;
/// Length of a token as sent, in base64url characters.
pub const TOKEN_CHARS: usize = 78;

const VERSION: u8 = 1;
const SIGNED_BYTES: usize = 26;
const MAC_DOMAIN: &[u8] = b"sealtip-challenge-v1";

/// Why a proof of work was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The token is not 78 base64url characters of a version-1 token.
    #[error("malformed proof-of-work challenge")]
    Malformed,
    /// The `Sealtip-Proof` header is not `<token>:<decimal nonce>`.
    #[error("malformed Sealtip-Proof header (expected <challenge>:<nonce>)")]
    MalformedProof,
    /// The token was not issued by this relay (its MAC is wrong).
    #[error("proof-of-work challenge not issued by this relay")]
    BadSignature,
    /// The token's expiry has passed.
    #[error("proof-of-work challenge expired; fetch a new one")]
    Expired,
    /// The nonce's hash lacks the required zero bits.
    #[error("proof-of-work solution is wrong")]
    Unsolved,
    /// The token asks for more than [`MAX_DIFFICULTY`] bits.
    #[error("proof-of-work difficulty above {MAX_DIFFICULTY} bits")]
    TooHard,
}

/// What a token says, once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeInfo {
    /// Leading zero bits required.
    pub difficulty: u8,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// The random single-use tag.
    pub tag: [u8; 16],
}

/// A solved challenge, as carried by the `Sealtip-Proof` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// The token, as issued.
    pub challenge: String,
    /// The nonce that solves it.
    pub nonce: u64,
}

impl Solution {
    /// The value of the `Sealtip-Proof` header: `<token>:<nonce>`.
    pub fn to_header(&self) -> String {
        proof_header(&self.challenge, self.nonce)
    }

    /// Reads a `Sealtip-Proof` header value.
    pub fn parse_header(value: &str) -> Result<Self, PowError> {
        let (challenge, nonce) = value.split_once(':').ok_or(PowError::MalformedProof)?;
        if challenge.len() != TOKEN_CHARS
            || nonce.is_empty()
            || nonce.len() > 20
            || !nonce.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PowError::MalformedProof);
        }
        let nonce = nonce.parse().map_err(|_| PowError::MalformedProof)?;
        Ok(Solution {
            challenge: challenge.to_owned(),
            nonce,
        })
    }
}

/// Issues a token (relay side). `random` must come from a CSPRNG, `expires` is
/// in Unix seconds; `difficulty` is capped at [`MAX_DIFFICULTY`].
pub fn issue(secret: &[u8], difficulty: u8, expires: u64, random: [u8; 16]) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    bytes[0] = VERSION;
    bytes[1] = difficulty.min(MAX_DIFFICULTY);
    bytes[2..10].copy_from_slice(&expires.to_be_bytes());
    bytes[10..26].copy_from_slice(&random);
    let mac = token_mac(secret, &bytes[..SIGNED_BYTES])
        .finalize()
        .into_bytes();
    bytes[SIGNED_BYTES..].copy_from_slice(&mac);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a solution (relay side): the token's MAC under `secret`, its expiry
/// against `now` (Unix seconds), and the nonce. Returns what the token says,
/// so the caller can spend its tag. Single use is the caller's job.
pub fn verify(secret: &[u8], token: &str, nonce: u64, now: u64) -> Result<ChallengeInfo, PowError> {
    let bytes = decode(token)?;
    token_mac(secret, &bytes[..SIGNED_BYTES])
        .verify_slice(&bytes[SIGNED_BYTES..])
        .map_err(|_| PowError::BadSignature)?;
    let info = info_of(&bytes)?;
    if now >= info.expires {
        return Err(PowError::Expired);
    }
    if !is_solution(token, nonce, info.difficulty) {
        return Err(PowError::Unsolved);
    }
    Ok(info)
}

/// Reads a token without checking its MAC (client side): its difficulty and expiry.
pub fn parse(token: &str) -> Result<ChallengeInfo, PowError> {
    info_of(&decode(token)?)
}

/// Finds the smallest nonce that solves `token` (client side). Takes about
/// 2^difficulty hashes; at most [`MAX_DIFFICULTY`] bits are accepted, so it ends.
pub fn solve(token: &str) -> Result<u64, PowError> {
    let mut start = 0u64;
    loop {
        let slice = 1 << 20;
        if let Some(nonce) = solve_range(token, start, slice)? {
            return Ok(nonce);
        }
        start = start.checked_add(slice).ok_or(PowError::Unsolved)?;
    }
}

/// Tries the nonces `start..start + count` (client side), so that a browser
/// can solve in slices and stay responsive. `None` when none of them solves it.
pub fn solve_range(token: &str, start: u64, count: u64) -> Result<Option<u64>, PowError> {
    let info = parse(token)?;
    let prefix = Sha256::new_with_prefix(token.as_bytes());
    let end = start.saturating_add(count);
    for nonce in start..end {
        let hash = prefix.clone().chain_update(nonce.to_be_bytes()).finalize();
        if leading_zero_bits(&hash) >= u32::from(info.difficulty) {
            return Ok(Some(nonce));
        }
    }
    Ok(None)
}

/// The `Sealtip-Proof` header value for a solution: `<token>:<nonce>`.
pub fn proof_header(token: &str, nonce: u64) -> String {
    format!("{token}:{nonce}")
}

/// Whether `SHA-256(token || nonce as 8 bytes big-endian)` has at least
/// `difficulty` leading zero bits.
pub fn is_solution(token: &str, nonce: u64, difficulty: u8) -> bool {
    let hash = Sha256::new_with_prefix(token.as_bytes())
        .chain_update(nonce.to_be_bytes())
        .finalize();
    leading_zero_bits(&hash) >= u32::from(difficulty)
}

/// Zero bits before the first one bit, most significant bit of byte 0 first.
pub fn leading_zero_bits(bytes: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in bytes {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

fn token_mac(secret: &[u8], signed: &[u8]) -> Hmac<Sha256> {
    // Invariant: HMAC accepts keys of any length.
    #[allow(clippy::expect_used)]
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(MAC_DOMAIN);
    mac.update(signed);
    mac
}

fn decode(token: &str) -> Result<[u8; TOKEN_BYTES], PowError> {
    if token.len() != TOKEN_CHARS {
        return Err(PowError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| PowError::Malformed)?;
    let bytes: [u8; TOKEN_BYTES] = bytes.try_into().map_err(|_| PowError::Malformed)?;
    if bytes[0] != VERSION {
        return Err(PowError::Malformed);
    }
    Ok(bytes)
}

fn info_of(bytes: &[u8; TOKEN_BYTES]) -> Result<ChallengeInfo, PowError> {
    let difficulty = bytes[1];
    if difficulty > MAX_DIFFICULTY {
        return Err(PowError::TooHard);
    }
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&bytes[2..10]);
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&bytes[10..26]);
    Ok(ChallengeInfo {
        difficulty,
        expires: u64::from_be_bytes(expires),
        tag,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SECRET: &[u8] = b"a relay secret of any length";
    const NOW: u64 = 1_795_953_600; // 2026-11-29T12:00:00Z

    fn check(bytes: &[u8], expected: u32) {
        assert_eq!(leading_zero_bits(bytes), expected, "{bytes:02x?}");
    }

    #[test]
    fn counts_leading_zero_bits() {
        check(&[], 0);
        check(&[0x80], 0);
        check(&[0x7f], 1);
        check(&[0x01], 7);
        check(&[0x00, 0xff], 8);
        check(&[0x00, 0x00, 0x10], 19);
        check(&[0x00; 32], 256);
    }

    #[test]
    fn a_token_has_its_documented_layout() {
        let token = issue(SECRET, 12, NOW + 600, [7; 16]);
        assert_eq!(token.len(), TOKEN_CHARS);
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert_eq!(bytes.len(), TOKEN_BYTES);
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1], 12);
        assert_eq!(bytes[2..10], (NOW + 600).to_be_bytes());
        assert_eq!(bytes[10..26], [7; 16]);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(b"sealtip-challenge-v1");
        mac.update(&bytes[..26]);
        assert_eq!(bytes[26..], mac.finalize().into_bytes()[..]);
    }

    #[test]
    fn a_solution_matches_the_documented_hash() {
        let token = issue(SECRET, 8, NOW + 600, [1; 16]);
        let nonce = solve(&token).unwrap();
        let mut input = token.as_bytes().to_vec();
        input.extend_from_slice(&nonce.to_be_bytes());
        let hash = Sha256::digest(&input);
        assert_eq!(hash[0], 0, "8 bits means a zero first byte");
        for smaller in 0..nonce {
            assert!(!is_solution(&token, smaller, 8), "solve finds the smallest");
        }
        assert_eq!(verify(SECRET, &token, nonce, NOW).unwrap().tag, [1; 16]);
    }

    #[test]
    fn verify_refuses_each_kind_of_bad_proof() {
        let token = issue(SECRET, 10, NOW + 600, [2; 16]);
        let nonce = solve(&token).unwrap();
        let wrong_nonce = (0..).find(|n| !is_solution(&token, *n, 10)).unwrap();
        let mut tampered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        tampered[1] = 0; // ask for no work
        let tampered = URL_SAFE_NO_PAD.encode(tampered);
        let cases: &[(&str, &[u8], u64, u64, PowError)] = &[
            (&token, SECRET, nonce, NOW + 600, PowError::Expired),
            (&token, SECRET, nonce, NOW + 601, PowError::Expired),
            (&token, SECRET, wrong_nonce, NOW, PowError::Unsolved),
            (&token, b"another relay", nonce, NOW, PowError::BadSignature),
            (&tampered, SECRET, nonce, NOW, PowError::BadSignature),
            ("", SECRET, 0, NOW, PowError::Malformed),
            (&token[1..], SECRET, 0, NOW, PowError::Malformed),
            (
                &"!".repeat(TOKEN_CHARS),
                SECRET,
                0,
                NOW,
                PowError::Malformed,
            ),
        ];
        for (token, secret, nonce, now, expected) in cases {
            assert_eq!(
                verify(secret, token, *nonce, *now).unwrap_err(),
                *expected,
                "{token} {nonce} {now}"
            );
        }
        assert!(verify(SECRET, &token, nonce, NOW + 599).is_ok());
    }

    #[test]
    fn difficulty_is_capped_and_zero_accepts_any_nonce() {
        let token = issue(SECRET, 200, NOW + 1, [3; 16]);
        assert_eq!(parse(&token).unwrap().difficulty, MAX_DIFFICULTY);
        let easy = issue(SECRET, 0, NOW + 1, [3; 16]);
        for nonce in [0, 1, u64::MAX] {
            assert!(verify(SECRET, &easy, nonce, NOW).is_ok());
        }
    }

    #[test]
    fn proof_headers_round_trip_and_refuse_garbage() {
        let token = issue(SECRET, 0, NOW + 1, [4; 16]);
        let solution = Solution {
            challenge: token.clone(),
            nonce: u64::MAX,
        };
        let header = solution.to_header();
        assert_eq!(header, format!("{token}:18446744073709551615"));
        assert_eq!(Solution::parse_header(&header).unwrap(), solution);
        for bad in [
            String::new(),
            token.clone(),
            format!("{token}:"),
            format!("{token}:-1"),
            format!("{token}:+1"),
            format!("{token}:18446744073709551616"),
            format!("{token}:1:2"),
            format!("x{token}:1"),
        ] {
            assert_eq!(
                Solution::parse_header(&bad).unwrap_err(),
                PowError::MalformedProof,
                "{bad}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn solved_tokens_verify_and_reveal_what_was_issued(
            difficulty in 0u8..=10,
            lifetime in 1u64..100_000,
            random in any::<[u8; 16]>(),
        ) {
            let token = issue(SECRET, difficulty, NOW + lifetime, random);
            let nonce = solve(&token).unwrap();
            let info = verify(SECRET, &token, nonce, NOW).unwrap();
            prop_assert_eq!(info, ChallengeInfo { difficulty, expires: NOW + lifetime, tag: random });
            prop_assert_eq!(parse(&token).unwrap(), info);
            prop_assert_eq!(verify(SECRET, &token, nonce, NOW + lifetime), Err(PowError::Expired));
        }

        #[test]
        fn any_changed_character_is_refused(
            position in 0usize..TOKEN_CHARS,
            replacement in proptest::sample::select(b"ABCdef019-_".to_vec()),
        ) {
            let token = issue(SECRET, 0, NOW + 600, [5; 16]);
            let mut changed = token.clone().into_bytes();
            prop_assume!(changed[position] != replacement);
            changed[position] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(verify(SECRET, &changed, 0, NOW).is_err());
        }
    }
}
