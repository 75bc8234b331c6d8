//! The visit document, the fold of its events into a [`VisitState`], and its
//! projection row.

use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::conflict::{Affected, ConflictKind};
use crate::document::{DocId, DocKind, Header, Model};
use crate::ids::{CardNumber, EventId, PersonId, VisitId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct VisitDoc {
    pub header: Header,
    pub id: VisitId,
    pub guest: Guest,
    pub host: PersonId,
    pub host_name: String,
    pub purpose: String,
    pub consent: Consent,
    pub registered_at: Timestamp,
    pub registered_by: String,
    pub events: Vec<VisitEvent>,
    /// Set when the guest was expected before coming (older documents
    /// have none: they hydrate as walk-ins).
    #[autosurgeon(missing = "Option::default")]
    pub expected: Option<Expectation>,
}

/// A guest expected on a day, with the code of their invitation.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Expectation {
    /// `YYYY-MM-DD` in the site's time zone.
    pub day: String,
    /// The invitation code (`K7QM-2XPA`).
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Guest {
    pub name: String,
    pub company: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct Consent {
    /// The text the guest agreed to, as shown.
    pub text: String,
    pub given_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) struct VisitEvent {
    #[key]
    pub id: EventId,
    pub at: Timestamp,
    pub by: String,
    pub change: VisitChange,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub(crate) enum VisitChange {
    /// An expected guest came: at the kiosk with their code, or at the desk.
    Arrived,
    Admitted { card: CardNumber },
    CardReissued { card: CardNumber },
    Released,
}

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum VisitState {
    /// Expected on a day, not come yet.
    Expected,
    /// Registered, waiting at the desk.
    Waiting,
    /// In the building with a badge card.
    Admitted {
        /// The card.
        card: CardNumber,
        /// Since when.
        since: Timestamp,
    },
    /// Gone; the card is back in the drawer.
    Left {
        /// The card they had.
        card: CardNumber,
        /// When they were admitted.
        admitted_at: Timestamp,
        /// When they left.
        left_at: Timestamp,
    },
}

impl VisitState {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            VisitState::Expected => "expected",
            VisitState::Waiting => "waiting",
            VisitState::Admitted { .. } => "admitted",
            VisitState::Left { .. } => "left",
        }
    }
}

/// The state, and cards given by a second admission while the guest was
/// already in (two desks offline): a conflict until a card is reissued.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Folded {
    pub state: VisitState,
    pub extra_cards: Vec<CardNumber>,
    /// When an expected guest came (the queue's order and the day's count
    /// go by it).
    pub arrived_at: Option<Timestamp>,
}

impl VisitDoc {
    /// Fold the events in (time, list position) order: the same answer on every replica.
    pub(crate) fn fold(&self) -> Folded {
        let mut events: Vec<&VisitEvent> = self.events.iter().collect();
        // Stable: equal times keep list order, which Automerge makes the same on
        // every replica and which is causal order for one device.
        events.sort_by_key(|e| e.at);
        let mut state = if self.expected.is_some() { VisitState::Expected } else { VisitState::Waiting };
        let mut extra_cards = Vec::new();
        let mut arrived_at = None;
        for e in events {
            state = match (state, &e.change) {
                (VisitState::Expected, VisitChange::Arrived) => {
                    arrived_at = Some(e.at);
                    VisitState::Waiting
                }
                // Admitted at a desk that had not heard of the arrival.
                (VisitState::Expected, VisitChange::Admitted { card }) => {
                    arrived_at = Some(e.at);
                    VisitState::Admitted { card: *card, since: e.at }
                }
                (VisitState::Waiting, VisitChange::Admitted { card }) => VisitState::Admitted { card: *card, since: e.at },
                (VisitState::Admitted { card: held, since }, VisitChange::Admitted { card }) => {
                    if *card != held {
                        extra_cards.push(*card);
                    }
                    VisitState::Admitted { card: held, since }
                }
                (VisitState::Admitted { since, .. }, VisitChange::CardReissued { card }) => {
                    extra_cards.clear();
                    VisitState::Admitted { card: *card, since }
                }
                (VisitState::Admitted { card, since }, VisitChange::Released) => {
                    extra_cards.clear();
                    VisitState::Left { card, admitted_at: since, left_at: e.at }
                }
                (s, _) => s,
            };
        }
        Folded { state, extra_cards, arrived_at }
    }
}

/// Remove a visit's rows, noting the card it held.
pub(crate) fn clear_projection(id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
    let card: Option<Option<CardNumber>> =
        conn.prepare_cached("SELECT card FROM visits WHERE doc_id = ?1")?.query_row([id], |r| r.get(0)).optional()?;
    if let Some(Some(card)) = card {
        affected.cards.insert(card);
    }
    conn.prepare_cached("DELETE FROM visits WHERE doc_id = ?1")?.execute([id])?;
    crate::conflict::check::remove(conn, &format!("visit:{}", id.as_str().trim_start_matches("visit:")))?;
    Ok(())
}

impl Model for VisitDoc {
    const KIND: DocKind = DocKind::Visit;

    fn header(&self) -> &Header {
        &self.header
    }

    fn project(&self, id: &DocId, conn: &Connection, affected: &mut Affected) -> rusqlite::Result<()> {
        clear_projection(id, conn, affected)?;
        let folded = self.fold();
        let (card, admitted_at, left_at) = match folded.state {
            VisitState::Expected | VisitState::Waiting => (None, None, None),
            VisitState::Admitted { card, since } => (Some(card), Some(since), None),
            VisitState::Left { card, admitted_at, left_at } => (Some(card), Some(admitted_at), Some(left_at)),
        };
        if let Some(card) = card {
            affected.cards.insert(card);
        }
        conn.prepare_cached(
            "INSERT OR REPLACE INTO visits (visit_id, doc_id, state, guest_name, company, email, phone, host_id, host_name, purpose, card, registered_at, admitted_at, left_at, registered_by, expected_on, invitation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?
        .execute(params![
            self.id,
            id,
            folded.state.name(),
            self.guest.name,
            self.guest.company,
            self.guest.email,
            self.guest.phone,
            self.host,
            self.host_name,
            self.purpose,
            card,
            // An expected guest is registered when they come.
            folded.arrived_at.unwrap_or(self.registered_at),
            admitted_at,
            left_at,
            self.registered_by,
            self.expected.as_ref().map(|e| e.day.as_str()),
            self.expected.as_ref().map(|e| e.code.as_str()),
        ])?;
        if let (false, Some(card)) = (folded.extra_cards.is_empty(), card) {
            let mut parties = vec![card.to_string()];
            parties.extend(folded.extra_cards.iter().map(|c| c.to_string()));
            let summary = format!(
                "{} was admitted twice while offline, with cards {}. Card {card} counts for now; give the card they really hold.",
                self.guest.name,
                parties.join(" and ")
            );
            crate::conflict::check::put(
                conn,
                &format!("visit:{}", self.id),
                ConflictKind::VisitAdmittedTwice,
                &self.id.to_string(),
                &parties,
                &card.to_string(),
                &summary,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SiteId;

    fn visit(events: Vec<(i64, VisitChange)>) -> VisitDoc {
        VisitDoc {
            header: Header::new(DocKind::Visit, SiteId::new(), None),
            id: VisitId::new(),
            guest: Guest { name: "Jan".into(), company: "Acme".into(), email: None, phone: None },
            host: PersonId::new(),
            host_name: "Anna".into(),
            purpose: String::new(),
            consent: Consent { text: "ok".into(), given_at: Timestamp::from_millis(0) },
            registered_at: Timestamp::from_millis(0),
            registered_by: "kiosk".into(),
            expected: None,
            events: events
                .into_iter()
                .map(|(at, change)| VisitEvent { id: EventId::new(), at: Timestamp::from_millis(at), by: "desk".into(), change })
                .collect(),
        }
    }

    fn card(n: u32) -> CardNumber {
        CardNumber::new(n).unwrap()
    }

    #[test]
    fn fold_follows_time_not_list_order() {
        let v = visit(vec![(20, VisitChange::Released), (10, VisitChange::Admitted { card: card(105) })]);
        assert_eq!(
            v.fold().state,
            VisitState::Left { card: card(105), admitted_at: Timestamp::from_millis(10), left_at: Timestamp::from_millis(20) }
        );
    }

    #[test]
    fn second_admission_keeps_first_card_and_is_flagged() {
        let v = visit(vec![(10, VisitChange::Admitted { card: card(105) }), (11, VisitChange::Admitted { card: card(106) })]);
        let f = v.fold();
        assert_eq!(f.state, VisitState::Admitted { card: card(105), since: Timestamp::from_millis(10) });
        assert_eq!(f.extra_cards, vec![card(106)]);
    }

    #[test]
    fn reissue_mends_a_double_admission() {
        let v = visit(vec![
            (10, VisitChange::Admitted { card: card(105) }),
            (11, VisitChange::Admitted { card: card(106) }),
            (12, VisitChange::CardReissued { card: card(106) }),
        ]);
        let f = v.fold();
        assert!(f.extra_cards.is_empty());
        assert_eq!(f.state, VisitState::Admitted { card: card(106), since: Timestamp::from_millis(10) });
    }

    #[test]
    fn an_expected_guest_waits_from_their_arrival_and_may_be_admitted_unannounced() {
        let mut v = visit(vec![(30, VisitChange::Admitted { card: card(105) }), (20, VisitChange::Arrived)]);
        assert_eq!(v.fold().state, VisitState::Admitted { card: card(105), since: Timestamp::from_millis(30) }, "a walk-in ignores an arrival");
        v.expected = Some(Expectation { day: "2026-12-03".into(), code: "K7QM-2XPA".into() });
        let f = v.fold();
        assert_eq!((f.state, f.arrived_at), (VisitState::Admitted { card: card(105), since: Timestamp::from_millis(30) }, Some(Timestamp::from_millis(20))));
        v.events.retain(|e| e.change == VisitChange::Arrived);
        assert_eq!(v.fold().state, VisitState::Waiting);
        v.events.clear();
        assert_eq!((v.fold().state, v.fold().arrived_at), (VisitState::Expected, None));
        // Admitted before anyone marked the arrival: admitted, arrived then.
        v.events = visit(vec![(40, VisitChange::Admitted { card: card(106) }), (50, VisitChange::Arrived)]).events;
        let f = v.fold();
        assert_eq!((f.state, f.arrived_at), (VisitState::Admitted { card: card(106), since: Timestamp::from_millis(40) }, Some(Timestamp::from_millis(40))));
    }

    #[test]
    fn release_before_admission_is_ignored() {
        let v = visit(vec![(5, VisitChange::Released)]);
        assert_eq!(v.fold().state, VisitState::Waiting);
    }
}
