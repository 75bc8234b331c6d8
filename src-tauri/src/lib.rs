//! `lodge-app`: the Tauri 2 shell around `lodge-core`. A thin layer: Tauri
//! commands that call the core ([`commands`]), the sync client running in
//! the background, and events to the UI when the store changes, a badge card
//! is read or the sync status moves ([`events`]). One binary for every role;
//! the device's role, chosen at first run ([`setup`]), decides the screens.

pub mod badge;
pub mod bindings;
pub mod codes;
pub mod commands;
pub mod desk;
pub mod error;
pub mod events;
pub mod setup;

use std::path::PathBuf;

use clap::Parser;
use tauri::Manager;

// Applying a change received from the server allocates and frees a few
// hundred small blocks (Automerge's columns, SQLite's statements); with
// mimalloc a device spends about a tenth less time per change than with
// glibc's allocator (measured with `lodge-load`, whose devices use it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where the device keeps its store: several instances can run side by side,
/// each with its own directory.
#[derive(Debug, Parser)]
#[command(name = "lodge", version, about = "Lodge: the front desk app")]
pub struct Options {
    /// The device's data directory (its store and its enrolment).
    #[arg(long, env = "LODGE_DATA_DIR")]
    pub data: Option<PathBuf>,
    /// Join this server at start if the device is not set up yet
    /// (`http://host:port`), with `--code`.
    #[arg(long, requires = "code")]
    pub server: Option<String>,
    /// The enrolment code for `--server`.
    #[arg(long, requires = "server")]
    pub code: Option<String>,
    /// This device's name in the site's list of devices, for `--server`
    /// ("Front desk"); without it, the first-run screen asks.
    #[arg(long, env = "LODGE_DEVICE_NAME")]
    pub name: Option<String>,
}

/// Start the app. On Android and iOS this is the entry point the native
/// shell calls.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    lodge_core::process::forgo_huge_pages();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    // A site that runs its server under its own certificate authority.
    if let Some(path) = std::env::var_os("LODGE_TLS_CA") {
        match std::fs::read(&path).map_err(|e| e.to_string()).and_then(|pem| lodge_core::sync::trust_certificates(&pem).map_err(|e| e.to_string())) {
            Ok(n) => tracing::info!(certificates = n, "trusting the site's certificate authority"),
            Err(e) => tracing::error!(error = %e, path = %std::path::Path::new(&path).display(), "LODGE_TLS_CA could not be used"),
        }
    }
    // Mobile shells pass no arguments we know of.
    let options = if cfg!(mobile) {
        Options { data: std::env::var_os("LODGE_DATA_DIR").map(PathBuf::from), server: None, code: None, name: None }
    } else {
        Options::parse()
    };

    // System notifications: a new announcement or emergency, and a phone's
    // end-of-day reminder (raised from the UI, which has the words).
    let builder = tauri::Builder::default().plugin(tauri_plugin_notification::init());
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_nfc::init()).plugin(tauri_plugin_barcode_scanner::init());

    builder
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let dir = match options.data.clone() {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            let desk = desk::Desk::open(app.handle().clone(), dir)?;
            if let (Some(server), Some(code), None) = (&options.server, &options.code, desk.setup()) {
                let device_name = options.name.clone().unwrap_or_default();
                let form = commands::setup::JoinSite { server: server.clone(), code: code.clone(), device_name: device_name.clone() };
                // Before the window shows, so it opens on the role's screens;
                // or on first run, saying why not.
                if let Err(e) = tauri::async_runtime::block_on(commands::setup::join_here(&desk, form)) {
                    tracing::error!(error = %e.message, "could not join {server}");
                    desk.set_failed_join(commands::setup::JoinAttempt { server: server.clone(), code: code.clone(), device_name, problem: e.message });
                }
            }
            app.manage(desk);
            let desk = app.state::<desk::Desk>();
            desk.start_sync();
            badge::start_readers(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "Lodge could not start");
            std::process::exit(1);
        });
}
