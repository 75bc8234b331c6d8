//! The answer of a contactless reader to "get data: UID" (`FF CA 00 00 00`,
//! PC/SC part 3): the UID bytes followed by the status word.

use lodge_core::CardUid;

/// The pseudo-APDU that asks a reader for the card's UID.
pub const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// Why a reader's answer held no UID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UidError {
    /// Shorter than a status word.
    #[error("the reader's answer was cut short")]
    Short,
    /// The reader refused (e.g. `6A 81`: function not supported).
    #[error("the reader refused to give the card's UID (status {0:02X} {1:02X})")]
    Refused(u8, u8),
    /// The bytes are not a UID.
    #[error("the card's UID is not 4 to 10 bytes long")]
    BadLength,
}

/// The UID in a reader's answer.
pub fn uid_from_response(answer: &[u8]) -> Result<CardUid, UidError> {
    let [data @ .., sw1, sw2] = answer else { return Err(UidError::Short) };
    if (*sw1, *sw2) != (0x90, 0x00) {
        return Err(UidError::Refused(*sw1, *sw2));
    }
    CardUid::from_bytes(data).map_err(|_| UidError::BadLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seven_byte_uid_is_read_in_hex() {
        let uid = uid_from_response(&[0x04, 0xA2, 0x24, 0xB1, 0x5C, 0x80, 0x01, 0x90, 0x00]).unwrap();
        assert_eq!(uid.as_str(), "04A224B15C8001");
    }

    #[test]
    fn refusals_and_garbage_are_named() {
        assert_eq!(uid_from_response(&[0x6A, 0x81]), Err(UidError::Refused(0x6A, 0x81)));
        assert_eq!(uid_from_response(&[0x90]), Err(UidError::Short));
        assert_eq!(uid_from_response(&[0x01, 0x90, 0x00]), Err(UidError::BadLength));
        assert_eq!(uid_from_response(&[]), Err(UidError::Short));
    }
}
