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

/// A WebDriver and the browser it starts: the driver leads a process group
/// of its own ([`in_own_group`]), and the whole group is killed (SIGKILL)
/// when dropped, so that a browser never outlives a failed test (a killed
/// geckodriver leaves Firefox running).
#[cfg(feature = "browser")]
pub(crate) struct KilledGroup(pub(crate) Child);

#[cfg(feature = "browser")]
impl Drop for KilledGroup {
    fn drop(&mut self) {
        // The child is not reaped yet, so its id still names its group.
        let group = format!("-{}", self.0.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Makes `command` start a new process group, which it leads.
#[cfg(feature = "browser")]
pub(crate) fn in_own_group(command: &mut std::process::Command) -> &mut std::process::Command {
    std::os::unix::process::CommandExt::process_group(command, 0)
}
