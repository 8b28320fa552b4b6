//! What every handler shares: the store, the checked configuration, the
//! agencies' load, and the relay's bounds on uploads in progress.

use std::sync::Arc;

use sealtip_api::PART_MAX_BYTES;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::capacity::Capacity;
use super::load::Load;
use crate::alerts::Rounds;
use crate::config::Relay;
use crate::error::ApiError;
use crate::first_screen::Pages;
use crate::store::Store;
use crate::time::WallClock;
use crate::upload::UploadLimits;

/// The unit of `limits.part_buffer_bytes` that parts take.
const MIB: u64 = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState<S> {
    /// Storage.
    pub store: S,
    /// The checked configuration.
    pub relay: Arc<Relay>,
    /// Proofs recently spent per agency, and the clock they are read from.
    pub load: Arc<Load>,
    /// The wall clock the periodic tasks wait on, which tests move.
    pub clock: Arc<WallClock>,
    /// The hours whose alerts have been handled, which tests wait on.
    pub alerts: Arc<Rounds>,
    /// The agencies' pages with their first screens, as made.
    pub pages: Arc<Pages>,
    /// What capacity checks share.
    pub(crate) capacity: Arc<Capacity>,
    uploads: Arc<Semaphore>,
    /// `limits.part_buffer_bytes` in MiB, for stores that keep parts in memory.
    part_memory: Arc<Semaphore>,
}

impl<S: Store> AppState<S> {
    /// State over `store` and `relay`. It starts nothing: [`crate::serve`]
    /// starts the periodic cleaning beside the requests.
    pub fn new(store: S, relay: Arc<Relay>) -> Self {
        let uploads = Arc::new(Semaphore::new(relay.limits.max_concurrent_uploads));
        let part_mib = usize::try_from(relay.limits.part_buffer_bytes / MIB).unwrap_or(usize::MAX);
        let part_memory = Arc::new(Semaphore::new(part_mib.min(Semaphore::MAX_PERMITS)));
        AppState {
            store,
            relay,
            load: Arc::default(),
            clock: Arc::default(),
            alerts: Arc::default(),
            pages: Arc::default(),
            capacity: Arc::default(),
            uploads,
            part_memory,
        }
    }

    /// The limits of one upload, or of one part of an upload session.
    pub(crate) fn upload_limits(&self) -> UploadLimits {
        UploadLimits {
            max_bytes: self.relay.limits.max_upload_bytes,
            idle: self.relay.upload_idle(),
            total: self.relay.upload_total(),
        }
    }

    /// One of `limits.max_concurrent_uploads`, or 429 at once.
    pub(crate) fn upload_permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::too_many_uploads())
    }

    /// A part's share of `limits.part_buffer_bytes`, if the store keeps parts
    /// in memory: `declared` bytes (else the largest part) in whole MiB,
    /// taken before its body is read. 429 at once when it does not fit: the
    /// page tries again shortly, and a waiting request would hold its
    /// connection and upload slot for nothing.
    pub(crate) fn part_memory(
        &self,
        declared: Option<u64>,
    ) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        if !S::PARTS_IN_MEMORY {
            return Ok(None);
        }
        let bytes = declared.unwrap_or(PART_MAX_BYTES);
        let mib = u32::try_from(bytes.div_ceil(MIB).max(1)).unwrap_or(u32::MAX);
        self.part_memory
            .clone()
            .try_acquire_many_owned(mib)
            .map(Some)
            .map_err(|_| ApiError::parts_busy())
    }
}
