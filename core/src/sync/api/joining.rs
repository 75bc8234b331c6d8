//! The wire contract of joining on one's own, operators and the audit
//! trail: paths, requests and answers, shared by the server's handlers and
//! the device's calls.

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, PersonId, SiteId};
use crate::time::Timestamp;

/// "I work here", first step: `POST` a [`SignInCodeRequest`]; the answer
/// is always [`SignInCodeAsked`], the same bytes whether or not the contact
/// belongs to someone.
pub const JOIN_CODE_PATH: &str = "/join/code";
/// Second step: `POST` a [`SignInEnrol`], answered with
/// [`super::Enrolled`].
pub const JOIN_ENROL_PATH: &str = "/join/enrol";
/// A phone signs itself out of its site: `POST` with its token; its token
/// is revoked.
pub const LEAVE_PATH: &str = "/devices/leave";
/// A login link: `POST` a [`LoginLinkRequest`] with a device's token (an
/// admin for anyone with a phone, a phone for its own person), answered
/// with [`LoginLink`].
pub const LOGIN_LINKS_PATH: &str = "/login-links";
/// The site's join code, for the admin's poster: `GET` with an admin's
/// token, answered with [`JoinCode`].
pub const ADMIN_JOIN_CODE_PATH: &str = "/admin/join-code";
/// The site's audit trail: `GET` with an admin's token and an
/// [`AuditQuery`], answered with [`AuditEntry`] rows, newest first.
pub const ADMIN_AUDIT_PATH: &str = "/admin/audit";
/// Redeem an invite on a device that started its site: `POST` an
/// [`InviteRedeem`], answered with [`super::Enrolled`] (the site's first
/// admin).
pub const INVITE_REDEEM_PATH: &str = "/invites/redeem";
/// Operators (an operator's token): the sites with their health (`GET`,
/// [`SiteHealth`] rows).
pub const OPERATOR_SITES_PATH: &str = "/operator/sites";
/// Operators: make an invite code (`POST` an [`InviteRequest`], answered
/// with [`Invite`]).
pub const OPERATOR_INVITES_PATH: &str = "/operator/invites";
/// Root operators: the operators (`GET`), add one (`POST` a
/// [`NewOperator`], answered with [`NewOperatorToken`]).
pub const OPERATOR_OPERATORS_PATH: &str = "/operator/operators";
/// Root operators: the server's own audit rows (operators' calls) and
/// every site's: `GET` with an [`AuditQuery`].
pub const OPERATOR_AUDIT_PATH: &str = "/operator/audit";

/// A worker not yet of the site asks to join: `POST` a [`JoinRequest`];
/// the answer is always [`SignInCodeAsked`], the same bytes whatever
/// happens (a code sent now, or a request left for the admin).
pub const JOIN_REQUEST_PATH: &str = "/join/request";
/// The site's waiting requests: `GET` with an admin's token, answered with
/// [`JoinRequestShown`] rows.
pub const ADMIN_JOIN_REQUESTS_PATH: &str = "/admin/join-requests";
/// Approve a request (`POST`): the person is made and their code sent;
/// answered with the requests still waiting.
pub const ADMIN_JOIN_REQUEST_APPROVE_ROUTE: &str = "/admin/join-requests/{request}/approve";
/// Refuse a request (`POST`); answered with the requests still waiting.
pub const ADMIN_JOIN_REQUEST_REFUSE_ROUTE: &str = "/admin/join-requests/{request}/refuse";
/// The e-mail domains whose people are approved by their code: `GET`, or
/// `PUT` a list of domains; answered with the list as kept.
pub const ADMIN_JOIN_DOMAINS_PATH: &str = "/admin/join-domains";

/// `/admin/join-requests/{request}/approve` filled in.
pub fn approve_join_path(request: i64) -> String {
    ADMIN_JOIN_REQUEST_APPROVE_ROUTE.replace("{request}", &request.to_string())
}

/// `/admin/join-requests/{request}/refuse` filled in.
pub fn refuse_join_path(request: i64) -> String {
    ADMIN_JOIN_REQUEST_REFUSE_ROUTE.replace("{request}", &request.to_string())
}

/// A worker's request to join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The site's join code.
    pub site_code: String,
    /// Their full name.
    pub name: String,
    /// Their work e-mail address or phone number.
    pub contact: String,
}

/// A request waiting for the admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JoinRequestShown {
    /// Its number.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// The name they gave.
    pub name: String,
    /// Their e-mail address or phone number.
    pub contact: String,
    /// The address it came from.
    pub address: String,
    /// When.
    pub created_at: Timestamp,
}

/// Ask for a code to be sent to `contact`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInCodeRequest {
    /// The site's join code (from its poster).
    pub site_code: String,
    /// An e-mail address or a phone number.
    pub contact: String,
}

/// The one answer to [`SignInCodeRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInCodeAsked {
    /// The site's name, to show "a code is on its way for Lodge House".
    pub site_name: String,
    /// For how many minutes a code works.
    pub minutes: u32,
}

/// Answer the code: this phone is enrolled for the contact's person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInEnrol {
    /// The site's join code.
    pub site_code: String,
    /// The contact the code was sent to.
    pub contact: String,
    /// The six digits.
    pub code: String,
    /// The Automerge actor id the phone writes under (hex).
    pub actor: String,
    /// A name for the admin's list of devices.
    #[serde(default)]
    pub name: String,
}

/// A login link for one more phone of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginLinkRequest {
    /// Whose (an admin names them; a phone may name only its own person,
    /// and may leave it out).
    #[serde(default)]
    pub person: Option<PersonId>,
    /// How long it works, in minutes (default 60, at most a day).
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// A login link: a one-time enrolment code for a person's phone, and the
/// link that carries it with the server's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginLink {
    /// The code (what the link holds).
    pub code: String,
    /// `lodge://join?server=…&code=…`: the app opens it; its QR is shown.
    pub link: String,
    /// Until when it works.
    pub expires_at: Timestamp,
}

/// The site's join code, for its poster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JoinCode {
    /// Six letters and digits.
    pub code: String,
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditQuery {
    /// From this instant on.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub since: Option<Timestamp>,
    /// Rows whose action contains this (`enrol`, `sign-in-code`, `/admin/`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub action: Option<String>,
    /// Rows that ended so (`ok`, `bad-code`…).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub outcome: Option<String>,
    /// At most this many (default 200, at most 1000).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub limit: Option<u32>,
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Which site, where one is concerned.
    pub site: Option<SiteId>,
    /// Which device asked, or was made.
    pub device: Option<DeviceId>,
    /// Which person.
    pub person: Option<PersonId>,
    /// Which operator asked.
    pub operator: Option<String>,
    /// The client's address.
    pub address: String,
    /// What was asked.
    pub action: String,
    /// `ok`, or the kind of refusal.
    pub outcome: String,
    /// A role, a masked contact, a company.
    pub detail: String,
}

/// Root or support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperatorKind {
    /// Everything, and makes other operators.
    Root,
    /// Creates sites and invites, sees their health, never a document.
    Support,
}

/// An operator as lists show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorShown {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Root or support.
    pub kind: OperatorKind,
    /// Since when.
    pub created_at: Timestamp,
}

/// A new operator (root only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOperator {
    /// Their name.
    pub name: String,
    /// Root or support.
    pub kind: OperatorKind,
}

/// A new operator's token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOperatorToken {
    /// The operator.
    pub operator: OperatorShown,
    /// Their token for `Authorization: Bearer …`.
    pub token: String,
}

/// A site's health as operators see it: counts, never a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteHealth {
    /// The site.
    pub site: SiteId,
    /// Its name.
    pub name: String,
    /// Devices enrolled and not removed.
    pub devices: u64,
    /// Of those, connected now.
    pub connected: u64,
    /// When a device of the site was last in touch.
    pub last_contact: Option<Timestamp>,
    /// Messages that failed to go out.
    pub failed_jobs: u64,
}

/// An invite code to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    /// The company (the site to be).
    pub company: String,
    /// How long it works, in days (default 14, at most 90).
    #[serde(default)]
    pub days: Option<u32>,
}

/// A new invite code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// `INV-XXXX-XXXX-XXXX`.
    pub code: String,
    /// For which company.
    pub company: String,
    /// Until when.
    pub expires_at: Timestamp,
}

/// Redeem an invite: the device has started its site and becomes its
/// first admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRedeem {
    /// The invite code.
    pub code: String,
    /// The site the device started.
    pub site: SiteId,
    /// Its name.
    pub site_name: String,
    /// The device's actor id (hex).
    pub actor: String,
    /// A name for the admin's list of devices.
    #[serde(default)]
    pub name: String,
}
