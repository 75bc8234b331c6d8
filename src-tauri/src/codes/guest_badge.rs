//! A guest's badge as one SVG the size of a card (ISO ID-1, 85.6 × 54 mm):
//! "Guest" on a dark band, the name large, company, host, day and card
//! number, and a QR of the visit. Printed from the reception screen; the
//! words come in the screen's language.

use qrcode::QrCode;
use serde::Deserialize;
use ts_rs::TS;

use lodge_core::visit::GuestBadge;

use super::labels::{LabelError, escape, symbol};

/// The badge's fixed words, in the screen's language.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct BadgeWords {
    /// On the band: "Guest".
    pub guest: String,
    /// Before the host's name: "Host".
    pub host: String,
    /// Before the card's number: "Card".
    pub card: String,
}

/// A name's font size (mm) so that it fits beside the QR code.
fn name_size(name: &str) -> f64 {
    match name.chars().count() {
        0..=18 => 6.0,
        19..=26 => 4.6,
        _ => 3.4,
    }
}

/// The badge as an SVG document.
pub fn svg(badge: &GuestBadge, words: &BadgeWords) -> Result<String, LabelError> {
    let code = badge.code();
    let qr = QrCode::new(code.as_bytes()).map_err(|_| LabelError::TooLong(code.clone()))?;
    Ok(format!(
        concat!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"85.6mm\" height=\"54mm\" viewBox=\"0 0 85.6 54\" font-family=\"sans-serif\">",
            "<rect width=\"85.6\" height=\"54\" fill=\"#fff\" stroke=\"#999\" stroke-width=\"0.2\"/>",
            "<rect width=\"85.6\" height=\"11\" fill=\"#111\"/>",
            "<text x=\"4\" y=\"8\" font-size=\"6\" font-weight=\"bold\" fill=\"#fff\" letter-spacing=\"0.6\">{guest_word}</text>",
            "<text x=\"81.6\" y=\"8\" font-size=\"4\" fill=\"#fff\" text-anchor=\"end\">{day}</text>",
            "<text x=\"4\" y=\"20\" font-size=\"{name_size}\" font-weight=\"bold\">{name}</text>",
            "<text x=\"4\" y=\"26\" font-size=\"3.6\">{company}</text>",
            "<text x=\"4\" y=\"34\" font-size=\"3.2\">{host_word}: {host}</text>",
            "<text x=\"4\" y=\"47\" font-size=\"5.5\" font-weight=\"bold\">{card_word} {card}</text>",
            "{qr}</svg>"
        ),
        guest_word = escape(&words.guest),
        day = escape(&badge.day),
        name_size = name_size(&badge.guest),
        name = escape(&badge.guest),
        company = escape(&badge.company),
        host_word = escape(&words.host),
        host = escape(&badge.host),
        card_word = escape(&words.card),
        card = badge.card,
        qr = symbol(&qr, 58.6, 25.0, 25.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn badge(name: &str) -> GuestBadge {
        GuestBadge { visit: lodge_core::VisitId::new(), guest: name.into(), company: "Acme <Ltd> & Co".into(), host: "Anna Kowalska".into(), day: "2026-12-03".into(), card: 105 }
    }

    fn words() -> BadgeWords {
        BadgeWords { guest: "GOŚĆ".into(), host: "Gospodarz".into(), card: "Karta".into() }
    }

    #[test]
    fn a_badge_says_who_whom_when_and_which_card_escaped_in_the_screens_words() {
        let b = badge("Marta Wiśniewska");
        let svg = svg(&b, &words()).unwrap();
        assert_eq!(svg.matches("<svg").count(), 1);
        for text in [">GOŚĆ<", ">Marta Wiśniewska<", "Acme &lt;Ltd&gt; &amp; Co", ">Gospodarz: Anna Kowalska<", ">Karta 105<", ">2026-12-03<"] {
            assert!(svg.contains(text), "{text} in {svg}");
        }
    }

    #[test]
    fn the_qr_holds_the_visit_and_a_long_name_is_set_smaller() {
        let b = badge("Bartholomew Featherstonehaugh-Worthington");
        let svg = svg(&b, &words()).unwrap();
        let qr = QrCode::new(b.code().as_bytes()).unwrap();
        let dark = qr.to_colors().iter().filter(|c| **c == qrcode::Color::Dark).count();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        assert!(b.code().ends_with(&b.visit.to_string()));
        assert!(svg.contains("font-size=\"3.4\" font-weight=\"bold\">Bartholomew"));
    }
}
