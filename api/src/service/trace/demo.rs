//! The demo marketplace's goods made traceable: for each demo listing, its household's plot, a
//! batch that the listing sells, the batch's journey (harvested, inspected, packed, shipped)
//! and a run of item codes, all recorded through the same services a farmer uses.

use std::sync::Arc;

use chrono::{Duration, Utc};
use entities::{
    batch,
    certificate::Basis,
    farm_input::InputKind,
    listing,
    trace_event::{EventKind, InspectionResult},
    user::Role,
};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{Map, json};

use super::{
    TraceError,
    certificates::{self, NewCertificate},
    codes,
    events::{self, NewEvent},
    inputs::{self, NewInput},
    production::{self, NewBatch, NewPlot},
};
use crate::{
    domain::{AreaCode, county_time::SystemClock},
    infra::{blobs::Blobs, cache::Cache, db::Database},
    service::policy::Actor,
};

/// Item codes issued for each demo batch.
pub const DEMO_CODES_PER_BATCH: u32 = 20;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoTrace {
    pub batches: usize,
    pub events: usize,
    pub codes: usize,
    pub inputs: usize,
    pub certificates: usize,
}

/// Seeds the demo traceability once: nothing happens when batches exist or no listings do.
pub async fn seed_demo_trace(
    db: &Database,
    cache: &Arc<dyn Cache>,
    blobs: &Blobs,
) -> Result<DemoTrace, TraceError> {
    if batch::Entity::find().count(db.conn()).await? > 0 {
        return Ok(DemoTrace::default());
    }
    let listings = listing::Entity::find()
        .order_by_asc(listing::Column::Id)
        .all(db.conn())
        .await?;
    let mut seeded = DemoTrace::default();
    let today = Utc::now();
    let scoped = certificates::scoped_categories(db.conn()).await?;
    let first_seller = listings.first().map(|l| l.seller_user_id);
    let mut in_scope = 0usize;
    let mut withdrawn = false;
    for (n, listing) in listings.iter().enumerate() {
        let farmer = Actor {
            user_id: listing.seller_user_id,
            role: Role::Farmer,
            area: None,
            household_id: Some(listing.household_id),
        };
        let plot = production::create_plot(
            db,
            &farmer,
            NewPlot {
                name: format!("{}号地（示范数据）", n % 9 + 1),
                village: None,
                area_mu: 0.5 + (n % 7) as f64 * 0.25,
                crop: crop_for(&listing.title).into(),
                crop_ids: vec![listing.category_id],
                location: None,
            },
        )
        .await?;
        let harvested = today - Duration::days(20 + (n % 30) as i64);
        let batch = production::create_batch(
            db,
            &SystemClock,
            &farmer,
            NewBatch {
                category_id: listing.category_id,
                plot_id: Some(plot.id),
                quantity: 100 + (n as i64 % 5) * 50,
                unit: Some(listing.unit),
                produced_on: crate::domain::county_time::date_of(harvested),
                note: "示范数据".into(),
                listing_ids: vec![listing.id],
            },
        )
        .await?;
        let village = AreaCode::parse(&batch.village_code).ok();
        let township = village.as_ref().and_then(AreaCode::parent);
        let steps = [
            (EventKind::Harvested, 0, village.clone(), None, None),
            (
                EventKind::Inspected,
                1,
                None,
                Some("县农产品质量检测站"),
                Some(InspectionResult::Pass),
            ),
            (EventKind::Packed, 2, village.clone(), None, None),
            (EventKind::Shipped, 3, township, None, None),
        ];
        for (kind, day, place_area, place_text, result) in steps {
            let mut details = Map::new();
            if kind == EventKind::Inspected {
                details.insert("report".into(), json!(format!("NJ-DEMO-{:04}", n + 1)));
            }
            events::record(
                db,
                cache,
                &SystemClock,
                &farmer,
                batch.id,
                NewEvent {
                    kind,
                    occurred_at: harvested + Duration::days(day),
                    place_area,
                    place_text: place_text.map(str::to_owned),
                    result,
                    input_batch_ids: Vec::new(),
                    details,
                },
            )
            .await?;
            seeded.events += 1;
        }
        codes::issue(db, cache, &farmer, batch.id, DEMO_CODES_PER_BATCH).await?;
        if scoped.contains(&listing.category_id) {
            let k = in_scope;
            in_scope += 1;
            let harvest_day = batch.produced_on;
            let eggs = listing.title.contains("蛋");
            let (kind, name, number, interval) = if eggs {
                (
                    InputKind::VetDrug,
                    "恩诺沙星可溶性粉",
                    "兽药字(2019)150012345",
                    8,
                )
            } else {
                (InputKind::Pesticide, "吡虫啉可湿性粉剂", "PD20080001", 14)
            };
            let mut uses = vec![(harvest_day - Duration::days(30), interval)];
            if k % 6 == 2 {
                // Sprayed a few days before the harvest: no certificate for this batch.
                uses.push((harvest_day - Duration::days(3), 10));
            }
            if k % 6 == 3 {
                // Sprayed two days ago for the next harvest: inside its interval today.
                uses.push((
                    crate::domain::county_time::date_of(today) - Duration::days(2),
                    interval,
                ));
            }
            for (applied_on, interval_days) in uses {
                inputs::record_keyed(
                    db,
                    &SystemClock,
                    &farmer,
                    NewInput {
                        kind,
                        plot_id: Some(plot.id),
                        flock: None,
                        product_name: name.into(),
                        registration_no: Some(number.into()),
                        active_ingredient: None,
                        dose: if eggs {
                            "每升水 0.5 克"
                        } else {
                            "每亩 30 克兑水 15 公斤"
                        }
                        .into(),
                        method: if eggs { "饮水" } else { "喷雾" }.into(),
                        applied_on,
                        interval_days: Some(interval_days),
                    },
                    None,
                )
                .await?;
                seeded.inputs += 1;
            }
            if k % 6 != 2 && k % 6 != 4 {
                let issued = certificates::issue_keyed(
                    db,
                    blobs,
                    cache,
                    &SystemClock,
                    certificates::MIN_KEEP_MONTHS,
                    &farmer,
                    batch.id,
                    NewCertificate {
                        basis: if k.is_multiple_of(2) {
                            Basis::QualityControl
                        } else {
                            Basis::OwnPromise
                        },
                        issuer_name: None,
                        issuer_phone: None,
                        report: None,
                    },
                    None,
                )
                .await?;
                seeded.certificates += 1;
                if !withdrawn && k % 6 == 1 && Some(listing.seller_user_id) != first_seller {
                    certificates::withdraw(
                        db,
                        cache,
                        &SystemClock,
                        &farmer,
                        issued.id,
                        "装箱时混进了别家的货，这一批不按合格证出售",
                    )
                    .await?;
                    withdrawn = true;
                }
            }
        }
        seeded.batches += 1;
        seeded.codes += DEMO_CODES_PER_BATCH as usize;
    }
    Ok(seeded)
}

/// What grows on the plot a listing's goods come from.
fn crop_for(title: &str) -> &'static str {
    [
        ("红苕", "红薯"),
        ("洋芋", "马铃薯"),
        ("鸡蛋", "散养土鸡"),
        ("菊花", "菊花"),
        ("木耳", "黑木耳"),
        ("红橘", "红橘"),
        ("蜂蜜", "蜂场"),
        ("腊肉", "生猪"),
        ("核桃", "核桃"),
        ("魔芋", "魔芋"),
        ("茶", "茶园"),
        ("板栗", "板栗"),
    ]
    .iter()
    .find(|(word, _)| title.contains(word))
    .map_or("杂粮", |(_, crop)| crop)
}
