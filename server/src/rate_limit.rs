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
}
