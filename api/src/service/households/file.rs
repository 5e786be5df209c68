//! A household's file as an official reads it: the household and its village, its members with
//! ID numbers masked, and its assessment for a year (default: the latest with income
//! recorded) with the two assurances and three guarantees checked.

use chrono::Utc;
use entities::{household, household_income};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{HouseholdError, MemberRecord, household_for, load_record};
use crate::{
    infra::db::Database,
    service::{
        areas,
        exit::{
            assessment::{self, HouseholdAssessment},
            rules::ExitRules,
        },
        policy::{Action, Actor},
    },
};

#[derive(Clone, Debug)]
pub struct HouseholdFile {
    pub household: household::Model,
    /// The name of the household's village.
    pub village: String,
    /// ID numbers masked: the file never reveals them.
    pub members: Vec<MemberRecord>,
    pub assessment: HouseholdAssessment,
}

/// The file of a household in the actor's area, assessed for `year` (default: the latest year
/// with income recorded, else this year). Out of reach reads as not found.
pub async fn of(
    db: &Database,
    rules: &ExitRules,
    actor: &Actor,
    id: i64,
    year: Option<i32>,
) -> Result<HouseholdFile, HouseholdError> {
    let conn = db.conn();
    let record = load_record(
        conn,
        household_for(conn, actor, id, Action::Read).await?,
        None,
    )
    .await?;
    let year = match year {
        Some(year) => year,
        None => household_income::Entity::find()
            .filter(household_income::Column::HouseholdId.eq(id))
            .order_by_desc(household_income::Column::Year)
            .one(conn)
            .await?
            .map_or_else(
                || crate::domain::county_time::year_of(Utc::now()),
                |income| income.year,
            ),
    };
    let assessment = assessment::assess_household(conn, rules, id, year).await?;
    let village = areas::names_of(conn, [record.household.village_code.clone()])
        .await?
        .remove(&record.household.village_code)
        .unwrap_or_default();
    Ok(HouseholdFile {
        household: record.household,
        village,
        members: record.members,
        assessment,
    })
}
