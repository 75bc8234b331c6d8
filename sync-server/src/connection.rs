//! One device's WebSocket: hello with its token, then documents both ways.
//! Every document the device sends or receives passes the role's access
//! rules; changes under another device's actor id are refused; a change
//! that lands is numbered in the feed and pushed to the site's other
//! connections at once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use lodge_core::sync::{Access, ClientMessage, DocMessage, FrameError, ServerMessage, SyncErrorKind, may_read, may_write};
use lodge_core::{DocId, DocKind, Header, Role, Store, StoreError, VisitId};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::hub::{Changed, SiteHub};
use crate::registry::Device;

type Sink = SplitSink<WebSocket, Message>;

async fn send(sink: &mut Sink, message: &ServerMessage) -> bool {
    sink.send(Message::Binary(message.encode().into())).await.is_ok()
}

async fn refuse(sink: &mut Sink, kind: SyncErrorKind, message: String) {
    let _ = send(sink, &ServerMessage::Error { kind, message, doc: None }).await;
    let _ = sink.send(Message::Close(None)).await;
}

/// Serve one device until it goes away, is revoked, or breaks the protocol.
pub async fn serve(socket: WebSocket, state: AppState) {
    let (mut sink, mut stream) = socket.split();
    let first = match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
        Ok(Some(Ok(Message::Binary(bytes)))) => ClientMessage::decode(&bytes),
        Ok(Some(Ok(_))) => Err(FrameError::Malformed("the first frame must be a binary hello".into())),
        _ => return,
    };
    let (token, since, pending) = match first {
        Ok(ClientMessage::Hello { token, since, pending }) => (token, since, pending),
        Ok(_) => return refuse(&mut sink, SyncErrorKind::BadFrame, "The first frame must be a hello.".into()).await,
        Err(e @ FrameError::Version(_)) => return refuse(&mut sink, SyncErrorKind::Version, e.to_string()).await,
        Err(e) => return refuse(&mut sink, SyncErrorKind::BadFrame, e.to_string()).await,
    };
    let auth_state = state.clone();
    let device = match tokio::task::spawn_blocking(move || auth_state.registry().authenticate(&token)).await {
        Ok(Ok(Some(device))) => device,
        Ok(Ok(None)) => return refuse(&mut sink, SyncErrorKind::Unauthorized, "This device is not enrolled. Enrol it again.".into()).await,
        _ => return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await,
    };
    if device.revoked_at.is_some() {
        let _ = send(&mut sink, &ServerMessage::Wipe).await;
        let _ = sink.send(Message::Close(None)).await;
        return;
    }
    let hub = match state.hub(device.site) {
        Ok(hub) => hub,
        Err(e) => {
            tracing::error!(error = %e, "site store failed to open");
            return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await;
        }
    };
    let mut changes = hub.subscribe();
    let mut revoked = state.revoked.subscribe();
    let seq = state.registry().seq(device.site).unwrap_or(0);
    let welcome = ServerMessage::Welcome { site: device.site, device: device.device, role: device.role, seq };
    if !send(&mut sink, &welcome).await {
        return;
    }
    tracing::info!(device = %device.device, role = %device.role, since, "device connected");
    let session = Arc::new(Session { device, hub, state: state.clone() });

    // What changed while the device was away, and what it says it has.
    let s = session.clone();
    let initial = tokio::task::spawn_blocking(move || s.catch_up(since, &pending)).await;
    let mut last_seq = seq;
    match initial {
        Ok(Ok(frames)) => {
            for frame in frames {
                if !send(&mut sink, &frame).await {
                    return;
                }
            }
        }
        _ => return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await,
    }

    // Revocations made by `lodge-sync devices revoke` (another process)
    // reach open connections by this check.
    let mut recheck = tokio::time::interval(Duration::from_secs(2));
    recheck.tick().await;
    loop {
        tokio::select! {
            _ = recheck.tick() => {
                let s = session.clone();
                let revoked = tokio::task::spawn_blocking(move || s.is_revoked()).await.unwrap_or(false);
                if revoked {
                    tracing::info!(device = %session.device.device, "device revoked; disconnecting");
                    let _ = send(&mut sink, &ServerMessage::Wipe).await;
                    let _ = sink.send(Message::Close(None)).await;
                    return;
                }
            }
            frame = stream.next() => {
                let bytes = match frame {
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let message = match ClientMessage::decode(&bytes) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::info!(device = %session.device.device, error = %e, "bad frame; closing");
                        let kind = if matches!(e, FrameError::Version(_)) { SyncErrorKind::Version } else { SyncErrorKind::BadFrame };
                        return refuse(&mut sink, kind, e.to_string()).await;
                    }
                };
                let s = session.clone();
                let out = tokio::task::spawn_blocking(move || s.handle(message)).await;
                match out {
                    Ok(frames) => {
                        for frame in frames {
                            if let ServerMessage::Sync { seq, .. } = &frame {
                                last_seq = last_seq.max(*seq);
                            }
                            if !send(&mut sink, &frame).await {
                                return;
                            }
                        }
                    }
                    Err(_) => return refuse(&mut sink, SyncErrorKind::Internal, "The server failed; it was logged.".into()).await,
                }
            }
            change = changes.recv() => {
                let changes_now = match change {
                    Ok(c) if c.origin == Some(session.device.device) => continue,
                    Ok(c) => vec![c],
                    Err(RecvError::Lagged(_)) => {
                        // Too far behind the broadcast: catch up from the feed.
                        let s = session.clone();
                        let since = last_seq;
                        match tokio::task::spawn_blocking(move || s.catch_up(since, &[])).await {
                            Ok(Ok(frames)) => {
                                for frame in frames {
                                    if !send(&mut sink, &frame).await {
                                        return;
                                    }
                                }
                            }
                            _ => return,
                        }
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                let s = session.clone();
                if let Ok(frames) = tokio::task::spawn_blocking(move || s.push(&changes_now)).await {
                    for frame in frames {
                        if let ServerMessage::Sync { seq, .. } = &frame {
                            last_seq = last_seq.max(*seq);
                        }
                        if !send(&mut sink, &frame).await {
                            return;
                        }
                    }
                }
            }
            gone = revoked.recv() => {
                if matches!(gone, Ok(d) if d == session.device.device) {
                    tracing::info!(device = %session.device.device, "device revoked; disconnecting");
                    let _ = send(&mut sink, &ServerMessage::Wipe).await;
                    let _ = sink.send(Message::Close(None)).await;
                    return;
                }
            }
        }
    }
    tracing::info!(device = %session.device.device, "device disconnected");
}

/// Person documents carry no owner in their header; a phone's own person is
/// the one whose id the document has.
fn owned_header(doc: &DocId, mut header: Header) -> Header {
    if header.kind == DocKind::Person {
        header.owner = Some(doc.as_str().to_owned());
    }
    header
}

fn access_of<'a>(device: &Device, header: &'a Header, visit_waiting: bool) -> Access<'a> {
    Access {
        role: device.role,
        device: device.device,
        person: device.person,
        kind: header.kind,
        owner: header.owner.as_deref(),
        visit_waiting,
    }
}

struct Session {
    device: Device,
    hub: Arc<SiteHub>,
    state: AppState,
}

impl Session {
    fn is_revoked(&self) -> bool {
        self.state.registry().is_revoked(self.device.device).unwrap_or(false)
    }

    fn peer(&self) -> String {
        self.device.device.to_string()
    }

    fn access<'a>(&self, store: &mut Store, doc: &DocId, header: &'a Header) -> Access<'a> {
        let visit_waiting = match doc.kind() {
            DocKind::Visit => VisitId::parse(doc.as_str().trim_start_matches("visit:"))
                .ok()
                .and_then(|v| store.visit(v).ok().flatten())
                .is_some_and(|v| v.state == lodge_core::visit::VisitState::Waiting),
            _ => false,
        };
        access_of(&self.device, header, visit_waiting)
    }

    /// The document's header, with a person document's owner filled in.
    fn header(&self, store: &mut Store, doc: &DocId) -> Result<Option<Header>, StoreError> {
        let mut header = store.header(doc)?;
        if let Some(h) = header.as_mut()
            && h.kind == DocKind::Person {
                h.owner = Some(doc.as_str().to_owned());
            }
        Ok(header)
    }

    fn readable(&self, store: &mut Store, doc: &DocId) -> bool {
        match self.header(store, doc) {
            Ok(Some(h)) => may_read(&self.access(store, doc, &h)),
            _ => false,
        }
    }

    /// Frames that bring a reconnecting device up to date: documents changed
    /// since `since` that it may see, documents it says it has changes for,
    /// and deletions.
    fn catch_up(&self, since: u64, pending: &[DocId]) -> Result<Vec<ServerMessage>, anyhow::Error> {
        let changed = self.state.registry().changed_since(self.device.site, since)?;
        let seq = self.state.registry().seq(self.device.site)?;
        let mut store = self.hub.store();
        let mut docs = Vec::new();
        let mut purged = Vec::new();
        let peer = self.peer();
        let mut wanted: Vec<DocId> = Vec::new();
        for entry in &changed {
            if entry.purged {
                purged.push(entry.doc.clone());
            } else if self.readable(&mut store, &entry.doc) {
                wanted.push(entry.doc.clone());
            } else if self.device.role == lodge_core::Role::Kiosk && entry.doc.kind() == DocKind::Visit {
                // A kiosk keeps no visit past the desk: drop it there.
                purged.push(entry.doc.clone());
            }
        }
        for doc in pending {
            if !wanted.contains(doc) {
                wanted.push(doc.clone());
            }
        }
        for doc in wanted {
            if let Some(message) = store.generate_sync_message(&peer, &doc)? {
                docs.push(DocMessage { doc, message });
            }
        }
        let mut frames = Vec::new();
        if !purged.is_empty() {
            frames.push(ServerMessage::Purged { docs: purged });
        }
        for chunk in docs.chunks(256) {
            frames.push(ServerMessage::Sync { docs: chunk.to_vec(), seq });
        }
        if frames.is_empty() || !changed.is_empty() && frames.iter().all(|f| !matches!(f, ServerMessage::Sync { .. })) {
            frames.push(ServerMessage::Sync { docs: Vec::new(), seq });
        }
        Ok(frames)
    }

    /// A frame from the device.
    fn handle(&self, message: ClientMessage) -> Vec<ServerMessage> {
        match message {
            ClientMessage::Hello { .. } => vec![ServerMessage::Error {
                kind: SyncErrorKind::BadFrame,
                message: "Hello was already said.".into(),
                doc: None,
            }],
            ClientMessage::Sync { docs } => self.apply(docs),
            ClientMessage::Purge { docs } => self.purge(docs),
        }
    }

    fn apply(&self, docs: Vec<DocMessage>) -> Vec<ServerMessage> {
        let peer = self.peer();
        let mut replies = Vec::new();
        let mut frames = Vec::new();
        let mut changed = Vec::new();
        let mut purged = Vec::new();
        {
            let mut store = self.hub.store();
            // Documents the device may not even see are refused outright.
            let mut batch = Vec::with_capacity(docs.len());
            for DocMessage { doc, message } in docs {
                if let Ok(Some(h)) = self.header(&mut store, &doc)
                    && !may_read(&self.access(&mut store, &doc, &h)) {
                        frames.push(ServerMessage::Error {
                            kind: SyncErrorKind::Forbidden,
                            message: format!("A {} device may not see {doc}.", self.device.role),
                            doc: Some(doc),
                        });
                        continue;
                    }
                batch.push((doc, message));
            }
            let device = &self.device;
            let accept = |doc: &DocId, incoming: &lodge_core::Incoming<'_>| -> Result<(), String> {
                if incoming.changes.is_empty() {
                    return Ok(());
                }
                let shared = lodge_core::shared_actor(doc).to_hex_string();
                for c in incoming.changes {
                    let actor = c.actor_id().to_hex_string();
                    let first_shared = incoming.header.kind == DocKind::Presence && actor == shared;
                    if actor != device.actor && !first_shared {
                        return Err(format!("a change under actor {actor}, which is not this device's"));
                    }
                }
                let header = owned_header(doc, incoming.header.clone());
                // Read access was checked above; a new visit from a kiosk is
                // waiting by definition.
                if !may_write(&access_of(device, &header, true)) {
                    return Err(format!("a {} device may not change {} documents", device.role, header.kind));
                }
                partial_write_allowed(device.role, header.kind, incoming)
            };
            let results = match store.receive_sync_messages_checked(&peer, &batch, &accept) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "store failed");
                    return vec![ServerMessage::Error { kind: SyncErrorKind::Internal, message: "The server failed; it was logged.".into(), doc: None }];
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
                        let kind = if reason.contains("actor") { SyncErrorKind::ForeignActor } else { SyncErrorKind::Forbidden };
                        tracing::warn!(device = %self.device.device, %doc, %reason, "changes refused");
                        frames.push(ServerMessage::Error { kind, message: format!("Changes to {doc} were refused: {reason}."), doc: Some(doc) });
                        continue;
                    }
                    Err(e @ (StoreError::BadSyncMessage { .. } | StoreError::CorruptDocument { .. } | StoreError::WrongKind { .. })) => {
                        frames.push(ServerMessage::Error { kind: SyncErrorKind::BadMessage, message: e.to_string(), doc: Some(doc) });
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "store failed");
                        frames.push(ServerMessage::Error { kind: SyncErrorKind::Internal, message: "The server failed; it was logged.".into(), doc: Some(doc) });
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
        let mut seq = self.state.registry().seq(self.device.site).unwrap_or(0);
        for doc in changed {
            if let Ok(s) = self.state.registry().bump(self.device.site, &doc, false) {
                seq = s;
                self.hub.announce(Changed { doc, seq: s, purged: false, origin: Some(self.device.device) });
            }
        }
        if !purged.is_empty() {
            frames.push(ServerMessage::Purged { docs: purged });
        }
        frames.push(ServerMessage::Sync { docs: replies, seq });
        frames
    }

    fn purge(&self, docs: Vec<DocId>) -> Vec<ServerMessage> {
        let mut frames = Vec::new();
        for doc in docs {
            let allowed = {
                let mut store = self.hub.store();
                match self.header(&mut store, &doc) {
                    Ok(Some(h)) => may_write(&self.access(&mut store, &doc, &h)),
                    // Unknown here: remember the deletion all the same, so
                    // the document can never arrive later.
                    Ok(None) => true,
                    Err(_) => false,
                }
            };
            if !allowed {
                frames.push(ServerMessage::Error {
                    kind: SyncErrorKind::Forbidden,
                    message: format!("A {} device may not delete {doc}.", self.device.role),
                    doc: Some(doc),
                });
                continue;
            }
            if let Err(e) = self.hub.store().apply_tombstone(&doc) {
                tracing::error!(error = %e, "purge failed");
                continue;
            }
            if let Ok(seq) = self.state.registry().bump(self.device.site, &doc, true) {
                self.hub.announce(Changed { doc, seq, purged: true, origin: Some(self.device.device) });
            }
        }
        frames
    }

    /// Changes made through other connections.
    fn push(&self, changes: &[Changed]) -> Vec<ServerMessage> {
        let peer = self.peer();
        let mut store = self.hub.store();
        let mut docs = Vec::new();
        let mut purged = Vec::new();
        let mut seq = 0;
        for c in changes {
            seq = seq.max(c.seq);
            if c.purged {
                purged.push(c.doc.clone());
                continue;
            }
            if !self.readable(&mut store, &c.doc) {
                if self.device.role == lodge_core::Role::Kiosk && c.doc.kind() == DocKind::Visit {
                    purged.push(c.doc.clone());
                }
                continue;
            }
            if let Ok(Some(message)) = store.generate_sync_message(&peer, &c.doc) {
                docs.push(DocMessage { doc: c.doc.clone(), message });
            }
        }
        let mut frames = Vec::new();
        if !purged.is_empty() {
            frames.push(ServerMessage::Purged { docs: purged });
        }
        if !docs.is_empty() {
            frames.push(ServerMessage::Sync { docs, seq });
        }
        frames
    }
}

/// Roles that may change only part of a document: the server has applied
/// the change to the document without keeping it, and refuses it if it
/// touched anything else (the design's fork-and-verify).
fn partial_write_allowed(role: Role, kind: DocKind, incoming: &lodge_core::Incoming<'_>) -> Result<(), String> {
    let only = |fields: &[&str]| incoming.touched.iter().all(|f| fields.contains(&f.as_str()));
    match (role, kind) {
        (Role::Worker, DocKind::Equipment) if !only(&["custody"]) => {
            Err(format!("a worker's phone may only record taking and returning an item, not change {:?}", incoming.touched))
        }
        (Role::Staff | Role::Worker, DocKind::Person) if !only(&["email", "phone"]) => {
            Err(format!("a phone may only change its person's contact details, not {:?}", incoming.touched))
        }
        (Role::Kiosk, DocKind::Visit) if !incoming.creates => Err("a kiosk may only create a visit, not change one".to_owned()),
        _ => Ok(()),
    }
}
