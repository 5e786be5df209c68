//! Compliance certificates (承诺达标合格证): the producer's promise, batch by batch, that the
//! goods carry no banned pesticide or veterinary drug and no illegal additive and that residues
//! are within limits, on a stated basis. Issued by the batch's farmer or the manager of the
//! co-operative the household belongs to; refused while the batch was harvested inside an
//! input's interval; a mixed or processed batch needs its own, naming its inputs'. Kept at least
//! six months (two years when a co-operative issued it), never deleted before; withdrawn with a
//! reason, which buyers see.

use std::sync::Arc;

use chrono::{Months, NaiveDate, Utc};
use entities::{
    area::AreaLevel,
    batch::{self, Model as Batch},
    batch_listing,
    certificate::{self, Basis, Model as Certificate},
    cooperative, cooperative_member, farm_input, household,
    listing::{self, ListingStatus},
    product_category, user,
    user::Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{TraceError, events, inputs};
use crate::{
    domain::{AreaCode, county_time::Clock},
    infra::{blobs::Blobs, cache::Cache, db::Database},
    service::{
        areas,
        audit::{self, NewAuditEntry},
        idempotency::{self, Claim, Kept},
        policy::Actor,
        reasons,
    },
};

/// The promise every certificate makes (the rules' article 2 and the national template).
pub const PROMISE: &str =
    "不使用禁用农药兽药、停用兽药和非法添加物，常规农药兽药残留不超标，对承诺的真实性负责。";
/// The fewest months a certificate is kept after it was issued.
pub const MIN_KEEP_MONTHS: u32 = 6;
/// The fewest months a co-operative keeps the record of a certificate it issued (开具记录至少保存
/// 二年, as for enterprises).
pub const MIN_KEEP_MONTHS_COOPERATIVE: u32 = 24;
/// The largest test report attached.
pub const MAX_REPORT_BYTES: usize = 10 * 1024 * 1024;
/// The day the rules came into force: batches before it are not counted as missing one.
pub fn rules_in_force() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 2, 1).expect("a date")
}

/// Every basis, in the order a form offers them.
pub const BASES: [Basis; 4] = [
    Basis::QualityControl,
    Basis::OwnTest,
    Basis::CommissionedTest,
    Basis::OwnPromise,
];

/// What each basis is called, and its stable name.
pub trait BasisNames: Sized {
    fn name_zh(self) -> &'static str;
    fn name_en(self) -> &'static str;
    fn code(self) -> &'static str;
    fn needs_report(self) -> bool;
    fn parse(text: &str) -> Option<Self>;
}

impl BasisNames for Basis {
    fn name_zh(self) -> &'static str {
        match self {
            Basis::CommissionedTest => "委托检测合格",
            Basis::OwnTest => "自行检测合格",
            Basis::QualityControl => "质量安全控制符合要求",
            Basis::OwnPromise => "自我承诺",
        }
    }

    fn name_en(self) -> &'static str {
        match self {
            Basis::CommissionedTest => "Commissioned test passed",
            Basis::OwnTest => "Own test passed",
            Basis::QualityControl => "Quality control meets the requirements",
            Basis::OwnPromise => "Own promise",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Basis::CommissionedTest => "commissioned_test",
            Basis::OwnTest => "own_test",
            Basis::QualityControl => "quality_control",
            Basis::OwnPromise => "own_promise",
        }
    }

    fn needs_report(self) -> bool {
        matches!(self, Basis::CommissionedTest | Basis::OwnTest)
    }

    fn parse(text: &str) -> Option<Self> {
        BASES.into_iter().find(|b| b.code() == text)
    }
}

/// A test report attached to a certificate.
#[derive(Clone, Debug)]
pub struct Report {
    pub bytes: Vec<u8>,
}

/// A certificate asked for.
#[derive(Clone, Debug)]
pub struct NewCertificate {
    pub basis: Basis,
    /// Default: the co-operative's name when its manager issues it, else the farmer's name.
    pub issuer_name: Option<String>,
    /// Default: the issuing account's phone.
    pub issuer_phone: Option<String>,
    pub report: Option<Report>,
}

/// The kind of file a report is, from its first bytes: a JPEG or PNG photo, or a PDF.
pub fn report_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        Some("image/png")
    } else {
        None
    }
}

/// Applies the configured scope: each product named gets its class of the rules, the others
/// none. Run at start.
pub async fn apply_scope(
    db: &Database,
    scope: &std::collections::BTreeMap<String, String>,
) -> Result<(), TraceError> {
    let txn = db.begin_write().await?;
    for category in product_category::Entity::find().all(&txn).await? {
        let class = scope.get(&category.code).cloned();
        if category.certificate_class != class {
            let mut active = category.into_active_model();
            active.certificate_class = Set(class);
            active.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// The product categories the rules cover.
pub async fn scoped_categories(conn: &impl ConnectionTrait) -> Result<Vec<i64>, TraceError> {
    Ok(product_category::Entity::find()
        .filter(product_category::Column::CertificateClass.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// Whether the rules cover a product category.
pub async fn in_scope(conn: &impl ConnectionTrait, category_id: i64) -> Result<bool, TraceError> {
    Ok(product_category::Entity::find_by_id(category_id)
        .one(conn)
        .await?
        .is_some_and(|c| c.certificate_class.is_some()))
}

/// A batch's certificate in force, if it has one.
pub async fn live_of_batch(
    conn: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Option<Certificate>, TraceError> {
    Ok(certificate::Entity::find()
        .filter(certificate::Column::BatchId.eq(batch_id))
        .filter(certificate::Column::WithdrawnAt.is_null())
        .order_by_desc(certificate::Column::Id)
        .one(conn)
        .await?)
}

/// Every certificate of a batch, newest first.
pub async fn of_batch(
    conn: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<Certificate>, TraceError> {
    Ok(certificate::Entity::find()
        .filter(certificate::Column::BatchId.eq(batch_id))
        .order_by_desc(certificate::Column::Id)
        .limit(20)
        .all(conn)
        .await?)
}

/// The first batch sold by a listing that the rules cover and that has no certificate in force.
pub async fn uncertified_batch_of_listing(
    conn: &impl ConnectionTrait,
    listing_id: i64,
) -> Result<Option<i64>, TraceError> {
    let links = batch_listing::Entity::find()
        .filter(batch_listing::Column::ListingId.eq(listing_id))
        .order_by_asc(batch_listing::Column::BatchId)
        .all(conn)
        .await?;
    for link in links {
        let Some(batch) = batch::Entity::find_by_id(link.batch_id).one(conn).await? else {
            continue;
        };
        if in_scope(conn, batch.category_id).await?
            && live_of_batch(conn, batch.id).await?.is_none()
        {
            return Ok(Some(batch.id));
        }
    }
    Ok(None)
}

/// The co-operative manager or the farmer who may certify a batch of `household_id`; answers
/// the co-operative's name when the actor certifies as its manager.
async fn certifier(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    household_id: i64,
) -> Result<Option<String>, TraceError> {
    if actor.role != Role::Farmer {
        return Err(TraceError::Forbidden);
    }
    if actor.household_id == Some(household_id) {
        return Ok(None);
    }
    let Some(cooperative) = cooperative::Entity::find()
        .filter(cooperative::Column::ManagerUserId.eq(actor.user_id))
        .one(conn)
        .await?
    else {
        return Err(TraceError::NotFound);
    };
    if cooperative_member::Entity::find_by_id((cooperative.id, household_id))
        .one(conn)
        .await?
        .is_none()
    {
        return Err(TraceError::NotFound);
    }
    Ok(Some(cooperative.name))
}

/// The township and village a batch was produced in, as words.
pub async fn origin_of(
    conn: &impl ConnectionTrait,
    village_code: &str,
) -> Result<String, TraceError> {
    let village = AreaCode::parse(village_code).ok();
    let township = village.as_ref().and_then(AreaCode::parent);
    let mut codes = vec![village_code.to_owned()];
    codes.extend(township.as_ref().map(|t| t.as_str().to_owned()));
    let names = areas::names_of(conn, codes).await?;
    let name = |code: Option<&str>| code.and_then(|c| names.get(c)).cloned().unwrap_or_default();
    Ok(format!(
        "{}{}",
        name(township.as_ref().map(AreaCode::as_str)),
        name(Some(village_code))
    ))
}

/// Issues a certificate for a batch, once for a client's key.
#[allow(clippy::too_many_arguments)]
pub async fn issue_keyed(
    db: &Database,
    blobs: &Blobs,
    cache: &Arc<dyn Cache>,
    clock: &dyn Clock,
    keep_months: u32,
    actor: &Actor,
    batch_id: i64,
    new: NewCertificate,
    key: Option<&str>,
) -> Result<Certificate, TraceError> {
    let report_digest = new
        .report
        .as_ref()
        .map(|r| format!("{:x}", Sha256::digest(&r.bytes)));
    let claim = Claim::new(
        actor,
        key,
        "certificate",
        json!([
            batch_id,
            new.basis.code(),
            new.issuer_name.as_deref().map(str::trim),
            new.issuer_phone.as_deref().map(str::trim),
            report_digest,
        ]),
    )?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return made(db, idempotency::id_of(&earlier)?).await;
    }
    let report = match (&new.report, new.basis.needs_report()) {
        (None, true) => return Err(TraceError::Invalid(reasons::certificate_needs_report())),
        (None, false) => None,
        (Some(report), _) => {
            let kind = report_type(&report.bytes)
                .filter(|_| report.bytes.len() <= MAX_REPORT_BYTES)
                .ok_or_else(|| {
                    TraceError::Invalid(reasons::certificate_report_file(
                        MAX_REPORT_BYTES / 1024 / 1024,
                    ))
                })?;
            Some((report, kind))
        }
    };
    // The batch and who certifies it, checked before the report is stored.
    let found = batch::Entity::find_by_id(batch_id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)?;
    let cooperative_name = certifier(db.conn(), actor, found.household_id).await?;
    let least_months = match cooperative_name {
        Some(_) => MIN_KEEP_MONTHS_COOPERATIVE,
        None => MIN_KEEP_MONTHS,
    };
    let account = user::Entity::find_by_id(actor.user_id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::Forbidden)?;
    let issuer_name = new
        .issuer_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or(cooperative_name)
        .unwrap_or_else(|| account.display_name.clone());
    if issuer_name.is_empty() || issuer_name.chars().count() > 64 {
        return Err(TraceError::Invalid(reasons::certificate_issuer_name()));
    }
    let household_phone = household::Entity::find_by_id(found.household_id)
        .one(db.conn())
        .await?
        .and_then(|h| h.phone);
    let issuer_phone = new
        .issuer_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .or(account.phone.clone())
        .or(household_phone)
        .unwrap_or_default();
    let phone_ok = {
        let digits: String = issuer_phone.chars().filter(|c| *c != '-').collect();
        (7..=12).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if !phone_ok {
        return Err(TraceError::Invalid(reasons::certificate_phone()));
    }
    let report_key = match &report {
        Some((report, _)) => {
            let key = format!(
                "certificate-reports/{}",
                report_digest.clone().unwrap_or_default()
            );
            blobs
                .put(&key, report.bytes.clone())
                .await
                .map_err(TraceError::Storage)?;
            Some(key)
        }
        None => None,
    };

    let txn = db.begin_write().await?;
    let batch = batch::Entity::find_by_id(batch_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(TraceError::NotFound)?;
    if let Some(live) = live_of_batch(&txn, batch.id).await? {
        return Err(TraceError::Invalid(reasons::certificate_already(live.id)));
    }
    let bearing = inputs::bearing_on(&txn, &batch).await?;
    if let Some(input) = inputs::blocking(&batch, &bearing) {
        return Err(TraceError::Invalid(reasons::certificate_inside_interval(
            input.product_name.clone(),
            input.applied_on,
            input.interval_days,
            batch.produced_on,
            inputs::allowed_from(&input),
        )));
    }
    // A batch mixed or made from others names their certificates; one the rules cover must
    // have its own first.
    let mut input_certificates = Vec::new();
    for event in events::of_batch(&txn, batch.id).await? {
        for source_id in events::inputs_of(&event) {
            let Some(source) = batch::Entity::find_by_id(source_id).one(&txn).await? else {
                continue;
            };
            match live_of_batch(&txn, source.id).await? {
                Some(c) => input_certificates.push(c.id),
                None if in_scope(&txn, source.category_id).await? => {
                    return Err(TraceError::Invalid(reasons::certificate_input_uncertified(
                        source.id,
                    )));
                }
                None => {}
            }
        }
    }
    input_certificates.sort_unstable();
    input_certificates.dedup();
    let product_name = product_category::Entity::find_by_id(batch.category_id)
        .one(&txn)
        .await?
        .map(|c| c.name_zh)
        .unwrap_or_default();
    let today = clock.today();
    let keep_until = today
        .checked_add_months(Months::new(keep_months.max(least_months)))
        .unwrap_or(today);
    let stored = certificate::ActiveModel {
        batch_id: Set(batch.id),
        household_id: Set(batch.household_id),
        village_code: Set(batch.village_code.clone()),
        product_name: Set(product_name),
        quantity: Set(batch.quantity),
        unit: Set(batch.unit),
        origin: Set(origin_of(&txn, &batch.village_code).await?),
        issued_on: Set(today),
        issuer_name: Set(issuer_name),
        issuer_phone: Set(issuer_phone),
        promise: Set(PROMISE.to_owned()),
        basis: Set(new.basis),
        report_key: Set(report_key),
        report_type: Set(report.map(|(_, kind)| kind.to_owned())),
        input_certificate_ids: Set(json!(input_certificates).to_string()),
        issued_by: Set(actor.user_id),
        issued_at: Set(clock.now()),
        keep_until: Set(keep_until),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: None,
            action: "certificate.issued",
            entity: "certificate",
            entity_id: stored.id.to_string(),
            area_code: Some(stored.village_code.clone()),
            before: None,
            after: Some(audit_view(&stored)),
        },
    )
    .await?;
    let version = super::codes::records_changing(&txn, batch.id).await?;
    match idempotency::keep(&txn, claim.as_ref(), &stored.id.to_string()).await {
        Ok(()) => {}
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            return made(db, idempotency::id_of(&winner)?).await;
        }
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    super::codes::records_changed(cache, batch.id, version).await;
    Ok(stored)
}

fn audit_view(c: &Certificate) -> serde_json::Value {
    json!({
        "batch_id": c.batch_id,
        "product_name": c.product_name,
        "quantity": c.quantity,
        "origin": c.origin,
        "issued_on": c.issued_on,
        "issuer_name": c.issuer_name,
        "basis": c.basis.code(),
        "report": c.report_key,
        "input_certificate_ids": input_certificates_of(c),
        "keep_until": c.keep_until,
        "withdrawn_at": c.withdrawn_at,
        "withdraw_reason": c.withdraw_reason,
    })
}

async fn made(db: &Database, id: i64) -> Result<Certificate, TraceError> {
    certificate::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// The certificates of the batches a mixed batch's certificate names.
pub fn input_certificates_of(c: &Certificate) -> Vec<i64> {
    serde_json::from_str(&c.input_certificate_ids).unwrap_or_default()
}

/// Withdraws a certificate in force, with the reason buyers will read. The batch's listings
/// the rules cover leave the shelf when no other certificate covers them.
pub async fn withdraw(
    db: &Database,
    cache: &Arc<dyn Cache>,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<Certificate, TraceError> {
    withdraw_keyed(db, cache, clock, actor, id, reason, None).await
}

/// [`withdraw`], once for a client's key: the request sent again with the same key answers the
/// certificate as it is now, not a refusal that it was withdrawn; the key with another reason
/// is refused.
pub async fn withdraw_keyed(
    db: &Database,
    cache: &Arc<dyn Cache>,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
    reason: &str,
    key: Option<&str>,
) -> Result<Certificate, TraceError> {
    let reason = reason.trim();
    let claim = Claim::new(
        actor,
        key,
        "certificate_withdrawal",
        serde_json::json!([id, reason]),
    )?;
    if idempotency::earlier(db.conn(), claim.as_ref())
        .await?
        .is_some()
    {
        return made(db, id).await;
    }
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(TraceError::Invalid(reasons::certificate_withdraw_reason()));
    }
    let txn = db.begin_write().await?;
    let current = certificate::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(TraceError::NotFound)?;
    certifier(&txn, actor, current.household_id).await?;
    if current.withdrawn_at.is_some() {
        return Err(TraceError::Invalid(reasons::certificate_withdrawn()));
    }
    let before = audit_view(&current);
    let mut active = current.into_active_model();
    active.withdrawn_at = Set(Some(clock.now()));
    active.withdrawn_by = Set(Some(actor.user_id));
    active.withdraw_reason = Set(Some(reason.to_owned()));
    let withdrawn = active.update(&txn).await?;
    let links = batch_listing::Entity::find()
        .filter(batch_listing::Column::BatchId.eq(withdrawn.batch_id))
        .all(&txn)
        .await?;
    for link in links {
        if uncertified_batch_of_listing(&txn, link.listing_id)
            .await?
            .is_none()
        {
            continue;
        }
        if let Some(l) = listing::Entity::find_by_id(link.listing_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .filter(|l| l.status == ListingStatus::OnSale)
        {
            let mut l = l.into_active_model();
            l.status = Set(ListingStatus::OffShelf);
            l.updated_at = Set(Utc::now());
            l.update(&txn).await?;
        }
    }
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: None,
            action: "certificate.withdrawn",
            entity: "certificate",
            entity_id: withdrawn.id.to_string(),
            area_code: Some(withdrawn.village_code.clone()),
            before: Some(before),
            after: Some(audit_view(&withdrawn)),
        },
    )
    .await?;
    let version = super::codes::records_changing(&txn, withdrawn.batch_id).await?;
    if idempotency::commit(db, txn, claim.as_ref(), &id.to_string())
        .await?
        .is_some()
    {
        // Another copy with the same key withdrew it first; this one changed nothing.
        return made(db, id).await;
    }
    super::codes::records_changed(cache, withdrawn.batch_id, version).await;
    Ok(withdrawn)
}

/// Deletes a certificate whose keeping time has passed; inside it, refused with the day.
pub async fn delete(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    id: i64,
) -> Result<(), TraceError> {
    let txn = db.begin_write().await?;
    let current = certificate::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(TraceError::NotFound)?;
    certifier(&txn, actor, current.household_id).await?;
    if clock.today() <= current.keep_until {
        return Err(TraceError::Invalid(reasons::certificate_retained(
            current.keep_until,
        )));
    }
    certificate::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: None,
            action: "certificate.deleted",
            entity: "certificate",
            entity_id: current.id.to_string(),
            area_code: Some(current.village_code.clone()),
            before: Some(audit_view(&current)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A certificate as anyone reads it: its fields, the inputs' certificates it names, and the
/// inputs of the batch's plot in the season.
#[derive(Clone, Debug)]
pub struct CertificateView {
    pub certificate: Certificate,
    pub batch: Batch,
    pub input_certificates: Vec<Certificate>,
    pub inputs: Vec<InputView>,
}

/// An input as buyers read it: name, day used and whether the harvest waited long enough.
#[derive(Clone, Debug)]
pub struct InputView {
    pub input: farm_input::Model,
    pub allowed_from: NaiveDate,
    pub respected: bool,
}

/// The inputs bearing on a batch, each with whether its interval was respected.
pub async fn input_views(
    conn: &impl ConnectionTrait,
    batch: &Batch,
) -> Result<Vec<InputView>, TraceError> {
    Ok(inputs::bearing_on(conn, batch)
        .await?
        .into_iter()
        .map(|input| {
            let allowed_from = inputs::allowed_from(&input);
            InputView {
                respected: allowed_from <= batch.produced_on,
                allowed_from,
                input,
            }
        })
        .collect())
}

/// A certificate for its public page: no sign-in.
pub async fn public(db: &Database, id: i64) -> Result<CertificateView, TraceError> {
    let certificate = certificate::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)?;
    let batch = batch::Entity::find_by_id(certificate.batch_id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)?;
    let ids = input_certificates_of(&certificate);
    let input_certificates = if ids.is_empty() {
        Vec::new()
    } else {
        certificate::Entity::find()
            .filter(certificate::Column::Id.is_in(ids))
            .order_by_asc(certificate::Column::Id)
            .all(db.conn())
            .await?
    };
    let inputs = input_views(db.conn(), &batch).await?;
    Ok(CertificateView {
        certificate,
        batch,
        input_certificates,
        inputs,
    })
}

/// A certificate's attached report: its bytes and kind.
pub async fn report(
    db: &Database,
    blobs: &Blobs,
    id: i64,
) -> Result<(bytes::Bytes, String), TraceError> {
    let found = certificate::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)?;
    let (Some(key), Some(kind)) = (found.report_key, found.report_type) else {
        return Err(TraceError::NotFound);
    };
    let bytes = blobs.get(&key).await.map_err(|e| match e {
        crate::infra::blobs::BlobError::NotFound(_) => TraceError::NotFound,
        e => TraceError::Storage(e),
    })?;
    Ok((bytes, kind))
}

/// The farmer's certificates of one batch, for the batch's page.
pub async fn of_own_batch(
    db: &Database,
    actor: &Actor,
    batch_id: i64,
) -> Result<Vec<Certificate>, TraceError> {
    let found = batch::Entity::find_by_id(batch_id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)?;
    certifier(db.conn(), actor, found.household_id).await?;
    of_batch(db.conn(), batch_id).await
}

/// One village's figures for the officials.
#[derive(Clone, Debug, Default)]
pub struct VillageFigures {
    pub village_code: String,
    pub village_name: String,
    pub township_code: String,
    pub township_name: String,
    /// Batches the rules cover, produced since they came into force.
    pub in_scope: u64,
    pub certified: u64,
    pub uncertified: u64,
    /// Batch ids without a certificate, the first few.
    pub uncertified_batches: Vec<i64>,
    /// Inputs whose interval has not passed today.
    pub inside_interval: u64,
    pub withdrawn: u64,
}

/// Most villages the figures list.
pub const MAX_VILLAGES: usize = 500;

/// The certificate figures of the villages in an official's area (or a part of it), by
/// village, in code order.
pub async fn figures(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    area: Option<AreaCode>,
) -> Result<Vec<VillageFigures>, TraceError> {
    let Some(own) = actor
        .area
        .clone()
        .or_else(|| (actor.role == Role::Admin).then(|| area.clone()).flatten())
    else {
        return Err(TraceError::Forbidden);
    };
    if !crate::service::policy::is_official_role(actor.role) && actor.role != Role::Admin {
        return Err(TraceError::Forbidden);
    }
    let area = match area {
        Some(asked) if actor.governs(&asked) => asked,
        Some(_) => return Err(TraceError::NotFound),
        None => own,
    };
    let prefix = format!("{}%", area.descendant_prefix());
    let scoped: Vec<i64> = product_category::Entity::find()
        .filter(product_category::Column::CertificateClass.is_not_null())
        .all(db.reads())
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let batches = if scoped.is_empty() {
        Vec::new()
    } else {
        batch::Entity::find()
            .filter(batch::Column::VillageCode.like(prefix.clone()))
            .filter(batch::Column::CategoryId.is_in(scoped))
            .filter(batch::Column::ProducedOn.gte(rules_in_force()))
            .order_by_asc(batch::Column::Id)
            .limit(100_000)
            .all(db.reads())
            .await?
    };
    let certificates = certificate::Entity::find()
        .filter(certificate::Column::VillageCode.like(prefix.clone()))
        .limit(200_000)
        .all(db.reads())
        .await?;
    let today = clock.today();
    let open_inputs = farm_input::Entity::find()
        .filter(farm_input::Column::VillageCode.like(prefix.clone()))
        .filter(farm_input::Column::IntervalDays.gt(0))
        .filter(farm_input::Column::AppliedOn.gte(today - chrono::Duration::days(400)))
        .limit(200_000)
        .all(db.reads())
        .await?;
    let mut by_village: std::collections::BTreeMap<String, VillageFigures> = Default::default();
    let entry = |map: &mut std::collections::BTreeMap<String, VillageFigures>, code: &str| {
        map.entry(code.to_owned())
            .or_insert_with(|| VillageFigures {
                village_code: code.to_owned(),
                ..Default::default()
            })
            .village_code
            .clone()
    };
    let live: std::collections::HashSet<i64> = certificates
        .iter()
        .filter(|c| c.withdrawn_at.is_none())
        .map(|c| c.batch_id)
        .collect();
    for b in &batches {
        let key = entry(&mut by_village, &b.village_code);
        let f = by_village.get_mut(&key).expect("just added");
        f.in_scope += 1;
        if live.contains(&b.id) {
            f.certified += 1;
        } else {
            f.uncertified += 1;
            if f.uncertified_batches.len() < 10 {
                f.uncertified_batches.push(b.id);
            }
        }
    }
    for c in certificates.iter().filter(|c| c.withdrawn_at.is_some()) {
        let key = entry(&mut by_village, &c.village_code);
        by_village.get_mut(&key).expect("just added").withdrawn += 1;
    }
    for i in open_inputs
        .iter()
        .filter(|i| i.applied_on <= today && inputs::allowed_from(i) > today)
    {
        let key = entry(&mut by_village, &i.village_code);
        by_village
            .get_mut(&key)
            .expect("just added")
            .inside_interval += 1;
    }
    let mut codes: Vec<String> = by_village.keys().cloned().collect();
    codes.truncate(MAX_VILLAGES);
    let townships: Vec<String> = codes
        .iter()
        .filter_map(|c| AreaCode::parse(c).ok())
        .filter(|c| c.level() == AreaLevel::Village)
        .filter_map(|c| c.parent())
        .map(|t| t.as_str().to_owned())
        .collect();
    let mut all_codes = codes.clone();
    all_codes.extend(townships);
    let names = areas::names_of(db.conn(), all_codes).await?;
    Ok(codes
        .into_iter()
        .filter_map(|code| by_village.remove(&code))
        .map(|mut f| {
            let township = AreaCode::parse(&f.village_code)
                .ok()
                .and_then(|c| c.parent())
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default();
            f.village_name = names.get(&f.village_code).cloned().unwrap_or_default();
            f.township_name = names.get(&township).cloned().unwrap_or_default();
            f.township_code = township;
            f
        })
        .collect())
}

/// Figures added up by township.
pub fn by_township(villages: &[VillageFigures]) -> Vec<VillageFigures> {
    let mut out: Vec<VillageFigures> = Vec::new();
    for v in villages {
        let i = match out.iter().position(|t| t.village_code == v.township_code) {
            Some(i) => i,
            None => {
                out.push(VillageFigures {
                    village_code: v.township_code.clone(),
                    village_name: v.township_name.clone(),
                    township_code: v.township_code.clone(),
                    township_name: v.township_name.clone(),
                    ..Default::default()
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        t.in_scope += v.in_scope;
        t.certified += v.certified;
        t.uncertified += v.uncertified;
        t.inside_interval += v.inside_interval;
        t.withdrawn += v.withdrawn;
    }
    out
}

/// The certificate's public page, which its QR code opens.
pub fn page_url(public_base_url: &str, id: i64) -> String {
    format!(
        "{}/m/certificates/{id}",
        public_base_url.trim_end_matches('/')
    )
}

/// What a certificate's printed label says.
pub fn label_of(
    c: &Certificate,
    public_base_url: &str,
) -> crate::infra::certificate_label::CertificateLabel {
    let (unit_zh, _) = reasons::unit_names(c.unit);
    crate::infra::certificate_label::CertificateLabel {
        url: page_url(public_base_url, c.id),
        fields: [
            ("产品", c.product_name.clone()),
            ("数量", format!("{} {unit_zh}", c.quantity)),
            ("产地", c.origin.clone()),
            ("日期", c.issued_on.to_string()),
            ("承诺人", c.issuer_name.clone()),
            ("电话", c.issuer_phone.clone()),
            ("依据", c.basis.name_zh().to_owned()),
            ("编号", c.id.to_string()),
        ]
        .map(|(name, value)| (name.to_owned(), value))
        .to_vec(),
        promise: format!("我承诺：{}", c.promise),
        withdrawn: c.withdrawn_at.is_some(),
    }
}
