//! The real app under test: an X display (Xvfb), the PC/SC daemon with the
//! virtual reader, and app instances each driven by its own `tauri-driver`
//! (one WebKitWebDriver session per driver), each with its own data
//! directory and its own webview storage.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::webdriver::Session;

/// An Xvfb display for the test's lifetime.
pub struct Display {
    child: Child,
    /// `:N`.
    pub name: String,
}

impl Display {
    /// Start Xvfb on the first free display from :90.
    pub fn start() -> anyhow::Result<Self> {
        for n in 90..120 {
            let (socket, lock) = (format!("/tmp/.X11-unix/X{n}"), format!("/tmp/.X{n}-lock"));
            // A lock whose server is gone (a run that was killed) is stale.
            let holder = std::fs::read_to_string(&lock).ok().and_then(|t| t.trim().parse::<u32>().ok());
            let alive = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim().starts_with('X'));
            if let Some(pid) = holder
                && !alive(pid)
            {
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
            }
            if Path::new(&socket).exists() || Path::new(&lock).exists() {
                continue;
            }
            let name = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([&name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("Xvfb is missing: install xvfb (./scripts/test does)")?;
            let start = Instant::now();
            while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                if start.elapsed() > Duration::from_secs(10) {
                    bail!("Xvfb {name} did not start");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return Ok(Self { child, name });
        }
        bail!("no free X display between :90 and :119")
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Make sure `pcscd` runs with the virtual reader (it is started once and
/// left running, as the system's daemon would be).
pub fn ensure_pcscd() -> anyhow::Result<()> {
    if std::net::TcpStream::connect(("127.0.0.1", crate::virtual_card::VPCD_PORT)).is_ok() {
        return Ok(());
    }
    Command::new("pcscd")
        .args(["-f", "-a"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("pcscd is missing: install pcscd and vsmartcard-vpcd (./scripts/test does)")?;
    let start = Instant::now();
    // vpcd listens once pcscd has loaded it.
    while start.elapsed() < Duration::from_secs(10) {
        if std::process::Command::new("ss").args(["-ltn"]).output().map(|o| String::from_utf8_lossy(&o.stdout).contains(":35963")).unwrap_or(false) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("pcscd started but vpcd does not listen on 127.0.0.1:35963: is vsmartcard-vpcd installed?")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn wait_port(port: u16, limit: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > limit {
            bail!("nothing listens on 127.0.0.1:{port} after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The `lodge` app binary built next to this test.
pub fn lodge_app_bin() -> PathBuf {
    let bin = crate::lodge_sync_bin().with_file_name("lodge");
    assert!(bin.exists(), "{} is missing: build it first with `cargo build --workspace --bins` (./scripts/test does)", bin.display());
    bin
}

fn tauri_driver_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    home.map(|h| h.join("bin/tauri-driver")).filter(|p| p.exists()).unwrap_or_else(|| PathBuf::from("tauri-driver"))
}

/// `tauri-driver` and its WebKitWebDriver, stopped however the test ends
/// (a launch that fails halfway too: a driver left running held the test
/// runner's output open).
struct Driver(Child);

impl Driver {
    fn stop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // The whole group (tauri-driver and its WebKitWebDriver), and
            // only it: the driver leads its own group.
            if let Ok(pgid) = i32::try_from(self.0.id())
                && pgid > 1
            {
                // SAFETY: killpg only sends a signal; the group is the driver's own.
                unsafe { libc::killpg(pgid, libc::SIGTERM) };
            }
            let _ = self.0.wait();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One app instance: its data directory, its driver and its session.
pub struct App {
    driver: Driver,
    /// The WebDriver session on the app.
    pub session: Session,
    /// The device's data directory.
    pub data: PathBuf,
    /// Where screenshots go.
    shots: PathBuf,
    name: String,
}

impl App {
    /// Start the app with its own data directory under `root/name`.
    pub async fn launch(display: &Display, root: &Path, name: &str) -> anyhow::Result<Self> {
        Self::launch_with(display, root, name, &[]).await
    }

    /// [`App::launch`] with more command-line arguments for the app
    /// (`--server URL --code CODE --name NAME`).
    pub async fn launch_with(display: &Display, root: &Path, name: &str, args: &[&str]) -> anyhow::Result<Self> {
        let data = root.join(name);
        let home = root.join(format!("{name}-home"));
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&home)?;
        let (port, native) = (free_port(), free_port());
        let driver = Command::new(tauri_driver_bin())
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", &display.name)
            // Each instance its own webview storage.
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("RUST_LOG", std::env::var("LODGE_TEST_APP_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .context("tauri-driver is missing: `cargo install tauri-driver --version ^2 --locked` (./scripts/test does)")?;
        let driver = Driver(driver);
        wait_port(port, Duration::from_secs(15))?;
        wait_port(native, Duration::from_secs(15))?;
        let mut app_args = vec!["--data".to_owned(), data.display().to_string()];
        app_args.extend(args.iter().map(|a| a.to_string()));
        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": lodge_app_bin(), "args": app_args },
        });
        let session = Session::create(&format!("http://127.0.0.1:{port}"), capabilities).await?;
        let shots = screenshots_dir();
        Ok(Self { driver, session, data, shots, name: name.to_owned() })
    }

    /// Join a site from the first-run screen with an enrolment code.
    pub async fn join(&self, server_url: &str, code: &str, name: &str) -> anyhow::Result<()> {
        let s = &self.session;
        s.type_into(&s.find("#join-server").await?, server_url).await?;
        s.type_into(&s.find("#join-code").await?, code).await?;
        s.type_into(&s.find("#join-name").await?, name).await?;
        s.click(&s.find_text("button", "Join").await?).await
    }

    /// Save a screenshot as `target/e2e-screenshots/NAME.png`, after the
    /// page has had a moment to paint.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        // Two animation frames: what was rendered has been painted.
        self.session
            .execute_async("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", json!([]))
            .await?;
        let png = self.session.screenshot().await?;
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Run axe-core on the page; fails on serious or critical violations,
    /// and on a page without a heading of the first level (a screen reader
    /// user's way to the top of each screen).
    pub async fn check_accessibility(&self, screen: &str) -> anyhow::Result<()> {
        let violations = accessibility_violations(&self.session).await?;
        let bad: Vec<&Value> = violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")) || v["id"].as_str() == Some("page-has-heading-one"))
            .collect();
        if !bad.is_empty() {
            bail!("{}: {screen} has serious accessibility problems: {}", self.name, serde_json::to_string_pretty(&bad)?);
        }
        Ok(())
    }

    /// Close the app and its driver.
    pub async fn quit(mut self) {
        let _ = self.session.close().await;
        self.driver.stop();
    }
}

/// Where the run's screenshots go.
pub fn screenshots_dir() -> PathBuf {
    let dir = crate::lodge_sync_bin().parent().and_then(Path::parent).map(|t| t.join("e2e-screenshots")).unwrap_or_else(|| PathBuf::from("e2e-screenshots"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// axe-core's violations on the current page (axe injected by WebDriver,
/// which the page's CSP does not apply to).
pub async fn accessibility_violations(session: &Session) -> anyhow::Result<Vec<Value>> {
    let axe_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&axe_path).with_context(|| format!("{} is missing: run `npm ci` in ui/ (./scripts/test does)", axe_path.display()))?;
    session.execute(&format!("{axe}\n;return true;"), json!([])).await?;
    let result = session
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.axe.run(document, { resultTypes: ['violations'] })\
               .then(r => done(JSON.stringify(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) })))))\
               .catch(e => done(JSON.stringify([{ id: 'axe-failed', impact: 'critical', help: String(e) }])));",
            json!([]),
        )
        .await?;
    // Anything but the JSON text of a list means axe did not run.
    let text = result.as_str().with_context(|| format!("axe-core did not answer with its violations: {result}"))?;
    Ok(serde_json::from_str(text)?)
}
