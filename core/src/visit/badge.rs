//! What a guest's badge says: name, company, host, the day and the card,
//! and the visit it belongs to (its QR), for a guest in the building only.
//! The app draws it; the rule of who has one lives here.

use serde::{Deserialize, Serialize};

use super::{Error, VisitState};
use crate::ids::VisitId;
use crate::store::Store;

/// A guest's badge, as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GuestBadge {
    /// The visit, whose code the badge's QR holds.
    pub visit: VisitId,
    /// Guest's name.
    pub guest: String,
    /// Guest's company.
    pub company: String,
    /// Host's name.
    pub host: String,
    /// The day admitted, `YYYY-MM-DD` in the site's time zone.
    pub day: String,
    /// The card handed over.
    pub card: u32,
}

impl GuestBadge {
    /// What the badge's QR holds: the visit, so that a desk scanning it
    /// finds the guest.
    pub fn code(&self) -> String {
        format!("LODGE-VISIT-{}", self.visit)
    }
}

impl Store {
    /// The badge of a guest in the building; a guest still waiting has no
    /// card yet, one who left has given it back.
    pub fn guest_badge(&self, visit: VisitId) -> Result<GuestBadge, Error> {
        let v = self.visit(visit)?.ok_or(Error::NotFound(visit))?;
        match v.state {
            VisitState::Admitted { card, since } => {
                let zone = self.site_zone()?;
                Ok(GuestBadge {
                    visit,
                    day: since.to_utc().with_timezone(&zone).format("%Y-%m-%d").to_string(),
                    guest: v.guest_name,
                    company: v.company,
                    host: v.host_name,
                    card: card.get(),
                })
            }
            VisitState::Expected | VisitState::Waiting => Err(Error::NotAdmitted { guest: v.guest_name }),
            VisitState::Left { left_at, .. } => Err(Error::AlreadyLeft { guest: v.guest_name, left_at }),
        }
    }
}
