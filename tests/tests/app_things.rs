//! End-to-end: the things of a building, on the real `lodge` app under Xvfb
//! through WebDriver, with a real `lodge-sync`. An admin instance adds an
//! item and prints its QR label; a worker instance reads that label's image,
//! takes the item and reports a fault; the admin moves the ticket to in
//! progress, and the worker's next attempt to take the item is refused with
//! the reason. A key desk instance lends a key, is refused a second of the
//! same type, grants an exception and lends it. Every screen is
//! photographed and checked with axe-core.

use std::time::Duration;

use lodge_tests::app::{App, Display};
use lodge_tests::{Device, Server, admin, code, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_is_labelled_taken_reported_and_held_in_repair_and_keys_follow_the_rules() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let server_dir = root.path().join("server");
    let site = admin(&server_dir, &["site", "create", "--demo"])?.parse()?;
    let mail_folder = tempfile::tempdir()?;
    let mailbox = lodge_tests::mailbox::Mailbox::start(mail_folder.path())?;
    let server = Server::start_with(&server_dir, &["--smtp-url", &mailbox.url(), "--mail-from", "Lodge <lodge@demo.lodge>"])?;
    let display = Display::start()?;
    let watcher = Device::enrol(&server, root.path(), "watcher", &code(&server_dir, site, "admin", None)?).await?;
    eventually("the site to arrive", Duration::from_secs(10), || watcher.read(|s| s.people("Jan").map(|p| !p.is_empty()).unwrap_or(false))).await?;
    let jan = watcher.read(|s| s.people("Jan Nowak"))?.remove(0).id;
    let anna = watcher.read(|s| s.people("Anna Kowalska"))?.remove(0).id;

    // The admin adds a pump and a second Master key, and prints the pump's label.
    let admin_app = App::launch(&display, root.path(), "admin").await?;
    admin_app.join(&server.http_url(), &code(&server_dir, site, "admin", None)?, "Office").await?;
    let a = &admin_app.session;
    // The dashboard counts in words that agree with the number ("1 key
    // out", "2 keys out").
    let out = watcher.read(|s| s.loans(lodge_core::key_loan::LoanFilter::Out))?.len();
    // The number and its words are a tile's two lines.
    let tile = format!("{out}\n{}", if out == 1 { "key out" } else { "keys out" });
    a.wait_until(&format!("the tile “{tile}”"), |page| page.contains(&tile)).await?;
    // Under the tiles, the last seven days' statistics: charts drawn on
    // their canvases, each with its figures as a table.
    a.wait_text("Guests and sign-ins per day").await?;
    a.wait_text("People in the building by the hour (average of the days)").await?;
    let drawn = a
        .execute(
            "return [...document.querySelectorAll('figure.chart canvas')].map(c => { \
               const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
               let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; });",
            serde_json::json!([]),
        )
        .await?;
    let drawn: Vec<u64> = serde_json::from_value(drawn)?;
    assert_eq!(drawn.len(), 3, "three charts");
    assert!(drawn.iter().all(|&n| n > 1000), "each chart has drawn on its canvas: {drawn:?}");
    a.click(&a.find_text("summary", "As a table").await?).await?;
    // Today is the table's last row; the demo registered its two guests today.
    let today = a
        .execute("const rows = document.querySelectorAll('figure.chart table tbody tr'); return [...rows[6].children].map(c => c.textContent.trim());", serde_json::json!([]))
        .await?;
    let today: Vec<String> = serde_json::from_value(today)?;
    assert_eq!(today.len(), 5, "{today:?}");
    assert_eq!(today[1], "2", "guests registered today: {today:?}");
    admin_app.screenshot("admin-dashboard").await?;
    admin_app.check_accessibility("admin dashboard").await?;
    a.click(&a.find_text("button", "Export as CSV").await?).await?;
    a.wait_until("the statistics to be saved", |p| p.contains("Saved as ")).await?;
    let page = a.page_text().await?;
    let path = page.lines().find_map(|l| l.split_once("Saved as ").map(|(_, p)| p.trim().to_owned())).expect("the saved file's path");
    let saved = std::fs::read_to_string(&path)?;
    assert!(saved.starts_with("day,visits_registered,visits_admitted,sign_ins,"), "{saved}");
    assert_eq!(saved.lines().count(), 8, "a header and seven days: {saved}");

    // Visit history: the demo's guests, found by name, one visit's timeline
    // (who did what), and what was found exported as CSV.
    a.click(&a.find_text("button", "History").await?).await?;
    a.wait_text("2 visits found.").await?;
    a.type_into(&a.find("#h-text").await?, "maria").await?;
    a.click(&a.find_text("button", "Search").await?).await?;
    a.wait_text("1 visit found.").await?;
    assert!(!a.page_text().await?.contains("Tom Becker"), "only the visit searched for");
    a.click(&a.find_text("button", "Timeline of Maria Garcia's visit").await?).await?;
    a.wait_until("the visit's timeline", |p| p.lines().any(|l| l.contains("register a guest · guest kiosk")) && p.lines().any(|l| l.contains("admit a guest ·"))).await?;
    admin_app.screenshot("admin-history").await?;
    admin_app.check_accessibility("visit history").await?;
    a.click(&a.find_text("button", "Export as CSV").await?).await?;
    a.wait_until("the export to be saved", |p| p.contains("Saved as ")).await?;
    let page = a.page_text().await?;
    let path = page.lines().find_map(|l| l.split_once("Saved as ").map(|(_, p)| p.trim().to_owned())).expect("the saved file's path");
    let exported = std::fs::read_to_string(&path)?;
    let mut rows = csv::Reader::from_reader(exported.as_bytes());
    assert_eq!(rows.headers()?.iter().collect::<Vec<_>>(), lodge_core::visit::VISITS_CSV_HEADER);
    let rows: Vec<csv::StringRecord> = rows.records().collect::<Result<_, _>>()?;
    assert_eq!(rows.len(), 1, "{exported}");
    assert_eq!((&rows[0][0], &rows[0][1], &rows[0][8], &rows[0][10]), ("Maria Garcia", "Acme", "105", "in"));
    a.click(&a.find_text("button", "Dashboard").await?).await?;
    a.click(&a.find_text("button", "Keys").await?).await?;
    a.type_into(&a.find("#key-label").await?, "M-14").await?;
    a.click(&a.find_text("button", "Add").await?).await?;
    a.wait_text("Key M-14 added.").await?;
    // Who had a key when: the demo lent M-12 to Jan; M-14 was never lent.
    a.click(&a.find("button[aria-label=\"History of M-12\"]").await?).await?;
    a.wait_until("M-12's loans", |p| p.lines().any(|l| l.starts_with("Jan Nowak, lent ") && l.ends_with("· out"))).await?;
    // A key's page has its changes too: who added it, who lent it, when.
    a.click(&a.find_text("button", "Changes to M-12").await?).await?;
    a.wait_until("M-12's changes", |p| p.lines().any(|l| l.ends_with("· add a key · Demo Admin")) && p.lines().any(|l| l.contains("· lend a key · "))).await?;
    a.click(&a.find("button[aria-label=\"History of M-14\"]").await?).await?;
    a.wait_text("Never lent.").await?;
    admin_app.screenshot("admin-keys").await?;
    admin_app.check_accessibility("admin keys").await?;
    a.click(&a.find_text("button", "Equipment").await?).await?;
    a.type_into(&a.find("#item-asset").await?, "P-9").await?;
    a.type_into(&a.find("#item-name").await?, "Pump").await?;
    a.type_into(&a.find("#item-type").await?, "pump").await?;
    a.type_into(&a.find("#item-code-new").await?, "LODGE-P9").await?;
    a.click(&a.find_text("button", "Add").await?).await?;
    a.wait_text("Pump added.").await?;
    admin_app.screenshot("admin-equipment").await?;
    admin_app.check_accessibility("admin equipment").await?;
    a.click(&a.find("button[aria-label=\"Print the label of P-9\"]").await?).await?;
    a.find("[data-label-page=\"0\"]").await?;
    // The sheet is brought into sight with the focus on it, not left
    // below the list.
    let in_sight = a
        .execute(
            "const r = document.querySelector('section.labels').getBoundingClientRect(); \
             return r.top >= 0 && r.top < window.innerHeight && document.activeElement === document.querySelector('section.labels');",
            serde_json::json!([]),
        )
        .await?;
    assert_eq!(in_sight.as_bool(), Some(true), "the label sheet opens in sight, focused");
    // The label itself at the top, whole, for the screenshot the worker reads.
    a.execute("document.querySelector('[data-label-page=\"0\"]').scrollIntoView(); return true;", serde_json::json!([])).await?;
    // The label as it shows on the admin's screen is the picture the worker reads.
    let label_png = admin_app.screenshot("admin-labels").await?;

    // The worker reads the label from its picture and takes the pump.
    let worker = App::launch(&display, root.path(), "worker").await?;
    worker.join(&server.http_url(), &code(&server_dir, site, "worker", Some(jan))?, "Jan's phone").await?;
    let w = &worker.session;
    w.wait_text("Scan an item").await?;
    w.wait_text("Drill").await?; // the demo's drill is Jan's
    // What is free to take: the demo's ladder, not Jan's drill.
    w.wait_text("Free to take").await?;
    w.find_text("button", "Ladder L-2").await?;
    worker.screenshot("worker").await?;
    worker.check_accessibility("worker").await?;
    w.type_into(&w.find("#code-photo").await?, label_png.to_str().unwrap_or_default()).await?;
    w.wait_text("Pump").await?;
    w.wait_text("On the shelf").await?;
    worker.screenshot("worker-item").await?;
    w.click(&w.find_text("button", "Take").await?).await?;
    w.wait_text("You have Pump now.").await?;
    w.click(&w.find_text("button", "Report a fault").await?).await?;
    w.type_into(&w.find("#fault-note").await?, "Sparks at the switch").await?;
    w.click(&w.find_text("button", "Open a repair ticket").await?).await?;
    w.wait_text("Fault reported").await?;
    worker.screenshot("worker-reported").await?;
    worker.check_accessibility("worker with an item").await?;
    w.click(&w.find_text("button", "Return").await?).await?;
    w.wait_text("Pump is returned.").await?;
    // Back on the shelf with a new ticket: not said to be in the workshop.
    w.wait_text("A fault was reported on it; it is not in the workshop yet.").await?;
    assert!(!w.page_text().await?.contains("In the workshop"), "a new ticket's item is on the shelf");

    // The admin moves the ticket to in progress.
    a.click(&a.find_text("button", "Repairs").await?).await?;
    let move_it = a.find("[data-ticket=\"P-9\"] button[aria-label=\"Move P-9 to In progress\"]").await?;
    admin_app.screenshot("admin-repairs").await?;
    admin_app.check_accessibility("repair board").await?;
    a.click(&move_it).await?;
    a.wait_text("Pump is now: In progress.").await?;

    // An item's history: who had it, from when to when. Retiring one that
    // is held is refused with the rule; a free one leaves every shelf.
    a.click(&a.find_text("button", "Equipment").await?).await?;
    a.click(&a.find("button[aria-label=\"History of P-9\"]").await?).await?;
    a.wait_until("the pump's custody", |p| p.lines().any(|l| l.trim_start().starts_with("Jan Nowak from ") && l.contains(" to "))).await?;
    a.click(&a.find("button[aria-label=\"Retire D-7\"]").await?).await?;
    a.wait_text("Drill (D-7) is held by someone; return it before retiring it.").await?;
    a.click(&a.find("button[aria-label=\"Retire L-2\"]").await?).await?;
    a.wait_text("Ladder (L-2) is retired: never taken again.").await?;
    w.wait_until("the ladder to leave the worker's shelf", |p| !p.contains("Ladder L-2")).await?;

    // The repair board finds a ticket by asset number; its details say what
    // happened and by whom, and take a note.
    a.click(&a.find_text("button", "Repairs").await?).await?;
    a.type_into(&a.find("#ticket-search").await?, "p-9").await?;
    let shown = a.all("[data-ticket]").await?.len();
    assert_eq!(shown, a.all("[data-ticket=\"P-9\"]").await?.len(), "only the pump's tickets are shown");
    a.click(&a.find("button[aria-label=\"Details of P-9\"]").await?).await?;
    a.wait_until("the ticket's log", |p| p.contains("· Jan Nowak · Sparks at the switch") && p.contains("moved to In progress")).await?;
    assert!(a.page_text().await?.contains("Electrical · Jan Nowak ·"), "the category and the opener by name, not by id");
    a.type_into(&a.find("textarea[id^=note-]").await?, "Switch ordered").await?;
    a.click(&a.find_text("button", "Add the note").await?).await?;
    a.wait_text("Note added.").await?;
    a.wait_until("the note in the log", |p| p.contains("· Switch ordered")).await?;
    // Its changes, from the ticket's own history: who reported, moved, noted.
    a.click(&a.find_text("button", "Changes to Pump P-9").await?).await?;
    a.wait_until("the ticket's changes", |p| {
        p.lines().any(|l| l.ends_with("· report a fault · Jan Nowak")) && p.lines().any(|l| l.contains("· move a repair ticket · ")) && p.lines().any(|l| l.contains("· add a repair note · "))
    })
    .await?;
    admin_app.screenshot("admin-ticket").await?;
    admin_app.check_accessibility("a repair ticket's details").await?;

    // A fault on a hose that has no label: the hose is added with the code
    // its new label will carry, its ticket opened, its label shown to print.
    a.clear(&a.find("#ticket-search").await?).await?;
    a.click(&a.find_text("button", "A fault on an item without a label").await?).await?;
    a.type_into(&a.find("#u-asset").await?, "P-9").await?;
    a.type_into(&a.find("#u-name").await?, "Hose").await?;
    a.type_into(&a.find("#u-type").await?, "hose").await?;
    a.type_into(&a.find("#u-code").await?, "LODGE-H1").await?;
    a.type_into(&a.find("#u-note").await?, "Split near the tap").await?;
    a.click(&a.find_text("button", "Add the item and report the fault").await?).await?;
    // P-9 is the pump's: refused with the item's own words, nothing added.
    a.wait_text("Asset number P-9 is already used by another item.").await?;
    assert!(a.all("[data-ticket=\"H-1\"]").await?.is_empty());
    a.clear(&a.find("#u-asset").await?).await?;
    a.type_into(&a.find("#u-asset").await?, "H-1").await?;
    a.click(&a.find_text("button", "Add the item and report the fault").await?).await?;
    a.wait_text("Hose (H-1) added and its fault reported. Its label is below.").await?;
    a.type_into(&a.find("#ticket-search").await?, "h-1").await?;
    a.find("[data-ticket=\"H-1\"]").await?;
    a.find("img[data-label-page]").await?;
    admin_app.screenshot("admin-unlabelled-fault").await?;
    admin_app.check_accessibility("a fault on an item without a label").await?;

    // Settings, people and devices.
    a.click(&a.find_text("button", "Settings").await?).await?;
    a.wait_text("Badge card types").await?;
    a.type_into(&a.find("#dep-id").await?, "fac").await?;
    a.type_into(&a.find("#dep-name").await?, "Facilities").await?;
    a.type_into(&a.find("#dep-contact").await?, "facilities@demo.lodge").await?;
    a.click(&a.find("form:has(#dep-id) button[type=submit]").await?).await?;
    a.wait_text("overdue keys: facilities@demo.lodge").await?;
    // The rules the server acts by: reminder time, the messages' language,
    // how long records are kept. A wrong value is refused with the rule.
    let set = |field: &'static str, value: &'static str| async move {
        let input = a.find(field).await?;
        a.clear(&input).await?;
        a.type_into(&input, value).await?;
        a.click(&a.find(&format!("form:has({field}) button[type=submit]")).await?).await
    };
    set("#rem-time", "25:00").await?;
    a.wait_text("“25:00” is not a time of day; write it as HH:MM, e.g. 17:30.").await?;
    set("#rem-time", "17:30").await?;
    a.wait_text("Saved.").await?;
    set("#ret-days", "0").await?;
    a.wait_text("Guest data must be kept at least 1 day and at most 3650 days, not 0.").await?;
    set("#ret-days", "30").await?;
    a.wait_text("Saved.").await?;
    // The card types say what each is for; the consent is written in Polish
    // for guests who read Polish, and reaches the other devices.
    a.wait_text("A person's own badge, given under People.").await?;
    set("#consent-pl", "Przechowujemy Twoje imię przez 30 dni.").await?;
    eventually("the Polish consent to reach the server", Duration::from_secs(10), || {
        watcher.read(|s| s.site_settings().map(|x| x.is_some_and(|x| x.consent_for(Some("pl")) == "Przechowujemy Twoje imię przez 30 dni.")).unwrap_or(false))
    })
    .await?;
    a.execute("const s = document.querySelector('#site-lang'); s.value = 'pl'; s.dispatchEvent(new Event('change'));", serde_json::json!([])).await?;
    a.click(&a.find("form:has(#site-lang) button[type=submit]").await?).await?;
    a.wait_text("Saved.").await?;
    eventually("the rules reach the server and back", Duration::from_secs(10), || {
        watcher.read(|s| {
            s.site_settings().ok().flatten().is_some_and(|st| st.reminder_time == "17:30" && st.retention_days == 30 && st.language == "pl")
                && s.departments().is_ok_and(|d| d.iter().any(|d| d.contact.as_deref() == Some("facilities@demo.lodge")))
        })
    })
    .await?;
    // An emptied contact field clears the department's contact.
    let contact = a.find("#dep-contact").await?;
    a.clear(&contact).await?;
    // WebDriver's clear fires no input event, as a person's deleting does.
    a.execute("document.querySelector('#dep-contact').dispatchEvent(new Event('input', { bubbles: true }));", serde_json::json!([])).await?;
    a.click(&a.find("form:has(#dep-id) button[type=submit]").await?).await?;
    a.wait_until("the contact is gone from the list", |page| !page.contains("overdue keys: facilities@demo.lodge")).await?;
    eventually("the cleared contact reaches the server and back", Duration::from_secs(10), || {
        watcher.read(|s| s.departments().is_ok_and(|d| d.iter().any(|d| d.id.as_str() == "fac" && d.contact.is_none())))
    })
    .await?;
    // "Send a test": an e-mail through the server's relay, and Slack,
    // which this site has not got.
    a.type_into(&a.find("#test-mail").await?, "ops@demo.lodge").await?;
    a.click(&a.find_text("button", "Send a test e-mail").await?).await?;
    a.wait_text("Sent to ops@demo.lodge").await?;
    assert!(mailbox.mails().iter().any(|m| m.header("To").is_some_and(|to| to.contains("ops@demo.lodge"))), "the test mail arrived");
    a.click(&a.find_text("button", "Send a test to Slack").await?).await?;
    a.wait_text("This site has no Slack webhook. Add one under Channels.").await?;
    // The admin adds one here (a stand-in for Slack on this machine): an
    // http address elsewhere is refused, the URL is never shown back.
    let slack = lodge_tests::slack::SlackStandIn::start(0).await?;
    let hook_url = slack.url.clone();
    a.type_into(&a.find("#slack-url").await?, "http://hooks.slack.com/services/T0/B0/x").await?;
    a.click(&a.find_text("button", "Add webhook").await?).await?;
    a.wait_text("A Slack webhook must be an https:// address (plain http only to this machine, for testing).").await?;
    a.clear(&a.find("#slack-url").await?).await?;
    a.type_into(&a.find("#slack-url").await?, &hook_url).await?;
    a.click(&a.find_text("button", "Add webhook").await?).await?;
    a.wait_text("Added. Every sign-in and sign-out from now on is posted to it.").await?;
    a.wait_text("Slack webhook 1").await?;
    let field = a.execute("return document.getElementById('slack-url').value;", serde_json::json!([])).await?;
    assert_eq!(field.as_str(), Some(""), "the webhook's URL stays on the server, not in the field");
    a.click(&a.find_text("button", "Send a test to Slack").await?).await?;
    a.wait_text("Sent to Slack webhook 1").await?;
    assert_eq!(slack.taken(), 1, "the stand-in got the test post");
    admin_app.screenshot("admin-settings").await?;
    admin_app.check_accessibility("site settings").await?;
    a.click(&a.find("button[aria-label=\"Remove Slack webhook 1\"]").await?).await?;
    a.wait_text("Slack webhook 1 removed.").await?;
    a.click(&a.find_text("button", "People").await?).await?;
    a.type_into(&a.find("#p-name").await?, "Ewa Lis").await?;
    a.type_into(&a.find("#p-email").await?, "ewa@demo.lodge").await?;
    // Her own badge: a guest card is refused with the rule, an admin card
    // is hers.
    a.type_into(&a.find("#p-badge").await?, "150").await?;
    a.click(&a.find("form:has(#p-name) button[type=submit]").await?).await?;
    a.wait_text("Card 150 is of the type “Guest”, which reception hands to guests. A person's own badge is a card of another type.").await?;
    a.clear(&a.find("#p-badge").await?).await?;
    a.type_into(&a.find("#p-badge").await?, "710").await?;
    a.click(&a.find("form:has(#p-name) button[type=submit]").await?).await?;
    a.wait_text("Ewa Lis added.").await?;
    a.find_text("td", "710").await?;
    // Edited: her e-mail changes, her badge and role stay.
    a.click(&a.find("button[aria-label=\"Edit Ewa Lis\"]").await?).await?;
    a.find_text("h2", "Edit Ewa Lis").await?;
    assert_eq!(a.execute("return document.getElementById('p-badge').value;", serde_json::json!([])).await?.as_str(), Some("710"));
    let email = a.find("#p-email").await?;
    a.clear(&email).await?;
    a.type_into(&email, "ewa.lis@demo.lodge").await?;
    a.click(&a.find("form:has(#p-name) button[type=submit]").await?).await?;
    a.wait_text("Ewa Lis saved.").await?;
    a.find_text("td", "ewa.lis@demo.lodge").await?;
    // What Jan did here: the demo's key M-12 still out, the drill he holds,
    // the pump he took and brought back today.
    a.click(&a.find("button[aria-label=\"History of Jan Nowak\"]").await?).await?;
    a.find_text("h3", "What Jan Nowak did here").await?;
    a.wait_until("Jan's history", |p| {
        p.lines().any(|l| l.starts_with("M-12 · lent ") && l.ends_with("· out"))
            && p.lines().any(|l| l.starts_with("D-7 · held since "))
            && p.lines().any(|l| l.starts_with("P-9 · held from ") && l.contains(" to "))
    })
    .await?;
    a.click(&a.find_text("button", "Changes to Jan Nowak").await?).await?;
    a.wait_until("Jan's record's changes", |p| p.lines().any(|l| l.contains("· add a person · "))).await?;
    admin_app.screenshot("admin-person-history").await?;
    admin_app.check_accessibility("a person's history").await?;
    admin_app.screenshot("admin-people").await?;
    admin_app.check_accessibility("people").await?;
    eventually("the new person to reach the server", Duration::from_secs(10), || {
        watcher.read(|s| {
            s.people("Ewa")
                .map(|p| {
                    p.len() == 1
                        && p[0].badge_card.map(|c| c.get()) == Some(710)
                        && p[0].email.as_ref().map(|e| e.to_string()).as_deref() == Some("ewa.lis@demo.lodge")
                        && p[0].roles == [lodge_core::Role::Staff]
                })
                .unwrap_or(false)
        })
    })
    .await?;
    a.click(&a.find_text("button", "Devices").await?).await?;
    a.wait_text("Jan's phone").await?;
    // Each device with its contact: this app connected now, naming its
    // version; the watcher (a tool that names none) connected too.
    a.wait_text(&format!("Connected now · lodge {}", env!("CARGO_PKG_VERSION"))).await?;
    a.click(&a.find_text("button", "Make a code").await?).await?;
    let made = a.text(&a.find("[data-code]").await?).await?;
    admin_app.screenshot("admin-devices").await?;
    admin_app.check_accessibility("devices").await?;
    let lobby = Device::enrol(&server, root.path(), "lobby", made.trim()).await?;
    assert_eq!(lobby.role, lodge_core::Role::Kiosk, "the code made on the admin screen enrols a kiosk");

    // The worker's next attempt is refused, with the reason.
    eventually("the ticket's state to reach the worker's phone", Duration::from_secs(10), || {
        watcher.read(|s| s.open_repairs().map(|t| t.iter().any(|t| t.asset_number == "P-9" && t.state == lodge_core::repair::RepairState::InProgress)).unwrap_or(false))
    })
    .await?;
    w.wait_text("In the workshop: In progress.").await?;
    w.click(&w.find_text("button", "Take").await?).await?;
    w.wait_text("Pump (P-9) is in repair (in progress) and cannot be taken until the ticket is resolved.").await?;
    worker.screenshot("worker-refused").await?;
    worker.quit().await;
    admin_app.quit().await;

    // The key desk: one Master key per person, unless an exception says more.
    let keydesk = App::launch(&display, root.path(), "keydesk").await?;
    keydesk.join(&server.http_url(), &code(&server_dir, site, "key-desk", None)?, "Key desk").await?;
    let k = &keydesk.session;
    k.type_into(&k.find("#customer-email").await?, "anna@demo.lodge").await?;
    k.click(&k.find_text("button", "Find").await?).await?;
    k.wait_text("Anna Kowalska").await?;
    // Pick the key in the drop-down (as the person's choice does: a change event).
    let lend = |label: &'static str| async move {
        k.find(&format!("#lend-key option[data-label=\"{label}\"]")).await?;
        k.execute(
            "const s = document.querySelector('#lend-key'); s.value = [...s.options].find(o => o.dataset.label === arguments[0]).value; s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            serde_json::json!([label]),
        )
        .await?;
        k.click(&k.find_text("button", "Lend").await?).await?;
        anyhow::Ok(())
    };
    lend("M-13").await?;
    k.wait_text("M-13 lent to Anna Kowalska.").await?;
    // Due by the end of the chosen day where the site is (the demo is in
    // Warsaw; this desk's clock is UTC), not an hour into the next.
    k.wait_until("M-13 due at 23:59 of its day", |p| p.lines().any(|l| l.contains("M-13 due") && l.contains("23:59") && !l.contains("PM"))).await?;
    // With a key held, Lend is still in sight on a 1280×800 screen.
    let size = k.execute("return [window.innerWidth, window.innerHeight];", serde_json::json!([])).await?;
    let lend_in_sight = k
        .execute(
            "const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Lend').getBoundingClientRect(); \
             return window.scrollY === 0 && b.bottom <= window.innerHeight;",
            serde_json::json!([]),
        )
        .await?;
    assert_eq!(lend_in_sight.as_bool(), Some(true), "Lend is below the fold at {size}");
    lend("M-14").await?;
    k.wait_text("One Master key per person: Anna Kowalska already holds 1. Exception needed: ask staff to grant one.").await?;
    keydesk.screenshot("keydesk-refused").await?;
    keydesk.check_accessibility("key desk").await?;
    k.click(&k.find_text("button", "Grant an exception").await?).await?;
    k.wait_text("Exception granted to Anna Kowalska.").await?;
    lend("M-14").await?;
    k.wait_text("M-14 lent to Anna Kowalska.").await?;
    keydesk.screenshot("keydesk-lent").await?;
    eventually("both loans to reach the server", Duration::from_secs(10), || {
        watcher.read(|s| s.keys_held_by(anna).map(|l| l.len() == 2).unwrap_or(false))
    })
    .await?;

    // A walk-in: nobody has the e-mail yet; they are added as the key is lent.
    k.click(&k.find_text("button", "Return").await?).await?;
    k.clear(&k.find("#customer-email").await?).await?;
    k.type_into(&k.find("#customer-email").await?, "piotr@north.test").await?;
    k.click(&k.find_text("button", "Find").await?).await?;
    k.wait_text("New customer: piotr@north.test").await?;
    k.type_into(&k.find("#walk-in-name").await?, "Piotr Nowak").await?;
    k.find("#walk-in-key option[data-label]").await?;
    k.execute(
        "const s = document.querySelector('#walk-in-key'); s.value = s.options[1].value; s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
        serde_json::json!([]),
    )
    .await?;
    keydesk.screenshot("keydesk-walk-in").await?;
    keydesk.check_accessibility("key desk, a walk-in").await?;
    k.click(&k.find_text("button", "Add and lend").await?).await?;
    k.wait_until("the key lent to the walk-in", |p| p.contains("lent to Piotr Nowak.")).await?;
    let piotr = lodge_core::Email::parse("piotr@north.test")?;
    eventually("the new customer and the loan to reach the server", Duration::from_secs(10), || {
        watcher.read(|s| {
            s.person_by_email(&piotr).ok().flatten().is_some_and(|p| p.roles.is_empty() && s.keys_held_by(p.id).map(|l| l.len() == 1).unwrap_or(false))
        })
    })
    .await?;
    keydesk.quit().await;
    Ok(())
}
