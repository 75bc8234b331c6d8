//! Joining on one's own and leaving: "I work here" (a six-digit code sent
//! to the person's e-mail or phone), a new company's site from an
//! operator's invite, a phone signing itself out of its site, login links
//! for one more phone, the site's join code for its poster, the person's
//! own contact details, and the admin's audit trail.

use serde::{Deserialize, Serialize};
use tauri::State;
use ts_rs::TS;

use lodge_core::person::{ContactChannel, SignInContact};
use lodge_core::sync::api::{AuditEntry, AuditQuery, SignInCodeAsked};
use lodge_core::{NewSite, Role};

use super::admin::joined;
use super::setup::{DeviceInfo, device_info};
use crate::codes::labels;
use crate::desk::Desk;
use crate::error::{Answer, Refusal};
use crate::events::Area;
use crate::setup::{Joined, Setup};

/// "I work here", second step: the code that came.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SignInJoin {
    /// The server, `https://host:port`.
    pub server: String,
    /// The site's join code, from its poster.
    pub site_code: String,
    /// The e-mail address or phone number the code went to.
    pub contact: String,
    /// The six digits.
    pub code: String,
    /// What to call this phone in the admin's list.
    pub device_name: String,
}

/// A new company's site, from an operator's invite.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct InviteStart {
    /// The server, `https://host:port`.
    pub server: String,
    /// The invite code, `INV-…`.
    pub invite_code: String,
    /// The building's name.
    pub site_name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// The first admin's name (also this device's name).
    pub admin_name: String,
}

/// A login link as the screen shows it: the code, and a QR to scan from
/// the new phone's first run.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LoginLinkShown {
    /// The one-time code.
    pub code: String,
    /// Until when.
    pub expires_at: lodge_core::Timestamp,
    /// An SVG QR of `SERVER/enrol?code=CODE`.
    pub qr_svg: String,
}

/// The site's join code, for its poster.
#[derive(Debug, Clone, Serialize, TS)]
pub struct JoinPoster {
    /// Six letters and digits.
    pub code: String,
    /// The server's address, as phones type it.
    pub server: String,
    /// An SVG QR of `SERVER/join?site=CODE`, which "I work here" scans.
    pub qr_svg: String,
}

/// A person's own contact details, as their phone edits them.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct MyContact {
    /// E-mail.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// How they would rather be reminded.
    pub preferred: Option<ContactChannel>,
}

fn server_address(server: &str) -> Answer<String> {
    let server = server.trim().trim_end_matches('/').to_owned();
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(Refusal::new("Write the server's address starting with https:// (or http:// on this computer)."));
    }
    Ok(server)
}

fn ready(desk: &Desk) -> Answer<()> {
    if desk.setup().is_some() {
        return Err(Refusal::new("This device is already set up."));
    }
    Ok(())
}

/// "I work here", first step: a code is sent to the contact, if it is
/// someone's at the site (the answer is the same either way).
#[tauri::command(rename_all = "snake_case")]
pub async fn ask_sign_in_code(desk: State<'_, Desk>, server: String, site_code: String, contact: String) -> Answer<SignInCodeAsked> {
    ready(&desk)?;
    let server = server_address(&server)?;
    // Checked here first with the server's own rule, so a typo is caught offline.
    SignInContact::parse(&contact).map_err(|e| Refusal::new(e.to_string()))?;
    lodge_core::sync::admin::ask_sign_in_code(&server, &site_code, &contact).await.map_err(Refusal::from)
}

/// "I work here", second step: the code enrols this phone for its person.
#[tauri::command(rename_all = "snake_case")]
pub async fn join_by_sign_in_code(desk: State<'_, Desk>, form: SignInJoin) -> Answer<DeviceInfo> {
    ready(&desk)?;
    let server = server_address(&form.server)?;
    let name = form.device_name.trim().to_owned();
    if name.is_empty() {
        return Err(Refusal::new("Give this phone a name (such as “Anna's phone”), so that the admin can tell it apart."));
    }
    let store = desk.store_handle();
    let enrolment = lodge_core::sync::enrol_by_sign_in_code(&server, &form.site_code, &form.contact, &form.code, &name, &store).await?;
    desk.set_setup(Setup {
        role: enrolment.role,
        device_name: name,
        person: enrolment.person,
        server: Some(Joined { url: server, device: enrolment.device, site: enrolment.site, token: enrolment.token }),
    })?;
    desk.start_sync();
    device_info(&desk)?.ok_or_else(|| Refusal::new("The device could not be set up."))
}

/// A new company's site: started here, taken on by the server with the
/// invite, this device its first admin.
#[tauri::command(rename_all = "snake_case")]
pub async fn start_site_with_invite(desk: State<'_, Desk>, form: InviteStart) -> Answer<DeviceInfo> {
    ready(&desk)?;
    let server = server_address(&form.server)?;
    if form.invite_code.trim().is_empty() {
        return Err(Refusal::new("Write the invite code you were given (INV-…)."));
    }
    let admin_name = form.admin_name.trim().to_owned();
    // The site is made here first (as "Start a new site" does); a refused
    // invite leaves it here, unjoined, to redeem again or to use alone.
    if desk.store().site()?.is_none() {
        let admin = lodge_core::Actor::site_founder(&admin_name);
        if admin_name.is_empty() {
            return Err(Refusal::new("Write the first admin's name."));
        }
        desk.store().create_site(&admin, NewSite { name: form.site_name.trim().to_owned(), time_zone: form.time_zone.trim().to_owned() })?;
    }
    let store = desk.store_handle();
    let enrolment = lodge_core::sync::enrol_by_invite(&server, &form.invite_code, &admin_name, &store).await?;
    desk.set_setup(Setup {
        role: Role::Admin,
        device_name: admin_name,
        person: None,
        server: Some(Joined { url: server, device: enrolment.device, site: enrolment.site, token: enrolment.token }),
    })?;
    desk.start_sync();
    desk.changed(&[Area::Site, Area::People]);
    device_info(&desk)?.ok_or_else(|| Refusal::new("The device could not be set up."))
}

/// "Sign this phone out of the site": the server revokes its token, then
/// everything of the site is deleted here and the app starts over. Needs
/// the server: offline, nothing is deleted (a token left alive would let
/// the phone back in).
#[tauri::command(rename_all = "snake_case")]
pub async fn leave_site(app: tauri::AppHandle, desk: State<'_, Desk>) -> Answer<()> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::leave(&j.url, &j.token).await?;
    desk.stop_sync();
    // File work: off the runtime's threads.
    tauri::async_runtime::spawn_blocking(move || {
        use tauri::Manager;
        app.state::<Desk>().wipe()
    })
        .await
        .map_err(|e| Refusal::new(e.to_string()))?
        .map_err(|e| Refusal::new(e.to_string()))?;
    Ok(())
}

fn link_shown(j: &Joined, link: lodge_core::sync::api::LoginLink) -> Answer<LoginLinkShown> {
    let url = format!("{}/enrol?code={}", j.url.trim_end_matches('/'), link.code);
    let qr_svg = labels::qr_svg(&url).map_err(|e| Refusal::new(e.to_string()))?;
    Ok(LoginLinkShown { code: link.code, expires_at: link.expires_at, qr_svg })
}

/// A login link for one more phone of this phone's person.
#[tauri::command(rename_all = "snake_case")]
pub async fn my_login_link(desk: State<'_, Desk>) -> Answer<LoginLinkShown> {
    let j = joined(&desk)?;
    let link = lodge_core::sync::admin::login_link(&j.url, &j.token, None).await?;
    link_shown(&j, link)
}

/// The site's join code and its poster's QR (an admin).
#[tauri::command(rename_all = "snake_case")]
pub async fn site_join_code(desk: State<'_, Desk>) -> Answer<JoinPoster> {
    let j = joined(&desk)?;
    let code = lodge_core::sync::admin::join_code(&j.url, &j.token).await?.code;
    let server = j.url.trim_end_matches('/').to_owned();
    let qr_svg = labels::qr_svg(&format!("{server}/join?site={code}")).map_err(|e| Refusal::new(e.to_string()))?;
    Ok(JoinPoster { code, server, qr_svg })
}

/// A row of the audit trail as the admin reads it: who by name, where
/// this device knows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditRowShown {
    /// The row.
    pub entry: AuditEntry,
    /// The person's name, else the device's, else the operator's id.
    pub who: String,
}

/// The site's audit trail, newest first (an admin), with names.
#[tauri::command(rename_all = "snake_case")]
pub async fn audit_trail(desk: State<'_, Desk>, query: AuditQuery) -> Answer<Vec<AuditRowShown>> {
    let j = joined(&desk)?;
    let rows = lodge_core::sync::admin::audit(&j.url, &j.token, &query).await?;
    // Device names live on the server; a failure to list them costs only the names.
    let devices: std::collections::HashMap<_, _> =
        lodge_core::sync::admin::devices(&j.url, &j.token).await.map(|d| d.into_iter().map(|d| (d.device, d.name)).collect()).unwrap_or_default();
    let store = desk.store();
    rows.into_iter()
        .map(|entry| {
            let person = entry.person.map(|p| store.person(p)).transpose()?.flatten().map(|p| p.name);
            let device = entry.device.and_then(|d| devices.get(&d).cloned());
            let who = person.or(device).or_else(|| entry.operator.clone()).unwrap_or_default();
            Ok(AuditRowShown { entry, who })
        })
        .collect()
}

/// This phone's person's own contact details.
#[tauri::command(async, rename_all = "snake_case")]
pub fn my_contact(desk: State<'_, Desk>) -> Answer<MyContact> {
    let me = desk.setup().and_then(|s| s.person).ok_or_else(|| Refusal::new("This device is nobody's own phone."))?;
    let person = desk.store().person(me)?.ok_or_else(|| Refusal::new("Your details are not on this phone yet; wait for it to sync."))?;
    Ok(MyContact { email: person.email.map(|e| e.as_str().to_owned()), phone: person.phone, preferred: person.preferred_contact })
}

/// Change this phone's person's own contact details.
#[tauri::command(async, rename_all = "snake_case")]
pub fn update_my_contact(desk: State<'_, Desk>, contact: MyContact) -> Answer<MyContact> {
    let me = desk.setup().and_then(|s| s.person).ok_or_else(|| Refusal::new("This device is nobody's own phone."))?;
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    desk.write(&[Area::People], |s, actor| {
        s.update_contact(actor, me, blank(contact.email.clone()), blank(contact.phone.clone()))?;
        s.set_preferred_contact(actor, me, contact.preferred)
    })?;
    my_contact(desk)
}

/// A worker not yet of the site asks to join: a code comes now (their
/// company's domain is allowed, or they are someone already) or once the
/// admin approves; the answer is the same.
#[tauri::command(rename_all = "snake_case")]
pub async fn request_to_join(desk: State<'_, Desk>, server: String, site_code: String, name: String, contact: String) -> Answer<SignInCodeAsked> {
    ready(&desk)?;
    let server = server_address(&server)?;
    SignInContact::parse(&contact).map_err(|e| Refusal::new(e.to_string()))?;
    let request = lodge_core::sync::api::JoinRequest { site_code, name, contact };
    lodge_core::sync::admin::request_to_join(&server, &request).await.map_err(Refusal::from)
}

/// Requests to join waiting for the admin.
#[tauri::command(rename_all = "snake_case")]
pub async fn join_requests(desk: State<'_, Desk>) -> Answer<Vec<lodge_core::sync::api::JoinRequestShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::join_requests(&j.url, &j.token).await.map_err(Refusal::from)
}

/// Approve (the person is made a worker and sent their code) or refuse a
/// request; those still waiting.
#[tauri::command(rename_all = "snake_case")]
pub async fn decide_join_request(desk: State<'_, Desk>, request: i64, approve: bool) -> Answer<Vec<lodge_core::sync::api::JoinRequestShown>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::decide_join_request(&j.url, &j.token, request, approve).await.map_err(Refusal::from)
}

/// The e-mail domains whose people are approved by their code.
#[tauri::command(rename_all = "snake_case")]
pub async fn join_domains(desk: State<'_, Desk>) -> Answer<Vec<String>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::join_domains(&j.url, &j.token).await.map_err(Refusal::from)
}

/// Set those domains; the list as kept.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_join_domains(desk: State<'_, Desk>, domains: Vec<String>) -> Answer<Vec<String>> {
    let j = joined(&desk)?;
    lodge_core::sync::admin::set_join_domains(&j.url, &j.token, &domains).await.map_err(Refusal::from)
}
