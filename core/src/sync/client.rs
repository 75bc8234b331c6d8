//! The device's sync client: one WebSocket to `lodge-sync`, resumed from the
//! persisted sync states and change-feed number, reconnecting with backoff
//! and jitter, reporting its status. Works the same after a minute or a week
//! offline: everything in the outbox goes up, everything changed on the
//! server since the last feed number comes down. A document whose changes
//! the server refuses leaves the outbox for the store's "Needs attention"
//! list, so it is not sent again at every connect and the device can be
//! online with it.
//!
//! Store work (SQLite, Automerge) never runs on the runtime's threads: it
//! goes to the blocking pool (see [`blocking`]), so a store held by
//! someone else (a command, a long catch-up) holds up only this client,
//! not every other task on the runtime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast, watch};
use tokio_tungstenite::tungstenite::Message;

use super::protocol::{ClientMessage, DocMessage, MAX_FRAME_DOCS, ServerMessage, SyncErrorKind};
use crate::document::{DocId, DocKind};
use crate::store::Store;
use crate::time::Timestamp;

/// After answering a frame, how long a quiet server means "up to date".
const SETTLE: Duration = Duration::from_millis(300);

/// How long answers that only acknowledge (they tell the server our heads,
/// and nothing waits for them) may gather before they go, in one frame.
/// A device answering each pushed change on its own doubled the server's
/// frames when a building's devices were all online; gathered for 250 ms,
/// a busy site's answers still came five to a frame, each frame a wake-up
/// of a server thread. A document changed again before its answer came is
/// sent to that device by Automerge alone instead of with the others'.
const ACK_DELAY: Duration = Duration::from_secs(1);

/// Acknowledgements go at once when this many gathered (a device fetching
/// a whole site): frames the server applies in one short step each.
const ACK_FRAME_DOCS: usize = 256;

/// After the last frame, how long a quiet connection waits before the
/// store writes the sync states that frames left unwritten (see
/// `Store::write_sync_states`), so the next change does not carry them.
const QUIET: Duration = Duration::from_secs(1);

/// How the client tells a live link from a dead one. A phone that walks
/// out of Wi-Fi leaves a connection that is neither closed nor answered:
/// without a heartbeat it would show "Online" for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// A WebSocket Ping goes to the server this often, so that a live
    /// server always has something to answer.
    pub ping_every: Duration,
    /// A connection on which nothing arrived (no frame, no pong) for this
    /// long is dropped as dead; connecting and the WebSocket handshake get
    /// as long. Longer than two pings, so one lost pong is not a death.
    pub silence_limit: Duration,
    /// With changes of ours waiting and the catch-up done, a server that
    /// sent no frame (pongs do not count) for this long is asked again on
    /// a new connection, where both ends start the exchange afresh: an
    /// answer that never came must not leave the device "syncing" until
    /// the link drops, which a live link never does. The wait doubles each
    /// time it runs out, until a connection ends otherwise.
    pub unanswered: Duration,
}

impl Default for Heartbeat {
    /// A ping every 10 s, dead after 25 s of silence: a dead link shows as
    /// offline within 30 s. Asked again after 8 s without an answer.
    fn default() -> Self {
        Self { ping_every: Duration::from_secs(10), silence_limit: Duration::from_secs(25), unanswered: Duration::from_secs(8) }
    }
}

/// How the sync client runs; [`spawn`] uses the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// See [`Heartbeat`].
    pub heartbeat: Heartbeat,
    /// The app and its version, told to the server in the hello (the
    /// admin's list of devices shows it).
    pub app: Option<&'static str>,
}

/// The sync peer name the server goes by in this store's sync states.
pub const SERVER_PEER: &str = "server";
const FEED_KEY: &str = "feed_seq";
/// The server's other addresses from its last welcome, a line each.
const ALSO_AT_KEY: &str = "server_also_at";
/// The most other addresses kept, and the longest one.
const MAX_ALSO_AT: usize = 8;
const MAX_ADDRESS_CHARS: usize = 2048;

/// The addresses to try, the enrolled one first: the server's others that
/// use the same scheme (never plain `ws://` for a device enrolled over
/// `wss://`), once each.
fn addresses(url: &str, also_at: Option<String>) -> Vec<String> {
    let scheme = |u: &str| u.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let mut all = vec![url.to_owned()];
    for other in also_at.as_deref().unwrap_or_default().lines() {
        if all.len() > MAX_ALSO_AT {
            break;
        }
        if scheme(other).is_some() && scheme(other) == scheme(url) && !all.iter().any(|a| a == other) {
            all.push(other.to_owned());
        }
    }
    all
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Connection {
    /// Not connected; trying again later.
    Offline,
    /// Connecting.
    Connecting,
    /// Connected and exchanging.
    Syncing,
    /// Connected and up to date.
    Online,
    /// The device was revoked: wipe the local store.
    Revoked,
}

/// What the app shows: online, offline, "n changes waiting", last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    /// Connection state.
    pub connection: Connection,
    /// Documents with changes the server has not confirmed.
    pub waiting: usize,
    /// Documents whose changes the server refused ("Needs attention"):
    /// out of the outbox until a person discards them or does them again.
    pub attention: usize,
    /// When the device was last up to date with the server.
    pub last_sync: Option<Timestamp>,
    /// The last problem, in words.
    pub last_error: Option<String>,
}

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The network failed.
    #[error("the server could not be reached: {0}")]
    Network(String),
    /// The server refused us.
    #[error("the server refused this device: {0}")]
    Refused(String),
    /// The device was revoked.
    #[error("this device was removed from the site; its data must be wiped")]
    Revoked,
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The server sent something unreadable.
    #[error("the server sent a frame that could not be read: {0}")]
    Protocol(String),
    /// Nothing came from the server for too long (see [`Heartbeat`]).
    #[error("the server did not answer for {} s; the connection was dropped", .0.as_secs())]
    Silent(Duration),
}

/// The app's handle on a running client.
#[derive(Clone)]
pub struct SyncHandle {
    wake: Arc<Notify>,
    store: Arc<Mutex<Store>>,
    publish: Arc<watch::Sender<SyncStatus>>,
    status: watch::Receiver<SyncStatus>,
    stop: Arc<Notify>,
    arrivals: broadcast::Sender<Vec<DocKind>>,
    traffic: Arc<Traffic>,
}

/// Bytes of frames sent and received since the client started: WebSocket
/// payloads, without TCP, TLS and WebSocket headers.
#[derive(Debug, Default)]
struct Traffic {
    sent: AtomicU64,
    received: AtomicU64,
}

impl SyncHandle {
    /// Something changed locally (a command, a refused change discarded or
    /// sent again): count what waits and what needs attention (online or
    /// not, so that offline work shows as "n changes waiting" at once), and
    /// send it now if connected. Call it with the store unlocked, from the
    /// thread that ran the command: it counts two tables there, so that
    /// the count is right as soon as it returns.
    pub fn changed(&self) {
        match lock_now(&self.store, counts) {
            Ok((waiting, attention)) => self.publish.send_if_modified(|s| {
                let was = (s.waiting, s.attention);
                s.waiting = waiting;
                s.attention = attention;
                was != (waiting, attention)
            }),
            Err(e) => {
                tracing::warn!(error = %e, "the outbox could not be counted");
                false
            }
        };
        self.wake.notify_one();
    }
    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }
    /// A receiver that sees every status change.
    pub fn watch(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }
    /// A receiver told the kinds of documents each time changes from the
    /// server were applied to the store (or documents were purged), so the
    /// app can refresh what shows them.
    pub fn arrivals(&self) -> broadcast::Receiver<Vec<DocKind>> {
        self.arrivals.subscribe()
    }
    /// Bytes sent to the server and received from it since the client
    /// started (frame payloads).
    pub fn traffic(&self) -> (u64, u64) {
        (self.traffic.sent.load(Ordering::Relaxed), self.traffic.received.load(Ordering::Relaxed))
    }
    /// Stop the client.
    pub fn stop(&self) {
        self.stop.notify_one();
    }
}

/// Start the client on the current tokio runtime, with the default
/// [`ClientOptions`].
pub fn spawn(store: Arc<Mutex<Store>>, url: String, token: String) -> SyncHandle {
    spawn_with(store, url, token, ClientOptions::default())
}

/// Start the client on the current tokio runtime.
pub fn spawn_with(store: Arc<Mutex<Store>>, url: String, token: String, options: ClientOptions) -> SyncHandle {
    // Counted here, on the caller's thread, so that the first status is right.
    let (waiting, attention) = lock_now(&store, counts).unwrap_or((0, 0));
    let (tx, rx) = watch::channel(SyncStatus { connection: Connection::Offline, waiting, attention, last_sync: None, last_error: None });
    let tx = Arc::new(tx);
    let wake = Arc::new(Notify::new());
    let stop = Arc::new(Notify::new());
    let (arrivals, _) = broadcast::channel(64);
    let traffic = Arc::new(Traffic::default());
    let handle = SyncHandle {
        wake: wake.clone(),
        store: store.clone(),
        publish: tx.clone(),
        status: rx,
        stop: stop.clone(),
        arrivals: arrivals.clone(),
        traffic: traffic.clone(),
    };
    tokio::spawn(async move {
        let mut delay = FIRST_RETRY;
        let mut heartbeat = options.heartbeat;
        // Which of the server's addresses is tried, and how many in a row
        // did not answer.
        let (mut at, mut missed) = (0usize, 0usize);
        loop {
            set(&tx, |s| s.connection = Connection::Connecting);
            let all = addresses(&url, blocking(&store, |s| s.meta_text(ALSO_AT_KEY)).await.unwrap_or_default());
            let here = all[at % all.len()].clone();
            let received = traffic.received.load(Ordering::Relaxed);
            // The session notices `stop` itself, between frames: dropped in
            // the middle of one, its store work would go on in the blocking
            // pool and could leave sync states after the session's end.
            let result = session(&store, &here, &token, &wake, &stop, &tx, &arrivals, &traffic, heartbeat, options.app).await;
            // A server that answered was reached: the next connection is
            // tried soon again (a phone back in Wi-Fi after a day of short
            // walks must not wait half a minute).
            let answered = traffic.received.load(Ordering::Relaxed) > received;
            if answered {
                delay = FIRST_RETRY;
                missed = 0;
            }
            heartbeat.unanswered = match result {
                Ok(SessionEnd::Unanswered) => heartbeat.unanswered.saturating_mul(2).min(MAX_UNANSWERED),
                _ => options.heartbeat.unanswered,
            };
            // Whatever was in flight may not have arrived: the next session
            // starts from the persisted shared heads.
            blocking(&store, |s| s.end_sync_session(SERVER_PEER)).await;
            if let Ok(SessionEnd::Stopped) = result {
                return;
            }
            // What waits now, as the app will show it offline.
            if let Ok((waiting, attention)) = blocking(&store, counts).await {
                set(&tx, |s| {
                    s.waiting = waiting;
                    s.attention = attention;
                });
            }
            match result {
                Err(ClientError::Revoked) => {
                    set(&tx, |s| {
                        s.connection = Connection::Revoked;
                        s.last_error = Some(ClientError::Revoked.to_string());
                    });
                    return;
                }
                Err(e) => {
                    tracing::info!(error = %e, "sync session ended");
                    set(&tx, |s| {
                        s.connection = Connection::Offline;
                        s.last_error = Some(e.to_string());
                    });
                }
                Ok(_) => set(&tx, |s| s.connection = Connection::Offline),
            }
            // An address that did not answer (its instance killed): the
            // server's next one at once, until each was tried.
            if !answered {
                at = at.wrapping_add(1);
                missed += 1;
                if missed < all.len() {
                    continue;
                }
                missed = 0;
            }
            // Backoff with jitter, so that a building's devices do not all
            // come back in the same millisecond after the server restarts.
            let jitter = Duration::from_millis(rand::random::<u64>() % (delay.as_millis() as u64 / 2 + 1));
            tokio::select! {
                () = tokio::time::sleep(delay + jitter) => {}
                () = stop.notified() => return,
            }
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    });
    handle
}

fn set(tx: &watch::Sender<SyncStatus>, f: impl FnOnce(&mut SyncStatus)) {
    tx.send_modify(f);
}

/// Run store work on the blocking pool and wait for it: the store's mutex
/// may be held for long (a command, another frame's transaction), and a
/// runtime thread waiting on it would hold up every task on it (with one
/// worker thread, every other device's client). `f` takes owned data in
/// and gives its results back.
async fn blocking<T: Send + 'static>(store: &Arc<Mutex<Store>>, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> T {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || lock_now(&store, f)).await {
        Ok(value) => value,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels blocking work; this task
            // goes with it.
            Err(_) => std::future::pending().await,
        },
    }
}

/// Store work on the calling thread: for callers that are not on the
/// runtime ([`SyncHandle::changed`] from a command) and for the blocking
/// pool itself.
fn lock_now<T>(store: &Arc<Mutex<Store>>, f: impl FnOnce(&mut Store) -> T) -> T {
    let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

/// Documents waiting to go up, and documents needing attention.
fn counts(s: &mut Store) -> Result<(usize, usize), crate::store::Error> {
    Ok((s.outbox_len()?, s.attention_len()?))
}

/// The first wait before connecting again; it doubles up to 30 s while
/// the server cannot be reached.
const FIRST_RETRY: Duration = Duration::from_millis(200);

/// The longest [`Heartbeat::unanswered`] grows to.
const MAX_UNANSWERED: Duration = Duration::from_secs(300);

/// Why a session ended without an error.
enum SessionEnd {
    /// The server closed the connection.
    Closed,
    /// Changes waited and the server said nothing for
    /// [`Heartbeat::unanswered`]: connect again.
    Unanswered,
    /// [`SyncHandle::stop`] was called.
    Stopped,
}

/// Messages for every document in the outbox (and purges to announce).
async fn outgoing(store: &Arc<Mutex<Store>>) -> Result<(Vec<DocMessage>, Vec<DocId>), ClientError> {
    blocking(store, |s| {
        let mut docs = Vec::new();
        let mut purged = Vec::new();
        for (doc, gone) in s.outbox()? {
            if gone {
                purged.push(doc);
            } else if let Some(message) = s.generate_sync_message(SERVER_PEER, &doc)? {
                docs.push(DocMessage { doc, message });
            } else if s.peer_has_all(SERVER_PEER, &doc)? {
                // A write that changed nothing (removing what was not there):
                // nothing to send, and nothing waits.
                s.clear_outbox(&doc)?;
            }
        }
        Ok((docs, purged))
    })
    .await
}

/// Send a frame and count it; documents beyond [`MAX_FRAME_DOCS`] go in
/// frames of their own, as the server takes them.
async fn send<S>(sink: &mut S, message: &ClientMessage, traffic: &Traffic) -> Result<(), ClientError>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    match message {
        ClientMessage::Sync { docs } if docs.len() > MAX_FRAME_DOCS => {
            for part in docs.chunks(MAX_FRAME_DOCS) {
                send_frame(sink, &ClientMessage::Sync { docs: part.to_vec() }, traffic).await?;
            }
            Ok(())
        }
        ClientMessage::Purge { docs } if docs.len() > MAX_FRAME_DOCS => {
            for part in docs.chunks(MAX_FRAME_DOCS) {
                send_frame(sink, &ClientMessage::Purge { docs: part.to_vec() }, traffic).await?;
            }
            Ok(())
        }
        _ => send_frame(sink, message, traffic).await,
    }
}

async fn send_frame<S>(sink: &mut S, message: &ClientMessage, traffic: &Traffic) -> Result<(), ClientError>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let bytes = message.encode();
    traffic.sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    sink.send(Message::Binary(bytes.into())).await.map_err(|e| ClientError::Network(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
async fn session(
    store: &Arc<Mutex<Store>>,
    url: &str,
    token: &str,
    wake: &Notify,
    stop: &Notify,
    status: &watch::Sender<SyncStatus>,
    arrivals: &broadcast::Sender<Vec<DocKind>>,
    traffic: &Traffic,
    heartbeat: Heartbeat,
    app: Option<&'static str>,
) -> Result<SessionEnd, ClientError> {
    // Nagle's algorithm would hold small frames back for tens of ms.
    let connector = tokio_tungstenite::Connector::Rustls(super::tls::client_config());
    // A server that accepts and then says nothing (a half-open link, a
    // stuck proxy) must not leave the device "Connecting" for minutes.
    // Small socket buffers: the socket's reader zeroes its whole read
    // buffer before every read, 128 KB by default, which was 1.5 % of a
    // device's CPU for frames that are mostly tiny.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES);
    let connect = tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, Some(connector));
    let connected = tokio::select! {
        c = tokio::time::timeout(heartbeat.silence_limit, connect) => c,
        () = stop.notified() => return Ok(SessionEnd::Stopped),
    };
    let (ws, _) = connected
        .map_err(|_| ClientError::Silent(heartbeat.silence_limit))?
        .map_err(|e| ClientError::Network(e.to_string()))?;
    let (mut sink, mut stream) = ws.split();
    let (since, pending) = blocking(store, |s| -> Result<_, ClientError> {
        // The hello must stay hello-sized (the server reads no more before
        // it); the rest of the outbox goes right after it all the same.
        let pending = s.outbox()?.into_iter().map(|(d, _)| d).take(super::protocol::MAX_HELLO_PENDING).collect::<Vec<_>>();
        Ok((s.meta_number(FEED_KEY)?, pending))
    })
    .await?;
    let hello = ClientMessage::Hello { token: token.to_owned(), since, pending, app: app.map(str::to_owned), kept_counts: true };
    send(&mut sink, &hello, traffic).await?;
    set(status, |s| s.connection = Connection::Syncing);
    // Send what waits right away; the server answers with what we lack.
    let mut first = true;
    let mut settle: Option<tokio::time::Instant> = None;
    // The feed number the server stood at when it welcomed us: until a
    // frame says we reached it, a quiet moment is not "up to date".
    let mut feed = Feed::default();
    let mut acks = Acks::default();
    let mut quiet: Option<tokio::time::Instant> = None;
    // The heartbeat: a ping at every tick; the link is dead once nothing
    // at all arrived for `silence_limit`.
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat.ping_every, heartbeat.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = tokio::time::Instant::now();
    // The last frame from the server, and our first question since then
    // (changes sent): the server has `unanswered` from the later of the
    // two. Counted from the last frame alone, a device quiet for longer
    // than that gave up on the server the moment it sent its next change,
    // and connected again before the answer could come.
    let mut answered = tokio::time::Instant::now();
    let mut asked: Option<tokio::time::Instant> = None;
    loop {
        let (docs, purged) = if first { outgoing(store).await? } else { (Vec::new(), Vec::new()) };
        first = false;
        if !purged.is_empty() {
            let m = ClientMessage::Purge { docs: purged.clone() };
            send(&mut sink, &m, traffic).await?;
        }
        if !docs.is_empty() {
            docs.iter().for_each(|d| acks.forget(&d.doc));
            let m = ClientMessage::Sync { docs: docs.into_iter().chain(acks.take()).collect() };
            send(&mut sink, &m, traffic).await?;
            asked.get_or_insert_with(tokio::time::Instant::now);
        }
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { return Ok(SessionEnd::Closed) };
                let frame = frame.map_err(|e| ClientError::Network(e.to_string()))?;
                heard = tokio::time::Instant::now();
                let bytes = match frame {
                    Message::Binary(b) => {
                        traffic.received.fetch_add(b.len() as u64, Ordering::Relaxed);
                        b
                    }
                    Message::Close(_) => return Ok(SessionEnd::Closed),
                    _ => continue,
                };
                let message = ServerMessage::decode(&bytes).map_err(|e| ClientError::Protocol(e.to_string()))?;
                answered = tokio::time::Instant::now();
                asked = None;
                quiet = Some(tokio::time::Instant::now() + QUIET);
                let (message, ended) = match message {
                    ServerMessage::Sync { docs, seq } => waiting_frames(&mut stream, docs, seq, traffic),
                    other => (other, None),
                };
                let erased = wants_erased(&message);
                let replies = handle(store, message, status, arrivals, &mut feed, &mut acks).await?;
                if let Some(seq) = erased {
                    send(&mut sink, &ClientMessage::Erased { seq }, traffic).await?;
                }
                if acks.docs.len() >= ACK_FRAME_DOCS {
                    let docs: Vec<DocMessage> = acks.take().collect();
                    send(&mut sink, &ClientMessage::Sync { docs }, traffic).await?;
                }
                settle = answer(&mut sink, replies, &mut acks, traffic).await?;
                match ended {
                    None => {}
                    Some(Ended::Closed) => return Ok(SessionEnd::Closed),
                    Some(Ended::Failed(e)) => return Err(e),
                    Some(Ended::Next(next)) => {
                        // A frame of another kind came after them: handled
                        // in its turn.
                        let erased = wants_erased(&next);
                        let replies = handle(store, next, status, arrivals, &mut feed, &mut acks).await?;
                        if let Some(seq) = erased {
                            send(&mut sink, &ClientMessage::Erased { seq }, traffic).await?;
                        }
                        settle = answer(&mut sink, replies, &mut acks, traffic).await?;
                    }
                }
                // Frames that took long to apply (a slow phone, a big
                // catch-up) must not make the link look silent: the silence
                // branch may win the next `select!` against frames that
                // waited meanwhile.
                heard = tokio::time::Instant::now();
            }
            () = deadline(acks.due) => {
                let docs: Vec<DocMessage> = acks.take().collect();
                send(&mut sink, &ClientMessage::Sync { docs }, traffic).await?;
            }
            () = wake.notified() => {
                first = true;
            }
            () = stop.notified() => return Ok(SessionEnd::Stopped),
            _ = ping.tick() => {
                // Small: it cannot fill a dead link's send buffer and hang.
                sink.send(Message::Ping(Vec::new().into())).await.map_err(|e| ClientError::Network(e.to_string()))?;
            }
            () = tokio::time::sleep_until(heard + heartbeat.silence_limit) => {
                return Err(ClientError::Silent(heartbeat.silence_limit));
            }
            // Not while the server still owes the catch-up: a big one may
            // take it long to start (a year of changes to list), and a new
            // connection would start it all over again.
            () = deadline((status.borrow().waiting > 0 && feed.reached()).then_some(asked.unwrap_or(answered) + heartbeat.unanswered)) => {
                // The states of this session may wait for an answer that
                // will not come. Starting again on this link would not do:
                // the server's states of the exchange may take our changes
                // as sent. A new connection starts both ends afresh.
                tracing::info!(after = ?heartbeat.unanswered, "changes wait and the server said nothing: connecting again");
                return Ok(SessionEnd::Unanswered);
            }
            () = deadline(quiet) => {
                quiet = None;
                blocking(store, Store::write_sync_states).await?;
            }
            () = deadline(settle) => {
                // Our answer only acknowledged what came: the server had
                // nothing more to say, so the device is up to date.
                settle = None;
                let ((waiting, attention), now) = blocking(store, |s| -> Result<_, ClientError> { Ok((counts(s)?, s.now())) }).await?;
                show_settled(status, &feed, waiting, attention, now);
            }
        }
    }
}

/// At most this many frames that waited on the socket are applied
/// together (see [`waiting_frames`]), and no more once they hold
/// [`ACK_FRAME_DOCS`] documents: a catch-up's frames hold dozens each, and
/// applying 32 of them at once made a busy day's catch-up slower (0.9-1.3 s
/// instead of 0.8 s), its answers all waiting for the last.
const FRAMES_TOGETHER: usize = 32;

/// What stopped [`waiting_frames`] short of the socket running dry.
enum Ended {
    /// A frame that is not changes, to handle after them.
    Next(ServerMessage),
    /// The server closed the connection.
    Closed,
    /// The connection failed or sent something unreadable.
    Failed(ClientError),
}

/// One frame of changes, joined by the frames of changes already waiting
/// on the socket behind it, to be applied in one transaction. A device that
/// fell behind (a slow phone, a burst of changes, the machine busy) then
/// pays one commit for all of them instead of one each, and catches up
/// instead of falling further behind; one that keeps up finds nothing
/// waiting and goes on as before. The feed number is the highest of theirs.
fn waiting_frames<S>(stream: &mut S, mut docs: Vec<DocMessage>, mut seq: u64, traffic: &Traffic) -> (ServerMessage, Option<Ended>)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    use futures_util::FutureExt;
    let mut ended = None;
    let mut frames = 1;
    while frames < FRAMES_TOGETHER && docs.len() < ACK_FRAME_DOCS && ended.is_none() {
        let bytes = match stream.next().now_or_never() {
            // Nothing more waiting.
            None => break,
            Some(Some(Ok(Message::Binary(b)))) => b,
            Some(None | Some(Ok(Message::Close(_)))) => {
                ended = Some(Ended::Closed);
                break;
            }
            Some(Some(Ok(_))) => continue,
            Some(Some(Err(e))) => {
                ended = Some(Ended::Failed(ClientError::Network(e.to_string())));
                break;
            }
        };
        traffic.received.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        frames += 1;
        match ServerMessage::decode(&bytes) {
            Ok(ServerMessage::Sync { docs: more, seq: next }) => {
                docs.extend(more);
                seq = seq.max(next);
            }
            Ok(other) => ended = Some(Ended::Next(other)),
            Err(e) => ended = Some(Ended::Failed(ClientError::Protocol(e.to_string()))),
        }
    }
    (ServerMessage::Sync { docs, seq }, ended)
}

/// Send the answers to a frame that cannot wait, with the acknowledgements
/// gathered so far (they go along for free). Returns when a quiet server
/// will mean "up to date" (see [`SETTLE`]): never, when the frame needed
/// no answer (the frame itself said whether the device is up to date).
async fn answer<S>(
    sink: &mut S,
    replies: Vec<DocMessage>,
    acks: &mut Acks,
    traffic: &Traffic,
) -> Result<Option<tokio::time::Instant>, ClientError>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    if replies.is_empty() {
        return Ok(None);
    }
    let acks = acks.take_except(&replies);
    let docs = replies.into_iter().chain(acks).collect();
    send(sink, &ClientMessage::Sync { docs }, traffic).await?;
    Ok(Some(tokio::time::Instant::now() + SETTLE))
}

/// The counts after the server said all it had to say: online when nothing
/// of ours waits and the feed number was reached.
fn show_settled(status: &watch::Sender<SyncStatus>, feed: &Feed, waiting: usize, attention: usize, now: crate::Timestamp) {
    set(status, |st| {
        st.waiting = waiting;
        st.attention = attention;
        if waiting == 0 && feed.reached() {
            st.connection = Connection::Online;
            st.last_sync = Some(now);
        }
    });
}

/// A socket's read and write buffers (a larger frame still arrives whole,
/// read this much at a time into a buffer grown for it).
const SOCKET_BUFFER_BYTES: usize = 16 * 1024;

/// Sleep until `at`; without one, never (a `select!` branch that is off).
async fn deadline(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Where the device stands in the server's change feed this session.
#[derive(Default)]
struct Feed {
    /// The server's number at welcome.
    target: Option<u64>,
    /// The highest number a frame brought.
    seen: u64,
}

impl Feed {
    fn reached(&self) -> bool {
        self.target.is_some_and(|t| self.seen >= t)
    }
}

/// Answers that only acknowledge, gathered to go in one frame (see
/// [`ACK_DELAY`]); a later one for a document replaces the earlier, which
/// it says all of.
#[derive(Default)]
struct Acks {
    docs: std::collections::HashMap<DocId, Vec<u8>>,
    /// When they go.
    due: Option<tokio::time::Instant>,
}

impl Acks {
    fn add(&mut self, doc: DocId, message: Vec<u8>) {
        self.docs.insert(doc, message);
        self.due.get_or_insert_with(|| tokio::time::Instant::now() + ACK_DELAY);
    }

    /// A newer message for `doc` goes now: the older acknowledgement would
    /// only say less, after it.
    fn forget(&mut self, doc: &DocId) {
        self.docs.remove(doc);
    }

    /// The acknowledgements to go along with `replies`: all but those of
    /// the same documents, which stay for a frame of their own. An
    /// acknowledgement made after a reply in the same batch of frames
    /// (the server's second message answered after its first) must not
    /// follow it in one frame: the server applies a frame's messages
    /// before it answers, and the acknowledgement, telling heads equal to
    /// its own, makes Automerge take the answer as sent, so the device
    /// never hears that the server has its change and keeps it waiting
    /// (issue 12: "Syncing · 1 change waiting" after the server returned).
    fn take_except(&mut self, replies: &[DocMessage]) -> Vec<DocMessage> {
        let held: std::collections::HashMap<DocId, Vec<u8>> =
            replies.iter().filter_map(|r| self.docs.remove_entry(&r.doc)).collect();
        let now: Vec<DocMessage> = self.take().collect();
        if !held.is_empty() {
            self.docs = held;
            self.due = Some(tokio::time::Instant::now() + ACK_DELAY);
        }
        now
    }

    fn take(&mut self) -> impl Iterator<Item = DocMessage> + use<> {
        self.due = None;
        std::mem::take(&mut self.docs).into_iter().map(|(doc, message)| DocMessage { doc, message })
    }
}

/// The feed number to answer `Erased` with once this frame is applied:
/// a deletion the server wants to hear is done (an erasure report's
/// confirmation). Answered only after the tombstones are committed.
fn wants_erased(message: &ServerMessage) -> Option<u64> {
    match message {
        ServerMessage::Purged { seq, .. } => *seq,
        _ => None,
    }
}

/// Apply one server frame; returns the answers to send now (those that
/// only acknowledge join `acks`). The store's part runs on the blocking
/// pool with the frame moved in; the session's own state (`feed`, `acks`,
/// the status) is updated here from what it gives back.
async fn handle(
    store: &Arc<Mutex<Store>>,
    message: ServerMessage,
    status: &watch::Sender<SyncStatus>,
    arrivals: &broadcast::Sender<Vec<DocKind>>,
    feed: &mut Feed,
    acks: &mut Acks,
) -> Result<Vec<DocMessage>, ClientError> {
    match message {
        ServerMessage::Welcome { seq, also_at, .. } => {
            feed.target = Some(seq);
            // Kept for the day this address does not answer; a few, of a
            // sane length, whatever a server sends.
            let also_at: Vec<String> =
                also_at.into_iter().filter(|a| !a.is_empty() && a.len() <= MAX_ADDRESS_CHARS && !a.contains('\n')).take(MAX_ALSO_AT).collect();
            let lines = also_at.join("\n");
            blocking(store, move |s| -> Result<(), ClientError> {
                if s.meta_text(ALSO_AT_KEY)?.unwrap_or_default() != lines {
                    s.set_meta_text(ALSO_AT_KEY, &lines)?;
                }
                Ok(())
            })
            .await?;
            Ok(Vec::new())
        }
        ServerMessage::Sync { docs, seq } => {
            let (applied, (waiting, attention), now) = blocking(store, move |s| -> Result<_, ClientError> {
                // The whole frame, its answers and the feed number in one
                // transaction.
                let batch: Vec<(DocId, Vec<u8>)> = docs.into_iter().map(|m| (m.doc, m.message)).collect();
                // The server checked every change it sends: trusted.
                let results = s.receive_sync_frame(SERVER_PEER, &batch, None, Some((FEED_KEY, seq)))?;
                let applied: Vec<_> = batch.into_iter().map(|(doc, _)| doc).zip(results).collect();
                Ok((applied, counts(s)?, s.now()))
            })
            .await?;
            let mut replies = Vec::new();
            let mut kinds = Vec::new();
            for (doc, result) in applied {
                match result {
                    Ok(received) => {
                        if received.changed && !kinds.contains(&doc.kind()) {
                            kinds.push(doc.kind());
                        }
                        // A document the server now has all of left the
                        // outbox, even if the protocol still wants a word
                        // (an acknowledgement the server may not answer).
                        match received.reply {
                            Some(message) if received.reply_can_wait => acks.add(doc, message),
                            Some(message) => {
                                acks.forget(&doc);
                                replies.push(DocMessage { doc, message });
                            }
                            None => {}
                        }
                    }
                    Err(crate::store::Error::Purged { .. }) => continue,
                    Err(e) => {
                        tracing::warn!(%doc, error = %e, "a sync message from the server was not applied");
                        continue;
                    }
                }
            }
            if !kinds.is_empty() {
                // Nobody listening is fine.
                let _ = arrivals.send(kinds);
            }
            // Up to date when nothing of ours waits and the frame needed no
            // answer but acknowledgements; after an answer, the session
            // settles it (see `SETTLE`).
            feed.seen = feed.seen.max(seq);
            set(status, |st| {
                st.waiting = waiting;
                st.attention = attention;
                if waiting == 0 && replies.is_empty() && feed.reached() {
                    st.connection = Connection::Online;
                    st.last_sync = Some(now);
                } else {
                    st.connection = Connection::Syncing;
                }
            });
            Ok(replies)
        }
        ServerMessage::Purged { docs, .. } => {
            let mut kinds: Vec<DocKind> = docs.iter().map(DocId::kind).collect();
            kinds.dedup();
            blocking(store, move |s| -> Result<(), ClientError> {
                for doc in docs {
                    // Idempotent: also records the deletion of a document
                    // this device never had, so it can never arrive later.
                    s.apply_tombstone(&doc)?;
                }
                Ok(())
            })
            .await?;
            let _ = arrivals.send(kinds);
            Ok(Vec::new())
        }
        ServerMessage::Forget { docs } => {
            let mut kinds: Vec<DocKind> = docs.iter().map(DocId::kind).collect();
            kinds.dedup();
            blocking(store, move |s| s.forget(&docs)).await?;
            let _ = arrivals.send(kinds);
            Ok(Vec::new())
        }
        ServerMessage::Error { kind, message, doc, refusal } => {
            tracing::warn!(?kind, %message, ?doc, ?refusal, "the server refused a frame");
            match (kind, doc, refusal) {
                (SyncErrorKind::Unauthorized | SyncErrorKind::Version, ..) => {
                    set(status, |s| s.last_error = Some(message.clone()));
                    Err(ClientError::Refused(message))
                }
                // Changes to one document refused by a rule: it leaves the
                // outbox for "Needs attention", or it would go again at
                // every connect and the device would never be online.
                (kind, Some(doc), Some(refusal)) if kind != SyncErrorKind::Internal => {
                    let ((waiting, attention), now) = blocking(store, move |s| -> Result<_, ClientError> {
                        s.set_aside_refused(SERVER_PEER, &doc, &refusal)?;
                        Ok((counts(s)?, s.now()))
                    })
                    .await?;
                    // No answer follows a refusal: if nothing else waits,
                    // the device is up to date.
                    show_settled(status, feed, waiting, attention, now);
                    Ok(Vec::new())
                }
                _ => {
                    set(status, |s| s.last_error = Some(message.clone()));
                    Ok(Vec::new())
                }
            }
        }
        ServerMessage::Wipe => Err(ClientError::Revoked),
        ServerMessage::KeptCounts { counts } => {
            // Counts that cannot be kept leave the ones kept as they were:
            // the session goes on (the statistics lack only what retention
            // erased).
            if let Err(e) = blocking(store, move |s| s.replace_kept_counts(&counts)).await {
                tracing::warn!(error = %e, "the server's daily counts were not kept");
            }
            Ok(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_other_addresses_follow_the_enrolled_one_with_its_scheme_only() {
        let told = "wss://b.example/sync\nws://c.example/sync\nwss://a.example/sync\nwss://b.example/sync\nnot an address".to_owned();
        assert_eq!(addresses("wss://a.example/sync", Some(told)), vec!["wss://a.example/sync", "wss://b.example/sync"]);
        assert_eq!(addresses("ws://127.0.0.1:7878/sync", None), vec!["ws://127.0.0.1:7878/sync"]);
        let many = (0..20).map(|i| format!("ws://10.0.0.{i}/sync")).collect::<Vec<_>>().join("\n");
        assert_eq!(addresses("ws://a/sync", Some(many)).len(), 1 + MAX_ALSO_AT);
    }

    #[test]
    fn a_dead_link_shows_as_offline_within_30_seconds_by_default() {
        let h = Heartbeat::default();
        assert_eq!(h.ping_every, Duration::from_secs(10));
        // Two pings may go unanswered before the link counts as dead.
        assert!(h.silence_limit > h.ping_every * 2);
        assert!(h.silence_limit < Duration::from_secs(30));
        let e = ClientError::Silent(h.silence_limit).to_string();
        assert!(e.contains("did not answer for 25 s"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn acknowledgements_gather_for_a_second_from_the_first_and_go_in_one_frame() {
        let site = crate::ids::SiteId::new();
        let (a, b) = (DocId::site(site), DocId::directory(site));
        let mut acks = Acks::default();
        let first = tokio::time::Instant::now();
        acks.add(a.clone(), vec![1]);
        // A later one neither sends them sooner nor puts them off.
        tokio::time::advance(Duration::from_millis(900)).await;
        acks.add(b.clone(), vec![2]);
        acks.add(a.clone(), vec![3]);
        assert_eq!(acks.due, Some(first + Duration::from_secs(1)));
        let mut frame: Vec<(DocId, Vec<u8>)> = acks.take().map(|m| (m.doc, m.message)).collect();
        frame.sort();
        let mut expected = vec![(a, vec![3]), (b, vec![2])];
        expected.sort();
        assert_eq!(frame, expected, "one frame, the later answer for a document in place of the earlier");
        assert!(acks.due.is_none());
    }

    #[tokio::test]
    async fn an_acknowledgement_never_shares_a_frame_with_a_reply_for_its_document() {
        let site = crate::ids::SiteId::new();
        let (a, b) = (DocId::site(site), DocId::directory(site));
        let mut acks = Acks::default();
        acks.add(a.clone(), vec![1]);
        acks.add(b.clone(), vec![2]);
        let replies = vec![DocMessage { doc: a.clone(), message: vec![3] }];
        let along: Vec<DocId> = acks.take_except(&replies).into_iter().map(|m| m.doc).collect();
        assert_eq!(along, vec![b]);
        // The held one goes later, in a frame of its own.
        assert!(acks.due.is_some());
        let later: Vec<DocId> = acks.take().map(|m| m.doc).collect();
        assert_eq!(later, vec![a]);
        assert!(acks.due.is_none());
    }
}
