//! How many enrolment codes may be guessed: token buckets of failed
//! attempts, one per client address and one for the whole server (a guess
//! names no site until it is right, so "per site" is the whole server's
//! bucket). A right code costs nothing, so honest devices of a building
//! behind one address are not held up; a bucket refills, so nobody is
//! locked out for good. Codes have 31^12 values: the limit is there to make
//! guessing visible and slow, not to make it impossible.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses remembered at most; past this, full buckets are forgotten
/// (they hold nothing a new bucket would not).
const ADDRESSES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant, burst: f64, every: Duration) -> Self {
        let gained = now.duration_since(self.at).as_secs_f64() / every.as_secs_f64().max(1e-3);
        Self { tokens: (self.tokens + gained).min(burst), at: now }
    }

    /// How long until one token is back.
    fn wait(self, every: Duration) -> Duration {
        every.mul_f64((1.0 - self.tokens).max(0.0))
    }
}

/// Failed enrolments, per address and server-wide.
pub struct Throttle {
    burst_per_address: f64,
    burst: f64,
    refill: Duration,
    state: Mutex<(HashMap<IpAddr, Bucket>, Option<Bucket>)>,
}

impl Throttle {
    /// `burst_per_address` failures per address and `burst` for the server
    /// at once; one per address comes back every `refill`, one for the
    /// server every tenth of it.
    pub fn new(burst_per_address: u32, burst: u32, refill: Duration) -> Self {
        Self { burst_per_address: f64::from(burst_per_address), burst: f64::from(burst), refill, state: Mutex::default() }
    }

    fn server_refill(&self) -> Duration {
        self.refill / 10
    }

    /// [`Throttle::attempt`] now, as the server's refusal: `what` names
    /// the attempts in the log ("enrolment", "sign-in code").
    pub fn admit(&self, address: IpAddr, what: &str) -> Result<(), crate::AppError> {
        self.attempt(address, Instant::now()).map_err(|wait| {
            tracing::warn!(%address, what, "refused: too many attempts from this address");
            crate::AppError::TooManyAttempts { retry_after_secs: wait.as_secs().max(1) }
        })
    }

    /// `address` tries a code: one attempt is taken from its bucket and the
    /// server's (given back by [`Throttle::succeeded`]), or `Err` says how
    /// long to wait. Taken before the code is looked at, so that many
    /// attempts sent at once cannot all pass one check.
    pub fn attempt(&self, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (addresses, server) = &mut *state;
        let mine = addresses.get(&address).map_or(Bucket { tokens: self.burst_per_address, at: now }, |b| {
            b.refilled(now, self.burst_per_address, self.refill)
        });
        let all = server.map_or(Bucket { tokens: self.burst, at: now }, |b| b.refilled(now, self.burst, self.server_refill()));
        if mine.tokens < 1.0 {
            return Err(mine.wait(self.refill));
        }
        if all.tokens < 1.0 {
            return Err(all.wait(self.server_refill()));
        }
        if addresses.len() >= ADDRESSES {
            let (burst, refill) = (self.burst_per_address, self.refill);
            addresses.retain(|_, b| b.refilled(now, burst, refill).tokens < burst);
        }
        addresses.insert(address, Bucket { tokens: mine.tokens - 1.0, ..mine });
        *server = Some(Bucket { tokens: all.tokens - 1.0, ..all });
        Ok(())
    }

    /// The attempt of `address` was a right code: it costs nothing.
    pub fn succeeded(&self, address: IpAddr) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (addresses, server) = &mut *state;
        if let Some(b) = addresses.get_mut(&address) {
            b.tokens = (b.tokens + 1.0).min(self.burst_per_address);
        }
        if let Some(b) = server {
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_run_out_per_address_and_come_back() {
        let throttle = Throttle::new(3, 100, Duration::from_secs(6));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t = Instant::now();
        for _ in 0..3 {
            assert!(throttle.attempt(a, t).is_ok());
        }
        let wait = throttle.attempt(a, t).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        assert!(throttle.attempt(b, t).is_ok(), "another address is not held up");
        throttle.succeeded(b);
        assert!(throttle.attempt(a, t + Duration::from_secs(6)).is_ok(), "one attempt is back");
    }

    #[test]
    fn right_codes_cost_nothing() {
        let throttle = Throttle::new(2, 100, Duration::from_secs(6));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let t = Instant::now();
        for _ in 0..10 {
            throttle.attempt(a, t).unwrap();
            throttle.succeeded(a);
        }
    }

    #[test]
    fn the_server_wide_bucket_holds_many_addresses() {
        let throttle = Throttle::new(10, 5, Duration::from_secs(10));
        let t = Instant::now();
        for i in 0..5u8 {
            throttle.attempt(IpAddr::from([10, 0, 0, i]), t).unwrap();
        }
        assert_eq!(throttle.attempt(IpAddr::from([10, 0, 1, 1]), t), Err(Duration::from_secs(1)));
    }
}
