//! `sealtip codename [--words N]`.

use anyhow::{Result, bail};
use sealtip_envelope::Codename;
use sealtip_envelope::{MAX_WORDS, MIN_WORDS};

/// Prints a new codename.
pub fn run(words: usize) -> Result<()> {
    if !(MIN_WORDS..=MAX_WORDS).contains(&words) {
        bail!("a codename has {MIN_WORDS} to {MAX_WORDS} words");
    }
    println!("{}", Codename::generate(words)?.as_str());
    Ok(())
}
