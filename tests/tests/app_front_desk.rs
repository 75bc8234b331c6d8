//! End-to-end: the real `lodge` app binary under Xvfb, driven through
//! WebDriver (`tauri-driver` + `WebKitWebDriver`), with a real `lodge-sync`
//! on 127.0.0.1 and the virtual PC/SC reader. A kiosk and a reception
//! instance, each with its own store, join the server; the guest registers,
//! reception sees it arrive and admits it with a card tapped on the reader,
//! the evacuation list shows the guest, reception releases the card and is
//! then removed from the site (it deletes the site's data and says so); a
//! staff instance signs in and out, and offline shows what waits. Every
//! screen is photographed and checked with axe-core.

use std::time::Duration;

use anyhow::Context;

use lodge_core::{CardNumber, CardUid, Role};
use lodge_tests::app::{App, Display, ensure_pcscd};
use lodge_tests::virtual_card::VirtualCard;
use lodge_tests::{Device, Server, admin, code, eventually};

const CARD_UID: [u8; 7] = [0x04, 0xA2, 0x24, 0xB1, 0x5C, 0x80, 0x01];

/// The first-run screen, photographed and checked, then joined.
async fn join(app: &App, server: &Server, code: &str, name: &str) -> anyhow::Result<()> {
    app.session.find("#join-server").await?;
    app.screenshot("first-run").await?;
    app.check_accessibility("first run").await?;
    app.join(&server.http_url(), code, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_is_registered_admitted_with_a_card_and_released() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let server_dir = root.path().join("server");
    let site = admin(&server_dir, &["site", "create", "--demo"])?.parse()?;
    let server = Server::start(&server_dir, 0)?;
    let display = Display::start()?;
    ensure_pcscd()?;

    // The site's admin registers the UID of guest card 110.
    let mut admin_device = Device::enrol(&server, root.path(), "admin", &code(&server_dir, site, "admin", None)?).await?;
    eventually("the admin device to get the site", Duration::from_secs(10), || admin_device.read(|s| s.people("Anna").map(|p| !p.is_empty()).unwrap_or(false))).await?;
    let anna = admin_device.read(|s| s.people("Anna"))?.remove(0).id;
    let actor = lodge_core::Actor::site_founder("Test admin");
    admin_device.act(|s| s.register_card(&actor, CardNumber::new(110)?, CardUid::from_bytes(&CARD_UID)?))?;
    eventually("the card UID to reach the server", Duration::from_secs(10), || admin_device.sync.status().waiting == 0).await?;

    // Reception joins first and stays open.
    let reception = App::launch(&display, root.path(), "reception").await?;
    join(&reception, &server, &code(&server_dir, site, "reception", None)?, "Front desk").await?;
    let r = &reception.session;
    // The demo site's own waiting guest arrives with the first sync.
    r.wait_text("Tom Becker").await?;
    r.wait_text("Online").await?;
    reception.screenshot("reception-empty").await?;
    reception.check_accessibility("reception").await?;

    // A guest who registered 25 minutes ago on another lobby tablet (its
    // clock set back) is still waiting: reception is told.
    let then = lodge_core::Clock::now(&lodge_core::SystemClock).millis() - 25 * 60_000;
    let clock = std::sync::Arc::new(lodge_core::ManualClock::new(lodge_core::Timestamp::from_millis(then)));
    let tablet =
        Device::enrol_with_clock(&server.http_url(), &server.ws_url(), root.path(), "old-tablet", &code(&server_dir, site, "kiosk", None)?, clock)
            .await?;
    eventually("the old tablet to get the site", Duration::from_secs(10), || tablet.read(|s| s.site_settings().is_ok_and(|s| s.is_some()))).await?;
    let form = lodge_core::visit::GuestForm { name: "Olga Late".into(), company: "Acme".into(), host: Some(anna), consent: true, ..Default::default() };
    tablet.act(|st| st.register_guest(&tablet.kiosk(), form))?;
    // 25 minutes, or 26 on a slow machine.
    r.wait_until("reception told that Olga Late waited too long", |page| {
        ["25", "26"].iter().any(|m| page.contains(&format!("Olga Late has waited {m} minutes for Anna Kowalska")))
    })
    .await?;
    reception.screenshot("reception-waited-too-long").await?;
    reception.check_accessibility("reception with a guest waiting too long").await?;

    // The kiosk joins and a guest registers.
    let kiosk = App::launch(&display, root.path(), "kiosk").await?;
    join(&kiosk, &server, &code(&server_dir, site, "kiosk", None)?, "Lobby tablet").await?;
    let k = &kiosk.session;
    k.wait_text("Welcome to Lodge Demo House").await?;
    kiosk.screenshot("kiosk-welcome").await?;
    kiosk.check_accessibility("kiosk welcome").await?;
    // Languages switch every string.
    k.click(&k.find_text("button", "Polski").await?).await?;
    k.wait_text("Witamy w Lodge Demo House").await?;
    kiosk.screenshot("kiosk-welcome-polish").await?;
    k.click(&k.find_text("button", "English").await?).await?;
    k.click(&k.find_text("button", "Sign in").await?).await?;

    // Leaving a field empty shows its error as the guest leaves it.
    let name = k.find("#g-name").await?;
    k.click(&name).await?;
    k.click(&k.find("#g-company").await?).await?;
    k.wait_text("Please write your name.").await?;
    kiosk.screenshot("kiosk-form-error").await?;
    kiosk.check_accessibility("kiosk form with an error").await?;
    // Enter goes on to the next field, as on paper; it never sends a
    // half-filled form.
    k.type_into(&name, "Marta Wiśniewska\u{E007}").await?;
    let focused = || async { k.execute("return document.activeElement && document.activeElement.id;", serde_json::json!([])).await };
    assert_eq!(focused().await?.as_str(), Some("g-company"), "Enter in the name field");
    k.type_into(&k.find("#g-company").await?, "Acme\u{E007}").await?;
    assert_eq!(focused().await?.as_str(), Some("g-host"));
    assert!(!k.page_text().await?.contains("Some answers need attention"), "Enter sent the form");
    // The host by keyboard alone: two letters, arrow down, Enter.
    let host = k.find("#g-host").await?;
    k.type_into(&host, "Ann").await?;
    k.find_text("li", "Anna Kowalska").await?;
    kiosk.check_accessibility("kiosk host list open").await?;
    k.type_into(&host, "\u{E015}").await?;
    assert_eq!(k.attribute(&host, "aria-activedescendant").await?.as_deref(), Some("g-host-option-0"));
    k.type_into(&host, "\u{E007}").await?;
    let picked = k.execute("return document.getElementById('g-host').value;", serde_json::json!([])).await?;
    assert_eq!(picked.as_str(), Some("Anna Kowalska"));
    assert_eq!(focused().await?.as_str(), Some("g-host"), "the focus stays in the field after picking");
    k.type_into(&k.find("#g-email").await?, "marta@acme.pl").await?;
    k.click(&k.find("#g-consent").await?).await?;
    kiosk.screenshot("kiosk-form").await?;
    k.click(&k.find_text("button", "Send").await?).await?;
    k.wait_text("Thank you!").await?;
    kiosk.screenshot("kiosk-thanks").await?;
    kiosk.check_accessibility("kiosk thank you").await?;

    // Reception sees the guest arrive, without refreshing.
    let row = r.find_text("strong", "Marta Wiśniewska").await?;
    reception.screenshot("reception-waiting").await?;
    r.click(&row).await?;
    r.wait_text("Admitting Marta Wiśniewska").await?;

    // The card is tapped on the virtual PC/SC reader.
    let card = VirtualCard::tap(&CARD_UID)?;
    // The confirmation shows for four seconds; on a loaded machine the
    // poll may come after it, so the lasting outcome is what is waited
    // for: her row among those inside, with the card.
    r.wait_text("Marta Wiśniewska card 110").await?;
    card.remove();
    reception.screenshot("reception-admitted").await?;
    reception.check_accessibility("reception with a guest in").await?;

    // Her badge, ready to print: the size of a card, her name, company,
    // host and card, and a QR of her visit, drawn in Rust.
    r.click(&r.find("button[aria-label=\"Print a badge for Marta Wiśniewska\"]").await?).await?;
    r.wait_text("Marta Wiśniewska's badge").await?;
    let shown = r
        .execute(
            "const i = document.querySelector('.guest-badge img'); \
             return [decodeURIComponent(i.src.slice(i.src.indexOf(',') + 1)), i.complete && i.naturalWidth > 0];",
            serde_json::json!([]),
        )
        .await?;
    let (svg, drawn): (String, bool) = serde_json::from_value(shown)?;
    for text in ["width=\"85.6mm\"", ">GUEST<", ">Marta Wiśniewska<", ">Acme<", ">Host: Anna Kowalska<", ">Card 110<"] {
        assert!(svg.contains(text), "{text} on the badge: {svg}");
    }
    assert!(drawn, "the badge's image is drawn");
    reception.screenshot("reception-badge").await?;
    reception.check_accessibility("a guest's badge").await?;
    r.click(&r.find_text("button", "Close").await?).await?;
    // The kiosk's own visit reached the server and the desk's admission too.
    eventually("the admission to reach the admin device", Duration::from_secs(10), || {
        admin_device.read(|s| s.guests_in().map(|g| g.iter().any(|v| v.guest_name == "Marta Wiśniewska")).unwrap_or(false))
    })
    .await?;

    // The evacuation list shows the guest.
    r.click(&r.find_text("section[contains(@class, 'actions')]//button", "Evacuation list").await?).await?;
    let evac = r.find("[data-headcount]").await?;
    r.wait_until("the evacuation list to show the guest and the staff", |p| p.contains("Marta Wiśniewska") && p.contains("Anna Kowalska")).await?;
    let headcount: usize = r.text(&evac).await?.trim().parse()?;
    let expected = admin_device.read(|s| s.evacuation_list())?.headcount();
    assert_eq!(headcount, expected, "the evacuation list counts everyone the site has in");
    reception.screenshot("evacuation-list").await?;
    reception.check_accessibility("evacuation list").await?;
    r.click(&r.find_text("button", "Close").await?).await?;

    // A tablet in portrait: picking a guest shows the card field at once,
    // and the evacuation list is one tap away.
    r.set_window_size(768, 1024).await?;
    let shown = |id: &'static str| async move {
        r.execute(&format!("const e = document.getElementById('{id}'); return !!e && e.offsetParent !== null;"), serde_json::json!([])).await
    };
    let resized = std::time::Instant::now();
    while !r.execute("return window.innerWidth;", serde_json::json!([])).await?.as_u64().is_some_and(|w| w <= 900) {
        anyhow::ensure!(resized.elapsed() < Duration::from_secs(10), "the window never became narrow");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shown("typed-card").await?.as_bool(), Some(false), "no guest picked: the queue alone");
    let tom = r.find_text("strong", "Tom Becker").await?;
    r.click(&tom).await?;
    r.wait_text("Admitting Tom Becker").await?;
    assert_eq!(shown("typed-card").await?.as_bool(), Some(true), "a picked guest brings the card field");
    reception.screenshot("reception-portrait-picked").await?;
    reception.check_accessibility("reception in portrait").await?;
    r.click(&tom).await?;
    r.click(&r.find("nav.tabs-small .alert-tab").await?).await?;
    r.find("[data-headcount]").await?;
    r.click(&r.find_text("button", "Close").await?).await?;
    r.set_window_size(1280, 800).await?;
    // Wide again, and the evacuation list gone, before the next click: a
    // click while the layout still changes lands on whatever moved there.
    let resized = std::time::Instant::now();
    while !r
        .execute("return window.innerWidth > 900 && !document.querySelector('[data-headcount]');", serde_json::json!([]))
        .await?
        .as_bool()
        .unwrap_or(false)
    {
        anyhow::ensure!(resized.elapsed() < Duration::from_secs(10), "the window never became wide again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Olga Late is given card 110, which Marta still has: refused, with
    // a button that takes it over (Marta's visit then ends).
    r.click(&r.find_text("strong", "Olga Late").await?).await?;
    r.wait_text("Admitting Olga Late").await?;
    r.type_into(&r.find("#typed-card").await?, "110").await?;
    r.click(&r.find_text("button", "Admit").await?).await?;
    r.wait_text("Card 110 is still with Marta Wiśniewska. Release their card first, or take it over.").await?;
    let take_over = r.find_text("button", "Take card 110 over from Marta Wiśniewska").await?;
    reception.screenshot("reception-take-over").await?;
    reception.check_accessibility("reception offering to take a card over").await?;
    r.click(&take_over).await?;
    r.wait_text("Olga Late card 110").await?;
    r.wait_until("Marta to leave the building's list", |p| !p.contains("Marta Wiśniewska card 110")).await?;

    // A Polish reception hears a refusal in Polish, with its values: Tom
    // Becker offered admin card 705.
    r.click(&r.find_text("option", "Polski").await?).await?;
    r.click(&r.find_text("strong", "Tom Becker").await?).await?;
    r.type_into(&r.find("#typed-card").await?, "705").await?;
    r.click(&r.find("#typed-card ~ button[type=submit]").await?).await?;
    r.wait_text("Karta 705 jest typu „Admin”, a takich kart nie wydaje się gościom. Weź kartę gościa.").await?;
    reception.screenshot("reception-refusal-pl").await?;
    reception.check_accessibility("a refusal in Polish").await?;
    r.click(&r.find_text("option", "English").await?).await?;

    // Card 120 given twice: an office desk offline lets Ida Offline in with
    // it while reception gives it to Tom Becker. When the office comes back
    // both desks show the conflict; reception says Tom really holds it, and
    // Ida's visit ends.
    admin_device.go_offline();
    let ida = lodge_core::visit::GuestForm { name: "Ida Offline".into(), company: "Acme".into(), host: Some(anna), consent: true, ..Default::default() };
    let ida = admin_device.act(|s| s.register_guest(&actor, ida))?;
    let card_120 = CardNumber::new(120)?;
    admin_device.act(|s| s.admit(&actor, lodge_core::visit::AdmitRequest { visit: ida, card: card_120, take_over: false }))?;
    // Tom is still picked after the refusal, the 705 still typed.
    r.wait_text("Admitting Tom Becker").await?;
    r.clear(&r.find("#typed-card").await?).await?;
    r.type_into(&r.find("#typed-card").await?, "120").await?;
    r.click(&r.find_text("button", "Admit").await?).await?;
    r.wait_text("Tom Becker card 120").await?;
    // The admission's note fades where it stands: no button moves under a
    // finger when it goes.
    let buttons = "return Object.fromEntries([...document.querySelectorAll('main button')].map(b => [b.textContent.trim(), Math.round(b.getBoundingClientRect().top)]));";
    r.wait_text("is in with card 120").await?;
    let before = r.execute(buttons, serde_json::json!([])).await?;
    r.wait_until("the admission's note to fade", |p| !p.contains("is in with card 120")).await?;
    let after = r.execute(buttons, serde_json::json!([])).await?;
    assert_eq!(before, after, "buttons moved when the note faded");
    admin_device.go_online(&server);
    // Click once the conflict has arrived (the button counts it).
    r.wait_until("the conflict counted", |p| p.contains("Conflicts 1")).await?;
    r.click(&r.find_text("button", "Conflicts 1").await?).await?;
    let tom_has_it = r.find_starting("button", "Card 120 is with Tom Becker (since").await?;
    r.find_starting("button", "Card 120 is with Ida Offline (since").await?;
    r.wait_text("Card 120 was given to 2 guests while offline.").await?;
    assert!(!r.page_text().await?.contains(" UTC"), "every time in the site's zone");
    reception.screenshot("reception-conflicts").await?;
    reception.check_accessibility("the conflict inbox").await?;
    r.click(&tom_has_it).await?;
    r.wait_text("No conflicts. Everything the devices did fits together.").await?;
    r.click(&r.find_text("button", "Close").await?).await?;
    eventually("Ida's visit to end on the office desk", Duration::from_secs(10), || {
        admin_device.read(|s| s.guests_in().map(|g| g.iter().any(|v| v.guest_name == "Tom Becker") && !g.iter().any(|v| v.guest_name == "Ida Offline")).unwrap_or(false))
    })
    .await?;

    // The guest leaves: release the card.
    r.click(&r.find("[data-release=\"110\"]").await?).await?;
    r.wait_text("Olga Late has left; their card is free.").await?;
    r.wait_until("card 110 to leave the list", |p| !p.contains("card 110")).await?;
    eventually("the card to be free on the admin device", Duration::from_secs(10), || {
        admin_device.read(|s| s.guests_in().map(|g| !g.iter().any(|v| v.guest_name == "Marta Wiśniewska")).unwrap_or(false))
    })
    .await?;
    let left = admin_device.read(|s| s.visit_history(&Default::default()))?;
    assert!(
        left.iter().any(|v| v.guest_name == "Marta Wiśniewska" && matches!(v.state, lodge_core::visit::VisitState::Left { .. })),
        "the visit is recorded as left with its exit time"
    );
    kiosk.quit().await;

    // Removed from the site, the desk deletes the site's data and says so.
    let enrolment: serde_json::Value = serde_json::from_slice(&std::fs::read(reception.data.join("device.json"))?)?;
    let desk_id = enrolment["server"]["device"].as_str().context("the desk's device id")?.to_owned();
    admin(&server_dir, &["devices", "revoke", &desk_id])?;
    r.wait_text("This device was removed from the site").await?;
    r.find("#join-server").await?;
    reception.screenshot("first-run-removed").await?;
    reception.check_accessibility("first run after removal").await?;
    assert!(!reception.data.join("device.json").exists(), "the token was deleted");
    for file in std::fs::read_dir(&reception.data)? {
        let file = file?.path();
        let bytes = std::fs::read(&file)?;
        assert!(!bytes.windows(8).any(|w| w == b"Marta Wi"), "the guest's name is still in {}", file.display());
    }
    reception.quit().await;

    // A staff phone signs in and out in one tap each.
    let staff = App::launch(&display, root.path(), "staff").await?;
    join(&staff, &server, &code(&server_dir, site, "staff", Some(anna))?, "Anna's phone").await?;
    let st = &staff.session;
    st.wait_text("Anna Kowalska").await?;
    // The demo signed Anna in; sign out, then in again.
    st.click(&st.find_text("button", "Sign out").await?).await?;
    st.wait_text("Signed out at").await?;
    staff.screenshot("staff-signed-out").await?;
    staff.check_accessibility("staff phone, out").await?;
    st.click(&st.find_text("button", "Sign in").await?).await?;
    st.wait_text("In since").await?;
    staff.screenshot("staff-signed-in").await?;
    staff.check_accessibility("staff phone, in").await?;
    // Anna expects a guest of her own from her phone (the server writes it).
    st.click(&st.find_text("summary", "Expect a guest").await?).await?;
    st.type_into(&st.find("#x-name").await?, "Piotr Zieliński").await?;
    st.type_into(&st.find("#x-company").await?, "Northwind").await?;
    st.click(&st.find_text("button", "Expect them").await?).await?;
    st.wait_text("Piotr Zieliński is expected on").await?;
    staff.screenshot("staff-expect").await?;
    staff.check_accessibility("staff phone, expecting a guest").await?;
    eventually("the admin to see Piotr expected, for Anna", Duration::from_secs(10), || {
        admin_device.read(|s| s.expected_today().map(|v| v.iter().any(|v| v.guest_name == "Piotr Zieliński" && v.host == anna)).unwrap_or(false))
    })
    .await?;
    eventually("Anna's sign-in to reach the admin device", Duration::from_secs(10), || {
        admin_device.read(|s| s.signed_in_since(anna).map(|t| t.is_some()).unwrap_or(false))
    })
    .await?;
    assert_eq!(admin_device.role, Role::Admin);

    // Offline, what the phone did shows as waiting and not yet sent.
    let mut server = server;
    let port = server.port();
    server.kill();
    st.wait_text("Offline").await?;
    st.click(&st.find_text("button", "Sign out").await?).await?;
    st.wait_text("Signed out at").await?;
    st.click(&st.find_text("button", "Sign in").await?).await?;
    st.wait_text("not yet sent").await?;
    st.wait_until("the count of changes waiting", |p| p.contains("Offline · 1 change waiting")).await?;
    staff.screenshot("staff-offline").await?;
    let _server = Server::start(&server_dir, port)?;
    st.wait_until("the change to go when the server is back", |p| p.contains("Online") && !p.contains("waiting") && !p.contains("not yet sent")).await?;
    staff.quit().await;
    Ok(())
}
