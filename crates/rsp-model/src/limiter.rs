//! An adaptive concurrency limit (AIMD), one per provider instance.
//!
//! A fixed limit is either too low (slow evals against a generous server) or too high
//! (a storm of 429s against a strict one). Like TCP congestion control, the limit grows
//! additively — by `1/limit` per success, so about one slot per "window" of successful
//! calls — and halves on every 429. Requests beyond the limit wait in
//! [`AdaptiveLimiter::acquire`]; the retry loop releases its slot while it sleeps.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

#[derive(Debug)]
struct State {
    limit: f64,
    in_flight: usize,
}

/// An AIMD concurrency limit shared by all calls to one provider.
#[derive(Debug)]
pub struct AdaptiveLimiter {
    state: Mutex<State>,
    released: Notify,
    min: f64,
    max: f64,
}

/// A slot in the limiter; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit<'a> {
    limiter: &'a AdaptiveLimiter,
}

impl AdaptiveLimiter {
    /// A limiter starting at `initial` concurrent calls, kept within `[1, max]`.
    pub fn new(initial: usize, max: usize) -> Self {
        let max = max.max(1) as f64;
        Self {
            state: Mutex::new(State {
                limit: (initial.max(1) as f64).min(max),
                in_flight: 0,
            }),
            released: Notify::new(),
            min: 1.0,
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two numbers updated atomically under the lock; a panic elsewhere
        // cannot leave it half-written, so poisoning is safe to ignore.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current limit (whole slots).
    pub fn limit(&self) -> usize {
        self.lock().limit.floor() as usize
    }

    /// Calls currently holding a slot.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            // Register interest before checking, so a release between the check and the
            // await is not missed.
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if (s.in_flight as f64) < s.limit.floor() {
                    s.in_flight += 1;
                    return Permit { limiter: self };
                }
            }
            notified.await;
        }
    }

    /// Records a successful call: additive increase.
    pub fn on_success(&self) {
        let grew = {
            let mut s = self.lock();
            let before = s.limit.floor();
            s.limit = (s.limit + 1.0 / s.limit).min(self.max);
            s.limit.floor() > before
        };
        if grew {
            self.released.notify_waiters();
        }
    }

    /// Records a rate-limit response: multiplicative decrease.
    pub fn on_overload(&self) {
        let mut s = self.lock();
        s.limit = (s.limit / 2.0).max(self.min);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        {
            let mut s = self.limiter.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        self.limiter.released.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn halves_on_overload_and_grows_back_slowly() {
        let l = AdaptiveLimiter::new(8, 16);
        assert_eq!(l.limit(), 8);
        l.on_overload();
        assert_eq!(l.limit(), 4);
        l.on_overload();
        l.on_overload();
        l.on_overload();
        assert_eq!(l.limit(), 1, "never below one");
        l.on_success();
        assert_eq!(l.limit(), 2, "1 + 1/1");
        // 2 → 2.5 → 2.9 → 3.24: about `limit` successes per extra slot (additive).
        l.on_success();
        l.on_success();
        assert_eq!(l.limit(), 2);
        l.on_success();
        assert_eq!(l.limit(), 3);
        for _ in 0..1000 {
            l.on_success();
        }
        assert_eq!(l.limit(), 16, "capped at max");
    }

    #[tokio::test]
    async fn never_exceeds_the_limit() {
        let l = Arc::new(AdaptiveLimiter::new(3, 3));
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (l, peak, now) = (l.clone(), peak.clone(), now.clone());
            tasks.push(tokio::spawn(async move {
                let _p = l.acquire().await;
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(l.in_flight(), 0);
    }
}
