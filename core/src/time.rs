//! Time: every stored time is a UTC instant in milliseconds ([`Timestamp`]),
//! and "now" comes from a [`Clock`] passed in, so tests and benchmarks can
//! fix it and a device with a wrong clock is a thing we can reproduce.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use chrono::{DateTime, Utc};
use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

/// A UTC instant, milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }
    /// This instant plus whole days.
    pub fn plus_days(self, days: u32) -> Self {
        Self(self.0 + i64::from(days) * 86_400_000)
    }
    /// As a chrono date-time.
    pub fn to_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }
    /// The calendar month (UTC) this instant falls in, as `YYYY-MM`: presence
    /// documents are one per person and month.
    pub fn month(self) -> String {
        self.to_utc().format("%Y-%m").to_string()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_millis())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_utc().format("%Y-%m-%d %H:%M UTC"))
    }
}

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_i64().map(Self)
    }
}

impl Reconcile for Timestamp {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.timestamp(self.0)
    }
}

impl Hydrate for Timestamp {
    fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
        Ok(Self(t))
    }
    fn hydrate_int(i: i64) -> Result<Self, HydrateError> {
        Ok(Self(i))
    }
}

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The device's own clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().into()
    }
}

/// A clock that starts at a given instant and runs at real speed: for a
/// server under test that must live through a given moment (17:00 on the
/// day the clocks change) without waiting for it.
#[derive(Debug, Clone, Copy)]
pub struct StartedClock {
    start: Timestamp,
    at: std::time::Instant,
}

impl StartedClock {
    /// A clock that reads `start` now.
    pub fn new(start: Timestamp) -> Self {
        Self { start, at: std::time::Instant::now() }
    }
}

impl Clock for StartedClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.start.0 + self.at.elapsed().as_millis() as i64)
    }
}

/// A clock that only moves when told to: for tests, seeding and benchmarks.
/// Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(start.millis())))
    }
    /// Move the clock forward (or back) by `ms` milliseconds.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    /// Set the clock.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_is_utc_calendar_month() {
        // 2026-11-30 23:30 UTC
        let t = Timestamp::from_millis(1_796_081_400_000);
        assert_eq!(t.month(), "2026-11");
        assert_eq!(t.plus_days(1).month(), "2026-12");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_millis(1000));
        let c2 = c.clone();
        c.advance(500);
        assert_eq!(c2.now().millis(), 1500);
    }
}
