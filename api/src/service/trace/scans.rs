//! Counting scans. Each scan of a genuine code is counted atomically in the cache (shared by
//! every server on Redis), so the count a buyer sees is exact, and kept in this process until a
//! background task writes the pending counts to the database in one transaction. The server
//! flushes once more when it shuts down, so a restart loses no scan.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use entities::code_scan;
use sea_orm::{
    ActiveValue::Set,
    EntityTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::TraceError;
use crate::infra::{cache::Cache, db::Database};

/// Cache counters outlive any flush by far; when one is gone it is loaded from the database.
const COUNTER_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// What a scan learns about its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanTally {
    /// Scans so far, this one included.
    pub count: i64,
    pub first_at: DateTime<Utc>,
    /// Distinct places (network neighbourhoods) it was scanned from, when known.
    pub places: i64,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    count: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

/// Scan counters, shared by every request of this process.
#[derive(Clone)]
pub struct ScanCounter {
    cache: Arc<dyn Cache>,
    pending: Arc<Mutex<HashMap<(i64, i64), Pending>>>,
    /// First scan times once known: they never change, so this process keeps them.
    first_scans: moka::sync::Cache<(i64, i64), DateTime<Utc>>,
}

impl std::fmt::Debug for ScanCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanCounter").finish_non_exhaustive()
    }
}

impl ScanCounter {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        Self {
            cache,
            pending: Arc::default(),
            first_scans: moka::sync::Cache::new(100_000),
        }
    }

    /// Counts one scan of a genuine code from `place` (if known).
    pub async fn record(
        &self,
        db: &Database,
        batch_id: i64,
        item: i64,
        place: Option<&str>,
    ) -> Result<ScanTally, TraceError> {
        let now = Utc::now();
        let count_key = format!("scans:v1:{batch_id}:{item}");
        let stored = if matches!(self.cache.get(&count_key).await, Ok(Some(_))) {
            None
        } else {
            // The counter is new to the cache: start it from what the database holds plus
            // what this process has not written yet.
            let row = code_scan::Entity::find_by_id((batch_id, item))
                .one(db.conn())
                .await?;
            let unwritten = self.pending_count(batch_id, item);
            let base = row.as_ref().map_or(0, |r| r.scans) + unwritten;
            let _ = self
                .cache
                .set_if_absent(&count_key, base.to_string().as_bytes(), COUNTER_TTL)
                .await;
            row
        };
        let pending_first = {
            let mut pending = self.pending.lock().expect("scan counters");
            let entry = pending.entry((batch_id, item)).or_insert(Pending {
                count: 0,
                first_at: now,
                last_at: now,
            });
            entry.count += 1;
            entry.last_at = now;
            entry.first_at
        };
        let count = match self.cache.increment(&count_key, 1, COUNTER_TTL).await {
            Ok(count) => count,
            // Without the cache the database and this process still know.
            Err(_) => self.count_without_cache(db, batch_id, item).await?,
        };
        let first_at = match self.first_scans.get(&(batch_id, item)) {
            Some(at) => at,
            None => {
                let first_key = format!("scans:v1:{batch_id}:{item}:first");
                let at = self
                    .first_scan(db, &first_key, stored, batch_id, item, pending_first)
                    .await?;
                self.first_scans.insert((batch_id, item), at);
                at
            }
        };
        let places = match place {
            Some(place) => self.places(batch_id, item, place).await,
            None => 0,
        };
        Ok(ScanTally {
            count,
            first_at,
            places,
        })
    }

    fn pending_count(&self, batch_id: i64, item: i64) -> i64 {
        self.pending
            .lock()
            .expect("scan counters")
            .get(&(batch_id, item))
            .map_or(0, |p| p.count)
    }

    async fn count_without_cache(
        &self,
        db: &Database,
        batch_id: i64,
        item: i64,
    ) -> Result<i64, TraceError> {
        let stored = code_scan::Entity::find_by_id((batch_id, item))
            .one(db.conn())
            .await?
            .map_or(0, |r| r.scans);
        Ok(stored + self.pending_count(batch_id, item))
    }

    async fn first_scan(
        &self,
        db: &Database,
        key: &str,
        stored: Option<code_scan::Model>,
        batch_id: i64,
        item: i64,
        pending_first: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, TraceError> {
        if let Some(at) = self.cached_time(key).await {
            return Ok(at);
        }
        let stored = match stored {
            Some(row) => Some(row),
            None => {
                code_scan::Entity::find_by_id((batch_id, item))
                    .one(db.conn())
                    .await?
            }
        };
        let first = stored.map_or(pending_first, |r| Ord::min(r.first_scan_at, pending_first));
        let first = DateTime::from_timestamp_micros(first.timestamp_micros()).unwrap_or(first);
        let _ = self
            .cache
            .set_if_absent(
                key,
                first.timestamp_micros().to_string().as_bytes(),
                COUNTER_TTL,
            )
            .await;
        // Another scan may have set it first: everyone answers with the one stored.
        Ok(self.cached_time(key).await.unwrap_or(first))
    }

    async fn cached_time(&self, key: &str) -> Option<DateTime<Utc>> {
        let cached = self.cache.get(key).await.ok()??;
        std::str::from_utf8(&cached)
            .ok()?
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
    }

    async fn places(&self, batch_id: i64, item: i64, place: &str) -> i64 {
        let seen = format!("scans:v1:{batch_id}:{item}:place:{place}");
        let places = format!("scans:v1:{batch_id}:{item}:places");
        match self.cache.set_if_absent(&seen, b"1", COUNTER_TTL).await {
            Ok(true) => self
                .cache
                .increment(&places, 1, COUNTER_TTL)
                .await
                .unwrap_or(0),
            _ => self
                .cache
                .increment(&places, 0, COUNTER_TTL)
                .await
                .unwrap_or(0),
        }
    }

    /// Writes the counts scanned since the last flush, in one transaction. Answers how many
    /// codes it wrote; on failure the counts stay pending for the next flush.
    pub async fn flush(&self, db: &Database) -> Result<usize, TraceError> {
        let batch = std::mem::take(&mut *self.pending.lock().expect("scan counters"));
        if batch.is_empty() {
            return Ok(0);
        }
        match write(db, &batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                let mut pending = self.pending.lock().expect("scan counters");
                for (key, unwritten) in batch {
                    pending
                        .entry(key)
                        .and_modify(|p| {
                            p.count += unwritten.count;
                            p.first_at = Ord::min(p.first_at, unwritten.first_at);
                        })
                        .or_insert(unwritten);
                }
                Err(e)
            }
        }
    }
}

async fn write(db: &Database, batch: &HashMap<(i64, i64), Pending>) -> Result<(), TraceError> {
    let txn = db.begin_write().await?;
    for (&(batch_id, item), pending) in batch {
        code_scan::Entity::insert(code_scan::ActiveModel {
            batch_id: Set(batch_id),
            item: Set(item),
            scans: Set(pending.count),
            first_scan_at: Set(pending.first_at),
            last_scan_at: Set(pending.last_at),
        })
        .on_conflict(
            OnConflict::columns([code_scan::Column::BatchId, code_scan::Column::Item])
                .value(
                    code_scan::Column::Scans,
                    Expr::col((code_scan::Entity, code_scan::Column::Scans)).add(pending.count),
                )
                .value(code_scan::Column::LastScanAt, Expr::value(pending.last_at))
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Flushes every `every` until the task is stopped.
pub async fn flush_periodically(counter: ScanCounter, db: Database, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = counter.flush(&db).await {
            tracing::warn!(error = %e, "writing scan counts failed; they stay pending");
        }
    }
}
