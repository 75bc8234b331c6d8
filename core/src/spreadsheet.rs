//! What a spreadsheet reads: lists exported as CSV (who is in the building,
//! visit history) with times in the site's zone, and text people typed kept
//! as text, never run as a formula.

use std::borrow::Cow;

use crate::time::Timestamp;

/// A field as a spreadsheet will read it: text that starts like a formula
/// (`=`, `+`, `-`, `@`, a tab or a return) is kept as text by a leading
/// apostrophe, so opening the file never runs what a guest wrote.
pub fn cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}").into() } else { text.into() }
}

/// The time zone a site's times are written in.
pub fn zone(time_zone: &str) -> Result<chrono_tz::Tz, crate::site::Error> {
    time_zone.parse().map_err(|_| crate::site::Error::UnknownTimeZone(time_zone.to_owned()))
}

/// An instant to the minute in the site's zone: `2026-12-03 14:05`.
pub fn local_minute(at: Timestamp, zone: chrono_tz::Tz) -> String {
    at.to_utc().with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

/// Rows written as CSV with a header, each field through [`cell`].
pub fn write<const N: usize>(header: [&str; N], rows: impl IntoIterator<Item = [String; N]>) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    // Writing to memory does not fail.
    out.write_record(header).expect("writing to memory");
    for row in rows {
        out.write_record(row.iter().map(|f| cell(f).into_owned())).expect("writing to memory");
    }
    String::from_utf8(out.into_inner().expect("writing to memory")).expect("CSV of UTF-8 fields is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_stays_text_and_other_text_is_untouched() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("Anna Kowalska"), "Anna Kowalska");
        assert!(zone("Mars/Olympus").is_err());
    }
}
