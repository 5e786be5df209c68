//! Household income by year and source, in fen. Officials of the area record wages, farming,
//! transfers and other income; e-commerce income is written only by completed orders, so the
//! figure an exit assessment uses is what the marketplace actually paid.

use std::collections::BTreeMap;

use chrono::Utc;
use entities::{
    household,
    household_income::{self, IncomeSource},
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, Iterable, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::{HouseholdError, household_for};
use crate::{
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        policy::{Action, Actor},
        users::Origin,
    },
};

/// At most 100 million yuan from one source in a year: anything larger is a typing mistake.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;

/// A household's income in one year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomeYear {
    pub year: i32,
    /// Every source, zero where nothing is recorded.
    pub by_source: BTreeMap<SourceKey, i64>,
    pub total_fen: i64,
}

/// Sources in a fixed order, for stable output.
pub type SourceKey = &'static str;

impl IncomeYear {
    fn from_rows(year: i32, rows: &[household_income::Model]) -> Self {
        let mut by_source: BTreeMap<SourceKey, i64> =
            IncomeSource::iter().map(|s| (source_key(s), 0)).collect();
        for row in rows.iter().filter(|r| r.year == year) {
            *by_source.entry(source_key(row.source)).or_default() += row.amount_fen;
        }
        Self {
            year,
            total_fen: by_source.values().sum(),
            by_source,
        }
    }

    pub fn amount(&self, source: IncomeSource) -> i64 {
        self.by_source.get(source_key(source)).copied().unwrap_or(0)
    }
}

fn source_key(source: IncomeSource) -> SourceKey {
    match source {
        IncomeSource::Wages => "wages",
        IncomeSource::Farming => "farming",
        IncomeSource::Ecommerce => "ecommerce",
        IncomeSource::Transfers => "transfers",
        IncomeSource::Other => "other",
    }
}

/// Every year with recorded income, newest first. The household's farmer may read it too.
pub async fn list(
    db: &Database,
    actor: &Actor,
    household_id: i64,
) -> Result<Vec<IncomeYear>, HouseholdError> {
    household_for(db.conn(), actor, household_id, Action::Read).await?;
    let rows = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(household_id))
        .order_by_desc(household_income::Column::Year)
        .all(db.conn())
        .await?;
    let mut years: Vec<i32> = rows.iter().map(|r| r.year).collect();
    years.dedup();
    Ok(years
        .into_iter()
        .map(|year| IncomeYear::from_rows(year, &rows))
        .collect())
}

/// Records a year's income from the sources given; the sources left out keep their amounts.
pub async fn record_year(
    db: &Database,
    actor: &Actor,
    household_id: i64,
    year: i32,
    amounts: &[(IncomeSource, i64)],
    origin: &Origin,
) -> Result<IncomeYear, HouseholdError> {
    let this_year = crate::domain::county_time::year_of(Utc::now());
    if !(2014..=this_year).contains(&year) {
        return Err(HouseholdError::Invalid(
            crate::service::reasons::income_year(this_year),
        ));
    }
    for (source, amount) in amounts {
        if *source == IncomeSource::Ecommerce {
            return Err(HouseholdError::Invalid(
                crate::service::reasons::ecommerce_income_by_orders(),
            ));
        }
        if !(0..=MAX_AMOUNT_FEN).contains(amount) {
            return Err(HouseholdError::Invalid(
                crate::service::reasons::income_amount_range(MAX_AMOUNT_FEN / 100),
            ));
        }
    }
    let txn = db.begin_write().await?;
    let household = household_for(&txn, actor, household_id, Action::Update).await?;
    lock_household(&txn, household_id).await?;
    let before = year_of(&txn, household_id, year).await?;
    for (source, amount) in amounts {
        upsert(
            &txn,
            household_id,
            year,
            *source,
            |_| *amount,
            Some(actor.user_id),
        )
        .await?;
    }
    let after = year_of(&txn, household_id, year).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "household.income_recorded",
            entity: "household",
            entity_id: household.id.to_string(),
            area_code: Some(household.village_code.clone()),
            before: Some(json!({ "year": year, "income_fen": before.by_source })),
            after: Some(json!({ "year": year, "income_fen": after.by_source })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Adds a completed order's amount to the producing household's e-commerce income, inside
/// the order's own transaction.
pub async fn add_ecommerce(
    conn: &impl ConnectionTrait,
    household_id: i64,
    year: i32,
    amount_fen: i64,
) -> Result<(), DbErr> {
    lock_household(conn, household_id).await?;
    upsert(
        conn,
        household_id,
        year,
        IncomeSource::Ecommerce,
        |current| current + amount_fen,
        None,
    )
    .await
}

/// Locks the household's row, so two writers of its income take turns (SQLite's write
/// transaction already serialises them).
async fn lock_household(conn: &impl ConnectionTrait, household_id: i64) -> Result<(), DbErr> {
    household::Entity::find_by_id(household_id)
        .lock_exclusive()
        .one(conn)
        .await?;
    Ok(())
}

async fn year_of(
    conn: &impl ConnectionTrait,
    household_id: i64,
    year: i32,
) -> Result<IncomeYear, DbErr> {
    let rows = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(household_id))
        .filter(household_income::Column::Year.eq(year))
        .all(conn)
        .await?;
    Ok(IncomeYear::from_rows(year, &rows))
}

/// Sets one source's amount from its current one, under the household's lock.
async fn upsert(
    conn: &impl ConnectionTrait,
    household_id: i64,
    year: i32,
    source: IncomeSource,
    amount: impl Fn(i64) -> i64,
    updated_by: Option<i64>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let existing = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(household_id))
        .filter(household_income::Column::Year.eq(year))
        .filter(household_income::Column::Source.eq(source.to_value()))
        .one(conn)
        .await?;
    match existing {
        Some(row) => {
            let new_amount = amount(row.amount_fen);
            let mut active = row.into_active_model();
            active.amount_fen = Set(new_amount);
            active.updated_by = Set(updated_by);
            active.updated_at = Set(now);
            active.update(conn).await?;
        }
        None => {
            household_income::ActiveModel {
                household_id: Set(household_id),
                year: Set(year),
                source: Set(source),
                amount_fen: Set(amount(0)),
                updated_by: Set(updated_by),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}
