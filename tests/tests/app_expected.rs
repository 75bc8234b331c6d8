//! End to end, as people do it: reception expects a guest (name, company,
//! e-mail, host); the guest's invitation reaches a real SMTP server with
//! its code; at the lobby kiosk the guest types the code, finds the form
//! filled, agrees and sends; reception sees them move from "Expected
//! today" to the queue. A guest with no e-mail is marked "Arrived" at the
//! desk and picked for a card at once. Every screen is checked with axe.

use std::time::Duration;

use lodge_tests::app::{App, Display};
use lodge_tests::mailbox::Mailbox;
use lodge_tests::{Server, admin, code, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expected_guest_checks_in_at_the_kiosk_with_the_code_from_their_invitation() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let server_dir = root.path().join("server");
    let site = admin(&server_dir, &["site", "create", "--demo"])?.parse()?;
    let folder = tempfile::tempdir()?;
    let mailbox = Mailbox::start(folder.path())?;
    let mut server = Server::start_with(&server_dir, &["--smtp-url", &mailbox.url(), "--mail-from", "Lodge <lodge@demo.lodge>"])?;
    let display = Display::start()?;

    let reception = App::launch(&display, root.path(), "reception").await?;
    reception.join(&server.http_url(), &code(&server_dir, site, "reception", None)?, "Front desk").await?;
    let r = &reception.session;
    r.wait_text("Tom Becker").await?;
    r.wait_text("Nobody else is expected today.").await?;

    // Reception expects Marta for Anna, today.
    r.click(&r.find_text("button", "Expect a guest").await?).await?;
    r.type_into(&r.find("#x-name").await?, "Marta Wiśniewska").await?;
    r.type_into(&r.find("#x-company").await?, "Acme").await?;
    r.type_into(&r.find("#x-email").await?, "marta@acme.test").await?;
    r.click(&r.find_text("option", "Anna Kowalska").await?).await?;
    reception.check_accessibility("expect a guest").await?;
    r.click(&r.find_text("button", "Expect them").await?).await?;
    r.wait_text("goes to marta@acme.test").await?;
    let page = r.page_text().await?;
    let code_of = page.split("with code ").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("the invitation's code on screen").to_owned();
    reception.screenshot("reception-expect").await?;
    r.click(&r.find_text("button", "Close").await?).await?;
    r.wait_until("Marta under expected today", |p| p.contains("Expected today 1") && p.contains(&format!("code {code_of}"))).await?;
    reception.screenshot("reception-expected").await?;
    reception.check_accessibility("reception with an expected guest").await?;

    // Her invitation, by e-mail, with the code and its QR.
    eventually("the invitation to arrive", Duration::from_secs(20), || mailbox.mails().iter().any(|m| m.raw.contains("marta@acme.test"))).await?;
    let mail = mailbox.mails().into_iter().find(|m| m.raw.contains("marta@acme.test")).expect("the invitation");
    assert!(mail.raw.contains(&code_of) && mail.raw.contains("lodge-invitation.png"), "{}", mail.raw);

    // At the kiosk: a wrong code first, then what her QR holds.
    let kiosk = App::launch(&display, root.path(), "kiosk").await?;
    kiosk.join(&server.http_url(), &code(&server_dir, site, "kiosk", None)?, "Lobby").await?;
    let k = &kiosk.session;
    k.click(&k.find_text("button", "I have an invitation").await?).await?;
    k.type_into(&k.find("#i-code").await?, "AAAA-AAAA").await?;
    k.click(&k.find_text("button", "Find my invitation").await?).await?;
    k.wait_text("This code is not for today.").await?;
    kiosk.screenshot("kiosk-invitation").await?;
    kiosk.check_accessibility("kiosk invitation").await?;
    // The QR attached to her e-mail, read by the kiosk's own decoder (the
    // camera's frames go the same way; there is no camera here), holds her
    // code, and is what she enters.
    let attachment = mail.raw.split("lodge-invitation.png").nth(1).and_then(|rest| rest.split_once("\r\n\r\n")).map(|(_, body)| body).expect("the attachment's body");
    let png: String = attachment.split("\r\n--").next().unwrap_or_default().split_whitespace().collect();
    let read = k
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI_INTERNALS__.invoke('read_code', { image: arguments[0] }).then(done, (e) => done({ error: String(e) }));",
            serde_json::json!([format!("data:image/png;base64,{png}")]),
        )
        .await?;
    let scanned = read["text"].as_str().unwrap_or_default().to_owned();
    assert_eq!((scanned.as_str(), read["format"].as_str()), (format!("LODGE-INVITE-{code_of}").as_str(), Some("QR_CODE")), "{read}");
    k.clear(&k.find("#i-code").await?).await?;
    k.type_into(&k.find("#i-code").await?, &scanned).await?;
    k.click(&k.find_text("button", "Find my invitation").await?).await?;
    k.wait_text("Tell us who you are").await?;
    let filled = k
        .execute("return ['g-name', 'g-company', 'g-host', 'g-email'].map(id => document.getElementById(id).value);", serde_json::json!([]))
        .await?;
    let filled: Vec<String> = serde_json::from_value(filled)?;
    assert_eq!(filled, ["Marta Wiśniewska", "Acme", "Anna Kowalska", "marta@acme.test"]);
    kiosk.screenshot("kiosk-invited-form").await?;
    kiosk.check_accessibility("kiosk form filled from an invitation").await?;
    k.click(&k.find("#g-consent").await?).await?;
    k.click(&k.find_text("button", "Send").await?).await?;
    k.wait_text("Thank you").await?;

    // Reception: Marta waits in the queue, no longer expected.
    r.wait_until("Marta in the queue", |p| p.contains("Waiting 2") && p.contains("Expected today 0")).await?;
    r.find_text("strong", "Marta Wiśniewska").await?;

    // A guest with no e-mail: their code is said on screen; at the desk, "Arrived".
    r.click(&r.find_text("button", "Expect a guest").await?).await?;
    r.type_into(&r.find("#x-name").await?, "Piotr Zieliński").await?;
    r.type_into(&r.find("#x-company").await?, "Northwind").await?;
    r.click(&r.find_text("option", "Anna Kowalska").await?).await?;
    r.click(&r.find_text("button", "Expect them").await?).await?;
    r.wait_text("give it to them yourself").await?;
    r.click(&r.find_text("button", "Close").await?).await?;
    r.click(&r.find("button[aria-label=\"Piotr Zieliński has arrived\"]").await?).await?;
    r.wait_text("Admitting Piotr Zieliński").await?;
    r.wait_until("Piotr in the queue", |p| p.contains("Waiting 3") && p.contains("Expected today 0")).await?;

    // With the server away, the kiosk cannot read an invitation: it says so
    // and offers the form instead.
    server.kill();
    // The thank-you goes back to the welcome by itself.
    k.click(&k.find_text("button", "I have an invitation").await?).await?;
    k.type_into(&k.find("#i-code").await?, &code_of).await?;
    k.click(&k.find_text("button", "Find my invitation").await?).await?;
    k.wait_text("Invitations cannot be read right now. Please fill in the form instead.").await?;
    k.click(&k.find_text("button", "Fill in the form").await?).await?;
    k.wait_text("Tell us who you are").await?;
    kiosk.quit().await;
    reception.quit().await;
    Ok(())
}
