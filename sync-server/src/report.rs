//! `lodge-sync report`: a site's statistics, visits and who is in now, read
//! from the server's own copy of the site (its projections), as JSON for
//! other systems or CSV for a spreadsheet. Times in CSV are the site's.

use lodge_core::Store;
use lodge_core::retention::DailyCount;
use lodge_core::visit::VisitSearch;

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// JSON, for other systems.
    Json,
    /// CSV, for a spreadsheet.
    Csv,
}

/// What a report can be about.
#[derive(Debug, Clone)]
pub enum Report {
    /// Daily figures of the days `from` to `to` (`YYYY-MM-DD`, included).
    Stats { from: String, to: String },
    /// Visits registered in the days `from` to `to`, newest first.
    Visits { from: String, to: String },
    /// Everyone in the building now.
    Presence,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period is not one.
    #[error(transparent)]
    Period(#[from] lodge_core::statistics::PeriodError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] lodge_core::StoreError),
    /// The site's time zone is not one this build knows.
    #[error(transparent)]
    Zone(#[from] lodge_core::site::Error),
    /// JSON could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The most visits one report lists.
const MAX_VISITS: u32 = 1_000_000;

/// The report, written; statistics count `kept` for what retention erased
/// (the site's daily counts, as the registry sums them over instances).
pub fn write(store: &Store, report: &Report, format: ReportFormat, kept: &[DailyCount]) -> Result<String, ReportError> {
    let zone = store.site_settings()?.map_or_else(|| "UTC".to_owned(), |s| s.time_zone);
    Ok(match report {
        Report::Stats { from, to } => {
            let stats = store.statistics_counting(from, to, kept)?;
            match format {
                ReportFormat::Json => serde_json::to_string_pretty(&stats)?,
                ReportFormat::Csv => stats.csv(),
            }
        }
        Report::Visits { from, to } => {
            let (from, to) = store.period_bounds(from, to)?;
            let search = VisitSearch { from: Some(from), to: Some(to), limit: Some(MAX_VISITS), ..Default::default() };
            let visits = store.visit_history(&search)?;
            match format {
                ReportFormat::Json => serde_json::to_string_pretty(&visits)?,
                ReportFormat::Csv => lodge_core::visit::visits_csv(&visits, &zone)?,
            }
        }
        Report::Presence => {
            let list = store.evacuation_list()?;
            match format {
                ReportFormat::Json => serde_json::to_string_pretty(&list)?,
                ReportFormat::Csv => list.csv(&zone)?,
            }
        }
    })
}
