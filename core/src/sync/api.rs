//! The HTTP half of the wire contract, written once: the paths, and the
//! requests and answers of `/enrol` and the site admin's `/admin/...`,
//! with the error body every refusal comes in. The server's handlers and
//! the device's calls both use these types.

use serde::{Deserialize, Serialize};

use crate::actor::Role;
use crate::ids::{DeviceId, PersonId, SiteId};
use crate::time::Timestamp;

mod joining;
pub use joining::*;

/// Whether the server is up: `GET`, answered with [`Health`].
pub const HEALTH_PATH: &str = "/health";
/// Redeem an enrolment code: `POST` an [`EnrolRequest`], answered with
/// [`Enrolled`].
pub const ENROL_PATH: &str = "/enrol";
/// The device's WebSocket.
pub const SYNC_PATH: &str = "/sync";
/// The site's devices: `GET`, answered with a list of [`SiteDevice`].
pub const ADMIN_DEVICES_PATH: &str = "/admin/devices";
/// Remove a device: `POST` to the route with its id (see [`revoke_path`]),
/// answered with its [`SiteDevice`].
pub const ADMIN_REVOKE_ROUTE: &str = "/admin/devices/{device}/revoke";
/// Make a one-time code: `POST` a [`CodeRequest`], answered with an
/// [`EnrolmentCode`].
pub const ADMIN_CODES_PATH: &str = "/admin/codes";

/// The site's jobs (messages the server sends): `GET`, newest first, as a
/// list of [`crate::notice::Job`]; `?state=failed` for those in one state.
pub const ADMIN_JOBS_PATH: &str = "/admin/jobs";
/// Try a failed job again: `POST` to the route with its number (see
/// [`retry_job_path`]), answered with the [`crate::notice::Job`].
pub const ADMIN_JOB_RETRY_ROUTE: &str = "/admin/jobs/{job}/retry";
/// Run a rule that runs by the clock now: `POST` a [`RunRequest`],
/// answered with the day's run as a [`crate::notice::Job`].
pub const ADMIN_JOBS_RUN_PATH: &str = "/admin/jobs/run";

/// Send a test message through one of the site's channels: `POST` a
/// [`ChannelTest`], answered with what was tried ([`ChannelTried`], one
/// per Slack webhook), so that an admin sees a relay or an account work
/// before a guest's host depends on it.
pub const ADMIN_CHANNEL_TEST_PATH: &str = "/admin/channels/test";

/// Which channel to test, and where a test message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum ChannelTest {
    /// A test e-mail through the site's relay (its own, else the server's).
    Mail {
        /// The address it goes to.
        to: String,
    },
    /// A test text message through the server's SMS account.
    Sms {
        /// The number it goes to.
        to: String,
    },
    /// A test post to each of the site's Slack webhooks.
    Slack,
}

/// One test message and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChannelTried {
    /// The relay, API or webhook took it.
    Sent {
        /// Where it went (an address, a number, "Slack webhook 2").
        to: String,
    },
    /// It was refused or could not be sent.
    Failed {
        /// Where it was meant to go.
        to: String,
        /// Why, in the relay's or API's words.
        reason: String,
    },
}

/// The site's Slack incoming webhooks, set by its admin: `GET` them,
/// `POST` a [`NewSlackHook`] to add one; each answered with the list
/// ([`SlackHookShown`]: by number, its URL, which is the secret, never
/// shown whole).
pub const ADMIN_SLACK_HOOKS_PATH: &str = "/admin/channels/slack";
/// One webhook: `DELETE` it, answered with the list left.
pub const ADMIN_SLACK_HOOK_ROUTE: &str = "/admin/channels/slack/{hook}";

/// The path of webhook number `hook`.
pub fn slack_hook_path(hook: i64) -> String {
    ADMIN_SLACK_HOOK_ROUTE.replace("{hook}", &hook.to_string())
}

/// The site's own mail relay, set by its admin: `GET` it, `PUT` a
/// [`NewMailRelay`] to set it, `DELETE` it to go back to the server's;
/// each answered with what is set now ([`MailRelayShown`], its password
/// never shown; `null`: the server's relay).
pub const ADMIN_MAIL_RELAY_PATH: &str = "/admin/channels/mail";

/// A webhook to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSlackHook {
    /// `https://hooks.slack.com/services/…`.
    pub url: String,
}

/// A webhook as the admin's screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlackHookShown {
    /// Its number ("Slack webhook 2").
    pub number: i64,
    /// Its host and the last characters of its URL: enough to tell two
    /// apart, not enough to post to it.
    pub shown: String,
}

/// A relay to set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewMailRelay {
    /// `smtp://user:password@host:587?tls=required`, or `smtps://…`.
    pub smtp_url: String,
    /// The address mail comes from: `Lodge <lodge@example.org>`.
    pub mail_from: String,
}

/// The site's own relay as the admin's screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailRelayShown {
    /// Its URL with the password hidden.
    pub server: String,
    /// The address mail comes from.
    pub mail_from: String,
}

/// Who an announcement reached by e-mail or text: `GET` the route with
/// its id (see [`announcement_deliveries_path`]), answered with a list of
/// [`crate::notice::Delivery`]; for admin and reception devices, the ones
/// that send announcements.
pub const ADMIN_ANNOUNCEMENT_DELIVERIES_ROUTE: &str = "/admin/announcements/{announcement}/deliveries";

/// The path of `announcement`'s reach.
pub fn announcement_deliveries_path(announcement: crate::ids::AnnouncementId) -> String {
    ADMIN_ANNOUNCEMENT_DELIVERIES_ROUTE.replace("{announcement}", &announcement.to_string())
}

/// The path that retries `job`.
pub fn retry_job_path(job: crate::notice::JobId) -> String {
    ADMIN_JOB_RETRY_ROUTE.replace("{job}", &job.to_string())
}

/// `GET /admin/jobs?state=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsQuery {
    /// Only jobs in this state.
    #[serde(default)]
    pub state: Option<crate::notice::JobState>,
}

/// A rule to run now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    /// The rule (one that runs by the clock).
    pub rule: crate::notice::Rule,
    /// Run it as of this instant (its day, and when loans count as
    /// overdue); now when absent.
    #[serde(default)]
    pub now: Option<Timestamp>,
}

/// Run the retention sweep of the caller's site now: `POST` (no body),
/// answered with its [`ErasureReport`].
pub const ADMIN_RETENTION_RUN_PATH: &str = "/admin/retention/run";
/// Every retention sweep of the caller's site: `GET`, answered with a list
/// of [`ErasureReport`], newest first.
pub const ADMIN_RETENTION_REPORTS_PATH: &str = "/admin/retention/reports";
/// Who is in the caller's site's building now, as the server's copy says:
/// `GET`, answered with an [`EvacuationList`](crate::EvacuationList)
/// as JSON, or with `?format=csv` as CSV (times in the site's zone). For
/// admin and reception devices, and other systems holding such a token.
pub const ADMIN_PRESENCE_PATH: &str = "/admin/presence";

/// Expect a guest (`POST` an [`ExpectedGuest`](crate::visit::ExpectedGuest),
/// answered with an [`Invitation`](crate::visit::Invitation)): a staff
/// phone, which holds no visits, for its own person's guests; reception and
/// admin devices for anyone's. The server e-mails the invitation.
pub const EXPECTED_PATH: &str = "/expected";
/// The guest an invitation code names (`POST` an [`InvitationQuery`],
/// answered with an [`InvitedGuest`](crate::visit::InvitedGuest)), for a
/// kiosk only, today only; wrong codes count against the caller's address.
pub const KIOSK_INVITATION_PATH: &str = "/kiosk/invitation";
/// The invited guest checked the form at the kiosk and agreed (`POST` an
/// [`InvitedArrival`], answered with the visit's id): they wait at the desk.
pub const KIOSK_ARRIVAL_PATH: &str = "/kiosk/arrival";

/// Start a roll call from a fire marshal's phone (`POST` a
/// [`StartRollCall`](crate::roll_call::StartRollCall), answered with the
/// roll call's id): the phone does not hold who is in, the server does. The
/// roll call reaches the phone as any roll call does.
pub const ROLL_CALLS_PATH: &str = "/roll-calls";

/// The body of [`KIOSK_INVITATION_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationQuery {
    /// As typed or scanned.
    pub code: String,
}

/// The body of [`KIOSK_ARRIVAL_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitedArrival {
    /// The invitation's code.
    pub code: String,
    /// The form as the guest left it (the host is the invitation's).
    pub form: crate::visit::GuestForm,
}

/// The form of an answer that has more than one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON, the default.
    #[default]
    Json,
    /// CSV with a header row.
    Csv,
}

/// The query of [`ADMIN_PRESENCE_PATH`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PresenceQuery {
    /// JSON or CSV.
    #[serde(default)]
    pub format: Format,
}

/// The path that removes `device`.
pub fn revoke_path(device: DeviceId) -> String {
    ADMIN_REVOKE_ROUTE.replace("{device}", &device.to_string())
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// How many sites the server holds.
    pub sites: usize,
}

/// A device redeeming its enrolment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The code, as printed or scanned.
    pub code: String,
    /// The Automerge actor id the device writes under (hex).
    pub actor: String,
    /// A name for device lists.
    #[serde(default)]
    pub name: String,
}

/// A device of the site as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteDevice {
    /// Its id.
    pub device: DeviceId,
    /// Its site.
    pub site: SiteId,
    /// Its role.
    pub role: Role,
    /// Whose phone.
    pub person: Option<PersonId>,
    /// Its name.
    pub name: String,
    /// When it was removed, if it was.
    pub revoked_at: Option<Timestamp>,
    /// When it was last in touch with the server (connected, or left).
    #[serde(default)]
    pub last_contact: Option<Timestamp>,
    /// Connected now.
    #[serde(default)]
    pub connected: bool,
    /// The app and version it named when it last connected.
    #[serde(default)]
    pub app_version: Option<String>,
    /// Changes the server has that it has not yet received (none while it
    /// is connected; unknown for a device never connected).
    #[serde(default)]
    pub changes_waiting: Option<u64>,
}

/// What redeeming a code gives the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The new device.
    pub device: SiteDevice,
    /// The secret it connects with (shown once, stored hashed).
    pub token: String,
}

/// A new one-time code to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRequest {
    /// For which role.
    pub role: Role,
    /// Whose phone (staff and worker).
    #[serde(default)]
    pub person: Option<PersonId>,
    /// How long it stays valid in minutes (default 60, at most a day).
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// A one-time enrolment code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrolmentCode {
    /// The code.
    pub code: String,
    /// Until when it can be redeemed.
    pub expires_at: Timestamp,
}

/// What kind of refusal an HTTP answer carries: what the caller can do
/// about it is decided by this, never by the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ApiErrorKind {
    /// The code is unknown, used or expired.
    BadCode,
    /// The request itself was malformed (an actor id that is not one).
    BadRequest,
    /// The actor id belongs to another device: make a new one.
    ActorInUse,
    /// A staff or worker code without a person, or a person not in the site.
    UnknownPerson,
    /// The token is unknown or the device was removed.
    Unauthorized,
    /// The device's role may not do this.
    Forbidden,
    /// Too many attempts: wait and try again.
    TooManyAttempts,
    /// No such site, device or job.
    NotFound,
    /// Only a failed job can be retried.
    JobNotRetryable,
    /// The rule runs on its fact, not by the clock.
    RuleNotRunByClock,
    /// The channel to test is not set up for the site (no relay, no SMS
    /// account, no Slack webhook).
    ChannelNotSetUp,
    /// A channel's setting is not usable (a webhook that is not https, a
    /// relay URL that does not parse); nothing was changed.
    BadChannel,
    /// No guest expected today has this invitation code.
    UnknownInvitation,
    /// A guest's details the rules refuse (the words say which).
    BadGuest,
    /// A roll call is already running: mark people on it.
    RollCallRunning,
    /// Neither an e-mail address nor a phone number.
    BadContact,
    /// The name or site is taken already.
    AlreadyExists,
    /// The server failed.
    Internal,
}

/// The body of every refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What kind.
    pub kind: ApiErrorKind,
    /// In words, for a person.
    pub error: String,
    /// For [`ApiErrorKind::TooManyAttempts`]: how long to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revoke_path_fills_the_route() {
        let d = DeviceId::new();
        assert_eq!(revoke_path(d), format!("/admin/devices/{d}/revoke"));
    }

    #[test]
    fn an_error_body_keeps_its_kind() {
        let body = ErrorBody { kind: ApiErrorKind::TooManyAttempts, error: "Wait.".into(), retry_after_secs: Some(3) };
        let json = serde_json::to_string(&body).unwrap();
        assert!(json.contains("\"kind\":\"too-many-attempts\""), "{json}");
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
    }
}

/// What one retention sweep erased, and which devices have confirmed it:
/// `POST /admin/retention/run`, `GET /admin/retention/reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErasureReport {
    /// Its number in the site.
    pub id: i64,
    /// When it ran (the server's clock).
    pub ran_at: Timestamp,
    /// Visits erased.
    pub visits: u32,
    /// Presence months (one person's sign-ins of a month) erased.
    pub presence_months: u32,
    /// The change-feed number of its last deletion; `None` when it erased
    /// nothing.
    pub feed_seq: Option<u64>,
    /// The devices that were told (every device of the site that may
    /// have held one of the documents, when it ran), each confirmed or
    /// not yet.
    pub devices: Vec<ErasureConfirmation>,
}

/// Whether a device has confirmed an erasure: it has said that it applied
/// the change feed's deletions up to the report's feed number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErasureConfirmation {
    /// The device.
    pub device: DeviceId,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Whether it has confirmed.
    pub confirmed: bool,
}
