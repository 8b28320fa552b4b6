//! The relay's API, as data: the JSON bodies of `sealtip-relay`'s routes and
//! the proof-of-work puzzle that guards its upload routes.
//!
//! The relay, the tipster's page (WebAssembly) and the agency's CLI all depend
//! on this crate, so the three agree on the wire format by construction. It is
//! pure Rust with no I/O, no clock and no randomness of its own: callers pass
//! the time and the random bytes in. `docs/api.md` at the top of the repository
//! describes every route; this crate is its typed half.
//!
//! The client side of the puzzle is [`pow::solve`] (or [`pow::solve_range`] to
//! solve in slices, e.g. between animation frames) and [`pow::proof_header`];
//! the relay side is [`pow::issue`] and [`pow::verify`].
//!
//! [`upload::Session`] is the client side of an upload session, as a state
//! machine without I/O that the page and the CLI drive with their own HTTP.

#[cfg(feature = "first-screen")]
pub mod first_screen;
pub mod ftl;
pub mod html;
pub mod pow;
pub mod security;
pub mod time;
pub mod types;
pub mod upload;

pub use pow::{PROOF_HEADER, PowError, Solution};
pub use types::*;
