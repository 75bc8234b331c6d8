//! A guest who has waited at the desk too long: reception is told, on its
//! own board, from its own copy of the queue (so it works offline too),
//! until the guest is admitted or the entry rejected.

use serde::{Deserialize, Serialize};

use super::Visit;
use crate::Timestamp;
use crate::ids::VisitId;

/// How long a guest may wait before reception is told.
pub const TOO_LONG_MINUTES: u32 = 10;

/// A guest waiting longer than [`TOO_LONG_MINUTES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LongWait {
    /// Their visit.
    pub visit: VisitId,
    /// Their name.
    pub guest_name: String,
    /// Their host's name.
    pub host_name: String,
    /// Whole minutes waited so far.
    pub minutes: u32,
}

impl Visit {
    /// Whole minutes since the guest registered (none for a time ahead of
    /// `now`: another device's clock ran fast).
    pub fn minutes_waited(&self, now: Timestamp) -> u32 {
        let millis = now.millis().saturating_sub(self.registered_at.millis()).max(0);
        u32::try_from(millis / 60_000).unwrap_or(u32::MAX)
    }
}

/// The waiting guests who have waited too long, longest first.
pub fn long_waits(waiting: &[Visit], now: Timestamp) -> Vec<LongWait> {
    let mut long: Vec<LongWait> = waiting
        .iter()
        .filter(|v| v.state == super::VisitState::Waiting)
        .map(|v| LongWait { visit: v.id, guest_name: v.guest_name.clone(), host_name: v.host_name.clone(), minutes: v.minutes_waited(now) })
        .filter(|w| w.minutes >= TOO_LONG_MINUTES)
        .collect();
    long.sort_by(|a, b| b.minutes.cmp(&a.minutes).then_with(|| a.guest_name.cmp(&b.guest_name)));
    long
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PersonId;

    fn waiting(name: &str, registered_min: i64) -> Visit {
        Visit {
            id: VisitId::new(),
            state: super::super::VisitState::Waiting,
            guest_name: name.into(),
            company: String::new(),
            email: None,
            phone: None,
            host: PersonId::new(),
            host_name: "Anna Kowalska".into(),
            purpose: String::new(),
            registered_at: Timestamp::from_millis(registered_min * 60_000),
            expected_on: None,
            invitation: None,
        }
    }

    #[test]
    fn reception_is_told_of_guests_waiting_ten_minutes_or_more_longest_first() {
        let now = Timestamp::from_millis(100 * 60_000);
        let queue = [waiting("Just Came", 99), waiting("Nine Minutes", 91), waiting("Ten Minutes", 90), waiting("Half An Hour", 70)];
        let long = long_waits(&queue, now);
        let told: Vec<(&str, u32)> = long.iter().map(|w| (w.guest_name.as_str(), w.minutes)).collect();
        assert_eq!(told, vec![("Half An Hour", 30), ("Ten Minutes", 10)]);
    }

    #[test]
    fn a_registration_stamped_ahead_of_this_clock_has_waited_no_time() {
        let now = Timestamp::from_millis(100 * 60_000);
        assert_eq!(waiting("Fast Clock", 130).minutes_waited(now), 0);
        assert!(long_waits(&[waiting("Fast Clock", 130)], now).is_empty());
    }
}
