//! Damaged photos never make the cleaner panic or loop: random byte
//! changes, cuts and insertions in the committed fixtures give either a
//! cleaned file (that cleans again to itself) or an error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sealtip_scrub::scrub;

const FIXTURES: [&[u8]; 3] = [
    include_bytes!("fixtures/gps.jpg"),
    include_bytes!("fixtures/gps.png"),
    include_bytes!("fixtures/gps.webp"),
];

/// One change to a file; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Remove(at, len)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match mutation {
        Mutation::Set(at, byte) => bytes[at % len] = *byte,
        Mutation::Flip(at, bit) => bytes[at % len] ^= 1 << bit,
        Mutation::Insert(at, inserted) => {
            let at = at % len;
            bytes.splice(at..at, inserted.iter().copied());
        }
        Mutation::Remove(at, count) => {
            let at = at % len;
            bytes.drain(at..(at + count).min(len));
        }
        Mutation::Truncate(at) => bytes.truncate(at % len),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..3,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = FIXTURES[which].to_vec();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        if let Ok(scrubbed) = scrub(&bytes, None) {
            // Bounded: never much larger than what came in (a minimal
            // orientation block may replace a damaged, smaller one).
            prop_assert!(scrubbed.bytes.len() <= bytes.len() + 64);
            let again = scrub(&scrubbed.bytes, None);
            prop_assert!(again.is_ok(), "a cleaned file cleans again: {:?}", again);
            let again = again.unwrap();
            prop_assert_eq!(&again.bytes, &scrubbed.bytes);
            prop_assert!(again.removed.is_empty(), "found {:?} again", again.removed);
        }
    }

    #[test]
    fn random_bytes_after_a_signature_never_panic(
        which in 0usize..3,
        tail in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let signature: &[u8] = match which {
            0 => b"\xFF\xD8\xFF",
            1 => b"\x89PNG\r\n\x1a\n",
            _ => b"RIFF\0\0\0\0WEBP",
        };
        let mut bytes = signature.to_vec();
        bytes.extend(tail);
        if which == 2 {
            // A RIFF size that tells the truth, so the chunks get walked.
            let size = (bytes.len() - 8) as u32;
            bytes[4..8].copy_from_slice(&size.to_le_bytes());
        }
        let _ = scrub(&bytes, None);
    }
}
