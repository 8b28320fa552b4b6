//! `sealtip`: the agency's command (keygen, open) and the command line for
//! sealing tips (hotline staff typing a phone tip, tests, tipsters without
//! WebAssembly).
//!
//! This file only parses arguments and reports errors; each command lives in
//! `commands/`, and everything about the format is in `sealtip-envelope`.

mod case_state;
mod commands;
mod desk;
mod display;
mod export;
mod files;
mod hashing_thread;
mod input;
mod passphrase;
mod proxy;
mod read_ahead;
mod received;
mod relay_client;
mod threads;
mod time;
mod verify;
mod write_behind;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// sealtip: open sealed tips, make agency keys, seal tips.
#[derive(Parser)]
#[command(name = "sealtip", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new identity (an agency or officer key) and print its age1… recipient.
    ///
    /// The identity file is in age-keygen's format, so `age -d -i FILE` opens
    /// tips too. Keep it off the relay and away from the internet.
    Keygen {
        /// Write the identity here (refuses to overwrite); without it, print it.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Protect the identity file with a passphrase (asked twice, or SEALTIP_PASSPHRASE).
        #[arg(long)]
        passphrase: bool,
        /// Make a legacy X25519-only key (age1…) instead of a hybrid post-quantum one
        /// (age1pq1…, the default). Only for agencies whose officers all still use X25519 keys.
        #[arg(long)]
        x25519: bool,
    },
    /// Seal a tip to one or more recipients, as the tipster's page does.
    Seal(commands::seal::Args),
    /// Open a sealed tip (binary or armored) into a folder and summarise it.
    Open(commands::open::Args),
    /// Upload a sealed tip to a relay (solves its proof-of-work) and print its id; over 8 MiB it
    /// goes in parts and resumes after a lost connection.
    Submit(commands::submit::Args),
    /// List an agency's inbox on a relay: kind, size, when received.
    Inbox(commands::inbox::Args),
    /// Download new inbox items into a folder; with --delete, remove them from the relay once safe.
    Pull(commands::pull::Args),
    /// Export a thread as evidence: items opened, sealed files, manifest.json, report.html.
    Export(commands::export::Args),
    /// Reply to a tipster: seal to the reply key inside the tip, post to its mailbox.
    Reply(commands::reply::Args),
    /// The officers' inbox in a browser, served by this command on this machine only (loopback).
    Desk(desk::Args),
    /// Show tips with their follow-ups and replies, in order, from a folder of opened items.
    Thread(commands::thread::Args),
    /// Show or change a thread's case state (status, assignee, labels, internal notes), shared
    /// with the other officers through the relay, sealed to the officers only.
    ///
    /// Without a change, prints the state merged from the case items pulled into DIR. With
    /// --status, --assign, --label, --unlabel or --note, seals one case item to your identities'
    /// recipients (and --officer-recipient), never to the tipster, posts it, and keeps a copy in
    /// DIR. Every officer's sealtip and desk merge case items the same way: per field the last
    /// writer wins (by the writer's clock, then name), a label follows its last add or remove,
    /// every note is kept. A case item the relay made up, or one from the tipster, is refused.
    Case(commands::case::Args),
    /// Tipster: read the agency's replies with your codename.
    Replies(commands::tipster::RepliesArgs),
    /// Tipster: send the agency a follow-up message, sealed, under your codename.
    FollowUp(commands::tipster::FollowUpArgs),
    /// Change an agency's officers in the relay's configuration.
    #[command(subcommand)]
    Agency(commands::agency::Command),
    /// Check that a relay serves exactly a released web page: bytes, encodings, security headers.
    ///
    /// Fetches what a browser fetches for an agency's page (/a/ID and /embed?agency=ID, then
    /// every file the manifest lists: scripts, modules, wasm, stylesheets, language files, the
    /// codename wordlist, the replies worker, the widget's /embed.js), each once for every
    /// Accept-Encoding (identity, gzip, br), and compares the bytes the relay sends with the
    /// size and SHA-256 the release's manifest gives for that encoding. Also checks what the
    /// page's HTML loads (nothing inline, nothing from elsewhere, nothing unlisted), that the
    /// relay publishes the same manifest at /.well-known/sealtip/manifest.json, and the
    /// security headers of every answer against those the relay is built to send
    /// (Content-Security-Policy directive by directive, nosniff, no-referrer, COOP,
    /// Permissions-Policy, no-store on pages, HSTS over https).
    ///
    /// Prints one line per difference and exits non-zero; exits 0 when everything matches.
    /// It proves what this machine was served, not what another visitor gets: run it from a
    /// machine you trust, on a schedule, and through Tor (--proxy) so the relay cannot tell it
    /// from a tipster.
    VerifyClient(commands::verify_client::Args),
    /// Sign a release's web manifest with ed25519 (MANIFEST.sig), or make a signing key.
    SignManifest(commands::sign_manifest::Args),
    /// Print a new codename (8 words) for hearing back.
    Codename {
        /// How many words (at least 6).
        #[arg(long, default_value_t = sealtip_envelope::DEFAULT_WORDS)]
        words: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen {
            output,
            passphrase,
            x25519,
        } => commands::keygen::run(output.as_deref(), passphrase, x25519),
        Command::Seal(args) => commands::seal::run(args),
        Command::Open(args) => commands::open::run(args),
        Command::Submit(args) => commands::submit::run(args),
        Command::Inbox(args) => commands::inbox::run(args),
        Command::Pull(args) => commands::pull::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Reply(args) => commands::reply::run(args),
        Command::Desk(args) => desk::run(args),
        Command::Thread(args) => commands::thread::run(args),
        Command::Case(args) => commands::case::run(args),
        Command::Replies(args) => commands::tipster::replies(args),
        Command::FollowUp(args) => commands::tipster::follow_up(args),
        Command::Agency(command) => commands::agency::run(command),
        Command::VerifyClient(args) => commands::verify_client::run(args),
        Command::SignManifest(args) => commands::sign_manifest::run(args),
        Command::Codename { words } => commands::codename::run(words),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`sealtip open … | head`) is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the context chain joined, never a backtrace; what a
            // tip or a relay put in it is shown, never obeyed.
            let message: Vec<String> = err.chain().map(ToString::to_string).collect();
            eprintln!("sealtip: error: {}", display::line(&message.join(": ")));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
