//! End-to-end: announcements in the real `lodge` app under Xvfb, through
//! WebDriver, against a real `lodge-sync`. Reception sends an emergency
//! from its Announcements screen; a staff phone shows it as an alert banner
//! above its screen and acknowledges it with "I have seen this"; reception
//! then shows it read by Anna. When Anna's guest is let in, her phone
//! alone shows "Your guest is here". Each new screen is photographed and checked
//! with axe-core. (The system notification the phone also raises is not
//! observable under Xvfb: the banner is what is checked.)

use std::time::Duration;

use lodge_tests::app::{App, Display};
use lodge_tests::{Device, Server, admin, code, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reception_sends_an_emergency_a_phone_acknowledges_it_and_reception_sees_it_read() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let server_dir = root.path().join("server");
    let site = admin(&server_dir, &["site", "create", "--demo"])?.parse()?;
    let mail_folder = tempfile::tempdir()?;
    let mailbox = lodge_tests::mailbox::Mailbox::start(mail_folder.path())?;
    let server = Server::start_with(&server_dir, &["--smtp-url", &mailbox.url(), "--mail-from", "Lodge <lodge@demo.lodge>"])?;
    let display = Display::start()?;

    let admin_device = Device::enrol(&server, root.path(), "admin", &code(&server_dir, site, "admin", None)?).await?;
    eventually("the admin device to get the site", Duration::from_secs(10), || admin_device.read(|s| s.people("Anna").map(|p| !p.is_empty()).unwrap_or(false))).await?;
    let anna = admin_device.read(|s| s.people("Anna"))?.remove(0).id;

    let reception = App::launch(&display, root.path(), "reception").await?;
    reception.join(&server.http_url(), &code(&server_dir, site, "reception", None)?, "Front desk").await?;
    let r = &reception.session;
    r.wait_text("Online").await?;
    let phone = App::launch(&display, root.path(), "anna-phone").await?;
    phone.join(&server.http_url(), &code(&server_dir, site, "staff", Some(anna))?, "Anna's phone").await?;
    let p = &phone.session;
    p.wait_text("Anna Kowalska").await?;
    p.wait_text("Online").await?;

    // Reception writes an emergency to everyone in the building.
    r.click(&r.find_text("button", "Announcements").await?).await?;
    r.wait_text("Send an announcement").await?;
    reception.screenshot("announce-form").await?;
    reception.check_accessibility("the announcement form").await?;
    // Nothing written: refused next to the form, nothing sent.
    r.click(&r.find_text("button", "Send announcement").await?).await?;
    r.wait_text("Write what the announcement says before sending it.").await?;
    r.wait_text("Nothing sent yet.").await?;
    r.click(&r.find_text("label", "Emergency").await?).await?;
    r.type_into(&r.find("#announce-heading").await?, "Fire drill").await?;
    r.type_into(&r.find("#announce-text").await?, "Leave by the nearest exit and meet at the car park.").await?;
    r.click(&r.find_text("button", "Send emergency").await?).await?;
    r.wait_text("Sent. Devices that are offline get it when they reconnect.").await?;
    r.wait_text("Read by 0 of").await?;
    r.wait_text("Nobody has said they have seen it yet.").await?;
    reception.screenshot("announce-sent").await?;
    reception.check_accessibility("sent announcements").await?;

    // The phone shows it above its own screen, as an alert.
    p.find("section.banner.emergency[role=alert]").await?;
    p.wait_text("Leave by the nearest exit and meet at the car park.").await?;
    p.wait_text("From Front desk").await?;
    phone.screenshot("announce-banner-phone").await?;
    phone.check_accessibility("the phone with an emergency banner").await?;
    p.click(&p.find_text("button", "I have seen this").await?).await?;
    p.wait_until("the banner to go", |page| !page.contains("Leave by the nearest exit")).await?;
    // The focus went back to the screen, not lost on a removed button.
    let focused = p.execute("return document.activeElement && document.activeElement.tagName;", serde_json::json!([])).await?;
    assert_eq!(focused.as_str(), Some("MAIN"), "focus after acknowledging: {focused}");

    // Reception sees who has read it.
    r.wait_text("Read by 1 of").await?;
    r.wait_text("Anna Kowalska (").await?;
    // And, asking the server, who was told by e-mail (the demo's people
    // inside have addresses; the server sends through the test's mailbox).
    eventually("Anna's mail arrives", Duration::from_secs(20), || {
        mailbox.mails().iter().any(|m| m.header("To").is_some_and(|to| to.contains("anna@demo.lodge")))
    })
    .await?;
    // The server records the send just after the relay took it: asked
    // again until it says so.
    let mut sent = false;
    for _ in 0..20 {
        r.click(&r.find_text("button", "Who was told by e-mail or text?").await?).await?;
        r.wait_text("Anna Kowalska: e-mail").await?;
        if r.page_text().await?.contains("Anna Kowalska: e-mail sent at") {
            sent = true;
            break;
        }
    }
    assert!(sent, "Anna's mail is listed as sent");
    reception.screenshot("announce-read").await?;
    reception.check_accessibility("an announcement read").await?;
    eventually("the read to reach the admin device", Duration::from_secs(10), || {
        admin_device.read(|s| s.announcements_reach().map(|all| all.iter().any(|a| a.people_read == 1)).unwrap_or(false))
    })
    .await?;

    // Anna's guest is let in (at the admin's desk): her phone says so, in
    // a banner of its own, and nobody else's screen does.
    let desk = lodge_core::Actor { person: None, device: Some(admin_device.id), name: "Admin".into(), role: lodge_core::Role::Admin };
    admin_device.act(|s| -> anyhow::Result<()> {
        let form = lodge_core::visit::GuestForm { name: "Jan Guest".into(), company: "Acme".into(), host: Some(anna), consent: true, ..Default::default() };
        let visit = s.register_guest(&desk, form)?;
        // A guest card the demo's visits do not hold.
        let admitted = (150..200).any(|n| {
            let card = lodge_core::CardNumber::new(n).expect("a card number");
            s.admit(&desk, lodge_core::visit::AdmitRequest { visit, card, take_over: false }).is_ok()
        });
        anyhow::ensure!(admitted, "no free guest card");
        Ok(())
    })?;
    p.wait_text("Your guest is here").await?;
    p.wait_text("Jan Guest from Acme was let in at reception.").await?;
    p.wait_text("From Lodge").await?;
    phone.screenshot("host-notice-phone").await?;
    phone.check_accessibility("the phone told that its guest is here").await?;
    assert!(!r.page_text().await?.contains("Your guest is here"), "reception shows Anna's notice");
    p.click(&p.find_text("button", "I have seen this").await?).await?;
    p.wait_until("the notice to go", |page| !page.contains("Your guest is here")).await?;

    phone.quit().await;
    reception.quit().await;
    Ok(())
}
