//! One connection's queue to its socket's writer task, and the handle the
//! hub keeps to push other devices' changes into it directly: a pushed
//! change goes from the fan-out to the writer without waking the
//! connection's own task, encoded once for every device that gets the
//! same frame.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::CloseFrame;
use lodge_core::sync::ServerMessage;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// The smallest a queued frame counts for, so that a flood of tiny frames
/// is bounded too.
pub const FRAME_COST: usize = 256;

/// What the writer task is given.
pub enum Out {
    /// An encoded frame, with what it holds until written: a catch-up slot,
    /// or its bytes of the queue's budget.
    Frame(Bytes, #[allow(dead_code)] Option<OwnedSemaphorePermit>),
    /// A heartbeat.
    Ping,
    /// Close (after what is queued).
    Close(Option<CloseFrame>),
}

/// One connection's queue to its writer. Answers and pushed changes take
/// their bytes from a budget ([`crate::Limits::queued_bytes`]): a device
/// that does not read them fills it and is dropped, instead of growing the
/// server (390 MB in 150 s was seen). Catch-up frames are bounded by their
/// own slots instead, and refusals, pings and closes are few.
pub struct Outbox {
    frames: mpsc::UnboundedSender<Out>,
    budget: Arc<Semaphore>,
    limit: usize,
}

/// Why a frame could not be queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Unsent {
    /// The writer is gone (the socket closed, or the connection ended).
    Gone,
    /// The device is not reading: its queue is full.
    Full,
}

impl Outbox {
    /// A queue of at most `limit` bytes of answers and pushed changes, and
    /// the writer's end of it.
    pub fn new(limit: usize) -> (Self, mpsc::UnboundedReceiver<Out>) {
        // At least one frame's worth, and what a semaphore can count.
        let limit = limit.clamp(FRAME_COST, u32::MAX as usize);
        let (frames, receiver) = mpsc::unbounded_channel();
        (Self { frames, budget: Arc::new(Semaphore::new(limit)), limit }, receiver)
    }

    /// The hub's handle for pushing changes. It does not keep the queue
    /// open: once the connection drops its outbox, the writer finishes.
    pub fn pusher(&self) -> Pusher {
        Pusher { frames: self.frames.downgrade(), budget: self.budget.clone(), limit: self.limit }
    }

    /// Queue an answer within the budget.
    pub fn frame(&self, message: &ServerMessage) -> Result<(), Unsent> {
        within_budget(&self.frames, &self.budget, self.limit, Bytes::from(message.encode()))
    }

    /// Queue a catch-up frame, holding its slot (if any) until written.
    pub fn catch_up(&self, message: &ServerMessage, slot: Option<OwnedSemaphorePermit>) -> Result<(), Unsent> {
        self.frames.send(Out::Frame(message.encode().into(), slot)).map_err(|_| Unsent::Gone)
    }

    /// Queue a frame outside the budget (refusals, the end).
    pub fn urgent(&self, message: &ServerMessage) {
        let _ = self.frames.send(Out::Frame(message.encode().into(), None));
    }

    /// Queue a heartbeat.
    pub fn ping(&self) -> Result<(), Unsent> {
        self.frames.send(Out::Ping).map_err(|_| Unsent::Gone)
    }

    /// Close after what is queued.
    pub fn close(&self, frame: Option<CloseFrame>) {
        let _ = self.frames.send(Out::Close(frame));
    }
}

/// Queue an encoded frame, taking its bytes from the budget.
fn within_budget(frames: &mpsc::UnboundedSender<Out>, budget: &Arc<Semaphore>, limit: usize, bytes: Bytes) -> Result<(), Unsent> {
    // A frame larger than the whole budget waits for an empty queue.
    let cost = bytes.len().clamp(FRAME_COST, limit);
    let permit = u32::try_from(cost).ok().and_then(|cost| budget.clone().try_acquire_many_owned(cost).ok()).ok_or(Unsent::Full)?;
    frames.send(Out::Frame(bytes, Some(permit))).map_err(|_| Unsent::Gone)
}

/// Pushes changes into a connection's outbox, within its budget.
#[derive(Clone)]
pub struct Pusher {
    frames: mpsc::WeakUnboundedSender<Out>,
    budget: Arc<Semaphore>,
    limit: usize,
}

impl Pusher {
    /// Queue an encoded frame (shared with the other devices it goes to).
    pub fn push(&self, bytes: Bytes) -> Result<(), Unsent> {
        let frames = self.frames.upgrade().ok_or(Unsent::Gone)?;
        within_budget(&frames, &self.budget, self.limit, bytes)
    }
}
