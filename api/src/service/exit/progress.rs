//! Progress toward the county's goals, counted from the registry and the exit cases: villages
//! de-listed, in progress and not started; people lifted out and still poor; the same for each
//! part of the area; villages ranked by poverty incidence.
//!
//! Every change to registry and exit data writes an audit entry in its own transaction, so the
//! audit log's last id names the state of the records. The computed dashboard is cached under
//! that id: any write makes the next read recompute, and a read never shows numbers older than
//! the records.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use entities::{
    area::{self, AreaLevel},
    audit_head,
    exit_case::{self, ExitSubject},
    household::{self, HouseholdStatus},
    household_member, progress_snapshot,
};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::{ExitError, assessment::incidence_bp, rules::ExitRules};
use crate::{
    domain::AreaCode,
    infra::{cache::Cache, db::Database},
    service::{areas, policy::Actor},
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub area_code: String,
    pub area_name: String,
    pub level: String,
    /// The county's goals, for the county; for a part of it, what lies inside.
    pub goal_villages: u32,
    pub goal_people: u64,
    /// The county's yearly targets on the way (county only), cumulative by each year's end.
    pub yearly_goals: Vec<YearGoal>,
    pub villages: VillageCounts,
    pub people: PeopleCounts,
    pub parts: Vec<PartProgress>,
    /// Poor villages not yet de-listed, highest incidence first.
    pub villages_by_incidence: Vec<VillageIncidence>,
    /// Daily snapshots of this area, oldest first (the county and its townships).
    pub history: Vec<SnapshotPoint>,
    pub projection: Projection,
    pub computed_at: DateTime<Utc>,
    /// The last audit entry the numbers include.
    pub as_of_change: i64,
}

/// A target by the end of a year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearGoal {
    pub year: i32,
    pub villages: Option<i64>,
    pub people: Option<i64>,
}

/// The area's numbers as they stood on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotPoint {
    pub day: NaiveDate,
    pub villages_delisted: u32,
    pub villages_in_progress: u32,
    pub people_lifted_out: u64,
    pub people_still_poor: u64,
}

/// When the goals are reached at the pace of the last weeks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Days of history the pace is measured over (at most [`PACE_WINDOW_DAYS`]).
    pub basis_days: i64,
    pub people_per_day: Option<f64>,
    pub villages_per_day: Option<f64>,
    /// `None` when there is no history yet or no progress in it; today when already reached.
    pub people_goal_date: Option<NaiveDate>,
    pub villages_goal_date: Option<NaiveDate>,
}

/// The pace is measured over this many days of snapshots.
pub const PACE_WINDOW_DAYS: i64 = 30;

/// The progress of an area the actor governs (default: their own; the county for an admin).
pub async fn progress(
    db: &Database,
    cache: &Arc<dyn Cache>,
    rules: &ExitRules,
    actor: &Actor,
    area: Option<AreaCode>,
) -> Result<Progress, ExitError> {
    let area = governed_area(db, actor, area).await?;
    let state = RecordsState::now(db).await?;
    progress_at(db, cache, rules, &area, &state).await
}

/// What one server keeps of the progress in its own memory.
///
/// The audit log's head is kept under the change stamp read before it ([`crate::service::changes`]):
/// every audited write through the server moves the stamp. It is kept for at most
/// [`HEAD_KEPT_FOR`] all the same, for a write outside the server (a command beside a server on
/// the in-process cache) that could not move it; and never with a replica, whose head moves on
/// its own as it catches up. Rendered answers are kept by the state they count, so a kept one is
/// never older than the records.
#[derive(Clone)]
pub struct KeptProgress {
    head: moka::sync::Cache<(), (Arc<str>, i64)>,
    rendered: moka::sync::Cache<String, bytes::Bytes>,
}

/// How long the audit log's head is taken from memory at most.
pub const HEAD_KEPT_FOR: Duration = Duration::from_secs(2);

impl Default for KeptProgress {
    fn default() -> Self {
        Self {
            head: moka::sync::Cache::builder()
                .max_capacity(1)
                .time_to_live(HEAD_KEPT_FOR)
                .build(),
            rendered: moka::sync::Cache::builder()
                .max_capacity(16 * 1024 * 1024)
                .weigher(|key: &String, rendered: &bytes::Bytes| {
                    u32::try_from(key.len() + rendered.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }
}

impl KeptProgress {
    /// The audit log's last entry, from memory while `stamp` (read first) stands.
    async fn last_change(&self, db: &Database, stamp: Option<&Arc<str>>) -> Result<i64, DbErr> {
        let Some(stamp) = stamp.filter(|_| !db.has_replica()) else {
            return last_change(db.reads()).await;
        };
        if let Some((kept_at, head)) = self.head.get(&())
            && kept_at == *stamp
        {
            return Ok(head);
        }
        let head = last_change(db.reads()).await?;
        self.head.insert((), (stamp.clone(), head));
        Ok(head)
    }
}

/// The progress as `render` writes it (the API's JSON), kept rendered: a warm read hands the
/// stored bytes back as they are, without reading them. `stamp` is the change stamp read for
/// the request before anything else.
#[allow(clippy::too_many_arguments)]
pub async fn progress_rendered(
    db: &Database,
    cache: &Arc<dyn Cache>,
    kept: &KeptProgress,
    stamp: Option<&Arc<str>>,
    rules: &ExitRules,
    actor: &Actor,
    area: Option<AreaCode>,
    render: impl FnOnce(Progress) -> Vec<u8>,
) -> Result<bytes::Bytes, ExitError> {
    let area = governed_area(db, actor, area).await?;
    let state = RecordsState {
        as_of: kept.last_change(db, stamp).await?,
        day: crate::domain::county_time::date_of(Utc::now()),
    };
    let key = format!("rendered:{}", state.key(&area));
    if let Some(rendered) = kept.rendered.get(&key) {
        return Ok(rendered);
    }
    let rendered = match cache.get(&key).await {
        Ok(Some(cached)) => bytes::Bytes::from(cached),
        _ => {
            let rendered = render(progress_at(db, cache, rules, &area, &state).await?);
            let _ = cache.set(&key, &rendered, CACHE_TTL).await;
            bytes::Bytes::from(rendered)
        }
    };
    kept.rendered.insert(key, rendered.clone());
    Ok(rendered)
}

async fn progress_at(
    db: &Database,
    cache: &Arc<dyn Cache>,
    rules: &ExitRules,
    area: &AreaCode,
    state: &RecordsState,
) -> Result<Progress, ExitError> {
    let key = state.key(area);
    if let Ok(Some(cached)) = cache.get(&key).await
        && let Ok(progress) = serde_json::from_slice::<Progress>(&cached)
    {
        return Ok(progress);
    }
    // The replica's own last change keys what it counted, so a lagging replica's answer is
    // kept under the state it shows.
    let computed = compute(db.reads(), rules, area, state.as_of).await?;
    if let Ok(bytes) = serde_json::to_vec(&computed) {
        // A cache that cannot be written only costs the next read a recomputation.
        let _ = cache.set(&key, &bytes, CACHE_TTL).await;
    }
    Ok(computed)
}

/// The area asked for (default: the actor's; the county for an admin), if the actor governs it.
async fn governed_area(
    db: &Database,
    actor: &Actor,
    area: Option<AreaCode>,
) -> Result<AreaCode, ExitError> {
    let area = match area.or_else(|| actor.area.clone()) {
        Some(area) => area,
        None => areas::county_code(db.conn())
            .await?
            .ok_or(ExitError::NotFound)?,
    };
    // Only admins and officials govern an area.
    if !actor.governs(&area) {
        return Err(ExitError::NotFound);
    }
    Ok(area)
}

/// The state of the records progress is counted from: the audit log's last entry, and the
/// day (history and projection move with the calendar too).
struct RecordsState {
    as_of: i64,
    day: NaiveDate,
}

impl RecordsState {
    async fn now(db: &Database) -> Result<Self, DbErr> {
        Ok(Self {
            as_of: last_change(db.reads()).await?,
            day: crate::domain::county_time::date_of(Utc::now()),
        })
    }

    fn key(&self, area: &AreaCode) -> String {
        format!("progress:v1:{area}:{}:{}", self.as_of, self.day)
    }
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
    let cases: Vec<(String, bool)> = exit_case::Entity::find()
        .select_only()
        .column(exit_case::Column::VillageCode)
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
    // De-listed is on the village itself, whether through the procedure or imported.
    let stage_of = |village: &area::Model| {
        if village.delisted_year.is_some() {
            VillageStage::Delisted
        } else if cases.iter().any(|(v, open)| *v == village.code && *open) {
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
            let stage = stage_of(village);
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
    let history = history(conn, &root.code).await?;
    let today = crate::domain::county_time::date_of(Utc::now());
    let projection = project(
        &history,
        today,
        &total_villages,
        &total_people,
        goal_villages,
        goal_people,
    );
    let yearly_goals = if root.level == AreaLevel::County {
        rules
            .yearly_goals
            .iter()
            .map(|(year, (villages, people))| YearGoal {
                year: *year,
                villages: *villages,
                people: *people,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Progress {
        area_code: root.code.clone(),
        area_name: root.name.clone(),
        level: root.level.to_value(),
        goal_villages,
        goal_people,
        yearly_goals,
        villages: total_villages,
        people: total_people,
        parts: parts.into_values().collect(),
        villages_by_incidence: ranked,
        history,
        projection,
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

async fn history(
    conn: &impl ConnectionTrait,
    area_code: &str,
) -> Result<Vec<SnapshotPoint>, DbErr> {
    let since = crate::domain::county_time::date_of(Utc::now()) - chrono::Days::new(366);
    Ok(progress_snapshot::Entity::find()
        .filter(progress_snapshot::Column::AreaCode.eq(area_code))
        .filter(progress_snapshot::Column::Day.gte(since))
        .order_by_asc(progress_snapshot::Column::Day)
        .all(conn)
        .await?
        .into_iter()
        .map(|s| SnapshotPoint {
            day: s.day,
            villages_delisted: s.villages_delisted.max(0) as u32,
            villages_in_progress: s.villages_in_progress.max(0) as u32,
            people_lifted_out: s.people_lifted_out.max(0) as u64,
            people_still_poor: s.people_still_poor.max(0) as u64,
        })
        .collect())
}

/// The pace from the earliest snapshot in the window to the numbers now, carried forward to
/// the goals.
pub fn project(
    history: &[SnapshotPoint],
    today: NaiveDate,
    villages: &VillageCounts,
    people: &PeopleCounts,
    goal_villages: u32,
    goal_people: u64,
) -> Projection {
    let window_start = today - chrono::Days::new(PACE_WINDOW_DAYS as u64);
    let Some(first) = history
        .iter()
        .find(|p| p.day >= window_start && p.day < today)
    else {
        return Projection::default();
    };
    let days = (today - first.day).num_days();
    let pace = |now: f64, then: f64| Some((now - then) / days as f64).filter(|p| *p > 0.0);
    let people_per_day = pace(people.lifted_out as f64, first.people_lifted_out as f64);
    let villages_per_day = pace(villages.delisted as f64, f64::from(first.villages_delisted));
    let reach = |now: f64, goal: f64, per_day: Option<f64>| {
        if now >= goal {
            return Some(today);
        }
        let days = ((goal - now) / per_day?).ceil();
        // Beyond a century is no projection at all.
        (days < 36_500.0).then(|| today + chrono::Days::new(days as u64))
    };
    Projection {
        basis_days: days,
        people_per_day,
        villages_per_day,
        people_goal_date: reach(people.lifted_out as f64, goal_people as f64, people_per_day),
        villages_goal_date: reach(
            f64::from(villages.delisted),
            f64::from(goal_villages),
            villages_per_day,
        ),
    }
}

/// Records today's numbers for the county and each township (replacing today's earlier
/// ones), so progress can be drawn over time. Returns how many areas were recorded.
pub async fn take_snapshots(db: &Database, rules: &ExitRules) -> Result<usize, ExitError> {
    let Some(county) = areas::county_code(db.conn()).await? else {
        return Ok(0);
    };
    let as_of = last_change(db.conn()).await?;
    let progress = compute(db.conn(), rules, &county, as_of).await?;
    let mut rows = vec![(
        progress.area_code.clone(),
        progress.villages.clone(),
        progress.people.clone(),
    )];
    rows.extend(
        progress
            .parts
            .iter()
            .map(|p| (p.code.clone(), p.villages.clone(), p.people.clone())),
    );
    let today = crate::domain::county_time::date_of(Utc::now());
    let now = Utc::now();
    let txn = db.begin_write().await?;
    progress_snapshot::Entity::delete_many()
        .filter(progress_snapshot::Column::Day.eq(today))
        .exec(&txn)
        .await?;
    let count = rows.len();
    progress_snapshot::Entity::insert_many(rows.into_iter().map(|(code, villages, people)| {
        progress_snapshot::ActiveModel {
            day: Set(today),
            area_code: Set(code),
            villages_delisted: Set(villages.delisted as i32),
            villages_in_progress: Set(villages.in_progress as i32),
            people_lifted_out: Set(people.lifted_out as i64),
            people_still_poor: Set(people.still_poor as i64),
            households_exited: Set(people.households_exited as i64),
            taken_at: Set(now),
            ..Default::default()
        }
    }))
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: NaiveDate, villages: u32, people: u64) -> SnapshotPoint {
        SnapshotPoint {
            day,
            villages_delisted: villages,
            villages_in_progress: 0,
            people_lifted_out: people,
            people_still_poor: 0,
        }
    }

    fn counts(villages: u32, people: u64) -> (VillageCounts, PeopleCounts) {
        (
            VillageCounts {
                delisted: villages,
                ..Default::default()
            },
            PeopleCounts {
                lifted_out: people,
                ..Default::default()
            },
        )
    }

    #[test]
    fn the_goal_date_follows_the_pace_of_the_last_weeks() {
        let today = NaiveDate::from_ymd_opt(2019, 6, 30).unwrap();
        let history = vec![
            // Older than the window: not used.
            point(today - chrono::Days::new(90), 0, 0),
            point(today - chrono::Days::new(20), 100, 95_000),
            point(today - chrono::Days::new(10), 105, 96_000),
        ];
        // 2,000 people and 10 villages in 20 days: 100 people and 0.5 villages a day.
        let (villages, people) = counts(110, 97_000);
        let p = project(&history, today, &villages, &people, 162, 135_000);
        assert_eq!(p.basis_days, 20);
        assert_eq!(p.people_per_day, Some(100.0));
        assert_eq!(p.villages_per_day, Some(0.5));
        assert_eq!(p.people_goal_date, Some(today + chrono::Days::new(380)));
        assert_eq!(p.villages_goal_date, Some(today + chrono::Days::new(104)));
    }

    #[test]
    fn no_history_or_no_progress_projects_nothing_and_a_reached_goal_is_today() {
        let today = NaiveDate::from_ymd_opt(2019, 6, 30).unwrap();
        let (villages, people) = counts(10, 1_000);
        assert_eq!(
            project(&[], today, &villages, &people, 162, 135_000),
            Projection::default()
        );
        let flat = vec![point(today - chrono::Days::new(5), 10, 1_000)];
        let p = project(&flat, today, &villages, &people, 162, 135_000);
        assert_eq!((p.people_per_day, p.people_goal_date), (None, None));
        let (villages, people) = counts(162, 135_000);
        let p = project(&flat, today, &villages, &people, 162, 135_000);
        assert_eq!(p.people_goal_date, Some(today));
        assert_eq!(p.villages_goal_date, Some(today));
    }
}
