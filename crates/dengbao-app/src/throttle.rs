//! A keyed token bucket for log-in attempts: `burst` at once, then one every `refill_ms`.
//!
//! Ours rather than `governor`'s because it runs on the application's [`crate::Clock`]
//! (tests move time; a lockout test and a throttle test must agree on what "later" is),
//! and it is twenty lines. The map is bounded: when full, buckets that have refilled
//! completely (equal to a fresh one) are dropped first, then the oldest.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

const MAX_KEYS: usize = 100_000;

pub struct Throttle<K> {
    burst: u32,
    refill_ms: i64,
    /// Key → the time at which its bucket is full again ("theoretical arrival time", GCRA).
    full_at: Mutex<HashMap<K, i64>>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(burst: u32, refill_ms: i64) -> Throttle<K> {
        Throttle {
            burst: burst.max(1),
            refill_ms: refill_ms.max(1),
            full_at: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `key` at `now` (ms); `Err(ms to wait)` when none is left.
    pub fn take(&self, key: &K, now: i64) -> Result<(), i64> {
        // A panic elsewhere while holding the lock leaves the map as it was: keep using it
        // (failing open would lift the throttle).
        let mut map = self.full_at.lock().unwrap_or_else(|p| p.into_inner());
        let window = i64::from(self.burst) * self.refill_ms;
        let full = map.get(key).copied().unwrap_or(now).max(now);
        let next = full + self.refill_ms;
        if next - now > window {
            return Err(next - now - window);
        }
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, t| *t > now);
            if map.len() >= MAX_KEYS {
                if let Some(k) = map.iter().min_by_key(|(_, t)| **t).map(|(k, _)| k.clone()) {
                    map.remove(&k);
                }
            }
        }
        map.insert(key.clone(), next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_per_interval() {
        let t = Throttle::new(3, 1000);
        for _ in 0..3 {
            assert_eq!(t.take(&"a", 0), Ok(()));
        }
        assert_eq!(t.take(&"a", 0), Err(1000));
        assert_eq!(t.take(&"a", 400), Err(600));
        // Another key has its own bucket.
        assert_eq!(t.take(&"b", 400), Ok(()));
        assert_eq!(t.take(&"a", 1000), Ok(()));
        assert_eq!(t.take(&"a", 1000), Err(1000));
        // Long idle: the whole burst again, never more.
        for _ in 0..3 {
            assert_eq!(t.take(&"a", 100_000), Ok(()));
        }
        assert!(t.take(&"a", 100_000).is_err());
    }
}
