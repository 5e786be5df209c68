//! The demo county's marketplace: farmers of registered households selling the county's goods,
//! each listing with a photo drawn here (no downloads), and a year of orders from buyers across
//! the country up to today. Completed orders are credited to the households' e-commerce income,
//! as real completions are, so the statistics and the registry agree.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use entities::{
    area, household,
    listing::{self, ListingStatus},
    listing_photo,
    order::{self, IncomeConfirmation, OrderStatus},
    product_category, user,
};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, codecs::jpeg::JpegEncoder};
use rand::{
    Rng, SeedableRng,
    seq::{IndexedRandom, SliceRandom},
};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::{MarketError, photos::Photos};
use crate::{
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        households::incomes,
        policy::Actor,
    },
};

/// Households that sell in the demo.
pub const DEMO_SELLERS: usize = 48;
pub const DEMO_BUYERS: usize = 200;
pub const DEMO_ORDERS: usize = 2_400;
const SELLER_PHONES: u64 = 19_900_010_000;
const BUYER_PHONES: u64 = 19_900_020_000;
const CHUNK: usize = 300;

/// Where the county's parcels go, with a weight: Chongqing and Chengdu nearby, then the big
/// coastal cities.
const DESTINATIONS: &[(&str, &str, u32)] = &[
    ("500000", "500100", 25),
    ("510000", "510100", 15),
    ("310000", "310100", 10),
    ("440000", "440300", 9),
    ("110000", "110100", 8),
    ("440000", "440100", 8),
    ("330000", "330100", 6),
    ("420000", "420100", 5),
    ("610000", "610100", 4),
    ("320000", "320100", 4),
    ("430000", "430100", 3),
    ("520000", "520100", 3),
];

const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "长江路",
    "和平街",
    "新华路",
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoMarket {
    pub listings: usize,
    pub orders: usize,
    pub completed: usize,
}

/// Seeds the demo marketplace once: nothing happens when listings exist or no households do.
pub async fn seed_demo_market(db: &Database, photos: &Photos) -> Result<DemoMarket, MarketError> {
    if listing::Entity::find().count(db.conn()).await? > 0 {
        return Ok(DemoMarket::default());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(2020);
    let mut households = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .limit(5_000)
        .all(db.conn())
        .await?;
    if households.is_empty() {
        return Ok(DemoMarket::default());
    }
    households.shuffle(&mut rng);
    households.truncate(DEMO_SELLERS);
    let categories = product_category::Entity::find()
        .filter(product_category::Column::Active.eq(true))
        .order_by_asc(product_category::Column::Id)
        .all(db.conn())
        .await?;
    if categories.is_empty() {
        return Ok(DemoMarket::default());
    }

    let village_names: BTreeMap<String, String> = area::Entity::find()
        .filter(area::Column::Code.is_in(households.iter().map(|h| h.village_code.clone())))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();

    let now = Utc::now();
    let txn = db.begin_write().await?;
    let mut sellers = Vec::new();
    for (n, household) in households.iter().enumerate() {
        let seller = user::ActiveModel {
            phone: Set(Some((SELLER_PHONES + n as u64).to_string())),
            display_name: Set(format!("示范农户 {}（示范数据）", n + 1)),
            role: Set(user::Role::Farmer),
            household_id: Set(Some(household.id)),
            token_version: Set(0),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let id = user::Entity::insert(seller)
            .exec(&txn)
            .await?
            .last_insert_id;
        sellers.push((id, household.clone()));
    }
    let buyers: Vec<user::ActiveModel> = (0..DEMO_BUYERS)
        .map(|n| user::ActiveModel {
            phone: Set(Some((BUYER_PHONES + n as u64).to_string())),
            display_name: Set(format!("示范买家 {}", n + 1)),
            role: Set(user::Role::Buyer),
            token_version: Set(0),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    user::Entity::insert_many(buyers).exec(&txn).await?;
    let buyer_ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq(user::Role::Buyer))
        .filter(user::Column::Phone.starts_with("199000"))
        .into_tuple()
        .all(&txn)
        .await?;

    // Listings: one or two of each seller's goods.
    let mut listings = Vec::new();
    for (seller_id, household) in &sellers {
        let kinds = rng.random_range(1..=2);
        let picked: Vec<_> = categories
            .choose_multiple(&mut rng, kinds)
            .cloned()
            .collect();
        for category in &picked {
            let guide = category.reference_price_fen.unwrap_or(2_000);
            let price = (guide as f64 * rng.random_range(0.8..1.3)).round() as i64;
            let row = listing::ActiveModel {
                seller_user_id: Set(*seller_id),
                household_id: Set(household.id),
                village_code: Set(household.village_code.clone()),
                category_id: Set(category.id),
                title: Set(format!(
                    "{}（示范数据）",
                    title_of(&category.name_zh, &mut rng)
                )),
                description: Set(format!(
                    "来自{}的{}，农户自产自销。",
                    village_names
                        .get(&household.village_code)
                        .map_or("山里", String::as_str),
                    category.name_zh
                )),
                price_fen: Set(price.max(1)),
                unit: Set(category.default_unit),
                stock: Set(0),
                min_order: Set(1),
                status: Set(ListingStatus::OnSale),
                created_at: Set(now - Duration::days(370)),
                updated_at: Set(now),
                ..Default::default()
            };
            let id = listing::Entity::insert(row)
                .exec(&txn)
                .await?
                .last_insert_id;
            listings.push((
                id,
                *seller_id,
                household.clone(),
                category.clone(),
                price.max(1),
            ));
        }
    }
    txn.commit().await?;

    // A photo for each listing, through the same checks and sizes as an upload.
    for (n, (listing_id, seller_id, household, category, _)) in listings.iter().enumerate() {
        let drawn = draw(&category.code, n as u32);
        let seller = Actor {
            user_id: *seller_id,
            role: user::Role::Farmer,
            area: None,
            household_id: Some(household.id),
        };
        let stored = photos
            .store(
                db,
                &seller,
                drawn,
                crate::infra::imaging::Declared {
                    by_type: crate::infra::imaging::Claim::Format(ImageFormat::Jpeg),
                    by_name: crate::infra::imaging::Claim::Silent,
                },
            )
            .await?;
        listing_photo::Entity::insert(listing_photo::ActiveModel {
            listing_id: Set(*listing_id),
            photo_id: Set(stored.id),
            position: Set(0),
            created_at: Set(now),
        })
        .exec(db.conn())
        .await?;
    }

    // A year of orders, oldest first; what was ordered more than two weeks ago has completed.
    let total_weight: u32 = DESTINATIONS.iter().map(|d| d.2).sum();
    let mut rows = Vec::with_capacity(DEMO_ORDERS);
    let mut income: BTreeMap<(i64, i32, String), i64> = BTreeMap::new();
    let mut sold: BTreeMap<i64, i64> = BTreeMap::new();
    let mut completed = 0;
    for _ in 0..DEMO_ORDERS {
        let (listing_id, seller_id, household, category, price) =
            &listings[rng.random_range(0..listings.len())];
        let mut pick = rng.random_range(0..total_weight);
        let &(province, city, _) = DESTINATIONS
            .iter()
            .find(|d| {
                if pick < d.2 {
                    true
                } else {
                    pick -= d.2;
                    false
                }
            })
            .expect("a weighted pick");
        let placed_at = now - Duration::minutes(rng.random_range(0..365 * 24 * 60));
        let age = (now - placed_at).num_days();
        let quantity = rng.random_range(1..=6);
        let amount = price * quantity;
        let status = match age {
            15.. if rng.random_bool(0.05) => OrderStatus::Cancelled,
            15.. => OrderStatus::Completed,
            10..15 => OrderStatus::Delivered,
            5..10 => OrderStatus::Shipped,
            2..5 => OrderStatus::Paid,
            _ => OrderStatus::Placed,
        };
        let at = |days: i64| Some(placed_at + Duration::days(days));
        let reached = |s: OrderStatus| {
            use OrderStatus::*;
            let rank = |s| match s {
                Placed => 0,
                Paid => 1,
                Shipped => 2,
                Delivered => 3,
                Completed => 4,
                Cancelled => -1,
            };
            rank(status) >= rank(s)
        };
        let completed_at = reached(OrderStatus::Completed).then(|| at(14)).flatten();
        let buyer_id = buyer_ids[rng.random_range(0..buyer_ids.len())];
        let income_year = completed_at.map(crate::domain::county_time::year_of);
        if let Some(year) = income_year {
            completed += 1;
            *income
                .entry((household.id, year, household.village_code.clone()))
                .or_default() += amount;
        }
        if status != OrderStatus::Cancelled {
            *sold.entry(*listing_id).or_default() += quantity;
        }
        rows.push(order::ActiveModel {
            listing_id: Set(*listing_id),
            household_id: Set(household.id),
            village_code: Set(household.village_code.clone()),
            category_id: Set(category.id),
            seller_user_id: Set(*seller_id),
            buyer_user_id: Set(buyer_id),
            quantity: Set(quantity),
            unit: Set(category.default_unit),
            unit_price_fen: Set(*price),
            amount_fen: Set(amount),
            province_code: Set(province.into()),
            city_code: Set(city.into()),
            address: Set(format!(
                "{}{}号（示范数据）",
                STREETS[rng.random_range(0..STREETS.len())],
                rng.random_range(1..300)
            )),
            recipient_name: Set("示范收货人".into()),
            recipient_phone: Set("19900029999".into()),
            paid_by_user_id: Set(reached(OrderStatus::Paid).then_some(*seller_id)),
            shipped_by_user_id: Set(reached(OrderStatus::Shipped).then_some(*seller_id)),
            completed_by_user_id: Set(completed_at.map(|_| buyer_id)),
            income_confirmation: Set(completed_at.map(|_| IncomeConfirmation::Buyer)),
            confirmed_by_user_id: Set(None),
            confirmed_at: Set(None),
            status: Set(status),
            placed_at: Set(placed_at),
            paid_at: Set(reached(OrderStatus::Paid).then(|| at(1)).flatten()),
            shipped_at: Set(reached(OrderStatus::Shipped).then(|| at(3)).flatten()),
            delivered_at: Set(reached(OrderStatus::Delivered).then(|| at(7)).flatten()),
            completed_at: Set(completed_at),
            cancelled_at: Set((status == OrderStatus::Cancelled).then(|| at(1)).flatten()),
            cancel_reason: Set((status == OrderStatus::Cancelled).then(|| "买家取消".into())),
            income_year: Set(income_year),
            updated_at: Set(placed_at),
            // Parcels of the demo go by Yunda, numbered in order (13 digits).
            carrier: Set(reached(OrderStatus::Shipped).then(|| "yunda".into())),
            waybill_number: Set(
                reached(OrderStatus::Shipped).then(|| format!("31{:011}", 10_000_000 + rows.len()))
            ),
            ..Default::default()
        });
    }

    let txn = db.begin_write().await?;
    let written = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        order::Entity::insert_many(chunk).exec(&txn).await?;
    }
    // Each listing keeps stock beyond what it sold.
    for (listing_id, quantity) in &sold {
        listing::Entity::update_many()
            .col_expr(listing::Column::Stock, (quantity * 2 + 50).into())
            .filter(listing::Column::Id.eq(*listing_id))
            .exec(&txn)
            .await?;
    }
    listing::Entity::update_many()
        .col_expr(listing::Column::Stock, 100.into())
        .filter(listing::Column::Stock.eq(0))
        .exec(&txn)
        .await?;
    let mut entries = Vec::with_capacity(income.len());
    for ((household_id, year, village), amount) in &income {
        incomes::add_ecommerce(&txn, *household_id, *year, *amount).await?;
        entries.push(NewAuditEntry {
            actor_user_id: None,
            actor_ip: None,
            action: "household.ecommerce_income_added",
            entity: "household",
            entity_id: household_id.to_string(),
            area_code: Some(village.clone()),
            before: None,
            after: Some(json!({ "year": year, "amount_fen": amount, "demo": true })),
        });
    }
    audit::append_many(&txn, entries).await?;
    txn.commit().await?;
    Ok(DemoMarket {
        listings: listings.len(),
        orders: written,
        completed,
    })
}

fn title_of(name: &str, rng: &mut impl Rng) -> String {
    const STYLES: &[&str] = &["农家", "高山", "手工", "山里", "自家"];
    const PACKS: &[&str] = &["", " 精选装", " 家庭装", " 礼盒装"];
    format!(
        "{}{}{}",
        STYLES[rng.random_range(0..STYLES.len())],
        name,
        PACKS[rng.random_range(0..PACKS.len())]
    )
}

/// A simple picture of the goods: the category's colours, its shape, and a shade of its own
/// (`n`) so no two listings share a photo.
pub fn draw(category_code: &str, n: u32) -> Vec<u8> {
    let (background, goods): ([u8; 3], [u8; 3]) = match category_code {
        "sweet_potato_vermicelli" => ([214, 196, 160], [120, 72, 50]),
        "potato_chips" => ([250, 226, 140], [214, 150, 40]),
        "free_range_eggs" => ([150, 190, 110], [240, 226, 200]),
        "chrysanthemum" => ([70, 130, 70], [250, 210, 40]),
        "black_fungus" => ([190, 170, 140], [40, 30, 30]),
        "red_tangerine" => ([60, 120, 60], [235, 100, 30]),
        _ => ([200, 200, 190], [150, 90, 60]),
    };
    let (width, height) = (960u32, 720u32);
    let shade = (n * 37 % 60) as i32 - 30;
    let image = ImageBuffer::from_fn(width, height, |x, y| {
        let (cx, cy) = (x as i32 - 480, y as i32 - 380);
        let inside = match category_code {
            // Eggs and fruit: rounds in a row.
            "free_range_eggs" | "red_tangerine" | "chrysanthemum" => (0..3).any(|i| {
                let dx = cx - (i - 1) * 240;
                dx * dx + cy * cy * 5 / 4 < 100 * 100
            }),
            // Vermicelli: bundled strands.
            "sweet_potato_vermicelli" => cx.abs() < 300 && cy.abs() < 140 && (x / 6) % 2 == 0,
            // Everything else: a packed box.
            _ => cx.abs() < 260 && cy.abs() < 180,
        };
        let base = if inside { goods } else { background };
        let light = shade + (y as i32 * 40 / height as i32) - 20;
        Rgb(base.map(|c| (c as i32 + light).clamp(0, 255) as u8))
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .expect("encoding to memory");
    out
}
