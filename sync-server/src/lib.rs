//! `lodge-sync`: the sync server of a Lodge site. Devices redeem a one-time
//! enrolment code for a token, then keep one WebSocket open over which their
//! documents sync both ways; a change that reaches the server is pushed at
//! once to every connected device that may see it. Documents are kept in one
//! `lodge-core` store per site; the registry holds devices and the change
//! feed.

pub mod admin;
pub mod connection;
pub mod error;
pub mod hub;
pub mod registry;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use lodge_core::{SiteId, SystemClock};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub use error::AppError;
pub use hub::SiteHub;
pub use registry::{Device, Enrolled, Registry};

/// Documents of a site kept loaded (30-45 KB each). A device's own edits
/// and the busy documents of the day fit; a catch-up of a whole year reads
/// through the store anyway.
const SITE_CACHE_DOCS: usize = 400;

/// See `sync`.
const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// Devices, codes, the feed.
    pub registry: Arc<Mutex<Registry>>,
    hubs: Arc<Mutex<HashMap<SiteId, Arc<SiteHub>>>>,
    data: PathBuf,
    /// Revoked devices, so their open connections close at once.
    pub revoked: broadcast::Sender<lodge_core::DeviceId>,
}

impl AppState {
    /// Open the server's data directory.
    pub fn open(data: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data.join("sites"))?;
        let registry = Registry::open(&data.join("registry.sqlite"))?;
        let (revoked, _) = broadcast::channel(64);
        Ok(Self { registry: Arc::new(Mutex::new(registry)), hubs: Arc::default(), data: data.to_path_buf(), revoked })
    }

    /// Where a site's store lives.
    pub fn site_store_path(&self, site: SiteId) -> PathBuf {
        self.data.join("sites").join(format!("{site}.sqlite"))
    }

    /// The site's hub, opening its store on first use.
    pub fn hub(&self, site: SiteId) -> Result<Arc<SiteHub>, AppError> {
        let mut hubs = self.hubs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hub) = hubs.get(&site) {
            return Ok(hub.clone());
        }
        let mut store = lodge_core::Store::open(self.site_store_path(site), Arc::new(SystemClock))?;
        store.set_cache_capacity(SITE_CACHE_DOCS);
        let seq = self.registry().seq(site)?;
        let hub = Arc::new(SiteHub::new(site, store, seq));
        hubs.insert(site, hub.clone());
        // Sync states that devices' frames moved reach the file within a
        // second or so even when the site goes quiet (see
        // `Store::write_sync_states`).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let site_hub = Arc::downgrade(&hub);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let Some(hub) = site_hub.upgrade() else { return };
                    let written = tokio::task::spawn_blocking(move || hub.store().write_sync_states()).await;
                    if let Ok(Err(e)) = written {
                        tracing::warn!(%site, error = %e, "sync states were not written");
                    }
                }
            });
        }
        Ok(hub)
    }

    /// Lock the registry.
    pub fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The router: health, enrolment, sync.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/enrol", post(enrol))
        .route("/admin/devices", get(admin::devices))
        .route("/admin/devices/{device}/revoke", post(admin::revoke))
        .route("/admin/codes", post(admin::create_code))
        .route("/sync", get(sync))
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    sites: usize,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    let sites = tokio::task::spawn_blocking(move || state.registry().sites().map(|s| s.len())).await??;
    Ok(Json(Health { status: "ok", sites }))
}

/// A device redeeming its enrolment code.
#[derive(Debug, Deserialize, Serialize)]
pub struct EnrolRequest {
    /// The code, as printed or scanned.
    pub code: String,
    /// The Automerge actor id the device writes under (hex).
    pub actor: String,
    /// A name for device lists.
    #[serde(default)]
    pub name: String,
}

async fn enrol(State(state): State<AppState>, Json(request): Json<EnrolRequest>) -> Result<Json<Enrolled>, AppError> {
    let enrolled = tokio::task::spawn_blocking(move || {
        let now = lodge_core::Clock::now(&SystemClock);
        state.registry().redeem(&request.code, &request.actor, &request.name, now)
    })
    .await??;
    tracing::info!(device = %enrolled.device.device, role = %enrolled.device.role, "device enrolled");
    Ok(Json(enrolled))
}

async fn sync(State(state): State<AppState>, ws: WebSocketUpgrade) -> impl IntoResponse {
    // Small socket buffers: 200 devices with the default 128 KB each way
    // held 50 MB of the server's memory for frames that are mostly tiny.
    ws.max_message_size(lodge_core::sync::MAX_FRAME_BYTES)
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| connection::serve(socket, state))
}
