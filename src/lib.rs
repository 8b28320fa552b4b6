//! The tipster's page: a yew app that seals a tip in the browser, to the
//! agency's keys, and uploads only ciphertext to the relay.
//!
//! - [`state`]: the page's state, actions and reducer, every screen's data
//!   included (pure, tested natively);
//! - [`app`]: the page component and its screens, which turn the state into
//!   views and start the work (sending, opening replies);
//! - [`components`]: small view functions, each given a struct of what it shows;
//! - [`api`]: every request to the relay, with one error type;
//! - [`browser`]: the thin layer over browser APIs;
//! - [`sealing`]: sealing a tip or follow-up to the agency's keys, in parts;
//! - [`send`]: sending a tip (fails closed), follow-ups, and fetching and
//!   deleting replies;
//! - [`seal_worker`]: sealing and sending in a worker of its own
//!   (`src/bin/sealing.rs`), which the page hands the job and ends to cancel;
//! - [`upload`]: the upload session that sends the parts as they are sealed;
//! - [`replies`]: opening replies, in a worker of its own (`src/bin/replies.rs`);
//! - [`worker`]: starting those workers from bytes the browser checked;
//! - [`i18n`]: the page's words, one Fluent file per language in `www/i18n/`,
//!   named by the constants of [`i18n::msg`];
//! - [`first_screen`]: taking over the form the relay drew in the HTML,
//!   with what the tipster typed before the wasm arrived;
//! - [`embed`]: the form inside a partner's page (`/embed`, framed by `www/embed.js`);
//! - [`pin`]: recipient pinning from the address fragment (`#pin=`).
//!
//! `src/main.rs` mounts [`App`], the tipster's page (Trunk builds it from
//! `www/index.html`). Nothing here is for officers: they read tips with
//! `sealtip desk`, served from their own machine.

pub mod api;
pub mod app;
pub mod browser;
pub mod components;
pub mod embed;
pub mod first_screen;
pub mod i18n;
pub mod pin;
pub mod replies;
pub mod seal_worker;
pub mod sealing;
pub mod send;
pub mod state;
pub mod upload;
pub mod worker;

pub use app::{App, AppProps};
