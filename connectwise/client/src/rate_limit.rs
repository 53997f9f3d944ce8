//! One token bucket per client, sized so that no 60-second window holds more requests than the
//! configured rate (ConnectWise throttles around 1,000 requests a minute per integration), and a
//! pause: after a 429 with `Retry-After`, the whole integration is throttled, so no request of
//! this client goes out until that time has passed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

pub(crate) struct RateLimiter {
    bucket: Mutex<Bucket>,
    capacity: f64,
    per_second: f64,
    waits: AtomicU64,
    /// No request before this instant (ConnectWise's `Retry-After`).
    paused_until: Mutex<Option<Instant>>,
    pauses: AtomicU64,
    paused_waits: AtomicU64,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        let per_minute = f64::from(per_minute.max(1));
        // Burst + refill over a minute add up to the limit, never more.
        let capacity = (per_minute / 20.0).max(1.0);
        let per_second = ((per_minute - capacity) / 60.0).max(1.0 / 60.0);
        RateLimiter {
            bucket: Mutex::new(Bucket {
                tokens: capacity,
                last: Instant::now(),
            }),
            capacity,
            per_second,
            waits: AtomicU64::new(0),
            paused_until: Mutex::new(None),
            pauses: AtomicU64::new(0),
            paused_waits: AtomicU64::new(0),
        }
    }

    /// Holds every request back for `wait` from now (ConnectWise answered 429 with
    /// `Retry-After`); a pause already longer is kept.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut p = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if p.is_none_or(|current| current < until) {
            *p = Some(until);
        }
        self.pauses.fetch_add(1, Ordering::Relaxed);
    }

    /// Waits out a pause, if one is on.
    async fn wait_out_pause(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => {
                    self.paused_waits.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep_until(t).await;
                }
                _ => return,
            }
        }
    }

    /// Waits until one more request is allowed: past any pause, then a token.
    pub async fn acquire(&self) {
        self.wait_out_pause().await;
        loop {
            let wait = {
                let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let refill = now.duration_since(b.last).as_secs_f64() * self.per_second;
                b.tokens = (b.tokens + refill).min(self.capacity);
                b.last = now;
                if b.tokens >= 1.0 {
                    b.tokens -= 1.0;
                    return;
                }
                // Never below the timer's 1 ms resolution: a shorter sleep returns at once
                // and the loop would spin.
                Duration::from_secs_f64((1.0 - b.tokens) / self.per_second)
                    .max(Duration::from_millis(1))
            };
            self.waits.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// How many times a request had to wait for the limiter.
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// How many 429s paused the client, and how many requests waited for a pause to end.
    pub fn pauses(&self) -> (u64, u64) {
        (
            self.pauses.load(Ordering::Relaxed),
            self.paused_waits.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Virtual time (paused clock): deterministic, no wall-clock assertions.
    #[tokio::test(start_paused = true)]
    async fn no_minute_holds_more_than_the_limit() {
        let limiter = RateLimiter::new(600);
        let start = Instant::now();
        for _ in 0..600 {
            limiter.acquire().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_secs(59),
            "600 requests took only {elapsed:?}"
        );
        assert!(
            elapsed <= Duration::from_secs(61),
            "600 requests took {elapsed:?}"
        );
        assert!(limiter.waits() > 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_until_it_ends_and_a_shorter_one_changes_nothing() {
        let limiter = RateLimiter::new(1000);
        let start = Instant::now();
        limiter.pause(Duration::from_secs(6));
        limiter.pause(Duration::from_secs(2));
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
        limiter.acquire().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(6),
            "over: no more waiting"
        );
        assert_eq!(limiter.pauses(), (2, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_through_at_once() {
        let limiter = RateLimiter::new(1000);
        let start = Instant::now();
        for _ in 0..50 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(limiter.waits(), 0);
    }
}
