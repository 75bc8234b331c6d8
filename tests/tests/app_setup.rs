//! First run of the real `lodge` app under Xvfb, through WebDriver, against
//! a real `lodge-sync`: started with `--server --code` that cannot join (a
//! mistyped code; no name), the first-run screen opens with what was given
//! filled in and says why; corrected there, the device joins, and the
//! admin's list of devices shows it by the name it was given.

use lodge_tests::app::{App, Display};
use lodge_tests::{Server, admin, code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_from_the_command_line_that_fails_opens_first_run_saying_why() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let server_dir = root.path().join("server");
    let site = admin(&server_dir, &["site", "create", "--demo"])?.parse()?;
    let server = Server::start(&server_dir, 0)?;
    let display = Display::start()?;
    let url = server.http_url();

    // A mistyped code: the server's reason, the fields as given.
    let tablet = App::launch_with(&display, root.path(), "tablet", &["--server", &url, "--code", "NOPE-NOPE", "--name", "Lobby tablet"]).await?;
    let s = &tablet.session;
    s.wait_text("This enrolment code is not valid: it may be mistyped, used already or expired. Ask an admin for a new one.").await?;
    let value = |id: &'static str| async move { s.execute(&format!("return document.getElementById('{id}').value;"), serde_json::json!([])).await };
    assert_eq!(value("join-server").await?.as_str(), Some(url.as_str()));
    assert_eq!(value("join-code").await?.as_str(), Some("NOPE-NOPE"));
    assert_eq!(value("join-name").await?.as_str(), Some("Lobby tablet"));
    tablet.screenshot("first-run-bad-code").await?;
    tablet.check_accessibility("first run with a bad code").await?;
    // Corrected there, it joins with the name it was given.
    let good = code(&server_dir, site, "kiosk", None)?;
    s.clear(&s.find("#join-code").await?).await?;
    s.type_into(&s.find("#join-code").await?, &good).await?;
    s.click(&s.find_text("button", "Join").await?).await?;
    s.wait_text("Welcome to Lodge Demo House").await?;
    // The app, like every Lodge process, runs without transparent huge
    // pages (see `lodge_core::process`).
    let app = std::fs::canonicalize(lodge_tests::app::lodge_app_bin())?;
    let apps: Vec<String> = std::fs::read_dir("/proc")?
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_link(e.path().join("exe")).is_ok_and(|exe| exe == app))
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .collect();
    assert!(!apps.is_empty(), "the running app was not found as {}", app.display());
    for status in &apps {
        assert!(status.lines().any(|l| l.split_whitespace().eq(["THP_enabled:", "0"])), "{status}");
    }
    let devices = admin(&server_dir, &["devices", "list"])?;
    assert!(devices.lines().any(|l| l.contains("Lobby tablet") && l.contains("kiosk")), "{devices}");
    tablet.quit().await;

    // No name: asked for, nothing enrolled, the code still good to use.
    let unnamed = code(&server_dir, site, "reception", None)?;
    let desk = App::launch_with(&display, root.path(), "desk", &["--server", &url, "--code", &unnamed]).await?;
    let d = &desk.session;
    d.wait_text("Give this device a name (such as “Front desk” or “Lobby tablet”), so that the admin can tell it apart.").await?;
    d.type_into(&d.find("#join-name").await?, "Front desk").await?;
    d.click(&d.find_text("button", "Join").await?).await?;
    d.wait_text("Waiting").await?;
    let devices = admin(&server_dir, &["devices", "list"])?;
    assert!(devices.lines().any(|l| l.contains("Front desk") && l.contains("reception")), "{devices}");
    assert!(!devices.contains("Lodge desk") && !devices.contains("Lodge device"), "{devices}");
    desk.quit().await;
    Ok(())
}
