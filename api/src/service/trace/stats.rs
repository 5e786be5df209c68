//! What the county produces, from the batches farmers record: which township, village and plot
//! produces what, how much, by month. Quantities add up only within one unit, so every line is
//! one product in one unit.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use entities::{batch, listing::Unit, plot, product_category};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    StreamTrait,
};

use super::TraceError;
use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::{areas, policy::Actor},
};

/// How many plots `by_plot` names: those with the most batches.
pub const TOP_PLOTS: usize = 100;

/// One product, in one unit, of one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductionLine {
    /// The area code, month (`2026-10`), plot id, or category id for the totals.
    pub key: String,
    pub name: String,
    pub category_id: i64,
    pub product: String,
    pub unit: Unit,
    pub quantity: i64,
    pub batches: u64,
    /// For a plot: its village's code and name; empty otherwise.
    pub village_code: String,
    pub village_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductionStats {
    pub area_code: String,
    /// The year counted (by harvest or making date); every year when `None`.
    pub year: Option<i32>,
    pub batches: u64,
    /// Households and plots with at least one batch.
    pub households: u64,
    pub plots: u64,
    /// Totals by product, largest quantity first.
    pub by_category: Vec<ProductionLine>,
    /// By group, then largest quantity first.
    pub by_township: Vec<ProductionLine>,
    pub by_village: Vec<ProductionLine>,
    /// In month order.
    pub by_month: Vec<ProductionLine>,
    /// The [`TOP_PLOTS`] plots with the most batches.
    pub by_plot: Vec<ProductionLine>,
}

#[derive(Debug, FromQueryResult)]
struct Produced {
    household_id: i64,
    plot_id: Option<i64>,
    village_code: String,
    category_id: i64,
    quantity: i64,
    unit: Unit,
    produced_on: NaiveDate,
}

/// Production of an area the official governs (default: their own; the county for an admin).
pub async fn stats(
    db: &Database,
    actor: &Actor,
    area: Option<AreaCode>,
    year: Option<i32>,
) -> Result<ProductionStats, TraceError> {
    let area = areas::asked_or_own(db.conn(), actor.area.as_ref(), area)
        .await?
        .ok_or(TraceError::NotFound)?;
    if !actor.governs(&area) {
        return Err(TraceError::Forbidden);
    }
    compute(db.reads(), &area, year).await
}

/// Counts the area's batches, streaming them once.
pub async fn compute(
    conn: &(impl ConnectionTrait + StreamTrait),
    area: &AreaCode,
    year: Option<i32>,
) -> Result<ProductionStats, TraceError> {
    let mut query = batch::Entity::find()
        .select_only()
        .columns([
            batch::Column::HouseholdId,
            batch::Column::PlotId,
            batch::Column::VillageCode,
            batch::Column::CategoryId,
            batch::Column::Quantity,
            batch::Column::Unit,
            batch::Column::ProducedOn,
        ])
        .filter(batch::Column::VillageCode.starts_with(area.descendant_prefix()));
    if let Some(year) = year {
        let (first, last) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        );
        let (Some(first), Some(last)) = (first, last) else {
            return Err(TraceError::Invalid(crate::service::reasons::year_invalid(
                year,
            )));
        };
        query = query.filter(batch::Column::ProducedOn.between(first, last));
    }
    let mut tally = Tally::default();
    let mut rows = query.into_model::<Produced>().stream(conn).await?;
    while let Some(row) = rows.try_next().await? {
        tally.add(row);
    }
    drop(rows);
    tally.into_stats(conn, area, year).await
}

/// (group key, category, unit) → (quantity, batches)
type Groups = HashMap<(String, i64, Unit), (i64, u64)>;

#[derive(Default)]
struct Tally {
    batches: u64,
    households: HashSet<i64>,
    by_category: Groups,
    by_township: Groups,
    by_village: Groups,
    by_month: Groups,
    by_plot: Groups,
}

fn add_to(groups: &mut Groups, key: String, row: &Produced) {
    let entry = groups.entry((key, row.category_id, row.unit)).or_default();
    entry.0 += row.quantity;
    entry.1 += 1;
}

impl Tally {
    fn add(&mut self, row: Produced) {
        self.batches += 1;
        self.households.insert(row.household_id);
        let township = match AreaCode::parse(&row.village_code)
            .ok()
            .and_then(|v| v.parent())
        {
            Some(township) => township.as_str().to_owned(),
            None => row.village_code.clone(),
        };
        add_to(&mut self.by_category, row.category_id.to_string(), &row);
        add_to(&mut self.by_township, township, &row);
        add_to(&mut self.by_village, row.village_code.clone(), &row);
        let month = format!(
            "{:04}-{:02}",
            row.produced_on.year(),
            row.produced_on.month()
        );
        add_to(&mut self.by_month, month, &row);
        if let Some(plot_id) = row.plot_id {
            add_to(&mut self.by_plot, plot_id.to_string(), &row);
        }
    }

    async fn into_stats(
        self,
        conn: &impl ConnectionTrait,
        area: &AreaCode,
        year: Option<i32>,
    ) -> Result<ProductionStats, TraceError> {
        let products: HashMap<i64, String> = product_category::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name_zh))
            .collect();
        let area_names = areas::names_of(
            conn,
            self.by_township
                .keys()
                .chain(self.by_village.keys())
                .map(|(code, _, _)| code.clone())
                .collect::<HashSet<_>>(),
        )
        .await?;
        let plots = self
            .by_plot
            .keys()
            .map(|(id, _, _)| id)
            .collect::<HashSet<_>>()
            .len() as u64;
        let mut plot_batches: HashMap<&str, u64> = HashMap::new();
        for ((id, _, _), (_, batches)) in &self.by_plot {
            *plot_batches.entry(id).or_default() += batches;
        }
        let mut busiest: Vec<(&str, u64)> = plot_batches.into_iter().collect();
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        busiest.truncate(TOP_PLOTS);
        let busiest: HashSet<String> = busiest.into_iter().map(|(id, _)| id.to_owned()).collect();
        let busiest_plots = plot::Entity::find()
            .filter(plot::Column::Id.is_in(busiest.iter().filter_map(|id| id.parse::<i64>().ok())))
            .all(conn)
            .await?;
        let plot_villages: HashMap<String, String> = busiest_plots
            .iter()
            .map(|p| (p.id.to_string(), p.village_code.clone()))
            .collect();
        let plot_village_names = areas::names_of(
            conn,
            plot_villages.values().cloned().collect::<HashSet<_>>(),
        )
        .await?;
        let plot_names: HashMap<String, String> = busiest_plots
            .into_iter()
            .map(|p| (p.id.to_string(), p.name))
            .collect();
        let by_plot: Groups = self
            .by_plot
            .into_iter()
            .filter(|((id, _, _), _)| busiest.contains(id))
            .collect();

        let lines = |groups: Groups, name: &dyn Fn(&str) -> String| {
            let mut lines: Vec<ProductionLine> = groups
                .into_iter()
                .map(
                    |((key, category_id, unit), (quantity, batches))| ProductionLine {
                        name: name(&key),
                        key,
                        category_id,
                        product: products.get(&category_id).cloned().unwrap_or_default(),
                        unit,
                        quantity,
                        batches,
                        village_code: String::new(),
                        village_name: String::new(),
                    },
                )
                .collect();
            lines.sort_by(|a, b| {
                a.key
                    .cmp(&b.key)
                    .then(b.quantity.cmp(&a.quantity))
                    .then(a.category_id.cmp(&b.category_id))
            });
            lines
        };
        let area_name = |code: &str| area_names.get(code).cloned().unwrap_or_default();
        let mut by_category = lines(self.by_category, &|_| String::new());
        for line in &mut by_category {
            line.name = line.product.clone();
        }
        by_category.sort_by(|a, b| b.quantity.cmp(&a.quantity).then(a.key.cmp(&b.key)));
        let mut by_plot = lines(by_plot, &|id| {
            plot_names.get(id).cloned().unwrap_or_default()
        });
        for line in &mut by_plot {
            if let Some(village) = plot_villages.get(&line.key) {
                line.village_name = plot_village_names.get(village).cloned().unwrap_or_default();
                line.village_code = village.clone();
            }
        }
        Ok(ProductionStats {
            area_code: area.as_str().to_owned(),
            year,
            batches: self.batches,
            households: self.households.len() as u64,
            plots,
            by_category,
            by_township: lines(self.by_township, &area_name),
            by_village: lines(self.by_village, &area_name),
            by_month: lines(self.by_month, &|month| month.to_owned()),
            by_plot,
        })
    }
}
