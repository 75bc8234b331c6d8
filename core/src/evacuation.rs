//! The evacuation list: everyone in the building now — staff signed in and
//! guests admitted, with their cards and hosts — from two indexed reads, for
//! the fire marshal who has ninety seconds.

use serde::{Deserialize, Serialize};

use crate::presence::PresentPerson;
use crate::store::{Error, Store};
use crate::time::Timestamp;
use crate::visit::Visit;

/// Everyone in the building.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvacuationList {
    /// Staff and workers signed in.
    pub people: Vec<PresentPerson>,
    /// Guests admitted.
    pub guests: Vec<Visit>,
    /// When this device's list was made.
    pub made_at: Timestamp,
}

impl EvacuationList {
    /// How many people to account for.
    pub fn headcount(&self) -> usize {
        self.people.len() + self.guests.len()
    }

    /// The list as CSV for a spreadsheet or another system, one row per
    /// person: staff first, then guests with card and host; times in the
    /// site's zone (`2026-12-03 14:05`).
    pub fn csv(&self, time_zone: &str) -> Result<String, crate::site::Error> {
        let zone: chrono_tz::Tz = time_zone.parse().map_err(|_| crate::site::Error::UnknownTimeZone(time_zone.to_owned()))?;
        let local = |t: Timestamp| t.to_utc().with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut row = |fields: [&str; 7]| out.write_record(fields.map(|f| cell(f).into_owned())).expect("writing to memory");
        row(["kind", "name", "company_or_department", "card", "host", "in_since", "person_or_visit"]);
        for p in &self.people {
            row(["staff", &p.name, p.department.as_deref().unwrap_or(""), "", "", &local(p.since), &p.person.to_string()]);
        }
        for g in &self.guests {
            let (card, since) = match g.state {
                crate::visit::VisitState::Admitted { card, since } => (card.to_string(), local(since)),
                _ => (String::new(), String::new()),
            };
            row(["guest", &g.guest_name, &g.company, &card, &g.host_name, &since, &g.id.to_string()]);
        }
        let bytes = out.into_inner().expect("writing to memory");
        Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8"))
    }
}

/// A field as a spreadsheet will read it: text a guest typed that starts
/// like a formula (`=`, `+`, `-`, `@`, a tab or a return) is kept as text by
/// a leading apostrophe, so opening the file never runs what a guest wrote.
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}").into() } else { text.into() }
}

impl Store {
    /// Everyone in the building now.
    pub fn evacuation_list(&self) -> Result<EvacuationList, Error> {
        Ok(EvacuationList { people: self.people_in()?, guests: self.guests_in()?, made_at: self.now() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CardNumber, PersonId, VisitId};
    use crate::visit::VisitState;

    fn guest(name: &str, card: u32, since: i64) -> Visit {
        Visit {
            id: VisitId::new(),
            state: VisitState::Admitted { card: CardNumber::new(card).unwrap(), since: Timestamp::from_millis(since) },
            guest_name: name.into(),
            company: "Acme, Ltd".into(),
            email: None,
            phone: None,
            host: PersonId::new(),
            host_name: "Anna Kowalska".into(),
            purpose: String::new(),
            registered_at: Timestamp::from_millis(since),
        }
    }

    #[test]
    fn the_list_reads_as_csv_in_the_sites_zone_and_a_formula_stays_text() {
        // 13:05 UTC on 3 December 2026: 14:05 in Warsaw.
        let at = 1_796_303_100_000;
        let list = EvacuationList {
            people: vec![PresentPerson { person: PersonId::new(), name: "Jan Nowak".into(), department: Some("facilities".into()), since: Timestamp::from_millis(at) }],
            guests: vec![guest("Marta Wiśniewska", 105, at), guest("=HYPERLINK(\"http://x\")", 106, at)],
            made_at: Timestamp::from_millis(at),
        };
        let text = list.csv("Europe/Warsaw").unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["kind", "name", "company_or_department", "card", "host", "in_since", "person_or_visit"]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].iter().take(6).collect::<Vec<_>>(), ["staff", "Jan Nowak", "facilities", "", "", "2026-12-03 14:05"]);
        assert_eq!(rows[1].iter().take(6).collect::<Vec<_>>(), ["guest", "Marta Wiśniewska", "Acme, Ltd", "105", "Anna Kowalska", "2026-12-03 14:05"]);
        assert_eq!(&rows[2][1], "'=HYPERLINK(\"http://x\")");
        assert!(list.csv("Mars/Olympus").is_err());
    }
}
