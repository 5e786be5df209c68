//! What an official's page of production and sales reads: what the area produces (from the
//! batches farmers record) and where its goods sell (completed orders), for a year or every
//! year.

use std::sync::Arc;

use chrono::Utc;
use entities::listing::Unit;

use super::{
    MarketError,
    sales::{self, ProductDestinations, SalesStats},
};
use crate::{
    domain::AreaCode,
    infra::{cache::Cache, db::Database},
    service::{
        policy::Actor,
        trace::{
            TraceError,
            stats::{self as production, ProductionLine, ProductionStats},
        },
    },
};

#[derive(Clone, Debug)]
pub struct ProductionAndSales {
    pub made: ProductionStats,
    pub sold: SalesStats,
    /// This year in Beijing, for the years to choose from.
    pub this_year: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// No such area, or not one the official governs.
    #[error("the area is not the official's")]
    NotYours,
    #[error(transparent)]
    Production(TraceError),
    #[error(transparent)]
    Sales(MarketError),
}

impl From<TraceError> for StatsError {
    fn from(err: TraceError) -> Self {
        match err {
            TraceError::NotFound | TraceError::Forbidden => Self::NotYours,
            other => Self::Production(other),
        }
    }
}

impl From<MarketError> for StatsError {
    fn from(err: MarketError) -> Self {
        match err {
            MarketError::NotFound | MarketError::Forbidden => Self::NotYours,
            other => Self::Sales(other),
        }
    }
}

/// Production and sales of an area the official governs (default: their own; the county for
/// an admin) in `year`, or every year when `None`.
pub async fn of(
    db: &Database,
    cache: &Arc<dyn Cache>,
    actor: &Actor,
    area: Option<AreaCode>,
    year: Option<i32>,
) -> Result<ProductionAndSales, StatsError> {
    let made = production::stats(db, actor, area.clone(), year).await?;
    let sold = sales::stats(db, cache, actor, area, year).await?;
    Ok(ProductionAndSales {
        made,
        sold,
        this_year: crate::domain::county_time::year_of(Utc::now()),
    })
}

/// Most bars, plots and villages one unit's ranking shows (the unit with most; the others
/// show a few).
pub const PRODUCTS_SHOWN: usize = 10;
pub const PLOTS_SHOWN: usize = 5;
pub const VILLAGES_SHOWN: usize = 20;
pub const OTHER_UNITS_SHOWN: usize = 5;
/// Products the province table names, and most provinces one product's row names; the rest
/// are summed as "other".
pub const DESTINATION_PRODUCTS_SHOWN: usize = 8;
pub const PROVINCES_SHOWN: usize = 3;

/// One bar of a ranking: what it names and how much, in the unit of its group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Where it drills down to: a category id, a village's code, a plot id.
    pub key: String,
    pub name: String,
    /// The product, for plots and villages.
    pub product: String,
    /// The plot's village, for plots.
    pub village_code: String,
    pub village_name: String,
    pub quantity: i64,
    /// Of the largest bar of its group, in whole percent (at least 1 for any quantity).
    pub width_percent: i64,
}

/// A ranking in one unit: quantities in different units are never added or compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRanking {
    pub unit: Unit,
    /// Everything of this unit, not only the bars shown.
    pub total: i64,
    /// Largest first.
    pub bars: Vec<Bar>,
}

/// One province's part of a product's sales.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// The province's code; empty for the rest taken together.
    pub key: String,
    pub name: String,
    pub orders: u64,
    pub amount_fen: i64,
    /// Of the product's amount, in tenths of a percent.
    pub permille: i64,
}

/// Where one product sells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductShares {
    pub key: String,
    pub name: String,
    pub orders: u64,
    pub amount_fen: i64,
    pub provinces: Vec<Share>,
}

/// The official's page at a glance: what the area produces by product, which plots and
/// villages produce most, and where each product sells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Board {
    pub products: Vec<UnitRanking>,
    pub plots: Vec<UnitRanking>,
    pub villages: Vec<UnitRanking>,
    pub destinations: Vec<ProductShares>,
}

impl ProductionAndSales {
    /// The figures as the page shows them: every ranking largest first, each unit apart.
    pub fn board(&self) -> Board {
        let made = &self.made;
        Board {
            products: by_unit(&made.by_category, PRODUCTS_SHOWN),
            plots: by_unit(&made.by_plot, PLOTS_SHOWN),
            villages: by_unit(&made.by_village, VILLAGES_SHOWN),
            destinations: self
                .sold
                .by_category_province
                .iter()
                .take(DESTINATION_PRODUCTS_SHOWN)
                .map(|product| ProductShares {
                    key: product.key.clone(),
                    name: product.name.clone(),
                    orders: product.orders,
                    amount_fen: product.amount_fen,
                    provinces: shares(product),
                })
                .collect(),
        }
    }
}

/// Lines grouped by unit (the unit with the most first), each group's largest `shown`.
fn by_unit(lines: &[ProductionLine], shown: usize) -> Vec<UnitRanking> {
    let mut groups: Vec<UnitRanking> = Vec::new();
    for line in lines {
        let group = match groups.iter_mut().position(|g| g.unit == line.unit) {
            Some(at) => &mut groups[at],
            None => {
                groups.push(UnitRanking {
                    unit: line.unit,
                    total: 0,
                    bars: Vec::new(),
                });
                groups.last_mut().expect("just pushed")
            }
        };
        group.total += line.quantity;
        group.bars.push(Bar {
            key: line.key.clone(),
            name: line.name.clone(),
            product: line.product.clone(),
            village_code: line.village_code.clone(),
            village_name: line.village_name.clone(),
            quantity: line.quantity,
            width_percent: 0,
        });
    }
    for group in &mut groups {
        group.bars.sort_by(|a, b| {
            b.quantity
                .cmp(&a.quantity)
                .then_with(|| a.key.cmp(&b.key))
                .then_with(|| a.product.cmp(&b.product))
        });
        let largest = group.bars.first().map_or(0, |b| b.quantity).max(1);
        for bar in &mut group.bars {
            bar.width_percent = (bar.quantity * 100 / largest).max(i64::from(bar.quantity > 0));
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.total));
    for (at, group) in groups.iter_mut().enumerate() {
        group.bars.truncate(if at == 0 {
            shown
        } else {
            shown.min(OTHER_UNITS_SHOWN)
        });
    }
    groups
}

/// A product's provinces as shares of its amount: the largest few, then the rest together.
fn shares(product: &ProductDestinations) -> Vec<Share> {
    let whole = product.amount_fen.max(1);
    let share = |key: String, name: String, orders: u64, amount_fen: i64| Share {
        key,
        name,
        orders,
        amount_fen,
        permille: amount_fen * 1000 / whole,
    };
    let mut out: Vec<Share> = product
        .provinces
        .iter()
        .take(PROVINCES_SHOWN)
        .map(|p| share(p.key.clone(), p.name.clone(), p.orders, p.amount_fen))
        .collect();
    let rest = &product.provinces[PROVINCES_SHOWN.min(product.provinces.len())..];
    if !rest.is_empty() {
        out.push(share(
            String::new(),
            String::new(),
            rest.iter().map(|p| p.orders).sum(),
            rest.iter().map(|p| p.amount_fen).sum(),
        ));
    }
    out
}
