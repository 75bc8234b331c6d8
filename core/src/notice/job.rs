//! One message to send, as the queue keeps it.

use serde::{Deserialize, Serialize};

use super::Rule;
use crate::document::DocId;
use crate::time::Timestamp;

/// A job's number in its site's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    /// Waiting to be sent, or to be tried again.
    Queued,
    /// Sent.
    Sent,
    /// Tried [`super::RETRY_LIMIT`] times, or refused for good: for a
    /// person to see, and retry.
    Failed,
    /// The fact was too old when the message could have gone (see
    /// [`Rule::too_old_after`]): nothing was sent.
    Expired,
    /// What it was about is gone (a guest erased): nothing was sent.
    Cancelled,
}

impl JobState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Sent => "sent",
            JobState::Failed => "failed",
            JobState::Expired => "expired",
            JobState::Cancelled => "cancelled",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [JobState::Queued, JobState::Sent, JobState::Failed, JobState::Expired, JobState::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Its number.
    pub id: JobId,
    /// The rule that made it.
    pub rule: Rule,
    /// The fact and the rule: unique.
    pub key: String,
    /// The document the fact is about.
    pub subject: DocId,
    /// The fact within it, where it holds many (a presence event's id).
    pub event: Option<String>,
    /// The Slack hook it goes to, for a Slack job.
    pub hook: Option<i64>,
    /// When the fact happened (by the device that recorded it).
    pub fact_at: Timestamp,
    /// When the server queued it.
    pub queued_at: Timestamp,
    /// Where it stands.
    pub state: JobState,
    /// Tries so far.
    pub attempts: u32,
    /// When it is tried next (queued ones).
    pub next_at: Timestamp,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When it was sent, failed for good, expired or was cancelled.
    pub done_at: Option<Timestamp>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobFilter {
    /// All, newest first.
    #[default]
    All,
    /// Those in one state.
    State(JobState),
}

/// Why a job could not be found or moved.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// No job has this number in this site's queue.
    #[error("there is no job {0} in this site's queue")]
    Unknown(JobId),
    /// Only a failed job is tried again by hand.
    #[error("job {id} is {state}; only a failed job can be retried")]
    NotRetryable {
        /// The job.
        id: JobId,
        /// Where it stands.
        state: JobState,
    },
    /// Only a rule that runs by the clock can be run by hand.
    #[error("{0} runs when its fact happens, not by the clock; the rules that can be run are: sign-out-reminder, loan-overdue, retention")]
    NotDaily(Rule),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl From<rusqlite::Error> for JobError {
    fn from(e: rusqlite::Error) -> Self {
        JobError::Store(e.into())
    }
}
