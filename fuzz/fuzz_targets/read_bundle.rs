//! Bundle plaintext from anyone (as if it had been sealed by an attacker
//! who holds the agency's public key, which everyone does): the tar and
//! `tip.json` checks must refuse or accept, never panic, and an accepted
//! bundle must keep its promises.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealtip_envelope::read_bundle;
use sealtip_envelope_fuzz::{CheckingSink, LIMITS};

fuzz_target!(|data: &[u8]| {
    let mut sink = CheckingSink::default();
    if let Ok(opened) = read_bundle(data, &LIMITS, &mut sink) {
        sink.check_accepted(&opened);
        if let Some(text) = &opened.text {
            assert!(text.len() as u64 <= LIMITS.max_text_bytes);
        }
    }
});
