//! `lodge-tests`: whole-system tests. Real `lodge-sync` processes on
//! 127.0.0.1, each device with its own store file and sync client, going
//! offline and back. This library is the harness; the tests are in `tests/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub mod app;
pub mod link;
pub mod mailbox;
pub mod postgres;
pub mod site;
pub mod sms;
pub mod slack;
pub mod virtual_card;
pub mod webdriver;
use lodge_core::sync::{SyncHandle, spawn};
use lodge_core::{Actor, DeviceId, PersonId, Role, SiteId, Store, SystemClock};


/// The `lodge-sync` binary built next to this test, or the one named by
/// `LODGE_SYNC` (to compare two builds in one sitting with the same load).
pub fn lodge_sync_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("LODGE_SYNC") {
        return PathBuf::from(bin);
    }
    workspace_bin("lodge-sync")
}

/// A binary of the workspace built next to this test (`lodge-sync`,
/// `lodge-device`).
pub fn workspace_bin(name: &str) -> PathBuf {
    // Tests run from target/PROFILE/deps, binaries from target/PROFILE.
    let exe = std::env::current_exe().expect("test executable");
    let here = exe.parent().expect("a directory");
    let bin = [here.join(name), here.parent().map(|p| p.join(name)).unwrap_or_default()]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| here.join(name));
    assert!(bin.exists(), "{} is missing: build it first with `cargo build --workspace --bins` (./scripts/test does)", bin.display());
    bin
}

/// Run a `lodge-sync` admin command and return its standard output.
pub fn admin(data: &Path, args: &[&str]) -> anyhow::Result<String> {
    let mut command = Command::new(lodge_sync_bin());
    command.arg("--data").arg(data).args(args);
    registry_of(&mut command, data)?;
    let out = command.output()?;
    if !out.status.success() {
        bail!("lodge-sync {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Point a `lodge-sync` with the data directory `data` at its registry: the
/// PostgreSQL database of that directory when the tests run against
/// PostgreSQL (`LODGE_TEST_BACKEND=postgres`), else `registry.sqlite` in it
/// (a `LODGE_SYNC_DATABASE` of the caller's shell is not passed on, so that
/// it cannot join the tests' registries).
fn registry_of(command: &mut Command, data: &Path) -> anyhow::Result<()> {
    match crate::postgres::database_for(data)? {
        Some(url) => command.env("LODGE_SYNC_DATABASE", url),
        None => command.env_remove("LODGE_SYNC_DATABASE"),
    };
    Ok(())
}

/// The registry of the server in `data`, opened from the test as the
/// server opens it (its file, or its PostgreSQL database: see
/// [`registry_of`]).
pub fn open_registry(data: &Path) -> anyhow::Result<lodge_sync_server::Registry> {
    Ok(match crate::postgres::database_for(data)? {
        Some(url) => crate::postgres::off_runtime(|| Ok(lodge_sync_server::Registry::connect(&lodge_sync_server::registry::DatabaseAddress::new(&url, None)?)?))?,
        None => lodge_sync_server::Registry::open(&data.join("registry.sqlite"))?,
    })
}

/// A running `lodge-sync serve` on 127.0.0.1.
///
/// With `LODGE_TEST_BACKEND=postgres` it is several instances (two, or
/// `LODGE_TEST_INSTANCES`: [`postgres::instances`]) on the data directory's
/// database, each with a directory of its own (the second's is beside it,
/// `DATA.twin`, the third's `DATA.twin3` and so on): devices are spread over
/// them ([`Server::ws_url`] names each in turn), and what the test does to
/// the server (kill it, stop it, start it again) happens to all.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its data directory.
    pub data: PathBuf,
    /// Whether it serves TLS.
    pub tls: bool,
    /// The other instances, on PostgreSQL (none on SQLite).
    others: Vec<Server>,
    /// Which instance the next device is given.
    turn: std::sync::atomic::AtomicUsize,
}

impl Server {
    /// Start a server on a free port (or `port`), waiting until it listens.
    pub fn start(data: &Path, port: u16) -> anyhow::Result<Self> {
        Self::spawn(data, port, &[])
    }

    /// Start a server on a free port with more `serve` arguments (TLS).
    pub fn start_with(data: &Path, args: &[&str]) -> anyhow::Result<Self> {
        Self::spawn(data, 0, args)
    }

    /// Start a server on `port` (0: a free one) with more `serve` arguments.
    pub fn start_at(data: &Path, port: u16, args: &[&str]) -> anyhow::Result<Self> {
        Self::spawn(data, port, args)
    }

    /// Start a server whose instances (on PostgreSQL) are each told every
    /// instance's address with `--also-at`, so that a device of a killed
    /// instance goes on through another; on SQLite, as [`Server::start`].
    pub fn start_naming_each_other(data: &Path) -> anyhow::Result<Self> {
        if crate::postgres::database_for(data)?.is_none() {
            return Self::start(data, 0);
        }
        // Every port is chosen before any instance starts, so that each can
        // be told the others'; the listeners are held until all are chosen,
        // so that no two are the same.
        let listeners = (0..crate::postgres::instances()?).map(|_| std::net::TcpListener::bind("127.0.0.1:0")).collect::<Result<Vec<_>, _>>()?;
        let ports = listeners.iter().map(|l| l.local_addr().map(|a| a.port())).collect::<Result<Vec<_>, _>>()?;
        drop(listeners);
        for (n, port) in ports.iter().enumerate().skip(1) {
            std::fs::write(Self::port_file(data, n + 1), port.to_string())?;
        }
        // An instance's own address among them is harmless: a device tries
        // each address once.
        let all = ports.iter().map(|p| format!("ws://127.0.0.1:{p}/sync")).collect::<Vec<_>>().join(",");
        Self::spawn(data, ports[0], &["--also-at", &all])
    }

    /// Start a server whose address space is limited to `bytes` (as `prlimit
    /// --as` does): an allocation beyond it fails, and the process with it.
    pub fn start_limited(data: &Path, bytes: u64) -> anyhow::Result<Self> {
        Self::start_limited_with(data, &[], None, Some(bytes))
    }

    /// Start a server with more `serve` arguments, an open-files soft limit
    /// (as under a login shell's usual 1,024) and an address-space limit,
    /// each if given.
    pub fn start_limited_with(data: &Path, args: &[&str], open_files: Option<u64>, address_space: Option<u64>) -> anyhow::Result<Self> {
        let mut command = Self::command(data, 0, args)?;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                if let Some(soft) = open_files {
                    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                    if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    limit.rlim_cur = soft.min(limit.rlim_max);
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                if let Some(bytes) = address_space {
                    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
                    if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        Self::run(command, data, args)
    }

    fn command(data: &Path, port: u16, args: &[&str]) -> anyhow::Result<Command> {
        let mut command = Command::new(lodge_sync_bin());
        command
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("RUST_LOG", std::env::var("LODGE_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        registry_of(&mut command, data)?;
        Ok(command)
    }

    fn spawn(data: &Path, port: u16, args: &[&str]) -> anyhow::Result<Self> {
        let mut server = Self::run(Self::command(data, port, args)?, data, args)?;
        // The tests of several instances name their database themselves.
        if let Some(url) = crate::postgres::database_for(data)?.filter(|_| !args.contains(&"--database")) {
            for n in 2..=crate::postgres::instances()? {
                server.others.push(Self::other(data, n, &url, args)?);
            }
        }
        Ok(server)
    }

    /// The `n`th instance (from 2) of a server on PostgreSQL, in `DATA.twin`
    /// (the second) or `DATA.twinN`, on the port it had before (kept beside
    /// it in `DATA.twin-port`, `DATA.twinN-port`): a test that restarts the
    /// server finds every instance where it was.
    fn other(data: &Path, n: usize, database: &str, args: &[&str]) -> anyhow::Result<Self> {
        let dir = data.with_extension(Self::twin(n));
        let port_file = Self::port_file(data, n);
        let port = std::fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse().ok()).unwrap_or(0);
        let mut command = Self::command(&dir, port, args)?;
        command.env("LODGE_SYNC_DATABASE", database);
        let other = Self::run(command, &dir, args)?;
        std::fs::write(&port_file, other.port().to_string())?;
        Ok(other)
    }

    /// The `n`th instance's (from 2) name beside the data directory.
    fn twin(n: usize) -> String {
        if n == 2 { "twin".to_owned() } else { format!("twin{n}") }
    }

    /// Where the `n`th instance's (from 2) port is kept.
    fn port_file(data: &Path, n: usize) -> PathBuf {
        data.with_extension(format!("{}-port", Self::twin(n)))
    }

    fn run(mut command: Command, data: &Path, args: &[&str]) -> anyhow::Result<Self> {
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        // "listening on ADDR" or "listening on ADDR (TLS)".
        let addr = line.trim().strip_prefix("listening on ").and_then(|r| r.split_whitespace().next()).with_context(|| format!("unexpected first line: {line}"))?.to_owned();
        Ok(Self { child, addr, data: data.to_path_buf(), tls: args.contains(&"--tls-cert"), others: Vec::new(), turn: Default::default() })
    }

    /// The WebSocket URL a device is given: on PostgreSQL, each instance in
    /// turn.
    pub fn ws_url(&self) -> String {
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % (1 + self.others.len());
        let instance = if turn == 0 { self } else { &self.others[turn - 1] };
        format!("{}://{}/sync", if instance.tls { "wss" } else { "ws" }, instance.addr)
    }

    /// The HTTP base URL.
    pub fn http_url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Every instance's HTTP base URL (one on SQLite).
    pub fn http_urls(&self) -> Vec<String> {
        let mut urls = vec![self.http_url()];
        urls.extend(self.others.iter().map(Server::http_url));
        urls
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    /// The server's process id (its first instance's, on PostgreSQL).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every instance's process id.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.child.id()];
        pids.extend(self.others.iter().map(Server::pid));
        pids
    }

    /// Send SIGTERM and wait (up to `limit`) for the process to exit (each
    /// instance's in turn, the first's last); the first's exit status, or an
    /// error when one did not exit in time (then it is killed).
    pub fn terminate(&mut self, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
        for other in &mut self.others {
            other.terminate(limit)?;
        }
        // SAFETY: kill(2) with our own child's pid.
        if unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) } != 0 {
            bail!("SIGTERM could not be sent: {}", std::io::Error::last_os_error());
        }
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > limit {
                self.kill();
                bail!("lodge-sync did not exit within {limit:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill the `n`th instance (from 2: the first, which the tests' admin
    /// devices are given, stays) at once, as `kill -9` does; its pid.
    pub fn kill_instance(&mut self, n: usize) -> anyhow::Result<u32> {
        let other = self.others.get_mut(n.wrapping_sub(2)).with_context(|| format!("there is no instance {n}"))?;
        let pid = other.pid();
        other.kill();
        Ok(pid)
    }

    /// Kill the process (every instance's) at once (no graceful shutdown).
    pub fn kill(&mut self) {
        for other in &mut self.others {
            other.kill();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A device: its own store file and sync client.
pub struct Device {
    /// The store, shared with the sync client.
    pub store: Arc<Mutex<Store>>,
    /// The client.
    pub sync: SyncHandle,
    /// The enrolled device id.
    pub id: DeviceId,
    /// Its role.
    pub role: Role,
    /// Its token.
    pub token: String,
    /// Its store file.
    pub path: PathBuf,
}

impl Device {
    /// Enrol a new device with a code from `lodge-sync enrol`, join its site
    /// and start syncing.
    pub async fn enrol(server: &Server, dir: &Path, name: &str, code: &str) -> anyhow::Result<Self> {
        Self::enrol_at(&server.http_url(), &server.ws_url(), dir, name, code).await
    }

    /// [`Device::enrol`] with a server known by its URLs (from another
    /// process).
    pub async fn enrol_at(http_url: &str, ws_url: &str, dir: &Path, name: &str, code: &str) -> anyhow::Result<Self> {
        Self::enrol_with_clock(http_url, ws_url, dir, name, code, Arc::new(SystemClock)).await
    }

    /// [`Device::enrol_at`] with the device's own clock (one set in the
    /// past makes its commands happen then).
    pub async fn enrol_with_clock(
        http_url: &str,
        ws_url: &str,
        dir: &Path,
        name: &str,
        code: &str,
        clock: Arc<dyn lodge_core::Clock>,
    ) -> anyhow::Result<Self> {
        let path = dir.join(format!("{name}.sqlite"));
        let store = Arc::new(Mutex::new(Store::open(&path, clock)?));
        let enrolled = lodge_core::sync::enrol(http_url, code, name, &store).await?;
        let sync = spawn(store.clone(), ws_url.to_owned(), enrolled.token.clone());
        Ok(Self { store, sync, id: enrolled.device, role: enrolled.role, token: enrolled.token, path })
    }

    /// A phone that joined on its own: the six-digit `code` sent to
    /// `contact` for the site with `site_code`.
    pub async fn join_by_sign_in_code(server: &Server, dir: &Path, name: &str, site_code: &str, contact: &str, code: &str) -> anyhow::Result<Self> {
        let path = dir.join(format!("{name}.sqlite"));
        let store = Arc::new(Mutex::new(Store::open(&path, Arc::new(SystemClock))?));
        let enrolled = lodge_core::sync::enrol_by_sign_in_code(&server.http_url(), site_code, contact, code, name, &store).await?;
        let sync = spawn(store.clone(), server.ws_url(), enrolled.token.clone());
        Ok(Self { store, sync, id: enrolled.device, role: enrolled.role, token: enrolled.token, path })
    }

    /// Run something on the store, then tell the client.
    pub fn act<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let out = f(&mut self.store.lock().unwrap());
        self.sync.changed();
        out
    }

    /// Read the store.
    pub fn read<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        f(&self.store.lock().unwrap())
    }

    /// Stop syncing (the device goes offline).
    pub fn go_offline(&self) {
        self.sync.stop();
    }

    /// Start syncing again.
    pub fn go_online(&mut self, server: &Server) {
        self.sync = spawn(self.store.clone(), server.ws_url(), self.token.clone());
    }

    /// A kiosk actor for this device.
    pub fn kiosk(&self) -> Actor {
        Actor::kiosk(self.id)
    }
}

/// Wait until `check` holds, polling; fails after `limit` so a broken sync
/// fails the test instead of hanging it.
pub async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        if check() {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!("timed out after {limit:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Create a site and return its id.
pub fn create_site(data: &Path, name: &str) -> anyhow::Result<SiteId> {
    create_site_in(data, name, "UTC")
}

/// A new site in the time zone `zone` (IANA).
pub fn create_site_in(data: &Path, name: &str, zone: &str) -> anyhow::Result<SiteId> {
    Ok(admin(data, &["site", "create", "--name", name, "--time-zone", zone])?.parse()?)
}

/// A frame of this app's protocol as the next version would send it: a
/// frame is `{"v": version, "body": …}` in CBOR, the version first, so the
/// same bytes with the next number (frames made by hand for tests of
/// version skew).
pub fn of_the_next_version(frame: Vec<u8>) -> Vec<u8> {
    let mut bytes = frame;
    assert_eq!(bytes[..4], [0xa2, 0x61, b'v', lodge_core::sync::PROTOCOL_VERSION as u8], "the frame starts with its version");
    bytes[3] += 1;
    bytes
}

/// A one-time enrolment code.
pub fn code(data: &Path, site: SiteId, role: &str, person: Option<PersonId>) -> anyhow::Result<String> {
    let site = site.to_string();
    let mut args = vec!["enrol", "--site", &site, "--role", role];
    let person = person.map(|p| p.to_string());
    if let Some(p) = &person {
        args.extend(["--person", p]);
    }
    admin(data, &args)
}
