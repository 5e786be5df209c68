//! Counting scans. Each scan of a genuine code is appended to this server's scan journal,
//! counted atomically in the cache (shared by every server on Redis), so the count a buyer sees
//! is exact, and kept in this process until a background task writes the pending counts to the
//! database in one transaction. A counter missing from the cache (evicted, flushed, Redis
//! restarted) is seeded from the database plus what this process has not written yet, never
//! restarted at 0. The places a code was scanned from are kept the same way: a set in the cache,
//! written to the database with the counts, seeded from both when it vanished. The server
//! flushes once more when it shuts down; after a crash, the journal's unwritten scans are
//! written at the next start (the places seen since the last flush are not journalled).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use entities::{code_scan, code_scan_place, scan_journal};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::{
    TraceError,
    scan_journal::{JournalScan, ScanJournal},
};
use crate::infra::{
    cache::{Cache, ScanKeys},
    db::Database,
};

/// Cache counters outlive any flush by far; when one is gone it is seeded from the database.
const COUNTER_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// A code: its batch and item.
pub type CodeKey = (i64, i64);

/// Places first seen since the last flush, by code, with when.
type PlaceSightings = HashMap<CodeKey, HashMap<String, DateTime<Utc>>>;

/// What a scan learns about its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanTally {
    /// Scans so far, this one included.
    pub count: i64,
    pub first_at: DateTime<Utc>,
    /// Distinct places (network neighbourhoods) it was scanned from, when known.
    pub places: i64,
}

/// A counted scan, and the records version the same cache call read (when asked and there).
#[derive(Clone, Copy, Debug)]
pub struct RecordedScan {
    pub tally: ScanTally,
    pub version: Option<i64>,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    count: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

impl Pending {
    fn merge(&mut self, other: Pending) {
        self.count += other.count;
        self.first_at = Ord::min(self.first_at, other.first_at);
        self.last_at = Ord::max(self.last_at, other.last_at);
    }
}

/// The scans this process counted that the database does not hold yet.
#[derive(Default)]
struct Unwritten {
    pending: HashMap<CodeKey, Pending>,
    /// Taken by a flush whose transaction has not committed yet.
    flushing: HashMap<CodeKey, Pending>,
    /// Scans in `pending` whose cache increment has not been made yet: a seed leaves them
    /// out, and each adds itself once the seed is there.
    in_flight: HashMap<CodeKey, i64>,
    /// Moves when a flush commits: a reader of both the database and these maps checks it did
    /// not read them on two sides of a commit.
    generation: u64,
    /// Places seen, not yet written; and those a flush has taken.
    places: PlaceSightings,
    flushing_places: PlaceSightings,
}

impl Unwritten {
    fn count(&self, key: CodeKey) -> i64 {
        let of = |m: &HashMap<CodeKey, Pending>| m.get(&key).map_or(0, |p| p.count);
        of(&self.pending) + of(&self.flushing)
    }

    /// The places of a code this process has not written.
    fn places_of(&self, key: CodeKey) -> Vec<String> {
        [&self.places, &self.flushing_places]
            .into_iter()
            .filter_map(|m| m.get(&key))
            .flat_map(|places| places.keys().cloned())
            .collect()
    }

    fn land(&mut self, key: CodeKey) {
        if let Some(n) = self.in_flight.get_mut(&key) {
            *n -= 1;
            if *n <= 0 {
                self.in_flight.remove(&key);
            }
        }
    }
}

/// Scan counters, shared by every request of this process.
#[derive(Clone)]
pub struct ScanCounter {
    cache: Arc<dyn Cache>,
    unwritten: Arc<Mutex<Unwritten>>,
    journal: Option<Arc<ScanJournal>>,
    /// A scan holds it, shared, while it goes into the journal and the counts; a flush's seal
    /// holds it alone, so the seal never parts a scan's journal record from its count.
    seal_gate: Arc<std::sync::RwLock<()>>,
    /// One flush at a time (the periodic one and the one at shutdown).
    flushing: Arc<tokio::sync::Mutex<()>>,
    /// First scan times once known: they never change, so this process keeps them.
    first_scans: moka::sync::Cache<CodeKey, DateTime<Utc>>,
    /// Codes a scan here found issued.
    issued: moka::sync::Cache<CodeKey, ()>,
}

impl std::fmt::Debug for ScanCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanCounter").finish_non_exhaustive()
    }
}

impl ScanCounter {
    /// Counts scans in `cache`, appending each to `journal` (when given) before answering it.
    pub fn new(cache: Arc<dyn Cache>, journal: Option<ScanJournal>) -> Self {
        Self {
            cache,
            unwritten: Arc::default(),
            journal: journal.map(Arc::new),
            seal_gate: Arc::default(),
            flushing: Arc::default(),
            first_scans: moka::sync::Cache::new(100_000),
            issued: moka::sync::Cache::new(100_000),
        }
    }

    /// Whether a scan here has found the code issued. Issued codes stay issued, so their next
    /// scans read the records version in the same cache call that counts them.
    pub fn known_issued(&self, key: CodeKey) -> bool {
        self.issued.contains_key(&key)
    }

    /// Counts one scan of a genuine code from `place` (if known), in one cache call that also
    /// reads the batch's records version at `version_key` when given.
    pub async fn record(
        &self,
        db: &Database,
        key: CodeKey,
        place: Option<&str>,
        version_key: Option<&str>,
    ) -> Result<RecordedScan, TraceError> {
        let now = Utc::now();
        let (batch_id, item) = key;
        let pending_first = {
            let _gate = self.seal_gate.read().expect("scan journal gate");
            // A write to a file: outside the counters' lock, so scans on other threads go on.
            if let Some(journal) = &self.journal
                && let Err(e) = journal.append(JournalScan {
                    batch_id,
                    item,
                    at: now,
                })
            {
                tracing::error!(error = %e, "a scan could not be journalled; it is still counted");
            }
            let mut unwritten = self.unwritten.lock().expect("scan counters");
            *unwritten.in_flight.entry(key).or_default() += 1;
            let entry = unwritten.pending.entry(key).or_insert(Pending {
                count: 0,
                first_at: now,
                last_at: now,
            });
            entry.count += 1;
            entry.last_at = now;
            let first_at = entry.first_at;
            if let Some(place) = place {
                unwritten
                    .places
                    .entry(key)
                    .or_default()
                    .entry(place.to_owned())
                    .or_insert(now);
            }
            first_at
        };
        if !self.issued.contains_key(&key) {
            self.issued.insert(key, ());
        }
        let (count_key, first_key, places_key) = (count_key(key), first_key(key), places_key(key));
        let keys = ScanKeys {
            version: version_key,
            count: &count_key,
            first: &first_key,
            places: &places_key,
        };
        // A cache that fails leaves every part to its own way back to the truth.
        let reading = self.cache.tally_scan(keys, place).await;
        let cache_answers = reading.is_ok();
        let reading = reading.unwrap_or_default();
        let counted = match reading.count {
            Some(count) => Ok(count),
            None => self.count(db, key, cache_answers).await,
        };
        self.unwritten.lock().expect("scan counters").land(key);
        let count = counted?;
        let first_at = match self.first_scans.get(&key) {
            Some(at) => at,
            None => {
                let at = match reading.first.as_deref().and_then(micros) {
                    Some(at) => at,
                    None => self.first_scan(db, &first_key, key, pending_first).await?,
                };
                self.first_scans.insert(key, at);
                at
            }
        };
        let places = match (reading.places, place) {
            (Some(places), _) => places,
            (None, Some(place)) => self.places(db, key, place, cache_answers).await?,
            (None, None) => self.places_known(db, key).await?,
        };
        Ok(RecordedScan {
            tally: ScanTally {
                count,
                first_at,
                places,
            },
            version: reading
                .version
                .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok()),
        })
    }

    /// The code's count with this scan (already pending, still in flight) added, when the tally
    /// found no counter (`cache_answers`) or the cache failed: the counter is seeded from the
    /// truth, then this scan added to it.
    async fn count(
        &self,
        db: &Database,
        key: CodeKey,
        cache_answers: bool,
    ) -> Result<i64, TraceError> {
        if cache_answers {
            let count_key = count_key(key);
            // Twice: the counter may be evicted again between the seed and the add.
            for _ in 0..2 {
                // Seeded without the scans in flight, this one included: each adds itself
                // once the seed is there.
                let (stored, unwritten, in_flight) = self.truth(db, key).await?;
                let seed = stored + unwritten - in_flight;
                let _ = self
                    .cache
                    .set_if_absent(&count_key, seed.to_string().as_bytes(), COUNTER_TTL)
                    .await;
                match self.cache.increment_existing(&count_key, 1).await {
                    Ok(Some(count)) => return Ok(count),
                    Ok(None) => continue,
                    Err(_) => break,
                }
            }
        }
        // Without the cache the database and this process still know.
        let (stored, unwritten, _) = self.truth(db, key).await?;
        Ok(stored + unwritten)
    }

    /// What the database holds for the code, what this process has not written, and how many
    /// of those are in flight, read on one side of any flush's commit.
    async fn truth(&self, db: &Database, key: CodeKey) -> Result<(i64, i64, i64), TraceError> {
        loop {
            let generation = self.unwritten.lock().expect("scan counters").generation;
            let stored = code_scan::Entity::find_by_id(key)
                .one(db.conn())
                .await?
                .map_or(0, |r| r.scans);
            let unwritten = self.unwritten.lock().expect("scan counters");
            if unwritten.generation == generation {
                let in_flight = unwritten.in_flight.get(&key).copied().unwrap_or(0);
                return Ok((stored, unwritten.count(key), in_flight));
            }
        }
    }

    async fn first_scan(
        &self,
        db: &Database,
        key: &str,
        code: CodeKey,
        pending_first: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, TraceError> {
        let stored = code_scan::Entity::find_by_id(code).one(db.conn()).await?;
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
        micros(&self.cache.get(key).await.ok()??)
    }

    /// How many distinct places the code was scanned from, `place` (already noted as
    /// unwritten) included, when the tally found no set (`cache_answers`) or the cache failed:
    /// the set is seeded from the truth, then this place added to it.
    async fn places(
        &self,
        db: &Database,
        key: CodeKey,
        place: &str,
        cache_answers: bool,
    ) -> Result<i64, TraceError> {
        if cache_answers {
            let set_key = places_key(key);
            // Twice: the set may be evicted again between the seed and the add.
            for _ in 0..2 {
                // Seeded with this place too; a set takes a member twice as once.
                let known = self.known_places(db, key).await?;
                let _ = self.cache.seed_set(&set_key, &known, COUNTER_TTL).await;
                match self.cache.add_to_existing_set(&set_key, place).await {
                    Ok(Some((_, size))) => return Ok(size),
                    Ok(None) => continue,
                    Err(_) => break,
                }
            }
        }
        Ok(self.known_places(db, key).await?.len() as i64)
    }

    /// The places of a scan whose own place is unknown: the cache's set, or the truth (then
    /// seeded, so the next such scan asks the cache only).
    async fn places_known(&self, db: &Database, key: CodeKey) -> Result<i64, TraceError> {
        let set_key = places_key(key);
        match self.cache.set_size(&set_key).await {
            Ok(Some(size)) => Ok(size),
            Ok(None) => {
                let known = self.known_places(db, key).await?;
                let _ = self.cache.seed_set(&set_key, &known, COUNTER_TTL).await;
                Ok(known.len() as i64)
            }
            Err(_) => Ok(self.known_places(db, key).await?.len() as i64),
        }
    }

    /// Every place the code was scanned from: what this process has not written, read before
    /// the database, so a flush committing between the two reads loses nothing.
    async fn known_places(&self, db: &Database, key: CodeKey) -> Result<Vec<String>, TraceError> {
        let mut places = self.unwritten.lock().expect("scan counters").places_of(key);
        let stored: Vec<String> = code_scan_place::Entity::find()
            .select_only()
            .column(code_scan_place::Column::Place)
            .filter(code_scan_place::Column::BatchId.eq(key.0))
            .filter(code_scan_place::Column::Item.eq(key.1))
            .into_tuple()
            .all(db.conn())
            .await?;
        places.extend(stored);
        places.sort();
        places.dedup();
        Ok(places)
    }

    /// Writes the counts scanned since the last flush, in one transaction that also records
    /// how far the journal is written. Answers how many codes it wrote; on failure the counts
    /// stay pending for the next flush.
    pub async fn flush(&self, db: &Database) -> Result<usize, TraceError> {
        let _one_at_a_time = self.flushing.lock().await;
        let (batch, places, sealed) = {
            let _gate = self.seal_gate.write().expect("scan journal gate");
            let mut unwritten = self.unwritten.lock().expect("scan counters");
            if unwritten.pending.is_empty() && unwritten.places.is_empty() {
                return Ok(0);
            }
            let sealed = match &self.journal {
                Some(journal) => match journal.seal() {
                    Ok(sealed) => Some(sealed),
                    Err(e) => {
                        tracing::error!(error = %e, "the scan journal could not be sealed");
                        None
                    }
                },
                None => None,
            };
            let batch = std::mem::take(&mut unwritten.pending);
            unwritten.flushing = batch.clone();
            let places = std::mem::take(&mut unwritten.places);
            unwritten.flushing_places = places.clone();
            (batch, places, sealed)
        };
        // Outside the lock: scans go on while the disk catches up.
        if let Some(Err(e)) = sealed.as_ref().map(|s| s.sync()) {
            tracing::warn!(error = %e, "a scan journal segment could not be synced");
        }
        let mark = self.journal.as_deref().zip(sealed.map(|s| s.seq));
        let written = write(db, &batch, &places, mark.map(|(j, seq)| (j.id(), seq))).await;
        let mut unwritten = self.unwritten.lock().expect("scan counters");
        let flushing = std::mem::take(&mut unwritten.flushing);
        let flushing_places = std::mem::take(&mut unwritten.flushing_places);
        match written {
            Ok(()) => {
                unwritten.generation += 1;
                drop(unwritten);
                if let Some((journal, seq)) = mark
                    && let Err(e) = journal.remove_through(seq)
                {
                    tracing::warn!(error = %e, "written scan journal segments could not be removed");
                }
                Ok(batch.len())
            }
            Err(e) => {
                for (key, seen) in flushing_places {
                    let pending = unwritten.places.entry(key).or_default();
                    for (place, at) in seen {
                        pending.entry(place).or_insert(at);
                    }
                }
                for (key, unwritten_scans) in flushing {
                    unwritten
                        .pending
                        .entry(key)
                        .and_modify(|p| p.merge(unwritten_scans))
                        .or_insert(unwritten_scans);
                }
                Err(e)
            }
        }
    }

    /// Writes what the journal holds and the database does not (scans counted by a server that
    /// was killed before its flush). Answers how many scans it wrote. Run before serving.
    pub async fn recover(&self, db: &Database) -> Result<usize, TraceError> {
        let Some(journal) = &self.journal else {
            return Ok(0);
        };
        let written = scan_journal::Entity::find_by_id(journal.id())
            .one(db.conn())
            .await?
            .map_or(0, |row| u64::try_from(row.flushed_through).unwrap_or(0));
        let (scans, last) = journal.unwritten(written)?;
        if last > written {
            let counts = tally(&scans);
            write(
                db,
                &counts,
                &PlaceSightings::new(),
                Some((journal.id(), last)),
            )
            .await?;
            // A scan journalled just before the crash may never have reached the shared
            // counter: those counters are dropped, to be seeded from the database again.
            for &(batch_id, item) in counts.keys() {
                if let Err(e) = self.cache.delete(&count_key((batch_id, item))).await {
                    tracing::warn!(error = %e, batch_id, item, "a recovered code's count stays cached");
                }
            }
        }
        journal.remove_through(last)?;
        Ok(scans.len())
    }
}

// Every key of a batch carries its hash tag (`{b42}`), the records version's too, so a Redis
// Cluster keeps them in one slot and a scan's one script reaches all of them.

fn count_key((batch_id, item): CodeKey) -> String {
    format!("scans:v3:{{b{batch_id}}}:{item}")
}

fn first_key((batch_id, item): CodeKey) -> String {
    format!("scans:v3:{{b{batch_id}}}:{item}:first")
}

fn places_key((batch_id, item): CodeKey) -> String {
    format!("scans:v3:{{b{batch_id}}}:{item}:places")
}

/// A time stored as microseconds since the epoch, in decimal.
fn micros(stored: &[u8]) -> Option<DateTime<Utc>> {
    std::str::from_utf8(stored)
        .ok()?
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
}

/// Journalled scans folded into counts per code.
fn tally(scans: &[JournalScan]) -> HashMap<CodeKey, Pending> {
    let mut counts: HashMap<CodeKey, Pending> = HashMap::new();
    for scan in scans {
        let one = Pending {
            count: 1,
            first_at: scan.at,
            last_at: scan.at,
        };
        counts
            .entry((scan.batch_id, scan.item))
            .and_modify(|p| p.merge(one))
            .or_insert(one);
    }
    counts
}

async fn write(
    db: &Database,
    batch: &HashMap<CodeKey, Pending>,
    places: &PlaceSightings,
    journal_mark: Option<(&str, u64)>,
) -> Result<(), TraceError> {
    let txn = db.begin_write().await?;
    let sightings: Vec<code_scan_place::ActiveModel> = places
        .iter()
        .flat_map(|(&(batch_id, item), seen)| {
            seen.iter()
                .map(move |(place, &at)| code_scan_place::ActiveModel {
                    batch_id: Set(batch_id),
                    item: Set(item),
                    place: Set(place.clone()),
                    first_seen_at: Set(at),
                })
        })
        .collect();
    for chunk in sightings.chunks(500) {
        // A place already on record keeps its first sighting.
        code_scan_place::Entity::insert_many(chunk.iter().cloned())
            .on_conflict_do_nothing_on([
                code_scan_place::Column::BatchId,
                code_scan_place::Column::Item,
                code_scan_place::Column::Place,
            ])
            .exec_without_returning(&txn)
            .await?;
    }
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
    if let Some((journal_id, seq)) = journal_mark {
        mark_written(&txn, journal_id, seq).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Records in the counts' transaction that the journal's segments up to `seq` are written.
async fn mark_written(
    txn: &DatabaseTransaction,
    journal_id: &str,
    seq: u64,
) -> Result<(), TraceError> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    scan_journal::Entity::insert(scan_journal::ActiveModel {
        journal_id: Set(journal_id.to_owned()),
        flushed_through: Set(seq),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(scan_journal::Column::JournalId)
            .update_columns([
                scan_journal::Column::FlushedThrough,
                scan_journal::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(txn)
    .await?;
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
