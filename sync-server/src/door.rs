//! The server's door: which TCP connections are let in, and how much a
//! connection may make the server read before its device is known.
//!
//! Every accepted connection gets a [`Pass`], counted against the caps of
//! [`Limits`] (all connections, per address, and those without a valid
//! hello); a connection over a cap is closed at once. Its socket is read
//! through [`Gated`]: once it asks for the sync WebSocket, it may send only
//! a hello's worth of bytes ([`lodge_core::sync::MAX_HELLO_BYTES`]) until the
//! hello is accepted. Reading then simply stops (a stranger's 16 MiB frame
//! is never read, let alone buffered) until the hello deadline closes it.
//! axum fixes a WebSocket's message limit at the upgrade, so the limit
//! before the hello has to live under it, on the socket.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::limits::Limits;

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The server holds as many connections as it may.
    #[error("the server holds {0} connections, as many as it may")]
    Full(usize),
    /// This address holds as many connections as it may.
    #[error("the address holds {0} connections, as many as one address may")]
    AddressFull(usize),
    /// Too many connections without a valid hello, from everywhere.
    #[error("{0} connections are waiting to say who they are, as many as may")]
    Unauthenticated(usize),
    /// Too many connections without a valid hello from this address.
    #[error("the address has {0} connections that did not say who they are, as many as one address may")]
    AddressUnauthenticated(usize),
}

#[derive(Default)]
struct Counts {
    total: usize,
    unauthenticated: usize,
    /// Per address: (all, without a valid hello).
    by_address: HashMap<IpAddr, (usize, usize)>,
}

/// Counts of open connections against the caps.
pub struct Door {
    limits: Limits,
    counts: Mutex<Counts>,
}

impl Door {
    /// A door with these caps.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self { limits, counts: Mutex::default() })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Let a connection from `address` in, or say why not.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Arc<Pass>, Refused> {
        let l = &self.limits;
        let mut counts = self.counts();
        let (all, unauthenticated) = counts.by_address.get(&address).copied().unwrap_or((0, 0));
        if counts.total >= l.connections {
            return Err(Refused::Full(counts.total));
        }
        if all >= l.connections_per_address {
            return Err(Refused::AddressFull(all));
        }
        if counts.unauthenticated >= l.unauthenticated {
            return Err(Refused::Unauthenticated(counts.unauthenticated));
        }
        if unauthenticated >= l.unauthenticated_per_address {
            return Err(Refused::AddressUnauthenticated(unauthenticated));
        }
        counts.total += 1;
        counts.unauthenticated += 1;
        counts.by_address.insert(address, (all + 1, unauthenticated + 1));
        Ok(Arc::new(Pass { door: self.clone(), address, authenticated: AtomicBool::new(false), budget: Mutex::default() }))
    }

    /// Connections open now: (all, without a valid hello).
    pub fn open(&self) -> (usize, usize) {
        let counts = self.counts();
        (counts.total, counts.unauthenticated)
    }

    fn authenticated(&self, address: IpAddr) {
        let mut counts = self.counts();
        counts.unauthenticated -= 1;
        if let Some(entry) = counts.by_address.get_mut(&address) {
            entry.1 -= 1;
        }
    }

    fn left(&self, address: IpAddr, authenticated: bool) {
        let mut counts = self.counts();
        counts.total -= 1;
        if !authenticated {
            counts.unauthenticated -= 1;
        }
        if let Some(entry) = counts.by_address.get_mut(&address) {
            entry.0 -= 1;
            if !authenticated {
                entry.1 -= 1;
            }
            if entry.0 == 0 {
                counts.by_address.remove(&address);
            }
        }
    }
}

/// How much may still be read from a connection.
#[derive(Default)]
struct Budget {
    /// `Some(n)`: a WebSocket before its hello, which may send `n` more
    /// bytes; `None`: no limit here (plain HTTP is bounded by hyper and
    /// axum; a device after its hello by the message limit).
    left: Option<usize>,
    /// The read waiting for the hello to be accepted.
    waker: Option<Waker>,
}

/// One admitted connection: its place in the counts, and its read budget.
/// Dropped when the connection and every request of it are gone.
pub struct Pass {
    door: Arc<Door>,
    address: IpAddr,
    authenticated: AtomicBool,
    budget: Mutex<Budget>,
}

impl Pass {
    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection becomes a WebSocket: until [`Pass::open`], at most
    /// `bytes` more are read from it.
    pub fn limit(&self, bytes: usize) {
        if !self.authenticated.load(Ordering::SeqCst) {
            self.budget().left = Some(bytes);
        }
    }

    /// Its hello was accepted: no limit here any more, and it counts as a
    /// known device's connection.
    pub fn open(&self) {
        if !self.authenticated.swap(true, Ordering::SeqCst) {
            self.door.authenticated(self.address);
        }
        let mut budget = self.budget();
        budget.left = None;
        if let Some(waker) = budget.waker.take() {
            waker.wake();
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.door.left(self.address, self.authenticated.load(Ordering::SeqCst));
    }
}

/// A socket read within its [`Pass`]'s budget.
pub struct Gated<S> {
    inner: S,
    pass: Arc<Pass>,
}

impl<S> Gated<S> {
    /// Read `inner` within `pass`'s budget.
    pub fn new(inner: S, pass: Arc<Pass>) -> Self {
        Self { inner, pass }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Gated<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let left = {
            let mut budget = self.pass.budget();
            match budget.left {
                None => None,
                Some(0) => {
                    // Wait for the hello to be accepted (or the deadline).
                    budget.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Some(n) => Some(n),
            }
        };
        let Some(left) = left.filter(|&n| n < buf.remaining()) else {
            let before = buf.filled().len();
            ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
            let read = buf.filled().len() - before;
            self.spend(read);
            return Poll::Ready(Ok(()));
        };
        // Read no more than is left, through a buffer of that size (only
        // before a hello: a few reads per connection).
        let mut smaller = vec![0; left];
        let mut limited = ReadBuf::new(&mut smaller);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut limited))?;
        let read = limited.filled().len();
        buf.put_slice(limited.filled());
        self.spend(read);
        Poll::Ready(Ok(()))
    }
}

impl<S> Gated<S> {
    fn spend(&self, bytes: usize) {
        let mut budget = self.pass.budget();
        if let Some(left) = budget.left.as_mut() {
            *left = left.saturating_sub(bytes);
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gated<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits() -> Limits {
        Limits { connections: 3, connections_per_address: 2, unauthenticated: 3, unauthenticated_per_address: 2, ..Limits::default() }
    }

    #[test]
    fn caps_count_per_address_and_free_on_drop() {
        let door = Door::new(limits());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let one = door.admit(a).unwrap();
        let two = door.admit(a).unwrap();
        assert_eq!(door.admit(a).err(), Some(Refused::AddressFull(2)));
        let three = door.admit(b).unwrap();
        assert_eq!(door.admit(b).err(), Some(Refused::Full(3)));
        drop(one);
        two.open();
        assert_eq!(door.open(), (2, 1));
        let _four = door.admit(a).unwrap();
        drop((two, three));
        assert_eq!(door.open(), (1, 1));
    }

    #[tokio::test]
    async fn before_the_hello_reading_stops_at_the_budget_and_goes_on_after() {
        let door = Door::new(Limits::default());
        let pass = door.admit("10.0.0.1".parse().unwrap()).unwrap();
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut gated = Gated::new(server, pass.clone());
        pass.limit(10);
        client.write_all(&[7; 100]).await.unwrap();
        let mut buf = [0u8; 100];
        let mut read = 0;
        while read < 10 {
            read += gated.read(&mut buf[read..]).await.unwrap();
        }
        assert_eq!(read, 10);
        let stalled = tokio::time::timeout(std::time::Duration::from_millis(50), gated.read(&mut buf[read..])).await;
        assert!(stalled.is_err(), "nothing more is read before the hello");
        pass.open();
        let more = gated.read(&mut buf[read..]).await.unwrap();
        assert!(more > 0);
    }
}
