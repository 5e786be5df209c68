//! The monitoring figures of an area (监测帮扶数据): households under monitoring by category,
//! risk type, township and village, and what happened this year — identified, helped,
//! eliminated, returned to poverty — in the county's calendar year. Read from the rows each
//! time: every figure is a count a recount from the rows gives back.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entities::{
    audit_log, help_record,
    monitored_household::{self, MonitoringCategory, MonitoringStatus},
    monitoring_case, monitoring_case_step,
    user::Role,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{MonitoringError, RiskType, cases::MonitoringAction};
use crate::{
    domain::{AreaCode, county_time},
    service::{areas, policy::Actor},
};

/// The three categories in the order pages list them.
pub const CATEGORIES: [MonitoringCategory; 3] = [
    MonitoringCategory::UnstableExited,
    MonitoringCategory::Edge,
    MonitoringCategory::SuddenHardship,
];

/// What the category is called in each language.
pub fn category_names(category: MonitoringCategory) -> (&'static str, &'static str) {
    match category {
        MonitoringCategory::UnstableExited => ("脱贫不稳定户", "Exited but unstable"),
        MonitoringCategory::Edge => ("边缘易致贫户", "Near the line"),
        MonitoringCategory::SuddenHardship => ("突发严重困难户", "Sudden severe hardship"),
    }
}

/// The households of one area under monitoring now, and those still being identified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AreaFigures {
    pub code: String,
    pub name: String,
    pub monitored: u64,
    pub identifying: u64,
}

/// An area's monitoring figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// The area counted; `None` for everywhere (an admin's view).
    pub area: Option<String>,
    /// The county's year the yearly figures count.
    pub year: i32,
    /// Under monitoring now: identified, risk not yet eliminated.
    pub monitored: u64,
    /// Being identified now.
    pub identifying: u64,
    /// Under monitoring now, by category, every category listed.
    pub by_category: Vec<(MonitoringCategory, u64)>,
    /// Under monitoring now, by risk type (a household with two risks counts under each);
    /// every type listed.
    pub by_risk: Vec<(RiskType, u64)>,
    /// By township, then by village, in code order; only areas with a household.
    pub by_township: Vec<AreaFigures>,
    pub by_village: Vec<AreaFigures>,
    /// Households confirmed into monitoring this year.
    pub identified: u64,
    /// Households monitored this year (under monitoring, or eliminated this year) with help
    /// recorded as given this year.
    pub helped: u64,
    /// Households whose risk was marked eliminated this year.
    pub eliminated: u64,
    /// Exited households marked returned to poverty this year.
    pub returned: u64,
}

/// The area the figures are asked for, as the actor may read it: their own area when none is
/// named, a part of it when one is, and refused when it lies outside.
pub fn area_for(
    actor: &Actor,
    asked: Option<AreaCode>,
) -> Result<Option<AreaCode>, MonitoringError> {
    if !(actor.is_official() || actor.role == Role::Admin) {
        return Err(MonitoringError::Forbidden);
    }
    match asked {
        Some(area) if actor.governs(&area) => Ok(Some(area)),
        Some(_) => Err(MonitoringError::NotFound),
        None => Ok(actor.area.clone()),
    }
}

/// The first instant of the county's year and of the next.
pub fn year_bounds(year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |y| {
        county_time::instant(
            NaiveDate::from_ymd_opt(y, 1, 1).expect("a valid year"),
            NaiveTime::MIN,
        )
    };
    (start(year), start(year + 1))
}

/// The figures of `area` (everywhere for `None`) for the county's year `year`.
pub async fn of(
    conn: &impl ConnectionTrait,
    area: Option<&AreaCode>,
    year: i32,
) -> Result<Figures, MonitoringError> {
    let prefix = area.map(|a| a.descendant_prefix().to_owned());
    let (from, until) = year_bounds(year);

    let mut records = monitored_household::Entity::find();
    if let Some(prefix) = &prefix {
        records = records.filter(monitored_household::Column::VillageCode.starts_with(prefix));
    }
    let records = records.all(conn).await?;

    let mut figures = Figures {
        area: area.map(|a| a.as_str().to_owned()),
        year,
        by_category: CATEGORIES.into_iter().map(|c| (c, 0)).collect(),
        by_risk: RiskType::ALL.into_iter().map(|r| (r, 0)).collect(),
        ..Figures::default()
    };
    let mut townships: BTreeMap<String, AreaFigures> = BTreeMap::new();
    let mut villages: BTreeMap<String, AreaFigures> = BTreeMap::new();
    for record in &records {
        let (monitored, identifying) = match record.status {
            MonitoringStatus::Monitored => (1, 0),
            MonitoringStatus::Identifying => (0, 1),
            _ => continue,
        };
        figures.monitored += monitored;
        figures.identifying += identifying;
        if monitored == 1 {
            for (category, count) in &mut figures.by_category {
                if *category == record.category {
                    *count += 1;
                }
            }
            let risks = RiskType::split(&record.risk_types);
            for (risk, count) in &mut figures.by_risk {
                if risks.contains(risk) {
                    *count += 1;
                }
            }
        }
        // The township's code, padded as codes are kept.
        let township = format!("{}000", record.village_code.get(..9).unwrap_or_default());
        for (map, code) in [
            (&mut townships, township),
            (&mut villages, record.village_code.clone()),
        ] {
            let entry = map.entry(code.clone()).or_insert_with(|| AreaFigures {
                code,
                ..AreaFigures::default()
            });
            entry.monitored += monitored;
            entry.identifying += identifying;
        }
    }
    let names = areas::names_of(conn, townships.keys().chain(villages.keys()).cloned()).await?;
    for entry in townships.values_mut().chain(villages.values_mut()) {
        entry.name = names.get(&entry.code).cloned().unwrap_or_default();
    }
    figures.by_township = townships.into_values().collect();
    figures.by_village = villages.into_values().collect();

    // What happened this year, from the steps taken this year.
    let mut cases = monitoring_case::Entity::find();
    if let Some(prefix) = &prefix {
        cases = cases.filter(monitoring_case::Column::VillageCode.starts_with(prefix));
    }
    let cases: BTreeMap<i64, i64> = cases
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.monitored_id))
        .collect();
    let (confirm, eliminate) = (
        MonitoringAction::Confirm.name(),
        MonitoringAction::Eliminate.name(),
    );
    let steps = monitoring_case_step::Entity::find()
        .filter(monitoring_case_step::Column::At.gte(from))
        .filter(monitoring_case_step::Column::At.lt(until))
        .filter(monitoring_case_step::Column::Action.is_in([confirm, eliminate]))
        .all(conn)
        .await?;
    let mut identified = BTreeSet::new();
    let mut eliminated = BTreeSet::new();
    for step in steps {
        let Some(monitored) = cases.get(&step.case_id) else {
            continue;
        };
        if step.action == confirm {
            identified.insert(*monitored);
        } else {
            eliminated.insert(*monitored);
        }
    }
    figures.identified = identified.len() as u64;
    figures.eliminated = eliminated.len() as u64;

    // Helped: the households monitored this year with help given this year.
    let monitored_this_year: BTreeSet<i64> = records
        .iter()
        .filter(|r| {
            r.status == MonitoringStatus::Monitored
                || (r.status == MonitoringStatus::Eliminated && eliminated.contains(&r.id))
        })
        .map(|r| r.household_id)
        .collect();
    let first_day = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let next_year = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("a valid year");
    let mut help = help_record::Entity::find()
        .filter(help_record::Column::GivenOn.gte(first_day))
        .filter(help_record::Column::GivenOn.lt(next_year));
    if let Some(prefix) = &prefix {
        help = help.filter(help_record::Column::VillageCode.starts_with(prefix));
    }
    let helped: BTreeSet<i64> = help
        .all(conn)
        .await?
        .into_iter()
        .map(|h| h.household_id)
        .filter(|id| monitored_this_year.contains(id))
        .collect();
    figures.helped = helped.len() as u64;

    // Returned: the households marked so this year, as the audit log has it.
    let mut returns = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("household.returned_to_poverty"))
        .filter(audit_log::Column::At.gte(from))
        .filter(audit_log::Column::At.lt(until));
    if let Some(prefix) = &prefix {
        returns = returns.filter(audit_log::Column::AreaCode.starts_with(prefix));
    }
    let returned: BTreeSet<String> = returns
        .all(conn)
        .await?
        .into_iter()
        .map(|e| e.entity_id)
        .collect();
    figures.returned = returned.len() as u64;
    Ok(figures)
}
