//! A mail sink for tests: plain SMTP on a loopback port, no TLS, no login,
//! that takes every message and records it whole.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use anyhow::Result;

/// A message the [`SmtpSink`] received.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent after `DATA`, headers and body, without the
    /// final `.` line (dot-stuffing undone).
    pub data: Vec<u8>,
}

impl Mail {
    /// The body: what follows the first empty line.
    pub fn body(&self) -> &[u8] {
        let end = self
            .data
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(self.data.len(), |at| at + 4);
        &self.data[end..]
    }

    /// The value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = &self.data[..self.data.len() - self.body().len()];
        String::from_utf8_lossy(head).lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// An SMTP server on a free port of 127.0.0.1, taking every message.
pub struct SmtpSink {
    /// The port.
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Starts the sink; it runs until the test ends.
    pub fn start() -> Result<SmtpSink> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let _ = converse(stream, &kept);
                });
            }
        });
        Ok(SmtpSink { port, mails })
    }

    /// The messages received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        match self.mails.lock() {
            Ok(mails) => mails.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// One SMTP session: greets, then answers each command until `QUIT`.
fn converse(stream: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-sink\r\n250 8BITMIME\r\n")?,
            "HELO" | "NOOP" => out.write_all(b"250 ok\r\n")?,
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                out.write_all(b"250 ok\r\n")?;
            }
            "MAIL" => {
                from = address(&command);
                out.write_all(b"250 ok\r\n")?;
            }
            "RCPT" => {
                to.push(address(&command));
                out.write_all(b"250 ok\r\n")?;
            }
            "DATA" => {
                out.write_all(b"354 go on\r\n")?;
                let data = read_data(&mut reader)?;
                if let Ok(mut mails) = mails.lock() {
                    mails.push(Mail {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    });
                }
                out.write_all(b"250 kept\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 not here\r\n")?,
        }
    }
}

/// The address between `<` and `>` of a `MAIL FROM` or `RCPT TO`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// The lines after `DATA` up to the lone `.`, dot-stuffing undone.
fn read_data(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 || line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(line);
    }
}
