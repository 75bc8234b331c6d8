//! Retention's erasure reports, shared by every instance: what an admin
//! reads (`GET /admin/retention/reports`, `lodge-sync retention report`)
//! whichever instance ran the sweep. A sweep records its report in the
//! store that erased, then each store copies its new reports here, each
//! once (by the store's own number), numbered here for every instance.

use std::collections::HashMap;

use lodge_core::retention::ErasureRecord;
use lodge_core::{DeviceId, SiteId};
use rusqlite::params;

use super::{Registry, RegistryError};

impl Registry {
    /// Copy the reports of the store `store` of `site` that are not here
    /// yet (`records`: all of the store's, any order).
    pub fn copy_erasure_records(&self, site: SiteId, store: &str, records: &[ErasureRecord]) -> Result<(), RegistryError> {
        let tx = self.db.transaction_by_rows()?;
        let copied: i64 = tx.query_one(
            "SELECT CAST(COALESCE(MAX(store_report_id), 0) AS BIGINT) FROM erasure_reports WHERE site_id = ?1 AND store_id = ?2",
            params![site, store],
            |r| r.get(0),
        )?;
        for record in records.iter().filter(|r| r.id > copied) {
            let id: Option<i64> = tx.query_opt(
                "INSERT INTO erasure_reports (site_id, store_id, store_report_id, ran_at, visits, presence_months, feed_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (site_id, store_id, store_report_id) DO NOTHING RETURNING report_id",
                params![
                    site,
                    store,
                    record.id,
                    record.ran_at,
                    i64::from(record.visits),
                    i64::from(record.presence_months),
                    record.feed_seq.map(|s| i64::try_from(s).unwrap_or(i64::MAX))
                ],
                |r| r.get(0),
            )?;
            let Some(id) = id else { continue };
            for device in &record.devices {
                tx.execute(
                    "INSERT INTO erasure_report_devices (report_id, device_id) VALUES (?1, ?2) ON CONFLICT (report_id, device_id) DO NOTHING",
                    params![id, device],
                )?;
            }
        }
        tx.commit()
    }

    /// The number here of the store's report `store_report_id`, once copied.
    pub fn erasure_record_id(&self, site: SiteId, store: &str, store_report_id: i64) -> Result<Option<i64>, RegistryError> {
        self.db.query_opt(
            "SELECT report_id FROM erasure_reports WHERE site_id = ?1 AND store_id = ?2 AND store_report_id = ?3",
            params![site, store, store_report_id],
            |r| r.get(0),
        )
    }

    /// Every report of `site`, from every instance, newest first, under
    /// the numbers given here.
    pub fn erasure_records(&self, site: SiteId) -> Result<Vec<ErasureRecord>, RegistryError> {
        let mut records = self.db.query(
            "SELECT report_id, ran_at, visits, presence_months, feed_seq FROM erasure_reports WHERE site_id = ?1 ORDER BY ran_at DESC, report_id DESC",
            params![site],
            |r| {
                Ok(ErasureRecord {
                    id: r.get(0)?,
                    ran_at: r.get(1)?,
                    visits: u32::try_from(r.get::<i64>(2)?).unwrap_or(u32::MAX),
                    presence_months: u32::try_from(r.get::<i64>(3)?).unwrap_or(u32::MAX),
                    feed_seq: r.get::<Option<i64>>(4)?.map(|s| s.max(0) as u64),
                    devices: Vec::new(),
                })
            },
        )?;
        let mut told: HashMap<i64, Vec<DeviceId>> = HashMap::new();
        for (id, device) in self.db.query(
            "SELECT d.report_id, d.device_id FROM erasure_report_devices d JOIN erasure_reports r ON r.report_id = d.report_id
             WHERE r.site_id = ?1 ORDER BY d.device_id",
            params![site],
            |r| Ok((r.get::<i64>(0)?, r.get::<DeviceId>(1)?)),
        )? {
            told.entry(id).or_default().push(device);
        }
        for record in &mut records {
            record.devices = told.remove(&record.id).unwrap_or_default();
        }
        Ok(records)
    }
}
