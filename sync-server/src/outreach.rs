//! The server acts when nobody is looking: a task that takes each open
//! site's due jobs (see `lodge_core::notice`), sends them through their
//! channel and records how each try ended. Store work runs on the blocking
//! pool; sending is async.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use futures_util::StreamExt;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use lodge_core::notice::{AnnouncementSent, Attempt, HostTold, InvitationSent, MailRelay, Job, LoanOverdue, Message, Recipient, SignInCodeSent, SignOutReminder, SlackPresence};
use lodge_core::person::ContactChannel;

use crate::{AppState, SiteHub};
use lodge_core::Timestamp;
use crate::registry::JobEnd;

/// How often the queue is looked at.
const TICK: Duration = Duration::from_millis(500);

/// Jobs taken from one site per look.
const BATCH: usize = 32;

/// Messages of one batch on their way at once.
const SENDS_AT_ONCE: usize = 8;

/// How messages leave the server.
#[derive(Clone)]
pub struct Channels {
    /// E-mail, when a relay is set (`--smtp-url`).
    pub mail: Option<Mailer>,
    /// Text messages, when an SMS account is set (`--sms-account`).
    pub sms: Option<SmsGateway>,
    /// Posts to Slack's incoming webhooks and the SMS API.
    pub http: reqwest::Client,
    /// The wait before a failed job's first retry.
    pub first_retry: Duration,
    /// Certificate authorities trusted for relays besides the public ones.
    trust: Option<Arc<[u8]>>,
    /// Mailers of sites with their own relay (`lodge-sync mail set`).
    site_mail: Arc<std::sync::Mutex<std::collections::HashMap<lodge_core::SiteId, (MailRelay, Mailer)>>>,
}

impl Channels {
    /// Mail through `mail` (if any); Slack over HTTPS.
    pub fn new(mail: Option<Mailer>, first_retry: Duration) -> Result<Self, reqwest::Error> {
        let http = https_client()?;
        Ok(Self { mail, sms: None, http, first_retry, trust: None, site_mail: Arc::default() })
    }

    /// The mailer of a site's own relay, made once per relay setting.
    fn site_mailer(&self, site: lodge_core::SiteId, relay: MailRelay) -> Option<Mailer> {
        let mut cache = self.site_mail.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((known, mailer)) = cache.get(&site)
            && *known == relay
        {
            return Some(mailer.clone());
        }
        match Mailer::new(&relay.smtp_url, &relay.mail_from, self.trust.as_deref()) {
            Ok(mailer) => {
                cache.insert(site, (relay, mailer.clone()));
                Some(mailer)
            }
            Err(e) => {
                // Checked when it was set; the server's relay serves.
                tracing::error!(%site, error = %e, "the site's mail relay is not usable");
                None
            }
        }
    }

    /// The mailer for a site: its own relay's, else the server's.
    pub fn mailer_for(&self, site: lodge_core::SiteId, relay: Option<MailRelay>) -> Option<Mailer> {
        relay.and_then(|r| self.site_mailer(site, r)).or_else(|| self.mail.clone())
    }

    /// Whether a site's own relay could send, with the authorities the
    /// server trusts: checked when it is set, not at its first message.
    pub fn check_relay(&self, relay: &MailRelay) -> Result<(), MailSetupError> {
        Mailer::new(&relay.smtp_url, &relay.mail_from, self.trust.as_deref()).map(drop)
    }

    /// The same channels, trusting these certificate authorities (PEM) for
    /// the sites' own relays too.
    pub fn with_trust(mut self, trust: Option<Arc<[u8]>>) -> Self {
        self.trust = trust;
        self
    }

    /// The same channels, with text messages through `sms`.
    pub fn with_sms(mut self, sms: Option<SmsGateway>) -> Self {
        self.sms = sms;
        self
    }
}

/// An SMS API of Twilio's shape: `POST {base}/2010-04-01/Accounts/{account}/Messages.json`
/// with `To`, `From` and `Body` as a form, the account and its token as
/// HTTP basic authentication.
#[derive(Clone)]
pub struct SmsGateway {
    messages: reqwest::Url,
    account: String,
    token: String,
    from: String,
}

/// Why the SMS API could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmsSetupError {
    /// The base URL.
    #[error("the SMS API URL “{0}” is not usable; write it as https://api.twilio.com (plain http only to this machine)")]
    Url(String),
    /// The account id, which goes into the URL's path.
    #[error("the SMS account “{0}” is not an account id (letters and digits only)")]
    Account(String),
}

impl SmsGateway {
    /// The API at `base` (`https://api.twilio.com`), for `account` with
    /// `token`, sending from `from`.
    pub fn new(base: &str, account: &str, token: &str, from: &str) -> Result<Self, SmsSetupError> {
        let url = reqwest::Url::parse(base).map_err(|_| SmsSetupError::Url(base.to_owned()))?;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(SmsSetupError::Url(base.to_owned()));
        }
        if account.is_empty() || !account.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SmsSetupError::Account(account.to_owned()));
        }
        let path = format!("{}/2010-04-01/Accounts/{account}/Messages.json", url.path().trim_end_matches('/'));
        let mut messages = url;
        messages.set_path(&path);
        Ok(Self { messages, account: account.to_owned(), token: token.to_owned(), from: from.to_owned() })
    }

    /// Send one text. The API answers 201 for a message taken; 429 and
    /// 5xx may pass; any other 4xx (a number it will not send to) will not.
    /// A test text (`lodge-sync sms test`), to see the account work.
    pub async fn send_test(&self, to: &str, site: &str) -> Result<(), String> {
        let http = https_client().map_err(|e| e.to_string())?;
        outcome(self.send(&http, to, &format!("A test message from Lodge for {site}.")).await)
    }

    async fn send(&self, http: &reqwest::Client, to: &str, body: &str) -> Attempt {
        let sent = http
            .post(self.messages.clone())
            .basic_auth(&self.account, Some(&self.token))
            .form(&[("To", to), ("From", self.from.as_str()), ("Body", body)])
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Attempt::Sent,
            Ok(r) if r.status().is_client_error() && r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS => {
                let status = r.status();
                // Twilio says why in `message`.
                let why = r.json::<serde_json::Value>().await.ok().and_then(|v| v["message"].as_str().map(str::to_owned));
                Attempt::Refused(format!("the SMS API refused the message: {status}{}", why.map(|w| format!(" ({w})")).unwrap_or_default()))
            }
            Ok(r) => Attempt::Failed(format!("the SMS API answered {}", r.status())),
            Err(e) => Attempt::Failed(error_chain(&e)),
        }
    }
}

/// An SMTP relay and the address mail comes from.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why the mail relay could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    /// The relay's address.
    #[error("the SMTP relay URL is not usable ({0}); write it as smtp://host:port, smtp://user:password@host:587?tls=required (STARTTLS) or smtps://host:465")]
    Url(#[source] lettre::transport::smtp::Error),
    /// The sender's address.
    #[error("“{0}” is not an e-mail address to send from")]
    From(String),
    /// The certificate authorities to trust (`--smtp-ca`).
    #[error("the certificate authorities for the SMTP relay (--smtp-ca) are not usable: {0}")]
    Trust(String),
}

impl Mailer {
    /// A relay from its URL (`smtp://`, `smtp://…?tls=required` for
    /// STARTTLS, `smtps://` for implicit TLS; `user:password@` to log in).
    /// `trust` is PEM certificate authorities trusted besides the public
    /// ones (`--smtp-ca`): a relay inside a company often has a
    /// certificate of the company's own CA.
    pub fn new(url: &str, from: &str, trust: Option<&[u8]>) -> Result<Self, MailSetupError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(MailSetupError::Url)?;
        if let Some(pem) = trust {
            use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
            // `from_url` parsed it already: the host and TLS mode are there.
            let parsed = reqwest::Url::parse(url).map_err(|e| MailSetupError::Trust(e.to_string()))?;
            let host = parsed.host_str().unwrap_or_default().to_owned();
            let ca = Certificate::from_pem(pem).map_err(|e| MailSetupError::Trust(e.to_string()))?;
            let params = || TlsParameters::builder(host.clone()).add_root_certificate(ca.clone()).build_rustls();
            let params = |tls: fn(TlsParameters) -> Tls| params().map(tls).map_err(|e| MailSetupError::Trust(e.to_string()));
            let mode = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
            builder = match (parsed.scheme(), mode.as_deref()) {
                ("smtps", _) => builder.tls(params(Tls::Wrapper)?),
                (_, Some("required")) => builder.tls(params(Tls::Required)?),
                (_, Some("opportunistic")) => builder.tls(params(Tls::Opportunistic)?),
                // Plain SMTP: nothing to trust.
                _ => builder,
            };
        }
        let transport = builder.timeout(Some(Duration::from_secs(30))).build();
        let from = from.parse().map_err(|_| MailSetupError::From(from.to_owned()))?;
        Ok(Self { transport, from })
    }

    /// A test message (`lodge-sync mail test`), to see the relay work.
    pub async fn send_test(&self, to: &str, site: &str) -> Result<(), String> {
        let body = format!("This is a test message from Lodge for {site}. If you read it, e-mail from Lodge reaches you.\n");
        let id = format!("test:{}", lodge_core::Clock::now(&lodge_core::SystemClock).millis());
        outcome(self.send(to, &format!("Lodge test message for {site}"), body, &id).await)
    }

    async fn send(&self, to: &str, subject: &str, body: String, id: &str) -> Attempt {
        self.send_with(to, subject, body, id, None).await
    }

    /// A message with, where given, one PNG picture attached (`name`, bytes).
    async fn send_with(&self, to: &str, subject: &str, body: String, id: &str, picture: Option<(&str, Vec<u8>)>) -> Attempt {
        let Ok(to) = to.parse::<Mailbox>() else {
            return Attempt::Refused(format!("“{to}” is not an e-mail address"));
        };
        // The job's key names the message: a receiver that keeps both of
        // two copies (a server killed after the relay took it, before it
        // was recorded) can tell them for one.
        let builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@lodge>", id.replace(':', "."))));
        let message = match picture {
            None => builder.header(ContentType::TEXT_PLAIN).body(body),
            Some((name, png)) => {
                use lettre::message::{Attachment, MultiPart, SinglePart};
                let png_type = ContentType::parse("image/png").unwrap_or(ContentType::TEXT_PLAIN);
                builder.multipart(MultiPart::mixed().singlepart(SinglePart::plain(body)).singlepart(Attachment::new(name.to_owned()).body(png, png_type)))
            }
        };
        let message = match message {
            Ok(m) => m,
            Err(e) => return Attempt::Refused(format!("the message could not be made: {e}")),
        };
        match self.transport.send(message).await {
            Ok(_) => Attempt::Sent,
            // A permanent refusal (550 no such user) will not change.
            Err(e) if e.is_permanent() => Attempt::Refused(error_chain(&e)),
            Err(e) => Attempt::Failed(error_chain(&e)),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether a look took any message that may go by e-mail (the site's
/// relay is read only then).
fn taken_any(taken: &[(Job, Result<Message, Attempt>)]) -> bool {
    taken.iter().any(|(_, m)| m.is_ok())
}

/// The words of a message: its subject and body (for Slack, its one
/// line), from the template files.
pub(crate) fn words(message: &Message, language: &str) -> (String, String) {
    let t = |name: &str| template(name, language);
    match message {
        Message::HostTold(m) => render(t("host-told"), host_told_context(m)),
        Message::HostNotice(m) => render(t("host-notice"), host_told_context(&m.told)),
        Message::SlackPresence(m) => render(t("slack-presence"), slack_context(m)),
        Message::SignOutReminder(m) => render(
            t("sign-out-reminder"),
            minijinja::context! { name => m.name, site => m.site, since => local_time(m.since, &m.time_zone) },
        ),
        Message::LoanOverdue(m) => render(
            t("loan-overdue"),
            minijinja::context! {
                customer => m.customer,
                key => m.key,
                due => local_date(m.due_at, &m.time_zone),
                days => m.days_overdue,
                department => m.department,
                site => m.site,
            },
        ),
        Message::Announcement(m) => render(
            t("announcement"),
            minijinja::context! {
                emergency => m.emergency,
                title => m.title,
                text => m.text,
                sender => m.sender,
                site => m.site,
                time => local_time(m.sent_at, &m.time_zone),
            },
        ),
        Message::Invitation(m) => render(
            t("invitation"),
            minijinja::context! { guest => m.guest, host => m.host, day => m.day, code => m.code, site => m.site },
        ),
        Message::SignInCode(m) => render(
            t("sign-in-code"),
            minijinja::context! { name => m.name, code => m.code, minutes => m.minutes, site => m.site },
        ),
        Message::RetentionSweep { .. } => (String::new(), String::new()),
    }
}

/// An invitation's QR code as a PNG picture (8 pixels a module, with the
/// quiet zone), for mail programs that show no SVG.
pub fn invitation_qr_png(m: &InvitationSent) -> Result<Vec<u8>, String> {
    let qr = qrcode::QrCode::new(m.qr_text().as_bytes()).map_err(|e| e.to_string())?;
    let (width, scale, quiet) = (qr.width(), 8usize, 4usize);
    let side = (width + 2 * quiet) * scale;
    let colors = qr.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i % width + quiet) * scale, (i / width + quiet) * scale);
            for row in y..y + scale {
                pixels[row * side + x..row * side + x + scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

fn slack_context(m: &SlackPresence) -> minijinja::Value {
    minijinja::context! {
        name => m.name,
        signed_in => m.signed_in,
        in_building => m.in_building,
        site => m.site,
        time => local_time(m.at, &m.time_zone),
    }
}

/// Post one line to a Slack incoming webhook. Slack answers 200 for a
/// post taken; a 4xx other than 429 (the hook was removed, a bad payload)
/// will not change.
/// Post a test line to a Slack webhook (`lodge-sync slack test`).
pub async fn test_slack(url: &str, site: &str) -> Result<(), String> {
    let http = https_client().map_err(|e| e.to_string())?;
    outcome(post_to_slack(&http, url, &format!("A test message from Lodge for {site}.")).await)
}

/// The client for Slack and the SMS API: it trusts the machine's CA store
/// (a company's own proxy CA included) and, where the machine has none (a
/// Debian without `ca-certificates`), the public roots compiled in.
fn https_client() -> Result<reqwest::Client, reqwest::Error> {
    let timeout = Duration::from_secs(30);
    reqwest::Client::builder().timeout(timeout).build().or_else(|e| {
        tracing::warn!(error = %e, "the machine's CA store is not usable: trusting the public roots built in");
        lodge_core::sync::tls::http_client_builder().timeout(timeout).build()
    })
}

/// A test's try as a result to print.
fn outcome(attempt: Attempt) -> Result<(), String> {
    match attempt {
        Attempt::Sent => Ok(()),
        Attempt::Failed(e) | Attempt::Refused(e) | Attempt::Cancelled(e) => Err(e),
    }
}

async fn post_to_slack(http: &reqwest::Client, url: &str, text: &str) -> Attempt {
    let sent = http.post(url).json(&serde_json::json!({ "text": text })).send().await;
    match sent {
        Ok(r) if r.status().is_success() => Attempt::Sent,
        Ok(r) if r.status().is_client_error() && r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS => {
            Attempt::Refused(format!("Slack refused the post: {}", r.status()))
        }
        Ok(r) => Attempt::Failed(format!("Slack answered {}", r.status())),
        Err(e) => Attempt::Failed(error_chain(&e)),
    }
}

fn host_told_context(m: &HostTold) -> minijinja::Value {
    minijinja::context! {
        guest => m.guest,
        company => m.company,
        host => m.host,
        site => m.site,
        time => local_time(m.admitted_at, &m.time_zone),
    }
}

/// `HH:MM` in the site's time zone (UTC when it names none known).
fn local_time(at: lodge_core::Timestamp, zone: &str) -> String {
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    at.to_utc().with_timezone(&zone).format("%H:%M").to_string()
}

/// The template files, built into the binary: `NAME.LANG.txt`.
static TEMPLATES: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The template `name` in `language`, English where it has none.
fn template(name: &str, language: &str) -> &'static str {
    let file = |lang: &str| TEMPLATES.get_file(format!("{name}.{lang}.txt")).and_then(|f| f.contents_utf8());
    file(language).or_else(|| file("en")).unwrap_or("")
}

/// The day in the site's time zone, as `2027-03-28`.
fn local_date(at: lodge_core::Timestamp, zone: &str) -> String {
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    at.to_utc().with_timezone(&zone).format("%Y-%m-%d").to_string()
}

/// A template's first line is the subject; the rest is the body.
fn render(template: &str, context: minijinja::Value) -> (String, String) {
    let env = minijinja::Environment::new();
    let text = env.render_str(template, context).unwrap_or_else(|e| format!("(the message could not be written: {e})"));
    match text.split_once('\n') {
        Some((subject, body)) => (subject.trim().to_owned(), body.to_owned()),
        None => (text.trim().to_owned(), String::new()),
    }
}

/// Send due jobs until the server stops: every site's store is read at
/// start, one at a time, for the jobs a killed server was sending and for
/// its next wake (a job queued before a restart goes out without waiting
/// for a device); then each site that may have something due is looked at
/// every [`TICK`], opened again if it was closed (see [`crate::job_watch`]).
pub async fn run(state: AppState, channels: Arc<Channels>) {
    let watch = Arc::new(std::sync::Mutex::new(crate::job_watch::JobWatch::default()));
    let (s, w) = (state.clone(), watch.clone());
    let read = tokio::task::spawn_blocking(move || -> Result<usize, crate::AppError> {
        let sites = s.registry().sites()?;
        for (site, _) in &sites {
            // Jobs a killed server was sending are due again. Here, at the
            // serving process's start, and nowhere else: a `lodge-sync`
            // command opening a site beside a running server must not take
            // back what that server is sending. A store that was there is
            // closed again at once: a server of many sites holds only the
            // busy ones.
            let path = s.site_store_path(*site);
            let read = |store: &mut lodge_core::Store| -> Result<_, crate::AppError> { Ok((store.resume_jobs()?, store.next_wake()?, store.job_counts()?)) };
            // A site this instance never had (on PostgreSQL, started with an
            // empty directory): its store is made and filled by its hub,
            // under the site's own lock, as a device's first connection
            // makes it; two openers migrating one new file collide.
            // A store that owes the feed numbers (its server was killed
            // while the database was away) is opened by its hub, which
            // numbers them.
            let opened = path.exists().then(|| lodge_core::Store::open(&path, s.clock.clone()));
            let woken = match opened {
                Some(Ok(mut store)) if !crate::hub::store_owes(&store) => read(&mut store),
                Some(Err(e)) => Err(e.into()),
                // Left open: closed when quiet, as every site (closing it
                // here raced a device's first connection).
                _ => s.hub(*site).and_then(|hub| read(&mut hub.store())),
            };
            match woken {
                Ok((resumed, wake, counts)) => {
                    s.jobs_when_closed(*site, counts);
                    if resumed > 0 {
                        tracing::info!(%site, jobs = resumed, "jobs interrupted at the last stop are due again");
                    }
                    w.lock().unwrap_or_else(|p| p.into_inner()).asleep(*site, wake, &path);
                }
                Err(e) => tracing::error!(%site, error = %e, "the site could not be read for its jobs"),
            }
        }
        Ok(sites.len())
    })
    .await;
    if let Ok(Err(e)) = read {
        tracing::error!(error = %e, "the sites could not be listed for their jobs");
    }
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pruned: Option<std::time::Instant> = None;
    loop {
        tick.tick().await;
        if last_pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            last_pruned = Some(std::time::Instant::now());
            prune_registry(&state).await;
        }
        let (w, s) = (watch.clone(), state.clone());
        let due = tokio::task::spawn_blocking(move || {
            let mut watch = w.lock().unwrap_or_else(|p| p.into_inner());
            watch.due(&s, s.clock.now())
        })
        .await
        .unwrap_or_default();
        for hub in due {
            // A full batch means more are due (a thousand reminders at
            // 17:00): take the next at once, not at the next tick.
            // The clock's rules are looked at once per tick, not per batch.
            let mut schedule = true;
            while send_due(&state, &hub, &channels, std::mem::take(&mut schedule)).await == BATCH {}
            let w = watch.clone();
            let _ = tokio::task::spawn_blocking(move || w.lock().unwrap_or_else(|p| p.into_inner()).looked(&hub)).await;
        }
    }
}

/// How often the registry's own retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The registry's own retention: audit rows older than the server keeps
/// them (`serve --audit-days`), and sign-in codes a day old.
async fn prune_registry(state: &AppState) {
    let s = state.clone();
    let pruned = tokio::task::spawn_blocking(move || -> Result<(usize, usize), crate::registry::RegistryError> {
        let now = s.clock.now();
        let kept = i64::try_from(s.limits.audit_kept.as_millis()).unwrap_or(i64::MAX);
        let registry = s.registry();
        let audit = registry.forget_audit(lodge_core::Timestamp::from_millis(now.millis().saturating_sub(kept)))?;
        Ok((audit, registry.forget_sign_in_codes(now)? + registry.forget_join_requests(now)?))
    })
    .await;
    match pruned {
        Ok(Ok((audit, codes))) if audit + codes > 0 => tracing::info!(audit, codes, "old audit rows and sign-in codes removed"),
        Ok(Err(e)) => tracing::error!(error = %e, "the audit trail could not be pruned"),
        _ => {}
    }
}

/// What one look takes: the jobs with what each says (or how it ended
/// without a message), the site's own relay and its language.
type Taken = (Vec<(Job, Result<Message, Attempt>)>, Option<MailRelay>, String);

/// One look at a site's queue; returns how many jobs it took.
async fn send_due(state: &AppState, hub: &Arc<SiteHub>, channels: &Channels, schedule: bool) -> usize {
    let (h, s) = (hub.clone(), state.clone());
    let first_retry = channels.first_retry;
    let taken = tokio::task::spawn_blocking(move || -> Result<Taken, crate::AppError> {
        let mut store = h.store();
        store.set_first_retry(first_retry);
        // The rules that run by the clock, when their time has come today.
        if schedule {
            for rule in store.schedule_daily_jobs()? {
                tracing::info!(site = %h.site, %rule, "the daily run is due");
            }
        }
        let mut jobs = store.take_due_jobs(BATCH)?;
        if s.relays() {
            jobs = claimed(&s, &mut store, h.site, jobs)?;
        }
        let taken: Vec<_> = jobs.into_iter().map(|job| Ok((job.clone(), store.message_for(&job)?))).collect::<Result<_, lodge_core::StoreError>>()?;
        let (relay, language) = if taken_any(&taken) {
            // The registry's: whichever instance sends, through the relay the site's admin set.
            let language = store.site_settings()?.map(|s| s.language).unwrap_or_default();
            drop(store);
            (s.registry().mail_relay(h.site)?, language)
        } else {
            (None, String::new())
        };
        Ok((taken, relay, language))
    })
    .await;
    let (taken, relay, language) = match taken {
        Ok(Ok(taken)) => taken,
        Ok(Err(e)) => {
            tracing::error!(site = %hub.site, error = %e, "jobs could not be taken");
            return 0;
        }
        Err(_) => return 0,
    };
    let count = taken.len();
    let mail = relay.and_then(|r| channels.site_mailer(hub.site, r));
    let mail = &mail;
    let language = language.as_str();
    // Several at once: a relay that answers slowly holds up one send, not
    // the queue. Each outcome is recorded as soon as it is known.
    futures_util::stream::iter(taken)
        .for_each_concurrent(SENDS_AT_ONCE, |(job, message)| async move {
            let attempt = match message {
                Ok(Message::RetentionSweep { as_of }) => match crate::retention::sweep(state, hub.site, as_of).await {
                    Ok(report) => {
                        tracing::info!(site = %hub.site, visits = report.visits, presence_months = report.presence_months, "the night's erasure");
                        Attempt::Sent
                    }
                    Err(e) => Attempt::Failed(e.to_string()),
                },
                Ok(Message::HostNotice(notice)) => {
                    let (title, text) = words(&Message::HostNotice(notice.clone()), language);
                    crate::host_notice::write(state, hub, notice, title, text).await
                }
                Ok(message) => deliver(&message, &job, channels, mail.as_ref().or(channels.mail.as_ref()), language).await,
                Err(nothing) => nothing,
            };
            match &attempt {
                Attempt::Sent => tracing::info!(site = %hub.site, job = %job.id, rule = %job.rule, "sent"),
                other => tracing::warn!(site = %hub.site, job = %job.id, rule = %job.rule, outcome = ?other, "not sent"),
            }
            let (h, s) = (hub.clone(), state.clone());
            let recorded = tokio::task::spawn_blocking(move || {
                if s.relays() {
                    // Ended for good unless it is to be tried again, by
                    // whichever instance comes first.
                    if let Err(e) = s.registry().end_claim(h.site, &job.key, s.instance(), job_end(&attempt).as_ref()) {
                        tracing::error!(site = %h.site, error = %e, "a job's claim could not be ended; it runs out by itself");
                    }
                }
                h.store().finish_job(job.id, &attempt)
            })
            .await;
            if let Ok(Err(e)) = recorded {
                tracing::error!(site = %hub.site, error = %e, "a job's outcome could not be recorded");
            }
        })
        .await;
    count
}

/// When an instance looks again at a job another instance is sending.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// How long an instance holds a job it is sending before another may
/// send it (it was killed meanwhile): longer than any send takes.
const CLAIM: Duration = Duration::from_secs(600);

/// The jobs this instance sends, of those its store found due: a job
/// another instance of the database sent is recorded as sent here, and
/// one another is sending now is tried again later (see `crate::relay`:
/// every instance merges the same facts, so queues the same jobs).
fn claimed(state: &AppState, store: &mut lodge_core::Store, site: lodge_core::SiteId, jobs: Vec<Job>) -> Result<Vec<Job>, lodge_core::StoreError> {
    let now = state.clock.now();
    let until = Timestamp::from_millis(now.millis() + CLAIM.as_millis() as i64);
    let mut ours = Vec::with_capacity(jobs.len());
    for job in jobs {
        match state.registry().claim_job(site, &job.key, state.instance(), now, until) {
            Ok(crate::registry::Claim::Ours) => ours.push(job),
            Ok(crate::registry::Claim::Done(end)) => store.finish_job(job.id, &ended_elsewhere(end))?,
            // Not a try of this instance's: looked at again shortly.
            Ok(crate::registry::Claim::Busy) => store.postpone_job(job.id, Timestamp::from_millis(now.millis() + LOOK_AGAIN.as_millis() as i64))?,
            Err(e) => {
                tracing::error!(%site, error = %e, "a job could not be claimed; tried again later");
                store.finish_job(job.id, &Attempt::Failed(e.to_string()))?;
            }
        }
    }
    Ok(ours)
}

/// How a job ended, for the other instances; none while it may be tried
/// again.
fn job_end(attempt: &Attempt) -> Option<JobEnd> {
    let (outcome, why) = match attempt {
        Attempt::Sent => ("sent", ""),
        Attempt::Refused(why) => ("refused", why.as_str()),
        Attempt::Cancelled(why) => ("cancelled", why.as_str()),
        Attempt::Failed(_) => return None,
    };
    Some(JobEnd { outcome: outcome.into(), why: why.into() })
}

/// The outcome another instance recorded, recorded here too.
fn ended_elsewhere(end: JobEnd) -> Attempt {
    match end.outcome.as_str() {
        "refused" => Attempt::Refused(end.why),
        "cancelled" => Attempt::Cancelled(end.why),
        _ => Attempt::Sent,
    }
}

/// Send a message; e-mail through `mail` (the site's relay, else the
/// server's).
async fn deliver(message: &Message, job: &Job, channels: &Channels, mail: Option<&Mailer>, language: &str) -> Attempt {
    let (subject, body) = words(message, language);
    match message {
        Message::HostTold(m) => match mail {
            Some(mail) => mail.send(&m.to, &subject, body, &job.key).await,
            None => Attempt::Refused("no mail relay is set up on this server (lodge-sync serve --smtp-url)".into()),
        },
        Message::Invitation(m) => match (mail, invitation_qr_png(m)) {
            (Some(mail), Ok(png)) => mail.send_with(&m.to, &subject, body, &job.key, Some(("lodge-invitation.png", png))).await,
            (Some(_), Err(e)) => Attempt::Refused(format!("the invitation's QR code could not be drawn: {e}")),
            (None, _) => Attempt::Refused("no mail relay is set up on this server (lodge-sync serve --smtp-url)".into()),
        },
        Message::SlackPresence(m) => post_to_slack(&channels.http, &m.url, &subject).await,
        Message::SignOutReminder(SignOutReminder { to, .. })
        | Message::LoanOverdue(LoanOverdue { to, .. })
        | Message::Announcement(AnnouncementSent { to, .. })
        | Message::SignInCode(SignInCodeSent { to, .. }) => {
            to_person(to, &subject, body, job, channels, mail).await
        }
        Message::RetentionSweep { .. } => Attempt::Cancelled("the erasure is the server's own work, not a message".into()),
        Message::HostNotice(_) => Attempt::Cancelled("a notice in the app is written by the server, not sent".into()),
    }
}

/// A message to a person: e-mail with its subject and body; a text
/// message with its subject line, which the templates keep whole.
async fn to_person(to: &Recipient, subject: &str, body: String, job: &Job, channels: &Channels, mail: Option<&Mailer>) -> Attempt {
    match to.channel {
        ContactChannel::Email => match mail {
            Some(mail) => mail.send(&to.address, subject, body, &job.key).await,
            None => Attempt::Refused("no mail relay is set up on this server (lodge-sync serve --smtp-url)".into()),
        },
        ContactChannel::Sms => match &channels.sms {
            Some(sms) => sms.send(&channels.http, &to.address, subject).await,
            None => Attempt::Refused("no SMS account is set up on this server (lodge-sync serve --sms-account)".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use lodge_core::Timestamp;
    use lodge_core::notice::{HostNotice, HostTold, LoanOverdue, Message, Recipient, SignOutReminder, SlackPresence};
    use lodge_core::person::ContactChannel;
    use lodge_core::{PersonId, VisitId};

    use super::*;

    fn messages() -> Vec<Message> {
        let at = Timestamp::from_millis(1_806_000_000_000);
        let (site, time_zone) = ("Lodge House".to_owned(), "Europe/Warsaw".to_owned());
        let to = Recipient { channel: ContactChannel::Email, address: "a@lodge.test".into() };
        let told = HostTold {
            to: "a@lodge.test".into(),
            host: "Anna".into(),
            guest: "Jan Gość".into(),
            company: "Acme".into(),
            admitted_at: at,
            site: site.clone(),
            time_zone: time_zone.clone(),
        };
        vec![
            Message::HostTold(told.clone()),
            Message::SlackPresence(SlackPresence {
                url: String::new(),
                name: "Ewa".into(),
                signed_in: true,
                at,
                in_building: 3,
                site: site.clone(),
                time_zone: time_zone.clone(),
            }),
            Message::SignOutReminder(SignOutReminder { to: to.clone(), name: "Ewa".into(), since: at, site: site.clone(), time_zone: time_zone.clone() }),
            Message::LoanOverdue(LoanOverdue {
                to: to.clone(),
                customer: "Ewa".into(),
                key: "M-1".into(),
                due_at: at,
                days_overdue: 4,
                department: Some("Lab".into()),
                site: site.clone(),
                time_zone: time_zone.clone(),
            }),
            Message::Announcement(AnnouncementSent {
                to,
                emergency: true,
                title: "Fire".into(),
                text: "Leave now.".into(),
                sender: "Reception".into(),
                sent_at: at,
                site,
                time_zone,
            }),
            Message::HostNotice(HostNotice { visit: VisitId::new(), host_id: PersonId::new(), told }),
            Message::Invitation(invitation()),
            Message::SignInCode(lodge_core::notice::SignInCodeSent {
                to: Recipient { channel: ContactChannel::Sms, address: "+48600100200".into() },
                name: "Ewa".into(),
                code: "482913".into(),
                minutes: 10,
                site: "Lodge House".into(),
            }),
        ]
    }

    fn invitation() -> InvitationSent {
        InvitationSent { to: "marta@acme.test".into(), guest: "Marta".into(), host: "Anna".into(), day: "2026-12-04".into(), code: "K7QM-2XPA".into(), site: "Lodge House".into() }
    }

    #[test]
    fn an_invitation_says_its_code_and_draws_it_as_a_png() {
        let m = invitation();
        let (subject, body) = words(&Message::Invitation(m.clone()), "pl");
        assert_eq!(subject, "Oczekujemy Cię w Lodge House w dniu 2026-12-04");
        assert!(body.contains("    K7QM-2XPA\n") && body.contains("Anna oczekuje"), "{body}");
        let png = invitation_qr_png(&m).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let info = decoder.read_info().unwrap().info().clone();
        let modules = qrcode::QrCode::new(m.qr_text().as_bytes()).unwrap().width() as u32;
        assert_eq!((info.width, info.height), ((modules + 8) * 8, (modules + 8) * 8));
    }

    #[test]
    fn every_message_has_its_words_in_every_language_of_the_app() {
        for language in lodge_core::site::LANGUAGES {
            for message in messages() {
                let (subject, body) = words(&message, language);
                assert!(!subject.is_empty() && !subject.contains("could not be written"), "{language}: {subject}");
                assert!(!body.contains("could not be written"), "{language}: {body}");
                if language != "en" {
                    assert_ne!((subject.clone(), body.clone()), words(&message, "en"), "{language} is English: {subject}");
                }
            }
        }
        assert_eq!(words(&messages()[0], "pl").0, "Gość Jan Gość jest już u Ciebie");
        assert_eq!(words(&messages()[4], "uk").0, "ТРИВОГА · Lodge House: Fire. Leave now.");
        let (title, text) = words(&messages()[5], "en");
        assert_eq!((title.as_str(), text.trim()), ("Your guest is here", "Jan Gość from Acme was let in at reception."));
        // A language with no files writes English.
        assert_eq!(words(&messages()[0], "xx"), words(&messages()[0], "en"));
    }
}
