//! A staff member joins on their own, through the real app's screens under
//! Xvfb and WebDriver, against a real `lodge-sync` and a real SMTP server:
//! "I work here", the e-mail with the six-digit code, the code typed, and
//! the phone is hers; one tap signs her in and reception's evacuation list
//! (who is in the building) names her. On "This phone" she changes her own
//! number (it reaches the admin), makes a login link for one more phone,
//! and signs the phone out of the site: the server refuses it from then on
//! and the phone is back at first run with the site's data gone.

use lodge_tests::app::{App, Display};
use lodge_tests::mailbox::Mailbox;
use lodge_tests::site::{LIMIT, TestSite};
use lodge_tests::{Server, code, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_joins_by_a_mailed_code_through_the_app_and_reception_sees_her_in() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let mailbox = Mailbox::start(folder.path())?;
    let url = mailbox.url();
    let s = TestSite::start_with(|data| Server::start_with(data, &["--smtp-url", &url, "--mail-from", "Lodge <lodge@lodge.test>"])).await;
    let http = s.server.http_url();
    let site_code = lodge_core::sync::admin::join_code(&http, &s.admin.token).await?.code;
    let display = Display::start()?;

    let desk = App::launch(&display, s.dir.path(), "desk").await?;
    desk.join(&http, &code(&s.server.data, s.site, "reception", None)?, "Front desk").await?;
    let d = &desk.session;
    d.wait_text("Waiting").await?;

    // "I work here": server, the poster's code, her e-mail, a name for the phone.
    let phone = App::launch(&display, s.dir.path(), "phone").await?;
    let p = &phone.session;
    p.type_into(&p.find("#work-server").await?, &http).await?;
    p.type_into(&p.find("#work-site").await?, &site_code).await?;
    p.type_into(&p.find("#work-contact").await?, "anna@lodge.test").await?;
    p.type_into(&p.find("#work-name").await?, "Anna's phone").await?;
    p.click(&p.find_text("button", "Send me a code").await?).await?;
    p.wait_text("If anna@lodge.test belongs to someone at Lodge House, a code is on its way to it. It works for 10 minutes.").await?;
    phone.screenshot("first-run-code-sent").await?;
    phone.check_accessibility("first run, the code sent").await?;

    eventually("the code arrives", LIMIT, || mailbox.mails().iter().any(|m| m.raw.contains("anna@lodge.test"))).await?;
    let subject = mailbox.mails().into_iter().find(|m| m.raw.contains("anna@lodge.test")).and_then(|m| m.subject()).unwrap();
    let digits: String = subject.split(": ").nth(1).unwrap().chars().take(6).collect();
    // A wrong code first: said in words, and the form stays.
    let wrong = if digits == "000000" { "111111" } else { "000000" };
    p.type_into(&p.find("#work-code").await?, wrong).await?;
    p.click(&p.find_text("button", "Sign in").await?).await?;
    p.wait_text("This code is not right, or it was used or expired. Check it, or ask for a new one.").await?;
    p.clear(&p.find("#work-code").await?).await?;
    p.type_into(&p.find("#work-code").await?, &digits).await?;
    p.click(&p.find_text("button", "Sign in").await?).await?;

    // Her phone now: her name, one tap to sign in.
    p.wait_text("Anna Kowalska").await?;
    p.click(&p.find_text("button", "Sign in").await?).await?;
    p.wait_text("In since").await?;
    let devices = lodge_core::sync::admin::devices(&http, &s.admin.token).await?;
    let enrolled = devices.iter().find(|x| x.name == "Anna's phone").expect("the phone is on the admin's list");
    assert_eq!((enrolled.role, enrolled.person), (lodge_core::Role::Staff, Some(s.host)));

    // Reception: who is in the building.
    d.click(&d.find_text("section[contains(@class, 'actions')]//button", "Evacuation list").await?).await?;
    d.wait_until("the evacuation list to name her", |page| page.contains("Anna Kowalska")).await?;
    desk.screenshot("reception-joined-staff-in").await?;

    // This phone: her own number, which reaches the admin.
    p.click(&p.find_text("button", "This phone").await?).await?;
    // Her details as the admin wrote them, once the screen has read them.
    let started = std::time::Instant::now();
    loop {
        let email = p.execute("return document.getElementById('me-email')?.value ?? '';", serde_json::json!([])).await?;
        if email.as_str() == Some("anna@lodge.test") {
            break;
        }
        assert!(started.elapsed() < LIMIT, "her e-mail is not shown: {email}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    p.type_into(&p.find("#me-phone").await?, "+48 600 100 200").await?;
    p.click(&p.find_text("label", "Text message").await?).await?;
    p.click(&p.find_text("button", "Save").await?).await?;
    p.wait_text("Saved.").await?;
    eventually("the admin sees her number and that she would rather get texts", LIMIT, || {
        s.admin.read(|st| {
            st.person(s.host).unwrap().is_some_and(|x| x.phone.as_deref() == Some("+48 600 100 200") && x.preferred_contact == Some(lodge_core::person::ContactChannel::Sms))
        })
    })
    .await?;
    // The server kept it: nothing of hers waits in "Needs attention".
    p.wait_until("no refused change", |page| !page.contains("Needs attention")).await?;
    // A login link for one more phone.
    p.click(&p.find_text("button", "Make a login link").await?).await?;
    p.wait_until("the link's code to show", |page| page.contains("works until")).await?;
    let svg: String = serde_json::from_value(p.execute("return document.querySelector('.login-qr svg').outerHTML;", serde_json::json!([])).await?)?;
    assert!(svg.starts_with("<svg") && (svg.contains("<path") || svg.contains("<rect")), "a QR: {svg}");
    phone.screenshot("this-phone").await?;
    phone.check_accessibility("this phone").await?;

    // Sign the phone out of the site: refused from then on, back to first run.
    p.click(&p.find_text("button", "Sign this phone out of the site").await?).await?;
    p.click(&p.find_text("button", "Yes, sign this phone out").await?).await?;
    p.wait_text("I work here").await?;
    let devices = lodge_core::sync::admin::devices(&http, &s.admin.token).await?;
    assert!(devices.iter().find(|x| x.name == "Anna's phone").unwrap().revoked_at.is_some(), "revoked at the server");
    let left: Vec<_> = std::fs::read_dir(&phone.data)?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    for file in std::fs::read_dir(&phone.data)?.flatten() {
        let bytes = std::fs::read(file.path())?;
        assert!(!bytes.windows(13).any(|w| w == b"Anna Kowalska"), "her name is still in {} ({left:?})", file.path().display());
    }
    phone.quit().await;
    desk.quit().await;

    // A worker who is nobody here yet asks to join; the admin approves on
    // the Joining tab, which shows the poster's code and the audit trail.
    let newcomer = App::launch(&display, s.dir.path(), "newcomer").await?;
    let n = &newcomer.session;
    n.type_into(&n.find("#work-server").await?, &http).await?;
    n.type_into(&n.find("#work-site").await?, &site_code).await?;
    n.click(&n.find_text("label", "I am new: ask to join").await?).await?;
    n.type_into(&n.find("#work-full-name").await?, "Piotr Nowak").await?;
    n.type_into(&n.find("#work-contact").await?, "piotr@north.test").await?;
    n.type_into(&n.find("#work-name").await?, "Piotr's phone").await?;
    n.click(&n.find_text("button", "Ask to join").await?).await?;
    n.wait_text("Your request to join Lodge House is sent.").await?;

    let office = App::launch(&display, s.dir.path(), "office").await?;
    office.join(&http, &code(&s.server.data, s.site, "admin", None)?, "Office").await?;
    let o = &office.session;
    o.click(&o.find_text("button", "Joining").await?).await?;
    o.wait_text("Piotr Nowak").await?;
    o.wait_text(&site_code).await?;
    o.wait_until("the audit trail with addresses and names", |page| {
        page.lines().any(|l| l.contains("sign-in-code-redeemed") && l.contains("127.0.0.1") && l.contains("Anna Kowalska")) && page.contains("join-request")
    })
    .await?;
    office.screenshot("admin-joining").await?;
    office.check_accessibility("the admin's joining tab").await?;

    // The poster for the staff room: what to do, the QR, and what to type
    // without a camera; printed alone (print CSS), closed again.
    o.click(&o.find_text("button", "Print the poster").await?).await?;
    o.wait_text("Work here? Sign in on your phone").await?;
    let poster = o.text(&o.find(".join-poster").await?).await?;
    assert!(poster.contains("Lodge House") && poster.contains("Choose “I work here” and scan this code."), "{poster}");
    assert!(poster.contains(&site_code) && poster.contains(&http), "the poster names the code and the server: {poster}");
    assert_eq!(o.all(".join-poster .poster-qr svg").await?.len(), 1, "the poster's QR");
    office.screenshot("admin-join-poster").await?;
    office.check_accessibility("the join poster").await?;
    o.click(&o.find(".join-poster button:not(.primary)").await?).await?;
    o.wait_until("the poster closed", |page| !page.contains("Work here? Sign in on your phone")).await?;
    o.click(&o.find_text("button", "Approve").await?).await?;
    o.wait_text("Nobody is waiting to join.").await?;

    eventually("Piotr's code arrives", LIMIT, || mailbox.mails().iter().any(|m| m.raw.contains("piotr@north.test"))).await?;
    let subject = mailbox.mails().into_iter().find(|m| m.raw.contains("piotr@north.test")).and_then(|m| m.subject()).unwrap();
    let digits: String = subject.split(": ").nth(1).unwrap().chars().take(6).collect();
    n.type_into(&n.find("#work-code").await?, &digits).await?;
    n.click(&n.find_text("button", "Sign in").await?).await?;
    n.wait_text("Piotr Nowak").await?;
    let devices = lodge_core::sync::admin::devices(&http, &s.admin.token).await?;
    assert_eq!(devices.iter().find(|x| x.name == "Piotr's phone").map(|x| x.role), Some(lodge_core::Role::Worker));
    newcomer.quit().await;
    office.quit().await;
    Ok(())
}
