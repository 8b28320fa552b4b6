//! End-to-end tests: the real `sealtip-relay` and `sealtip` binaries, the
//! built page (`dist/`, by `trunk build`), and headless Chromium driven
//! through chromedriver (WebDriver). `cargo xtask test` builds all three,
//! then runs the tests in `tests/`; what starts them is `sealtip-harness`
//! (`crates/harness`), shared with the relay's and the CLI's tests.
