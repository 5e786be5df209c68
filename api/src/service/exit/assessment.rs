//! Whether a household or a village qualifies to exit in a year, and which criteria fail.
//! Recording the checks and indicators the assessment reads.

use chrono::Utc;
use entities::{
    area,
    household::{self, HouseholdStatus},
    household_check::{self, CheckKind},
    household_income, household_member,
    order::{self, IncomeConfirmation, OrderStatus},
    village_indicator,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, Iterable, PaginatorTrait, QueryFilter, TryIntoModel,
};
use serde::Serialize;
use serde_json::json;

use super::{
    ExitError,
    rules::{ExitRules, Indicator},
};
use crate::{
    domain::AreaCode,
    infra::db::Database,
    service::{
        audit::{self, NewAuditEntry},
        policy::{Action, Actor},
        users::Origin,
    },
};

/// A criterion that is not met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "criterion", rename_all = "snake_case")]
pub enum Failing {
    /// No income line is configured for the year.
    NoIncomeLine,
    /// Per-capita income is not above the line.
    IncomeAtOrBelowLine {
        per_capita_fen: i64,
        line_fen: i64,
    },
    /// The check has not been recorded for the year.
    CheckMissing {
        check: &'static str,
    },
    CheckFailed {
        check: &'static str,
    },
    /// Members without basic medical insurance.
    MembersUninsured {
        count: usize,
    },
    /// Poverty incidence is not below the threshold.
    IncidenceTooHigh {
        incidence_bp: i64,
        threshold_bp: i64,
    },
    IndicatorsMissing,
    IndicatorUnmet {
        indicator: &'static str,
    },
}

/// One check as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedCheck {
    pub check: CheckKind,
    pub record: Option<household_check::Model>,
}

/// A household's assessment for a year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdAssessment {
    pub household_id: i64,
    pub year: i32,
    pub members: usize,
    pub income_fen: i64,
    pub per_capita_fen: i64,
    pub line_fen: Option<i64>,
    pub checks: Vec<RecordedCheck>,
    pub failing: Vec<Failing>,
    /// The year's completed orders by how their income was confirmed.
    pub ecommerce: EcommerceIncome,
}

/// E-commerce income of a year by how it was confirmed, in fen. All but `held_fen` is counted
/// in the income; `held_fen` waits for a second official.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EcommerceIncome {
    /// Completed by a buyer with no tie to the household.
    pub by_buyer_fen: i64,
    /// Completed by an official for such a buyer.
    pub by_official_fen: i64,
    /// Bought by someone close to the household, confirmed by a second official.
    pub by_second_official_fen: i64,
    /// Completed before how orders were confirmed was recorded.
    pub unrecorded_fen: i64,
    /// Bought by someone close to the household and not yet confirmed: not income.
    pub held_fen: i64,
    /// How many orders are held.
    pub held_orders: u64,
}

/// The household's completed orders of the year, by how their income was confirmed.
pub async fn ecommerce_income(
    conn: &impl ConnectionTrait,
    household_id: i64,
    year: i32,
) -> Result<EcommerceIncome, DbErr> {
    let orders = order::Entity::find()
        .filter(order::Column::HouseholdId.eq(household_id))
        .filter(order::Column::IncomeYear.eq(year))
        .filter(order::Column::Status.eq(OrderStatus::Completed))
        .all(conn)
        .await?;
    let mut income = EcommerceIncome::default();
    for o in orders {
        let into = match o.income_confirmation {
            Some(IncomeConfirmation::Buyer) => &mut income.by_buyer_fen,
            Some(IncomeConfirmation::Official) => &mut income.by_official_fen,
            Some(IncomeConfirmation::SecondOfficial) => &mut income.by_second_official_fen,
            Some(IncomeConfirmation::Pending) => {
                income.held_orders += 1;
                &mut income.held_fen
            }
            Some(IncomeConfirmation::Unrecorded) | None => &mut income.unrecorded_fen,
        };
        *into += o.amount_fen;
    }
    Ok(income)
}

impl HouseholdAssessment {
    pub fn qualifies(&self) -> bool {
        self.failing.is_empty()
    }
}

pub fn check_name(check: CheckKind) -> &'static str {
    match check {
        CheckKind::Food => "food",
        CheckKind::Clothing => "clothing",
        CheckKind::Education => "education",
        CheckKind::Medical => "medical",
        CheckKind::Housing => "housing",
        CheckKind::Water => "water",
    }
}

/// Assesses a household as the records stand.
pub async fn assess_household(
    conn: &impl ConnectionTrait,
    rules: &ExitRules,
    household_id: i64,
    year: i32,
) -> Result<HouseholdAssessment, DbErr> {
    let members = household_member::Entity::find()
        .filter(household_member::Column::HouseholdId.eq(household_id))
        .all(conn)
        .await?;
    let income_fen: i64 = household_income::Entity::find()
        .filter(household_income::Column::HouseholdId.eq(household_id))
        .filter(household_income::Column::Year.eq(year))
        .all(conn)
        .await?
        .iter()
        .map(|r| r.amount_fen)
        .sum();
    let recorded = household_check::Entity::find()
        .filter(household_check::Column::HouseholdId.eq(household_id))
        .filter(household_check::Column::Year.eq(year))
        .all(conn)
        .await?;

    let per_capita_fen = if members.is_empty() {
        0
    } else {
        income_fen / members.len() as i64
    };
    let line_fen = rules.income_line_fen(year);
    let mut failing = Vec::new();
    match line_fen {
        None => failing.push(Failing::NoIncomeLine),
        Some(line_fen) if per_capita_fen <= line_fen => {
            failing.push(Failing::IncomeAtOrBelowLine {
                per_capita_fen,
                line_fen,
            })
        }
        Some(_) => {}
    }
    let checks: Vec<RecordedCheck> = CheckKind::iter()
        .map(|check| RecordedCheck {
            check,
            record: recorded.iter().find(|r| r.check == check).cloned(),
        })
        .collect();
    for c in &checks {
        let check = check_name(c.check);
        match &c.record {
            None => failing.push(Failing::CheckMissing { check }),
            Some(r) if !r.passed => failing.push(Failing::CheckFailed { check }),
            Some(_) => {}
        }
    }
    let uninsured = members.iter().filter(|m| !m.medical_insurance).count();
    if uninsured > 0 {
        failing.push(Failing::MembersUninsured { count: uninsured });
    }
    let ecommerce = ecommerce_income(conn, household_id, year).await?;
    Ok(HouseholdAssessment {
        ecommerce,
        household_id,
        year,
        members: members.len(),
        income_fen,
        per_capita_fen,
        line_fen,
        checks,
        failing,
    })
}

/// A village's assessment for a year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VillageAssessment {
    pub village_code: String,
    pub year: i32,
    /// Registered people still `poor`, `exit_pending` or `returned`.
    pub poor_people: i64,
    pub rural_population: i64,
    pub incidence_bp: i64,
    pub threshold_bp: i64,
    pub indicators: Option<village_indicator::Model>,
    pub failing: Vec<Failing>,
}

impl VillageAssessment {
    pub fn qualifies(&self) -> bool {
        self.failing.is_empty()
    }
}

/// Poverty incidence in basis points for display, rounded up so a village never looks better
/// than it is.
pub fn incidence_bp(poor_people: i64, rural_population: i64) -> i64 {
    if rural_population <= 0 {
        return if poor_people > 0 { 10_000 } else { 0 };
    }
    (poor_people * 10_000 + rural_population - 1) / rural_population
}

/// The statuses that count as still poor.
pub const STILL_POOR: [HouseholdStatus; 3] = [
    HouseholdStatus::Poor,
    HouseholdStatus::ExitPending,
    HouseholdStatus::Returned,
];

pub async fn assess_village(
    conn: &impl ConnectionTrait,
    rules: &ExitRules,
    village: &area::Model,
    year: i32,
) -> Result<VillageAssessment, DbErr> {
    let poor_people = household_member::Entity::find()
        .inner_join(household::Entity)
        .filter(household::Column::VillageCode.eq(&village.code))
        .filter(household::Column::Status.is_in(STILL_POOR.map(|s| s.to_value())))
        .count(conn)
        .await? as i64;
    let indicators = village_indicator::Entity::find()
        .filter(village_indicator::Column::VillageCode.eq(&village.code))
        .filter(village_indicator::Column::Year.eq(year))
        .one(conn)
        .await?;
    let incidence = incidence_bp(poor_people, village.rural_population);
    let mut failing = Vec::new();
    // Strictly below, compared exactly (poor / population < threshold): a village at the
    // threshold has not got below it.
    let below = poor_people * 10_000 < rules.incidence_threshold_bp * village.rural_population;
    if !below {
        failing.push(Failing::IncidenceTooHigh {
            incidence_bp: incidence,
            threshold_bp: rules.incidence_threshold_bp,
        });
    }
    match &indicators {
        None => failing.push(Failing::IndicatorsMissing),
        Some(row) => {
            for indicator in &rules.required_indicators {
                let met = match indicator {
                    Indicator::HardenedRoad => row.hardened_road,
                    Indicator::SafeWater => row.safe_water,
                    Indicator::Power => row.power,
                    Indicator::Broadband => row.broadband,
                    Indicator::Clinic => row.clinic,
                    Indicator::CulturalRoom => row.cultural_room,
                    Indicator::CollectiveIncome => {
                        row.collective_income_fen >= rules.min_collective_income_fen
                    }
                };
                if !met {
                    failing.push(Failing::IndicatorUnmet {
                        indicator: indicator.name(),
                    });
                }
            }
        }
    }
    Ok(VillageAssessment {
        village_code: village.code.clone(),
        year,
        poor_people,
        rural_population: village.rural_population,
        incidence_bp: incidence,
        threshold_bp: rules.incidence_threshold_bp,
        indicators,
        failing,
    })
}

/// A check to record.
#[derive(Clone, Debug)]
pub struct NewCheck {
    pub check: CheckKind,
    pub passed: bool,
    pub note: Option<String>,
    pub evidence_url: Option<String>,
}

fn valid_year(year: i32) -> Result<(), ExitError> {
    let this_year = crate::domain::county_time::year_of(Utc::now());
    if (2014..=this_year).contains(&year) {
        Ok(())
    } else {
        Err(ExitError::Invalid(
            crate::service::reasons::assessment_year(this_year),
        ))
    }
}

fn clean_text(text: Option<String>, what: (&str, &str)) -> Result<Option<String>, ExitError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(ExitError::Invalid(crate::service::reasons::text_length(
            what.0, what.1, 500,
        )));
    }
    Ok(text)
}

/// Records (or re-records) one check of a household's year, by an official of its area.
pub async fn record_check(
    db: &Database,
    rules: &ExitRules,
    actor: &Actor,
    household_id: i64,
    year: i32,
    new: NewCheck,
    origin: &Origin,
) -> Result<HouseholdAssessment, ExitError> {
    valid_year(year)?;
    let note = clean_text(new.note, ("说明", "A note"))?;
    let evidence_url = clean_text(new.evidence_url, ("证明材料链接", "An evidence link"))?;
    let txn = db.begin_write().await?;
    let household = super::household_for(&txn, actor, household_id, Action::Update).await?;
    let existing = household_check::Entity::find()
        .filter(household_check::Column::HouseholdId.eq(household_id))
        .filter(household_check::Column::Year.eq(year))
        .filter(household_check::Column::Check.eq(new.check.to_value()))
        .one(&txn)
        .await?;
    let before = existing
        .as_ref()
        .map(|r| json!({ "passed": r.passed, "note": r.note, "checked_by": r.checked_by }));
    let now = Utc::now();
    let mut active = match existing {
        Some(row) => row.into_active_model(),
        None => household_check::ActiveModel {
            household_id: Set(household_id),
            year: Set(year),
            check: Set(new.check),
            ..Default::default()
        },
    };
    active.passed = Set(new.passed);
    active.note = Set(note.clone());
    active.evidence_url = Set(evidence_url.clone());
    active.checked_by = Set(actor.user_id);
    active.checked_at = Set(now);
    active.save(&txn).await?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "assessment.check_recorded",
            entity: "household",
            entity_id: household_id.to_string(),
            area_code: Some(household.village_code.clone()),
            before,
            after: Some(json!({
                "year": year,
                "check": check_name(new.check),
                "passed": new.passed,
                "note": note,
                "evidence_url": evidence_url,
            })),
        },
    )
    .await?;
    let assessment = assess_household(&txn, rules, household_id, year).await?;
    txn.commit().await?;
    Ok(assessment)
}

/// A household's assessment, for officials of its area and its own farmer.
pub async fn household_assessment(
    db: &Database,
    rules: &ExitRules,
    actor: &Actor,
    household_id: i64,
    year: i32,
) -> Result<HouseholdAssessment, ExitError> {
    super::household_for(db.conn(), actor, household_id, Action::Read).await?;
    Ok(assess_household(db.conn(), rules, household_id, year).await?)
}

/// A village's indicators for a year.
#[derive(Clone, Debug)]
pub struct NewIndicators {
    pub hardened_road: bool,
    pub safe_water: bool,
    pub power: bool,
    pub broadband: bool,
    pub clinic: bool,
    pub cultural_room: bool,
    pub collective_income_fen: i64,
}

pub async fn record_indicators(
    db: &Database,
    rules: &ExitRules,
    actor: &Actor,
    village_code: &AreaCode,
    year: i32,
    new: NewIndicators,
    origin: &Origin,
) -> Result<VillageAssessment, ExitError> {
    valid_year(year)?;
    let most = crate::service::households::incomes::MAX_AMOUNT_FEN;
    if !(0..=most).contains(&new.collective_income_fen) {
        return Err(ExitError::Invalid(
            crate::service::reasons::collective_income_range(most / 100),
        ));
    }
    let txn = db.begin_write().await?;
    let village = super::village_in_reach(&txn, actor, village_code, Action::Update).await?;
    let existing = village_indicator::Entity::find()
        .filter(village_indicator::Column::VillageCode.eq(&village.code))
        .filter(village_indicator::Column::Year.eq(year))
        .one(&txn)
        .await?;
    let before = existing.as_ref().map(indicators_json);
    let mut active = match existing {
        Some(row) => row.into_active_model(),
        None => village_indicator::ActiveModel {
            village_code: Set(village.code.clone()),
            year: Set(year),
            ..Default::default()
        },
    };
    active.hardened_road = Set(new.hardened_road);
    active.safe_water = Set(new.safe_water);
    active.power = Set(new.power);
    active.broadband = Set(new.broadband);
    active.clinic = Set(new.clinic);
    active.cultural_room = Set(new.cultural_room);
    active.collective_income_fen = Set(new.collective_income_fen);
    active.recorded_by = Set(actor.user_id);
    active.recorded_at = Set(Utc::now());
    let saved = active.save(&txn).await?;
    let saved = saved.try_into_model()?;
    audit::append(
        &txn,
        NewAuditEntry {
            actor_user_id: Some(actor.user_id),
            actor_ip: origin.ip.clone(),
            action: "assessment.village_indicators_recorded",
            entity: "village",
            entity_id: village.code.clone(),
            area_code: Some(village.code.clone()),
            before,
            after: Some(indicators_json(&saved)),
        },
    )
    .await?;
    let assessment = assess_village(&txn, rules, &village, year).await?;
    txn.commit().await?;
    Ok(assessment)
}

pub async fn village_assessment(
    db: &Database,
    rules: &ExitRules,
    actor: &Actor,
    village_code: &AreaCode,
    year: i32,
) -> Result<VillageAssessment, ExitError> {
    let village = super::village_in_reach(db.conn(), actor, village_code, Action::Read).await?;
    Ok(assess_village(db.conn(), rules, &village, year).await?)
}

fn indicators_json(row: &village_indicator::Model) -> serde_json::Value {
    json!({
        "year": row.year,
        "hardened_road": row.hardened_road,
        "safe_water": row.safe_water,
        "power": row.power,
        "broadband": row.broadband,
        "clinic": row.clinic,
        "cultural_room": row.cultural_room,
        "collective_income_fen": row.collective_income_fen,
    })
}
