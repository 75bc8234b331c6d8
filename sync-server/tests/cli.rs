//! The `lodge-sync` command line, run as a real process.

use std::path::Path;
use std::process::{Command, Output};

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lodge-sync")).arg("--data").arg(data).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn a_site_gets_codes_devices_and_qr_labels() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let created = run(data, &["site", "create", "--name", "Main Building", "--time-zone", "Europe/Warsaw"]);
    assert!(created.status.success());
    let site = stdout(&created);
    assert!(stdout(&run(data, &["site", "list"])).contains("Main Building"));

    let svg = dir.path().join("code.svg");
    let enrol = run(data, &["enrol", "--site", &site, "--role", "reception", "--qr", svg.to_str().unwrap()]);
    assert!(enrol.status.success(), "{}", String::from_utf8_lossy(&enrol.stderr));
    let code = stdout(&enrol);
    assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX: {code}");
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.starts_with("<?xml") && drawing.contains("<svg"));

    let text = run(data, &["enrol", "--site", &site, "--role", "kiosk", "--qr", "text"]);
    assert!(String::from_utf8_lossy(&text.stderr).contains('█'));
    assert_ne!(stdout(&text), code, "every code is new");
}

#[test]
fn mistakes_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let site = stdout(&run(data, &["site", "create", "--name", "House"]));
    let bad_role = run(data, &["enrol", "--site", &site, "--role", "janitor"]);
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("is not a role"));
    let phone = run(data, &["enrol", "--site", &site, "--role", "worker"]);
    assert!(String::from_utf8_lossy(&phone.stderr).contains("must name the person"));
    let revoke = run(data, &["devices", "revoke", "0b6f5f5e-7f1f-4b8e-9d7e-0d7a1f0e4c11"]);
    assert!(String::from_utf8_lossy(&revoke.stderr).contains("There is no device"));
    let plain = run(data, &["serve", "--listen", "0.0.0.0:0"]);
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("refusing plain HTTP"));
}
