//! The relay's HTTP layer: the route table, one handler module per resource,
//! the extractors every handler shares, and the security headers.
//!
//! Handlers take no client address, user agent, referrer or cookie: none of
//! them is extracted, so none can be stored or logged.
//!
//! - [`router`]: the one table of routes, the API description and the page;
//! - [`extract`]: the agency, its token, ids in the path, the proof of work,
//!   the upload offset, and the headers of a sealed body;
//! - [`headers`]: the security headers on every answer;
//! - [`capacity`]: room checked before a proof is spent (sessions, inbox,
//!   storage);
//! - [`load`]: the work a challenge asks, rising with an agency's load;
//! - [`empty_sessions`]: ending sessions that received nothing, within
//!   minutes; [`open_sessions`]: the sessions this relay opened, in memory,
//!   the one silent longest giving its place when all are taken;
//! - `agencies`, `tips`, `uploads`, `inbox`, `mailboxes`, `case_items`,
//!   `metrics`: the handlers, by resource;
//! - [`state`]: what every handler shares.

mod agencies;
pub mod capacity;
mod case_items;
pub mod empty_sessions;
pub mod extract;
pub mod headers;
mod inbox;
pub mod load;
mod mailboxes;
mod metrics;
pub mod open_sessions;
pub mod router;
pub mod state;
mod tips;
mod uploads;

pub use router::{router, routes};
pub use state::AppState;

/// The content type every sealed upload must declare.
pub const UPLOAD_CONTENT_TYPE: &str = "application/octet-stream";
