//! Retention's anonymous daily counts, shared by every instance: what the
//! admins' devices are sent (see `lodge_core::sync::ServerMessage::KeptCounts`).
//! A sweep keeps its counts in the store that erased, in the erasing
//! transaction; each store then copies all of its counts here under its
//! own name, replacing its earlier copy, so that a copy made again (after
//! a crash between the two) adds nothing twice.

use lodge_core::SiteId;
use lodge_core::retention::{DailyCount, Measure};
use rusqlite::params;

use super::{Registry, RegistryError};

impl Registry {
    /// Put `counts`, all of those the store `store` keeps for `site`, in
    /// place of its earlier copy.
    pub fn copy_kept_counts(&self, site: SiteId, store: &str, counts: &[DailyCount]) -> Result<(), RegistryError> {
        // Every open of a site that ever erased copies its counts: most
        // times they are here already, and a read is all it costs.
        let here: Vec<(String, String, i64)> = self.db.query(
            "SELECT day, measure, count FROM kept_counts WHERE site_id = ?1 AND store_id = ?2",
            params![site, store],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut here: Vec<(&str, &str, i64)> = here.iter().map(|(d, m, c)| (d.as_str(), m.as_str(), *c)).collect();
        let mut copying: Vec<(&str, &str, i64)> = counts.iter().map(|c| (c.day.as_str(), c.measure.as_str(), i64::try_from(c.count).unwrap_or(i64::MAX))).collect();
        here.sort_unstable();
        copying.sort_unstable();
        if here == copying {
            return Ok(());
        }
        let tx = self.db.transaction_by_rows()?;
        tx.execute("DELETE FROM kept_counts WHERE site_id = ?1 AND store_id = ?2", params![site, store])?;
        for c in counts {
            let count = i64::try_from(c.count).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT INTO kept_counts (site_id, store_id, day, measure, count) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![site, store, c.day, c.measure.as_str(), count],
            )?;
        }
        tx.commit()
    }

    /// The site's counts, summed over its stores, by day and measure.
    pub fn kept_counts(&self, site: SiteId) -> Result<Vec<DailyCount>, RegistryError> {
        let rows = self.db.query(
            "SELECT day, measure, CAST(SUM(count) AS BIGINT) FROM kept_counts WHERE site_id = ?1 GROUP BY day, measure ORDER BY day, measure",
            params![site],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)),
        )?;
        // A measure this build does not know (a newer instance's) is left
        // for that build.
        Ok(rows
            .into_iter()
            .filter_map(|(day, measure, count)| Some(DailyCount { day, measure: Measure::parse(&measure)?, count: count.max(0) as u64 }))
            .collect())
    }
}
