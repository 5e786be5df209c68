//! Redis behind a circuit. While Redis answers, every call goes to it. When a call fails (down,
//! too slow, connection lost) the circuit opens: calls are answered at once by an in-process
//! stand-in, so rate limits count per process and every copy is read again from the database,
//! and a watcher pings Redis until it answers again. Before the circuit closes, the keys written
//! to the stand-in meanwhile are removed from Redis: their Redis copies missed what happened
//! while it was away (a scan counted, a records version moved) and must be seeded afresh.

use std::{
    collections::HashSet,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{Cache, CacheError, MemoryCache, RedisCache, ScanKeys, ScanReading};

/// Keys remembered for the repair at most; past this, the repair clears every key instead.
const MAX_TOUCHED: usize = 100_000;
/// How often the watcher pings: often while Redis is away, so it is back in use soon.
const PING_WHILE_OPEN: Duration = Duration::from_millis(250);
const PING_WHILE_CLOSED: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct ResilientCache {
    redis: RedisCache,
    local: MemoryCache,
    circuit: Arc<Circuit>,
}

#[derive(Debug, Default)]
struct Circuit {
    open: AtomicBool,
    touched: Mutex<Touched>,
}

#[derive(Debug)]
enum Touched {
    Keys(HashSet<String>),
    TooMany,
}

impl Default for Touched {
    fn default() -> Self {
        Touched::Keys(HashSet::new())
    }
}

impl Circuit {
    fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    fn trip(&self, error: &CacheError) {
        if !self.open.swap(true, Ordering::AcqRel) {
            tracing::error!(%error, "Redis is away; answering from this process until it is back");
        }
    }

    fn touch(&self, key: &str) {
        let mut touched = self.touched.lock().expect("touched keys");
        match &mut *touched {
            Touched::TooMany => {}
            Touched::Keys(keys) if keys.len() >= MAX_TOUCHED => *touched = Touched::TooMany,
            Touched::Keys(keys) => {
                keys.insert(key.to_owned());
            }
        }
    }

    fn take_touched(&self) -> Touched {
        std::mem::take(&mut *self.touched.lock().expect("touched keys"))
    }
}

type CacheCall<'a, T> = Pin<Box<dyn Future<Output = Result<T, CacheError>> + Send + 'a>>;

impl ResilientCache {
    /// Wraps `redis`, with a stand-in of `local_capacity` entries, and starts the watcher
    /// (it stops when the cache is dropped).
    pub fn new(redis: RedisCache, local_capacity: u64) -> Self {
        let circuit = Arc::new(Circuit::default());
        let local = MemoryCache::new(local_capacity);
        tokio::spawn(watch(
            redis.clone(),
            local.clone(),
            Arc::downgrade(&circuit),
        ));
        Self {
            redis,
            local,
            circuit,
        }
    }

    async fn call<'a, T>(
        &'a self,
        key: &str,
        writes: bool,
        op: impl Fn(&'a dyn Cache) -> CacheCall<'a, T>,
    ) -> Result<T, CacheError> {
        if !self.circuit.is_open() {
            match op(&self.redis).await {
                Err(e @ CacheError::Redis(_)) => self.circuit.trip(&e),
                answered => return answered,
            }
        }
        if writes {
            self.circuit.touch(key);
        }
        op(&self.local).await
    }
}

/// Pings Redis: opens the circuit when it stops answering, and repairs and closes it when it
/// answers again.
async fn watch(redis: RedisCache, local: MemoryCache, circuit: Weak<Circuit>) {
    loop {
        let open = match circuit.upgrade() {
            Some(circuit) => circuit.is_open(),
            None => return,
        };
        tokio::time::sleep(if open {
            PING_WHILE_OPEN
        } else {
            PING_WHILE_CLOSED
        })
        .await;
        let Some(circuit) = circuit.upgrade() else {
            return;
        };
        match redis.ping().await {
            Err(e) => circuit.trip(&e),
            Ok(()) if circuit.is_open() => match repair(&redis, &circuit).await {
                Ok(()) => {
                    circuit.open.store(false, Ordering::Release);
                    // Writes that reached the stand-in as the circuit closed.
                    if let Err(e) = repair(&redis, &circuit).await {
                        circuit.trip(&e);
                    } else {
                        tracing::info!("Redis is back in use");
                    }
                    // What the stand-in learnt is stale by the next time it is needed.
                    let _ = local.clear().await;
                }
                Err(e) => tracing::warn!(error = %e, "Redis answers but could not be repaired yet"),
            },
            Ok(()) => {}
        }
    }
}

async fn repair(redis: &RedisCache, circuit: &Circuit) -> Result<(), CacheError> {
    match circuit.take_touched() {
        Touched::Keys(keys) => {
            let keys: Vec<String> = keys.into_iter().collect();
            for chunk in keys.chunks(1000) {
                if let Err(e) = redis.delete_many(chunk).await {
                    for key in &keys {
                        circuit.touch(key);
                    }
                    return Err(e);
                }
            }
            Ok(())
        }
        Touched::TooMany => match redis.delete_all().await {
            Ok(removed) => {
                tracing::warn!(removed, "cleared the Redis cache after a long absence");
                Ok(())
            }
            Err(e) => {
                *circuit.touched.lock().expect("touched keys") = Touched::TooMany;
                Err(e)
            }
        },
    }
}

#[async_trait::async_trait]
impl Cache for ResilientCache {
    fn kind(&self) -> &'static str {
        self.redis.kind()
    }

    fn degraded(&self) -> bool {
        self.circuit.is_open()
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.call(key, false, |c| c.get(key)).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.call(key, true, |c| c.set(key, value, ttl)).await
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.call(key, true, |c| c.set_if_absent(key, value, ttl))
            .await
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        self.call(key, true, |c| c.delete(key)).await
    }

    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError> {
        self.call(key, true, |c| c.increment(key, by, ttl)).await
    }

    async fn increment_existing(&self, key: &str, by: i64) -> Result<Option<i64>, CacheError> {
        self.call(key, true, |c| c.increment_existing(key, by))
            .await
    }

    async fn add_to_existing_set(
        &self,
        key: &str,
        member: &str,
    ) -> Result<Option<(bool, i64)>, CacheError> {
        self.call(key, true, |c| c.add_to_existing_set(key, member))
            .await
    }

    async fn set_size(&self, key: &str) -> Result<Option<i64>, CacheError> {
        self.call(key, false, |c| c.set_size(key)).await
    }

    async fn seed_set(
        &self,
        key: &str,
        members: &[String],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        self.call(key, true, |c| c.seed_set(key, members, ttl))
            .await
    }

    async fn tally_scan(
        &self,
        keys: ScanKeys<'_>,
        place: Option<&str>,
    ) -> Result<ScanReading, CacheError> {
        if !self.circuit.is_open() {
            match self.redis.tally_scan(keys, place).await {
                Err(e @ CacheError::Redis(_)) => self.circuit.trip(&e),
                answered => return answered,
            }
        }
        self.circuit.touch(keys.count);
        self.circuit.touch(keys.places);
        self.local.tally_scan(keys, place).await
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.local.clear().await?;
        self.redis.clear().await
    }

    /// The stand-in always answers; whether Redis does is `degraded`.
    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}
