//! One device's WebSocket: hello with its token, then documents both ways.
//! Every document the device sends or receives passes the role's access
//! rules; changes under another device's actor id are refused; a change
//! that lands is numbered in the feed and pushed to the site's other
//! connections at once, by the connection it landed through (see
//! [`crate::hub`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use lodge_core::sync::{
    Access, ClientMessage, Counted, DocMessage, FrameError, Refusal, ServerMessage, SyncErrorKind, Writer, judge, may_purge, may_purge_unseen,
    may_read,
};
use lodge_core::{DeviceId, DocId, Header, Role, Store, StoreError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::AppState;
use crate::door::Pass;
use crate::hub::{Listening, SiteHub, held};
use crate::outbox::{Out, Outbox, Unsent};
use crate::visibility::{access_of, for_everyone, header_of, held_by, is_marshal_phone, kiosk_made, marshal_of, may_have_held, may_know_deletion, visit_waiting};
use crate::sessions::Ending;
use crate::registry::Device;

type Sink = SplitSink<WebSocket, Message>;

/// Documents made per step when a device catches up.
const CATCH_UP_FRAME_DOCS: usize = 256;

/// About how many bytes of sync messages go in one catch-up frame, so that
/// a device applies one frame while the next is made, and no socket keeps
/// a buffer the size of a whole site.
const CATCH_UP_FRAME_BYTES: usize = 32 * 1024;

/// Messages grouped into frames of about [`CATCH_UP_FRAME_BYTES`] and at
/// most [`CATCH_UP_FRAME_DOCS`] each (a single larger message goes alone):
/// a catch-up's, and a push of many documents at once (the other
/// instances' changes merged when a device connects may be a whole site).
pub(crate) fn in_frames(docs: Vec<DocMessage>) -> Vec<Vec<DocMessage>> {
    let mut frames = Vec::new();
    let mut frame = Vec::new();
    let mut bytes = 0;
    for doc in docs {
        if (bytes + doc.message.len() > CATCH_UP_FRAME_BYTES || frame.len() == CATCH_UP_FRAME_DOCS) && !frame.is_empty() {
            frames.push(std::mem::take(&mut frame));
            bytes = 0;
        }
        bytes += doc.message.len();
        frame.push(doc);
    }
    if !frame.is_empty() {
        frames.push(frame);
    }
    frames
}

async fn send(sink: &mut Sink, message: &ServerMessage) -> bool {
    sink.send(Message::Binary(message.encode().into())).await.is_ok()
}

async fn refuse(sink: &mut Sink, kind: SyncErrorKind, message: String) {
    let _ = send(sink, &ServerMessage::Error { kind, message, doc: None, refusal: None }).await;
    let _ = sink.send(Message::Close(None)).await;
}

/// Serve one device until it goes away, is revoked, is replaced by a new
/// connection of its own, stops answering, or breaks the protocol. `pass`
/// is the connection's place at the door: opened once the hello is
/// accepted (absent when the router is served without the accept loop).
pub async fn serve(socket: WebSocket, state: AppState, pass: Option<Arc<Pass>>) {
    let (mut sink, mut stream) = socket.split();
    let first = match tokio::time::timeout(state.limits.hello_deadline, stream.next()).await {
        Ok(Some(Ok(Message::Binary(bytes)))) => {
            state.traffic.frame_in(bytes.len());
            ClientMessage::decode(&bytes)
        }
        Ok(Some(Ok(_))) => Err(FrameError::Malformed("the first frame must be a binary hello".into())),
        _ => return,
    };
    let (token, since, pending, app, kept_counts) = match first {
        Ok(ClientMessage::Hello { token, since, pending, app, kept_counts }) => (token, since, pending, app, kept_counts),
        Ok(_) => return refuse(&mut sink, SyncErrorKind::BadFrame, "The first frame must be a hello.".into()).await,
        Err(e @ FrameError::Version(_)) => return refuse(&mut sink, SyncErrorKind::Version, e.to_string()).await,
        Err(e) => return refuse(&mut sink, SyncErrorKind::BadFrame, e.to_string()).await,
    };
    let auth_state = state.clone();
    let device = match tokio::task::spawn_blocking(move || {
        let now = auth_state.clock.now();
        auth_state.registry().authenticate_at(&token, now, auth_state.limits.token_idle)
    })
    .await
    {
        Ok(Ok(Some(device))) => device,
        Ok(Ok(None)) => return refuse(&mut sink, SyncErrorKind::Unauthorized, "This device is not enrolled. Enrol it again.".into()).await,
        _ => return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await,
    };
    if device.revoked_at.is_some() {
        let _ = send(&mut sink, &ServerMessage::Wipe).await;
        let _ = sink.send(Message::Close(None)).await;
        return;
    }
    // A known device: no hello-sized limit any more, and its connection
    // counts as a device's, not a stranger's. An earlier connection of the
    // same device is closed.
    if let Some(pass) = &pass {
        pass.open();
    }
    let mut live = state.sessions.start(device.device);
    if state.sessions.closing() {
        let _ = sink.send(Message::Close(Some(closing_frame(Ending::ShuttingDown)))).await;
        return;
    }
    let s = state.clone();
    let site = device.site;
    let hub = match tokio::task::spawn_blocking(move || s.hub(site)).await {
        Ok(Ok(hub)) => hub,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "site store failed to open");
            return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "site store failed to open");
            return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await;
        }
    };
    // The device's earlier connection (a phone back from a walk out of
    // Wi-Fi) is told to end; this one starts once it is gone, from the
    // persisted shared heads (see `Session::earlier_gone`). An earlier
    // session that does not end in time is a bug; this one starts anyway.
    if tokio::time::timeout(EARLIER_SESSION_ENDS, live.earlier_gone()).await.is_err() {
        tracing::warn!(device = %device.device, "the device's earlier session did not end in time");
    }
    let peer = device.device.to_string();
    let (h, p) = (hub.clone(), peer.clone());
    let fresh = tokio::task::spawn_blocking(move || h.store().end_sync_session(&p));
    if fresh.await.is_err() {
        return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await;
    }
    // Listening starts before the catch-up is read, so that no change falls
    // between the two (one that is in both is sent once: the sync state
    // knows it went).
    // Only an admin's statistics show the daily counts.
    let keeps_counts = kept_counts && device.role == Role::Admin;
    // Other devices' changes go straight into the outbox from here on; its
    // writer starts once the welcome is sent.
    let (out, frames) = Outbox::new(state.limits.queued_bytes);
    let listening = hub.listen(device.clone(), keeps_counts, out.pusher(), since);
    let mut left = Left { hub: hub.clone(), listener: listening.id, peer, live: Some(live), state: state.clone(), device: device.device };
    // In touch now: the admin's list of devices says so, with its app.
    let (s, d) = (state.clone(), device.device);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = s.registry().contact(d, s.clock.now(), app.as_deref(), since) {
            tracing::warn!(error = %e, "the device's contact was not recorded");
        }
    });
    let mut revoked = state.revoked.subscribe();
    if state.relays() {
        // What the other instances numbered is merged before this device
        // is told a number (see `crate::relay`).
        let (s, site) = (state.clone(), device.site);
        let _ = tokio::task::spawn_blocking(move || crate::relay::merge_and_push(&s, site)).await;
    }
    let seq = hub.seq();
    let welcome = ServerMessage::Welcome { site: device.site, device: device.device, role: device.role, seq, also_at: state.also_at.to_vec() };
    if !send(&mut sink, &welcome).await {
        return;
    }
    tracing::info!(device = %device.device, role = %device.role, since, "device connected");
    let session = Arc::new(Session { device, hub, state: state.clone(), keeps_counts });
    // Frames go out through a writer task of their own, so that this task
    // always reads the device: a device blocked writing its answers to a
    // server that is not reading stops reading too, and a big catch-up
    // stalled both ends for good.
    let mut writer = tokio::spawn(write_frames(sink, frames, state.traffic.clone()));
    let live = left.live.as_mut().expect("held until the end");
    let end = converse(&session, &mut stream, &out, &listening, &mut revoked, live, since, pending).await;
    drop(out);
    match end {
        // What was queued goes out, unless the device stopped reading.
        End::Flush => {
            if tokio::time::timeout(Duration::from_secs(5), &mut writer).await.is_err() {
                writer.abort();
            }
        }
        // A close frame, if the socket takes one at once.
        End::Drop => {
            if tokio::time::timeout(Duration::from_secs(1), &mut writer).await.is_err() {
                writer.abort();
            }
        }
    }
    tracing::info!(device = %session.device.device, "device disconnected");
}

/// The close frame a session ends with.
fn closing_frame(why: Ending) -> CloseFrame {
    match why {
        Ending::Replaced => CloseFrame { code: CLOSE_REPLACED, reason: "replaced by a newer connection of this device".into() },
        Ending::ShuttingDown => CloseFrame { code: axum::extract::ws::close_code::AWAY, reason: "the server is shutting down".into() },
    }
}

/// Close code for a connection replaced by a newer one of the same device
/// (4000-4999 are the application's).
const CLOSE_REPLACED: u16 = 4001;

/// Close code for a device from which nothing arrived in time.
const CLOSE_SILENT: u16 = 4002;

/// Write frames until the queue ends or says close, then close.
async fn write_frames(mut sink: Sink, mut frames: mpsc::UnboundedReceiver<Out>, traffic: Arc<crate::metrics::Traffic>) {
    let mut close = None;
    while let Some(out) = frames.recv().await {
        match out {
            Out::Frame(bytes, _held) => {
                traffic.frame_out(bytes.len());
                if sink.send(Message::Binary(bytes)).await.is_err() {
                    return;
                }
            }
            Out::Ping => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            Out::Close(frame) => {
                close = frame;
                break;
            }
        }
    }
    let _ = sink.send(Message::Close(close)).await;
}

/// How many catch-up chunks may wait to be written at once: enough to keep
/// the device busy, few enough that a slow device does not hold a site's
/// worth of frames in the server's memory.
const CATCH_UP_CHUNKS_QUEUED: usize = 2;

/// How a conversation ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// Let the writer send what is queued and a close frame.
    Flush,
    /// The device stopped reading or answering: drop it now.
    Drop,
}

/// The conversation with a device after hello: its catch-up, its frames and
/// their answers, changes from other devices, revocation, the heartbeat,
/// and the end (replaced, or the server stopping).
#[allow(clippy::too_many_arguments)]
async fn converse(
    session: &Arc<Session>,
    stream: &mut SplitStream<WebSocket>,
    out: &Outbox,
    listening: &Listening,
    revoked: &mut tokio::sync::broadcast::Receiver<lodge_core::DeviceId>,
    live: &mut crate::sessions::Session,
    since: u64,
    pending: Vec<DocId>,
) -> End {
    let device = session.device.device;
    // A full queue means the device does not read what it is sent.
    let unsent = |why: Unsent| {
        if why == Unsent::Full {
            tracing::warn!(%device, "device does not read its frames; disconnecting");
            End::Drop
        } else {
            End::Flush
        }
    };
    let refuse = |kind: SyncErrorKind, message: String| {
        out.urgent(&ServerMessage::Error { kind, message, doc: None, refusal: None });
        out.close(None);
        End::Flush
    };
    let wipe = || {
        out.urgent(&ServerMessage::Wipe);
        out.close(None);
        End::Flush
    };
    let failed = || refuse(SyncErrorKind::Internal, "The server failed; it was logged.".into());
    let seq = session.hub.seq();
    let limits = session.state.limits.clone();

    // What changed while the device was away, and what it says it has: a
    // chunk at a time, made while the device's answers are read.
    let s = session.clone();
    let CatchUp { purged, purged_seq, forgotten, wanted } = match tokio::task::spawn_blocking(move || s.catch_up_plan(since, &pending)).await {
        Ok(Ok(plan)) => plan,
        _ => return failed(),
    };
    if !purged.is_empty()
        && let Err(why) = out.catch_up(&ServerMessage::Purged { docs: purged, seq: Some(purged_seq) }, None)
    {
        return unsent(why);
    }
    if !forgotten.is_empty()
        && let Err(why) = out.catch_up(&ServerMessage::Forget { docs: forgotten }, None)
    {
        return unsent(why);
    }
    // The daily counts after the deletions they came from, so that an
    // erased visit is never counted twice on the admin's screen.
    if session.keeps_counts {
        let s = session.clone();
        match tokio::task::spawn_blocking(move || s.state.registry().kept_counts(s.device.site)).await {
            Ok(Ok(counts)) => {
                if let Err(why) = out.catch_up(&ServerMessage::KeptCounts { counts }, None) {
                    return unsent(why);
                }
            }
            _ => return failed(),
        }
    }
    let mut backlog: std::collections::VecDeque<Vec<(DocId, bool)>> =
        wanted.chunks(CATCH_UP_FRAME_DOCS).map(<[_]>::to_vec).collect();
    if backlog.is_empty()
        && let Err(why) = out.catch_up(&ServerMessage::Sync { docs: Vec::new(), seq }, None)
    {
        // Nothing to catch up: the empty frame tells the device the feed
        // number, and that nothing more is coming.
        return unsent(why);
    }
    let slots = Arc::new(Semaphore::new(CATCH_UP_CHUNKS_QUEUED));
    type Making = (tokio::task::JoinHandle<Result<Vec<DocMessage>, StoreError>>, OwnedSemaphorePermit);
    let mut making: Option<Making> = None;

    // Revocations made by `lodge-sync devices revoke` (another process)
    // reach open connections by this check.
    let mut recheck = tokio::time::interval(Duration::from_secs(2));
    recheck.tick().await;
    // The heartbeat: a ping every interval; a device from which nothing at
    // all arrived (a frame, a pong) for the idle timeout is gone, whatever
    // its socket says (a phone that walked out of Wi-Fi).
    let mut ping = tokio::time::interval(limits.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    loop {
        // The device's feed number moves only when the whole catch-up has
        // gone out: cut off halfway, it starts again from where it was.
        let catching_up = making.is_some() || !backlog.is_empty();
        if !catching_up {
            // Pushed changes carry their own feed numbers from now on.
            listening.caught_up.store(true, std::sync::atomic::Ordering::Release);
        }
        tokio::select! {
            slot = slots.clone().acquire_owned(), if making.is_none() && !backlog.is_empty() => {
                let (Ok(slot), Some(chunk)) = (slot, backlog.pop_front()) else { return failed() };
                let s = session.clone();
                making = Some((tokio::task::spawn_blocking(move || s.catch_up_messages(&chunk)), slot));
            }
            // Awaiting the handle by reference: when another branch wins,
            // the chunk is still being made and is not made twice.
            made = async { (&mut making.as_mut().expect("checked by the guard").0).await }, if making.is_some() => {
                let slot = making.take().map(|(_, slot)| slot);
                let Ok(Ok(docs)) = made else { return failed() };
                let mut frames = in_frames(docs);
                let last = frames.pop();
                for docs in frames {
                    if let Err(why) = out.catch_up(&ServerMessage::Sync { docs, seq: since }, None) {
                        return unsent(why);
                    }
                }
                if let Some(docs) = last
                    && let Err(why) = out.catch_up(&ServerMessage::Sync { docs, seq: since }, slot)
                {
                    return unsent(why);
                }
                if backlog.is_empty()
                    && let Err(why) = out.catch_up(&ServerMessage::Sync { docs: Vec::new(), seq }, None)
                {
                    return unsent(why);
                }
            }
            _ = recheck.tick() => {
                let s = session.clone();
                // Fails closed: a check that could not be made ends the
                // session (the device is refused or let in again at its
                // next hello), it does not keep it.
                match tokio::task::spawn_blocking(move || s.state.registry().is_revoked(device)).await {
                    Ok(Ok(false)) => {}
                    Ok(Ok(true)) => {
                        tracing::info!(%device, "device revoked; disconnecting");
                        return wipe();
                    }
                    Ok(Err(e)) => {
                        tracing::error!(%device, error = %e, "the revocation check failed; disconnecting");
                        return failed();
                    }
                    Err(_) => return failed(),
                }
            }
            _ = ping.tick() => {
                if let Err(why) = out.ping() {
                    return unsent(why);
                }
            }
            () = tokio::time::sleep_until(heard + limits.idle_timeout) => {
                tracing::info!(%device, "nothing from the device in time; disconnecting");
                out.close(Some(CloseFrame { code: CLOSE_SILENT, reason: "nothing arrived in time".into() }));
                return End::Drop;
            }
            why = live.ending() => {
                tracing::info!(%device, ?why, "session ends");
                out.close(Some(closing_frame(why)));
                // Replaced: the device is on its new connection, which waits
                // for this one to be gone; the old socket is likely dead.
                return if why == Ending::Replaced { End::Drop } else { End::Flush };
            }
            incoming = stream.next() => {
                heard = tokio::time::Instant::now();
                let bytes = match incoming {
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return End::Flush,
                    Some(Ok(_)) => continue,
                };
                session.state.traffic.frame_in(bytes.len());
                let message = match ClientMessage::decode(&bytes) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::info!(%device, error = %e, "bad frame; closing");
                        let kind = if matches!(e, FrameError::Version(_)) { SyncErrorKind::Version } else { SyncErrorKind::BadFrame };
                        return refuse(kind, e.to_string());
                    }
                };
                let s = session.clone();
                // The frame in hand is finished even when the session is
                // told to end meanwhile: it is handled here, not in a
                // branch that another may cancel.
                match tokio::task::spawn_blocking(move || s.handle(message)).await {
                    Ok(frames) => {
                        for f in frames {
                            if let Err(why) = out.frame(&held(f, catching_up, since)) {
                                return unsent(why);
                            }
                        }
                    }
                    Err(_) => return failed(),
                }
            }
            () = listening.dropped.notified() => {
                // The hub gave up pushing to it: its queue is full.
                return unsent(Unsent::Full);
            }
            gone = revoked.recv() => {
                if matches!(gone, Ok(d) if d == device) {
                    tracing::info!(%device, "device revoked; disconnecting");
                    return wipe();
                }
            }
        }
    }
}

/// A connection's end, however it ends: it stops listening, and the sync
/// states of its session are forgotten (what was in flight may never have
/// arrived; the next session starts from the persisted shared heads).
/// Only then is the session gone, so that the device's next one waits for
/// this.
struct Left {
    hub: Arc<SiteHub>,
    listener: u64,
    peer: String,
    live: Option<crate::sessions::Session>,
    state: AppState,
    device: DeviceId,
}

impl Drop for Left {
    fn drop(&mut self) {
        self.hub.leaving(self.listener, self.device);
        let hub = self.hub.clone();
        let peer = std::mem::take(&mut self.peer);
        let live = self.live.take();
        let (state, device, listener) = (self.state.clone(), self.device, self.listener);
        tokio::task::spawn_blocking(move || {
            hub.store().end_sync_session(&peer);
            // Last in touch now, with what the feed held when it left; only
            // then is it shown as gone.
            if let Err(e) = state.registry().contact(device, state.clock.now(), None, hub.seq()) {
                tracing::warn!(error = %e, "the device's contact was not recorded");
            }
            hub.leave(listener);
            drop(live);
        });
    }
}

/// How long a device's new connection waits for its earlier one to end:
/// longer than the earlier one takes to finish a frame and drop its socket.
const EARLIER_SESSION_ENDS: Duration = Duration::from_secs(10);

/// What a reconnecting device needs.
struct CatchUp {
    /// Documents deleted since it last synced.
    purged: Vec<DocId>,
    /// The feed number of the last of them (the device answers `Erased`
    /// with it once they are gone).
    purged_seq: u64,
    /// Documents it may have and may no longer see (see
    /// [`ServerMessage::Forget`]).
    forgotten: Vec<DocId>,
    /// Documents to sync: those changed since it last synced that it may
    /// see (`true`: it may never have had them) and those it says it has
    /// changes for (`false`).
    wanted: Vec<(DocId, bool)>,
}

struct Session {
    device: Device,
    hub: Arc<SiteHub>,
    state: AppState,
    /// See [`crate::hub::Listener::keeps_counts`].
    keeps_counts: bool,
}

impl Session {
    fn peer(&self) -> String {
        self.device.device.to_string()
    }

    fn access<'a>(&self, store: &mut Store, doc: &DocId, header: &'a Header) -> Access<'a> {
        // Only a kiosk's access turns on the visit's state: no query for
        // anyone else.
        let waiting = self.device.role == Role::Kiosk && visit_waiting(store, doc);
        let held = held_by(&self.device, store, doc);
        let public = self.device.role == Role::Kiosk && for_everyone(store, doc);
        let marshal = marshal_of(&self.device, store, doc);
        access_of(&self.device, header, waiting, held, public, marshal)
    }

    fn readable(&self, store: &mut Store, doc: &DocId) -> bool {
        match header_of(store, doc) {
            Ok(Some(h)) => may_read(&self.access(store, doc, &h)),
            _ => false,
        }
    }

    /// Record that the device has applied the feed's deletions up to
    /// `seq` (no further than the feed has gone: a device cannot confirm
    /// what was never sent).
    fn confirm(&self, seq: u64) {
        let seq = seq.min(self.hub.seq());
        if let Err(e) = self.state.registry().confirm(self.device.device, seq) {
            tracing::error!(error = %e, "a device's confirmation was not recorded");
        }
    }

    /// What a reconnecting device needs (see [`CatchUp`]).
    fn catch_up_plan(&self, since: u64, pending: &[DocId]) -> Result<CatchUp, anyhow::Error> {
        // The hello's feed number: the device applied everything before it
        // (deletions come before the number that follows them).
        if since > 0 {
            self.confirm(since);
        }
        let changed = self.state.registry().changed_since(self.device.site, since)?;
        if changed.is_empty() && pending.is_empty() {
            // Nothing to look at: do not wait for the store behind other
            // devices' frames.
            return Ok(CatchUp { purged: Vec::new(), purged_seq: 0, forgotten: Vec::new(), wanted: Vec::new() });
        }
        let mut purged = Vec::new();
        let mut purged_seq = 0;
        let mut forgotten = Vec::new();
        let pending: std::collections::HashSet<&DocId> = pending.iter().collect();
        let mut wanted: Vec<(DocId, bool)> = Vec::new();
        // A turn at the store per step, as for the messages themselves: a
        // year of changes read at once would keep every other device of
        // the site waiting for it.
        for step in changed.chunks(CATCH_UP_FRAME_DOCS) {
            let mut store = self.hub.store();
            for entry in step {
                if entry.purged {
                    if may_know_deletion(&self.device, &mut store, &entry.doc) {
                        purged.push(entry.doc.clone());
                        purged_seq = purged_seq.max(entry.seq);
                    }
                } else if self.readable(&mut store, &entry.doc) {
                    wanted.push((entry.doc.clone(), !pending.contains(&entry.doc)));
                } else if self.device.role == lodge_core::Role::Kiosk
                    && matches!(header_of(&mut store, &entry.doc), Ok(Some(h)) if kiosk_made(&self.device, &h))
                {
                    // A kiosk keeps no visit past the desk: it drops its own
                    // guests' visits there, and hears of no one else's.
                    purged.push(entry.doc.clone());
                } else if may_have_held(&self.device, &mut store, &entry.doc) {
                    forgotten.push(entry.doc.clone());
                }
            }
        }
        // A phone sees a key while its person holds it, which turns on the
        // key's loan books: a book in the catch-up has the phone look at
        // the key again, whose own change may be numbered before it.
        if matches!(self.device.role, lodge_core::Role::Staff | lodge_core::Role::Worker) {
            let mut store = self.hub.store();
            let in_feed: std::collections::HashSet<&DocId> = changed.iter().map(|e| &e.doc).collect();
            let mut keys: Vec<DocId> = Vec::new();
            for entry in changed.iter().filter(|e| !e.purged) {
                if let Some(key) = entry.doc.key_of_book()
                    && !in_feed.contains(&key)
                    && !keys.contains(&key)
                {
                    keys.push(key);
                }
            }
            for key in keys {
                if self.readable(&mut store, &key) {
                    wanted.push((key.clone(), !pending.contains(&key)));
                } else if may_have_held(&self.device, &mut store, &key) {
                    forgotten.push(key);
                }
            }
        }
        let listed: std::collections::HashSet<DocId> = wanted.iter().map(|(d, _)| d.clone()).collect();
        // A document the device says it has changes for is answered only if
        // it may see it, or it is not here yet (one it made offline). (At
        // most `MAX_HELLO_PENDING` of them: one turn.)
        let mut store = self.hub.store();
        for doc in pending.into_iter().filter(|d| !listed.contains(*d)) {
            let unknown = matches!(store.header(doc), Ok(None));
            if unknown || self.readable(&mut store, doc) {
                wanted.push((doc.clone(), false));
            }
        }
        Ok(CatchUp { purged, purged_seq, forgotten, wanted })
    }

    /// Sync messages for some of the documents of a catch-up.
    fn catch_up_messages(&self, docs: &[(DocId, bool)]) -> Result<Vec<DocMessage>, StoreError> {
        let peer = self.peer();
        let mut store = self.hub.store();
        let mut out = Vec::with_capacity(docs.len());
        for (doc, fresh) in docs {
            let message =
                if *fresh { store.generate_first_sync_message(&peer, doc)? } else { store.generate_sync_message(&peer, doc)? };
            if let Some(message) = message {
                out.push(DocMessage { doc: doc.clone(), message });
            }
        }
        Ok(out)
    }

    /// A frame from the device.
    fn handle(&self, message: ClientMessage) -> Vec<ServerMessage> {
        match message {
            ClientMessage::Hello { .. } => vec![ServerMessage::Error {
                kind: SyncErrorKind::BadFrame,
                message: "Hello was already said.".into(),
                doc: None,
                refusal: None,
            }],
            ClientMessage::Sync { docs } => self.apply(docs),
            ClientMessage::Purge { docs } => self.purge(docs),
            ClientMessage::Erased { seq } => {
                self.confirm(seq);
                Vec::new()
            }
        }
    }

    fn apply(&self, docs: Vec<DocMessage>) -> Vec<ServerMessage> {
        let peer = self.peer();
        let mut replies = Vec::new();
        let mut frames = Vec::new();
        let mut changed = Vec::new();
        let mut purged = Vec::new();
        if docs.len() > MAX_FRAME_DOCS {
            // Refused whole, before the store is touched: one device's big
            // frame would hold every other device of the site up.
            let refusal = Refusal::TooMany { what: Counted::Documents, count: docs.len() as u64, max: MAX_FRAME_DOCS as u64 };
            tracing::warn!(device = %self.device.device, %refusal, "frame refused");
            return vec![refused(SyncErrorKind::BadMessage, None, refusal)];
        }
        {
            let mut store = self.hub.store();
            // Documents the device may not even see are refused outright.
            let mut batch = Vec::with_capacity(docs.len());
            for DocMessage { doc, message } in docs {
                if let Ok(Some(h)) = header_of(&mut store, &doc)
                    && !may_read(&self.access(&mut store, &doc, &h)) {
                        let refusal = Refusal::NotVisible { role: self.device.role, kind: doc.kind() };
                        frames.push(refused(SyncErrorKind::Forbidden, Some(doc), refusal));
                        continue;
                    }
                batch.push((doc, message));
            }
            let device = &self.device;
            let marshal = is_marshal_phone(device, &mut store);
            let writer = Writer { role: device.role, device: device.device, person: device.person, site: device.site, actor: &device.actor, marshal };
            let accept = |doc: &DocId, incoming: &lodge_core::Incoming<'_>| judge(&writer, doc, incoming);
            let results = match store.receive_sync_messages_checked(&peer, &batch, &accept) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "store failed");
                    return vec![ServerMessage::Error { kind: SyncErrorKind::Internal, message: "The server failed; it was logged.".into(), doc: None, refusal: None }];
                }
            };
            for ((doc, _), result) in batch.into_iter().zip(results) {
                match result {
                    Ok(true) => changed.push(doc.clone()),
                    Ok(false) => {}
                    Err(StoreError::Purged { .. }) => {
                        purged.push(doc);
                        continue;
                    }
                    Err(StoreError::Refused { reason, .. }) => {
                        let kind = if reason.is_foreign_actor() {
                            SyncErrorKind::ForeignActor
                        } else if reason.is_bad_message() {
                            SyncErrorKind::BadMessage
                        } else {
                            SyncErrorKind::Forbidden
                        };
                        tracing::warn!(device = %self.device.device, %doc, %reason, "changes refused");
                        frames.push(refused(kind, Some(doc), reason));
                        continue;
                    }
                    Err(StoreError::BadSyncMessage { reason, .. }) => {
                        frames.push(refused(SyncErrorKind::BadMessage, Some(doc), Refusal::Malformed { reason }));
                        continue;
                    }
                    Err(e @ (StoreError::CorruptDocument { .. } | StoreError::WrongKind { .. })) => {
                        frames.push(ServerMessage::Error { kind: SyncErrorKind::BadMessage, message: e.to_string(), doc: Some(doc), refusal: None });
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "store failed");
                        frames.push(ServerMessage::Error { kind: SyncErrorKind::Internal, message: "The server failed; it was logged.".into(), doc: Some(doc), refusal: None });
                        continue;
                    }
                }
                match store.generate_sync_message(&peer, &doc) {
                    Ok(Some(message)) => replies.push(DocMessage { doc, message }),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "store failed"),
                }
            }
        }
        let numbered = !changed.is_empty();
        let seq = self.number(changed.into_iter().map(|doc| (doc, false)).collect());
        if !purged.is_empty() {
            frames.push(ServerMessage::Purged { docs: purged, seq: None });
        }
        // A frame of acknowledgements changes nothing and needs no answer:
        // an empty one would cost every device a frame per change it got.
        if !replies.is_empty() || numbered {
            frames.push(ServerMessage::Sync { docs: replies, seq });
        }
        frames
    }

    /// Number changed documents in the feed and push them to the other
    /// connected devices; returns the feed's sequence.
    fn number(&self, docs: Vec<(DocId, bool)>) -> u64 {
        crate::publish::publish(&self.state, &self.hub, Some(self.device.device), docs, false)
    }

    fn purge(&self, docs: Vec<DocId>) -> Vec<ServerMessage> {
        let mut frames = Vec::new();
        let mut gone = Vec::new();
        if docs.len() > MAX_FRAME_DOCS {
            let refusal = Refusal::TooMany { what: Counted::Documents, count: docs.len() as u64, max: MAX_FRAME_DOCS as u64 };
            return vec![refused(SyncErrorKind::BadMessage, None, refusal)];
        }
        for doc in docs {
            let allowed = {
                let mut store = self.hub.store();
                let known = store.tombstones_contain(&doc).unwrap_or(false);
                match header_of(&mut store, &doc) {
                    Ok(Some(h)) => {
                        let waiting = visit_waiting(&mut store, &doc);
                        may_purge(&access_of(&self.device, &h, waiting, false, false, false))
                    }
                    // Deleted already, or unknown here: a role that may
                    // delete the kind may remember the deletion (a desk
                    // that rejected a guest before the visit came up), so
                    // that the document can never arrive later.
                    Ok(None) => known || may_purge_unseen(self.device.role, doc.kind()),
                    Err(_) => false,
                }
            };
            if !allowed {
                let refusal = Refusal::MayNotPurge { role: self.device.role, kind: doc.kind() };
                tracing::warn!(device = %self.device.device, %doc, "purge refused");
                frames.push(refused(SyncErrorKind::Forbidden, Some(doc), refusal));
                continue;
            }
            match self.hub.store().apply_tombstone(&doc) {
                Ok(with_it) => {
                    gone.push((doc, true));
                    // A visit's notice to its host goes with it, to the
                    // host's phones too.
                    gone.extend(with_it.into_iter().map(|d| (d, true)));
                }
                Err(e) => tracing::error!(error = %e, "purge failed"),
            }
        }
        let taken: Vec<DocId> = gone.iter().map(|(doc, _)| doc.clone()).collect();
        self.number(gone);
        // The device that sent the deletion hears it was taken, as the
        // others hear of it: its outbox empties now, not at its next
        // connect (found by the convergence property test).
        if !taken.is_empty() {
            frames.push(ServerMessage::Purged { docs: taken, seq: None });
        }
        frames
    }

}

/// The most documents one frame from a device may carry: the sync client
/// sends its outbox in frames of at most this many.
pub const MAX_FRAME_DOCS: usize = lodge_core::sync::MAX_FRAME_DOCS;

/// An error frame for changes refused by a rule.
fn refused(kind: SyncErrorKind, doc: Option<DocId>, refusal: Refusal) -> ServerMessage {
    let message = match &doc {
        Some(doc) => format!("Changes to {doc} were refused: {refusal}."),
        None => format!("The frame was refused: {refusal}."),
    };
    ServerMessage::Error { kind, message, doc, refusal: Some(refusal) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(count: usize, bytes: usize) -> Vec<DocMessage> {
        (0..count).map(|_| DocMessage { doc: DocId::visit(lodge_core::VisitId::new()), message: vec![0; bytes] }).collect()
    }

    #[test]
    fn many_small_documents_go_in_frames_of_at_most_a_catch_up_step() {
        let frames = in_frames(messages(300, 10));
        assert_eq!(frames.iter().map(Vec::len).collect::<Vec<_>>(), vec![CATCH_UP_FRAME_DOCS, 300 - CATCH_UP_FRAME_DOCS]);
    }

    #[test]
    fn large_documents_go_in_frames_of_about_the_byte_budget_and_one_too_large_alone() {
        let frames = in_frames(messages(10, CATCH_UP_FRAME_BYTES / 4));
        assert_eq!(frames.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        let frames = in_frames(messages(2, CATCH_UP_FRAME_BYTES * 2));
        assert_eq!(frames.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1]);
    }
}
