//! Which sites the job loop looks at on a tick: one whose store was
//! written since its last look (a fact that queues a job, a job's outcome,
//! `lodge-sync jobs run` from another process), one whose next job or daily
//! rule has come due, and one not looked at for [`RECHECK`]. The rest are
//! left alone: a server of a thousand quiet sites looked at each of them
//! twice a second, and that alone kept a third of a core busy.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lodge_core::{SiteId, Timestamp, WriteMark};

use crate::hub::SiteHub;

/// A site is looked at at least this often whatever its store says: a
/// wall clock set back by hand (or by NTP) delays a wake by as much, and a
/// minute is the most a daily rule may then be late.
const RECHECK: Duration = Duration::from_secs(60);

/// Where each site stood at its last look.
#[derive(Default)]
pub struct JobWatch {
    looks: HashMap<SiteId, Look>,
}

struct Look {
    mark: WriteMark,
    wake: Option<Timestamp>,
    at: Instant,
}

impl JobWatch {
    /// The sites of `hubs` to look at now (from blocking code only).
    pub fn due(&self, hubs: Vec<Arc<SiteHub>>, now: Timestamp) -> Vec<Arc<SiteHub>> {
        hubs.into_iter()
            .filter(|hub| {
                let Some(look) = self.looks.get(&hub.site) else { return true };
                let unchanged = hub.store().write_mark().is_ok_and(|mark| mark == look.mark);
                !unchanged || look.wake.is_some_and(|wake| wake <= now) || look.at.elapsed() >= RECHECK
            })
            .collect()
    }

    /// Remember where a site stands after a look (from blocking code
    /// only); a store that cannot say is looked at again at the next tick.
    pub fn looked(&mut self, hub: &SiteHub) {
        let store = hub.store();
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
