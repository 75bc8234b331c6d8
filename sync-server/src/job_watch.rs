//! Which sites the job loop looks at on a tick: one whose store was
//! written since its last look (a fact that queues a job, a job's outcome,
//! `lodge-sync jobs run` from another process), one whose next job or daily
//! rule has come due, and one not looked at for [`RECHECK`]. The rest are
//! left alone: a server of a thousand quiet sites looked at each of them
//! twice a second, and that alone kept a third of a core busy.
//!
//! A site quiet for longer (`serve --quiet-site-secs`) has its store
//! closed; the watch keeps its next wake and its files' mark, and opens it
//! again when either comes (a device opens it by connecting).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use lodge_core::{SiteId, Timestamp, WriteMark};

use crate::AppState;
use crate::hub::SiteHub;

/// An open site is looked at at least this often whatever its store says:
/// a wall clock set back by hand (or by NTP) delays a wake by as much, and
/// a minute is the most a daily rule may then be late.
const RECHECK: Duration = Duration::from_secs(60);

/// Where each site stood at its last look.
#[derive(Default)]
pub struct JobWatch {
    looks: HashMap<SiteId, Look>,
    closed: HashMap<SiteId, Closed>,
}

struct Look {
    mark: WriteMark,
    wake: Option<Timestamp>,
    at: Instant,
}

/// A site whose store was closed for being quiet.
struct Closed {
    wake: Option<Timestamp>,
    files: Option<FileMark>,
}

/// The store's files as another process would change them: the main
/// file's size and time, and the log's if there is one.
#[derive(PartialEq, Eq)]
struct FileMark {
    main: (u64, SystemTime),
    log: Option<(u64, SystemTime)>,
}

impl FileMark {
    fn of(path: &Path) -> Option<Self> {
        let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| Ok((m.len(), m.modified()?))).ok();
        let mut log = path.as_os_str().to_owned();
        log.push("-wal");
        Some(Self { main: stamp(path)?, log: stamp(Path::new(&log)) })
    }
}

impl JobWatch {
    /// Close the quiet sites, open again the closed ones whose time came
    /// or whose files another process wrote, and return the open sites to
    /// look at now (from blocking code only).
    pub fn due(&mut self, state: &AppState, now: Timestamp) -> Vec<Arc<SiteHub>> {
        for site in state.close_quiet_sites(state.limits.quiet_site) {
            let wake = self.looks.remove(&site).and_then(|look| look.wake);
            self.asleep(site, wake, &state.site_store_path(site));
        }
        let waking: Vec<SiteId> = self
            .closed
            .iter()
            .filter(|(site, c)| c.wake.is_some_and(|wake| wake <= now) || FileMark::of(&state.site_store_path(**site)) != c.files)
            .map(|(site, _)| *site)
            .collect();
        for site in waking {
            if let Err(e) = state.hub(site) {
                // Tried again in a minute, not at every tick.
                tracing::error!(%site, error = %e, "a quiet site could not be opened for its jobs; trying again in a minute");
                let again = Timestamp::from_millis(now.millis().saturating_add(RECHECK.as_millis() as i64));
                self.asleep(site, Some(again), &state.site_store_path(site));
            }
        }
        let hubs = state.open_hubs();
        for hub in &hubs {
            // Opened again, by the watch or by a device.
            self.closed.remove(&hub.site);
        }
        hubs.into_iter()
            .filter(|hub| {
                let Some(look) = self.looks.get(&hub.site) else { return true };
                let unchanged = hub.look_at_store().write_mark().is_ok_and(|mark| mark == look.mark);
                !unchanged || look.wake.is_some_and(|wake| wake <= now) || look.at.elapsed() >= RECHECK
            })
            .collect()
    }

    /// A site whose store is closed (`path`), with its next wake: it is
    /// opened then, or when another process writes to its files.
    pub fn asleep(&mut self, site: SiteId, wake: Option<Timestamp>, path: &Path) {
        self.closed.insert(site, Closed { wake, files: FileMark::of(path) });
    }

    /// Remember where a site stands after a look (from blocking code
    /// only); a store that cannot say is looked at again at the next tick.
    pub fn looked(&mut self, hub: &SiteHub) {
        let store = hub.look_at_store();
        match (store.write_mark(), store.next_wake()) {
            (Ok(mark), Ok(wake)) => {
                self.looks.insert(hub.site, Look { mark, wake, at: Instant::now() });
            }
            _ => {
                self.looks.remove(&hub.site);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    fn quiet_at_once() -> (tempfile::TempDir, AppState, SiteId) {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open_with(dir.path(), None, Limits { quiet_site: Duration::ZERO, ..Limits::default() }).unwrap();
        let site = state.create_site(None).unwrap();
        (dir, state, site)
    }

    #[test]
    fn a_site_is_closed_only_when_quiet_for_long_enough_and_nobody_holds_it() {
        let (_dir, state, site) = quiet_at_once();
        let hub = state.hub(site).unwrap();
        let log = state.site_store_path(site).with_extension("sqlite-wal");
        assert!(log.exists());
        assert!(state.close_quiet_sites(Duration::from_secs(3600)).is_empty(), "not quiet for an hour yet");
        assert!(state.close_quiet_sites(Duration::ZERO).is_empty(), "a connection holds it");
        drop(hub);
        assert_eq!(state.close_quiet_sites(Duration::ZERO), vec![site]);
        assert!(state.open_hubs().is_empty());
        assert!(!log.exists(), "closed: the log went with the store's last connection");
        let hub = state.hub(site).unwrap();
        assert_eq!(hub.store().site_settings().unwrap().map(|s| s.site), Some(site), "opened again as it was");
    }

    #[test]
    fn a_closed_site_is_opened_again_when_another_process_writes_its_file_or_at_its_wake() {
        let (_dir, state, site) = quiet_at_once();
        let now = state.clock.now();
        drop(state.hub(site).unwrap());
        let mut watch = JobWatch::default();
        assert!(watch.due(&state, now).is_empty());
        assert!(state.open_hubs().is_empty(), "closed, with nothing due");
        assert!(watch.due(&state, now).is_empty(), "and left closed");
        // As `lodge-sync jobs run` does beside the server.
        let path = state.site_store_path(site);
        lodge_core::Store::open(&path, state.clock.clone()).unwrap().run_daily_job(lodge_core::notice::Rule::SignOutReminder, now).unwrap();
        let due: Vec<SiteId> = watch.due(&state, now).iter().map(|h| h.site).collect();
        assert_eq!(due, vec![site], "its file was written");
        assert!(watch.due(&state, now).is_empty(), "quiet again, closed again");
        watch.asleep(site, Some(now), &path);
        let due: Vec<SiteId> = watch.due(&state, now).iter().map(|h| h.site).collect();
        assert_eq!(due, vec![site], "its wake came");
    }
}
