//! The devices' live sessions: at most one per device (a new connection
//! with the same token replaces the old one, which is closed: a phone that
//! walked out of Wi-Fi comes back on a new socket while the old one looks
//! alive, and a copied token must not hold a second socket), and the stop
//! of them all when the server shuts down. A new session of a device
//! starts only once the earlier one is gone, sync states and all (see
//! [`Session::earlier_gone`]).

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
    /// Per device: the session's number, how to tell it to go, and how to
    /// know it is gone.
    by_device: HashMap<DeviceId, (u64, oneshot::Sender<()>, watch::Receiver<()>)>,
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
        let (alive, gone) = watch::channel(());
        let mut live = self.live();
        let earlier = live.by_device.insert(device, (id, tell, gone)).map(|(_, told, gone)| {
            let _ = told.send(());
            gone
        });
        live.count += 1;
        self.count.send_replace(live.count);
        Session { sessions: self.clone(), device, id, replaced, closing: self.closing.subscribe(), _alive: alive, earlier }
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
    /// Dropped with the session: the next one of the device waits for it.
    _alive: watch::Sender<()>,
    /// The device's session this one replaced, until it is gone.
    earlier: Option<watch::Receiver<()>>,
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

    /// Resolves once the device's session this one replaced is gone (at
    /// once if there was none). Both speak for the same peer in the site's
    /// store, whose sync states are per device: an earlier session still
    /// finishing a frame, or forgetting its states late, would leave this
    /// one with an exchange it never had (changes taken as sent, and never
    /// sent again) or take this one's from under it.
    pub async fn earlier_gone(&mut self) {
        if let Some(gone) = self.earlier.as_mut() {
            // Nothing is ever sent: `changed` fails when the sender drops.
            while gone.changed().await.is_ok() {}
        }
        self.earlier = None;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut live = self.sessions.live();
        if live.by_device.get(&self.device).is_some_and(|(id, _, _)| *id == self.id) {
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

    #[tokio::test]
    async fn a_new_session_of_a_device_waits_until_the_earlier_one_is_gone() {
        use futures_util::FutureExt;
        let sessions = Arc::new(Sessions::default());
        let (device, other) = (DeviceId::new(), DeviceId::new());
        let mut first = sessions.start(device);
        assert!(first.earlier_gone().now_or_never().is_some(), "a first session waits for nothing");
        let mut elsewhere = sessions.start(other);
        let mut second = sessions.start(device);
        assert!(elsewhere.earlier_gone().now_or_never().is_some(), "another device's session is not held up");
        assert!(second.earlier_gone().now_or_never().is_none(), "the earlier session is still there");
        assert_eq!(first.ending().await, Ending::Replaced);
        drop(first);
        assert!(second.earlier_gone().now_or_never().is_some(), "gone with the earlier session");
    }
}
