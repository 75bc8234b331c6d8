//! A real SMTP server for the tests: `aiosmtpd` (installed by
//! `scripts/deps`) run by `tests/smtp/mailbox.py`, keeping each message it
//! accepts as a file. It can be told to hang mid-send.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;

/// A running SMTP server and the folder of what it accepted.
pub struct Mailbox {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    folder: PathBuf,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The whole message as received (headers and body).
    pub raw: String,
}

impl Mail {
    /// A header's value (first of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        // Folded lines belong to the header above them.
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned()))
    }

    /// The subject as a person reads it: encoded words (RFC 2047, base64,
    /// as lettre writes non-ASCII text) decoded.
    pub fn subject(&self) -> Option<String> {
        use base64::Engine;
        let raw = self.header("Subject")?;
        let mut out = String::new();
        let mut last_encoded = false;
        for token in raw.split(' ') {
            let decoded = token
                .strip_prefix("=?utf-8?b?")
                .or_else(|| token.strip_prefix("=?UTF-8?B?"))
                .and_then(|t| t.strip_suffix("?="))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            // Adjacent encoded words join without the space between them.
            if !out.is_empty() && !(last_encoded && decoded.is_some()) {
                out.push(' ');
            }
            last_encoded = decoded.is_some();
            out.push_str(decoded.as_deref().unwrap_or(token));
        }
        Some(out)
    }

    /// The body (after the headers).
    pub fn body(&self) -> String {
        self.raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
    }
}

/// How a [`Mailbox`] speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// STARTTLS, required before anything else (port 587's way).
    StartTls,
    /// TLS from the first byte (port 465's way).
    Implicit,
}

/// A mailbox that speaks TLS with this certificate and key (PEM files)
/// and, with `login`, refuses a sender that does not log in.
pub struct Secure<'a> {
    /// The certificate chain.
    pub cert: &'a Path,
    /// Its key.
    pub key: &'a Path,
    /// STARTTLS or implicit.
    pub mode: MailTls,
    /// User and password a sender must give.
    pub login: Option<(&'a str, &'a str)>,
}

impl Mailbox {
    /// Start one, keeping messages in `folder`.
    pub fn start(folder: &Path) -> anyhow::Result<Self> {
        Self::launch(folder, &[])
    }

    /// Start one that speaks TLS (see [`Secure`]).
    pub fn start_secure(folder: &Path, secure: &Secure<'_>) -> anyhow::Result<Self> {
        let mut args: Vec<std::ffi::OsString> = vec!["--tls".into(), secure.cert.into(), secure.key.into(), "--mode".into()];
        args.push(if secure.mode == MailTls::Implicit { "implicit" } else { "starttls" }.into());
        if let Some((user, password)) = secure.login {
            args.extend(["--login".into(), user.into(), password.into()]);
        }
        Self::launch(folder, &args)
    }

    fn launch(folder: &Path, args: &[std::ffi::OsString]) -> anyhow::Result<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp/mailbox.py");
        let mut child =
            Command::new("python3").arg(&script).arg(folder).args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("the mailbox did not start (is aiosmtpd installed? scripts/deps installs it): {line:?}"))?;
        Ok(Self { child, port, folder: folder.to_path_buf() })
    }

    /// The relay URL for `lodge-sync serve --smtp-url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What it accepted so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.folder)
            .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
            .collect();
        files.sort();
        files.into_iter().filter_map(|(_, p)| std::fs::read_to_string(p).ok()).map(|raw| Mail { raw }).collect()
    }

    /// How many messages it accepted so far (without reading them).
    pub fn count(&self) -> usize {
        std::fs::read_dir(&self.folder).map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count()).unwrap_or(0)
    }

    /// From now on, hang every message mid-send (until [`Mailbox::flow`]).
    pub fn stall(&self) {
        std::fs::write(self.folder.join("stall"), "").expect("the stall file");
    }

    /// Accept messages again.
    pub fn flow(&self) {
        let _ = std::fs::remove_file(self.folder.join("stall"));
    }

    /// Whether a message is hanging mid-send now.
    pub fn stalled(&self) -> bool {
        self.folder.join("stalled").exists()
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
