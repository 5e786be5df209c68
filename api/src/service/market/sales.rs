//! Where the county's goods sell: completed orders by category, village, township, month and
//! destination, the top products, and the totals. Officials see their own area; results are
//! cached until another order completes.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use entities::{
    listing,
    order::{self, OrderStatus},
    product_category,
};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    StreamTrait,
};
use serde::{Deserialize, Serialize};

use super::MarketError;
use crate::{
    domain::{AreaCode, region},
    infra::{cache::Cache, db::Database},
    service::{areas, policy::Actor},
};

const CACHE_TTL: Duration = Duration::from_secs(600);
/// How many products the top list names.
pub const TOP_PRODUCTS: usize = 10;

/// Sales of one group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesLine {
    /// The category id, area code, month (`2026-03`), province or city code, or listing id.
    pub key: String,
    pub name: String,
    pub orders: u64,
    pub amount_fen: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesStats {
    pub area_code: String,
    /// The year counted (by completion, Beijing time); every year when `None`.
    pub year: Option<i32>,
    pub orders: u64,
    pub amount_fen: i64,
    /// Households with at least one completed sale.
    pub households: u64,
    /// Largest amount first, then key.
    pub by_category: Vec<SalesLine>,
    pub by_township: Vec<SalesLine>,
    pub by_village: Vec<SalesLine>,
    /// In month order.
    pub by_month: Vec<SalesLine>,
    pub by_province: Vec<SalesLine>,
    pub by_city: Vec<SalesLine>,
    /// The best-selling listings by amount, at most [`TOP_PRODUCTS`].
    pub top_products: Vec<SalesLine>,
    /// Each product's sales by destination province: by product's amount, then province's.
    #[serde(default)]
    pub by_category_province: Vec<ProductDestinations>,
}

/// Where one product sells: its provinces, largest amount first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDestinations {
    /// The category id.
    pub key: String,
    pub name: String,
    pub orders: u64,
    pub amount_fen: i64,
    pub provinces: Vec<SalesLine>,
}

#[derive(Debug, FromQueryResult)]
struct Sale {
    listing_id: i64,
    household_id: i64,
    village_code: String,
    category_id: i64,
    province_code: String,
    city_code: String,
    amount_fen: i64,
    completed_at: Option<DateTime<Utc>>,
}

/// Sales of an area the actor governs (default: their own; the county for an admin).
pub async fn stats(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    area: Option<AreaCode>,
    year: Option<i32>,
) -> Result<SalesStats, MarketError> {
    let area = areas::asked_or_own(db.conn(), actor.area.as_ref(), area)
        .await?
        .ok_or(MarketError::NotFound)?;
    if !actor.governs(&area) {
        return Err(MarketError::Forbidden);
    }
    // Completed orders never change again, so their count and latest completion say whether
    // anything new was sold.
    let (count, latest) = completed_so_far(db.conn()).await?;
    let latest = latest.map_or(0, |t| t.timestamp_micros());
    let year_key = year.map_or_else(|| "all".to_owned(), |y| y.to_string());
    let key = format!("sales:v2:{area}:{year_key}:{count}:{latest}");
    if let Ok(Some(cached)) = cache.get(&key).await
        && let Ok(stats) = serde_json::from_slice::<SalesStats>(&cached)
    {
        return Ok(stats);
    }
    let computed = compute(db.conn(), &area, year).await?;
    if let Ok(bytes) = serde_json::to_vec(&computed) {
        let _ = cache.set(&key, &bytes, CACHE_TTL).await;
    }
    Ok(computed)
}

async fn completed_so_far(
    conn: &impl ConnectionTrait,
) -> Result<(i64, Option<DateTime<Utc>>), MarketError> {
    #[derive(FromQueryResult)]
    struct Mark {
        count: i64,
        latest: Option<DateTime<Utc>>,
    }
    let mark = order::Entity::find()
        .select_only()
        .column_as(order::Column::Id.count(), "count")
        .column_as(order::Column::CompletedAt.max(), "latest")
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .into_model::<Mark>()
        .one(conn)
        .await?;
    Ok(mark.map_or((0, None), |m| (m.count, m.latest)))
}

/// Counts the completed orders of the area, streaming them once.
pub async fn compute(
    conn: &(impl ConnectionTrait + StreamTrait),
    area: &AreaCode,
    year: Option<i32>,
) -> Result<SalesStats, MarketError> {
    let mut query = order::Entity::find()
        .select_only()
        .columns([
            order::Column::ListingId,
            order::Column::HouseholdId,
            order::Column::VillageCode,
            order::Column::CategoryId,
            order::Column::ProvinceCode,
            order::Column::CityCode,
            order::Column::AmountFen,
            order::Column::CompletedAt,
        ])
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .filter(order::Column::VillageCode.starts_with(area.descendant_prefix()));
    if let Some(year) = year {
        query = query.filter(order::Column::IncomeYear.eq(year));
    }

    let mut tally = Tally::default();
    let mut sales = query.into_model::<Sale>().stream(conn).await?;
    while let Some(sale) = sales.try_next().await? {
        tally.add(sale);
    }
    drop(sales);
    tally.into_stats(conn, area, year).await
}

#[derive(Default)]
struct Tally {
    orders: u64,
    amount_fen: i64,
    households: HashSet<i64>,
    by_category: HashMap<String, (u64, i64)>,
    by_township: HashMap<String, (u64, i64)>,
    by_village: HashMap<String, (u64, i64)>,
    by_month: HashMap<String, (u64, i64)>,
    by_province: HashMap<String, (u64, i64)>,
    by_city: HashMap<String, (u64, i64)>,
    by_listing: HashMap<String, (u64, i64)>,
    by_category_province: HashMap<String, HashMap<String, (u64, i64)>>,
}

fn bump(groups: &mut HashMap<String, (u64, i64)>, key: String, amount: i64) {
    let entry = groups.entry(key).or_default();
    entry.0 += 1;
    entry.1 += amount;
}

impl Tally {
    fn add(&mut self, sale: Sale) {
        let amount = sale.amount_fen;
        self.orders += 1;
        self.amount_fen += amount;
        self.households.insert(sale.household_id);
        let township = format!(
            "{}000",
            &sale.village_code[..9.min(sale.village_code.len())]
        );
        bump(&mut self.by_category, sale.category_id.to_string(), amount);
        bump(&mut self.by_township, township, amount);
        bump(&mut self.by_village, sale.village_code, amount);
        if let Some(at) = sale.completed_at {
            let month = crate::domain::county_time::month(at);
            bump(&mut self.by_month, month, amount);
        }
        bump(
            self.by_category_province
                .entry(sale.category_id.to_string())
                .or_default(),
            sale.province_code.clone(),
            amount,
        );
        bump(&mut self.by_province, sale.province_code, amount);
        bump(&mut self.by_city, sale.city_code, amount);
        bump(&mut self.by_listing, sale.listing_id.to_string(), amount);
    }

    async fn into_stats(
        self,
        conn: &impl ConnectionTrait,
        area: &AreaCode,
        year: Option<i32>,
    ) -> Result<SalesStats, MarketError> {
        let categories: HashMap<String, String> = product_category::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), c.name_zh))
            .collect();
        let area_codes: Vec<String> = self
            .by_township
            .keys()
            .chain(self.by_village.keys())
            .cloned()
            .collect();
        let area_names = areas::names_of(conn, area_codes).await?;
        let mut top = ranked(self.by_listing, |_| String::new());
        top.truncate(TOP_PRODUCTS);
        let titles: HashMap<String, String> = listing::Entity::find()
            .filter(listing::Column::Id.is_in(top.iter().filter_map(|l| l.key.parse::<i64>().ok())))
            .all(conn)
            .await?
            .into_iter()
            .map(|l| (l.id.to_string(), l.title))
            .collect();
        for line in &mut top {
            line.name = titles.get(&line.key).cloned().unwrap_or_default();
        }
        let region_name = |code: &str| region::name_of(code).unwrap_or_default().to_owned();
        let mut by_category_province: Vec<ProductDestinations> = self
            .by_category_province
            .into_iter()
            .map(|(key, provinces)| {
                let provinces = ranked(provinces, |k| region_name(k));
                ProductDestinations {
                    name: categories.get(&key).cloned().unwrap_or_default(),
                    orders: provinces.iter().map(|p| p.orders).sum(),
                    amount_fen: provinces.iter().map(|p| p.amount_fen).sum(),
                    key,
                    provinces,
                }
            })
            .collect();
        by_category_province
            .sort_by(|a, b| b.amount_fen.cmp(&a.amount_fen).then(a.key.cmp(&b.key)));
        let mut by_month = ranked(self.by_month, |m| m.to_owned());
        by_month.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(SalesStats {
            area_code: area.as_str().to_owned(),
            year,
            orders: self.orders,
            amount_fen: self.amount_fen,
            households: self.households.len() as u64,
            by_category: ranked(self.by_category, |k| {
                categories.get(k).cloned().unwrap_or_default()
            }),
            by_township: ranked(self.by_township, |k| {
                area_names.get(k).cloned().unwrap_or_default()
            }),
            by_village: ranked(self.by_village, |k| {
                area_names.get(k).cloned().unwrap_or_default()
            }),
            by_month,
            by_province: ranked(self.by_province, |k| region_name(k)),
            by_city: ranked(self.by_city, |k| region_name(k)),
            top_products: top,
            by_category_province,
        })
    }
}

/// Largest amount first; ties by key, so the order is stable.
fn ranked(groups: HashMap<String, (u64, i64)>, name: impl Fn(&str) -> String) -> Vec<SalesLine> {
    let mut lines: Vec<SalesLine> = groups
        .into_iter()
        .map(|(key, (orders, amount_fen))| SalesLine {
            name: name(&key),
            key,
            orders,
            amount_fen,
        })
        .collect();
    lines.sort_by(|a, b| b.amount_fen.cmp(&a.amount_fen).then(a.key.cmp(&b.key)));
    lines
}
