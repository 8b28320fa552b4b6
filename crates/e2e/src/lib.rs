//! End-to-end tests: the real `sealtip-relay` and `sealtip` binaries, the
//! built page (`dist/`, by `trunk build`), and headless Chromium driven
//! through chromedriver, or Firefox ESR through geckodriver (WebDriver).
//! `cargo xtask test` builds all three, then runs the tests in `tests/`;
//! what starts them is `sealtip-harness` (`crates/harness`), shared with the
//! relay's and the CLI's tests.
//!
//! The tests a tipster meets run in both browsers the harness drives
//! (Chromium, and Firefox ESR, the engine of Tor Browser): one body,
//! `async fn name(engine: Engine) -> anyhow::Result<()>`, and
//! [`in_each_browser!`]`(name)` makes the tests `name::chromium` and
//! `name::firefox` of it.

/// For each `async fn name(engine: Engine) -> anyhow::Result<()>` named, the
/// tests `name::chromium` and `name::firefox`, which run it in that browser.
#[macro_export]
macro_rules! in_each_browser {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[::tokio::test(flavor = "multi_thread")]
            async fn chromium() -> ::anyhow::Result<()> {
                super::$test(::sealtip_harness::Engine::Chromium).await
            }

            #[::tokio::test(flavor = "multi_thread")]
            async fn firefox() -> ::anyhow::Result<()> {
                super::$test(::sealtip_harness::Engine::Firefox).await
            }
        }
    )+};
}
