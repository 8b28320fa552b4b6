//! The proof-of-work puzzle that guards the relay's upload routes.
//!
//! The relay takes no account and records nothing about a client, so it makes
//! each upload cost the uploader a little work instead. The work is
//! memory-hard (Argon2id, 256 KiB per attempt), so that a native attacker
//! gains little over the page's WebAssembly (measured: 1.4 times, against 5.3
//! times for SHA-256 on a processor with SHA instructions) and a GPU little
//! over a processor. How much work a challenge asks is the relay's choice
//! (it rises with load); it is signed in the token.
//!
//! # The challenge token
//!
//! The relay issues a token, stateless, of 78 bytes, sent as unpadded
//! base64url (104 characters):
//!
//! ```text
//! offset size
//!      0    1  version, 2
//!      1    4  work w: expected attempts, 1..=2^24, big-endian
//!      5    8  expiry, Unix seconds, big-endian
//!     13   16  random bytes (the token's single-use tag)
//!     29   16  the agency it is for: agency_tag(id), or zeros for any agency
//!     45    1  the size class it is for: 0 (1 MiB), 1 (16 MiB), 2 (any size); 255 any
//!     46   32  HMAC-SHA-256(secret, "sealtip-challenge-v2" || bytes 0..46)
//! ```
//!
//! # The solution
//!
//! A nonce `n` (an unsigned 64-bit integer) solves the token `T` (its 104
//! ASCII characters, exactly as received) when the first 8 bytes of
//!
//! ```text
//! Argon2id(password = n as 8 bytes big-endian, salt = T,
//!          memory 256 KiB, 1 pass, 1 lane, 32 bytes out, version 0x13)
//! ```
//!
//! read as a big-endian integer are at most `(2^64 - 1) / w`: on average `w`
//! attempts. With `w = 1` every nonce solves it; with `w = 2^d` it is the
//! output having `d` leading zero bits. The client sends the solution in the
//! request header
//!
//! ```text
//! Sealtip-Proof: <token>:<nonce in decimal>
//! ```
//!
//! The relay checks the MAC, the expiry, the agency and size the token is for,
//! and the hash, and accepts each token once: the tag is spent only once
//! the relay has room for the request (a refusal for capacity leaves it
//! usable).

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The request header carrying a solution (HTTP header names are case-insensitive).
pub const PROOF_HEADER: &str = "sealtip-proof";
/// The largest difficulty, in bits of work (2^24 attempts: hours of one core).
pub const MAX_DIFFICULTY: u8 = 24;
/// The most work a token may ask: 2^[`MAX_DIFFICULTY`] attempts.
pub const MAX_WORK: u32 = 1 << MAX_DIFFICULTY;
/// Length of a token in bytes, before base64url.
pub const TOKEN_BYTES: usize = 78;
/// Length of a token as sent, in base64url characters.
pub const TOKEN_CHARS: usize = 104;
/// Argon2id memory per attempt, in KiB.
pub const MEMORY_KIB: u32 = 256;
/// The largest sealed file of each size class a token may be for; the last
/// is any size the relay takes.
pub const SIZE_CLASSES: [u64; 3] = [1024 * 1024, 16 * 1024 * 1024, u64::MAX];
/// The size class of a token good for any size (a challenge asked without
/// saying how much will be sent).
pub const ANY_SIZE: u8 = 255;

const VERSION: u8 = 2;
const SIGNED_BYTES: usize = 46;
const MAC_DOMAIN: &[u8] = b"sealtip-challenge-v2";
const AGENCY_DOMAIN: &[u8] = b"sealtip-challenge-agency\0";

/// Why a proof of work was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The token is not 104 base64url characters of a version-2 token.
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
    /// The nonce's hash is above the token's target.
    #[error("proof-of-work solution is wrong")]
    Unsolved,
    /// The token asks for more than [`MAX_WORK`], or for no work at all.
    #[error("proof-of-work work outside 1..=2^{MAX_DIFFICULTY}")]
    TooHard,
}

/// What a challenge is good for: an agency (or any) and a size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// [`agency_tag`] of the agency, or `None` for any agency.
    pub agency: Option<[u8; 16]>,
    /// An index into [`SIZE_CLASSES`], or [`ANY_SIZE`].
    pub size_class: u8,
}

impl Scope {
    /// Good for any agency and any size.
    pub const ANY: Scope = Scope {
        agency: None,
        size_class: ANY_SIZE,
    };

    /// Good for agency `id`, for a sealed file of `bytes` (any size if `None`).
    pub fn for_agency(id: &str, bytes: Option<u64>) -> Scope {
        Scope {
            agency: Some(agency_tag(id)),
            size_class: bytes.map_or(ANY_SIZE, size_class),
        }
    }

    /// Whether a token of this scope may be spent on agency `id`.
    pub fn admits_agency(&self, id: &str) -> bool {
        self.agency.is_none_or(|tag| tag == agency_tag(id))
    }

    /// The largest sealed file a token of this scope may be spent on.
    pub fn max_bytes(&self) -> u64 {
        SIZE_CLASSES
            .get(usize::from(self.size_class))
            .copied()
            .unwrap_or(u64::MAX)
    }
}

/// The 16 bytes a token carries for agency `id`.
pub fn agency_tag(id: &str) -> [u8; 16] {
    let hash = Sha256::new_with_prefix(AGENCY_DOMAIN)
        .chain_update(id.as_bytes())
        .finalize();
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&hash[..16]);
    tag
}

/// The smallest size class a sealed file of `bytes` fits.
pub fn size_class(bytes: u64) -> u8 {
    let class = SIZE_CLASSES.iter().position(|max| bytes <= *max);
    u8::try_from(class.unwrap_or(SIZE_CLASSES.len() - 1)).unwrap_or(ANY_SIZE)
}

/// What a token says, once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeInfo {
    /// Expected attempts, 1..=[`MAX_WORK`].
    pub work: u32,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// The random single-use tag.
    pub tag: [u8; 16],
    /// What it is good for.
    pub scope: Scope,
}

impl ChallengeInfo {
    /// The work in bits, rounded up: `d` such that `2^d >= work`.
    pub fn difficulty(&self) -> u8 {
        work_bits(self.work)
    }
}

/// `d` such that `2^d >= work`, the work's size in bits.
pub fn work_bits(work: u32) -> u8 {
    u8::try_from(32 - work.max(1).saturating_sub(1).leading_zeros()).unwrap_or(MAX_DIFFICULTY)
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

/// Issues a token good for any agency and size (relay side), asking
/// `2^difficulty` attempts. `random` must come from a CSPRNG, `expires` is
/// in Unix seconds; `difficulty` is capped at [`MAX_DIFFICULTY`].
pub fn issue(secret: &[u8], difficulty: u8, expires: u64, random: [u8; 16]) -> String {
    let work = 1u32 << difficulty.min(MAX_DIFFICULTY);
    issue_for(secret, work, Scope::ANY, expires, random)
}

/// Issues a token for `scope` asking `work` attempts (relay side), `work`
/// kept within 1..=[`MAX_WORK`].
pub fn issue_for(secret: &[u8], work: u32, scope: Scope, expires: u64, random: [u8; 16]) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    bytes[0] = VERSION;
    bytes[1..5].copy_from_slice(&work.clamp(1, MAX_WORK).to_be_bytes());
    bytes[5..13].copy_from_slice(&expires.to_be_bytes());
    bytes[13..29].copy_from_slice(&random);
    bytes[29..45].copy_from_slice(&scope.agency.unwrap_or([0; 16]));
    bytes[45] = scope.size_class;
    let mac = token_mac(secret, &bytes[..SIGNED_BYTES])
        .finalize()
        .into_bytes();
    bytes[SIGNED_BYTES..].copy_from_slice(&mac);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a token without its solution (relay side): its MAC under `secret`
/// and its expiry against `now` (Unix seconds). Cheap: the relay does this
/// before the memory-hard check of [`check_solution`].
pub fn verify_token(secret: &[u8], token: &str, now: u64) -> Result<ChallengeInfo, PowError> {
    let bytes = decode(token)?;
    token_mac(secret, &bytes[..SIGNED_BYTES])
        .verify_slice(&bytes[SIGNED_BYTES..])
        .map_err(|_| PowError::BadSignature)?;
    let info = info_of(&bytes)?;
    if now >= info.expires {
        return Err(PowError::Expired);
    }
    Ok(info)
}

/// Checks that `nonce` solves `token`, whose parsed `info` the caller has.
pub fn check_solution(token: &str, info: &ChallengeInfo, nonce: u64) -> Result<(), PowError> {
    if meets(token, nonce, info.work) {
        Ok(())
    } else {
        Err(PowError::Unsolved)
    }
}

/// Checks a solution (relay side): [`verify_token`], then the nonce.
/// Returns what the token says, so the caller can check its scope and spend
/// its tag. Single use is the caller's job.
pub fn verify(secret: &[u8], token: &str, nonce: u64, now: u64) -> Result<ChallengeInfo, PowError> {
    let info = verify_token(secret, token, now)?;
    check_solution(token, &info, nonce)?;
    Ok(info)
}

/// Reads a token without checking its MAC (client side): its work, expiry
/// and scope.
pub fn parse(token: &str) -> Result<ChallengeInfo, PowError> {
    info_of(&decode(token)?)
}

/// Finds the smallest nonce that solves `token` (client side). Takes about
/// `work` attempts; at most [`MAX_WORK`] is accepted, so it ends.
pub fn solve(token: &str) -> Result<u64, PowError> {
    let mut start = 0u64;
    let slice = 1 << 12;
    loop {
        if let Some(nonce) = solve_range(token, start, slice)? {
            return Ok(nonce);
        }
        start = start.checked_add(slice).ok_or(PowError::Unsolved)?;
    }
}

/// Tries the nonces `start..start + count` (client side), so that a browser
/// can solve in slices and stay responsive (an attempt takes about half a
/// millisecond in WebAssembly). `None` when none of them solves it.
pub fn solve_range(token: &str, start: u64, count: u64) -> Result<Option<u64>, PowError> {
    let info = parse(token)?;
    let mut hasher = Hasher::new();
    let end = start.saturating_add(count);
    Ok((start..end).find(|nonce| hasher.meets(token, *nonce, info.work)))
}

/// The `Sealtip-Proof` header value for a solution: `<token>:<nonce>`.
pub fn proof_header(token: &str, nonce: u64) -> String {
    format!("{token}:{nonce}")
}

/// Whether `nonce` solves `token` at `2^difficulty` attempts of work.
pub fn is_solution(token: &str, nonce: u64, difficulty: u8) -> bool {
    meets(token, nonce, 1u32 << difficulty.min(MAX_DIFFICULTY))
}

/// Whether `nonce` solves `token` at `work` attempts of work.
pub fn meets(token: &str, nonce: u64, work: u32) -> bool {
    thread_local! {
        // One 256 KiB memory a thread, kept: a relay checking a proof for
        // every tip on its blocking threads would otherwise take and free
        // it each time, and the allocator holds such blocks (peak RSS of
        // 130 MiB and more under the relay's benchmark).
        static HASHER: std::cell::RefCell<Option<Hasher>> = const { std::cell::RefCell::new(None) };
    }
    // At one attempt every nonce solves it: no memory taken.
    work <= 1
        || HASHER.with_borrow_mut(|hasher| {
            hasher
                .get_or_insert_with(Hasher::new)
                .meets(token, nonce, work)
        })
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

/// The puzzle's hash, with its 256 KiB of memory kept between attempts.
struct Hasher {
    argon2: Argon2<'static>,
    memory: Vec<Block>,
}

impl Hasher {
    fn new() -> Self {
        // Invariant: these parameters are within Argon2's bounds.
        #[allow(clippy::expect_used)]
        let params = Params::new(MEMORY_KIB, 1, 1, Some(32)).expect("valid Argon2 parameters");
        Hasher {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            memory: vec![Block::default(); MEMORY_KIB as usize],
        }
    }

    /// Whether `nonce` solves `token` at `work` attempts (any nonce at 1).
    fn meets(&mut self, token: &str, nonce: u64, work: u32) -> bool {
        if work <= 1 {
            return true;
        }
        let mut out = [0u8; 32];
        if self
            .argon2
            .hash_password_into_with_memory(
                &nonce.to_be_bytes(),
                token.as_bytes(),
                &mut out,
                &mut self.memory,
            )
            .is_err()
        {
            return false;
        }
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_be_bytes(first) <= u64::MAX / u64::from(work)
    }
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
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[1..5]);
    let work = u32::from_be_bytes(word);
    if !(1..=MAX_WORK).contains(&work) {
        return Err(PowError::TooHard);
    }
    let mut expires = [0u8; 8];
    expires.copy_from_slice(&bytes[5..13]);
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&bytes[13..29]);
    let mut agency = [0u8; 16];
    agency.copy_from_slice(&bytes[29..45]);
    Ok(ChallengeInfo {
        work,
        expires: u64::from_be_bytes(expires),
        tag,
        scope: Scope {
            agency: (agency != [0; 16]).then_some(agency),
            size_class: bytes[45],
        },
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
    fn work_bits_round_up() {
        for (work, bits) in [(1, 0), (2, 1), (3, 2), (256, 8), (257, 9), (MAX_WORK, 24)] {
            assert_eq!(work_bits(work), bits, "{work}");
        }
    }

    #[test]
    fn a_token_has_its_documented_layout() {
        let scope = Scope::for_agency("demo", Some(2 * 1024 * 1024));
        let token = issue_for(SECRET, 300, scope, NOW + 600, [7; 16]);
        assert_eq!(token.len(), TOKEN_CHARS);
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert_eq!(bytes.len(), TOKEN_BYTES);
        assert_eq!(bytes[0], 2);
        assert_eq!(bytes[1..5], 300u32.to_be_bytes());
        assert_eq!(bytes[5..13], (NOW + 600).to_be_bytes());
        assert_eq!(bytes[13..29], [7; 16]);
        let agency = Sha256::digest(b"sealtip-challenge-agency\0demo");
        assert_eq!(bytes[29..45], agency[..16]);
        assert_eq!(bytes[45], 1, "2 MiB is in the 16 MiB class");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(b"sealtip-challenge-v2");
        mac.update(&bytes[..46]);
        assert_eq!(bytes[46..], mac.finalize().into_bytes()[..]);
        let any = URL_SAFE_NO_PAD
            .decode(issue(SECRET, 3, NOW, [1; 16]))
            .unwrap();
        assert_eq!(any[1..5], 8u32.to_be_bytes());
        assert_eq!(any[29..46], [[0u8; 16].as_slice(), &[255]].concat());
    }

    #[test]
    fn a_solution_matches_the_documented_hash() {
        let token = issue_for(SECRET, 16, Scope::ANY, NOW + 600, [1; 16]);
        let nonce = solve(&token).unwrap();
        let params = Params::new(256, 1, 1, Some(32)).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let hash = |n: u64| {
            let mut out = [0u8; 32];
            argon2
                .hash_password_into(&n.to_be_bytes(), token.as_bytes(), &mut out)
                .unwrap();
            u64::from_be_bytes(out[..8].try_into().unwrap())
        };
        assert!(hash(nonce) <= u64::MAX / 16);
        for smaller in 0..nonce {
            assert!(hash(smaller) > u64::MAX / 16, "solve finds the smallest");
        }
        assert_eq!(verify(SECRET, &token, nonce, NOW).unwrap().tag, [1; 16]);
        assert_eq!(
            is_solution(&token, nonce, 4),
            hash(nonce).leading_zeros() >= 4
        );
    }

    #[test]
    fn verify_refuses_each_kind_of_bad_proof() {
        let token = issue(SECRET, 4, NOW + 600, [2; 16]);
        let nonce = solve(&token).unwrap();
        let wrong_nonce = (0..).find(|n| !is_solution(&token, *n, 4)).unwrap();
        let mut tampered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        tampered[4] = 1; // ask for less work
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
    fn work_is_capped_and_one_accepts_any_nonce() {
        let token = issue(SECRET, 200, NOW + 1, [3; 16]);
        assert_eq!(parse(&token).unwrap().work, MAX_WORK);
        assert_eq!(parse(&token).unwrap().difficulty(), MAX_DIFFICULTY);
        let easy = issue(SECRET, 0, NOW + 1, [3; 16]);
        for nonce in [0, 1, u64::MAX] {
            assert!(verify(SECRET, &easy, nonce, NOW).is_ok());
        }
    }

    #[test]
    fn a_scope_names_its_agency_and_size() {
        let scope = Scope::for_agency("demo", Some(100));
        assert!(scope.admits_agency("demo"));
        assert!(!scope.admits_agency("other"));
        assert_eq!(scope.max_bytes(), 1024 * 1024);
        assert!(Scope::ANY.admits_agency("other"));
        assert_eq!(Scope::ANY.max_bytes(), u64::MAX);
        assert_eq!(Scope::for_agency("demo", None).max_bytes(), u64::MAX);
        assert_eq!(size_class(16 * 1024 * 1024), 1);
        assert_eq!(size_class(16 * 1024 * 1024 + 1), 2);
        let token = issue_for(SECRET, 1, scope, NOW + 1, [4; 16]);
        assert_eq!(verify(SECRET, &token, 0, NOW).unwrap().scope, scope);
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
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn solved_tokens_verify_and_reveal_what_was_issued(
            work in 1u32..=8,
            lifetime in 1u64..100_000,
            random in any::<[u8; 16]>(),
            size in proptest::option::of(any::<u64>()),
        ) {
            let scope = Scope::for_agency("demo", size);
            let token = issue_for(SECRET, work, scope, NOW + lifetime, random);
            let nonce = solve(&token).unwrap();
            let info = verify(SECRET, &token, nonce, NOW).unwrap();
            prop_assert_eq!(info, ChallengeInfo { work, expires: NOW + lifetime, tag: random, scope });
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
