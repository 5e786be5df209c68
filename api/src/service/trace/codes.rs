//! Issuing, revoking and verifying trace codes. Verification checks the signature first: a
//! forged or mistyped code is answered without touching the database or the cache.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    area, batch,
    household_member::{self, MemberRelation},
    listing, plot, product_category, revoked_code, trace_code_run,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use super::{
    TraceError, production,
    scans::{ScanCounter, ScanTally},
};
use crate::{
    domain::AreaCode,
    infra::{
        cache::Cache,
        db::Database,
        imaging, qr,
        trace_codes::{self, CodeError, MAX_ITEM, TraceCode, TraceKeys},
    },
    service::{
        idempotency::{self, Claim, Kept},
        market::photos::Photos,
        policy::Actor,
    },
};

/// Most item codes one request issues.
pub const MAX_CODES_PER_RUN: u32 = 100_000;

/// Issues `count` serialised item codes for the farmer's own batch, numbered after those issued
/// before. Answers the run; the codes are derived from it.
pub async fn issue(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    batch_id: i64,
    count: u32,
) -> Result<trace_code_run::Model, TraceError> {
    issue_keyed(db, cache, actor, batch_id, count, None).await
}

/// [`issue`], once for a client's key.
pub async fn issue_keyed(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    batch_id: i64,
    count: u32,
    key: Option<&str>,
) -> Result<trace_code_run::Model, TraceError> {
    let claim = Claim::new(actor, key, "code_run", serde_json::json!([batch_id, count]))?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return run_made(db, idempotency::id_of(&earlier)?).await;
    }
    if !(1..=MAX_CODES_PER_RUN).contains(&count) {
        return Err(TraceError::Invalid(
            crate::service::reasons::code_count_range(MAX_CODES_PER_RUN),
        ));
    }
    let txn = db.begin_write().await?;
    let batch = production::own_batch(&txn, actor, batch_id).await?;
    if batch.recalled_at.is_some() {
        return Err(TraceError::Invalid(
            crate::service::reasons::batch_recalled(),
        ));
    }
    // First, so two runs issued at once are numbered one after the other.
    let version = records_changing(&txn, batch.id).await?;
    let last: Option<i64> = trace_code_run::Entity::find()
        .select_only()
        .column_as(trace_code_run::Column::LastItem.max(), "last")
        .filter(trace_code_run::Column::BatchId.eq(batch.id))
        .into_tuple()
        .one(&txn)
        .await?
        .flatten();
    let first = last.unwrap_or(0) + 1;
    let last = first + i64::from(count) - 1;
    if last > i64::from(MAX_ITEM) || batch.id > i64::from(u32::MAX) {
        return Err(TraceError::Invalid(
            crate::service::reasons::batch_codes_exhausted(),
        ));
    }
    let run = trace_code_run::ActiveModel {
        batch_id: Set(batch.id),
        first_item: Set(first),
        last_item: Set(last),
        created_by: Set(actor.user_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    match idempotency::keep(&txn, claim.as_ref(), &run.id.to_string()).await {
        Ok(()) => {}
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            return run_made(db, idempotency::id_of(&winner)?).await;
        }
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    records_changed(cache, batch.id, version).await;
    Ok(run)
}

/// A run a key's earlier request issued.
async fn run_made(db: &Database, id: i64) -> Result<trace_code_run::Model, TraceError> {
    trace_code_run::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// A printed item: its number, its signed code and the URL its QR code opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedItem {
    pub item: i64,
    pub code: String,
    pub url: String,
}

/// The batch's items in `items`, each signed as it is reached.
pub fn signed_items<'a>(
    keys: &'a TraceKeys,
    batch_id: i64,
    items: std::ops::RangeInclusive<i64>,
    public_base_url: &'a str,
) -> impl Iterator<Item = SignedItem> + 'a {
    items.map(move |item| {
        let code = keys.sign(TraceCode {
            batch_id: batch_id as u32,
            item: item as u32,
        });
        SignedItem {
            url: qr::scan_url(public_base_url, &code),
            code,
            item,
        }
    })
}

/// Lines of a run's codes to print, as CSV (`item,code,url`), a thousand lines a chunk, each
/// chunk signed only when it is read. Item 0, the batch's own code, is always valid and is not
/// part of a run.
pub fn csv_chunks(
    keys: Arc<TraceKeys>,
    run: &trace_code_run::Model,
    public_base_url: String,
) -> impl Iterator<Item = String> + Send + 'static {
    const LINES_PER_CHUNK: usize = 1_000;
    let (batch_id, last) = (run.batch_id, run.last_item);
    (run.first_item..=last)
        .step_by(LINES_PER_CHUNK)
        .map(move |start| {
            let end = (start + LINES_PER_CHUNK as i64 - 1).min(last);
            let mut chunk = String::with_capacity(LINES_PER_CHUNK * 64);
            for signed in signed_items(&keys, batch_id, start..=end, &public_base_url) {
                chunk.push_str(&format!("{},{},{}\n", signed.item, signed.code, signed.url));
            }
            chunk
        })
}

/// The code of a batch as a whole (item 0), printed on its sacks and boxes.
pub fn batch_code(keys: &TraceKeys, batch_id: i64) -> String {
    keys.sign(TraceCode {
        batch_id: batch_id as u32,
        item: 0,
    })
}

/// A batch's runs of item codes, first issued first, for whoever may read the batch.
pub async fn runs_of(
    db: &Database,
    actor: &Actor,
    batch_id: i64,
) -> Result<Vec<trace_code_run::Model>, TraceError> {
    production::get_batch(db, actor, batch_id).await?;
    Ok(trace_code_run::Entity::find()
        .filter(trace_code_run::Column::BatchId.eq(batch_id))
        .order_by_asc(trace_code_run::Column::FirstItem)
        .all(db.conn())
        .await?)
}

/// A run of the farmer's own batch, or of a batch of the official's area, with its batch.
pub async fn run(
    db: &Database,
    actor: &Actor,
    batch_id: i64,
    run_id: i64,
) -> Result<(batch::Model, trace_code_run::Model), TraceError> {
    let batch = production::get_batch(db, actor, batch_id).await?;
    let run = trace_code_run::Entity::find_by_id(run_id)
        .one(db.conn())
        .await?
        .filter(|r| r.batch_id == batch_id)
        .ok_or(TraceError::NotFound)?;
    Ok((batch, run))
}

/// Takes one code out of use (a lost roll of labels); scanning it warns from then on.
pub async fn revoke(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    keys: &TraceKeys,
    code: &str,
    reason: &str,
) -> Result<(), TraceError> {
    revoke_keyed(db, cache, actor, keys, code, reason, None).await
}

/// [`revoke`], once for a client's key.
pub async fn revoke_keyed(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    keys: &TraceKeys,
    code: &str,
    reason: &str,
    key: Option<&str>,
) -> Result<(), TraceError> {
    let code = keys.verify(code).map_err(|_| TraceError::NotFound)?;
    revoke_item(
        db,
        cache,
        actor,
        i64::from(code.batch_id),
        i64::from(code.item),
        reason,
        key,
    )
    .await
}

/// Takes item `item` of the farmer's own batch out of use, once for a client's key. The
/// batch's own code (item 0) and items never issued are not codes to revoke.
pub async fn revoke_item(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    batch_id: i64,
    item: i64,
    reason: &str,
    key: Option<&str>,
) -> Result<(), TraceError> {
    let claim = Claim::new(
        actor,
        key,
        "revocation",
        serde_json::json!([batch_id, item, reason.trim()]),
    )?;
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        return Ok(());
    }
    let reason = checked_reason(reason)?;
    let txn = db.begin_write().await?;
    production::own_batch(&txn, actor, batch_id).await?;
    let issued = item >= 1
        && trace_code_run::Entity::find()
            .filter(trace_code_run::Column::BatchId.eq(batch_id))
            .filter(trace_code_run::Column::FirstItem.lte(item))
            .filter(trace_code_run::Column::LastItem.gte(item))
            .one(&txn)
            .await?
            .is_some();
    if !issued {
        return Err(TraceError::Invalid(
            crate::service::reasons::item_not_issued(item),
        ));
    }
    revoked_code::Entity::insert(revoked_code::ActiveModel {
        batch_id: Set(batch_id),
        item: Set(item),
        reason: Set(reason),
        revoked_by: Set(actor.user_id),
        revoked_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([revoked_code::Column::BatchId, revoked_code::Column::Item])
    .exec(&txn)
    .await?;
    let version = records_changing(&txn, batch_id).await?;
    match idempotency::keep(&txn, claim.as_ref(), &format!("{batch_id}:{item}")).await {
        Ok(()) => {}
        Err(Kept::Raced) => return Ok(()),
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    records_changed(cache, batch_id, version).await;
    Ok(())
}

/// Takes a code of the farmer's own batch out of use as the farmer typed it: its number on the
/// label (`25`), or the code itself, once for a client's key.
#[allow(clippy::too_many_arguments)]
pub async fn revoke_typed(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    keys: &TraceKeys,
    batch_id: i64,
    typed: &str,
    reason: &str,
    key: Option<&str>,
) -> Result<(), TraceError> {
    let typed = typed.trim();
    let item = match typed.parse::<i64>() {
        Ok(item) => item,
        Err(_) => match keys.verify(typed) {
            Ok(code) if i64::from(code.batch_id) == batch_id => i64::from(code.item),
            _ => {
                return Err(TraceError::Invalid(
                    crate::service::reasons::code_not_of_batch(),
                ));
            }
        },
    };
    revoke_item(db, cache, actor, batch_id, item, reason, key).await
}

/// The codes of a batch taken out of use, by item.
pub async fn revoked_of(
    db: &Database,
    actor: &Actor,
    batch_id: i64,
) -> Result<Vec<revoked_code::Model>, TraceError> {
    production::get_batch(db, actor, batch_id).await?;
    Ok(revoked_code::Entity::find()
        .filter(revoked_code::Column::BatchId.eq(batch_id))
        .order_by_asc(revoked_code::Column::Item)
        .all(db.conn())
        .await?)
}

/// Recalls a whole batch with a reason: its farmer, or an official of its village.
pub async fn recall(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    batch_id: i64,
    reason: &str,
) -> Result<batch::Model, TraceError> {
    recall_keyed(db, cache, actor, batch_id, reason, None).await
}

/// [`recall`], once for a client's key.
pub async fn recall_keyed(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    batch_id: i64,
    reason: &str,
    key: Option<&str>,
) -> Result<batch::Model, TraceError> {
    let claim = Claim::new(
        actor,
        key,
        "recall",
        serde_json::json!([batch_id, reason.trim()]),
    )?;
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        return production::get_batch(db, actor, batch_id).await;
    }
    let reason = checked_reason(reason)?;
    let txn = db.begin_write().await?;
    let found = batch::Entity::find_by_id(batch_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|b| production::may_read(actor, b.household_id, &b.village_code))
        .ok_or(TraceError::NotFound)?;
    if found.recalled_at.is_some() {
        // Recalled before: the answer is the batch as it is, and the key is kept with what it
        // asked, so the same key sent again with another reason is refused, not answered.
        return match idempotency::keep(&txn, claim.as_ref(), &found.id.to_string()).await {
            Ok(()) => {
                txn.commit().await?;
                Ok(found)
            }
            Err(Kept::Raced) => {
                drop(txn);
                // The winner asked the same, or this is refused as a key sent with another.
                idempotency::winner(db.conn(), claim.as_ref()).await?;
                production::get_batch(db, actor, batch_id).await
            }
            Err(Kept::Failed(e)) => Err(e.into()),
        };
    }
    let mut active: batch::ActiveModel = found.into();
    active.recalled_at = Set(Some(Utc::now()));
    active.recall_reason = Set(Some(reason));
    let recalled = active.update(&txn).await?;
    let version = records_changing(&txn, recalled.id).await?;
    match idempotency::keep(&txn, claim.as_ref(), &recalled.id.to_string()).await {
        Ok(()) => {}
        Err(Kept::Raced) => {
            drop(txn);
            return production::get_batch(db, actor, batch_id).await;
        }
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    records_changed(cache, recalled.id, version).await;
    Ok(recalled)
}

fn checked_reason(reason: &str) -> Result<String, TraceError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(TraceError::Invalid(
            crate::service::reasons::recall_reason_length(200),
        ));
    }
    Ok(reason.to_owned())
}

/// Why a scan should make the buyer wary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The signature does not match: a forged or mistyped code.
    Forged,
    /// Signed by a key this server does not have.
    UnknownKey,
    /// Genuine signature, but never issued (a batch or item that does not exist).
    NotIssued,
    Revoked {
        reason: String,
    },
    Recalled {
        reason: String,
        at: DateTime<Utc>,
    },
    /// The batch's latest inspection failed.
    FailedInspection {
        at: DateTime<Utc>,
    },
    /// Scanned more often than one label plausibly is: a copied label, perhaps.
    OverScanned {
        count: i64,
    },
    /// Scanned from more places than one parcel plausibly travels.
    ManyPlaces {
        places: i64,
    },
}

/// When a genuine code's scans look like a copied label.
#[derive(Clone, Copy, Debug)]
pub struct ScanLimits {
    pub warn_after_scans: i64,
    pub warn_after_places: i64,
}

/// Where a genuine code's goods come from. Never the household's poverty status or any ID.
#[derive(Clone, Debug, PartialEq)]
pub struct Provenance {
    pub batch_id: i64,
    pub item: u32,
    pub category_code: String,
    pub product_zh: String,
    pub product_en: String,
    pub village_code: String,
    pub village_name: String,
    pub township_code: String,
    pub township_name: String,
    /// The head of household's name, masked: 张*.
    pub producer: String,
    pub plot: Option<PlotSummary>,
    pub produced_on: NaiveDate,
    pub quantity: i64,
    pub unit: entities::listing::Unit,
    pub listing_ids: Vec<i64>,
    /// Those of its listings on sale when the records were read, for the buyer to go to.
    pub on_sale: Vec<ListingLink>,
    /// What happened to the batch, in order.
    pub timeline: Vec<TimelineEntry>,
    /// Whether the certificate rules (承诺达标合格证) cover the product.
    pub in_scope: bool,
    /// The batch's latest certificate (in force, or withdrawn with its reason).
    pub certificate: Option<CertificateNote>,
    /// The farm inputs of the batch's plot (or flocks) in the season, oldest first.
    pub inputs: Vec<InputNote>,
}

/// A batch's certificate as a scan shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateNote {
    pub id: i64,
    pub issued_on: NaiveDate,
    pub basis: entities::certificate::Basis,
    pub issuer: String,
    /// Set when withdrawn: why.
    pub withdrawn: Option<String>,
}

/// A farm input as a scan shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputNote {
    pub kind: entities::farm_input::InputKind,
    pub name: String,
    pub applied_on: NaiveDate,
    pub interval_days: i32,
    /// The harvest waited out the interval.
    pub respected: bool,
}

/// A listing selling the batch: where a scan leads the buyer on.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingLink {
    pub id: i64,
    pub title: String,
}

/// One event as a buyer reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    pub kind: entities::trace_event::EventKind,
    pub occurred_at: DateTime<Utc>,
    /// The area's name, or the place in words.
    pub place: Option<String>,
    pub result: Option<entities::trace_event::InspectionResult>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlotSummary {
    pub name: String,
    pub crop: String,
    pub area_mu: f64,
}

/// What a scan finds.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// The code in its canonical spelling (upper case, no groups, look-alikes read).
    pub code: String,
    pub genuine: bool,
    /// Shared with the remembered records: scans of one code do not copy it.
    pub provenance: Option<Arc<Provenance>>,
    /// This scan's count and the first scan's time; genuine codes only.
    pub scans: Option<ScanTally>,
    pub warnings: Vec<Warning>,
}

/// Who is scanning: where from, and the limits that make a count suspicious.
#[derive(Clone, Copy, Debug)]
pub struct Scan<'a> {
    pub counter: &'a ScanCounter,
    /// Where records versions live (shared by every server on Redis).
    pub cache: &'a Arc<dyn Cache>,
    /// This server's recently read records.
    pub records: &'a RecordsMemo,
    pub limits: ScanLimits,
    /// The scanner's network neighbourhood, if known.
    pub place: Option<&'a str>,
}

/// Verifies a scanned code: the signature first, then the batch and its warnings.
pub async fn verify(
    db: &Database,
    keys: &TraceKeys,
    scan: Scan<'_>,
    typed: &str,
) -> Result<Verification, TraceError> {
    let code = match keys.verify(typed) {
        Ok(code) => code,
        Err(e) => {
            let warning = match e {
                CodeError::UnknownKey => Warning::UnknownKey,
                _ => Warning::Forged,
            };
            return Ok(Verification {
                code: trace_codes::canonical(typed),
                genuine: false,
                provenance: None,
                scans: None,
                warnings: vec![warning],
            });
        }
    };
    let batch_id = i64::from(code.batch_id);
    let key = (batch_id, i64::from(code.item));
    // A code already found issued is counted in the call that reads its records version: one
    // round trip to the cache. Otherwise the records say first whether there is a code to count.
    let (version, counted) = if scan.counter.known_issued(key) {
        let recorded = scan
            .counter
            .record(db, key, scan.place, Some(&version_key(batch_id)))
            .await?;
        let version = match recorded.version {
            Some(version) => version,
            None => records_version(db, scan.cache, batch_id).await?,
        };
        (version, Some(recorded.tally))
    } else {
        (records_version(db, scan.cache, batch_id).await?, None)
    };
    let known = scan
        .records
        .try_get_with((batch_id, code.item, version), async {
            records_of(db, batch_id, code.item).await.map(Arc::new)
        })
        .await
        .map_err(|e| match Arc::try_unwrap(e) {
            Ok(e) => e,
            // Another scan's read of the same records failed the same way.
            Err(shared) => TraceError::Database(sea_orm::DbErr::Custom(shared.to_string())),
        })?;
    let Some(provenance) = known.provenance.clone() else {
        return Ok(Verification {
            code: trace_codes::canonical(typed),
            genuine: false,
            provenance: None,
            scans: None,
            warnings: known.warnings.clone(),
        });
    };
    let mut warnings = known.warnings.clone();
    let tally = match counted {
        Some(tally) => tally,
        None => scan.counter.record(db, key, scan.place, None).await?.tally,
    };
    if tally.count > scan.limits.warn_after_scans {
        warnings.push(Warning::OverScanned { count: tally.count });
    }
    if tally.places > scan.limits.warn_after_places {
        warnings.push(Warning::ManyPlaces {
            places: tally.places,
        });
    }
    Ok(Verification {
        code: trace_codes::canonical(typed),
        genuine: true,
        provenance: Some(provenance),
        scans: Some(tally),
        warnings,
    })
}

/// What the records say about a code, before counting the scan: where its goods come from
/// (none when it was never issued) and the warnings the records give.
#[derive(Clone, Debug)]
pub struct CodeRecords {
    provenance: Option<Arc<Provenance>>,
    warnings: Vec<Warning>,
}

/// Recently read records, by batch, item and the batch's records version: a scan of a popular
/// code costs no query, and any change to the batch (`records_changing`) moves the version, on
/// every server sharing the cache.
pub type RecordsMemo = moka::future::Cache<(i64, u32, i64), Arc<CodeRecords>>;

pub fn records_memo() -> RecordsMemo {
    moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(Duration::from_secs(600))
        .build()
}

/// Tagged like the batch's scan keys (`{b42}`), so one script reaches it and them together.
fn version_key(batch_id: i64) -> String {
    format!("trace:v3:{{b{batch_id}}}:version")
}

/// A cached version is trusted this long: past it, the database is asked again, so a copy
/// that missed a change (Redis away while the change was made) is wrong for no longer.
const VERSION_TTL: Duration = Duration::from_secs(15);

/// The batch's records version: the cache's copy, or the database's (then copied).
async fn records_version(
    db: &Database,
    cache: &Arc<dyn Cache>,
    batch_id: i64,
) -> Result<i64, TraceError> {
    if let Ok(Some(cached)) = cache.get(&version_key(batch_id)).await
        && let Some(version) = std::str::from_utf8(&cached)
            .ok()
            .and_then(|v| v.parse().ok())
    {
        return Ok(version);
    }
    let stored: Option<i64> = batch::Entity::find_by_id(batch_id)
        .select_only()
        .column(batch::Column::RecordsVersion)
        .into_tuple()
        .one(db.conn())
        .await?;
    let version = stored.unwrap_or(0);
    // Only if absent: a change published meanwhile is newer than what was read here.
    let _ = cache
        .set_if_absent(
            &version_key(batch_id),
            version.to_string().as_bytes(),
            VERSION_TTL,
        )
        .await;
    Ok(version)
}

/// Moves a batch's records version inside the transaction that changes its records (codes
/// issued or revoked, a recall, a new event). On PostgreSQL and MySQL the update also locks the
/// batch's row until the transaction ends, so changes to one batch run one after the other.
pub async fn records_changing(txn: &DatabaseTransaction, batch_id: i64) -> Result<i64, TraceError> {
    use sea_orm::sea_query::ExprTrait;
    batch::Entity::update_many()
        .col_expr(
            batch::Column::RecordsVersion,
            Expr::col(batch::Column::RecordsVersion).add(1),
        )
        .filter(batch::Column::Id.eq(batch_id))
        .exec(txn)
        .await?;
    let version: Option<i64> = batch::Entity::find_by_id(batch_id)
        .select_only()
        .column(batch::Column::RecordsVersion)
        .into_tuple()
        .one(txn)
        .await?;
    Ok(version.unwrap_or(0))
}

/// Tells the cache the version a committed change moved to, so scans on every server read the
/// records again. Should the cache miss it, its copy expires within `VERSION_TTL`.
pub async fn records_changed(cache: &Arc<dyn Cache>, batch_id: i64, version: i64) {
    if let Err(e) = cache
        .set(
            &version_key(batch_id),
            version.to_string().as_bytes(),
            VERSION_TTL,
        )
        .await
    {
        tracing::warn!(error = %e, batch_id, "could not publish a batch's records version");
    }
}

async fn records_of(db: &Database, batch_id: i64, item: u32) -> Result<CodeRecords, TraceError> {
    let not_issued = CodeRecords {
        provenance: None,
        warnings: vec![Warning::NotIssued],
    };
    let Some(batch) = batch::Entity::find_by_id(batch_id).one(db.conn()).await? else {
        return Ok(not_issued);
    };
    if item > 0 {
        let item = i64::from(item);
        let issued = trace_code_run::Entity::find()
            .filter(trace_code_run::Column::BatchId.eq(batch_id))
            .filter(trace_code_run::Column::FirstItem.lte(item))
            .filter(trace_code_run::Column::LastItem.gte(item))
            .one(db.conn())
            .await?
            .is_some();
        if !issued {
            return Ok(not_issued);
        }
    }
    let mut warnings = Vec::new();
    if let Some(revoked) = revoked_code::Entity::find_by_id((batch_id, i64::from(item)))
        .one(db.conn())
        .await?
    {
        warnings.push(Warning::Revoked {
            reason: revoked.reason,
        });
    }
    if let (Some(at), reason) = (batch.recalled_at, batch.recall_reason.clone()) {
        warnings.push(Warning::Recalled {
            reason: reason.unwrap_or_default(),
            at,
        });
    }
    let provenance = provenance(db, &batch, item).await?;
    let last_inspection = provenance
        .timeline
        .iter()
        .rev()
        .find(|t| t.kind == entities::trace_event::EventKind::Inspected);
    if let Some(failed) =
        last_inspection.filter(|t| t.result == Some(entities::trace_event::InspectionResult::Fail))
    {
        warnings.push(Warning::FailedInspection {
            at: failed.occurred_at,
        });
    }
    Ok(CodeRecords {
        provenance: Some(Arc::new(provenance)),
        warnings,
    })
}

/// The trace code in a photo of a label, for phones whose scanner cannot open links: the
/// photo is read within the upload limits, and the first QR code found that carries one of our
/// scan URLs (or a bare code) is the answer.
pub async fn code_in_photo(
    photos: &Photos,
    bytes: Vec<u8>,
    declared: imaging::Declared,
) -> Result<String, TraceError> {
    let found = photos
        .with_image(bytes, declared, |bytes, declared, limits| {
            let (_, image) = imaging::decode(bytes, declared, limits)?;
            // QR finders work on grey; a phone photo needs no more than ~1600 px to find a label.
            let image = if image.width().max(image.height()) > 1600 {
                image.thumbnail(1600, 1600)
            } else {
                image
            };
            Ok(qr::decode(&image.to_luma8()))
        })
        .await
        .map_err(TraceError::Photo)?;
    found
        .iter()
        .map(|text| qr::code_in(text))
        .find(|code| code.len() == crate::infra::trace_codes::CODE_LEN)
        .map(str::to_owned)
        .ok_or(TraceError::NoCodeInPhoto)
}

pub(super) async fn provenance(
    db: &Database,
    batch: &batch::Model,
    item: u32,
) -> Result<Provenance, TraceError> {
    let conn = db.conn();
    let category = product_category::Entity::find_by_id(batch.category_id)
        .one(conn)
        .await?
        .ok_or(TraceError::NotFound)?;
    let village = AreaCode::parse(&batch.village_code).map_err(|_| {
        TraceError::Invalid(crate::service::reasons::area_code_invalid(
            batch.village_code.clone(),
        ))
    })?;
    let township = village.parent().unwrap_or_else(|| village.clone());
    let events = super::events::of_batch(conn, batch.id).await?;
    let mut codes: Vec<String> = vec![village.as_str().to_owned(), township.as_str().to_owned()];
    codes.extend(events.iter().filter_map(|e| e.place_area_code.clone()));
    let names: Vec<area::Model> = area::Entity::find()
        .filter(area::Column::Code.is_in(codes))
        .all(conn)
        .await?;
    let name_of = |code: &AreaCode| {
        names
            .iter()
            .find(|a| a.code == code.as_str())
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let head: Option<String> = household_member::Entity::find()
        .select_only()
        .column(household_member::Column::Name)
        .filter(household_member::Column::HouseholdId.eq(batch.household_id))
        .filter(household_member::Column::Relation.eq(MemberRelation::Head))
        .into_tuple()
        .one(conn)
        .await?;
    let plot = match batch.plot_id {
        Some(id) => plot::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|p| PlotSummary {
                name: p.name,
                crop: p.crop,
                area_mu: p.area_centimu as f64 / 100.0,
            }),
        None => None,
    };
    let listing_ids = production::listings_of(conn, batch.id).await?;
    let on_sale = listing::Entity::find()
        .filter(listing::Column::Id.is_in(listing_ids.clone()))
        .filter(listing::Column::Status.eq(listing::ListingStatus::OnSale))
        .order_by_asc(listing::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|l| ListingLink {
            id: l.id,
            title: l.title,
        })
        .collect();
    let in_scope = category.certificate_class.is_some();
    let certificate = super::certificates::of_batch(conn, batch.id)
        .await?
        .into_iter()
        .next()
        .map(|c| CertificateNote {
            id: c.id,
            issued_on: c.issued_on,
            basis: c.basis,
            issuer: c.issuer_name,
            withdrawn: c
                .withdrawn_at
                .map(|_| c.withdraw_reason.unwrap_or_default()),
        });
    let inputs = super::certificates::input_views(conn, batch)
        .await?
        .into_iter()
        .map(|v| InputNote {
            kind: v.input.kind,
            name: v.input.product_name,
            applied_on: v.input.applied_on,
            interval_days: v.input.interval_days,
            respected: v.respected,
        })
        .collect();
    Ok(Provenance {
        in_scope,
        certificate,
        inputs,
        batch_id: batch.id,
        item,
        category_code: category.code,
        product_zh: category.name_zh,
        product_en: category.name_en,
        village_code: village.as_str().to_owned(),
        village_name: name_of(&village),
        township_code: township.as_str().to_owned(),
        township_name: name_of(&township),
        producer: mask_name(head.as_deref().unwrap_or("农户")),
        plot,
        produced_on: batch.produced_on,
        quantity: batch.quantity,
        unit: batch.unit,
        listing_ids,
        on_sale,
        timeline: events
            .into_iter()
            .map(|e| TimelineEntry {
                kind: e.kind,
                occurred_at: e.occurred_at,
                place: e
                    .place_area_code
                    .as_ref()
                    .and_then(|code| names.iter().find(|a| &a.code == code))
                    .map(|a| a.name.clone())
                    .or(e.place_text),
                result: e.result,
            })
            .collect(),
    })
}

/// The family name and a star for each other character: 张三 → 张*, 欧阳明 → 欧**.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn names_are_masked_after_the_family_name() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳明月"), "欧***");
        assert_eq!(mask_name(""), "");
    }
}

/// Scan answers' unchanging part, rendered once per remembered record and form (the API's
/// JSON, the page in each language): a popular code's scans write only the few parts that
/// change. What each form is belongs to the caller, who names it.
#[derive(Clone)]
pub struct RenderedRecords(moka::sync::Cache<RenderedKey, (Arc<Provenance>, Arc<str>)>);

/// A record's address, and the form it is rendered in.
type RenderedKey = (usize, &'static str);

impl Default for RenderedRecords {
    fn default() -> Self {
        Self(moka::sync::Cache::new(100_000))
    }
}

impl RenderedRecords {
    /// The record rendered in `form`: kept, or rendered now (and kept if it could be).
    pub fn get_or_render<E>(
        &self,
        provenance: &Arc<Provenance>,
        form: &'static str,
        render: impl FnOnce(&Provenance) -> Result<String, E>,
    ) -> Result<Arc<str>, E> {
        // Keyed by the record's address; the entry holds the record, so the address is not
        // reused while the entry lives, and the pointer check makes sure.
        let key = (Arc::as_ptr(provenance) as usize, form);
        if let Some((held, rendered)) = self.0.get(&key)
            && Arc::ptr_eq(&held, provenance)
        {
            return Ok(rendered);
        }
        let rendered: Arc<str> = render(provenance)?.into();
        self.0.insert(key, (provenance.clone(), rendered.clone()));
        Ok(rendered)
    }
}
