//! `lodge-sync`: the sync server of a Lodge site. Devices redeem a one-time
//! enrolment code for a token, then keep one WebSocket open over which their
//! documents sync both ways; a change that reaches the server is pushed at
//! once to every connected device that may see it. Documents are kept in one
//! `lodge-core` store per site; the registry holds devices and the change
//! feed.

pub mod accept;
pub mod admin;
pub mod audit;
pub mod backup;
pub mod body;
pub mod channel_settings;
pub mod channel_test;
pub mod connection;
pub mod door;
pub mod error;
pub mod expected;
pub mod host_notice;
pub mod hub;
pub mod job_watch;
pub mod join_requests;
pub mod joining;
pub mod limits;
pub mod metrics;
pub mod operators;
pub mod outbox;
pub mod outreach;
pub mod publish;
pub mod registry;
pub mod relay;
pub mod report;
pub mod retention;
pub mod roll_call;
pub mod sessions;
pub mod site_channels;
pub mod throttle;
pub mod visibility;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use lodge_core::sync::api;
use lodge_core::{SiteId, SystemClock};
use tokio::sync::broadcast;

pub use error::AppError;
pub use hub::SiteHub;
pub use limits::Limits;
pub use registry::{Device, Enrolled, Registry};

use crate::body::Body;
use crate::door::{Door, Pass};
use crate::sessions::Sessions;
use crate::throttle::Throttle;

/// Documents of a site kept loaded (30-45 KB each). A device's own edits
/// and the busy documents of the day fit; a catch-up of a whole year reads
/// through the store anyway.
const SITE_CACHE_DOCS: usize = 400;

/// How often a site's sync states are written (and when a session ends):
/// nearly every device a change reaches moves one, and with a second, as on
/// a device, each was written once per change, 12 K of the 80 K
/// instructions a change delivered cost. A crash makes the next exchange
/// of the documents changed since longer, and loses nothing.
const SYNC_STATES_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// See `sync`.
const SOCKET_BUFFER_BYTES: usize = 8 * 1024;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    /// Devices, codes, the feed.
    pub registry: Arc<Mutex<Registry>>,
    /// Each site's hub, behind a slot of its own: a site whose store is
    /// slow to open (a migration, a disk held by another process) keeps
    /// only its own devices waiting, never another site's.
    hubs: Arc<Hubs>,
    /// Starts the one task that writes every site's sync states.
    states_writer: Arc<std::sync::Once>,
    /// The jobs of each closed site by state, as they were when it was
    /// closed or read at start: they cannot change while it is closed
    /// (another process's write opens it again).
    closed_jobs: Arc<Mutex<HashMap<SiteId, Vec<(String, u64)>>>>,
    data: PathBuf,
    /// Revoked devices, so their open connections close at once.
    pub revoked: broadcast::Sender<lodge_core::DeviceId>,
    /// The edge's limits.
    pub limits: Arc<Limits>,
    /// Connections let in, per address.
    pub door: Arc<Door>,
    /// Devices' live sessions.
    pub sessions: Arc<Sessions>,
    /// Failed enrolments.
    pub throttle: Arc<Throttle>,
    /// Wrong invitation codes at kiosks.
    pub invitations: Arc<Throttle>,
    /// Sign-in codes asked for ("I work here"), every request counted.
    pub sign_in_requests: Arc<Throttle>,
    /// Frames and bytes to and from devices, for `/metrics`.
    pub traffic: Arc<metrics::Traffic>,
    /// The bearer token `/metrics` asks for; none: no `/metrics`.
    pub metrics_token: Option<String>,
    /// "Now" for the sites' stores and the rules that run by the clock
    /// (`serve --clock-start` makes it start elsewhere, for a test).
    pub clock: Arc<dyn lodge_core::Clock>,
    /// The ways messages leave the server, when it sends them (`serve`):
    /// the admin's "send a test" uses them.
    pub channels: Option<Arc<outreach::Channels>>,
    /// This instance among those of one PostgreSQL database (see
    /// [`relay`]): a name kept in its data directory.
    instance: Arc<str>,
    /// Whether changes go through the database to other instances.
    relays: bool,
    /// The other instances' sync addresses (`serve --also-at`).
    pub also_at: Arc<[String]>,
}

impl AppState {
    /// Open the server's data directory, with its registry in it and the
    /// default limits.
    pub fn open(data: &Path) -> anyhow::Result<Self> {
        Self::open_with(data, None, Limits::default())
    }

    /// Open the server's data directory, with its registry in the
    /// PostgreSQL database `database` or, without one, in the directory.
    /// From blocking code only.
    pub fn open_with(data: &Path, database: Option<&registry::DatabaseAddress>, limits: Limits) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data.join("sites"))?;
        let registry = match database {
            Some(address) => Registry::connect(address)?,
            None => Registry::open(&data.join("registry.sqlite"))?,
        };
        let relays = registry.is_postgres();
        let (revoked, _) = broadcast::channel(64);
        let throttle = Throttle::new(limits.enrol_burst_per_address, limits.enrol_burst, limits.enrol_refill);
        let invitations = Throttle::new(limits.enrol_burst_per_address, limits.enrol_burst, limits.enrol_refill);
        let sign_in_requests = Throttle::new(limits.enrol_burst_per_address, limits.enrol_burst, limits.enrol_refill);
        Ok(Self {
            registry: Arc::new(Mutex::new(registry)),
            hubs: Arc::default(),
            states_writer: Arc::new(std::sync::Once::new()),
            closed_jobs: Arc::default(),
            data: data.to_path_buf(),
            revoked,
            door: Door::new(limits.clone()),
            limits: Arc::new(limits),
            sessions: Arc::default(),
            throttle: Arc::new(throttle),
            invitations: Arc::new(invitations),
            sign_in_requests: Arc::new(sign_in_requests),
            traffic: Arc::default(),
            metrics_token: None,
            clock: Arc::new(SystemClock),
            channels: None,
            instance: if relays { instance_name(data)?.into() } else { "this".into() },
            relays,
            also_at: Arc::from(Vec::new()),
        })
    }

    /// This instance's name among those of its database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether changes go through a PostgreSQL database, to and from
    /// other instances (see [`relay`]).
    pub fn relays(&self) -> bool {
        self.relays
    }

    /// The same state with another clock (before any site is opened).
    pub fn with_clock(mut self, clock: Arc<dyn lodge_core::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same state with `/metrics` behind this bearer token.
    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.filter(|t| !t.is_empty());
        self
    }

    /// The same state with the other instances' sync addresses, told to
    /// every device in its welcome.
    pub fn with_also_at(mut self, also_at: Vec<String>) -> Self {
        self.also_at = also_at.into();
        self
    }

    /// The same state with the server's channels.
    pub fn with_channels(mut self, channels: Arc<outreach::Channels>) -> Self {
        self.channels = Some(channels);
        self
    }

    /// Write every open site's sync states (at shutdown; from blocking
    /// code only).
    pub fn write_sync_states(&self) -> Result<(), AppError> {
        for hub in self.open_hubs() {
            hub.store().write_sync_states()?;
        }
        Ok(())
    }

    /// Whether `person` exists in `site`'s store (from blocking code only).
    pub fn person_exists(&self, site: SiteId, person: lodge_core::PersonId) -> Result<bool, AppError> {
        // An unknown site must not get a store file by being asked about.
        if !self.registry().sites()?.iter().any(|(s, _)| *s == site) {
            return Err(registry::RegistryError::UnknownSite(site).into());
        }
        let hub = self.hub(site)?;
        let found = hub.store().person(person)?;
        Ok(found.is_some())
    }

    /// Create a site on the server: `new`, or the demo site (from blocking
    /// code only). Its documents are news to every device that joins.
    pub fn create_site(&self, new: Option<lodge_core::NewSite>) -> Result<SiteId, AppError> {
        let tmp = self.site_store_path(SiteId::new()).with_extension("creating");
        let mut store = lodge_core::Store::open(&tmp, Arc::new(SystemClock))?;
        let site = match new {
            Some(new) => store.create_site(&lodge_core::Actor::site_founder("lodge-sync"), new)?,
            None => lodge_core::demo::create_demo_site(&mut store)?,
        };
        let name = store.site_settings()?.map(|s| s.name).unwrap_or_default();
        let mut docs = Vec::new();
        for doc in store.documents()? {
            // Whole, for the other instances of the database (see `relay`).
            let changes = if self.relays { store.changes_since(&doc, &[])?.map(|(bytes, _)| bytes) } else { None };
            docs.push(registry::Numbered { doc, purged: false, changes });
        }
        drop(store);
        std::fs::rename(&tmp, self.site_store_path(site)).map_err(AppError::Io)?;
        let mut registry = self.registry();
        registry.add_site(site, &name)?;
        registry.number(site, &docs, &self.instance)?;
        Ok(site)
    }

    /// Where a site's store lives.
    pub fn site_store_path(&self, site: SiteId) -> PathBuf {
        self.data.join("sites").join(format!("{site}.sqlite"))
    }

    /// The site's hub, opening its store on first use.
    pub fn hub(&self, site: SiteId) -> Result<Arc<SiteHub>, AppError> {
        // The map is held only to find the site's slot; the store opens
        // under the slot's own lock.
        let slot = self.hubs.lock().unwrap_or_else(|p| p.into_inner()).entry(site).or_default().clone();
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hub) = &*slot {
            return Ok(hub.clone());
        }
        // A store that failed to open leaves the slot empty: the next
        // device tries again.
        let mut store = lodge_core::Store::open(self.site_store_path(site), self.clock.clone())?;
        store.set_cache_capacity(SITE_CACHE_DOCS);
        store.set_sync_state_interval(SYNC_STATES_EVERY);
        // The server's store acts on facts (see `outreach` for the jobs).
        store.act_on_facts();
        // With other instances, the hub's number is what its store merged,
        // and it merges the rest before anyone is told of it.
        let seq = if self.relays { relay::merged_in(&store)? } else { self.registry().seq(site)? };
        let hub = Arc::new(SiteHub::new(site, store, seq));
        // What a server killed while its database was away still owes:
        // numbered with the next change, or the relay's next look.
        hub.owed_from_store()?;
        if self.relays {
            relay::merge(self, &hub)?;
        }
        // Its Slack hooks as the registry has them; if that fails, a copy
        // from the last time until the next look.
        if let Err(e) = site_channels::copy_into_hub(self, &hub) {
            tracing::warn!(%site, error = %e, "the site's channels could not be copied from the registry");
        }
        retention::copy_or_warn(self, &hub);
        *slot = Some(hub.clone());
        if hub.owes() {
            publish::publish(self, &hub, None, Vec::new(), false);
        }
        // Sync states that devices' frames moved reach the file within a
        // second or so even when the site goes quiet (see
        // `Store::write_sync_states`): one writer for every site.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let hubs = Arc::downgrade(&self.hubs);
            self.states_writer.call_once(|| {
                runtime.spawn(write_sync_states_every_second(hubs));
            });
        }
        Ok(hub)
    }

    /// The sites whose stores are open now.
    pub fn open_hubs(&self) -> Vec<Arc<SiteHub>> {
        open_in(&self.hubs)
    }

    /// The site's hub if its store is open now (it is not opened).
    pub fn open_hub(&self, site: SiteId) -> Option<Arc<SiteHub>> {
        let slot = self.hubs.lock().unwrap_or_else(|p| p.into_inner()).get(&site).cloned()?;
        slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A site's jobs counted by state: from its open store, as they were
    /// when it was closed, or else from its file, which stays closed
    /// (from blocking code only).
    pub fn job_counts(&self, site: SiteId) -> Result<Vec<(String, u64)>, AppError> {
        if let Some(hub) = self.open_hub(site) {
            return Ok(hub.look_at_store().job_counts()?);
        }
        if let Some(counts) = self.closed_jobs().get(&site) {
            return Ok(counts.clone());
        }
        let path = self.site_store_path(site);
        if !path.exists() {
            return Ok(Vec::new());
        }
        Ok(lodge_core::Store::open(path, self.clock.clone())?.job_counts()?)
    }

    /// Keep a closed site's job counts (see [`AppState::job_counts`]).
    pub fn jobs_when_closed(&self, site: SiteId, counts: Vec<(String, u64)>) {
        self.closed_jobs().insert(site, counts);
    }

    fn closed_jobs(&self) -> std::sync::MutexGuard<'_, HashMap<SiteId, Vec<(String, u64)>>> {
        self.closed_jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Close the stores of the sites that have had no device connected and
    /// no work for `quiet` (from blocking code only); their sync states
    /// are written first. Returns them. A hub anyone else still holds (a
    /// connection, a job being sent) stays open.
    pub fn close_quiet_sites(&self, quiet: std::time::Duration) -> Vec<SiteId> {
        let slots: Vec<_> = self.hubs.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let mut closed = Vec::new();
        for slot in slots {
            // Whoever wants the hub takes this lock first (`hub`), so a
            // hub held by the slot alone cannot be taken while it closes.
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            let Some(hub) = &*slot else { continue };
            if Arc::strong_count(hub) > 1 || hub.quiet_for() < quiet || !hub.others(None).is_empty() {
                continue;
            }
            let mut store = hub.look_at_store();
            let counts = store.write_sync_states().and_then(|_| store.job_counts());
            drop(store);
            match counts {
                Ok(counts) => self.jobs_when_closed(hub.site, counts),
                Err(e) => {
                    tracing::warn!(site = %hub.site, error = %e, "a quiet site stays open: its sync states or jobs could not be read");
                    continue;
                }
            }
            closed.push(hub.site);
            // The store closes here, under the slot's lock.
            *slot = None;
        }
        if !closed.is_empty() {
            // SQLite allocates through the C library, which keeps what a
            // closed store freed unless asked to give it back.
            // SAFETY: malloc_trim has no preconditions.
            unsafe { libc::malloc_trim(0) };
        }
        closed
    }

    /// Lock the registry.
    pub fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The instance's name among those of its database, kept in its data
/// directory: started again (after a crash), it takes back at once the
/// jobs it was sending (see `relay` and `outreach`).
fn instance_name(data: &Path) -> std::io::Result<String> {
    let file = data.join("instance");
    match std::fs::read_to_string(&file) {
        Ok(name) if !name.trim().is_empty() => Ok(name.trim().to_owned()),
        _ => {
            let name = format!("i-{}", uuid::Uuid::new_v4().simple());
            std::fs::write(&file, &name)?;
            Ok(name)
        }
    }
}

/// Each site's hub in one of [`AppState`]'s slots, if it is open.
type Hubs = Mutex<HashMap<SiteId, Arc<Mutex<Option<Arc<SiteHub>>>>>>;

fn open_in(hubs: &Hubs) -> Vec<Arc<SiteHub>> {
    let slots: Vec<_> = hubs.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
    slots.into_iter().filter_map(|slot| slot.lock().unwrap_or_else(|p| p.into_inner()).clone()).collect()
}

/// Every second, write the sync states devices' frames moved, for all open
/// sites whose `SYNC_STATES_EVERY` has passed, in one blocking turn (a site
/// not due costs a look at a field); until the server's state is dropped.
/// One task for all sites, not one per site: a thousand sites' thread hops
/// every second were most of an idle server's time.
async fn write_sync_states_every_second(hubs: std::sync::Weak<Hubs>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(hubs) = hubs.upgrade() else { return };
        let _ = tokio::task::spawn_blocking(move || {
            for hub in open_in(&hubs) {
                if let Err(e) = hub.look_at_store().write_sync_states_when_due() {
                    tracing::warn!(site = %hub.site, error = %e, "sync states were not written");
                }
            }
        })
        .await;
    }
}

/// The router: health, enrolment, joining, sync; the routes that need a
/// token (admin, operator, phones', kiosks') keep an audit row per call.
pub fn app(state: AppState) -> Router {
    let audited = Router::new()
        .route(api::ADMIN_DEVICES_PATH, get(admin::devices))
        .route(api::ADMIN_REVOKE_ROUTE, post(admin::revoke))
        .route(api::ADMIN_CODES_PATH, post(admin::create_code))
        .route(api::ADMIN_JOBS_PATH, get(admin::jobs))
        .route(api::ADMIN_JOB_RETRY_ROUTE, post(admin::retry_job))
        .route(api::ADMIN_JOBS_RUN_PATH, post(admin::run_rule))
        .route(api::ADMIN_RETENTION_RUN_PATH, post(admin::run_retention))
        .route(api::ADMIN_RETENTION_REPORTS_PATH, get(admin::retention_reports))
        .route(api::ADMIN_PRESENCE_PATH, get(admin::presence))
        .route(api::ADMIN_JOIN_CODE_PATH, get(joining::join_code))
        .route(api::ADMIN_AUDIT_PATH, get(audit::site_rows))
        .route(api::EXPECTED_PATH, post(expected::expect))
        .route(api::ROLL_CALLS_PATH, post(roll_call::start))
        .route(api::KIOSK_INVITATION_PATH, post(expected::invitation))
        .route(api::KIOSK_ARRIVAL_PATH, post(expected::arrival))
        .route(api::ADMIN_CHANNEL_TEST_PATH, post(admin::test_channel))
        .route(api::ADMIN_SLACK_HOOKS_PATH, get(channel_settings::slack_hooks).post(channel_settings::add_slack_hook))
        .route(api::ADMIN_SLACK_HOOK_ROUTE, delete(channel_settings::remove_slack_hook))
        .route(
            api::ADMIN_MAIL_RELAY_PATH,
            get(channel_settings::mail_relay).put(channel_settings::set_mail_relay).delete(channel_settings::clear_mail_relay),
        )
        .route(api::ADMIN_ANNOUNCEMENT_DELIVERIES_ROUTE, get(admin::announcement_deliveries))
        .route(api::ADMIN_JOIN_REQUESTS_PATH, get(join_requests::list))
        .route(api::ADMIN_JOIN_REQUEST_APPROVE_ROUTE, post(join_requests::approve))
        .route(api::ADMIN_JOIN_REQUEST_REFUSE_ROUTE, post(join_requests::refuse))
        .route(api::ADMIN_JOIN_DOMAINS_PATH, get(join_requests::domains).put(join_requests::set_domains))
        .route(api::LEAVE_PATH, post(joining::leave))
        .route(api::LOGIN_LINKS_PATH, post(joining::login_link))
        .route(api::OPERATOR_SITES_PATH, get(operators::sites).post(operators::create_site))
        .route(api::OPERATOR_INVITES_PATH, post(operators::create_invite))
        .route(api::OPERATOR_OPERATORS_PATH, get(operators::operators).post(operators::add_operator))
        .route(api::OPERATOR_AUDIT_PATH, get(operators::audit_rows))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), audit::record));
    Router::new()
        .route(api::HEALTH_PATH, get(health))
        .route(api::ENROL_PATH, post(enrol))
        .route(api::JOIN_CODE_PATH, post(joining::ask_code))
        .route(api::JOIN_ENROL_PATH, post(joining::enrol))
        .route(api::JOIN_REQUEST_PATH, post(join_requests::request))
        .route(api::INVITE_REDEEM_PATH, post(operators::redeem_invite))
        .route("/metrics", get(metrics::metrics))
        .route(api::SYNC_PATH, get(sync))
        .merge(audited)
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Result<Json<api::Health>, AppError> {
    let sites = tokio::task::spawn_blocking(move || state.registry().sites().map(|s| s.len())).await??;
    Ok(Json(api::Health { status: "ok".into(), sites }))
}

async fn enrol(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<std::net::SocketAddr>,
    Body(request): Body<api::EnrolRequest>,
) -> Result<Json<api::Enrolled>, AppError> {
    let address = address.ip();
    state.throttle.admit(address, "enrolment")?;
    let s = state.clone();
    let redeemed = tokio::task::spawn_blocking(move || {
        let now = lodge_core::Clock::now(&SystemClock);
        s.registry().redeem(&request.code, &request.actor, &request.name, now)
    })
    .await?;
    let row = registry::AuditRow {
        site: redeemed.as_ref().ok().map(|e| e.device.site),
        device: redeemed.as_ref().ok().map(|e| e.device.device),
        person: redeemed.as_ref().ok().and_then(|e| e.device.person),
        address: address.to_string(),
        action: if redeemed.as_ref().is_ok_and(|e| e.by_link) { "enrol-by-link".into() } else { "enrol".into() },
        outcome: redeemed.as_ref().map_or_else(registry::RegistryError::outcome, |_| "ok").to_owned(),
        detail: redeemed.as_ref().map(|e| e.device.role.label().to_owned()).unwrap_or_default(),
        ..Default::default()
    };
    audit::keep(&state, row).await;
    match redeemed {
        Ok(enrolled) => {
            state.throttle.succeeded(address);
            tracing::info!(%address, device = %enrolled.device.device, role = %enrolled.device.role, "device enrolled");
            Ok(Json(api::Enrolled { device: enrolled.device.public(), token: enrolled.token }))
        }
        Err(e) => {
            // Every failure counts (its attempt is not given back): a
            // guessed code, and a right code sent with another device's
            // actor id, alike.
            tracing::warn!(%address, error = %e, "enrolment failed");
            Err(e.into())
        }
    }
}

async fn sync(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    pass: Option<axum::Extension<Arc<Pass>>>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> axum::response::Response {
    // Devices name themselves in their hello; an operator's token in the
    // headers is refused here: operators never read a document.
    if let Some(token) = admin::bearer(&headers) {
        let s = state.clone();
        if let Ok(Ok(Some(_))) = tokio::task::spawn_blocking(move || s.registry().operator(&token)).await {
            return AppError::OperatorNotDevice.into_response();
        }
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // Until its hello is accepted, a socket may send only a hello's worth
    // (see `door`). Served without our accept loop (the router alone, in
    // a test) there is no pass to limit.
    let pass = pass.map(|p| p.0);
    if let Some(pass) = &pass {
        pass.limit(lodge_core::sync::MAX_HELLO_BYTES);
    }
    // Small socket buffers: 200 devices with the default 128 KB each way
    // held 50 MB of the server's memory for frames that are mostly tiny.
    // A frame may be no larger than a message: axum's default frame limit
    // (16 MiB) let a stranger make the server buffer twice the message
    // limit.
    ws.max_message_size(lodge_core::sync::MAX_FRAME_BYTES)
        .max_frame_size(lodge_core::sync::MAX_FRAME_BYTES)
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| connection::serve(socket, state, pass))
        .into_response()
}
