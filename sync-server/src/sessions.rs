//! The devices' live sessions: at most one per device (a new connection
//! with the same token replaces the old one, which is closed: a phone that
//! walked out of Wi-Fi comes back on a new socket while the old one looks
//! alive, and a copied token must not hold a second socket), and the stop
//! of them all when the server shuts down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};

use lodge_core::DeviceId;
use tokio::sync::{oneshot, watch};

/// Why a session must end now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The same device connected again.
    Replaced,
    /// The server is shutting down.
    ShuttingDown,
}

#[derive(Default)]
struct Live {
    /// Per device: the session's number and how to tell it to go.
    by_device: HashMap<DeviceId, (u64, oneshot::Sender<()>)>,
    count: usize,
}

/// Every live session of the server.
pub struct Sessions {
    live: Mutex<Live>,
    next: AtomicU64,
    closing: watch::Sender<bool>,
    count: watch::Sender<usize>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self { live: Mutex::default(), next: AtomicU64::new(0), closing: watch::channel(false).0, count: watch::channel(0).0 }
    }
}

impl Sessions {
    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A device's session starts; an earlier one of the same device is told
    /// to end.
    pub fn start(self: &Arc<Self>, device: DeviceId) -> Session {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let (tell, replaced) = oneshot::channel();
        let mut live = self.live();
        if let Some((_, earlier)) = live.by_device.insert(device, (id, tell)) {
            let _ = earlier.send(());
        }
        live.count += 1;
        self.count.send_replace(live.count);
        Session { sessions: self.clone(), device, id, replaced, closing: self.closing.subscribe() }
    }

    /// Tell every session to end (they finish the frame in hand, send what
    /// is queued and a close frame).
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Turns `true` when the server shuts down.
    pub fn closing_signal(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Whether the server is shutting down.
    pub fn closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// Wait until no session is left.
    pub async fn ended(&self) {
        let mut count = self.count.subscribe();
        let _ = count.wait_for(|n| *n == 0).await;
    }
}

/// One live session; it leaves the list when dropped.
pub struct Session {
    sessions: Arc<Sessions>,
    device: DeviceId,
    id: u64,
    replaced: oneshot::Receiver<()>,
    closing: watch::Receiver<bool>,
}

impl Session {
    /// Resolves when this session must end, and says why.
    pub async fn ending(&mut self) -> Ending {
        tokio::select! {
            // A dropped sender is a replacement too: only `start` drops it.
            _ = &mut self.replaced => Ending::Replaced,
            _ = self.closing.wait_for(|c| *c) => Ending::ShuttingDown,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut live = self.sessions.live();
        if live.by_device.get(&self.device).is_some_and(|(id, _)| *id == self.id) {
            live.by_device.remove(&self.device);
        }
        live.count -= 1;
        self.sessions.count.send_replace(live.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_session_of_a_device_ends_the_first() {
        let sessions = Arc::new(Sessions::default());
        let device = DeviceId::new();
        let mut first = sessions.start(device);
        let mut second = sessions.start(device);
        assert_eq!(first.ending().await, Ending::Replaced);
        drop(first);
        sessions.close_all();
        assert_eq!(second.ending().await, Ending::ShuttingDown);
        drop(second);
        sessions.ended().await;
    }
}
