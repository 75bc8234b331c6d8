//! The evacuation list: everyone in the building now — staff signed in and
//! guests admitted, with their cards and hosts — from two indexed reads, for
//! the fire marshal who has ninety seconds.

use serde::{Deserialize, Serialize};

use crate::presence::PresentPerson;
use crate::spreadsheet;
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
        let zone = spreadsheet::zone(time_zone)?;
        let staff = self.people.iter().map(|p| {
            let department = p.department.clone().unwrap_or_default();
            ["staff".into(), p.name.clone(), department, String::new(), String::new(), spreadsheet::local_minute(p.since, zone), p.person.to_string()]
        });
        let guests = self.guests.iter().map(|g| {
            let (card, since) = match g.state {
                crate::visit::VisitState::Admitted { card, since } => (card.to_string(), spreadsheet::local_minute(since, zone)),
                _ => (String::new(), String::new()),
            };
            ["guest".into(), g.guest_name.clone(), g.company.clone(), card, g.host_name.clone(), since, g.id.to_string()]
        });
        Ok(spreadsheet::write(["kind", "name", "company_or_department", "card", "host", "in_since", "person_or_visit"], staff.chain(guests)))
    }
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
            expected_on: None,
            invitation: None,
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
