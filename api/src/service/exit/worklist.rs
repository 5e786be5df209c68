//! What an official's list of work reads: the open exit cases waiting for a step they may
//! take, each with the name of its village.

use std::collections::HashMap;

use entities::{
    exit_case::{self, ExitSubject},
    household_member::{self, MemberRelation},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{
    ExitError,
    cases::{self, ExitAction},
};
use crate::{
    domain::county_time::Clock, infra::db::Database, service::areas, service::policy::Actor,
};

/// A case waiting for the official, where it is, and the steps they may take on it.
#[derive(Clone, Debug)]
pub struct WaitingCase {
    pub case: exit_case::Model,
    /// The name of the case's village (empty if the village is gone from the areas).
    pub village: String,
    /// The household head's name, for a household's case (the list is the area's officials').
    pub head: Option<String>,
    /// Forward steps first; rejecting and objecting last.
    pub actions: Vec<ExitAction>,
}

impl WaitingCase {
    /// The household the case is about; none for a village's case.
    pub fn household(&self) -> Option<i64> {
        self.case
            .household_id
            .filter(|_| self.case.subject == ExitSubject::Household)
    }
}

/// The open cases of the official's area that wait for a forward step they may take, oldest
/// first, at most `limit`.
pub async fn waiting(
    db: &Database,
    clock: &dyn Clock,
    actor: &Actor,
    limit: usize,
) -> Result<Vec<WaitingCase>, ExitError> {
    let waiting = cases::awaiting(db, clock, actor, limit).await?;
    let names = areas::names_of(
        db.conn(),
        waiting.iter().map(|w| w.case.village_code.clone()),
    )
    .await?;
    let heads: HashMap<i64, String> = household_member::Entity::find()
        .select_only()
        .column(household_member::Column::HouseholdId)
        .column(household_member::Column::Name)
        .filter(household_member::Column::Relation.eq(MemberRelation::Head))
        .filter(
            household_member::Column::HouseholdId
                .is_in(waiting.iter().filter_map(|w| w.case.household_id)),
        )
        .into_tuple::<(i64, String)>()
        .all(db.conn())
        .await?
        .into_iter()
        .collect();
    Ok(waiting
        .into_iter()
        .map(|w| WaitingCase {
            village: names.get(&w.case.village_code).cloned().unwrap_or_default(),
            head: w
                .case
                .household_id
                .filter(|_| w.case.subject == ExitSubject::Household)
                .and_then(|id| heads.get(&id).cloned()),
            case: w.case,
            actions: w.actions,
        })
        .collect())
}
