//! Trace events: what happened to a batch, when, where and why, recorded by its farmer and never
//! changed (a correction is a new event); exported as a GS1 EPCIS 2.0 JSON-LD document.

use chrono::{DateTime, SecondsFormat, Utc};
use entities::{
    batch,
    listing::Unit,
    trace_event::{self, EventKind, InspectionResult, Model as TraceEvent},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Map, Value, json};

use super::{TraceError, production};
use crate::domain::county_time::Clock;
use crate::service::reasons::{self, Reason};
use std::sync::Arc;

use crate::{
    domain::AreaCode,
    infra::{cache::Cache, db::Database},
    service::{
        idempotency::{self, Claim, Kept},
        policy::Actor,
    },
};

/// Details one event may carry, serialised.
const MAX_DETAILS_BYTES: usize = 2_000;

/// An event to record.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub place_area: Option<AreaCode>,
    pub place_text: Option<String>,
    /// Inspections only.
    pub result: Option<InspectionResult>,
    /// Processing only: the household's batches it consumed (sweet potatoes into vermicelli).
    pub input_batch_ids: Vec<i64>,
    /// Small structured details: a JSON object of at most 2,000 bytes.
    pub details: Map<String, Value>,
}

/// Records an event on the farmer's own batch.
pub async fn record(
    db: &Database,
    cache: &Arc<dyn Cache>,
    clock: &dyn Clock,
    actor: &Actor,
    batch_id: i64,
    new: NewEvent,
) -> Result<TraceEvent, TraceError> {
    record_keyed(db, cache, clock, actor, batch_id, new, None).await
}

/// [`record`], once for a client's key.
pub async fn record_keyed(
    db: &Database,
    cache: &Arc<dyn Cache>,
    clock: &dyn Clock,
    actor: &Actor,
    batch_id: i64,
    new: NewEvent,
    key: Option<&str>,
) -> Result<TraceEvent, TraceError> {
    let request = json!([
        batch_id,
        format!("{:?}", new.kind),
        new.occurred_at.timestamp_micros(),
        new.place_area.as_ref().map(AreaCode::as_str),
        new.place_text.as_deref().map(str::trim),
        new.result.map(|r| format!("{r:?}")),
        new.input_batch_ids,
        new.details,
    ]);
    let claim = Claim::new(actor, key, "event", request)?;
    if let Some(earlier) = idempotency::earlier(db.conn(), claim.as_ref()).await? {
        return event_made(db, idempotency::id_of(&earlier)?).await;
    }
    let invalid = |reason: Reason| Err(TraceError::Invalid(reason));
    if new.occurred_at > clock.now() + chrono::Duration::minutes(5) {
        return invalid(reasons::event_in_future());
    }
    if (new.kind == EventKind::Inspected) != new.result.is_some() {
        return invalid(reasons::inspection_result());
    }
    if new.kind != EventKind::Processed && !new.input_batch_ids.is_empty() {
        return invalid(reasons::only_processing_consumes());
    }
    let place_text = new
        .place_text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if place_text.as_ref().is_some_and(|t| t.chars().count() > 100) {
        return invalid(reasons::place_length(100));
    }
    let details = Value::Object(new.details).to_string();
    if details.len() > MAX_DETAILS_BYTES {
        return invalid(reasons::details_too_long(MAX_DETAILS_BYTES));
    }
    let txn = db.begin_write().await?;
    let batch = production::own_batch(&txn, actor, batch_id).await?;
    for input in &new.input_batch_ids {
        batch::Entity::find_by_id(*input)
            .one(&txn)
            .await?
            .filter(|b| b.household_id == batch.household_id && b.id != batch.id)
            .ok_or_else(|| TraceError::Invalid(reasons::input_batch_not_own(*input)))?;
    }
    let event = trace_event::ActiveModel {
        batch_id: Set(batch.id),
        kind: Set(new.kind),
        occurred_at: Set(new.occurred_at),
        place_area_code: Set(new.place_area.map(|a| a.as_str().to_owned())),
        place_text: Set(place_text),
        result: Set(new.result),
        input_batch_ids: Set(json!(new.input_batch_ids).to_string()),
        details: Set(details),
        recorded_by: Set(actor.user_id),
        recorded_at: Set(clock.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let version = super::codes::records_changing(&txn, batch.id).await?;
    match idempotency::keep(&txn, claim.as_ref(), &event.id.to_string()).await {
        Ok(()) => {}
        Err(Kept::Raced) => {
            drop(txn);
            let winner = idempotency::winner(db.conn(), claim.as_ref()).await?;
            return event_made(db, idempotency::id_of(&winner)?).await;
        }
        Err(Kept::Failed(e)) => return Err(e.into()),
    }
    txn.commit().await?;
    super::codes::records_changed(cache, batch.id, version).await;
    Ok(event)
}

/// An event a key's earlier request recorded.
async fn event_made(db: &Database, id: i64) -> Result<TraceEvent, TraceError> {
    trace_event::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(TraceError::NotFound)
}

/// A batch's events in the order they happened.
pub async fn of_batch(
    conn: &impl sea_orm::ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<TraceEvent>, TraceError> {
    Ok(trace_event::Entity::find()
        .filter(trace_event::Column::BatchId.eq(batch_id))
        .order_by_asc(trace_event::Column::OccurredAt)
        .order_by_asc(trace_event::Column::Id)
        .all(conn)
        .await?)
}

/// The batches a processing event consumed.
pub fn inputs_of(event: &TraceEvent) -> Vec<i64> {
    serde_json::from_str(&event.input_batch_ids).unwrap_or_default()
}

/// The event's details as stored.
pub fn details_of(event: &TraceEvent) -> Map<String, Value> {
    serde_json::from_str(&event.details).unwrap_or_default()
}

/// A batch's events for its farmer and the officials of its village.
pub async fn list(
    db: &Database,
    actor: &Actor,
    batch_id: i64,
) -> Result<Vec<TraceEvent>, TraceError> {
    production::get_batch(db, actor, batch_id).await?;
    of_batch(db.conn(), batch_id).await
}

/// A quantity in UNECE Recommendation 20 units: 1 jin (斤) is 0.5 kg (KGM); a piece is H87; a
/// box is BX.
pub fn rec20(quantity: i64, unit: Unit) -> (f64, &'static str) {
    match unit {
        Unit::Jin => (quantity as f64 * 0.5, "KGM"),
        Unit::Kg => (quantity as f64, "KGM"),
        Unit::Piece => (quantity as f64, "H87"),
        Unit::Box => (quantity as f64, "BX"),
    }
}

/// The batch's events as an EPCIS 2.0 document: harvesting commissions the batch (ObjectEvent,
/// ADD), processing turns input batches into it (TransformationEvent), the rest observe it
/// (ObjectEvent, OBSERVE) with the CBV business step and disposition that fit.
pub async fn epcis(
    db: &Database,
    actor: &Actor,
    public_base_url: &str,
    batch_id: i64,
) -> Result<Value, TraceError> {
    let batch = production::get_batch(db, actor, batch_id).await?;
    let events = of_batch(db.conn(), batch.id).await?;
    let base = public_base_url.trim_end_matches('/');
    let class_of = |id: i64| format!("{base}/api/v1/batches/{id}");
    let quantity_of = |b: &batch::Model| {
        let (quantity, uom) = rec20(b.quantity, b.unit);
        json!({ "epcClass": class_of(b.id), "quantity": quantity, "uom": uom })
    };
    // The batch's compliance certificate in force (承诺达标合格证), and for a mixed batch the
    // certificates of its inputs it names: each event of the batch carries their pages.
    let certification: Vec<String> =
        match super::certificates::live_of_batch(db.conn(), batch.id).await? {
            Some(c) => std::iter::once(c.id)
                .chain(super::certificates::input_certificates_of(&c))
                .map(|id| super::certificates::page_url(base, id))
                .collect(),
            None => Vec::new(),
        };
    let mut list = Vec::with_capacity(events.len());
    for event in &events {
        let mut e = Map::new();
        e.insert(
            "eventID".into(),
            json!(format!("{base}/api/v1/trace-events/{}", event.id)),
        );
        e.insert(
            "eventTime".into(),
            json!(
                event
                    .occurred_at
                    .to_rfc3339_opts(SecondsFormat::Millis, true)
            ),
        );
        e.insert("eventTimeZoneOffset".into(), json!("+08:00"));
        let (bizstep, disposition) = match (event.kind, event.result) {
            (EventKind::Harvested, _) => ("commissioning", "active"),
            (EventKind::Processed, _) => ("commissioning", "active"),
            (EventKind::Packed, _) => ("packing", "active"),
            (EventKind::Inspected, Some(InspectionResult::Fail)) => {
                ("inspecting", "non_conformant")
            }
            (EventKind::Inspected, _) => ("inspecting", "conformant"),
            (EventKind::Stored, _) => ("storing", "sellable_accessible"),
            (EventKind::Shipped, _) => ("shipping", "in_transit"),
            (EventKind::Received, _) => ("receiving", "in_progress"),
            (EventKind::Sold, _) => ("retail_selling", "retail_sold"),
        };
        if event.kind == EventKind::Processed {
            e.insert("type".into(), json!("TransformationEvent"));
            let mut inputs = Vec::new();
            for input in inputs_of(event) {
                if let Some(source) = batch::Entity::find_by_id(input).one(db.conn()).await? {
                    inputs.push(quantity_of(&source));
                }
            }
            e.insert("inputQuantityList".into(), json!(inputs));
            e.insert("outputQuantityList".into(), json!([quantity_of(&batch)]));
            e.insert(
                "transformationID".into(),
                json!(format!("{base}/api/v1/trace-events/{}", event.id)),
            );
        } else {
            e.insert("type".into(), json!("ObjectEvent"));
            let action = if event.kind == EventKind::Harvested {
                "ADD"
            } else {
                "OBSERVE"
            };
            e.insert("action".into(), json!(action));
            e.insert("quantityList".into(), json!([quantity_of(&batch)]));
        }
        e.insert("bizStep".into(), json!(bizstep));
        e.insert("disposition".into(), json!(disposition));
        if let Some(area) = &event.place_area_code {
            let place = json!({ "id": format!("{base}/api/v1/areas/{area}") });
            e.insert("readPoint".into(), place.clone());
            e.insert("bizLocation".into(), place);
        }
        if let Some(text) = &event.place_text {
            e.insert("shanhuo:place".into(), json!(text));
        }
        match certification.as_slice() {
            [] => {}
            [one] => {
                e.insert("certificationInfo".into(), json!(one));
            }
            many => {
                e.insert("certificationInfo".into(), json!(many));
            }
        }
        let details = details_of(event);
        if !details.is_empty() {
            e.insert("shanhuo:details".into(), Value::Object(details));
        }
        list.push(Value::Object(e));
    }
    Ok(json!({
        "@context": [
            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            { "shanhuo": format!("{base}/ns/epcis/") }
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "epcisBody": { "eventList": list },
    }))
}
