//! `lodge-sync`: run the sync server and administer its sites and devices.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use lodge_core::{Actor, Clock, DeviceId, NewSite, PersonId, Role, SiteId, SystemClock, Timestamp};
use lodge_sync_server::{AppState, app};

// glibc's allocator kept freed memory of a busy catch-up in its per-thread
// arenas for good (200 MB resident holding 5 MB of live heap at 50
// devices); mimalloc gives it back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "lodge-sync", version, about = "The sync server of a Lodge site")]
struct Cli {
    /// Where the server keeps its data.
    #[arg(long, global = true, default_value = "lodge-sync-data", env = "LODGE_SYNC_DATA")]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve devices over HTTP and WebSocket.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Serve plain HTTP on a non-loopback address (only behind a TLS proxy).
        #[arg(long)]
        allow_plain_http: bool,
        /// Serve HTTPS/WSS with this certificate chain (PEM), with `--tls-key`.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
    },
    /// Sites on this server.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Print a one-time enrolment code for a device.
    Enrol {
        /// The site.
        #[arg(long)]
        site: SiteId,
        /// The device's role: kiosk, reception, staff, worker, key-desk, admin.
        #[arg(long)]
        role: String,
        /// For staff and worker phones: whose phone it is.
        #[arg(long)]
        person: Option<PersonId>,
        /// Minutes until the code expires.
        #[arg(long, default_value_t = 60)]
        minutes: i64,
        /// Also print the code as a QR code: `text` (to the terminal) or an
        /// SVG file path.
        #[arg(long)]
        qr: Option<String>,
    },
    /// Enrolled devices.
    Devices {
        #[command(subcommand)]
        command: DevicesCommand,
    },
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Create a site; prints its id.
    Create {
        /// The building's name.
        #[arg(long, required_unless_present = "demo")]
        name: Option<String>,
        /// Create "Lodge Demo House" with people, keys, equipment and guests.
        #[arg(long)]
        demo: bool,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// List sites.
    List,
    /// Take in a site that was started on a device without a server: makes
    /// an empty site with the device's site id; enrol that device with an
    /// admin code and it uploads everything it holds.
    Adopt {
        /// The site id the device shows (Admin → Devices).
        site: SiteId,
        /// A name to list until the site's own settings arrive.
        #[arg(long, default_value = "Site joining from a device")]
        name: String,
    },
}

#[derive(Subcommand)]
enum DevicesCommand {
    /// List devices.
    List,
    /// Revoke a device: disconnected now, refused and told to wipe later.
    Revoke {
        /// The device.
        device: DeviceId,
    },
}

fn parse_role(name: &str) -> anyhow::Result<Role> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .with_context(|| format!("“{name}” is not a role; use kiosk, reception, staff, worker, key-desk or admin"))
}

fn main() -> anyhow::Result<()> {
    // Store work waits for the site's one store lock anyway: more blocking
    // threads than this only add threads (each with its own allocator
    // heap) waiting in line. 200 connections grew the default pool to 200
    // threads and the server past a gigabyte.
    tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(BLOCKING_THREADS).build()?.block_on(serve_cli())
}

/// See `main`.
const BLOCKING_THREADS: usize = 8;

async fn serve_cli() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let state = AppState::open(&cli.data).with_context(|| format!("opening {}", cli.data.display()))?;
    match cli.command {
        Command::Serve { listen, allow_plain_http, tls_cert: Some(cert), tls_key: Some(key) } => {
            let _ = allow_plain_http;
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| format!("reading the TLS certificate {} and key {}", cert.display(), key.display()))?;
            // Small sync frames must not wait for Nagle's algorithm.
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(axum_server::accept::NoDelayAcceptor::new());
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stop.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            let server = axum_server::bind(listen).acceptor(acceptor).handle(handle.clone()).serve(app(state).into_make_service());
            let serving = tokio::spawn(server);
            let local = handle.listening().await.with_context(|| format!("listening on {listen}"))?;
            // Tests and scripts read this line to learn the port.
            println!("listening on {local} (TLS)");
            tracing::info!(%local, data = %cli.data.display(), "lodge-sync serving HTTPS and WSS");
            serving.await??;
        }
        Command::Serve { listen, allow_plain_http, .. } => {
            if !listen.ip().is_loopback() && !allow_plain_http {
                bail!("refusing plain HTTP on {listen}: pass --tls-cert and --tls-key, serve on loopback behind a TLS proxy, or pass --allow-plain-http");
            }
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
            let local = listener.local_addr()?;
            // Small sync frames must not wait for Nagle's algorithm.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            // Tests and scripts read this line to learn the port.
            println!("listening on {local}");
            tracing::info!(%local, data = %cli.data.display(), "lodge-sync serving");
            axum::serve(listener, app(state))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Command::Site { command: SiteCommand::Create { name, demo, time_zone } } => {
            let site = tokio::task::spawn_blocking(move || -> anyhow::Result<SiteId> {
                let tmp = state.site_store_path(SiteId::new()).with_extension("creating");
                let mut store = lodge_core::Store::open(&tmp, Arc::new(SystemClock))?;
                let site = match name {
                    Some(name) if !demo => store.create_site(&Actor::site_founder("lodge-sync"), NewSite { name, time_zone })?,
                    _ => lodge_core::demo::create_demo_site(&mut store)?,
                };
                let name = store.site_settings()?.map(|s| s.name).unwrap_or_default();
                let docs = store.documents()?;
                drop(store);
                std::fs::rename(&tmp, state.site_store_path(site))?;
                let mut registry = state.registry();
                registry.add_site(site, &name)?;
                // Everything made here is news to every device.
                for doc in &docs {
                    registry.bump(site, doc, false)?;
                }
                Ok(site)
            })
            .await??;
            println!("{site}");
        }
        Command::Site { command: SiteCommand::Adopt { site, name } } => {
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                if state.registry().sites()?.iter().any(|(s, _)| *s == site) {
                    bail!("site {site} is already on this server");
                }
                let mut store = lodge_core::Store::open(state.site_store_path(site), Arc::new(SystemClock))?;
                store.join_site(site)?;
                drop(store);
                state.registry().add_site(site, &name)?;
                Ok(())
            })
            .await??;
            println!("{site}");
        }
        Command::Site { command: SiteCommand::List } => {
            for (site, name) in state.registry().sites()? {
                println!("{site}  {name}");
            }
        }
        Command::Enrol { site, role, person, minutes, qr } => {
            let role = parse_role(&role)?;
            let expires = Timestamp::from_millis(SystemClock.now().millis() + minutes * 60_000);
            let code = state.registry().create_code(site, role, person, expires)?;
            println!("{code}");
            eprintln!("One-time {role} code for site {site}, valid until {expires}.");
            if let Some(target) = qr {
                let symbol = qrcode::QrCode::new(code.as_bytes()).context("making the QR code")?;
                if target == "text" {
                    // Half-height blocks keep the code square in a terminal.
                    let text = symbol.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build();
                    eprintln!("{text}");
                } else {
                    let svg = symbol.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).build();
                    std::fs::write(&target, svg).with_context(|| format!("writing {target}"))?;
                    eprintln!("QR code written to {target}.");
                }
            }
        }
        Command::Devices { command: DevicesCommand::List } => {
            for d in state.registry().devices()? {
                let status = d.revoked_at.map_or("active".to_owned(), |t| format!("revoked {t}"));
                println!("{}  {:<10} {:<20} {}", d.device, d.role.label(), d.name, status);
            }
        }
        Command::Devices { command: DevicesCommand::Revoke { device } } => {
            state.registry().revoke(device, SystemClock.now())?;
            println!("revoked {device}; it is refused from now on and told to wipe its store");
        }
    }
    Ok(())
}
