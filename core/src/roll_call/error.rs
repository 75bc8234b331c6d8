//! Refusals of roll call commands.

use crate::actor::Denied;
use crate::ids::RollCallId;
use crate::time::Timestamp;

/// Why a roll call command was refused.
// Serialized as a kind with values so that a screen says it in its own
// language; the store's own failures do not serialize.
#[derive(Debug, thiserror::Error, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "RollCallError"))]
#[serde(tag = "kind", content = "values", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    Store(#[from] crate::store::Error),
    /// Only the desks, the admin and fire marshals take roll calls.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A phone whose person is not a fire marshal.
    #[error("Only fire marshals take roll calls. Ask the admin to make you one.")]
    NotMarshal,
    /// A roll call is already running: it is the one to mark.
    #[error("A roll call is already running (started {started_at}). Mark people on it, or end it first.")]
    AlreadyRunning {
        /// The running roll call.
        roll_call: RollCallId,
        /// When it started.
        started_at: Timestamp,
    },
    /// No such roll call on this device.
    #[error("This roll call is not on this device (yet).")]
    UnknownRollCall(RollCallId),
    /// The roll call has ended: its report no longer changes.
    #[error("This roll call has ended; its report no longer changes.")]
    Ended(RollCallId),
    /// The emergency's words are too long for an announcement.
    #[error("The emergency's text is too long: at most {max} characters.")]
    EmergencyTooLong {
        /// The most it may hold.
        max: usize,
    },
    /// The person is not on the roll call's list.
    #[error("This person is not on the roll call's list.")]
    NotOnList,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        assert!(Error::NotMarshal.to_string().contains("fire marshals"));
        let running = Error::AlreadyRunning { roll_call: RollCallId::new(), started_at: Timestamp::from_millis(0) };
        assert!(running.to_string().contains("started 1970-01-01 00:00 UTC"));
        assert!(Error::Ended(RollCallId::new()).to_string().contains("ended"));
    }
}
