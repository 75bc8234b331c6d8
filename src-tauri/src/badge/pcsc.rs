//! A USB badge reader on a desktop, through PC/SC (`pcscd` on Linux): a
//! thread waits for a card to arrive on any reader, asks it for its UID and
//! hands it on. Readers plugged in later are picked up; without a PC/SC
//! service the thread waits and tries again, quietly.

use std::ffi::CStr;
use std::time::Duration;

use pcsc::{Context, Error, PNP_NOTIFICATION, Protocols, ReaderState, Scope, ShareMode, State};

use lodge_core::CardUid;

use super::uid::{GET_UID, UidError, uid_from_response};

/// How long to wait for the PC/SC service before trying again.
const RETRY: Duration = Duration::from_secs(3);

/// How often a card that answers "reset" is asked again. A card that
/// `pcscd` (or another program sharing the reader) has just reset answers
/// once with `SCARD_W_RESET_CARD`; the next connection reads it. Without
/// this the tap was lost and the receptionist had to tap again.
const READ_TRIES: u32 = 3;

/// Why a card on the reader gave no UID.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Pcsc(#[from] Error),
    #[error(transparent)]
    Uid(#[from] UidError),
}

impl ReadError {
    /// A state of the card that passes: reset or not yet powered.
    fn passes(&self) -> bool {
        matches!(self, Self::Pcsc(Error::ResetCard | Error::UnpoweredCard))
    }
}

/// The readers PC/SC knows now (empty without a service).
pub fn readers() -> Vec<String> {
    Context::establish(Scope::User)
        .and_then(|ctx| ctx.list_readers_owned())
        .map(|names| names.into_iter().map(|n| n.to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

/// Watch every reader on a thread of its own; call `on_card` with each
/// card's UID as it is put on a reader.
pub fn spawn(on_card: impl Fn(CardUid) + Send + 'static) {
    let spawned = std::thread::Builder::new().name("pcsc-reader".into()).spawn(move || {
        loop {
            if let Err(e) = watch(&on_card) {
                tracing::debug!(error = %e, "PC/SC is not available; trying again");
            }
            std::thread::sleep(RETRY);
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "the badge reader thread could not start");
    }
}

fn watch(on_card: &impl Fn(CardUid)) -> Result<(), Error> {
    let ctx = Context::establish(Scope::User)?;
    let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    loop {
        // Forget readers that went away; add the ones that came.
        states.retain(|s| !s.event_state().intersects(State::UNKNOWN | State::IGNORE));
        let names = match ctx.list_readers_owned() {
            Ok(names) => names,
            Err(Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        for name in names {
            if !states.iter().any(|s| s.name() == name.as_c_str()) {
                tracing::info!(reader = %name.to_string_lossy(), "badge reader found");
                states.push(ReaderState::new(name, State::UNAWARE));
            }
        }
        for s in &mut states {
            s.sync_current_state();
        }
        match ctx.get_status_change(Duration::from_secs(2), &mut states) {
            Ok(()) | Err(Error::Timeout) => {}
            Err(Error::UnknownReader) => continue,
            Err(e) => return Err(e),
        }
        for s in &states {
            if s.name() == PNP_NOTIFICATION() {
                continue;
            }
            let arrived = s.event_state().contains(State::PRESENT) && !s.current_state().contains(State::PRESENT);
            if arrived && !s.event_state().contains(State::EXCLUSIVE) {
                match read_with_retries(|| read_uid(&ctx, s.name())) {
                    Ok(uid) => on_card(uid),
                    Err(e) => tracing::warn!(reader = %s.name().to_string_lossy(), error = %e, "a card was put on the reader but its UID could not be read"),
                }
            }
        }
    }
}

/// `read`, again while the card only says it was reset (at most
/// [`READ_TRIES`] times in all).
fn read_with_retries(mut read: impl FnMut() -> Result<CardUid, ReadError>) -> Result<CardUid, ReadError> {
    let mut tries = 1;
    loop {
        match read() {
            Err(e) if e.passes() && tries < READ_TRIES => {
                tracing::debug!(error = %e, tries, "the card was reset; reading it again");
                tries += 1;
            }
            done => return done,
        }
    }
}

fn read_uid(ctx: &Context, reader: &CStr) -> Result<CardUid, ReadError> {
    let card = ctx.connect(reader, ShareMode::Shared, Protocols::ANY)?;
    let mut buf = [0u8; 64];
    let answer = card.transmit(&GET_UID, &mut buf)?;
    Ok(uid_from_response(answer)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid() -> CardUid {
        uid_from_response(&[0x04, 0xA1, 0xB2, 0xC3, 0x90, 0x00]).expect("a UID")
    }

    #[test]
    fn a_card_reset_under_the_reader_is_read_on_the_next_try() {
        let mut answers = vec![Err(ReadError::Pcsc(Error::ResetCard)), Ok(uid())].into_iter();
        let mut asked = 0;
        let read = read_with_retries(|| {
            asked += 1;
            answers.next().expect("asked too often")
        });
        assert_eq!(read.expect("read on the second try"), uid());
        assert_eq!(asked, 2);
    }

    #[test]
    fn a_card_that_keeps_resetting_is_given_up_after_three_tries() {
        let mut asked = 0;
        let read = read_with_retries(|| {
            asked += 1;
            Err(ReadError::Pcsc(Error::ResetCard))
        });
        assert!(matches!(read, Err(ReadError::Pcsc(Error::ResetCard))));
        assert_eq!(asked, READ_TRIES);
    }

    #[test]
    fn other_failures_are_not_tried_again() {
        let mut asked = 0;
        let read = read_with_retries(|| {
            asked += 1;
            Err(ReadError::Uid(UidError::Short))
        });
        assert!(matches!(read, Err(ReadError::Uid(UidError::Short))));
        assert_eq!(asked, 1);
    }
}
