//! What one device, one address or one stranger may hold of the server:
//! connections, bytes before a hello, time to send headers, queued frames,
//! enrolment guesses, sign-in codes, how long an unused token lasts. Every limit is here with its default, so that an
//! operator (and a test) can set them on `lodge-sync serve`.

use std::time::Duration;

/// Connections and time at the server's edge.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once, all addresses together (lowered to what
    /// the open-files limit allows).
    pub connections: usize,
    /// Connections open at once from one address (a building behind one
    /// NAT address counts as one).
    pub connections_per_address: usize,
    /// Connections that have not said a valid hello (plain HTTP requests
    /// included), all addresses together.
    pub unauthenticated: usize,
    /// Of those, from one address: room for a building's 200 devices
    /// behind one NAT address reconnecting at once after a restart, each
    /// for the moment its hello takes.
    pub unauthenticated_per_address: usize,
    /// How long a client may take to send a request's headers, and how long
    /// an idle HTTP connection stays open.
    pub header_timeout: Duration,
    /// How long a new WebSocket may take to say its hello.
    pub hello_deadline: Duration,
    /// How often the server pings a device.
    pub ping_interval: Duration,
    /// A device from which nothing arrived for this long is disconnected.
    pub idle_timeout: Duration,
    /// Bytes of answers and pushed changes that may wait for one device's
    /// socket; a device that does not read them is disconnected.
    pub queued_bytes: usize,
    /// Failed enrolments one address may make in a burst.
    pub enrol_burst_per_address: u32,
    /// Failed enrolments the whole server may take in a burst, from any
    /// number of addresses.
    pub enrol_burst: u32,
    /// One more attempt per address comes back after this long (and one
    /// server-wide after a tenth of it).
    pub enrol_refill: Duration,
    /// A device's token ends after this long unused (every connection and
    /// call renews it).
    pub token_idle: Duration,
    /// Sign-in codes one contact may be sent in an hour.
    pub codes_per_contact: u32,
    /// Sign-in codes one site may send in an hour, all contacts together.
    pub codes_per_site: u32,
    /// How long the audit trail keeps a row.
    pub audit_kept: Duration,
    /// A site with no device connected and no work for this long has its
    /// store closed, and opened again for its next job or its next device:
    /// a server of many sites holds only the busy ones in memory.
    pub quiet_site: Duration,
    /// On PostgreSQL, how often an instance folds documents with many kept
    /// changes into whole ones (see [`crate::relay::compact`]).
    pub compact_every: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connections: 10_000,
            connections_per_address: 1_000,
            unauthenticated: 2_000,
            unauthenticated_per_address: 256,
            header_timeout: Duration::from_secs(10),
            hello_deadline: Duration::from_secs(10),
            ping_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            queued_bytes: 8 * 1024 * 1024,
            enrol_burst_per_address: 10,
            enrol_burst: 100,
            enrol_refill: Duration::from_secs(6),
            token_idle: Duration::from_secs(180 * 24 * 3600),
            codes_per_contact: 5,
            codes_per_site: 200,
            audit_kept: Duration::from_secs(365 * 24 * 3600),
            quiet_site: Duration::from_secs(600),
            compact_every: Duration::from_secs(3600),
        }
    }
}
