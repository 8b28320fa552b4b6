//! The codename and the message text: from the command line, from a file
//! (`-`: standard input), or typed at a prompt when standard input is a
//! terminal. A file or a prompt keeps them out of the shell's history.

use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sealtip_envelope::Codename;
use zeroize::Zeroizing;

/// `--codename WORDS` / `--codename-file F`, for commands that need one.
#[derive(clap::Args)]
pub struct CodenameArgs {
    /// The codename shown when the tip was sent. It stays in your shell's history: prefer
    /// --codename-file, or leave both out to type it unseen (or to take SEALTIP_CODENAME).
    #[arg(long, value_name = "WORDS", conflicts_with = "codename_file")]
    codename: Option<String>,
    /// Read the codename from this file (`-`: standard input).
    #[arg(long, value_name = "F")]
    codename_file: Option<PathBuf>,
}

impl CodenameArgs {
    /// The codename: from the flag, the file, or typed unseen on the terminal.
    pub fn codename(&self) -> Result<Codename> {
        let typed = codename_text(self.codename.as_deref(), self.codename_file.as_deref())?;
        let typed = match typed.or_else(codename_from_env) {
            Some(typed) => typed,
            None if io::stdin().is_terminal() => ask_codename("Your codename")?,
            None => bail!(
                "no codename: give --codename-file F (or --codename), or run in a terminal to type it"
            ),
        };
        Codename::parse(&typed).context("the codename")
    }

    /// Whether the codename is read from standard input.
    pub fn reads_stdin(&self) -> bool {
        is_stdin(self.codename_file.as_deref())
    }
}

/// The environment variable scripts may put the codename in.
const CODENAME_ENV: &str = "SEALTIP_CODENAME";

fn codename_from_env() -> Option<Zeroizing<String>> {
    std::env::var(CODENAME_ENV)
        .ok()
        .filter(|words| !words.trim().is_empty())
        .map(Zeroizing::new)
}

/// The codename's text from `--codename` or `--codename-file`, if either is given.
pub fn codename_text(flag: Option<&str>, file: Option<&Path>) -> Result<Option<Zeroizing<String>>> {
    if let Some(words) = flag {
        return Ok(Some(Zeroizing::new(words.to_string())));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let text = read_text(path, "the codename")?;
    if text.trim().is_empty() {
        bail!("{} holds no codename", shown_path(path));
    }
    Ok(Some(text))
}

/// Asks for a codename on the terminal without showing what is typed.
pub fn ask_codename(prompt: &str) -> Result<Zeroizing<String>> {
    let typed = rpassword::prompt_password(format!("{prompt} (not shown as you type): "))
        .map(Zeroizing::new)
        .context("cannot ask for the codename on the terminal")?;
    Ok(typed)
}

/// The message's text from `--message` or `--message-file`, or typed on the
/// terminal; `None` when none is given and standard input is no terminal.
pub fn message_text(flag: Option<&str>, file: Option<&Path>) -> Result<Option<String>> {
    if let Some(text) = flag {
        return Ok(Some(text.to_string()));
    }
    if let Some(path) = file {
        return Ok(Some(read_text(path, "the message")?.to_string()));
    }
    if !io::stdin().is_terminal() {
        return Ok(None);
    }
    eprintln!("Type the message; end it with Ctrl-D on a line of its own:");
    let mut text = String::new();
    io::stdin()
        .lock()
        .read_to_string(&mut text)
        .context("cannot read the message from the terminal")?;
    Ok(Some(text))
}

/// `--message TEXT` or `--message-file F`: the text of a tip, a reply or a
/// follow-up (typed in a terminal when both are left out).
#[derive(clap::Args)]
pub struct MessageArgs {
    /// The text. It stays in your shell's history: prefer --message-file, or leave both out to
    /// type it (in a terminal).
    #[arg(long, value_name = "TEXT", conflicts_with = "message_file")]
    pub message: Option<String>,
    /// Read the text from this file (`-`: standard input).
    #[arg(long, value_name = "F")]
    pub message_file: Option<PathBuf>,
}

impl MessageArgs {
    /// The text, if given or typed.
    pub fn text(&self) -> Result<Option<String>> {
        message_text(self.message.as_deref(), self.message_file.as_deref())
    }

    /// The text, which must not be empty: for a reply or a follow-up.
    pub fn required(&self) -> Result<String> {
        required_message(self.message.as_deref(), self.message_file.as_deref())
    }

    /// Whether the text comes from standard input (`--message-file -`).
    pub fn reads_stdin(&self) -> bool {
        is_stdin(self.message_file.as_deref())
    }
}

/// A message that must not be empty: for a reply or a follow-up.
fn required_message(flag: Option<&str>, file: Option<&Path>) -> Result<String> {
    match message_text(flag, file)? {
        Some(text) if !text.trim().is_empty() => Ok(text),
        Some(_) => bail!("the message is empty"),
        None => bail!(
            "no message: give --message-file F (or --message), or run in a terminal to type it"
        ),
    }
}

/// Whether `file` is `-`, standard input.
pub fn is_stdin(file: Option<&Path>) -> bool {
    file.is_some_and(|path| path.as_os_str() == "-")
}

/// A file's text, or standard input's for `-`.
fn read_text(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    // Room for a codename up front: growing would leave copies unzeroized.
    let mut text = Zeroizing::new(String::with_capacity(4096));
    if path.as_os_str() == "-" {
        io::stdin()
            .lock()
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {what} from standard input"))?;
    } else {
        std::fs::File::open(path)
            .and_then(|mut file| file.read_to_string(&mut text))
            .with_context(|| format!("cannot read {what} from {}", shown_path(path)))?;
    }
    Ok(text)
}

fn shown_path(path: &Path) -> String {
    crate::display::line(&path.display().to_string()).to_string()
}
