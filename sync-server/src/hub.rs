//! One site's hub: its document store and the devices of that site that are
//! connected now, each with a queue of frames for its WebSocket.
//!
//! Every piece of work on a site's store is a turn of bounded size (a
//! device's frame of at most 256 documents, a catch-up step of at most 256),
//! and turns are taken first come first served: a device waits behind at
//! most one turn of each other device working on the site at that moment,
//! however much one of them asks for. (A plain mutex lets the thread that
//! just released it take it again at once, so one device's stream of large
//! frames could keep another's catch-up waiting far longer.)
//!
//! A change is fanned out by whoever made it land (see [`crate::publish`]), once, under one lock of
//! the store: the sync message for each listening device is made there and
//! put into its connection's queue to its socket (see [`crate::outbox`]). (A broadcast that every connection then
//! answered for itself cost a thread hop and a lock per device per change,
//! which at 200 devices was most of the server's time.)

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use parking_lot::{FairMutex, FairMutexGuard};

use lodge_core::sync::ServerMessage;
use lodge_core::{DeviceId, DocId, SiteId, Store};
use tokio::sync::Notify;

use crate::outbox::Pusher;
use crate::registry::Device;

/// A document changed on the server.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The document.
    pub doc: DocId,
    /// Its feed sequence.
    pub seq: u64,
    /// Deleted for good.
    pub purged: bool,
}

/// A connected device, as the hub sees it.
#[derive(Clone)]
pub struct Listener {
    /// The device.
    pub device: Device,
    /// It keeps the site's daily counts (an admin's app that said so in
    /// its hello): it is sent them after each retention sweep.
    pub keeps_counts: bool,
    pusher: Pusher,
    /// The feed number its catch-up started from, and whether that
    /// catch-up has all gone out (see [`Listener::held`]).
    since: u64,
    caught_up: Arc<AtomicBool>,
    /// Told when the hub gives up on it (see [`SiteHub::give_up`]).
    dropped: Arc<Notify>,
}

impl Listener {
    /// A frame as this device may be sent it (see [`held`]).
    pub fn held(&self, frame: ServerMessage) -> ServerMessage {
        held(frame, !self.caught_up.load(Ordering::Acquire), self.since)
    }

    /// Queue an encoded frame for the device's socket; `false` when it is
    /// gone or does not read what it is sent (its queue is full).
    pub fn offer(&self, frame: Bytes) -> bool {
        self.pusher.push(frame).is_ok()
    }
}

/// A frame for a device whose catch-up is still going: its feed number
/// stays where the device started, so that a connection lost halfway
/// catches up from there again.
pub fn held(frame: ServerMessage, catching_up: bool, since: u64) -> ServerMessage {
    match frame {
        ServerMessage::Sync { docs, seq } if catching_up => ServerMessage::Sync { docs, seq: seq.min(since) },
        other => other,
    }
}

/// What a connection keeps of its listening: its id in the hub, the flag
/// it raises once its catch-up has gone out, and what it is told when the
/// hub gives up on it.
pub struct Listening {
    pub id: u64,
    pub caught_up: Arc<AtomicBool>,
    pub dropped: Arc<Notify>,
}

/// Frames encoded once for every device that gets the same one (devices
/// in step with the server get the same messages). A few kinds at a time:
/// phones that see different documents get different frames.
#[derive(Default)]
pub struct Encoded(Vec<(ServerMessage, Bytes)>);

impl Encoded {
    const KEPT: usize = 8;

    /// The frame's bytes, encoded now or taken from an equal frame's.
    pub fn bytes(&mut self, frame: ServerMessage) -> Bytes {
        if let Some((_, bytes)) = self.0.iter().find(|(f, _)| *f == frame) {
            return bytes.clone();
        }
        let bytes = Bytes::from(frame.encode());
        if self.0.len() == Self::KEPT {
            self.0.remove(0);
        }
        self.0.push((frame, bytes.clone()));
        bytes
    }
}

/// A site's store and the devices listening to it.
pub struct SiteHub {
    /// The site.
    pub site: SiteId,
    store: FairMutex<Store>,
    listeners: Mutex<HashMap<u64, Listener>>,
    /// Connections that stopped listening and whose contact is not yet
    /// recorded (see [`SiteHub::leaving`]).
    leaving: Mutex<HashMap<u64, DeviceId>>,
    next_listener: AtomicU64,
    seq: AtomicU64,
    /// When the store was last taken for work (see [`SiteHub::quiet_for`]),
    /// in milliseconds since [`EPOCH`].
    used: AtomicU64,
    /// What this instance took from and gave to the others (see
    /// [`crate::relay`]): the feed number up to which it has merged their
    /// changes (held while merging, so one merge runs at a time), and the
    /// heads up to which it has given each document's changes.
    pub(crate) merged: Mutex<u64>,
    pub(crate) given: Mutex<HashMap<DocId, Vec<automerge::ChangeHash>>>,
    /// Documents that changed here but could not be numbered (the feed's
    /// database was away): numbered with the next change, or at the next
    /// look for the other instances' changes.
    owed: Mutex<Vec<(DocId, bool)>>,
    /// Whether the store holds a list of owed documents ([`OWED_KEY`]).
    owed_kept: AtomicBool,
    /// The registry's version of the site's channels that its store holds
    /// a copy of (see [`crate::site_channels`]); none yet: -1.
    pub(crate) channels_copied: AtomicI64,
}

/// The store's meta entry of documents owed a number, a line each
/// (`DOC 0|1`, 1 for a deletion): a server killed while its database was
/// away numbers them when it opens the site again.
const OWED_KEY: &str = "owed_numbers";

/// Whether a store (not opened by a hub) keeps documents owed a number.
pub fn store_owes(store: &Store) -> bool {
    store.meta_text(OWED_KEY).ok().flatten().is_some_and(|kept| !kept.is_empty())
}

/// What [`SiteHub::used`] counts from.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn since_epoch() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl SiteHub {
    /// A hub for an opened store whose feed stands at `seq`.
    pub fn new(site: SiteId, store: Store, seq: u64) -> Self {
        Self {
            site,
            store: FairMutex::new(store),
            listeners: Mutex::default(),
            leaving: Mutex::default(),
            next_listener: AtomicU64::new(0),
            seq: AtomicU64::new(seq),
            used: AtomicU64::new(since_epoch()),
            merged: Mutex::new(seq),
            given: Mutex::default(),
            channels_copied: AtomicI64::new(-1),
            owed_kept: AtomicBool::new(false),
            owed: Mutex::default(),
        }
    }

    /// Take a turn at the store (from blocking code only); hold it for one
    /// bounded piece of work, not more (see the module's doc).
    pub fn store(&self) -> FairMutexGuard<'_, Store> {
        self.used.store(since_epoch(), Ordering::Relaxed);
        self.store.lock()
    }

    /// The store, for a look that is not work of the site's own: whether
    /// jobs are due, sync states to write. It leaves the site quiet.
    pub fn look_at_store(&self) -> FairMutexGuard<'_, Store> {
        self.store.lock()
    }

    /// How long since the store was last taken for work (see
    /// [`SiteHub::look_at_store`]).
    pub fn quiet_for(&self) -> Duration {
        Duration::from_millis(since_epoch().saturating_sub(self.used.load(Ordering::Relaxed)))
    }

    /// The site's feed sequence as this server last numbered it.
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Record a number the feed reached.
    pub fn advance(&self, seq: u64) {
        self.seq.fetch_max(seq, Ordering::SeqCst);
    }

    /// Documents that still need a number (see [`SiteHub::owe`]), taken.
    pub fn take_owed(&self) -> Vec<(DocId, bool)> {
        std::mem::take(&mut *self.owed.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Whether any document still needs a number.
    pub fn owes(&self) -> bool {
        !self.owed.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// Write what is owed into the store as well (see [`OWED_KEY`]), or
    /// that nothing is, once something was; from blocking code only.
    pub fn keep_owed(&self) {
        let lines: Vec<String> =
            self.owed.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(doc, purged)| format!("{doc} {}", u8::from(*purged))).collect();
        if lines.is_empty() && !self.owed_kept.load(Ordering::Relaxed) {
            return;
        }
        match self.store().set_meta_text(OWED_KEY, &lines.join("\n")) {
            Ok(()) => self.owed_kept.store(!lines.is_empty(), Ordering::Relaxed),
            Err(e) => tracing::error!(site = %self.site, error = %e, "documents owed a number could not be kept in the store"),
        }
    }

    /// Take back what the store kept owed (at opening).
    pub fn owed_from_store(&self) -> Result<(), lodge_core::StoreError> {
        let kept = self.store().meta_text(OWED_KEY)?.unwrap_or_default();
        let docs: Vec<(DocId, bool)> = kept
            .lines()
            .filter_map(|line| line.split_once(' '))
            .filter_map(|(doc, purged)| Some((DocId::parse(doc).ok()?, purged == "1")))
            .collect();
        self.owed_kept.store(!docs.is_empty(), Ordering::Relaxed);
        self.owe(docs);
        Ok(())
    }

    /// Keep documents that changed here but could not be numbered.
    pub fn owe(&self, docs: Vec<(DocId, bool)>) {
        let mut owed = self.owed.lock().unwrap_or_else(|p| p.into_inner());
        for (doc, purged) in docs {
            match owed.iter_mut().find(|(d, _)| *d == doc) {
                Some(entry) => entry.1 |= purged,
                None => owed.push((doc, purged)),
            }
        }
    }

    /// Start listening for a device's connection, whose catch-up starts
    /// from feed number `since`: changes are pushed into its outbox until
    /// [`SiteHub::leave`] or until it does not read them.
    pub fn listen(&self, device: Device, keeps_counts: bool, pusher: Pusher, since: u64) -> Listening {
        let id = self.next_listener.fetch_add(1, Ordering::SeqCst);
        let (caught_up, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()));
        let listener = Listener { device, keeps_counts, pusher, since, caught_up: caught_up.clone(), dropped: dropped.clone() };
        self.listeners().insert(id, listener);
        Listening { id, caught_up, dropped }
    }

    /// The device does not read what it is sent: it gets nothing more, and
    /// its connection is told to end (it catches up from the feed when it
    /// comes back, which is cheaper than queueing without end).
    pub fn give_up(&self, id: u64) {
        if let Some(listener) = self.listeners().remove(&id) {
            // Connected until its connection has ended (see `leaving`).
            self.leaving_list().insert(id, listener.device.device);
            listener.dropped.notify_one();
        }
    }

    /// The connection ended.
    pub fn leave(&self, id: u64) {
        self.listeners().remove(&id);
        self.leaving_list().remove(&id);
    }

    /// The connection is ending: no change is offered to it any more, but
    /// its device still counts as connected until [`SiteHub::leave`], once
    /// its contact is recorded. Otherwise an admin's list could show it gone
    /// with the changes since its hello as waiting, though it had them all.
    pub fn leaving(&self, id: u64, device: DeviceId) {
        self.listeners().remove(&id);
        self.leaving_list().insert(id, device);
    }

    /// The devices connected now, those whose connection is ending too.
    pub fn connected(&self) -> HashSet<DeviceId> {
        let mut devices: HashSet<DeviceId> = self.listeners().values().map(|l| l.device.device).collect();
        devices.extend(self.leaving_list().values().copied());
        devices
    }

    /// Every listening connection but those of `origin` (all of them
    /// for a change the server made itself).
    pub fn others(&self, origin: Option<DeviceId>) -> Vec<(u64, Listener)> {
        self.listeners()
            .iter()
            .filter(|(_, l)| Some(l.device.device) != origin)
            .map(|(id, l)| (*id, l.clone()))
            .collect()
    }

    /// The listeners of one device (its connections).
    pub fn only(&self, device: DeviceId) -> Vec<(u64, Listener)> {
        self.listeners().iter().filter(|(_, l)| l.device.device == device).map(|(id, l)| (*id, l.clone())).collect()
    }

    fn listeners(&self) -> MutexGuard<'_, HashMap<u64, Listener>> {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn leaving_list(&self) -> MutexGuard<'_, HashMap<u64, DeviceId>> {
        self.leaving.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's view of a thread of this process: 'S' while it sleeps
    /// (parked, waiting for the lock).
    fn thread_state(tid: i32) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        stat.rsplit_once(')')?.1.trim_start().chars().next()
    }

    #[test]
    fn a_device_waiting_for_the_store_goes_before_one_that_just_had_its_turn() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("site.sqlite"), Arc::new(lodge_core::SystemClock)).unwrap();
        let hub = Arc::new(SiteHub::new(SiteId::new(), store, 0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let asker = hub.store();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let waiter = {
            let (hub, order) = (hub.clone(), order.clone());
            std::thread::spawn(move || {
                // SAFETY: gettid has no preconditions.
                tid_tx.send(unsafe { libc::gettid() }).unwrap();
                let _turn = hub.store();
                order.lock().unwrap().push("waiter");
            })
        };
        let tid = tid_rx.recv().unwrap();
        // Until the other device is asleep, waiting for the store.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while thread_state(tid) != Some('S') {
            assert!(std::time::Instant::now() < deadline, "the waiter never waited");
            std::thread::yield_now();
        }
        // The asker ends its turn and asks again at once: it goes second.
        drop(asker);
        let _again = hub.store();
        order.lock().unwrap().push("asker");
        drop(_again);
        waiter.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["waiter", "asker"]);
    }

    /// A connection that ends stops getting changes at once, but its device
    /// is shown connected until its contact is recorded: an admin's list
    /// never shows it gone with changes it had as waiting.
    #[test]
    fn an_ending_connection_gets_no_change_but_counts_as_connected_until_it_has_left() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("site.sqlite"), Arc::new(lodge_core::SystemClock)).unwrap();
        let site = SiteId::new();
        let hub = SiteHub::new(site, store, 0);
        let device = desk(site);
        let (outbox, _frames) = crate::outbox::Outbox::new(1 << 20);
        let id = hub.listen(device.clone(), false, outbox.pusher(), 0).id;
        assert_eq!(hub.connected(), HashSet::from([device.device]));

        hub.leaving(id, device.device);
        assert!(hub.others(None).is_empty(), "no change is offered to an ending connection");
        assert_eq!(hub.connected(), HashSet::from([device.device]), "still shown connected");

        hub.leave(id);
        assert!(hub.connected().is_empty());
    }

    fn desk(site: SiteId) -> Device {
        Device { device: DeviceId::new(), site, role: lodge_core::Role::Reception, person: None, name: "desk".into(), actor: String::new(), revoked_at: None }
    }

    fn hub_in(dir: &tempfile::TempDir) -> SiteHub {
        let store = Store::open(dir.path().join("site.sqlite"), Arc::new(lodge_core::SystemClock)).unwrap();
        SiteHub::new(SiteId::new(), store, 0)
    }

    /// A device that does not read what is pushed to it fills its queue's
    /// budget; the hub then gives up on it, and its connection is told,
    /// even if it was not waiting yet.
    #[tokio::test]
    async fn a_device_whose_queue_is_full_is_given_up_and_its_connection_told() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub_in(&dir);
        // Room for two frames of the smallest cost.
        let (outbox, _unread) = crate::outbox::Outbox::new(2 * crate::outbox::FRAME_COST);
        let listening = hub.listen(desk(hub.site), false, outbox.pusher(), 0);
        let (_, listener) = hub.others(None).pop().unwrap();
        let frame = Bytes::from_static(b"a pushed change");
        assert!(listener.offer(frame.clone()) && listener.offer(frame.clone()));
        assert!(!listener.offer(frame), "the third does not fit");

        hub.give_up(listening.id);
        assert!(hub.others(None).is_empty(), "nothing more is pushed to it");
        tokio::time::timeout(std::time::Duration::from_secs(5), listening.dropped.notified()).await.expect("the connection is told");
        // Shown connected until its connection has ended and left.
        assert_eq!(hub.connected().len(), 1);
        hub.leave(listening.id);
        assert!(hub.connected().is_empty());
    }

    /// Once the connection's outbox is gone, a push finds it gone instead
    /// of keeping its writer waiting.
    #[test]
    fn a_push_does_not_keep_an_ended_connections_queue_open() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub_in(&dir);
        let (outbox, mut frames) = crate::outbox::Outbox::new(1 << 20);
        hub.listen(desk(hub.site), false, outbox.pusher(), 0);
        drop(outbox);
        let (_, listener) = hub.others(None).pop().unwrap();
        assert!(!listener.offer(Bytes::from_static(b"late")));
        assert!(frames.try_recv().is_err(), "the writer's queue has ended");
    }

    /// While a device's catch-up goes out, a pushed change keeps the feed
    /// number it started from; after, its own. Equal frames are encoded
    /// once, for every device that gets them, and an offered frame is in
    /// the writer's queue at once (no task of the connection in between).
    #[test]
    fn pushed_frames_keep_the_catch_up_number_are_encoded_once_and_go_straight_to_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let hub = hub_in(&dir);
        let (outbox, mut frames) = crate::outbox::Outbox::new(1 << 20);
        let listening = hub.listen(desk(hub.site), false, outbox.pusher(), 7);
        let (_, listener) = hub.others(None).pop().unwrap();
        let pushed = || ServerMessage::Sync { docs: Vec::new(), seq: 12 };
        assert_eq!(listener.held(pushed()), ServerMessage::Sync { docs: Vec::new(), seq: 7 });
        listening.caught_up.store(true, Ordering::Release);
        assert_eq!(listener.held(pushed()), pushed());

        let mut encoded = Encoded::default();
        let (a, b) = (encoded.bytes(pushed()), encoded.bytes(pushed()));
        // Offered, it is in the writer's queue at once, the same bytes.
        assert!(listener.offer(a.clone()));
        match frames.try_recv() {
            Ok(crate::outbox::Out::Frame(bytes, _)) => assert_eq!(bytes.as_ptr(), a.as_ptr()),
            _ => panic!("the pushed frame is not in the writer's queue"),
        }
        assert_eq!(a.as_ptr(), b.as_ptr(), "one encoding shared");
        assert_eq!(&a[..], &pushed().encode()[..]);
        let other = encoded.bytes(ServerMessage::Sync { docs: Vec::new(), seq: 13 });
        assert_eq!(&other[..], &ServerMessage::Sync { docs: Vec::new(), seq: 13 }.encode()[..]);
    }
}
