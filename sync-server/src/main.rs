//! `lodge-sync`: run the sync server and administer its sites and devices.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use lodge_core::{Clock, DeviceId, NewSite, PersonId, Role, SiteId, SystemClock, Timestamp};
use lodge_sync_server::{AppState, Limits};

// glibc's allocator kept freed memory of a busy catch-up in its per-thread
// arenas for good (200 MB resident holding 5 MB of live heap at 50
// devices); mimalloc gives it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "lodge-sync", version, about = "The sync server of a Lodge site")]
struct Cli {
    /// Where the server keeps its data.
    #[arg(long, global = true, default_value = "lodge-sync-data", env = "LODGE_SYNC_DATA")]
    data: PathBuf,
    /// Keep the server's state (sites, devices and tokens, the change feed
    /// with every change, operators, the audit trail) in this PostgreSQL
    /// database, shared with other instances, instead of in the data
    /// directory, which then caches the sites' documents: a URL such as
    /// postgres://lodge@db.example/lodge.
    #[arg(long, global = true, env = "LODGE_SYNC_DATABASE", value_parser = postgres_url)]
    database: Option<String>,
    /// Certificate authorities (PEM) to trust for the database's TLS
    /// certificate, beside the public ones.
    #[arg(long, global = true, env = "LODGE_SYNC_DATABASE_CA")]
    database_ca: Option<PathBuf>,
    /// A settings file of NAME=value lines, as the service's
    /// /etc/lodge/lodge-sync.conf: read before the options, as if its
    /// variables were set; an option given or a variable already set wins.
    #[arg(long, global = true, env = "LODGE_SYNC_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve devices over HTTP and WebSocket.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7878", env = "LODGE_SYNC_LISTEN")]
        listen: SocketAddr,
        /// Serve plain HTTP on a non-loopback address (only behind a TLS proxy).
        #[arg(long, env = "LODGE_SYNC_ALLOW_PLAIN_HTTP")]
        allow_plain_http: bool,
        /// Serve HTTPS/WSS with this certificate chain (PEM), with `--tls-key`.
        #[arg(long, requires = "tls_key", env = "LODGE_SYNC_TLS_CERT")]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert", env = "LODGE_SYNC_TLS_KEY")]
        tls_key: Option<std::path::PathBuf>,
        /// Serve `GET /metrics` (Prometheus' text format) to this bearer
        /// token; without one there is no `/metrics`.
        #[arg(long, env = "LODGE_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// The sync address of another instance on the same database
        /// (`wss://b.example/sync`), told to devices, which try it when
        /// this one cannot be reached; again for each (or comma-separated).
        #[arg(long = "also-at", value_name = "URL", env = "LODGE_SYNC_ALSO_AT", value_delimiter = ',', value_parser = sync_address)]
        also_at: Vec<String>,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Sites on this server.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Print a one-time enrolment code for a device.
    Enrol {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The device's role: kiosk, reception, staff, worker, key-desk, admin.
        #[arg(long)]
        role: String,
        /// For staff and worker phones: whose phone it is.
        #[arg(long)]
        person: Option<PersonId>,
        /// Minutes until the code expires.
        #[arg(long, default_value_t = 60)]
        minutes: i64,
        /// Also print the code as a QR code: `text` (to the terminal) or an
        /// SVG file path.
        #[arg(long)]
        qr: Option<String>,
    },
    /// Operators, above sites: root and support, with tokens for the
    /// operators' HTTP API (`/operator/...`).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// The audit trail: enrolments, codes, revocations, admin and operator
    /// calls, with the client's address; newest first.
    Audit {
        /// Only this site's rows (without it: every row).
        #[arg(long)]
        site: Option<SiteId>,
        /// From this time on (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Rows whose action contains this (enrol, sign-in-code, /admin/).
        #[arg(long)]
        action: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 200)]
        limit: u32,
        /// Print JSON lines instead of columns.
        #[arg(long)]
        json: bool,
    },
    /// Enrolled devices.
    Devices {
        #[command(subcommand)]
        command: DevicesCommand,
    },
    /// The messages the server sends when nobody is looking (a host told
    /// that their guest is here): list them, see the failed, retry one.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Retention: what the daily sweep erased, and what it kept.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// A site's statistics, visits, or who is in now, as JSON or CSV, from
    /// the server's copy of the site.
    Report {
        #[command(subcommand)]
        what: ReportCommand,
        /// The site.
        #[arg(long, global = true)]
        site: Option<SiteId>,
        /// JSON (for other systems) or CSV (for a spreadsheet).
        #[arg(long, global = true, value_enum, default_value = "json")]
        format: lodge_sync_server::report::ReportFormat,
    },
    /// Copy the whole server (sites, devices, feed, jobs) into one tar file,
    /// while it runs.
    Backup {
        /// The archive to write (replaced if it exists).
        #[arg(long)]
        to: PathBuf,
    },
    /// Make a new data directory (`--data`, empty or absent) from a backup;
    /// start `serve` on it afterwards. Devices catch up on everything at
    /// their next connection. With `--database`, finish a restore of the
    /// database made with `pg_restore` (no `--from`): start the instances
    /// with empty data directories afterwards.
    Restore {
        /// The archive `backup` wrote.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Send a test text message through the SMS account (as `serve` takes it).
    SmsTest(SmsTestArgs),
    /// A site's own mail relay (kept in the registry, never in a document), and a test message.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// The site's Slack incoming webhooks (kept in the registry, never in a document).
    Slack {
        #[command(subcommand)]
        command: SlackCommand,
    },
}

/// Where e-mail leaves the server (for every site).
#[derive(clap::Args)]
struct MailArgs {
    /// The SMTP relay: smtp://host:25 (plain), smtp://user:password@host:587?tls=required
    /// (STARTTLS), smtps://user:password@host:465 (implicit TLS).
    #[arg(long, env = "LODGE_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The address mail comes from.
    #[arg(long, env = "LODGE_MAIL_FROM", default_value = "Lodge <lodge@localhost>")]
    mail_from: String,
    /// Certificate authorities (a PEM file) trusted for SMTP relays besides
    /// the public ones: a relay with a certificate of the company's own CA.
    #[arg(long, env = "LODGE_SMTP_CA")]
    smtp_ca: Option<PathBuf>,
    /// Seconds before a failed message's first retry (each next wait doubles, up to an hour).
    #[arg(long, env = "LODGE_FIRST_RETRY", default_value_t = 5.0)]
    first_retry_secs: f64,
    /// The SMS API (Twilio's shape): its base URL.
    #[arg(long, env = "LODGE_SMS_URL", default_value = "https://api.twilio.com")]
    sms_url: String,
    /// The SMS account id; with `--sms-token` and `--sms-from`, text messages are sent.
    #[arg(long, env = "LODGE_SMS_ACCOUNT", requires_all = ["sms_token", "sms_from"])]
    sms_account: Option<String>,
    /// The SMS account's token.
    #[arg(long, env = "LODGE_SMS_TOKEN", hide_env_values = true)]
    sms_token: Option<String>,
    /// The number (or sender id) text messages come from.
    #[arg(long, env = "LODGE_SMS_FROM")]
    sms_from: Option<String>,
    /// Start the sites' clock at this instant (RFC 3339) and run it from
    /// there at real speed: for trying the rules that run by the clock.
    /// Device tokens and codes keep the machine's clock.
    #[arg(long)]
    clock_start: Option<String>,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Every job, newest first.
    List {
        /// Only this site's.
        #[arg(long)]
        site: Option<SiteId>,
    },
    /// Jobs that failed for good, with their last error.
    Failed {
        /// Only this site's.
        #[arg(long)]
        site: Option<SiteId>,
    },
    /// Send a failed job again (the running server takes it within a second).
    Retry {
        /// The job's number.
        id: i64,
        /// Its site.
        #[arg(long)]
        site: SiteId,
    },
    /// Run a rule that runs by the clock now (sign-out-reminder,
    /// loan-overdue); the running server sends what it queues.
    Run {
        /// The rule.
        rule: lodge_core::notice::Rule,
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// Run it as of this instant (RFC 3339): its day, and when loans
        /// count as overdue. Now by default.
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Each day's guests, sign-ins, keys, items and tickets; people in by
    /// the hour; the average visit. Erased days still count.
    Stats {
        /// First day, YYYY-MM-DD in the site's time zone.
        #[arg(long)]
        from: String,
        /// Last day (included).
        #[arg(long)]
        to: String,
    },
    /// The visits registered in the period, newest first.
    Visits {
        /// First day, YYYY-MM-DD in the site's time zone.
        #[arg(long)]
        from: String,
        /// Last day (included).
        #[arg(long)]
        to: String,
    },
    /// Everyone in the building now: staff signed in, guests admitted.
    Presence,
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Every sweep, newest first: what it erased (counts, no names), its
    /// feed number, and each device told with whether it has confirmed.
    Report {
        /// The site.
        #[arg(long)]
        site: SiteId,
    },
    /// The anonymous daily counts kept from erased documents.
    Counts {
        /// The site.
        #[arg(long)]
        site: SiteId,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send this site's mail through its own relay instead of the server's.
    Set {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The relay, as `serve --smtp-url` takes it.
        #[arg(long, env = "LODGE_SITE_SMTP_URL", hide_env_values = true)]
        smtp_url: String,
        /// The address the site's mail comes from.
        #[arg(long)]
        mail_from: String,
    },
    /// Which relay the site's mail goes through (its password hidden).
    Show {
        /// The site.
        #[arg(long)]
        site: SiteId,
    },
    /// Send the site's mail through the server's relay again.
    Clear {
        /// The site.
        #[arg(long)]
        site: SiteId,
    },
    /// Send a test message through the site's relay (or the server's, as
    /// `serve` is given it) and say whether the relay took it.
    Test {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// Who gets the test.
        #[arg(long)]
        to: String,
        /// The server's relay, when the site has none of its own.
        #[arg(long, env = "LODGE_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The server's sender address.
        #[arg(long, env = "LODGE_MAIL_FROM", default_value = "Lodge <lodge@localhost>")]
        mail_from: String,
        /// Certificate authorities trusted for the relay, as `serve --smtp-ca`.
        #[arg(long, env = "LODGE_SMTP_CA")]
        smtp_ca: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SlackCommand {
    /// Add an incoming webhook: every sign-in and sign-out is posted to it.
    Add {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The webhook's URL (https://hooks.slack.com/services/…).
        url: String,
    },
    /// The site's webhooks.
    List {
        /// The site.
        #[arg(long)]
        site: SiteId,
    },
    /// Remove a webhook by its number.
    Remove {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The webhook's number (from `list`).
        id: i64,
    },
    /// Post a test line to a webhook and say whether Slack took it.
    Test {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The webhook's number (from `list`).
        id: i64,
    },
}

/// Send a test text message with the SMS account `serve` is given.
#[derive(clap::Args)]
struct SmsTestArgs {
    /// The site the test is for (named in the text).
    #[arg(long)]
    site: SiteId,
    /// The phone number to send to.
    #[arg(long)]
    to: String,
    /// The SMS API's base URL.
    #[arg(long, env = "LODGE_SMS_URL", default_value = "https://api.twilio.com")]
    sms_url: String,
    /// The SMS account id.
    #[arg(long, env = "LODGE_SMS_ACCOUNT")]
    sms_account: String,
    /// The account's token.
    #[arg(long, env = "LODGE_SMS_TOKEN", hide_env_values = true)]
    sms_token: String,
    /// The sender.
    #[arg(long, env = "LODGE_SMS_FROM")]
    sms_from: String,
}

/// The edge's limits (defaults in `lodge_sync_server::Limits`).
#[derive(clap::Args)]
struct LimitArgs {
    /// Connections open at once (lowered to what the open-files limit allows).
    #[arg(long, env = "LODGE_SYNC_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Connections open at once from one address.
    #[arg(long, env = "LODGE_SYNC_MAX_CONNECTIONS_PER_ADDRESS")]
    max_connections_per_address: Option<usize>,
    /// Connections without a valid hello (HTTP requests included), from everywhere.
    #[arg(long, env = "LODGE_SYNC_MAX_UNAUTHENTICATED")]
    max_unauthenticated: Option<usize>,
    /// Connections without a valid hello from one address.
    #[arg(long, env = "LODGE_SYNC_MAX_UNAUTHENTICATED_PER_ADDRESS")]
    max_unauthenticated_per_address: Option<usize>,
    /// Seconds a client may take to send a request's headers (and an idle HTTP connection stays open).
    #[arg(long, env = "LODGE_SYNC_HEADER_TIMEOUT")]
    header_timeout_secs: Option<f64>,
    /// Seconds a new WebSocket may take to say its hello.
    #[arg(long, env = "LODGE_SYNC_HELLO_DEADLINE")]
    hello_deadline_secs: Option<f64>,
    /// Seconds between the server's pings to a device.
    #[arg(long, env = "LODGE_SYNC_PING_INTERVAL")]
    ping_interval_secs: Option<f64>,
    /// Seconds without anything from a device before it is disconnected.
    #[arg(long, env = "LODGE_SYNC_IDLE_TIMEOUT")]
    idle_timeout_secs: Option<f64>,
    /// Bytes of answers and pushes that may wait for one device's socket.
    #[arg(long, env = "LODGE_SYNC_QUEUED_BYTES")]
    queued_bytes: Option<usize>,
    /// Failed enrolments one address may make in a burst.
    #[arg(long, env = "LODGE_SYNC_ENROL_BURST_PER_ADDRESS")]
    enrol_burst_per_address: Option<u32>,
    /// Failed enrolments the whole server may take in a burst.
    #[arg(long, env = "LODGE_SYNC_ENROL_BURST")]
    enrol_burst: Option<u32>,
    /// Seconds until an address gets one more enrolment attempt.
    #[arg(long, env = "LODGE_SYNC_ENROL_REFILL")]
    enrol_refill_secs: Option<f64>,
    /// Days a device's token lasts unused (each use renews it).
    #[arg(long, env = "LODGE_SYNC_TOKEN_IDLE_DAYS")]
    token_idle_days: Option<f64>,
    /// Sign-in codes one e-mail address or phone number may be sent in an hour.
    #[arg(long, env = "LODGE_SYNC_CODES_PER_CONTACT")]
    codes_per_contact: Option<u32>,
    /// Sign-in codes one site may send in an hour.
    #[arg(long, env = "LODGE_SYNC_CODES_PER_SITE")]
    codes_per_site: Option<u32>,
    /// Days the audit trail keeps a row.
    #[arg(long, env = "LODGE_SYNC_AUDIT_DAYS")]
    audit_days: Option<f64>,
    /// Close a site's store after this many seconds with no device
    /// connected and no work (it opens again for its next job or device).
    #[arg(long, env = "LODGE_SYNC_QUIET_SITE_SECS")]
    quiet_site_secs: Option<f64>,
    /// With `--database`: how often, in seconds, an instance folds each
    /// open site's documents with many kept changes into whole documents.
    #[arg(long, env = "LODGE_SYNC_COMPACT_EVERY_SECS")]
    compact_every_secs: Option<f64>,
}

impl LimitArgs {
    fn limits(self, open_files: u64) -> anyhow::Result<Limits> {
        let d = Limits::default();
        let secs = |v: Option<f64>, default: Duration| -> anyhow::Result<Duration> {
            v.map(Duration::try_from_secs_f64).transpose().context("a duration in seconds").map(|v| v.unwrap_or(default))
        };
        // Leave descriptors for the stores, the log and the listener.
        let descriptors = usize::try_from(open_files.saturating_sub(64)).unwrap_or(usize::MAX).max(16);
        let limits = Limits {
            connections: self.max_connections.unwrap_or(d.connections).min(descriptors),
            connections_per_address: self.max_connections_per_address.unwrap_or(d.connections_per_address),
            unauthenticated: self.max_unauthenticated.unwrap_or(d.unauthenticated),
            unauthenticated_per_address: self.max_unauthenticated_per_address.unwrap_or(d.unauthenticated_per_address),
            header_timeout: secs(self.header_timeout_secs, d.header_timeout)?,
            hello_deadline: secs(self.hello_deadline_secs, d.hello_deadline)?,
            ping_interval: secs(self.ping_interval_secs, d.ping_interval)?,
            idle_timeout: secs(self.idle_timeout_secs, d.idle_timeout)?,
            queued_bytes: self.queued_bytes.unwrap_or(d.queued_bytes),
            enrol_burst_per_address: self.enrol_burst_per_address.unwrap_or(d.enrol_burst_per_address),
            enrol_burst: self.enrol_burst.unwrap_or(d.enrol_burst),
            enrol_refill: secs(self.enrol_refill_secs, d.enrol_refill)?,
            token_idle: secs(self.token_idle_days.map(|days| days * 86_400.0), d.token_idle)?,
            codes_per_contact: self.codes_per_contact.unwrap_or(d.codes_per_contact),
            codes_per_site: self.codes_per_site.unwrap_or(d.codes_per_site),
            audit_kept: secs(self.audit_days.map(|days| days * 86_400.0), d.audit_kept)?,
            quiet_site: secs(self.quiet_site_secs, d.quiet_site)?,
            compact_every: secs(self.compact_every_secs, d.compact_every)?,
        };
        // An honest idle device is heard from only when it answers a ping.
        if limits.idle_timeout <= limits.ping_interval {
            bail!(
                "--idle-timeout-secs ({:?}) must be longer than --ping-interval-secs ({:?}): an idle device answers only pings",
                limits.idle_timeout,
                limits.ping_interval
            );
        }
        Ok(limits)
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be handled");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: stopping"),
        () = terminate => tracing::info!("SIGTERM: stopping"),
    }
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Create a site; prints its id.
    Create {
        /// The building's name.
        #[arg(long, required_unless_present = "demo")]
        name: Option<String>,
        /// Create "Lodge Demo House" with people, keys, equipment and guests.
        #[arg(long)]
        demo: bool,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// List sites.
    List,
    /// Take in a site that was started on a device without a server: makes
    /// an empty site with the device's site id; enrol that device with an
    /// admin code and it uploads everything it holds.
    Adopt {
        /// The site id the device shows (Admin → Devices).
        site: SiteId,
        /// A name to list until the site's own settings arrive.
        #[arg(long, default_value = "Site joining from a device")]
        name: String,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator and print their token (shown once).
    Add {
        /// Their name.
        name: String,
        /// root (everything, makes other operators) or support (sites,
        /// invites and health, never a document).
        #[arg(long, default_value = "support")]
        kind: String,
    },
    /// The operators.
    List,
    /// Remove an operator (by name or id): their token stops working.
    Remove {
        /// Name or id.
        who: String,
    },
}

#[derive(Subcommand)]
enum DevicesCommand {
    /// List devices.
    List,
    /// Revoke a device: disconnected now, refused and told to wipe later.
    Revoke {
        /// The device.
        device: DeviceId,
    },
}

/// `--database`: a PostgreSQL URL (the one other database it knows).
fn postgres_url(url: &str) -> Result<String, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_owned())
    } else {
        Err("a PostgreSQL URL such as postgres://lodge@db.example/lodge (without --database the registry is in the data directory)".into())
    }
}

/// `--also-at`: another instance's sync address, as a device dials it.
fn sync_address(url: &str) -> Result<String, String> {
    let url = url.trim();
    let host = url.strip_prefix("wss://").or_else(|| url.strip_prefix("ws://")).map(|rest| rest.split('/').next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() && url.len() <= 2048 && !url.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err("a sync address such as wss://b.example/sync (ws:// or wss://, a host, no spaces)".into()),
    }
}

fn parse_role(name: &str) -> anyhow::Result<Role> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .with_context(|| format!("“{name}” is not a role; use kiosk, reception, staff, worker, key-desk or admin"))
}

fn operator(state: &lodge_sync_server::AppState, command: OperatorCommand) -> anyhow::Result<()> {
    use lodge_core::sync::api::OperatorKind;
    let registry = state.registry();
    match command {
        OperatorCommand::Add { name, kind } => {
            let kind = match kind.as_str() {
                "root" => OperatorKind::Root,
                "support" => OperatorKind::Support,
                other => bail!("“{other}” is not a kind of operator: root or support"),
            };
            let (op, token) = registry.add_operator(&name, kind, SystemClock.now())?;
            println!("{token}");
            eprintln!("Operator {} ({}) added as {kind:?}; the token above is shown once.", op.name, op.id);
        }
        OperatorCommand::List => {
            for op in registry.operators()? {
                println!("{}  {:<8} {}  since {}", op.id, format!("{:?}", op.kind).to_lowercase(), op.name, op.created_at);
            }
        }
        OperatorCommand::Remove { who } => {
            registry.remove_operator(&who, SystemClock.now())?;
            println!("removed {who}; their token is refused from now on");
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    lodge_core::process::forgo_huge_pages();
    // SQLite allocates with glibc's malloc (Rust's allocations go to
    // mimalloc), which gives each thread that calls it an arena of its own,
    // up to 8 per core, each reserving 64 MB of address space: a server
    // held to 512 MB of it ran out ("out of memory" from SQLite) as soon
    // as its blocking threads had touched a store. Two arenas serve a
    // store that is taken in turns anyway.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    // Before the options are parsed (they read the environment) and before
    // any other thread exists (it sets variables).
    if let Some(file) = settings_file() {
        dotenvy::from_path(&file).with_context(|| format!("reading the settings file {}", file.display()))?;
    }
    // Store work waits for the site's one store lock anyway: more blocking
    // threads than this only add threads (each with its own allocator
    // heap) waiting in line. 200 connections grew the default pool to 200
    // threads and the server past a gigabyte.
    tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(BLOCKING_THREADS).build()?.block_on(serve_cli())
}

/// See `main`.
const BLOCKING_THREADS: usize = 8;

/// The file `--config` (or `LODGE_SYNC_CONFIG`) names, found before clap
/// parses the options that it may set.
fn settings_file() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(file) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            return Some(file.into());
        }
    }
    std::env::var_os("LODGE_SYNC_CONFIG").map(PathBuf::from)
}

async fn serve_cli() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colours only on a terminal: under systemd the log goes to the journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let database = match &cli.database {
        Some(url) => {
            let ca = cli.database_ca.as_ref().map(|p| std::fs::read(p).with_context(|| format!("reading the database's certificate authorities {}", p.display()))).transpose()?;
            Some(lodge_sync_server::registry::DatabaseAddress::new(url, ca.as_deref())?)
        }
        None => None,
    };
    if let Command::Serve { listen, allow_plain_http, tls_cert, tls_key, metrics_token, also_at, limits, mail } = cli.command {
        let trust = read_smtp_ca(mail.smtp_ca.as_deref())?;
        let mailer =
            mail.smtp_url.as_deref().map(|url| lodge_sync_server::outreach::Mailer::new(url, &mail.mail_from, trust.as_deref())).transpose()?;
        let first_retry = Duration::try_from_secs_f64(mail.first_retry_secs).context("--first-retry-secs: a duration in seconds")?;
        let sms = match (&mail.sms_account, &mail.sms_token, &mail.sms_from) {
            (Some(account), Some(token), Some(from)) => Some(lodge_sync_server::outreach::SmsGateway::new(&mail.sms_url, account, token, from)?),
            _ => None,
        };
        let channels = lodge_sync_server::outreach::Channels::new(mailer, first_retry)
            .context("making the HTTP client for Slack and SMS")?
            .with_sms(sms).with_trust(trust);
        let clock: Arc<dyn Clock> = match &mail.clock_start {
            Some(start) => {
                let start = chrono::DateTime::parse_from_rfc3339(start).context("--clock-start: an RFC 3339 time, e.g. 2027-03-28T14:59:00Z")?;
                Arc::new(lodge_core::StartedClock::new(Timestamp::from(start.with_timezone(&chrono::Utc))))
            }
            None => Arc::new(SystemClock),
        };
        // A few hundred idle sockets used up the usual soft limit of 1,024.
        let open_files = lodge_sync_server::accept::raise_open_files().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the open-files limit could not be raised");
            1024
        });
        let limits = limits.limits(open_files)?;
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                    .await
                    .with_context(|| format!("reading the TLS certificate {} and key {}", cert.display(), key.display()))?,
            ),
            _ => None,
        };
        if tls.is_none() && !listen.ip().is_loopback() && !allow_plain_http {
            bail!("refusing plain HTTP on {listen}: pass --tls-cert and --tls-key, serve on loopback behind a TLS proxy, or pass --allow-plain-http");
        }
        if !also_at.is_empty() && database.is_none() {
            bail!("--also-at names other instances of one database: it needs --database");
        }
        let channels = Arc::new(channels);
        let state =
            tokio::task::block_in_place(|| AppState::open_with(&cli.data, database.as_ref(), limits))
                .with_context(|| format!("opening {}", cli.data.display()))?
                .with_clock(clock)
                .with_channels(channels.clone())
                .with_metrics_token(metrics_token)
                .with_also_at(also_at);
        if let Some(address) = database {
            lodge_sync_server::relay::listen(state.clone(), address);
        }
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        // Tests and scripts read this line to learn the port.
        println!("listening on {local}{}", if tls.is_some() { " (TLS)" } else { "" });
        tracing::info!(%local, data = %cli.data.display(), tls = tls.is_some(), open_files, mail = channels.mail.is_some(), sms = channels.sms.is_some(), "lodge-sync serving");
        tokio::spawn(lodge_sync_server::outreach::run(state.clone(), channels));
        lodge_sync_server::accept::run(listener, state, tls, stop_signal()).await?;
        tracing::info!("lodge-sync stopped");
        return Ok(());
    }
    // Before the data directory is opened: a restore makes it.
    if let (Command::Backup { .. } | Command::Restore { from: Some(_) }, Some(_)) = (&cli.command, &cli.database) {
        bail!("with --database everything is in PostgreSQL: back it up with pg_dump, restore it with pg_restore, then run `lodge-sync --database URL restore` without --from (see the README)");
    }
    if let (Command::Restore { from: None }, None) = (&cli.command, &cli.database) {
        bail!("restore: give --from, the archive `lodge-sync backup` wrote (with --database, restore finishes a pg_restore and takes no --from)");
    }
    if let (Command::Restore { from: None }, Some(address)) = (&cli.command, &database) {
        let (data, address) = (cli.data.clone(), address.clone());
        let sites = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            // The instances' stores hold numbers of the database before
            // the restore: they start afresh.
            if data.exists() && std::fs::read_dir(&data)?.next().is_some() {
                bail!(lodge_sync_server::backup::BackupError::NotEmpty(data));
            }
            Ok(lodge_sync_server::Registry::connect(&address)?.move_feed_past(lodge_sync_server::backup::RESTORE_FEED_GAP)?)
        })
        .await??;
        println!("moved the change feed of {sites} sites past any number a device may hold; start the instances with empty data directories");
        return Ok(());
    }
    match &cli.command {
        Command::Backup { to } => {
            let (data, to) = (cli.data.clone(), to.clone());
            let manifest = tokio::task::spawn_blocking(move || lodge_sync_server::backup::backup(&data, &to).map(|m| (m, to))).await??;
            println!("backed up {} databases to {}", manifest.0.files.len(), manifest.1.display());
            return Ok(());
        }
        Command::Restore { from: Some(from) } => {
            let (data, from) = (cli.data.clone(), from.clone());
            let manifest = tokio::task::spawn_blocking(move || lodge_sync_server::backup::restore(&from, &data)).await??;
            println!("restored {} databases from the backup of {} into {}", manifest.files.len(), manifest.made_at, cli.data.display());
            return Ok(());
        }
        _ => {}
    }
    // The registry's calls below block (on PostgreSQL, through a client
    // that runs its own runtime): outside the runtime's own threads.
    let state = tokio::task::block_in_place(|| AppState::open_with(&cli.data, database.as_ref(), Limits::default()))
        .with_context(|| format!("opening {}", cli.data.display()))?;
    match cli.command {
        Command::Serve { .. } => unreachable!("served above"),
        Command::Backup { .. } | Command::Restore { .. } => unreachable!("done above"),
        Command::Site { command: SiteCommand::Create { name, demo, time_zone } } => {
            let new = name.filter(|_| !demo).map(|name| NewSite { name, time_zone });
            let site = tokio::task::spawn_blocking(move || state.create_site(new)).await??;
            println!("{site}");
        }
        Command::Site { command: SiteCommand::Adopt { site, name } } => {
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                if state.registry().sites()?.iter().any(|(s, _)| *s == site) {
                    bail!("site {site} is already on this server");
                }
                let mut store = lodge_core::Store::open(state.site_store_path(site), Arc::new(SystemClock))?;
                store.join_site(site)?;
                drop(store);
                state.registry().add_site(site, &name)?;
                Ok(())
            })
            .await??;
            println!("{site}");
        }
        Command::Site { command: SiteCommand::List } => tokio::task::block_in_place(|| -> anyhow::Result<()> {
            let registry = state.registry();
            for (site, name) in registry.sites()? {
                println!("{site}  join code {}  {name}", registry.join_code(site)?);
            }
            Ok(())
        })?,
        Command::Operator { command } => tokio::task::block_in_place(|| operator(&state, command))?,
        Command::Audit { site, since, action, limit, json } => {
            let since = since
                .map(|t| chrono::DateTime::parse_from_rfc3339(&t).context("--since: an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"))
                .transpose()?
                .map(|t| Timestamp::from(t.with_timezone(&chrono::Utc)));
            let query = lodge_core::sync::api::AuditQuery { since, action, outcome: None, limit: Some(limit) };
            for row in tokio::task::block_in_place(|| state.registry().audit_rows(site, &query))? {
                if json {
                    println!("{}", serde_json::to_string(&row)?);
                } else {
                    let who = row.operator.clone().or(row.device.map(|d| d.to_string())).unwrap_or_else(|| "-".into());
                    println!("{}  {:<15} {:<36} {:<40} {:<20} {}", row.at, row.address, who, row.action, row.outcome, row.detail);
                }
            }
        }
        Command::Enrol { site, role, person, minutes, qr } => {
            let role = parse_role(&role)?;
            if let Some(person) = person {
                let s = state.clone();
                if !tokio::task::spawn_blocking(move || s.person_exists(site, person)).await?? {
                    bail!(lodge_sync_server::AppError::UnknownPerson { person });
                }
            }
            let expires = Timestamp::from_millis(SystemClock.now().millis() + minutes * 60_000);
            let code = tokio::task::block_in_place(|| state.registry().create_code(site, role, person, expires))?;
            println!("{code}");
            eprintln!("One-time {role} code for site {site}, valid until {expires}.");
            if let Some(target) = qr {
                let symbol = qrcode::QrCode::new(code.as_bytes()).context("making the QR code")?;
                if target == "text" {
                    // Half-height blocks keep the code square in a terminal.
                    let text = symbol.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build();
                    eprintln!("{text}");
                } else {
                    let svg = symbol.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).build();
                    std::fs::write(&target, svg).with_context(|| format!("writing {target}"))?;
                    eprintln!("QR code written to {target}.");
                }
            }
        }
        Command::Devices { command: DevicesCommand::List } => {
            for d in tokio::task::block_in_place(|| state.registry().devices())? {
                let status = d.revoked_at.map_or("active".to_owned(), |t| format!("revoked {t}"));
                println!("{}  {:<10} {:<20} {}", d.device, d.role.label(), d.name, status);
            }
        }
        Command::Devices { command: DevicesCommand::Revoke { device } } => {
            tokio::task::block_in_place(|| state.registry().revoke(device, SystemClock.now()))?;
            println!("revoked {device}; it is refused from now on and told to wipe its store");
        }
        Command::Jobs { command } => tokio::task::spawn_blocking(move || jobs(&state, command)).await??,
        Command::SmsTest(args) => {
            let sms = lodge_sync_server::outreach::SmsGateway::new(&args.sms_url, &args.sms_account, &args.sms_token, &args.sms_from)?;
            if let Err(why) = sms.send_test(&args.to, &args.site.to_string()).await {
                bail!("the SMS API did not take the test message: {why}");
            }
            println!("the SMS API took the test message for {}", args.to);
        }
        Command::Slack { command } => tokio::task::spawn_blocking(move || slack(&state, command)).await??,
        Command::Mail { command } => mail(&state, command).await?,
        Command::Retention { command } => tokio::task::spawn_blocking(move || retention(&state, command)).await??,
        Command::Report { what, site, format } => tokio::task::spawn_blocking(move || report(&state, what, site, format)).await??,
    }
    Ok(())
}

/// `lodge-sync mail …`: the site's relay, in the registry (every instance
/// sends through it).
async fn mail(state: &AppState, command: MailCommand) -> anyhow::Result<()> {
    use lodge_core::notice::MailRelay;
    use lodge_sync_server::outreach::Mailer;
    let (MailCommand::Set { site, .. } | MailCommand::Show { site } | MailCommand::Clear { site } | MailCommand::Test { site, .. }) = &command;
    let site = *site;
    // The registry's work off the runtime's threads, as the server's.
    use tokio::task::block_in_place as blocking;
    blocking(|| channels_brought(state, site))?;
    match command {
        MailCommand::Set { smtp_url, mail_from, .. } => {
            // Refused now, not at the first message.
            Mailer::new(&smtp_url, &mail_from, None)?;
            blocking(|| state.registry().set_mail_relay(site, &MailRelay { smtp_url, mail_from }, state.clock.now()))?;
            println!("site {site} sends its mail through its own relay");
        }
        MailCommand::Show { .. } => match blocking(|| state.registry().mail_relay(site))? {
            Some(relay) => println!("{}  from {}", relay.shown_url(), relay.mail_from),
            None => println!("the server's relay"),
        },
        MailCommand::Clear { .. } => {
            if !blocking(|| state.registry().clear_mail_relay(site))? {
                bail!("site {site} has no relay of its own");
            }
            println!("site {site} sends its mail through the server's relay");
        }
        MailCommand::Test { to, smtp_url, mail_from, smtp_ca, .. } => {
            let trust = read_smtp_ca(smtp_ca.as_deref())?;
            let relay = blocking(|| state.registry().mail_relay(site))?;
            let mailer = match (relay, smtp_url) {
                (Some(relay), _) => Mailer::new(&relay.smtp_url, &relay.mail_from, trust.as_deref())?,
                (None, Some(url)) => Mailer::new(&url, &mail_from, trust.as_deref())?,
                (None, None) => bail!("site {site} has no relay of its own and none was given (--smtp-url or LODGE_SMTP_URL)"),
            };
            if let Err(why) = mailer.send_test(&to, &site.to_string()).await {
                bail!("the relay did not take the test message: {why}");
            }
            println!("the relay took the test message for {to}");
        }
    }
    Ok(())
}

/// Check that the site is here, and bring its store's channels to the
/// registry if they never were (a store from before the registry held
/// them), so that what the command reads or changes is the whole of them.
/// The store here, which a running server shares, copies the hooks again
/// after a change ([`copy_hooks`]).
fn channels_brought(state: &AppState, site: lodge_core::SiteId) -> anyhow::Result<()> {
    if !state.registry().sites()?.iter().any(|(s, _)| *s == site) {
        bail!("there is no site {site} on this server");
    }
    copy_hooks(state, site)
}

/// Make the site's store here hold the registry's hooks (a running server
/// on this data directory shares the file; the other instances are told
/// by the registry).
fn copy_hooks(state: &AppState, site: lodge_core::SiteId) -> anyhow::Result<()> {
    let mut store = lodge_core::Store::open(state.site_store_path(site), Arc::new(SystemClock))?;
    lodge_sync_server::site_channels::copy_into(state, site, &mut store)?;
    Ok(())
}

/// The certificate authorities of `--smtp-ca`, read once.
fn read_smtp_ca(path: Option<&std::path::Path>) -> anyhow::Result<Option<Arc<[u8]>>> {
    path.map(|p| std::fs::read(p).map(Arc::from).with_context(|| format!("reading the SMTP relay's certificate authorities {}", p.display())))
        .transpose()
}

/// `lodge-sync slack …`, in the registry (every instance posts to them).
fn slack(state: &AppState, command: SlackCommand) -> anyhow::Result<()> {
    let (SlackCommand::Add { site, .. } | SlackCommand::List { site } | SlackCommand::Remove { site, .. } | SlackCommand::Test { site, .. }) = &command;
    let site = *site;
    channels_brought(state, site)?;
    match command {
        SlackCommand::Add { url, .. } => {
            lodge_core::notice::check_webhook_url(&url)?;
            let id = state.registry().add_slack_hook(site, &url, state.clock.now())?;
            copy_hooks(state, site)?;
            println!("{id}");
        }
        SlackCommand::List { .. } => {
            for hook in state.registry().slack_hooks(site)? {
                println!("{}  {}", hook.id, hook.url);
            }
        }
        SlackCommand::Remove { id, .. } => {
            if !state.registry().remove_slack_hook(site, id)? {
                bail!("site {site} has no Slack webhook {id}");
            }
            copy_hooks(state, site)?;
            println!("removed {id}");
        }
        SlackCommand::Test { id, .. } => {
            let Some(hook) = state.registry().slack_hooks(site)?.into_iter().find(|h| h.id == id) else { bail!("site {site} has no Slack webhook {id}") };
            // On the blocking pool: waiting here on the post holds no runtime thread.
            let tried = tokio::runtime::Handle::current().block_on(lodge_sync_server::outreach::test_slack(&hook.url, &site.to_string()));
            if let Err(why) = tried {
                bail!("Slack did not take the test message: {why}");
            }
            println!("Slack took the test message");
        }
    }
    Ok(())
}

/// `lodge-sync jobs …`, against the sites' stores (a running server sees
/// a retry at its next look).
fn retention(state: &AppState, command: RetentionCommand) -> anyhow::Result<()> {
    let (RetentionCommand::Report { site } | RetentionCommand::Counts { site }) = command;
    if !state.registry().sites()?.iter().any(|(s, _)| *s == site) {
        bail!("there is no site {site} on this server");
    }
    // The store itself, not the server's hub (as for `jobs`): what it kept
    // and had not copied to the registry yet goes there first (a server
    // stopped in the middle of a sweep). The registry has every instance's.
    let store = lodge_core::Store::open(state.site_store_path(site), Arc::new(SystemClock))?;
    let kept = lodge_sync_server::retention::kept_in(&store)?;
    drop(store);
    lodge_sync_server::retention::copy_records(state, site, &kept)?;
    match command {
        RetentionCommand::Report { .. } => {
            let devices = state.registry().devices()?;
            let confirmed = state.registry().confirmed(site)?;
            let records = state.registry().erasure_records(site)?;
            for report in lodge_sync_server::retention::reports_of(&records, &devices, &confirmed) {
                let seq = report.feed_seq.map_or("-".to_owned(), |s| s.to_string());
                println!("{:>4}  {}  visits {}  presence months {}  feed {seq}", report.id, report.ran_at, report.visits, report.presence_months);
                for d in &report.devices {
                    let state = if d.confirmed { "confirmed" } else { "waiting" };
                    println!("        {}  {:<10} {:<20} {state}", d.device, d.role.label(), d.name);
                }
            }
        }
        RetentionCommand::Counts { .. } => {
            for c in state.registry().kept_counts(site)? {
                println!("{}  {:<18} {}", c.day, c.measure.as_str(), c.count);
            }
        }
    }
    Ok(())
}

/// `lodge-sync report …`: printed to standard output.
fn report(state: &AppState, what: ReportCommand, site: Option<SiteId>, format: lodge_sync_server::report::ReportFormat) -> anyhow::Result<()> {
    use lodge_sync_server::report::Report;
    let Some(site) = site else { bail!("say which site: --site SITE (lodge-sync site list names them)") };
    if !state.registry().sites()?.iter().any(|(s, _)| *s == site) {
        bail!("there is no site {site} on this server");
    }
    let report = match what {
        ReportCommand::Stats { from, to } => Report::Stats { from, to },
        ReportCommand::Visits { from, to } => Report::Visits { from, to },
        ReportCommand::Presence => Report::Presence,
    };
    // The store itself, read only, not the server's hub (as for `jobs`);
    // retention's daily counts from the registry, which has every
    // instance's (this store's copied there first).
    let store = lodge_core::Store::open(state.site_store_path(site), Arc::new(SystemClock))?;
    let kept = lodge_sync_server::retention::kept_in(&store)?;
    lodge_sync_server::retention::copy_records(state, site, &kept)?;
    let counts = state.registry().kept_counts(site)?;
    let text = lodge_sync_server::report::write(&store, &report, format, &counts)?;
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(())
}

fn jobs(state: &AppState, command: JobsCommand) -> anyhow::Result<()> {
    use lodge_core::notice::{JobFilter, JobId, JobState};
    let sites = |only: Option<SiteId>| -> anyhow::Result<Vec<SiteId>> {
        let all: Vec<SiteId> = state.registry().sites()?.into_iter().map(|(s, _)| s).collect();
        match only {
            Some(site) if !all.contains(&site) => bail!("there is no site {site} on this server"),
            Some(site) => Ok(vec![site]),
            None => Ok(all),
        }
    };
    let print = |site: SiteId, job: &lodge_core::notice::Job| {
        let error = job.last_error.as_deref().map(|e| format!("  {e}")).unwrap_or_default();
        println!("{site}  {:>6}  {:<10} {:<9} tries {}  fact {}{error}", job.id, job.rule, job.state, job.attempts, job.fact_at);
    };
    // The store itself, not the server's hub: opening a hub would take
    // back the jobs a running server is sending.
    let open = |site: SiteId| lodge_core::Store::open(state.site_store_path(site), Arc::new(SystemClock));
    let (only, filter) = match command {
        JobsCommand::List { site } => (site, JobFilter::All),
        JobsCommand::Failed { site } => (site, JobFilter::State(JobState::Failed)),
        JobsCommand::Retry { id, site } => {
            sites(Some(site))?;
            let job = open(site)?.retry_job(JobId(id))?;
            // Another instance's end of it does not stand for this try.
            state.registry().release_claim(site, &job.key)?;
            print(site, &job);
            return Ok(());
        }
        JobsCommand::Run { rule, site, now } => {
            sites(Some(site))?;
            let as_of = match now {
                Some(t) => Timestamp::from(
                    chrono::DateTime::parse_from_rfc3339(&t).context("--now: an RFC 3339 time, e.g. 2027-03-28T17:00:00+02:00")?.with_timezone(&chrono::Utc),
                ),
                None => SystemClock.now(),
            };
            let job = open(site)?.run_daily_job(rule, as_of)?;
            print(site, &job);
            return Ok(());
        }
    };
    for site in sites(only)? {
        for job in open(site)?.jobs(filter)? {
            print(site, &job);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// What the settings file's comment and the README tell operators: a
    /// value with a `$` in single quotes is read as written (as systemd
    /// reads it); unquoted, `--config` reads `$NAME` as a variable.
    #[test]
    fn the_settings_file_keeps_a_dollar_in_single_quotes_only() {
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("lodge-sync.conf");
        std::fs::write(&file, "LODGE_TEST_QUOTED='pa$HOME'\nLODGE_TEST_PLAIN=pa$HOME\nLODGE_TEST_SPACES=\"Lodge <lodge@example.com>\"\n").expect("written");
        dotenvy::from_path(&file).expect("read");
        assert_eq!(std::env::var("LODGE_TEST_QUOTED").as_deref(), Ok("pa$HOME"));
        assert_ne!(std::env::var("LODGE_TEST_PLAIN").as_deref(), Ok("pa$HOME"));
        assert_eq!(std::env::var("LODGE_TEST_SPACES").as_deref(), Ok("Lodge <lodge@example.com>"));
    }
}
