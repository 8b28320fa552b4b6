//! The tests' harness: what starts the real binaries and the tools around
//! them, written once for the relay's, the CLI's and the end-to-end tests.
//! A dev-dependency only; nothing here ships.
//!
//! - [`paths`]: the workspace, and where its built binaries are;
//! - [`ports`]: a free port, and waiting until a process listens on one;
//! - [`relay`]: `sealtip-relay init` and the relay binary ([`RelayProcess`]),
//!   and a relay of its own serving the built page ([`Relay`]);
//! - [`cli`]: `sealtip` run in a folder, and `sealtip desk` ([`Desk`]);
//! - [`http`]: a tiny HTTP server of canned answers, and a plain `GET`;
//! - [`proxy`]: a proxy in front of a relay that holds back the requests a
//!   test names until it releases them;
//! - [`served_copy`]: a copy of the built page that a test changes, for a
//!   relay that serves code of its own;
//! - [`smtp`]: a mail sink, plain SMTP on loopback, recording each message;
//! - `browser` (feature `browser`): headless Chromium through chromedriver,
//!   or headless Firefox ESR through geckodriver;
//! - `postgres` (feature `postgres`): a throwaway database on the test server.

#[cfg(feature = "browser")]
pub mod browser;
pub mod cli;
pub mod http;
pub mod paths;
pub mod ports;
#[cfg(feature = "postgres")]
pub mod postgres;
mod process;
pub mod proxy;
pub mod relay;
pub mod served_copy;
pub mod smtp;

#[cfg(feature = "browser")]
pub use browser::{Browser, Engine, PHONE};
pub use cli::{Desk, sealtip, sealtip_ok, sealtip_with};
pub use paths::{PATIENCE, binary, workspace};
pub use ports::free_port;
#[cfg(feature = "postgres")]
pub use postgres::{TestDatabase, test_database};
pub use proxy::HoldingProxy;
pub use relay::{Relay, RelayProcess, init_relay};
pub use served_copy::{ServedCopy, built_page};
pub use smtp::{Mail, SmtpSink};
