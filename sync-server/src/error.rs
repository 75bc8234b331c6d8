//! The server's error type for HTTP handlers: clients' mistakes keep their
//! status and words; internal failures get a generic message and are logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use lodge_core::sync::api::{ApiErrorKind, ErrorBody};

use lodge_core::notice::JobError;

use crate::registry::RegistryError;

/// An error of an HTTP handler.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A registry error.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A store error.
    #[error(transparent)]
    Store(#[from] lodge_core::StoreError),
    /// No valid device token.
    #[error("This device is not enrolled here, or was removed.")]
    Unauthorized,
    /// A device of another role.
    #[error("A {0} device cannot do this; use an admin device.")]
    Forbidden(lodge_core::Role),
    /// Too many failed enrolments from this address (or everywhere).
    #[error("Too many enrolment attempts failed. Wait {retry_after_secs} s, check the code, and try again.")]
    TooManyAttempts {
        /// Seconds until one more attempt is allowed.
        retry_after_secs: u64,
    },
    /// A phone's code names a person the site does not have.
    #[error("There is no person {person} in this site. Add them under People first, or pick someone who exists.")]
    UnknownPerson {
        /// The person named.
        person: lodge_core::PersonId,
    },
    /// A job could not be found, retried or run.
    #[error(transparent)]
    Job(#[from] lodge_core::notice::JobError),
    /// No messages were made for this announcement (unknown here, or not
    /// seen by the server yet).
    #[error("The server has sent no messages for this announcement: it has not reached the server yet, or it is not this site's.")]
    UnknownAnnouncement(lodge_core::AnnouncementId),
    /// A channel to test is not set up.
    #[error(transparent)]
    NotSetUp(#[from] crate::channel_test::NotSetUp),
    /// A webhook URL that cannot be one.
    #[error(transparent)]
    BadWebhook(#[from] lodge_core::notice::BadWebhook),
    /// A mail relay that could not send.
    #[error("This mail relay cannot be used: {0}.")]
    BadRelay(#[from] crate::outreach::MailSetupError),
    /// A relay setting too long to be one.
    #[error(transparent)]
    RelayTooLong(#[from] lodge_core::notice::RelayTooLong),
    /// No webhook of that number in the site.
    #[error("This site has no Slack webhook {0}.")]
    UnknownHook(i64),
    /// A guest refused by the visit rules (an unknown invitation code, a
    /// day past, a form the kiosk should have caught).
    #[error(transparent)]
    Visit(#[from] lodge_core::visit::Error),
    /// A roll call refused (not a marshal, one already running).
    #[error(transparent)]
    RollCall(#[from] lodge_core::roll_call::Error),
    /// Neither an e-mail address nor a phone number.
    #[error(transparent)]
    BadContact(#[from] lodge_core::person::BadContact),
    /// No site has this join code.
    #[error("No site on this server has this code. Check the code on the site's poster, or the server's address.")]
    UnknownJoinCode,
    /// A request to join names the person.
    #[error("Write your full name, so that the admin knows who asks.")]
    NameRequired,
    /// A person the server could not make.
    #[error(transparent)]
    Person(#[from] lodge_core::person::Error),
    /// A login link names its person.
    #[error("Say whose phone the login link is for.")]
    LinkNeedsPerson,
    /// An operator's token on a site's document route.
    #[error("An operator sees sites' health, never their documents: use a device of the site.")]
    OperatorNotDevice,
    /// A support operator on a root route.
    #[error("Only a root operator can do this.")]
    NotRoot,
    /// A site could not be made.
    #[error(transparent)]
    Site(#[from] lodge_core::site::Error),
    /// The demo site could not be made.
    #[error("the demo site could not be made: {0}")]
    Demo(#[from] lodge_core::demo::DemoError),
    /// A file could not be moved.
    #[error("a file of the server could not be written: {0}")]
    Io(std::io::Error),
    /// A request body that is not what the route reads.
    #[error("The request's body could not be read: {0}")]
    BadBody(String),
    /// A task failed.
    #[error("a server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl AppError {
    /// What kind of refusal it is on the wire.
    fn kind(&self) -> ApiErrorKind {
        match self {
            AppError::Registry(RegistryError::BadCode | RegistryError::WrongSignInCode) => ApiErrorKind::BadCode,
            AppError::Registry(RegistryError::BadActor(_) | RegistryError::NameTooLong) => ApiErrorKind::BadRequest,
            AppError::Registry(RegistryError::ActorInUse { .. }) => ApiErrorKind::ActorInUse,
            AppError::Registry(RegistryError::PersonRequired(_)) | AppError::UnknownPerson { .. } => ApiErrorKind::UnknownPerson,
            AppError::TooManyAttempts { .. } => ApiErrorKind::TooManyAttempts,
            AppError::Unauthorized => ApiErrorKind::Unauthorized,
            AppError::Forbidden(_) => ApiErrorKind::Forbidden,
            AppError::Registry(RegistryError::UnknownSite(_) | RegistryError::UnknownDevice(_)) => ApiErrorKind::NotFound,
            AppError::Job(JobError::Unknown(_)) | AppError::UnknownAnnouncement(_) => ApiErrorKind::NotFound,
            AppError::Job(JobError::NotRetryable { .. }) => ApiErrorKind::JobNotRetryable,
            AppError::Job(JobError::NotDaily(_)) => ApiErrorKind::RuleNotRunByClock,
            AppError::NotSetUp(_) => ApiErrorKind::ChannelNotSetUp,
            AppError::BadWebhook(_) | AppError::BadRelay(_) | AppError::RelayTooLong(_) => ApiErrorKind::BadChannel,
            AppError::UnknownHook(_) => ApiErrorKind::NotFound,
            AppError::Visit(lodge_core::visit::Error::UnknownInvitation) => ApiErrorKind::UnknownInvitation,
            AppError::Visit(lodge_core::visit::Error::Denied(_)) => ApiErrorKind::Forbidden,
            AppError::Visit(lodge_core::visit::Error::Store(_)) => ApiErrorKind::Internal,
            AppError::Visit(_) => ApiErrorKind::BadGuest,
            AppError::RollCall(lodge_core::roll_call::Error::NotMarshal | lodge_core::roll_call::Error::Denied(_)) => ApiErrorKind::Forbidden,
            AppError::RollCall(lodge_core::roll_call::Error::AlreadyRunning { .. }) => ApiErrorKind::RollCallRunning,
            AppError::RollCall(lodge_core::roll_call::Error::EmergencyTooLong { .. }) => ApiErrorKind::BadRequest,
            AppError::Registry(RegistryError::TooManyCodes { .. }) => ApiErrorKind::TooManyAttempts,
            AppError::Registry(RegistryError::BadOperatorName | RegistryError::BadCompany | RegistryError::BadDomain(_)) => ApiErrorKind::BadRequest,
            AppError::Registry(RegistryError::UnknownJoinRequest(_)) => ApiErrorKind::NotFound,
            AppError::Registry(RegistryError::OperatorExists(_) | RegistryError::SiteExists(_)) => ApiErrorKind::AlreadyExists,
            AppError::Registry(RegistryError::UnknownOperator(_)) | AppError::UnknownJoinCode => ApiErrorKind::NotFound,
            AppError::BadContact(_) => ApiErrorKind::BadContact,
            AppError::LinkNeedsPerson => ApiErrorKind::UnknownPerson,
            AppError::NameRequired | AppError::BadBody(_) => ApiErrorKind::BadRequest,
            AppError::Person(lodge_core::person::Error::Store(_)) => ApiErrorKind::Internal,
            AppError::Person(lodge_core::person::Error::Denied(_)) => ApiErrorKind::Forbidden,
            AppError::Person(lodge_core::person::Error::EmailInUse { .. } | lodge_core::person::Error::CardInUse { .. }) => ApiErrorKind::AlreadyExists,
            AppError::Person(_) => ApiErrorKind::BadRequest,
            AppError::OperatorNotDevice | AppError::NotRoot => ApiErrorKind::Forbidden,
            AppError::Site(lodge_core::site::Error::Store(_)) => ApiErrorKind::Internal,
            AppError::Site(lodge_core::site::Error::Denied(_)) => ApiErrorKind::Forbidden,
            AppError::Site(_) => ApiErrorKind::BadRequest,
            _ => ApiErrorKind::Internal,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let kind = self.kind();
        let status = match kind {
            ApiErrorKind::BadCode
            | ApiErrorKind::BadRequest
            | ApiErrorKind::UnknownPerson
            | ApiErrorKind::RuleNotRunByClock
            | ApiErrorKind::BadChannel
            | ApiErrorKind::BadGuest
            | ApiErrorKind::BadContact => {
                StatusCode::BAD_REQUEST
            }
            ApiErrorKind::JobNotRetryable | ApiErrorKind::ChannelNotSetUp => StatusCode::CONFLICT,
            ApiErrorKind::ActorInUse | ApiErrorKind::RollCallRunning | ApiErrorKind::AlreadyExists => StatusCode::CONFLICT,
            ApiErrorKind::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ApiErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ApiErrorKind::NotFound | ApiErrorKind::UnknownInvitation => StatusCode::NOT_FOUND,
            ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let error = if kind == ApiErrorKind::Internal {
            tracing::error!(error = %self, "internal error");
            "The server failed; it was logged.".to_owned()
        } else {
            self.to_string()
        };
        let retry_after_secs = match self {
            AppError::TooManyAttempts { retry_after_secs } | AppError::Registry(RegistryError::TooManyCodes { retry_after_secs }) => Some(retry_after_secs),
            _ => None,
        };
        let body = Json(ErrorBody { kind, error, retry_after_secs });
        match retry_after_secs {
            Some(secs) => (status, [(axum::http::header::RETRY_AFTER, secs.to_string())], body).into_response(),
            None => (status, body).into_response(),
        }
    }
}
