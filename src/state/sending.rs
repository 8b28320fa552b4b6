//! Sending a tip: its stages, how far it is, and why it failed.

use crate::i18n::msg;

/// The stages of sending, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Starting the workers that seal and send (the codename's keys and the
    /// proof of work are made beside sealing, see `crate::seal_worker`).
    Preparing,
    /// Sealing to the agency's keys.
    Sealing,
    /// Uploading the sealed tip.
    Sending,
    /// The connection was lost; trying again.
    Reconnecting,
    /// Stored by the relay.
    Done,
}

impl Stage {
    /// The message key of this stage.
    pub fn key(self) -> &'static str {
        match self {
            Stage::Preparing => msg::STAGE_PREPARING,
            Stage::Sealing => msg::STAGE_SEALING,
            Stage::Sending => msg::STAGE_SENDING,
            Stage::Reconnecting => msg::STAGE_RECONNECTING,
            Stage::Done => msg::STAGE_DONE,
        }
    }
}

/// Where sending is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Overall fraction done, 0.0–1.0.
    pub fraction: f64,
}

/// Why a send failed: a message key and a detail for `{ $detail }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The message key (`send-cancelled`, `reason-network`, …).
    pub key: &'static str,
    /// Detail from the relay, if any.
    pub detail: String,
}
