//! `--proxy URL` (or `ALL_PROXY`) for the tipster's commands: reaching the
//! relay through Tor, so it never sees the tipster's address.

use anyhow::{Result, bail};

use crate::display;

/// The environment variables read when `--proxy` is absent, in order.
const ENV: [&str; 2] = ["ALL_PROXY", "all_proxy"];

/// How the tipster's commands reach the relay.
#[derive(clap::Args)]
pub struct ProxyArgs {
    /// Reach the relay through this proxy, e.g. socks5h://127.0.0.1:9050 for Tor (socks5h://,
    /// socks5:// or http://). Without it, ALL_PROXY is used; without both, sealtip connects
    /// directly and the relay sees your address.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
}

impl ProxyArgs {
    /// The proxy chosen by `--proxy` or the environment, checked; `None`
    /// for a direct connection.
    pub fn choose(&self) -> Result<Option<ureq::Proxy>> {
        let from_env = || {
            ENV.iter().find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (value, *name))
            })
        };
        let (url, source) = match &self.proxy {
            Some(url) => (url.clone(), "--proxy"),
            None => match from_env() {
                Some(found) => found,
                None => return Ok(None),
            },
        };
        parse(url.trim(), source).map(Some)
    }
}

/// A proxy URL named by `source` (`--proxy` or a variable's name).
fn parse(url: &str, source: &str) -> Result<ureq::Proxy> {
    // The scheme only: the rest may hold a user name and password.
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("{source} must be a URL such as socks5h://127.0.0.1:9050 (Tor), with its scheme");
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "socks5h" | "http" => {}
        "socks5" => eprintln!(
            "sealtip: warning: with {source} socks5:// the relay's name is resolved on this \
             machine, outside the proxy; socks5h:// resolves it through the proxy"
        ),
        _ => bail!(
            "{source} uses \"{}://\"; sealtip takes socks5h:// (Tor: socks5h://127.0.0.1:9050), \
             socks5:// or http://",
            display::line(&scheme)
        ),
    }
    if rest.is_empty() || rest.starts_with('/') {
        bail!("{source} names no proxy host (e.g. socks5h://127.0.0.1:9050)");
    }
    ureq::Proxy::new(&format!("{scheme}://{rest}"))
        .map_err(|_| anyhow::anyhow!("{source} is not a proxy URL sealtip can use"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_socks5h_socks5_and_http_proxies_are_taken() {
        let tor = parse("socks5h://127.0.0.1:9050", "--proxy").ok();
        assert!(tor.is_some_and(|p| !p.resolve_target() && p.port() == 9050));
        let local = parse("SOCKS5://localhost:1080", "--proxy").ok();
        assert!(local.is_some_and(|p| p.resolve_target()));
        assert!(parse("http://proxy.example:3128", "--proxy").is_ok());
        for (bad, says) in [
            ("socks4://127.0.0.1:9050", "uses \"socks4://\""),
            ("https://proxy.example", "uses \"https://\""),
            ("\u{1b}[2J://x", "uses \"\\u{1b}[2j://\""),
            ("127.0.0.1:9050", "with its scheme"),
            ("socks5h://", "names no proxy host"),
        ] {
            let err = parse(bad, "--proxy")
                .err()
                .map(|err| err.to_string())
                .unwrap_or_default();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains('\n'));
        }
    }
}
