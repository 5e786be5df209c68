//! The cache: copies that speed answers up — scan counters and places, records versions,
//! dashboards — and
//! the counters of the limit on anonymous traffic. Nothing here is the only copy of a truth:
//! any entry may vanish (eviction, restart, flush) and the answer is read again from the
//! database. What must not be forgotten (revocations, sign-in limits, one-time codes) lives in
//! the database.
//!
//! Redis when `REDIS_URL` is set, so several API servers share one view, behind a circuit that
//! serves from an in-process stand-in while Redis is away; otherwise an in-process cache that
//! behaves the same for a single server. Both pass the same test suite.

mod memory;
mod redis;
mod resilient;

use std::time::Duration;

pub use memory::MemoryCache;
pub use redis::{RedisCache, RedisTimeouts};
pub use resilient::ResilientCache;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("the value at {0} is not an integer")]
    NotAnInteger(String),
    #[error("the value at {0} is not a set")]
    NotASet(String),
    #[error("a cache entry needs a time to live longer than zero")]
    ZeroTtl,
}

/// The keys one scan of a code reads and writes. On Redis they carry one hash tag, so a cluster
/// keeps them in one slot and one script reaches them all.
#[derive(Clone, Copy, Debug)]
pub struct ScanKeys<'a> {
    /// The batch's records version, read when given.
    pub version: Option<&'a str>,
    pub count: &'a str,
    pub first: &'a str,
    pub places: &'a str,
}

/// What one scan's call found; each `None` where the cache holds nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanReading {
    pub version: Option<Vec<u8>>,
    /// The count with this scan added, when the counter is there.
    pub count: Option<i64>,
    pub first: Option<Vec<u8>>,
    /// The distinct places, the scan's own added, when the set is there.
    pub places: Option<i64>,
}

/// Every entry expires: there is no "forever" in this cache.
#[async_trait::async_trait]
pub trait Cache: Send + Sync + std::fmt::Debug {
    /// Which implementation answers, for logs and `/readyz`.
    fn kind(&self) -> &'static str;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;

    /// Stores the value only if the key holds nothing; says whether it stored it.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError>;

    /// Removes the key; says whether there was one.
    async fn delete(&self, key: &str) -> Result<bool, CacheError>;

    /// Adds `by` to the integer at `key` (a missing key counts as 0) and returns the new value.
    /// The TTL is set when the counter is created and left alone by later increments, which
    /// makes a fixed window for rate limits.
    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError>;

    /// Adds `by` to the integer at `key` only if the key holds one; `None` when it holds
    /// nothing, so a vanished counter is seeded from the truth instead of restarting at 0.
    async fn increment_existing(&self, key: &str, by: i64) -> Result<Option<i64>, CacheError>;

    /// Adds `member` to the set at `key` only if the set is there; answers whether it was new
    /// and how many members the set holds, or `None` when there is no set, so a set that
    /// vanished is seeded from the truth instead of restarting empty.
    async fn add_to_existing_set(
        &self,
        key: &str,
        member: &str,
    ) -> Result<Option<(bool, i64)>, CacheError>;

    /// How many members the set at `key` holds, or `None` when there is no set.
    async fn set_size(&self, key: &str) -> Result<Option<i64>, CacheError>;

    /// Makes the set at `key` of `members` (possibly none), unless a set is there already:
    /// of two seeds at once, the first stands.
    async fn seed_set(
        &self,
        key: &str,
        members: &[String],
        ttl: Duration,
    ) -> Result<(), CacheError>;

    /// One scan of a code: reads the records version (when asked) and the first scan's time,
    /// adds one to the count and `place` (when known) to the places, each only where it is
    /// there, as `increment_existing` and `add_to_existing_set` do. Redis answers it in one
    /// round trip; the in-process cache simply makes the calls.
    async fn tally_scan(
        &self,
        keys: ScanKeys<'_>,
        place: Option<&str>,
    ) -> Result<ScanReading, CacheError> {
        let version = match keys.version {
            Some(key) => self.get(key).await?,
            None => None,
        };
        let count = self.increment_existing(keys.count, 1).await?;
        let first = self.get(keys.first).await?;
        let places = match place {
            Some(place) => self
                .add_to_existing_set(keys.places, place)
                .await?
                .map(|(_, size)| size),
            None => self.set_size(keys.places).await?,
        };
        Ok(ScanReading {
            version,
            count,
            first,
            places,
        })
    }

    /// Answers when the cache does.
    async fn ping(&self) -> Result<(), CacheError>;

    /// Forgets every entry (under this cache's prefix on Redis): what a restart or a flush of
    /// the cache server does. No answer may change because of it.
    async fn clear(&self) -> Result<(), CacheError>;

    /// `true` while the cache answers from a stand-in because its server is away.
    fn degraded(&self) -> bool {
        false
    }
}

fn check_ttl(ttl: Duration) -> Result<(), CacheError> {
    if ttl.is_zero() {
        Err(CacheError::ZeroTtl)
    } else {
        Ok(())
    }
}
