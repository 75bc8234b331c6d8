//! First run: start a new site on this device, or join a site with an
//! enrolment code. Also what the UI asks on every start: who is this device,
//! and where does sync stand.

use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use lodge_core::sync::SyncStatus;
use lodge_core::{Actor, NewSite, PersonId, Role};

use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;
use crate::setup::{Joined, Setup};

/// The device as the UI shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceInfo {
    /// Decides the screens.
    pub role: Role,
    /// The device's name.
    pub device_name: String,
    /// Whose phone.
    pub person: Option<PersonId>,
    /// That person's name, once known here.
    pub person_name: Option<String>,
    /// The site's name, once its settings are here.
    pub site_name: Option<String>,
    /// The site's time zone (IANA), for showing times.
    pub time_zone: Option<String>,
    /// The server, when joined.
    pub server: Option<String>,
    /// Whether the phone's person is a fire marshal (who takes roll calls).
    pub marshal: bool,
    /// The site's id (a server adopting a site started here asks for it).
    pub site: Option<lodge_core::SiteId>,
}

/// "Start a new site on this device".
#[derive(Debug, Clone, Deserialize, TS)]
pub struct StartSite {
    /// The building's name.
    pub site_name: String,
    /// IANA time zone, e.g. `Europe/Warsaw`.
    pub time_zone: String,
    /// The first admin's name.
    pub admin_name: String,
    /// Fill the site with demo people, keys and items.
    pub demo: bool,
}

/// "Join a site" with an enrolment code.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct JoinSite {
    /// The server, `https://host:port`.
    pub server: String,
    /// The one-time code.
    pub code: String,
    /// What to call this device.
    pub device_name: String,
}

pub(crate) fn device_info(desk: &Desk) -> Answer<Option<DeviceInfo>> {
    let Some(setup) = desk.setup() else { return Ok(None) };
    let store = desk.store();
    let site = store.site_settings()?;
    let person = match setup.person {
        Some(p) => store.person(p)?,
        None => None,
    };
    Ok(Some(DeviceInfo {
        role: setup.role,
        device_name: setup.device_name,
        person: setup.person,
        person_name: person.as_ref().map(|p| p.name.clone()),
        marshal: person.is_some_and(|p| p.marshal && p.active),
        site_name: site.as_ref().map(|s| s.name.clone()),
        time_zone: site.map(|s| s.time_zone),
        server: setup.server.map(|j| j.url),
        site: store.site()?,
    }))
}

fn set_up(desk: &Desk) -> Answer<DeviceInfo> {
    device_info(desk)?.ok_or_else(|| Refusal::new("The device could not be set up."))
}

/// Who this device is, or nothing before the first run.
#[tauri::command(async, rename_all = "snake_case")]
pub fn device(desk: State<'_, Desk>) -> Answer<Option<DeviceInfo>> {
    device_info(&desk)
}

/// Where sync stands; nothing for a device with no server.
#[tauri::command(async, rename_all = "snake_case")]
pub fn sync_status(desk: State<'_, Desk>) -> Answer<Option<SyncStatus>> {
    Ok(desk.sync_status())
}

/// Start a new site on this device, with no server. The device becomes the
/// site's admin and can show every screen.
#[tauri::command(async, rename_all = "snake_case")]
pub fn start_site(desk: State<'_, Desk>, form: StartSite) -> Answer<DeviceInfo> {
    start_site_here(&desk, form)
}

pub(crate) fn start_site_here(desk: &Desk, form: StartSite) -> Answer<DeviceInfo> {
    if desk.setup().is_some() {
        return Err(Refusal::new("This device is already set up."));
    }
    let admin_name = form.admin_name.trim();
    if admin_name.is_empty() {
        return Err(Refusal::new("Write the first admin's name."));
    }
    {
        let mut store = desk.store();
        if store.site()?.is_none() {
            if form.demo {
                lodge_core::demo::create_demo_site(&mut store).map_err(|e| Refusal::new(e.to_string()))?;
            } else {
                let new = NewSite { name: form.site_name.trim().to_owned(), time_zone: form.time_zone.trim().to_owned() };
                store.create_site(&Actor::site_founder(admin_name), new)?;
            }
        }
    }
    desk.set_setup(Setup { role: Role::Admin, device_name: admin_name.to_owned(), person: None, server: None })?;
    desk.changed(&[Area::Site, Area::People]);
    set_up(desk)
}

/// Join a site: redeem the code at the server, remember the device, start
/// syncing.
#[tauri::command(rename_all = "snake_case")]
pub async fn join_site(desk: State<'_, Desk>, form: JoinSite) -> Answer<DeviceInfo> {
    join_here(&desk, form).await?;
    desk.start_sync();
    set_up(&desk)
}

/// Redeem an enrolment code and record the device's enrolment (the caller
/// starts syncing).
pub async fn join_here(desk: &Desk, form: JoinSite) -> Answer<()> {
    if desk.setup().is_some() {
        return Err(Refusal::new("This device is already set up."));
    }
    let (server, name, enrolment) = redeem(desk, form).await?;
    desk.set_setup(Setup {
        role: enrolment.role,
        device_name: name,
        person: enrolment.person,
        server: Some(Joined { url: server, device: enrolment.device, site: enrolment.site, token: enrolment.token }),
    })
}

async fn redeem(desk: &Desk, form: JoinSite) -> Answer<(String, String, lodge_core::sync::Enrolment)> {
    let server = form.server.trim().trim_end_matches('/').to_owned();
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(Refusal::new("Write the server's address starting with https:// (or http:// on this computer)."));
    }
    // Every device of a site is told apart by its name in the admin's list.
    let name = form.device_name.trim().to_owned();
    if name.is_empty() {
        return Err(Refusal::new("Give this device a name (such as “Front desk” or “Lobby tablet”), so that the admin can tell it apart."));
    }
    let store = desk.store_handle();
    let enrolment = lodge_core::sync::enrol(&server, &form.code, &name, &store).await?;
    Ok((server, name, enrolment))
}

/// A site started on this device joins a server (which adopted it with
/// `lodge-sync site adopt SITE`): everything made here goes up, and the
/// device goes on as the site's admin.
#[tauri::command(rename_all = "snake_case")]
pub async fn connect_site(desk: State<'_, Desk>, form: JoinSite) -> Answer<DeviceInfo> {
    let setup = desk.setup().ok_or_else(|| Refusal::new("This device is not set up yet."))?;
    if setup.server.is_some() {
        return Err(Refusal::new("This device is already joined to a server."));
    }
    let (server, _, enrolment) = redeem(&desk, JoinSite { device_name: setup.device_name.clone(), ..form }).await?;
    if enrolment.role != Role::Admin {
        return Err(Refusal::new("This device holds the whole site: join with an admin code."));
    }
    desk.set_setup(Setup {
        role: Role::Admin,
        device_name: setup.device_name,
        person: None,
        server: Some(Joined { url: server, device: enrolment.device, site: enrolment.site, token: enrolment.token }),
    })?;
    desk.start_sync();
    desk.changed(&[Area::Site]);
    set_up(&desk)
}

/// A join asked for on the command line (`--server --code [--name]`) that
/// failed: the first-run screen shows why, with the fields filled in.
#[derive(Debug, Clone, Serialize, TS)]
pub struct JoinAttempt {
    /// The server it was to join.
    pub server: String,
    /// The code it was given.
    pub code: String,
    /// The name it was given (may be empty).
    pub device_name: String,
    /// Why it did not join.
    pub problem: String,
}

/// The command line's join that failed, if any.
#[tauri::command(rename_all = "snake_case")]
pub fn failed_join(desk: State<'_, Desk>) -> Answer<Option<JoinAttempt>> {
    Ok(desk.failed_join())
}
