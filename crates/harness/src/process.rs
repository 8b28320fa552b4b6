//! A child process that does not outlive its test.

use std::process::Child;

/// A child process, killed (SIGKILL) and reaped when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Killed {
    /// SIGKILL, and wait for the process to be gone.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.kill();
    }
}
