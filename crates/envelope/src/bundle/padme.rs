//! Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted
//! Files and Communication with PURBs", PETS 2019).
//!
//! A length `L` is rounded up so that only its top `floor(log2(log2 L)) + 1`
//! bits may be non-zero: the padded length reveals O(log log L) bits of `L`,
//! at most 12% more than `L`.

/// The padded length of a plaintext of `len` bytes.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    // E = floor(log2 L); S = floor(log2 E) + 1, the bit length of E.
    let e = u64::from(63 - len.leading_zeros());
    let s = u64::from(64 - e.leading_zeros());
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    len.saturating_add(mask) & !mask
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        // Values from the PURBs paper's definition.
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1), 1);
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(1_000_000), 1_015_808);
    }

    proptest! {
        #[test]
        fn never_shrinks_and_costs_at_most_twelve_percent(len in 0u64..(1 << 40)) {
            let padded = padme(len);
            prop_assert!(padded >= len);
            prop_assert!(padded as f64 <= len as f64 * 1.12 + 1.0);
        }

        #[test]
        fn is_monotone(a in 0u64..(1 << 40), b in 0u64..(1 << 40)) {
            let (small, large) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(padme(small) <= padme(large));
        }

        #[test]
        fn is_idempotent(len in 0u64..(1 << 40)) {
            prop_assert_eq!(padme(padme(len)), padme(len));
        }
    }
}
