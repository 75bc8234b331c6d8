//! End-to-end: a roll call in the real `lodge` app under Xvfb, through
//! WebDriver, against a real `lodge-sync`. Reception starts it in one tap;
//! two fire marshals' phones mark people, one of them in a basement with
//! no signal (its link to the server cut); when the signal is back, the
//! desk and both phones show the same list, the same counts and the same
//! marks. Reception then ends it and reads the report. Each screen is
//! photographed and checked with axe-core.

use std::time::Duration;

use lodge_tests::app::{App, Display};
use lodge_tests::link::Link;
use lodge_tests::{Device, Server, admin, code, eventually};

/// The roll call's list as a screen shows it (what each device must agree on).
async fn list_text(app: &App) -> anyhow::Result<String> {
    let v = app.session.execute("return document.querySelector('main.rollcall').innerText;", serde_json::json!([])).await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_marshals_one_offline_mark_a_roll_call_and_every_device_ends_with_the_same_list() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let server_dir = root.path().join("server");
    let site = admin(&server_dir, &["site", "create", "--demo"])?.parse()?;
    let server = Server::start_with(&server_dir, &[])?;
    let display = Display::start()?;
    let admin_device = Device::enrol(&server, root.path(), "admin", &code(&server_dir, site, "admin", None)?).await?;
    eventually("the admin device to get the site", Duration::from_secs(10), || admin_device.read(|s| s.people("Olena").map(|p| !p.is_empty()).unwrap_or(false))).await?;
    let person = |name: &str| admin_device.read(|s| s.people(name)).map(|mut p| p.remove(0).id);
    let (anna, olena) = (person("Anna")?, person("Olena")?);

    let reception = App::launch(&display, root.path(), "reception").await?;
    reception.join(&server.http_url(), &code(&server_dir, site, "reception", None)?, "Front desk").await?;
    let r = &reception.session;
    r.wait_text("Online").await?;
    let anna_phone = App::launch(&display, root.path(), "anna-phone").await?;
    anna_phone.join(&server.http_url(), &code(&server_dir, site, "staff", Some(anna))?, "Anna's phone").await?;
    let a = &anna_phone.session;
    a.wait_text("Online").await?;
    // Olena's phone reaches the server through a link the test can cut.
    let basement = Link::start(server.port())?;
    let olena_phone = App::launch(&display, root.path(), "olena-phone").await?;
    olena_phone.join(&basement.url(), &code(&server_dir, site, "staff", Some(olena))?, "Olena's phone").await?;
    let o = &olena_phone.session;
    o.wait_text("Online").await?;

    // One tap at reception: everyone the site believes is in.
    r.click(&r.find_text("button", "Roll call").await?).await?;
    r.wait_text("No roll call is running.").await?;
    reception.check_accessibility("the roll call, none running").await?;
    r.click(&r.find_text("button", "Start roll call").await?).await?;
    r.wait_text("0 of 4 accounted for").await?;
    r.wait_text("Engineering · missing: 2").await?;
    for name in ["Anna Kowalska", "Jan Nowak", "Olena Shevchenko", "Maria Garcia"] {
        r.wait_text(name).await?;
    }
    r.wait_text("card 105 · for Anna Kowalska").await?;
    reception.screenshot("roll-call-started").await?;
    reception.check_accessibility("a running roll call").await?;

    // Both marshals' phones are told, on whatever screen they are.
    for p in [a, o] {
        p.wait_text("Roll call running: 0 of 4 accounted for").await?;
        p.click(&p.find_text("button", "Open the roll call").await?).await?;
        p.wait_text("0 of 4 accounted for").await?;
    }
    anna_phone.screenshot("roll-call-phone").await?;
    anna_phone.check_accessibility("the roll call on a marshal's phone").await?;

    // Olena goes down to the basement: no signal. She marks the guest safe
    // and Jan not here today; her phone counts them at once.
    basement.cut();
    o.wait_text("Offline").await?;
    o.click(&o.find("button[aria-label='Safe: Maria Garcia']").await?).await?;
    o.wait_text("1 of 4 accounted for").await?;
    o.click(&o.find("button[aria-label='Not here today: Jan Nowak']").await?).await?;
    o.wait_text("2 of 4 accounted for").await?;
    olena_phone.screenshot("roll-call-offline").await?;

    // Meanwhile Anna, online, marks herself and the same guest safe: not a
    // conflict. Reception sees her marks live, not Olena's yet.
    a.click(&a.find("button[aria-label='Safe: Anna Kowalska']").await?).await?;
    a.click(&a.find("button[aria-label='Safe: Maria Garcia']").await?).await?;
    a.wait_text("2 of 4 accounted for").await?;
    r.wait_text("2 of 4 accounted for").await?;
    // Jan is still unmarked there: his row still offers "Not here today".
    r.find("button[aria-label='Not here today: Jan Nowak']").await?;

    // Signal again: every device ends with the same list.
    basement.restore();
    for p in [r, a, o] {
        // The offline phone retries with a backoff of up to 30 s.
        let settled = p.wait_text("3 of 4 accounted for").await;
        if settled.is_err() {
            p.wait_text("3 of 4 accounted for").await?;
        }
    }
    o.wait_text("Online").await?;
    let lists = [list_text(&reception).await?, list_text(&anna_phone).await?, list_text(&olena_phone).await?];
    assert!(lists[0].contains("Olena Shevchenko"), "{}", lists[0]);
    assert_eq!(lists[0], lists[1], "reception and Anna's phone");
    assert_eq!(lists[0], lists[2], "reception and Olena's phone");
    // The one still missing is on top.
    let first_name = lists[0].lines().find(|l| ["Anna Kowalska", "Jan Nowak", "Olena Shevchenko", "Maria Garcia"].contains(l)).unwrap_or_default().to_owned();
    assert_eq!(first_name, "Olena Shevchenko", "{}", lists[0]);
    assert!(lists[0].contains("Not here today · marked"), "{}", lists[0]);
    assert!(lists[0].contains("by Olena Shevchenko"), "Olena's offline mark reached everyone: {}", lists[0]);
    eventually("the admin device to get every mark", Duration::from_secs(20), || {
        admin_device.read(|s| s.running_roll_call().ok().flatten().is_some_and(|c| c.summary.safe == 2 && c.summary.not_here == 1))
    })
    .await?;
    assert!(admin_device.read(|s| s.conflicts())?.is_empty(), "two marshals marking one guest is not a conflict");
    reception.screenshot("roll-call-merged").await?;

    // Reception ends it: kept as the site's report.
    r.click(&r.find_text("button", "End roll call").await?).await?;
    r.wait_text("Not yet accounted for: 1. End the roll call and keep it as a report?").await?;
    r.click(&r.find_text("button", "End and keep the report").await?).await?;
    r.wait_text("No roll call is running.").await?;
    r.wait_text("Past roll calls").await?;
    r.click(&r.find("section[aria-labelledby='rollcall-reports'] button").await?).await?;
    r.wait_text("Safe: 2 · not here today: 1 · missing: 1").await?;
    reception.screenshot("roll-call-report").await?;
    reception.check_accessibility("a roll call's report").await?;
    // The phones' bars go with it.
    a.wait_until("the roll call to end on Anna's phone", |page| page.contains("No roll call is running.")).await?;

    // A marshal's phone starts the next one itself: it holds nobody's
    // presence, so the server lists who is in and starts it in her name.
    a.click(&a.find_text("button", "Start roll call").await?).await?;
    a.wait_until("the roll call Anna's phone started", |p| p.contains("accounted for") && p.contains("by Anna Kowalska") && p.contains("Maria Garcia")).await?;
    r.wait_until("reception to see it running", |p| p.contains("accounted for") && p.contains("by Anna Kowalska")).await?;
    anna_phone.screenshot("roll-call-phone-started").await?;
    anna_phone.check_accessibility("a roll call started from a marshal's phone").await?;

    olena_phone.quit().await;
    anna_phone.quit().await;
    reception.quit().await;
    Ok(())
}
