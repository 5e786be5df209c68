//! The cache: short-lived values, counters for rate limits, one-time codes and revocations.
//!
//! Redis when `REDIS_URL` is set, so several API servers share one view; otherwise an
//! in-process cache that behaves the same for a single server. Both pass the same test suite.

mod memory;
mod redis;

use std::time::Duration;

pub use memory::MemoryCache;
pub use redis::RedisCache;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("the value at {0} is not an integer")]
    NotAnInteger(String),
    #[error("a cache entry needs a time to live longer than zero")]
    ZeroTtl,
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

    /// Answers when the cache does.
    async fn ping(&self) -> Result<(), CacheError>;
}

fn check_ttl(ttl: Duration) -> Result<(), CacheError> {
    if ttl.is_zero() {
        Err(CacheError::ZeroTtl)
    } else {
        Ok(())
    }
}
