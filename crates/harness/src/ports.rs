//! Ports on 127.0.0.1: a free one, and waiting until a process listens.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::paths::PATIENCE;

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts connections on `address`; fails when
/// `child` (called `what`) exits first.
pub fn wait_for_port(address: SocketAddr, what: &str, child: &mut Child) -> Result<()> {
    let started = Instant::now();
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited before it listened: {status}");
        }
        if started.elapsed() > PATIENCE {
            bail!("{what} did not listen on {address} within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
