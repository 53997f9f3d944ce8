//! A token bucket per key (a client address, or a user name), for the calls anyone can make
//! (enrollment, sign-in): tokens and passwords are far too long to guess, but a flood of attempts
//! still deserves a 429, not a database query or an argon2 verification each. Callers key
//! addresses by `client_addr::limit_key` (an IPv6 client by its /64).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most addresses remembered; past it, addresses whose bucket is full again are forgotten.
const MAX_KEYS: usize = 10_000;

pub struct KeyedLimiter<K = std::net::IpAddr> {
    per_minute: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq> KeyedLimiter<K> {
    /// `per_minute` attempts a minute per key, and a burst of as many.
    pub fn new(per_minute: u32) -> KeyedLimiter<K> {
        KeyedLimiter {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `key`; `Err(wait)` when it has none left.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        let now = Instant::now();
        let per_sec = self.per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS {
            let full = self.per_minute;
            buckets.retain(|_, (tokens, at)| {
                (*tokens + now.duration_since(*at).as_secs_f64() * per_sec) < full
            });
        }
        let (tokens, at) = buckets.entry(key).or_insert((self.per_minute, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_sec).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - *tokens) / per_sec).ceil().max(1.0),
            ))
        }
    }
}

/// How long a failure is remembered.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// The longest a name's growing delay gets.
const LONGEST_DELAY: Duration = Duration::from_secs(15 * 60);

/// Recent failures per key (a user name, or a client address), forgotten 15 minutes after the
/// last: for a delay that grows with each failure past a few free ones.
pub struct FailureLog<K> {
    free: u32,
    failures: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Hash + Eq> FailureLog<K> {
    /// `free` failures cost no delay; each after doubles it, from one second up to 15 minutes.
    pub fn new(free: u32) -> FailureLog<K> {
        FailureLog {
            free,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn record(&self, key: K) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, (_, at)| now.duration_since(*at) < FAILURE_MEMORY);
        }
        let (count, at) = failures.entry(key).or_insert((0, now));
        if now.duration_since(*at) >= FAILURE_MEMORY {
            *count = 0;
        }
        *count = count.saturating_add(1);
        *at = now;
    }

    /// Whether `key` failed in the last 15 minutes.
    pub fn failed_lately(&self, key: &K) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures
            .get(key)
            .is_some_and(|(_, at)| at.elapsed() < FAILURE_MEMORY)
    }

    /// How long `key` must still wait after its last failure, if at all.
    pub fn wait(&self, key: &K) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (count, at) = failures.get(key)?;
        let over = count.checked_sub(self.free).filter(|n| *n > 0)?;
        let delay = Duration::from_secs(1u64 << (over - 1).min(20)).min(LONGEST_DELAY);
        delay
            .checked_sub(at.elapsed())
            .filter(|left| !left.is_zero())
            .map(|left| left.max(Duration::from_secs(1)))
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn each_address_has_its_own_budget() {
        let limiter: KeyedLimiter<IpAddr> = KeyedLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check(b).is_ok(), "another address is not affected");
    }

    #[test]
    fn failures_past_the_free_ones_cost_a_growing_delay() {
        let log: FailureLog<&str> = FailureLog::new(3);
        assert!(!log.failed_lately(&"alice"));
        for _ in 0..3 {
            log.record("alice");
        }
        assert!(log.failed_lately(&"alice"));
        assert_eq!(log.wait(&"alice"), None, "three are free");
        log.record("alice");
        assert_eq!(log.wait(&"alice"), Some(Duration::from_secs(1)));
        for _ in 0..5 {
            log.record("alice");
        }
        let wait = log.wait(&"alice").unwrap();
        assert!(
            wait > Duration::from_secs(30) && wait <= Duration::from_secs(32),
            "{wait:?}"
        );
        for _ in 0..30 {
            log.record("alice");
        }
        assert!(log.wait(&"alice").unwrap() <= LONGEST_DELAY);
        assert_eq!(log.wait(&"bob"), None, "another name is not affected");
    }
}
