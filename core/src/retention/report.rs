//! Erasure reports, kept in the server's store of a site: one per sweep,
//! saying when it ran, how many documents of each kind it erased (no
//! names), the change-feed number of its last deletion and which devices
//! were told of it. Whether each device has confirmed is the server's to
//! say: it knows how far each device has applied the feed.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::Erased;
use crate::ids::DeviceId;
use crate::store::{Error, Store};
use crate::time::Timestamp;

/// One sweep's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// Its number in this site.
    pub id: i64,
    /// When it ran.
    pub ran_at: Timestamp,
    /// Visits erased.
    pub visits: u32,
    /// Presence months erased.
    pub presence_months: u32,
    /// The change-feed number of its last deletion (`None`: it erased
    /// nothing).
    pub feed_seq: Option<u64>,
    /// The devices that were told (those that may have held one of the
    /// documents), by id.
    pub devices: Vec<DeviceId>,
}

impl Store {
    /// Keep the record of a sweep that ran at `ran_at`.
    pub fn record_erasure(&mut self, ran_at: Timestamp, erased: &Erased, feed_seq: Option<u64>, devices: &[DeviceId]) -> Result<i64, Error> {
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            "INSERT INTO erasure_reports (ran_at, visits, presence_months, feed_seq) VALUES (?1, ?2, ?3, ?4)",
            params![ran_at, erased.visits, erased.presence_months, feed_seq.map(|s| s as i64)],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut told = tx.prepare_cached("INSERT OR IGNORE INTO erasure_report_devices (report_id, device_id) VALUES (?1, ?2)")?;
            for device in devices {
                told.execute(params![id, device])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Every sweep's record, newest first.
    pub fn erasure_records(&self) -> Result<Vec<ErasureRecord>, Error> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT report_id, ran_at, visits, presence_months, feed_seq FROM erasure_reports ORDER BY report_id DESC")?;
        let rows = stmt.query_map([], |r| {
            Ok(ErasureRecord {
                id: r.get(0)?,
                ran_at: r.get(1)?,
                visits: r.get(2)?,
                presence_months: r.get(3)?,
                feed_seq: r.get::<_, Option<i64>>(4)?.map(|s| s as u64),
                devices: Vec::new(),
            })
        })?;
        let mut records: Vec<ErasureRecord> = rows.collect::<Result<_, _>>()?;
        let mut told = self.conn().prepare_cached("SELECT device_id FROM erasure_report_devices WHERE report_id = ?1 ORDER BY device_id")?;
        for record in &mut records {
            record.devices = told.query_map([record.id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        }
        Ok(records)
    }

}
