//! sealtip-relay: stores sealed tips it cannot open, and serves the tipster's page.
//!
//! The relay holds ciphertext only. It checks that an upload is shaped like an
//! age file, that its proof of work is solved and unspent, streams it to
//! storage, makes it durable and only then answers `201`. Agencies pull their
//! inbox with a bearer token; tipsters read replies from a mailbox whose id
//! only they and the agency know.
//!
//! It records no client address, user agent, referrer or cookie, stores times
//! at hour precision, and names everything with random ids.
//!
//! Code map:
//! - [`config`]: `relay.toml`, read and checked into a [`config::Relay`];
//! - [`init`]: `sealtip-relay init`, the demo agency;
//! - [`store`]: the [`store::Store`] trait, [`store::sqlite`], the embedded
//!   default, and [`store::postgres`], for several relays on one database;
//! - [`http`]: the route table, the handlers by resource, the extractors
//!   they share, and the security headers;
//! - [`error`]: every error answer;
//! - [`assets`]: the built page's files, and [`first_screen`]: an agency's
//!   page with its first screen in the HTML;
//! - [`serve`]: the HTTP server loop, on a listener the caller binds, and
//!   the periodic cleaning beside it;
//! - [`alerts`]: the agencies' alerts that something arrived, beside it too.

pub mod alerts;
pub mod assets;
pub mod config;
pub mod error;
pub mod first_screen;
pub mod http;
pub mod init;
pub mod serve;
pub mod store;
pub mod time;
mod upload;

pub use config::{Config, Relay};
pub use http::{AppState, router};
pub use serve::serve;
