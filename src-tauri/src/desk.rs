//! The device as the commands see it: its store (shared with the sync
//! client), its enrolment, and the acting [`Actor`] that enrolment implies.
//! Every write goes through [`Desk::write`], which tells the UI which areas
//! changed and wakes the sync client.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tauri::AppHandle;

use lodge_core::sync::{Connection, SyncHandle, SyncStatus};
use lodge_core::{Actor, Role, Store, StoreError, SystemClock};

use crate::error::{Answer, Refusal};
use crate::events::{self, Area};
use crate::setup::{Setup, SetupError};

/// Why the site's data could not all be deleted from this device.
#[derive(Debug, thiserror::Error)]
pub enum WipeError {
    /// The store's files.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The enrolment file.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "lodge.sqlite";

/// The device.
pub struct Desk {
    app: Option<AppHandle>,
    dir: PathBuf,
    store: Arc<Mutex<Store>>,
    setup: RwLock<Option<Setup>>,
    sync: Mutex<Option<SyncHandle>>,
    failed_join: Mutex<Option<crate::commands::setup::JoinAttempt>>,
}

impl Desk {
    /// Open the device in `dir`: its store and its enrolment, if any.
    pub fn open(app: AppHandle, dir: PathBuf) -> Result<Self, Box<dyn std::error::Error>> {
        let mut desk = Self::open_headless(&dir)?;
        desk.app = Some(app);
        Ok(desk)
    }

    /// The same without a window, for tests of the commands' logic.
    pub fn open_headless(dir: &Path) -> Result<Self, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let store = Store::open(dir.join(STORE_FILE), Arc::new(SystemClock))?;
        let setup = Setup::load(dir)?;
        tracing::info!(dir = %dir.display(), role = ?setup.as_ref().map(|s| s.role), "device opened");
        Ok(Self { app: None, dir: dir.to_owned(), store: Arc::new(Mutex::new(store)), setup: RwLock::new(setup), sync: Mutex::new(None), failed_join: Mutex::new(None) })
    }

    /// Keep why the command line's join failed, for the first-run screen.
    pub fn set_failed_join(&self, attempt: crate::commands::setup::JoinAttempt) {
        *self.failed_join.lock().unwrap_or_else(|p| p.into_inner()) = Some(attempt);
    }

    /// Why the command line's join failed, if it did.
    pub fn failed_join(&self) -> Option<crate::commands::setup::JoinAttempt> {
        self.failed_join.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The app, when there is a window to tell.
    pub fn app(&self) -> Option<&AppHandle> {
        self.app.as_ref()
    }

    /// Where exported files go: the user's downloads folder, or the data
    /// directory's `exports/` where there is none.
    pub fn export_dir(&self) -> PathBuf {
        use tauri::Manager;
        self.app.as_ref().and_then(|a| a.path().download_dir().ok()).unwrap_or_else(|| self.dir.join("exports"))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The enrolment, if the device is set up.
    pub fn setup(&self) -> Option<Setup> {
        self.setup.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Record the device's enrolment.
    pub fn set_setup(&self, setup: Setup) -> Answer<()> {
        setup.save(&self.dir).map_err(|e| Refusal::new(e.to_string()))?;
        *self.setup.write().unwrap_or_else(|p| p.into_inner()) = Some(setup);
        Ok(())
    }

    /// The store, locked.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shared store, for the enrolment call that needs it across an await.
    pub fn store_handle(&self) -> Arc<Mutex<Store>> {
        self.store.clone()
    }

    /// Who acts on this device: its person for a phone, the kiosk for the
    /// lobby tablet, the device itself in its role otherwise.
    pub fn actor(&self) -> Answer<Actor> {
        let setup = self.setup().ok_or_else(|| Refusal::new("This device is not set up yet. Start a site or join one first."))?;
        let device = setup.server.as_ref().map(|j| j.device);
        Ok(match (setup.role, setup.person, device) {
            (Role::Kiosk, _, Some(device)) => Actor::kiosk(device),
            (role, Some(person), _) => {
                let name = self.store().person(person).ok().flatten().map(|p| p.name).unwrap_or_else(|| setup.device_name.clone());
                Actor { person: Some(person), device, name, role }
            }
            (role, None, device) => Actor { person: None, device, name: setup.device_name.clone(), role },
        })
    }

    /// Run a query.
    pub fn read<T, E: Into<Refusal>>(&self, f: impl FnOnce(&Store) -> Result<T, E>) -> Answer<T> {
        f(&self.store()).map_err(Into::into)
    }

    /// Run a command as this device's actor; on success tell the UI what
    /// changed and send it to the server.
    pub fn write<T, E: Into<Refusal>>(&self, areas: &[Area], f: impl FnOnce(&mut Store, &Actor) -> Result<T, E>) -> Answer<T> {
        let actor = self.actor()?;
        let result = f(&mut self.store(), &actor).map_err(Into::into)?;
        self.changed(areas);
        Ok(result)
    }

    /// Tell the UI and the sync client about a local change.
    pub fn changed(&self, areas: &[Area]) {
        let mut areas = areas.to_vec();
        areas.push(Area::Conflicts);
        if let Some(app) = &self.app {
            events::store_changed(app, areas, false);
        }
        if let Some(sync) = &*self.sync.lock().unwrap_or_else(|p| p.into_inner()) {
            sync.changed();
        }
    }

    /// The server removed this device from its site: delete everything of
    /// the site here (the store with its log and shared-memory files, the
    /// enrolment with its token) and start over as on first run, with an
    /// empty store. The sync client has stopped by then.
    pub fn wipe(&self) -> Result<(), WipeError> {
        // Forgotten first: nothing acts as this device any more.
        *self.setup.write().unwrap_or_else(|p| p.into_inner()) = None;
        let setup = Setup::remove(&self.dir);
        self.store().wipe()?;
        setup?;
        tracing::warn!(dir = %self.dir.display(), "this device was removed from its site; its data was deleted");
        Ok(())
    }

    /// Stop the sync client, if one runs (before this device signs itself
    /// out: nothing more goes up or comes down).
    pub fn stop_sync(&self) {
        if let Some(sync) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).take() {
            sync.stop();
        }
    }

    /// Where sync stands; `None` for a device with no server.
    pub fn sync_status(&self) -> Option<SyncStatus> {
        self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(SyncHandle::status)
    }

    /// Start the sync client if the device is joined to a server, and pass
    /// its news on to the UI.
    pub fn start_sync(&self) {
        let Some(joined) = self.setup().and_then(|s| s.server) else { return };
        let store = self.store.clone();
        let url = joined.sync_url();
        // The client spawns its task on Tauri's runtime, from the main thread
        // at start-up or from a command after joining.
        let runtime = tauri::async_runtime::handle();
        let handle = {
            let _entered = runtime.inner().enter();
            // The app names itself in its hello: the admin's list of devices
            // shows which version each device runs.
            let options = lodge_core::sync::ClientOptions { app: Some(concat!("lodge ", env!("CARGO_PKG_VERSION"))), ..Default::default() };
            lodge_core::sync::spawn_with(store, url, joined.token, options)
        };
        if let Some(app) = self.app.clone() {
            let mut status = handle.watch();
            let status_app = app.clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    let now = status.borrow_and_update().clone();
                    if now.connection == Connection::Revoked {
                        // Wiped before the UI hears of it, so that it finds
                        // the device on first run. File work: off the
                        // runtime's threads.
                        let app = status_app.clone();
                        let wiped = tauri::async_runtime::spawn_blocking(move || {
                            use tauri::Manager;
                            app.state::<Desk>().wipe()
                        })
                        .await;
                        match wiped {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::error!(error = %e, "the site's data could not all be deleted"),
                            Err(e) => tracing::error!(error = %e, "deleting the site's data failed"),
                        }
                        events::sync_status(&status_app, &now);
                        return;
                    }
                    events::sync_status(&status_app, &now);
                    if status.changed().await.is_err() {
                        return;
                    }
                }
            });
            let mut arrivals = handle.arrivals();
            tauri::async_runtime::spawn(async move {
                use tokio::sync::broadcast::error::RecvError;
                loop {
                    match arrivals.recv().await {
                        Ok(kinds) => {
                            let mut areas: Vec<Area> = kinds.into_iter().flat_map(Area::of).collect();
                            areas.sort_by_key(|a| *a as u8);
                            areas.dedup();
                            events::store_changed(&app, areas, true);
                        }
                        // Missed some: refresh everything.
                        Err(RecvError::Lagged(_)) => events::store_changed(&app, ALL_AREAS.to_vec(), true),
                        Err(RecvError::Closed) => return,
                    }
                }
            });
        }
        *self.sync.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    }
}

const ALL_AREAS: [Area; 9] = [
    Area::Site,
    Area::People,
    Area::Visits,
    Area::Presence,
    Area::Keys,
    Area::Equipment,
    Area::Repairs,
    Area::Conflicts,
    Area::Announcements,
];
