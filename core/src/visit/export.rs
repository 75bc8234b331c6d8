//! Visit history as CSV for a spreadsheet: one row per visit, times in the
//! site's zone, what guests typed kept as text.

use super::{Visit, VisitState};
use crate::spreadsheet::{self, local_minute};

/// The header of [`visits_csv`].
pub const VISITS_CSV_HEADER: [&str; 12] =
    ["guest", "company", "email", "phone", "host", "purpose", "registered", "admitted", "card", "left", "state", "visit"];

/// The visits as CSV, in the order given.
pub fn visits_csv(visits: &[Visit], time_zone: &str) -> Result<String, crate::site::Error> {
    let zone = spreadsheet::zone(time_zone)?;
    let rows = visits.iter().map(|v| {
        let (admitted, card, left, state) = match v.state {
            VisitState::Expected => (String::new(), String::new(), String::new(), "expected"),
            VisitState::Waiting => (String::new(), String::new(), String::new(), "waiting"),
            VisitState::Admitted { card, since } => (local_minute(since, zone), card.to_string(), String::new(), "in"),
            VisitState::Left { card, admitted_at, left_at } => (local_minute(admitted_at, zone), card.to_string(), local_minute(left_at, zone), "left"),
        };
        [
            v.guest_name.clone(),
            v.company.clone(),
            v.email.clone().unwrap_or_default(),
            v.phone.clone().unwrap_or_default(),
            v.host_name.clone(),
            v.purpose.clone(),
            local_minute(v.registered_at, zone),
            admitted,
            card,
            left,
            state.to_owned(),
            v.id.to_string(),
        ]
    });
    Ok(spreadsheet::write(VISITS_CSV_HEADER, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CardNumber, PersonId, VisitId};
    use crate::time::Timestamp;

    fn visit(name: &str, state: VisitState) -> Visit {
        Visit {
            id: VisitId::new(),
            state,
            guest_name: name.into(),
            company: "Acme".into(),
            email: Some("guest@acme.test".into()),
            phone: None,
            host: PersonId::new(),
            host_name: "Anna Kowalska".into(),
            purpose: "Audit".into(),
            // 08:00 UTC on 3 December 2026: 09:00 in Warsaw.
            registered_at: Timestamp::from_millis(1_796_284_800_000),
            expected_on: None,
            invitation: None,
        }
    }

    #[test]
    fn each_visit_is_a_row_with_its_times_in_the_sites_zone() {
        let card = CardNumber::new(105).unwrap();
        let hour = 3_600_000;
        let visits = [
            visit("Jan Waiting", VisitState::Waiting),
            visit("Ola Left", VisitState::Left { card, admitted_at: Timestamp::from_millis(1_796_284_800_000 + hour), left_at: Timestamp::from_millis(1_796_284_800_000 + 3 * hour) }),
            visit("@cmd", VisitState::Admitted { card, since: Timestamp::from_millis(1_796_284_800_000) }),
        ];
        let text = visits_csv(&visits, "Europe/Warsaw").unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), VISITS_CSV_HEADER);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let at = |r: usize| rows[r].iter().take(11).collect::<Vec<_>>();
        assert_eq!(at(0), ["Jan Waiting", "Acme", "guest@acme.test", "", "Anna Kowalska", "Audit", "2026-12-03 09:00", "", "", "", "waiting"]);
        assert_eq!(at(1)[6..], ["2026-12-03 09:00", "2026-12-03 10:00", "105", "2026-12-03 12:00", "left"]);
        assert_eq!(at(2)[0], "'@cmd", "a name that looks like a formula stays text");
    }
}
