//! Visit history for the admin: search past and present visits, one visit's
//! timeline (who did what, when), and the list exported as CSV; and the
//! same timeline for any record on its page; the statistics of a period.

use tauri::State;

use lodge_core::statistics::Statistics;
use lodge_core::visit::{Visit, VisitSearch};
use lodge_core::{DocChange, DocId, VisitId};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};

/// Visits matching the search, newest first.
#[tauri::command(async, rename_all = "snake_case")]
pub fn visit_history(desk: State<'_, Desk>, search: VisitSearch) -> Answer<Vec<Visit>> {
    desk.read(|s| s.visit_history(&search))
}

/// Every change of one visit, oldest first: registered, admitted, left…
#[tauri::command(async, rename_all = "snake_case")]
pub fn visit_timeline(desk: State<'_, Desk>, visit: VisitId) -> Answer<Vec<DocChange>> {
    Ok(desk.store().change_history(&DocId::visit(visit))?)
}

/// Every change of one record this device holds (a key, an item, a
/// ticket, a person), oldest first: who did what, when. A device has only
/// the records it may read, so it may read their history.
#[tauri::command(async, rename_all = "snake_case")]
pub fn change_history(desk: State<'_, Desk>, doc: DocId) -> Answer<Vec<DocChange>> {
    Ok(desk.store().change_history(&doc)?)
}

/// The visits matching the search written as a CSV file in the downloads
/// folder (times in the site's zone); the file's path.
#[tauri::command(async, rename_all = "snake_case")]
pub fn export_visits(desk: State<'_, Desk>, search: VisitSearch) -> Answer<String> {
    let (visits, zone) = desk.read(|s| {
        let zone = s.site_settings()?.map_or_else(|| "UTC".to_owned(), |x| x.time_zone);
        Ok::<_, lodge_core::StoreError>((s.visit_history(&VisitSearch { limit: Some(search.limit.unwrap_or(100_000)), ..search })?, zone))
    })?;
    let text = lodge_core::visit::visits_csv(&visits, &zone)?;
    let dir = desk.export_dir();
    let today = desk.store().now().to_utc().format("%Y-%m-%d-%H%M%S");
    let path = dir.join(format!("lodge-visits-{today}.csv"));
    std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)).map_err(|e| Refusal::new(format!("The file could not be written in {}: {e}.", dir.display())))?;
    Ok(path.display().to_string())
}

/// The statistics of the days `from` to `to` (`YYYY-MM-DD`, both included,
/// in the site's time zone): what the admin's charts draw.
#[tauri::command(async, rename_all = "snake_case")]
pub fn statistics(desk: State<'_, Desk>, from: String, to: String) -> Answer<Statistics> {
    desk.read(|s| s.statistics(&from, &to))
}

/// The period's daily figures written as a CSV file in the downloads
/// folder; the file's path.
#[tauri::command(async, rename_all = "snake_case")]
pub fn export_statistics(desk: State<'_, Desk>, from: String, to: String) -> Answer<String> {
    let figures = desk.read(|s| s.statistics(&from, &to))?;
    let dir = desk.export_dir();
    let path = dir.join(format!("lodge-statistics-{}-{}.csv", figures.from, figures.to));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, figures.csv()))
        .map_err(|e| Refusal::new(format!("The file could not be written in {}: {e}.", dir.display())))?;
    Ok(path.display().to_string())
}
