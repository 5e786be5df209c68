//! The in-process cache (moka), used when no Redis is configured.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use moka::{Expiry, future::Cache as Moka, ops::compute::Op};

use super::{Cache, CacheError, check_ttl};

#[derive(Clone, Debug)]
struct Entry {
    value: Value,
    expires_at: Instant,
}

/// Counters live as atomics, so concurrent increments of one hot key (a code being scanned
/// many times at once) add up without waiting on each other; everything else is bytes.
#[derive(Clone, Debug)]
enum Value {
    Bytes(Arc<[u8]>),
    Counter(Arc<AtomicI64>),
    Set(Arc<Mutex<HashSet<String>>>),
}

impl Value {
    /// What `get` answers: counters as decimal text, as Redis stores them; a set has no text.
    fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(bytes) => Some(bytes.to_vec()),
            Value::Counter(n) => Some(n.load(Ordering::Acquire).to_string().into_bytes()),
            Value::Set(_) => None,
        }
    }
}

/// Each entry carries its own deadline, which updates keep unless they set a new one.
struct EntryDeadline;

impl Expiry<String, Entry> for EntryDeadline {
    fn expire_after_create(&self, _: &String, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }
}

#[derive(Clone)]
pub struct MemoryCache {
    entries: Moka<String, Entry>,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl MemoryCache {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(capacity)
                .expire_after(EntryDeadline)
                .build(),
        }
    }

    fn live(entry: Entry) -> Option<Entry> {
        (entry.expires_at > Instant::now()).then_some(entry)
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    fn kind(&self) -> &'static str {
        "in-process"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self
            .entries
            .get(key)
            .await
            .and_then(Self::live)
            .and_then(|e| e.value.to_bytes()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        check_ttl(ttl)?;
        let entry = Entry {
            value: Value::Bytes(value.into()),
            expires_at: Instant::now() + ttl,
        };
        self.entries.insert(key.to_owned(), entry).await;
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        check_ttl(ttl)?;
        let value: Arc<[u8]> = value.into();
        let result = self
            .entries
            .entry_by_ref(key)
            .and_compute_with(|current| async move {
                match current.map(|e| e.into_value()).and_then(Self::live) {
                    Some(_) => Op::Nop,
                    None => Op::Put(Entry {
                        value: Value::Bytes(value),
                        expires_at: Instant::now() + ttl,
                    }),
                }
            })
            .await;
        Ok(matches!(
            result,
            moka::ops::compute::CompResult::Inserted(_)
                | moka::ops::compute::CompResult::ReplacedWith(_)
        ))
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self
            .entries
            .remove(key)
            .await
            .and_then(Self::live)
            .is_some())
    }

    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError> {
        check_ttl(ttl)?;
        // Most increments find their counter already there: add to it without any lock.
        if let Some(Entry {
            value: Value::Counter(counter),
            ..
        }) = self.entries.get(key).await.and_then(Self::live)
        {
            return Ok(add(&counter, by));
        }
        // Otherwise make the key a counter (from its text, if it holds a number) once.
        let mut outcome = Err(CacheError::NotAnInteger(key.to_owned()));
        let outcome_ref = &mut outcome;
        self.entries
            .entry_by_ref(key)
            .and_compute_with(|current| async move {
                let (start, expires_at) = match current.map(|e| e.into_value()).and_then(Self::live)
                {
                    Some(Entry {
                        value: Value::Counter(counter),
                        ..
                    }) => {
                        *outcome_ref = Ok(add(&counter, by));
                        return Op::Nop;
                    }
                    Some(Entry {
                        value: Value::Bytes(bytes),
                        expires_at,
                    }) => match parse_counter(&bytes) {
                        Some(n) => (n, expires_at),
                        None => return Op::Nop,
                    },
                    Some(Entry {
                        value: Value::Set(_),
                        ..
                    }) => return Op::Nop,
                    None => (0, Instant::now() + ttl),
                };
                let next = start.saturating_add(by);
                *outcome_ref = Ok(next);
                Op::Put(Entry {
                    value: Value::Counter(Arc::new(AtomicI64::new(next))),
                    expires_at,
                })
            })
            .await;
        outcome
    }

    async fn increment_existing(&self, key: &str, by: i64) -> Result<Option<i64>, CacheError> {
        match self.entries.get(key).await.and_then(Self::live) {
            None => Ok(None),
            Some(Entry {
                value: Value::Counter(counter),
                ..
            }) => Ok(Some(add(&counter, by))),
            Some(Entry {
                value: Value::Bytes(bytes),
                expires_at,
            }) => {
                let ttl = expires_at.saturating_duration_since(Instant::now());
                if parse_counter(&bytes).is_none() || ttl.is_zero() {
                    return Err(CacheError::NotAnInteger(key.to_owned()));
                }
                self.increment(key, by, ttl).await.map(Some)
            }
            Some(Entry {
                value: Value::Set(_),
                ..
            }) => Err(CacheError::NotAnInteger(key.to_owned())),
        }
    }

    async fn add_to_existing_set(
        &self,
        key: &str,
        member: &str,
    ) -> Result<Option<(bool, i64)>, CacheError> {
        match self.entries.get(key).await.and_then(Self::live) {
            None => Ok(None),
            Some(Entry {
                value: Value::Set(set),
                ..
            }) => {
                let mut set = set.lock().expect("a cached set");
                let added = set.insert(member.to_owned());
                Ok(Some((added, set.len() as i64)))
            }
            Some(_) => Err(CacheError::NotASet(key.to_owned())),
        }
    }

    async fn set_size(&self, key: &str) -> Result<Option<i64>, CacheError> {
        match self.entries.get(key).await.and_then(Self::live) {
            None => Ok(None),
            Some(Entry {
                value: Value::Set(set),
                ..
            }) => Ok(Some(set.lock().expect("a cached set").len() as i64)),
            Some(_) => Err(CacheError::NotASet(key.to_owned())),
        }
    }

    async fn seed_set(
        &self,
        key: &str,
        members: &[String],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        check_ttl(ttl)?;
        let members: HashSet<String> = members.iter().cloned().collect();
        self.entries
            .entry_by_ref(key)
            .and_compute_with(|current| async move {
                match current.map(|e| e.into_value()).and_then(Self::live) {
                    Some(_) => Op::Nop,
                    None => Op::Put(Entry {
                        value: Value::Set(Arc::new(Mutex::new(members))),
                        expires_at: Instant::now() + ttl,
                    }),
                }
            })
            .await;
        Ok(())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.entries.invalidate_all();
        self.entries.run_pending_tasks().await;
        Ok(())
    }
}

/// Adds to a counter; it stops at the ends of i64 rather than wrapping round.
fn add(counter: &AtomicI64, by: i64) -> i64 {
    let previous = counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            Some(n.saturating_add(by))
        })
        .unwrap_or_else(|n| n);
    previous.saturating_add(by)
}

/// Numbers set as text (`set`, `set_if_absent`) are decimal, as Redis stores them.
fn parse_counter(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}
