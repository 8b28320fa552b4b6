//! An age header from anyone (the relay checks uploads with it): reading
//! returns, never panics, and a header that parses is canonical: written
//! back, it is byte for byte what was read.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sealtip_envelope::{Header, MAX_HEADER_BYTES};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    if let Ok(header) = Header::read(&mut input) {
        let consumed = data.len() - input.len();
        assert!(consumed <= MAX_HEADER_BYTES);
        assert_eq!(header.to_bytes(), &data[..consumed], "not canonical");
        let again = Header::read(&mut header.to_bytes().as_slice())
            .unwrap_or_else(|err| panic!("a written header does not read back: {err}"));
        assert_eq!(again.stanzas, header.stanzas);
    }
});
