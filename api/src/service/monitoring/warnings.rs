//! Warnings (预警): the registered households of an official's area that a cadre should visit,
//! each with why, from what the system already records for the year:
//!
//! - income per person at or below the monitoring line (only when some income is recorded for
//!   the year: no record is no figure, not a zero);
//! - income per person above the line by at most `monitoring_margin_percent` of it;
//! - a check of the year (food, clothing, schooling, medical, housing, water) recorded as not met;
//! - e-commerce income counted in the year's income that fell by at least
//!   `monitoring_ecommerce_drop_percent` from the year before (held orders do not count);
//! - a sector's list (health insurance, civil affairs, emergency management, education) naming
//!   one of its members, for an event in the year.
//!
//! Households with an open monitoring record (being identified, or monitored) are left out:
//! they are already on the cadre's monitoring work. Households whose risk was eliminated, or
//! that were not identified, appear again when a reason holds.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use entities::{
    household::{self, HouseholdStatus},
    household_check::{self, CheckKind},
    household_income, household_member, monitored_household,
    order::{self, IncomeConfirmation, OrderStatus},
    sector_record::{self, Sector},
    user::Role,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::MonitoringError;
use crate::{
    domain::{
        AreaCode,
        county_time::{self, Clock},
    },
    infra::db::Database,
    service::{
        exit::{assessment::check_name, rules::ExitRules},
        pagination::{Page, PageRequest},
        policy::Actor,
        reasons,
    },
};

/// Households read from the database at a time while a page of warnings is gathered.
const CHUNK: u64 = 200;

/// Why a household is on the list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarningReason {
    /// Income per person at or below the monitoring line.
    IncomeAtOrBelowLine { per_capita_fen: i64, line_fen: i64 },
    /// Above the line, by at most the margin.
    IncomeNearLine {
        per_capita_fen: i64,
        line_fen: i64,
        margin_percent: u32,
    },
    /// A check of the year recorded as not met.
    CheckNotMet {
        #[serde(serialize_with = "check_as_name")]
        check: CheckKind,
    },
    /// Counted e-commerce income fell sharply from the year before.
    EcommerceFell { previous_fen: i64, current_fen: i64 },
    /// A sector's list names a member.
    Sector {
        #[serde(serialize_with = "sector_as_name")]
        sector: Sector,
        what: String,
        on: NaiveDate,
    },
}

fn check_as_name<S: serde::Serializer>(check: &CheckKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(check_name(*check))
}

fn sector_as_name<S: serde::Serializer>(sector: &Sector, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(sector_name(*sector))
}

/// A sector as the API names it.
pub fn sector_name(sector: Sector) -> &'static str {
    match sector {
        Sector::HealthInsurance => "health_insurance",
        Sector::CivilAffairs => "civil_affairs",
        Sector::Emergency => "emergency",
        Sector::Education => "education",
    }
}

/// A sector as a cadre reads it: 医保, 民政, 应急, 教育.
pub fn sector_zh(sector: Sector) -> &'static str {
    match sector {
        Sector::HealthInsurance => "医保",
        Sector::CivilAffairs => "民政",
        Sector::Emergency => "应急",
        Sector::Education => "教育",
    }
}

fn sector_en(sector: Sector) -> &'static str {
    match sector {
        Sector::HealthInsurance => "Health insurance",
        Sector::CivilAffairs => "Civil affairs",
        Sector::Emergency => "Emergency management",
        Sector::Education => "Education",
    }
}

fn check_zh(check: CheckKind) -> &'static str {
    match check {
        CheckKind::Food => "吃",
        CheckKind::Clothing => "穿",
        CheckKind::Education => "义务教育",
        CheckKind::Medical => "基本医疗",
        CheckKind::Housing => "住房安全",
        CheckKind::Water => "饮水安全",
    }
}

/// Yuan with two decimals from fen: `5,999.99`.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

impl WarningReason {
    pub fn kind(&self) -> &'static str {
        match self {
            WarningReason::IncomeAtOrBelowLine { .. } => "income_at_or_below_line",
            WarningReason::IncomeNearLine { .. } => "income_near_line",
            WarningReason::CheckNotMet { .. } => "check_not_met",
            WarningReason::EcommerceFell { .. } => "ecommerce_fell",
            WarningReason::Sector { .. } => "sector",
        }
    }

    /// The reason in plain Chinese.
    pub fn zh(&self) -> String {
        match self {
            WarningReason::IncomeAtOrBelowLine {
                per_capita_fen,
                line_fen,
            } => format!(
                "人均收入 {} 元，不高于监测标准 {} 元",
                yuan(*per_capita_fen),
                yuan(*line_fen)
            ),
            WarningReason::IncomeNearLine {
                per_capita_fen,
                line_fen,
                margin_percent,
            } => format!(
                "人均收入 {} 元，比监测标准 {} 元只高出不超过 {}%",
                yuan(*per_capita_fen),
                yuan(*line_fen),
                margin_percent
            ),
            WarningReason::CheckNotMet { check } => {
                format!("{}这一项核实为没有保障", check_zh(*check))
            }
            WarningReason::EcommerceFell {
                previous_fen,
                current_fen,
            } => format!(
                "网上卖货收入从去年的 {} 元降到 {} 元",
                yuan(*previous_fen),
                yuan(*current_fen)
            ),
            WarningReason::Sector { sector, what, on } => format!(
                "{}：{}（{}年{}月{}日）",
                sector_zh(*sector),
                what,
                chrono::Datelike::year(on),
                chrono::Datelike::month(on),
                chrono::Datelike::day(on)
            ),
        }
    }

    pub fn en(&self) -> String {
        match self {
            WarningReason::IncomeAtOrBelowLine {
                per_capita_fen,
                line_fen,
            } => format!(
                "Income per person {} yuan, not above the monitoring line of {} yuan",
                yuan(*per_capita_fen),
                yuan(*line_fen)
            ),
            WarningReason::IncomeNearLine {
                per_capita_fen,
                line_fen,
                margin_percent,
            } => format!(
                "Income per person {} yuan, within {}% above the monitoring line of {} yuan",
                yuan(*per_capita_fen),
                margin_percent,
                yuan(*line_fen)
            ),
            WarningReason::CheckNotMet { check } => {
                format!("The {} check was found not met", check_name(*check))
            }
            WarningReason::EcommerceFell {
                previous_fen,
                current_fen,
            } => format!(
                "E-commerce income fell from {} yuan last year to {} yuan",
                yuan(*previous_fen),
                yuan(*current_fen)
            ),
            WarningReason::Sector { sector, what, on } => {
                format!("{}: {} ({on})", sector_en(*sector), what)
            }
        }
    }
}

/// What the records say of one household for the year, as the rules read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub members: i64,
    /// The year's recorded income, if any is recorded.
    pub income_fen: Option<i64>,
    pub failed_checks: Vec<CheckKind>,
    /// Counted e-commerce income of the year and of the year before.
    pub ecommerce_fen: i64,
    pub ecommerce_previous_fen: i64,
    /// Sector list entries of the year naming a member.
    pub sector: Vec<(Sector, String, NaiveDate)>,
}

/// Why the facts warn, by the rules; empty when nothing does. Each rule at its edge:
/// income per person equal to the line is at the line; equal to the line plus the margin is
/// near it; e-commerce income that fell by exactly the percentage has fallen sharply.
pub fn reasons_for(facts: &Facts, rules: &ExitRules, line_fen: i64) -> Vec<WarningReason> {
    let mut found = Vec::new();
    if let (Some(income), true) = (facts.income_fen, facts.members > 0) {
        let per_capita_fen = income / facts.members;
        let margin = i128::from(rules.monitoring_margin_percent);
        if per_capita_fen <= line_fen {
            found.push(WarningReason::IncomeAtOrBelowLine {
                per_capita_fen,
                line_fen,
            });
        } else if i128::from(per_capita_fen) * 100 <= i128::from(line_fen) * (100 + margin) {
            found.push(WarningReason::IncomeNearLine {
                per_capita_fen,
                line_fen,
                margin_percent: rules.monitoring_margin_percent,
            });
        }
    }
    let mut failed = facts.failed_checks.clone();
    failed.sort_by_key(|c| check_name(*c));
    failed.dedup();
    found.extend(
        failed
            .into_iter()
            .map(|check| WarningReason::CheckNotMet { check }),
    );
    let drop = i128::from(rules.monitoring_ecommerce_drop_percent);
    let (previous, current) = (facts.ecommerce_previous_fen, facts.ecommerce_fen);
    if previous > 0 && i128::from(current) * 100 <= i128::from(previous) * (100 - drop) {
        found.push(WarningReason::EcommerceFell {
            previous_fen: previous,
            current_fen: current,
        });
    }
    found.extend(
        facts
            .sector
            .iter()
            .map(|(sector, what, on)| WarningReason::Sector {
                sector: *sector,
                what: what.clone(),
                on: *on,
            }),
    );
    found
}

/// A household to visit, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub household_id: i64,
    pub household_number: String,
    pub village_code: String,
    pub status: HouseholdStatus,
    /// The head's name, when a head is registered.
    pub head: Option<String>,
    pub reasons: Vec<WarningReason>,
}

/// The warnings of a year.
#[derive(Clone, Debug)]
pub struct Warnings {
    pub year: i32,
    pub line_fen: i64,
    pub page: Page<Warning>,
}

/// The warnings of `area` (default: the official's own) for `year` (default: this year in the
/// county), in the order households were registered, a page at a time.
pub async fn list(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    actor: &Actor,
    area: Option<AreaCode>,
    year: Option<i32>,
    page: &PageRequest,
) -> Result<Warnings, MonitoringError> {
    let prefix = match area.or_else(|| actor.area.clone()) {
        Some(area) if actor.governs(&area) => Some(area.descendant_prefix().to_owned()),
        None if actor.role == Role::Admin => None,
        _ => return Err(MonitoringError::Forbidden),
    };
    let this_year = county_time::year_of(clock.now());
    let year = year.unwrap_or(this_year);
    if year > this_year || year < 2000 {
        return Err(MonitoringError::Invalid(
            reasons::monitoring_year_out_of_range(),
        ));
    }
    let line_fen = rules
        .monitoring_line_fen(year)
        .ok_or_else(|| MonitoringError::Invalid(reasons::monitoring_no_line()))?;
    let mut after = page
        .after
        .as_deref()
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(0);
    let mut found: Vec<Warning> = Vec::new();
    let conn = db.conn();
    while (found.len() as u64) < page.fetch_limit() {
        let mut query = household::Entity::find().filter(household::Column::Id.gt(after));
        if let Some(prefix) = &prefix {
            query = query.filter(household::Column::VillageCode.starts_with(prefix.as_str()));
        }
        let chunk = query
            .order_by_asc(household::Column::Id)
            .limit(CHUNK)
            .all(conn)
            .await?;
        let Some(last) = chunk.last() else { break };
        after = last.id;
        let ids: Vec<i64> = chunk.iter().map(|h| h.id).collect();
        let mut facts = facts_of(conn, &ids, year).await?;
        let open: HashSet<i64> = monitored_household::Entity::find()
            .filter(monitored_household::Column::HouseholdId.is_in(ids.clone()))
            .filter(monitored_household::Column::Open.eq(true))
            .all(conn)
            .await?
            .into_iter()
            .map(|m| m.household_id)
            .collect();
        for h in chunk {
            if open.contains(&h.id) {
                continue;
            }
            let (f, head) = facts.remove(&h.id).unwrap_or_default();
            let reasons = reasons_for(&f, rules, line_fen);
            if reasons.is_empty() {
                continue;
            }
            found.push(Warning {
                household_id: h.id,
                household_number: h.household_number,
                village_code: h.village_code,
                status: h.status,
                head,
                reasons,
            });
            if found.len() as u64 >= page.fetch_limit() {
                break;
            }
        }
    }
    Ok(Warnings {
        year,
        line_fen,
        page: Page::from_rows(found, page, |w| w.household_id.to_string()),
    })
}

/// The facts of the households `ids` for `year`, with each head's name.
async fn facts_of(
    conn: &impl sea_orm::ConnectionTrait,
    ids: &[i64],
    year: i32,
) -> Result<HashMap<i64, (Facts, Option<String>)>, sea_orm::DbErr> {
    let mut facts: HashMap<i64, (Facts, Option<String>)> = HashMap::new();
    let members = household_member::Entity::find()
        .filter(household_member::Column::HouseholdId.is_in(ids.to_vec()))
        .all(conn)
        .await?;
    for m in members {
        let entry = facts.entry(m.household_id).or_default();
        entry.0.members += 1;
        if m.relation == household_member::MemberRelation::Head {
            entry.1 = Some(m.name.clone());
        }
    }
    for income in household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.is_in(ids.to_vec()))
        .filter(household_income::Column::Year.eq(year))
        .all(conn)
        .await?
    {
        let entry = &mut facts.entry(income.household_id).or_default().0;
        *entry.income_fen.get_or_insert(0) += income.amount_fen;
    }
    for check in household_check::Entity::find()
        .filter(household_check::Column::HouseholdId.is_in(ids.to_vec()))
        .filter(household_check::Column::Year.eq(year))
        .filter(household_check::Column::Passed.eq(false))
        .all(conn)
        .await?
    {
        let entry = &mut facts.entry(check.household_id).or_default().0;
        entry.failed_checks.push(check.check);
    }
    for o in order::Entity::find()
        .filter(order::Column::HouseholdId.is_in(ids.to_vec()))
        .filter(order::Column::IncomeYear.is_in([year, year - 1]))
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .all(conn)
        .await?
    {
        // Orders held for a second official's confirmation are not income.
        if o.income_confirmation == Some(IncomeConfirmation::Pending) {
            continue;
        }
        let entry = &mut facts.entry(o.household_id).or_default().0;
        if o.income_year == Some(year) {
            entry.ecommerce_fen += o.amount_fen;
        } else {
            entry.ecommerce_previous_fen += o.amount_fen;
        }
    }
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let mut sector: BTreeMap<(i64, i64), (Sector, String, NaiveDate)> = BTreeMap::new();
    for row in sector_record::Entity::find()
        .filter(sector_record::Column::HouseholdId.is_in(ids.to_vec()))
        .filter(sector_record::Column::HappenedOn.between(from, to))
        .all(conn)
        .await?
    {
        if let Some(household) = row.household_id {
            sector.insert((household, row.id), (row.sector, row.what, row.happened_on));
        }
    }
    for ((household, _), entry) in sector {
        facts.entry(household).or_default().0.sector.push(entry);
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn rules() -> ExitRules {
        ExitRules::new(&Settings::default().exit_rules()).unwrap()
    }

    fn kinds(facts: &Facts) -> Vec<&'static str> {
        reasons_for(facts, &rules(), 600_000)
            .iter()
            .map(WarningReason::kind)
            .collect()
    }

    fn income(per_capita_fen: i64) -> Facts {
        Facts {
            members: 1,
            income_fen: Some(per_capita_fen),
            ..Facts::default()
        }
    }

    #[test]
    fn each_rule_at_and_around_its_edge() {
        assert_eq!(kinds(&income(600_000)), ["income_at_or_below_line"]);
        assert_eq!(kinds(&income(599_999)), ["income_at_or_below_line"]);
        assert_eq!(kinds(&income(0)), ["income_at_or_below_line"]);
        assert_eq!(kinds(&income(600_001)), ["income_near_line"]);
        assert_eq!(kinds(&income(660_000)), ["income_near_line"]);
        assert!(kinds(&income(660_001)).is_empty());
        assert!(kinds(&Facts::default()).is_empty(), "no income recorded");
        let halved = Facts {
            ecommerce_previous_fen: 10_000,
            ecommerce_fen: 5_000,
            ..Facts::default()
        };
        assert_eq!(kinds(&halved), ["ecommerce_fell"]);
        let less = Facts {
            ecommerce_fen: 5_001,
            ..halved.clone()
        };
        assert!(kinds(&less).is_empty());
        let none_before = Facts {
            ecommerce_previous_fen: 0,
            ..halved
        };
        assert!(kinds(&none_before).is_empty());
        let failed = Facts {
            failed_checks: vec![CheckKind::Water, CheckKind::Water],
            ..Facts::default()
        };
        assert_eq!(kinds(&failed), ["check_not_met"]);
    }

    #[test]
    fn reasons_read_in_plain_chinese() {
        let reason = WarningReason::Sector {
            sector: Sector::HealthInsurance,
            what: "大额医疗支出".into(),
            on: NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(),
        };
        assert_eq!(reason.zh(), "医保：大额医疗支出（2026年3月9日）");
        let fell = WarningReason::EcommerceFell {
            previous_fen: 1_234_567,
            current_fen: 5,
        };
        assert_eq!(fell.zh(), "网上卖货收入从去年的 12,345.67 元降到 0.05 元");
    }
}
