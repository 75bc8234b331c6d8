//! Announcements on every screen: the banners this device has not yet
//! acknowledged, "I have seen this", the desks' "Send an announcement" form
//! and its "read by N of M"; and a phone's own end-of-day reminder, which
//! needs no network: the site's reminder time, its time zone and whether
//! the person is in are all in the phone's store.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use lodge_core::announcement::{Announcement, NewAnnouncement, Reach};
use lodge_core::site::Department;
use lodge_core::{AnnouncementId, Role, Timestamp};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;

/// What the "Send an announcement" form offers.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AnnouncementDesk {
    /// Departments an announcement may be sent to.
    pub departments: Vec<Department>,
    /// What was sent, newest first, with who has read it.
    pub sent: Vec<Reach>,
}

/// The banners this device shows.
#[tauri::command(async, rename_all = "snake_case")]
pub fn active_announcements(desk: State<'_, Desk>) -> Answer<Vec<Announcement>> {
    let actor = desk.actor()?;
    desk.read(|s| s.active_announcements(&actor))
}

/// "I have seen this."
#[tauri::command(async, rename_all = "snake_case")]
pub fn acknowledge_announcement(desk: State<'_, Desk>, id: AnnouncementId) -> Answer<()> {
    desk.write(&[Area::Announcements], |s, actor| s.acknowledge(actor, id))
}

/// Send an announcement or an emergency.
#[tauri::command(async, rename_all = "snake_case")]
pub fn announce(desk: State<'_, Desk>, form: NewAnnouncement) -> Answer<AnnouncementId> {
    desk.write(&[Area::Announcements], |s, actor| s.announce(actor, form))
}

/// The form's choices and the list of sent announcements.
#[tauri::command(async, rename_all = "snake_case")]
pub fn announcement_desk(desk: State<'_, Desk>) -> Answer<AnnouncementDesk> {
    desk.read(|s| -> Result<AnnouncementDesk, lodge_core::StoreError> {
        Ok(AnnouncementDesk { departments: s.departments()?, sent: s.announcements_reach()? })
    })
}

/// A phone's end-of-day reminder, due now.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct EndOfDayReminder {
    /// When it was due (the site's reminder time today).
    pub due_at: Timestamp,
    /// The person signed in since.
    pub signed_in_since: Timestamp,
}

/// The file in the data directory that remembers the last day reminded.
const REMINDED_FILE: &str = "reminded-on";

/// Whether to remind now: a phone whose person is in, at or after today's
/// reminder time, and not yet reminded today.
pub fn reminder_is_due(now: Timestamp, due_at: Timestamp, today: NaiveDate, last_reminded: Option<NaiveDate>) -> bool {
    now >= due_at && last_reminded != Some(today)
}

fn last_reminded(dir: &Path) -> Option<NaiveDate> {
    let text = std::fs::read_to_string(dir.join(REMINDED_FILE)).ok()?;
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// The end-of-day reminder, once per day: `Some` the first time this is
/// asked at or after the site's reminder time on a staff or worker phone
/// whose person is signed in, `None` otherwise. Offline as online.
#[tauri::command(async, rename_all = "snake_case")]
pub fn end_of_day_reminder(desk: State<'_, Desk>) -> Answer<Option<EndOfDayReminder>> {
    let Some(setup) = desk.setup() else { return Ok(None) };
    let (Role::Staff | Role::Worker, Some(person)) = (setup.role, setup.person) else { return Ok(None) };
    let (settings, since, now) = {
        let store = desk.store();
        (store.site_settings()?, store.signed_in_since(person)?, store.now())
    };
    let (Some(settings), Some(since)) = (settings, since) else { return Ok(None) };
    let local = |e: lodge_core::site::Error| Refusal::from(e);
    let today = lodge_core::site::local_date(&settings.time_zone, now).map_err(local)?;
    let due_at = settings.reminder_due_on(today).map_err(local)?;
    if !reminder_is_due(now, due_at, today, last_reminded(desk.dir())) {
        return Ok(None);
    }
    std::fs::write(desk.dir().join(REMINDED_FILE), today.format("%Y-%m-%d").to_string())
        .map_err(|e| Refusal::new(format!("The reminder could not be noted on this device: {e}")))?;
    Ok(Some(EndOfDayReminder { due_at, signed_in_since: since }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reminder_comes_once_a_day_from_its_time_on() {
        let day = NaiveDate::from_ymd_opt(2027, 10, 31).unwrap();
        let due = lodge_core::site::reminder_at("Europe/Warsaw", "17:00", day).unwrap();
        let before = Timestamp::from_millis(due.millis() - 1);
        assert!(!reminder_is_due(before, due, day, None));
        assert!(reminder_is_due(due, due, day, None));
        assert!(reminder_is_due(due, due, day, day.pred_opt()));
        assert!(!reminder_is_due(due, due, day, Some(day)), "at most once a day");
    }

    #[test]
    fn the_last_day_reminded_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(last_reminded(dir.path()), None);
        std::fs::write(dir.path().join(REMINDED_FILE), "2027-10-31").unwrap();
        assert_eq!(last_reminded(dir.path()), NaiveDate::from_ymd_opt(2027, 10, 31));
    }
}

/// Who an announcement reached by e-mail or text, as the server knows it
/// (it sends those messages): for the desk or admin that sent it.
#[tauri::command(rename_all = "snake_case")]
pub async fn announcement_deliveries(desk: State<'_, Desk>, id: AnnouncementId) -> Answer<Vec<lodge_core::notice::Delivery>> {
    let j = super::admin::joined(&desk)?;
    lodge_core::sync::admin::announcement_deliveries(&j.url, &j.token, id).await.map_err(Refusal::from)
}
