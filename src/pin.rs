//! Recipient pinning: a partner (or a link) names the agency's key
//! fingerprints in the page's address fragment,
//! `#pin=3f2a-09c1-77d0-5be2-a1c4-0e9f-6d38-b2a7[,…]` (eight groups of four
//! hex digits: 128 bits of SHA-256 over the key), which browsers never send
//! to the server. When the agency profile the relay serves has a recipient
//! whose fingerprint is not pinned, the page refuses to seal: a relay that
//! slipped in a key of its own cannot read the tip.
//!
//! What a pin does not stop: a relay that serves other code. The pin is
//! checked by the page's own code, which the relay serves too.
//!
//! Pins that match no recipient are allowed (an officer who left); a pin that
//! is not a fingerprint at all (the 16-digit fingerprints of earlier
//! versions included) fails closed.

use std::cell::RefCell;

use sealtip_envelope::Recipient;

/// The fingerprints pinned by the page's address, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pins {
    /// `None`: no pin in the address. Each entry is 32 lowercase hex digits,
    /// or empty for a pin that could not be read.
    pinned: Option<Vec<String>>,
}

/// The outcome of checking the agency's recipients against the pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// Nothing pinned: seal to the profile's recipients.
    NotPinned,
    /// Every recipient is pinned.
    Matches,
    /// Some recipient is not pinned (or a pin is not a fingerprint): do not seal.
    Mismatch {
        /// The fingerprints of the recipients the relay serves, as shown on the page.
        served: Vec<String>,
    },
}

thread_local! {
    static PAGE_PINS: RefCell<Pins> = RefCell::new(Pins::default());
}

impl Pins {
    /// Reads `pin=` from an address fragment (`#pin=a,b&x=y`, with or without `#`).
    pub fn from_fragment(fragment: &str) -> Pins {
        let pinned = fragment
            .trim_start_matches('#')
            .split('&')
            .find_map(|pair| pair.strip_prefix("pin="))
            .map(|list| list.split(',').map(normalise).collect());
        Pins { pinned }
    }

    /// Remembers these as the pins of this page (read once from its address).
    pub fn set_for_page(self) {
        PAGE_PINS.with(|pins| *pins.borrow_mut() = self);
    }

    /// The pins of this page; none unless [`Pins::set_for_page`] was called.
    pub fn of_page() -> Pins {
        PAGE_PINS.with(|pins| pins.borrow().clone())
    }

    /// Checks the agency's recipients (`age1…`) against the pins.
    pub fn check(&self, recipients: &[String]) -> PinCheck {
        let Some(pinned) = &self.pinned else {
            return PinCheck::NotPinned;
        };
        let served: Vec<Option<String>> = recipients
            .iter()
            .map(|r| Recipient::parse(r).ok().map(|r| r.fingerprint()))
            .collect();
        let all_pinned = !served.is_empty()
            && pinned.iter().all(|pin| !pin.is_empty())
            && served.iter().all(|fingerprint| {
                fingerprint
                    .as_deref()
                    .is_some_and(|f| pinned.contains(&normalise(f)))
            });
        if all_pinned {
            PinCheck::Matches
        } else {
            PinCheck::Mismatch {
                served: served.into_iter().flatten().collect(),
            }
        }
    }
}

/// `ABCD-ef01 2345:6789-…` → `abcdef01234567…`; anything that is not 32 hex
/// digits once separators are dropped becomes empty (matches nothing).
fn normalise(pin: &str) -> String {
    let hex: String = pin
        .chars()
        .filter(|c| !matches!(c, '-' | ':' | ' ' | '+'))
        .flat_map(char::to_lowercase)
        .collect();
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealtip_envelope::Identity;

    fn recipient() -> (String, String) {
        let identity = Identity::generate().unwrap();
        let recipient = identity.recipient();
        (recipient.to_string(), recipient.fingerprint())
    }

    #[test]
    fn an_address_without_a_pin_pins_nothing() {
        let (r, _) = recipient();
        for fragment in ["", "#", "#x=1", "#pins=abc"] {
            assert_eq!(
                Pins::from_fragment(fragment).check(std::slice::from_ref(&r)),
                PinCheck::NotPinned,
                "{fragment}"
            );
        }
    }

    #[test]
    fn every_recipient_must_be_pinned() {
        let (a, fa) = recipient();
        let (b, fb) = recipient();
        let (_, fc) = recipient();
        let check =
            |fragment: &str, recipients: &[String]| Pins::from_fragment(fragment).check(recipients);
        let both = [a.clone(), b.clone()];
        assert_eq!(
            check(&format!("#pin={fa}"), std::slice::from_ref(&a)),
            PinCheck::Matches
        );
        assert_eq!(check(&format!("#pin={fa},{fb}"), &both), PinCheck::Matches);
        // Written differently: upper case, no dashes, after another parameter.
        let loud = fb.to_uppercase().replace('-', "");
        assert_eq!(
            check(&format!("x=1&pin={fa},{loud}"), &both),
            PinCheck::Matches
        );
        // A pin for an officer no longer listed does no harm.
        assert_eq!(
            check(&format!("#pin={fa},{fc}"), std::slice::from_ref(&a)),
            PinCheck::Matches
        );
        // A key the partner did not pin: refuse, and say which keys are served.
        assert_eq!(
            check(&format!("#pin={fa}"), &both),
            PinCheck::Mismatch {
                served: vec![fa.clone(), fb.clone()]
            }
        );
        assert_eq!(
            check(&format!("#pin={fc}"), std::slice::from_ref(&a)),
            PinCheck::Mismatch {
                served: vec![fa.clone()]
            }
        );
    }

    #[test]
    fn unreadable_pins_and_profiles_fail_closed() {
        let (a, fa) = recipient();
        for fragment in [
            "#pin=".to_string(),
            format!("#pin={fa},nonsense"),
            format!("#pin={}", &fa[..10]),
            // A fingerprint of the earlier, 64-bit kind: too short to pin.
            format!("#pin={}", &fa[..19]),
        ] {
            assert!(
                matches!(
                    Pins::from_fragment(&fragment).check(std::slice::from_ref(&a)),
                    PinCheck::Mismatch { .. }
                ),
                "{fragment}"
            );
        }
        let pins = Pins::from_fragment(&format!("#pin={fa}"));
        assert!(matches!(pins.check(&[]), PinCheck::Mismatch { .. }));
        assert!(matches!(
            pins.check(&[a, "age1notakey".into()]),
            PinCheck::Mismatch { .. }
        ));
    }

    #[test]
    fn the_page_keeps_the_pins_it_was_given() {
        let (a, fa) = recipient();
        assert_eq!(
            Pins::of_page().check(std::slice::from_ref(&a)),
            PinCheck::NotPinned
        );
        Pins::from_fragment(&format!("#pin={fa}")).set_for_page();
        assert_eq!(
            Pins::of_page().check(std::slice::from_ref(&a)),
            PinCheck::Matches
        );
    }
}
