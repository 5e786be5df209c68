//! Problems buyers report from a scan page: what is wrong, and a phone to call back if they
//! leave one. The officials of the goods' village (and those above it) read them by batch and
//! village, answer and close them; every report and every answer is audited.

use chrono::{DateTime, Utc};
use entities::{
    area, batch, product_category,
    trace_report::{self, ReportStatus},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::TraceError;
use crate::{
    domain::{AreaCode, Phone},
    infra::{db::Database, trace_codes::TraceKeys},
    service::{
        audit::{self, NewAuditEntry},
        idempotency::{self, Claim},
        policy::Actor,
        reasons,
    },
};

/// Most reports one list shows.
pub const REPORTS_LISTED: u64 = 100;
/// Longest report or answer, in characters.
pub const MAX_TEXT: usize = 500;

/// A buyer's report as typed on the scan page.
#[derive(Clone, Debug, Default)]
pub struct NewReport {
    pub what: String,
    pub phone: Option<String>,
}

/// Stores a report on the goods of a genuine code. A code this county never issued has no
/// village to tell: it is refused as not found.
pub async fn submit(
    db: &Database,
    keys: &TraceKeys,
    code: &str,
    report: NewReport,
    origin_ip: Option<String>,
    key: Option<&str>,
) -> Result<trace_report::Model, TraceError> {
    let claim = Claim::anonymous(
        key,
        "trace_report",
        json!([
            code,
            report.what.trim(),
            report.phone.as_deref().map(str::trim)
        ]),
    )?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return report_made(db, idempotency::id_of(&earlier)?).await;
    }
    let code = keys.verify(code).map_err(|_| TraceError::NotFound)?;
    let what = checked_text(&report.what)?;
    let phone = match report.phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(typed) => Some(
            Phone::parse(typed)
                .map_err(|_| TraceError::Invalid(reasons::report_phone()))?
                .as_str()
                .to_owned(),
        ),
    };
    let txn = db.begin_write().await?;
    let found = batch::Entity::find_by_id(i64::from(code.batch_id))
        .one(&txn)
        .await?
        .ok_or(TraceError::NotFound)?;
    let stored = trace_report::ActiveModel {
        batch_id: Set(found.id),
        item: Set(i64::from(code.item)),
        village_code: Set(found.village_code.clone()),
        what: Set(what),
        phone: Set(phone),
        status: Set(ReportStatus::Open),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: None,
            actor_ip: origin_ip,
            action: "trace_report.created",
            entity: "trace_report",
            entity_id: stored.id.to_string(),
            area_code: Some(stored.village_code.clone()),
            before: None,
            after: Some(json!({
                "batch_id": stored.batch_id,
                "item": stored.item,
                "what": stored.what,
                "phone_given": stored.phone.is_some(),
            })),
        },
    )
    .await?;
    let resource = stored.id.to_string();
    if let Some(winner) = idempotency::commit(db, txn, claim.as_ref(), &resource).await? {
        return report_made(db, idempotency::id_of(&winner)?).await;
    }
    Ok(stored)
}

/// The report an earlier request with the same key made.
async fn report_made(db: &Database, id: i64) -> Result<trace_report::Model, TraceError> {
    trace_report::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// Which reports an official asks for.
#[derive(Clone, Debug, Default)]
pub struct ReportFilter {
    /// A village or township inside the official's area; default their whole area.
    pub area: Option<AreaCode>,
    pub batch_id: Option<i64>,
    /// Closed ones too.
    pub closed: bool,
}

/// A report as an official reads it.
#[derive(Clone, Debug)]
pub struct ReportView {
    pub report: trace_report::Model,
    pub village_name: String,
    pub product: String,
    pub reported_at: DateTime<Utc>,
}

/// The reports of the official's area (or a part of it), open ones first, newest first.
pub async fn list(
    db: &Database,
    actor: &Actor,
    filter: ReportFilter,
) -> Result<Vec<ReportView>, TraceError> {
    let own = actor.area.clone().ok_or(TraceError::Forbidden)?;
    let area = match filter.area {
        Some(area) if actor.governs(&area) => area,
        Some(_) => return Err(TraceError::NotFound),
        None if actor.is_official() => own,
        None => return Err(TraceError::Forbidden),
    };
    let mut query = trace_report::Entity::find()
        .filter(trace_report::Column::VillageCode.starts_with(area.descendant_prefix()));
    if let Some(batch_id) = filter.batch_id {
        query = query.filter(trace_report::Column::BatchId.eq(batch_id));
    }
    if !filter.closed {
        query = query.filter(trace_report::Column::Status.eq(ReportStatus::Open));
    }
    let reports = query
        .order_by_asc(trace_report::Column::Status)
        .order_by_desc(trace_report::Column::CreatedAt)
        .order_by_desc(trace_report::Column::Id)
        .limit(REPORTS_LISTED)
        .all(db.conn())
        .await?;
    let villages: Vec<area::Model> = area::Entity::find()
        .filter(area::Column::Code.is_in(reports.iter().map(|r| r.village_code.clone())))
        .all(db.conn())
        .await?;
    let batches: Vec<(i64, i64)> = batch::Entity::find()
        .select_only()
        .column(batch::Column::Id)
        .column(batch::Column::CategoryId)
        .filter(batch::Column::Id.is_in(reports.iter().map(|r| r.batch_id)))
        .into_tuple()
        .all(db.conn())
        .await?;
    let categories = product_category::Entity::find()
        .filter(product_category::Column::Id.is_in(batches.iter().map(|(_, c)| *c)))
        .all(db.conn())
        .await?;
    let products: Vec<(i64, String)> = batches
        .iter()
        .filter_map(|(id, category)| {
            let name = categories
                .iter()
                .find(|c| c.id == *category)?
                .name_zh
                .clone();
            Some((*id, name))
        })
        .collect();
    Ok(reports
        .into_iter()
        .map(|report| ReportView {
            village_name: villages
                .iter()
                .find(|v| v.code == report.village_code)
                .map(|v| v.name.clone())
                .unwrap_or_default(),
            product: products
                .iter()
                .find(|(id, _)| *id == report.batch_id)
                .map(|(_, name)| name.clone())
                .unwrap_or_default(),
            reported_at: report.created_at,
            report,
        })
        .collect())
}

/// Answers a report and closes it: an official of its village or above.
pub async fn close(
    db: &Database,
    actor: &Actor,
    id: i64,
    answer: &str,
    origin_ip: Option<String>,
) -> Result<trace_report::Model, TraceError> {
    let answer = checked_text(answer)?;
    let txn = db.begin_write().await?;
    let found = trace_report::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|r| {
            AreaCode::parse(&r.village_code).is_ok_and(|village| actor.governs(&village))
                && actor.is_official()
        })
        .ok_or(TraceError::NotFound)?;
    if found.status == ReportStatus::Closed {
        return Err(TraceError::Invalid(reasons::report_closed()));
    }
    let mut active: trace_report::ActiveModel = found.into();
    active.status = Set(ReportStatus::Closed);
    active.answer = Set(Some(answer));
    active.closed_by = Set(Some(actor.user_id));
    active.closed_at = Set(Some(Utc::now()));
    let closed = active.update(&txn).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin_ip,
            action: "trace_report.closed",
            entity: "trace_report",
            entity_id: closed.id.to_string(),
            area_code: Some(closed.village_code.clone()),
            before: Some(json!({ "status": "open" })),
            after: Some(json!({ "status": "closed", "answer": closed.answer })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(closed)
}

fn checked_text(text: &str) -> Result<String, TraceError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(TraceError::Invalid(reasons::report_text_length(MAX_TEXT)));
    }
    Ok(text.to_owned())
}
