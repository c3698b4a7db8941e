//! Rate limits: a token bucket per peer address in front of all RSA work,
//! and a failure counter for `user.sync` per user and per peer address.
//!
//! Both live in memory: they protect the CPU and slow password guessing, and
//! a restart resetting them costs an attacker a restart they cannot cause.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many tracked keys, entries that are back to normal are dropped.
const PRUNE_AT: usize = 10_000;

/// A token bucket per peer address.
#[derive(Debug)]
pub struct PeerLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl PeerLimiter {
    /// `rate` envelopes per second sustained, `burst` at once.
    pub fn new(rate: u32, burst: u32) -> Self {
        PeerLimiter {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `peer`; false when its bucket is empty.
    pub fn allow(&self, peer: IpAddr) -> bool {
        let peer = bucket_of(peer);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_AT {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(peer).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Charges `peer` `cost` more tokens (an envelope that made the server
    /// spend RSA work and then failed to authenticate). The bucket may go
    /// as far below zero as it holds when full, so a flooding address waits
    /// for its debt to refill while everyone else is served.
    pub fn penalize(&self, peer: IpAddr, cost: u32) {
        let peer = bucket_of(peer);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = buckets.entry(peer).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        *tokens = (*tokens - f64::from(cost)).max(-self.burst);
    }
}

/// The client behind a request: the TCP `peer`, unless that peer is one of
/// the `trusted` proxies, in which case the right-most `X-Forwarded-For`
/// entry that is not itself a trusted proxy. Entries further left are
/// whatever the client chose to send, so they are never believed.
pub fn client_behind(
    trusted: &[IpAddr],
    peer: Option<SocketAddr>,
    forwarded_for: Option<&str>,
) -> Option<SocketAddr> {
    let peer = peer?;
    if !trusted.contains(&peer.ip().to_canonical()) {
        return Some(peer);
    }
    let client = forwarded_for.and_then(|header| {
        header
            .rsplit(',')
            .map(str::trim)
            .map_while(|entry| entry.parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
            .find(|ip| !trusted.contains(ip))
    });
    Some(client.map_or(peer, |ip| SocketAddr::new(ip, 0)))
}

/// The bucket an address counts against: IPv4 addresses alone, IPv6 by
/// their /64 (one host usually holds a whole /64 and could rotate through
/// it), IPv4-mapped IPv6 as the IPv4 address.
pub fn bucket_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

/// Counts failed attempts per key over a sliding window, in this process;
/// each key kind has its own allowance. `user.sync` uses it per peer
/// address; its per-user count is in the database
/// (`Store::reserve_sync_attempt`), shared by every instance.
#[derive(Debug)]
pub struct FailureLimiter {
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FailureLimiter {
    /// Failures counted within `window`.
    pub fn new(window: Duration) -> Self {
        FailureLimiter {
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt against every `(key, allowed)` at once, if each
    /// key has fewer than its `allowed` failures; a success hands it back
    /// with [`Self::release`]. Checking and counting under one lock is what
    /// stops a burst of concurrent guesses from all passing the check before
    /// any failure is recorded.
    pub fn reserve(&self, keys: &[(&str, u32)]) -> bool {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > PRUNE_AT {
            let window = self.window;
            failures.retain(|_, times| {
                Self::expire(times, now, window);
                !times.is_empty()
            });
        }
        let allowed = keys
            .iter()
            .all(|(key, allowed)| match failures.get_mut(*key) {
                Some(times) => {
                    Self::expire(times, now, self.window);
                    times.len() < *allowed as usize
                }
                None => *allowed > 0,
            });
        if allowed {
            for (key, _) in keys {
                failures
                    .entry((*key).to_owned())
                    .or_default()
                    .push_back(now);
            }
        }
        allowed
    }

    /// Hands back attempts reserved with [`Self::reserve`] that succeeded.
    pub fn release(&self, keys: &[(&str, u32)]) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in keys {
            if let Some(times) = failures.get_mut(*key) {
                times.pop_back();
            }
        }
    }

    /// Forgets `key`'s failures (after a success).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    fn expire(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let limiter = PeerLimiter::new(1, 3);
        let peer: IpAddr = [127, 0, 0, 1].into();
        assert!((0..3).all(|_| limiter.allow(peer)));
        assert!(!limiter.allow(peer));
        let other: IpAddr = [127, 0, 0, 2].into();
        assert!(limiter.allow(other), "buckets are per address");
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let limiter = PeerLimiter::new(1, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limiter.allow(a) && limiter.allow(b));
        assert!(!limiter.allow(a), "same /64, same bucket");
        assert!(limiter.allow(other));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(bucket_of(mapped), IpAddr::from([127, 0, 0, 1]));
    }

    #[test]
    fn forwarded_addresses_only_from_trusted_proxies() {
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let trusted = ["127.0.0.1".parse().unwrap()];
        let client =
            |peer, header| client_behind(&trusted, Some(peer), header).map(|a| a.ip().to_string());
        // A stranger's header is ignored.
        assert_eq!(
            client(stranger, Some("198.51.100.1")).as_deref(),
            Some("192.0.2.7")
        );
        // The proxy's is believed, right-most entry first; a spoofed entry on the left does not count.
        assert_eq!(
            client(proxy, Some("203.0.113.9, 198.51.100.1")).as_deref(),
            Some("198.51.100.1")
        );
        // Chained trusted proxies are skipped.
        assert_eq!(
            client(proxy, Some("198.51.100.1, 127.0.0.1")).as_deref(),
            Some("198.51.100.1")
        );
        // Garbage or no header: the proxy itself.
        assert_eq!(
            client(proxy, Some("not an address")).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(client(proxy, None).as_deref(), Some("127.0.0.1"));
        assert_eq!(client_behind(&trusted, None, Some("198.51.100.1")), None);
    }

    #[test]
    fn failed_envelopes_cost_their_sender_more() {
        let limiter = PeerLimiter::new(1, 10);
        let flooder: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.allow(flooder));
        limiter.penalize(flooder, 20);
        // Deep in debt: refused until the debt refills, however the
        // penalties pile up (never below -burst).
        assert!(!limiter.allow(flooder));
        limiter.penalize(flooder, 1000);
        let (tokens, _) = limiter.buckets.lock().unwrap()[&flooder];
        assert_eq!(tokens, -10.0);
        assert!(limiter.allow(other), "others keep their own budget");
    }

    #[test]
    fn failures_lock_out_until_cleared() {
        let limiter = FailureLimiter::new(Duration::from_secs(60));
        assert!(limiter.reserve(&[("alice", 2)]));
        assert!(limiter.reserve(&[("alice", 2)]));
        assert!(!limiter.reserve(&[("alice", 2)]));
        assert!(limiter.reserve(&[("bob", 2)]));
        limiter.clear("alice");
        assert!(limiter.reserve(&[("alice", 2)]));
    }

    #[test]
    fn reservations_count_before_the_outcome_is_known() {
        let limiter = FailureLimiter::new(Duration::from_secs(60));
        let both = [("user:alice", 2), ("peer:1", 2)];
        assert!(limiter.reserve(&both));
        assert!(limiter.reserve(&both));
        assert!(
            !limiter.reserve(&both),
            "two attempts in flight use up the allowance"
        );
        assert!(!limiter.reserve(&[("user:alice", 2)]));
        limiter.release(&both);
        assert!(limiter.reserve(&[("user:alice", 2), ("peer:2", 2)]));
    }

    #[test]
    fn each_key_has_its_own_allowance() {
        let limiter = FailureLimiter::new(Duration::from_secs(60));
        // One address guessing across usernames: each user allows 1, the
        // address 3.
        for user in ["user:a", "user:b", "user:c"] {
            assert!(limiter.reserve(&[(user, 1), ("peer:1", 3)]));
        }
        assert!(!limiter.reserve(&[("user:d", 1), ("peer:1", 3)]));
        assert!(limiter.reserve(&[("user:d", 1), ("peer:2", 3)]));
        assert!(!limiter.reserve(&[("user:a", 1), ("peer:3", 3)]));
    }

    #[test]
    fn failures_expire_with_the_window() {
        let limiter = FailureLimiter::new(Duration::from_millis(1));
        assert!(limiter.reserve(&[("alice", 1)]));
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.reserve(&[("alice", 1)]));
    }
}
