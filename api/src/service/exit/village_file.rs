//! A village as the officials of its area read it: its registered poor households, each with
//! its head and where its exit stands, the village's exit indicators as the exit procedure
//! judges them (poverty incidence against the threshold, and each required indicator), and its
//! open exit cases.

use std::collections::HashMap;

use entities::{
    area,
    exit_case::{self, ExitState, ExitSubject},
    household::{self, HouseholdStatus},
    household_member::{self, MemberRelation},
    village_indicator,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    ExitError,
    assessment::{VillageAssessment, assess_village},
    rules::{ExitRules, Indicator},
    village_in_reach,
};
use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::policy::{Action, Actor},
};

/// A registered household of the village, as its line on the village's page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdLine {
    pub id: i64,
    pub number: String,
    /// The head's name (the page is the area's officials').
    pub head: String,
    pub members: i64,
    pub status: HouseholdStatus,
    /// Where its open exit case stands, if it has one.
    pub case: Option<ExitState>,
}

/// An open exit case of the village.
#[derive(Clone, Debug)]
pub struct OpenCase {
    pub case: exit_case::Model,
    /// The household head's name, for a household's case.
    pub head: Option<String>,
}

/// The village's file.
#[derive(Clone, Debug)]
pub struct VillageFile {
    pub village: area::Model,
    /// Judged on the latest year its indicators were recorded for, else this year.
    pub assessment: VillageAssessment,
    /// The indicators the exit procedure requires, in the rules' order.
    pub required: Vec<Indicator>,
    pub min_collective_income_fen: i64,
    /// Still poor first (returned, poor, on their way out), then exited; by household number.
    pub households: Vec<HouseholdLine>,
    /// Oldest first.
    pub cases: Vec<OpenCase>,
}

impl VillageFile {
    /// The households in one state.
    pub fn in_state(&self, status: HouseholdStatus) -> Vec<&HouseholdLine> {
        self.households
            .iter()
            .filter(|h| h.status == status)
            .collect()
    }

    /// The registered people of households in one state.
    pub fn people_in(&self, status: HouseholdStatus) -> i64 {
        self.households
            .iter()
            .filter(|h| h.status == status)
            .map(|h| h.members)
            .sum()
    }
}

/// The order the page lists households in: those still to be helped first.
fn rank(status: HouseholdStatus) -> u8 {
    match status {
        HouseholdStatus::Returned => 0,
        HouseholdStatus::Poor => 1,
        HouseholdStatus::ExitPending => 2,
        HouseholdStatus::Exited => 3,
    }
}

/// The village's file, for an official whose area holds it (otherwise not found).
pub async fn of(
    db: &Database,
    rules: &ExitRules,
    actor: &Actor,
    code: &AreaCode,
    this_year: i32,
) -> Result<VillageFile, ExitError> {
    let conn = db.conn();
    let village = village_in_reach(conn, actor, code, Action::Read).await?;
    let year = village_indicator::Entity::find()
        .select_only()
        .column_as(village_indicator::Column::Year.max(), "year")
        .filter(village_indicator::Column::VillageCode.eq(&village.code))
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(this_year);
    let assessment = assess_village(conn, rules, &village, year).await?;

    let households = household::Entity::find()
        .filter(household::Column::VillageCode.eq(&village.code))
        .order_by_asc(household::Column::HouseholdNumber)
        .all(conn)
        .await?;
    let ids: Vec<i64> = households.iter().map(|h| h.id).collect();
    let heads = heads_of(conn, ids.iter().copied()).await?;
    let members: HashMap<i64, i64> = household_member::Entity::find()
        .select_only()
        .column(household_member::Column::HouseholdId)
        .column_as(household_member::Column::Id.count(), "members")
        .filter(household_member::Column::HouseholdId.is_in(ids.iter().copied()))
        .group_by(household_member::Column::HouseholdId)
        .into_tuple::<(i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let open = exit_case::Entity::find()
        .filter(exit_case::Column::VillageCode.eq(&village.code))
        .filter(exit_case::Column::Open.eq(true))
        .order_by_asc(exit_case::Column::CreatedAt)
        .order_by_asc(exit_case::Column::Id)
        .all(conn)
        .await?;
    let case_of: HashMap<i64, ExitState> = open
        .iter()
        .filter(|c| c.subject == ExitSubject::Household)
        .filter_map(|c| Some((c.household_id?, c.state)))
        .collect();

    let mut lines: Vec<HouseholdLine> = households
        .into_iter()
        .map(|h| HouseholdLine {
            head: heads.get(&h.id).cloned().unwrap_or_default(),
            members: members.get(&h.id).copied().unwrap_or_default(),
            case: case_of.get(&h.id).copied(),
            id: h.id,
            number: h.household_number,
            status: h.status,
        })
        .collect();
    // Stable: by household number within each state.
    lines.sort_by_key(|h| rank(h.status));
    let cases = open
        .into_iter()
        .map(|case| OpenCase {
            head: case
                .household_id
                .filter(|_| case.subject == ExitSubject::Household)
                .and_then(|id| heads.get(&id).cloned()),
            case,
        })
        .collect();
    Ok(VillageFile {
        village,
        assessment,
        required: rules.required_indicators.clone(),
        min_collective_income_fen: rules.min_collective_income_fen,
        households: lines,
        cases,
    })
}

/// The heads' names of these households.
async fn heads_of(
    conn: &impl ConnectionTrait,
    households: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, ExitError> {
    Ok(household_member::Entity::find()
        .select_only()
        .column(household_member::Column::HouseholdId)
        .column(household_member::Column::Name)
        .filter(household_member::Column::Relation.eq(MemberRelation::Head))
        .filter(household_member::Column::HouseholdId.is_in(households))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}
