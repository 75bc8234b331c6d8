//! The admin device's API on a real `lodge-sync`: the site's devices (and
//! no other site's), one-time codes that enrol, revoking a device (it is
//! disconnected and told to wipe), and refusals for other roles, bad tokens
//! and other sites' devices.

use std::time::Duration;

use lodge_core::Role;
use lodge_core::sync::{AdminError, ApiErrorKind, Connection, admin as api};
use lodge_tests::{Device, Server, code, create_site, eventually};

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_device_lists_enrols_and_removes_only_its_sites_devices() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let data = root.path().join("server");
    let site = create_site(&data, "Lodge House")?;
    let other = create_site(&data, "Elsewhere")?;
    let server = Server::start(&data, 0)?;
    let url = server.http_url();

    let admin = Device::enrol(&server, root.path(), "office", &code(&data, site, "admin", None)?).await?;
    let desk = Device::enrol(&server, root.path(), "desk", &code(&data, site, "reception", None)?).await?;
    let stranger = Device::enrol(&server, root.path(), "stranger", &code(&data, other, "admin", None)?).await?;

    // The site's devices, not the other site's.
    let listed = api::devices(&url, &admin.token).await?;
    let names: Vec<&str> = listed.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["desk", "office"]);
    assert!(listed.iter().all(|d| d.revoked_at.is_none()));

    // A code made through the API enrols a kiosk of this site, once.
    let made = api::create_code(&url, &admin.token, Role::Kiosk, None, 30).await?;
    let kiosk = Device::enrol(&server, root.path(), "lobby", &made.code).await?;
    assert_eq!(kiosk.role, Role::Kiosk);
    assert!(Device::enrol(&server, root.path(), "again", &made.code).await.is_err(), "a code works once");
    let e = api::create_code(&url, &admin.token, Role::Worker, None, 30).await.unwrap_err();
    assert!(matches!(&e, AdminError::Refused { kind: ApiErrorKind::UnknownPerson, .. }), "{e:?}");
    assert!(e.to_string().contains("must name the person"), "{e}");

    // Other roles, bad tokens and other sites are refused.
    match api::devices(&url, &desk.token).await {
        Err(AdminError::Refused { kind: ApiErrorKind::Forbidden, message }) => assert!(message.contains("A reception device cannot do this"), "{message}"),
        other => panic!("a reception device listed devices: {other:?}"),
    }
    match api::devices(&url, "not-a-token").await {
        Err(AdminError::Refused { kind: ApiErrorKind::Unauthorized, message }) => assert!(message.contains("not enrolled"), "{message}"),
        other => panic!("a bad token listed devices: {other:?}"),
    }
    let e = api::revoke(&url, &stranger.token, kiosk.id).await.unwrap_err();
    assert!(e.to_string().contains("no device"), "another site's admin cannot remove this site's kiosk: {e}");

    // Removing the kiosk disconnects it at once and tells it to wipe.
    eventually("the kiosk to be online", LIMIT, || kiosk.sync.status().connection == Connection::Online).await?;
    let removed = api::revoke(&url, &admin.token, kiosk.id).await?;
    assert!(removed.revoked_at.is_some());
    eventually("the kiosk to be told to wipe", LIMIT, || kiosk.sync.status().connection == Connection::Revoked).await?;
    let listed = api::devices(&url, &admin.token).await?;
    assert!(listed.iter().any(|d| d.name == "lobby" && d.revoked_at.is_some()));
    assert_ne!(desk.sync.status().connection, Connection::Revoked);
    Ok(())
}

/// Who is in the building, for another system: the server's own copy as JSON
/// or CSV, over plain HTTP with an admin or reception token, nothing for
/// anyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_in_the_building_comes_as_json_or_csv_for_admin_and_reception_only() -> anyhow::Result<()> {
    use lodge_core::visit::{AdmitRequest, GuestForm};
    let s = lodge_tests::site::TestSite::start_in("Europe/Warsaw", |data| Server::start(data, 0)).await;
    let founder = s.founder();
    s.admin.act(|st| st.sign_in(&founder, s.host))?;
    let form = GuestForm { name: "Marta Wiśniewska".into(), company: "Acme, Ltd".into(), host: Some(s.host), consent: true, ..Default::default() };
    let visit = s.admin.act(|st| st.register_guest(&founder, form))?;
    s.admin.act(|st| st.admit(&founder, AdmitRequest { visit, card: lodge_core::CardNumber::new(105).unwrap(), take_over: false }))?;
    lodge_tests::site::settled(&s.admin).await;
    let desk = s.device("desk", "reception", None).await;
    let phone = s.device("anna-phone", "staff", Some(s.host)).await;

    let http = reqwest::Client::new();
    let url = format!("{}{}", s.server.http_url(), lodge_core::sync::api::ADMIN_PRESENCE_PATH);
    let get = |token: &str, query: &'static str| http.get(format!("{url}{query}")).bearer_auth(token.to_owned()).send();

    let json: lodge_core::EvacuationList = get(&s.admin.token, "").await?.error_for_status()?.json().await?;
    assert_eq!(json.people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Anna Kowalska"]);
    assert_eq!(json.guests.iter().map(|g| g.guest_name.as_str()).collect::<Vec<_>>(), ["Marta Wiśniewska"]);

    let answer = get(&desk.token, "?format=csv").await?.error_for_status()?;
    assert_eq!(answer.headers()[reqwest::header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = answer.text().await?;
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().collect::<Result<_, _>>()?;
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!((&rows[0][0], &rows[0][1]), ("staff", "Anna Kowalska"));
    assert_eq!((&rows[1][0], &rows[1][1], &rows[1][2], &rows[1][3], &rows[1][4]), ("guest", "Marta Wiśniewska", "Acme, Ltd", "105", "Anna Kowalska"));

    // The same list from the command line, from the server's copy of the site.
    let site = s.site.to_string();
    let printed: lodge_core::EvacuationList = serde_json::from_str(&lodge_tests::admin(&s.server.data, &["report", "presence", "--site", &site])?)?;
    assert_eq!(printed.guests.iter().map(|g| g.guest_name.as_str()).collect::<Vec<_>>(), ["Marta Wiśniewska"]);
    let printed = lodge_tests::admin(&s.server.data, &["report", "presence", "--site", &site, "--format", "csv"])?;
    assert_eq!(printed.trim_end(), text.trim_end());

    // A staff phone, a bad token and a bad format are refused.
    assert_eq!(get(&phone.token, "").await?.status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(get("not-a-token", "").await?.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(get(&s.admin.token, "?format=xlsx").await?.status(), reqwest::StatusCode::BAD_REQUEST);
    Ok(())
}

/// The admin's list of devices says which are connected now, when the
/// others were last in touch, how many changes wait for each, and which app
/// each named in its hello (kept short and printable: it comes from the
/// device).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devices_list_shows_last_contact_changes_waiting_and_app_version() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let data = root.path().join("server");
    let site = create_site(&data, "Lodge House")?;
    let server = Server::start(&data, 0)?;
    let url = server.http_url();
    let admin = Device::enrol(&server, root.path(), "office", &code(&data, site, "admin", None)?).await?;
    let mut desk = Device::enrol(&server, root.path(), "desk", &code(&data, site, "reception", None)?).await?;
    // The desk's app names itself, with a bell and far too much after it.
    desk.go_offline();
    // Two people added while it is away: its hello names an older feed
    // number than the one it leaves with.
    let founder = lodge_core::Actor { person: None, device: Some(admin.id), name: "Office".into(), role: Role::Admin };
    for name in ["Ana Lis", "Bo Ek"] {
        admin.act(|s| s.create_person(&founder, lodge_core::person::PersonForm { name: name.into(), ..Default::default() }))?;
    }
    eventually("the two people to reach the server", LIMIT, || admin.sync.status().waiting == 0).await?;
    const APP: &str = concat!("lodge-test 9.9\u{7}", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    let options = lodge_core::sync::ClientOptions { app: Some(APP), ..Default::default() };
    desk.sync = lodge_core::sync::spawn_with(desk.store.clone(), server.ws_url(), desk.token.clone(), options);
    eventually("the desk to be online", LIMIT, || desk.sync.status().connection == Connection::Online).await?;
    eventually("the desk to have the two people", LIMIT, || desk.read(|s| s.people("").map_or(0, |p| p.len())) >= 2).await?;

    let listed = api::devices(&url, &admin.token).await?;
    let d = listed.iter().find(|d| d.name == "desk").expect("the desk is listed");
    assert!(d.connected, "{d:?}");
    assert_eq!(d.changes_waiting, Some(0));
    let app = d.app_version.as_deref().expect("the desk's app");
    assert!(app.starts_with("lodge-test 9.9x") && app.chars().count() == lodge_core::sync::MAX_APP_CHARS && !app.contains('\u{7}'), "{app:?}");
    assert!(d.last_contact.is_some());

    // Offline: when it left, and what has waited for it since. Asked as
    // often as the server answers, so that a list showing it gone before
    // its contact was recorded (the changes since its hello as waiting)
    // is caught.
    desk.go_offline();
    let mut gone = None;
    for _ in 0..2000 {
        let listed = api::devices(&url, &admin.token).await?;
        if let Some(d) = listed.into_iter().find(|d| d.name == "desk" && !d.connected) {
            gone = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let left = gone.expect("the desk shown as gone");
    assert_eq!(left.changes_waiting, Some(0), "nothing changed since it left");
    admin.act(|s| s.create_person(&founder, lodge_core::person::PersonForm { name: "Ewa Nowa".into(), ..Default::default() }))?;
    let mut waiting = 0;
    for _ in 0..100 {
        let listed = api::devices(&url, &admin.token).await?;
        waiting = listed.iter().find(|d| d.name == "desk").and_then(|d| d.changes_waiting).unwrap_or(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(waiting >= 1, "the new person waits for the desk");
    let listed = api::devices(&url, &admin.token).await?;
    let office = listed.iter().find(|d| d.name == "office").expect("the office");
    assert!(office.connected && office.app_version.is_none(), "a client that names no app: {office:?}");
    Ok(())
}
