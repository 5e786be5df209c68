//! Progress toward the county's goals, counted from the registry and the exit cases: villages
//! de-listed, in progress and not started; people lifted out and still poor; the same for each
//! part of the area; villages ranked by poverty incidence.
//!
//! Every change to registry and exit data writes an audit entry in its own transaction, so the
//! audit log's last id names the state of the records. The computed dashboard is cached under
//! that id: any write makes the next read recompute, and a read never shows numbers older than
//! the records.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entities::{
    area::{self, AreaLevel},
    audit_head,
    exit_case::{self, ExitState, ExitSubject},
    household::{self, HouseholdStatus},
    household_member,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::{ExitError, assessment::incidence_bp, rules::ExitRules};
use crate::{
    domain::AreaCode,
    infra::{cache::Cache, db::Database},
    service::policy::Actor,
};

const CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Where a poor village stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VillageStage {
    Delisted,
    InProgress,
    NotStarted,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageCounts {
    /// Registered poor villages.
    pub poor: u32,
    pub delisted: u32,
    pub in_progress: u32,
    pub not_started: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleCounts {
    /// Members of registered households.
    pub registered: u64,
    /// Members of households that exited.
    pub lifted_out: u64,
    /// Members of households still poor, pending exit or returned.
    pub still_poor: u64,
    pub households: u64,
    pub households_exited: u64,
}

/// A part of the area (a township of the county, a village of a township).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartProgress {
    pub code: String,
    pub name: String,
    pub villages: VillageCounts,
    pub people: PeopleCounts,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageIncidence {
    pub code: String,
    pub name: String,
    pub stage: VillageStage,
    pub poor_people: u64,
    pub rural_population: i64,
    pub incidence_bp: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub area_code: String,
    pub area_name: String,
    pub level: String,
    /// The county's goals, for the county; for a part of it, what lies inside.
    pub goal_villages: u32,
    pub goal_people: u64,
    pub villages: VillageCounts,
    pub people: PeopleCounts,
    pub parts: Vec<PartProgress>,
    /// Poor villages not yet de-listed, highest incidence first.
    pub villages_by_incidence: Vec<VillageIncidence>,
    pub computed_at: DateTime<Utc>,
    /// The last audit entry the numbers include.
    pub as_of_change: i64,
}

/// The progress of an area the actor governs (default: their own; the county for an admin).
pub async fn progress(
    db: &Database,
    cache: &Arc<dyn Cache>,
    rules: &ExitRules,
    actor: &Actor,
    area: Option<AreaCode>,
) -> Result<Progress, ExitError> {
    let area = match area.or_else(|| actor.area.clone()) {
        Some(area) => area,
        None => county_code(db.conn()).await?.ok_or(ExitError::NotFound)?,
    };
    if !actor.is_official() && actor.role != entities::user::Role::Admin || !actor.governs(&area) {
        return Err(ExitError::NotFound);
    }
    let as_of = last_change(db.conn()).await?;
    let key = format!("progress:v1:{area}:{as_of}");
    if let Ok(Some(cached)) = cache.get(&key).await
        && let Ok(progress) = serde_json::from_slice::<Progress>(&cached)
    {
        return Ok(progress);
    }
    let computed = compute(db.conn(), rules, &area, as_of).await?;
    if let Ok(bytes) = serde_json::to_vec(&computed) {
        // A cache that cannot be written only costs the next read a recomputation.
        let _ = cache.set(&key, &bytes, CACHE_TTL).await;
    }
    Ok(computed)
}

async fn county_code(conn: &impl ConnectionTrait) -> Result<Option<AreaCode>, DbErr> {
    Ok(area::Entity::find()
        .filter(area::Column::Level.eq(AreaLevel::County))
        .one(conn)
        .await?
        .and_then(|a| AreaCode::parse(&a.code).ok()))
}

async fn last_change(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(audit_head::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map(|h| h.last_id)
        .unwrap_or(0))
}

/// Counts everything afresh from the rows.
pub async fn compute(
    conn: &impl ConnectionTrait,
    rules: &ExitRules,
    area: &AreaCode,
    as_of_change: i64,
) -> Result<Progress, ExitError> {
    let prefix = area.descendant_prefix();
    let root = area::Entity::find_by_id(area.to_string())
        .one(conn)
        .await?
        .ok_or(ExitError::NotFound)?;
    let areas = area::Entity::find()
        .filter(area::Column::Code.starts_with(prefix))
        .all(conn)
        .await?;
    let villages: Vec<&area::Model> = areas
        .iter()
        .filter(|a| a.level == AreaLevel::Village)
        .collect();

    // People and households by village and status, in two grouped queries.
    let people: Vec<(String, String, i64)> = household_member::Entity::find()
        .select_only()
        .column(household::Column::VillageCode)
        .column(household::Column::Status)
        .column_as(household_member::Column::Id.count(), "people")
        .inner_join(household::Entity)
        .filter(household::Column::VillageCode.starts_with(prefix))
        .group_by(household::Column::VillageCode)
        .group_by(household::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let households: Vec<(String, String, i64)> = household::Entity::find()
        .select_only()
        .column(household::Column::VillageCode)
        .column(household::Column::Status)
        .column_as(household::Column::Id.count(), "households")
        .filter(household::Column::VillageCode.starts_with(prefix))
        .group_by(household::Column::VillageCode)
        .group_by(household::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let cases: Vec<(String, String, bool)> = exit_case::Entity::find()
        .select_only()
        .column(exit_case::Column::VillageCode)
        .column(exit_case::Column::State)
        .column(exit_case::Column::Open)
        .filter(exit_case::Column::Subject.eq(ExitSubject::Village.to_value()))
        .filter(exit_case::Column::VillageCode.starts_with(prefix))
        .into_tuple()
        .all(conn)
        .await?;

    let mut people_by_village: BTreeMap<&str, PeopleCounts> = BTreeMap::new();
    for (village, status, count) in &people {
        let entry = people_by_village.entry(village).or_default();
        let count = *count as u64;
        entry.registered += count;
        if *status == HouseholdStatus::Exited.to_value() {
            entry.lifted_out += count;
        } else {
            entry.still_poor += count;
        }
    }
    for (village, status, count) in &households {
        let entry = people_by_village.entry(village).or_default();
        entry.households += *count as u64;
        if *status == HouseholdStatus::Exited.to_value() {
            entry.households_exited += *count as u64;
        }
    }
    let stage_of = |code: &str| {
        let mine = cases.iter().filter(|(v, _, _)| v == code);
        if mine
            .clone()
            .any(|(_, state, _)| *state == ExitState::Announced.to_value())
        {
            VillageStage::Delisted
        } else if mine.clone().any(|(_, _, open)| *open) {
            VillageStage::InProgress
        } else {
            VillageStage::NotStarted
        }
    };

    let mut total_villages = VillageCounts::default();
    let mut total_people = PeopleCounts::default();
    let mut parts: BTreeMap<String, PartProgress> = BTreeMap::new();
    let part_level = match root.level {
        AreaLevel::County => Some(AreaLevel::Township),
        AreaLevel::Township => Some(AreaLevel::Village),
        AreaLevel::Village => None,
    };
    if let Some(level) = part_level {
        for a in areas.iter().filter(|a| a.level == level) {
            parts.insert(
                a.code.clone(),
                PartProgress {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    villages: VillageCounts::default(),
                    people: PeopleCounts::default(),
                },
            );
        }
    }
    let mut ranked = Vec::new();
    for village in &villages {
        let people = people_by_village
            .get(village.code.as_str())
            .cloned()
            .unwrap_or_default();
        let part_code = match part_level {
            Some(AreaLevel::Township) => Some(format!("{}000", &village.code[..9])),
            Some(AreaLevel::Village) => Some(village.code.clone()),
            _ => None,
        };
        let part = part_code.and_then(|code| parts.get_mut(&code));
        let mut village_counts = VillageCounts::default();
        if village.is_poor_village {
            let stage = stage_of(&village.code);
            village_counts.poor = 1;
            match stage {
                VillageStage::Delisted => village_counts.delisted = 1,
                VillageStage::InProgress => village_counts.in_progress = 1,
                VillageStage::NotStarted => village_counts.not_started = 1,
            }
            if stage != VillageStage::Delisted {
                ranked.push(VillageIncidence {
                    code: village.code.clone(),
                    name: village.name.clone(),
                    stage,
                    poor_people: people.still_poor,
                    rural_population: village.rural_population,
                    incidence_bp: incidence_bp(people.still_poor as i64, village.rural_population),
                });
            }
        }
        add_villages(&mut total_villages, &village_counts);
        add_people(&mut total_people, &people);
        if let Some(part) = part {
            add_villages(&mut part.villages, &village_counts);
            add_people(&mut part.people, &people);
        }
    }
    ranked.sort_by(|a, b| {
        b.incidence_bp
            .cmp(&a.incidence_bp)
            .then_with(|| a.code.cmp(&b.code))
    });
    let (goal_villages, goal_people) = if root.level == AreaLevel::County {
        (rules.goal_villages, u64::from(rules.goal_people))
    } else {
        (total_villages.poor, total_people.registered)
    };
    Ok(Progress {
        area_code: root.code.clone(),
        area_name: root.name.clone(),
        level: root.level.to_value(),
        goal_villages,
        goal_people,
        villages: total_villages,
        people: total_people,
        parts: parts.into_values().collect(),
        villages_by_incidence: ranked,
        computed_at: Utc::now(),
        as_of_change,
    })
}

fn add_villages(total: &mut VillageCounts, part: &VillageCounts) {
    total.poor += part.poor;
    total.delisted += part.delisted;
    total.in_progress += part.in_progress;
    total.not_started += part.not_started;
}

fn add_people(total: &mut PeopleCounts, part: &PeopleCounts) {
    total.registered += part.registered;
    total.lifted_out += part.lifted_out;
    total.still_poor += part.still_poor;
    total.households += part.households;
    total.households_exited += part.households_exited;
}
