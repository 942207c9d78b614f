//! A bounded, time-limited cache of what the bot looks up by id (users,
//! channels, teams). Owns only the entries; it never calls the API.
//!
//! Bounded because every cached entry is a few small allocations that live
//! on: 10,000 one-message users used to leave ~8 of them each, scattered
//! over the heap, pinning ~33 MB of otherwise free pages. Time-limited so a
//! renamed channel or user is seen again (routes match channel names).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Entries a cache holds at most.
pub const CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct Cache<V> {
    map: HashMap<String, (V, Instant)>,
    ttl: Duration,
    capacity: usize,
}

impl<V: Clone> Cache<V> {
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, CAPACITY)
    }

    fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        Cache {
            map: HashMap::new(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// The entry for `id`, unless it is older than the time limit.
    pub fn get(&self, id: &str) -> Option<V> {
        self.map
            .get(id)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    /// Stores `v` for `id`. When full, expired entries go first, then the
    /// oldest quarter (a sort once per quarter of the capacity, not per
    /// insert). The map's own table stays sized for the capacity.
    pub fn insert(&mut self, id: &str, v: V) {
        if self.map.len() >= self.capacity && !self.map.contains_key(id) {
            self.map.retain(|_, (_, at)| at.elapsed() < self.ttl);
            if self.map.len() >= self.capacity {
                let mut ages: Vec<Instant> = self.map.values().map(|(_, at)| *at).collect();
                ages.sort_unstable();
                let cut = ages[(self.capacity / 4).min(ages.len() - 1)];
                self.map.retain(|_, (_, at)| *at > cut);
            }
        }
        self.map.insert(id.to_string(), (v, Instant::now()));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_holds_more_than_its_capacity_and_keeps_the_newest() {
        let mut c = Cache::with_capacity(Duration::from_secs(60), 8);
        for i in 0..100 {
            c.insert(&format!("u{i}"), i);
            assert!(c.len() <= 8, "{} entries after {i}", c.len());
        }
        assert_eq!(c.get("u99"), Some(99), "the newest entry was evicted");
        assert_eq!(c.get("u0"), None, "the oldest entry survived");
    }

    #[test]
    fn an_expired_entry_is_not_returned_and_goes_first() {
        let mut c = Cache::with_capacity(Duration::from_millis(30), 2);
        c.insert("old", 1);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get("old"), None);
        c.insert("a", 2);
        c.insert("b", 3);
        assert_eq!((c.get("a"), c.get("b")), (Some(2), Some(3)));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn replacing_an_entry_of_a_full_cache_evicts_nothing() {
        let mut c = Cache::with_capacity(Duration::from_secs(60), 2);
        c.insert("a", 1);
        c.insert("b", 2);
        c.insert("a", 3);
        assert_eq!((c.get("a"), c.get("b")), (Some(3), Some(2)));
    }
}
