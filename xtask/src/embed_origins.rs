//! The demo agency's `embed_origins` in `data/relay.toml`, kept on the demo
//! partner page's origin: `cargo xtask run --listen` on another port moves
//! the page to another port, and the list follows it, so the page never
//! shows a refused frame. A list an operator wrote is left alone.
//!
//! The end-to-end tests include this file (`crates/e2e/tests/widget.rs`), so
//! it uses nothing but std and anyhow.

use anyhow::{Context, Result};
use std::path::Path;

/// Ends the line this file writes; a line ending so is rewritten next time.
pub const MARK: &str = "# the demo partner page (cargo xtask run); follows its port";

/// Lets `origin` alone frame the demo agency's form, if `relay.toml` has the
/// empty list `sealtip-relay init` writes or the one a previous run wrote;
/// returns whether it changed the file.
pub fn follow_in_config(config: &Path, origin: &str) -> Result<bool> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("cannot read {}", config.display()))?;
    let changed = follow(&text, origin);
    if changed == text {
        return Ok(false);
    }
    std::fs::write(config, changed)
        .with_context(|| format!("cannot write {}", config.display()))?;
    Ok(true)
}

/// `config` with its first demo line (see [`is_demo_line`]) listing only
/// `origin`.
pub fn follow(config: &str, origin: &str) -> String {
    let mut done = false;
    let mut out = String::with_capacity(config.len() + MARK.len() + origin.len());
    for line in config.split_inclusive('\n') {
        if !done && is_demo_line(line) {
            done = true;
            let end = &line[line.trim_end_matches(['\r', '\n']).len()..];
            out.push_str(&format!("embed_origins = [\"{origin}\"] {MARK}{end}"));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `embed_origins = []` (what `init` writes), a line ending in [`MARK`], or
/// one loopback origin alone (what runs before [`MARK`] existed wrote).
fn is_demo_line(line: &str) -> bool {
    let line = line.trim_end();
    let loopback = line
        .strip_prefix("embed_origins = [\"http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("\"]"))
        .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    line == "embed_origins = []"
        || (line.starts_with("embed_origins = ") && line.ends_with(MARK))
        || loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_on_another_port_moves_the_origin() {
        let first = follow(
            "a = 1\nembed_origins = []\nb = 2\n",
            "http://127.0.0.1:8081",
        );
        assert_eq!(
            first,
            format!("a = 1\nembed_origins = [\"http://127.0.0.1:8081\"] {MARK}\nb = 2\n")
        );
        let second = follow(&first, "http://127.0.0.1:9001");
        assert_eq!(
            second,
            format!("a = 1\nembed_origins = [\"http://127.0.0.1:9001\"] {MARK}\nb = 2\n")
        );
        assert_eq!(follow(&second, "http://127.0.0.1:9001"), second);
    }

    #[test]
    fn a_list_written_by_an_older_run_follows_too() {
        assert_eq!(
            follow(
                "embed_origins = [\"http://127.0.0.1:18081\"]\n",
                "http://10.0.0.5:8081"
            ),
            format!("embed_origins = [\"http://10.0.0.5:8081\"] {MARK}\n")
        );
    }

    #[test]
    fn a_list_an_operator_chose_is_left_alone() {
        for chosen in [
            "embed_origins = [\"https://news.example\"]\n",
            "embed_origins = [\"http://127.0.0.1:8081\", \"https://news.example\"]\n",
            "embed_origins = [\"http://localhost:3000\"]\n",
        ] {
            assert_eq!(follow(chosen, "http://127.0.0.1:8081"), chosen);
        }
    }

    #[test]
    fn only_the_first_agency_is_the_demo() {
        let config = "embed_origins = []\nembed_origins = []\n";
        assert_eq!(
            follow(config, "http://127.0.0.1:8081"),
            format!("embed_origins = [\"http://127.0.0.1:8081\"] {MARK}\nembed_origins = []\n")
        );
    }
}
