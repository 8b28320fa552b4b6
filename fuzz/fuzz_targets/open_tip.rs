//! A sealed tip from anyone: open it with a fixed identity and read its
//! bundle. Whatever the bytes, `open_tip` returns, never panics; if it
//! accepts, what the attachment sink received is what `tip.json` lists.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealtip_envelope::open_tip;
use sealtip_envelope_fuzz::{CheckingSink, LIMITS, identity};

fuzz_target!(|data: &[u8]| {
    let mut sink = CheckingSink::default();
    if let Ok(opened) = open_tip(data, std::slice::from_ref(identity()), &LIMITS, &mut sink) {
        sink.check_accepted(&opened);
    }
});
