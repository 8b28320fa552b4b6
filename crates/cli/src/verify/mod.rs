//! Checking a relay against a release: the web build's manifest
//! (`manifest`), its ed25519 signature (`signature`), what the page's HTML
//! loads (`html`), the agency's page made again with its first screen
//! (`first_screen`) and the security headers the relay is built to send
//! (`headers`). `sealtip verify-client` and `sealtip sign-manifest` use them.

pub mod first_screen;
pub mod headers;
pub mod html;
pub mod manifest;
pub mod signature;
