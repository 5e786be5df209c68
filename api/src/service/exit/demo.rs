//! The demo county part-way to its goals, so the dashboard has something true to show: income
//! and checks recorded for the 2019 assessment, 60 poor villages de-listed and 20 in public
//! notice (every household in them exited), and households in 30 more villages at the early
//! steps of the procedure. Every number the dashboard shows is backed by these rows: exited
//! households have income above the line and every check passed, and their cases are on
//! record, marked as completed before the system was in use.

use std::collections::HashMap;

use chrono::Utc;
use entities::{
    area,
    exit_case::{self, ExitState, ExitSubject},
    exit_case_step,
    household::{self, ExitSource, HouseholdStatus},
    household_check::{self, CheckKind},
    household_income::{self, IncomeSource},
    household_member, user, village_indicator,
};
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr,
    EntityTrait, Iterable, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use serde_json::json;

use super::rules::ExitRules;
use crate::service::audit::{self, NewAuditEntry};

pub const DEMO_YEAR: i32 = 2019;
pub const DEMO_VILLAGES_EXITED: usize = 60;
pub const DEMO_VILLAGES_IN_NOTICE: usize = 20;
const DEMO_VILLAGES_STARTED: usize = 30;
const DEMO_OFFICIAL_PHONE: &str = "19900000000";
const CHUNK: usize = 400;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoProgress {
    pub households_exited: usize,
    pub households_in_procedure: usize,
}

/// Records the demo county's progress, once: nothing happens when exit cases exist already.
pub async fn seed_demo_progress(
    txn: &DatabaseTransaction,
    rules: &ExitRules,
) -> Result<DemoProgress, DbErr> {
    if exit_case::Entity::find().count(txn).await? > 0 {
        return Ok(DemoProgress::default());
    }
    let line_fen = rules.income_line_fen(DEMO_YEAR).unwrap_or(374_700);
    let official = demo_official(txn).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(2019);

    let mut villages: Vec<String> = area::Entity::find()
        .select_only()
        .column(area::Column::Code)
        .filter(area::Column::IsPoorVillage.eq(true))
        .into_tuple()
        .all(txn)
        .await?;
    villages.sort();
    villages.shuffle(&mut rng);
    let exited = &villages[..DEMO_VILLAGES_EXITED.min(villages.len())];
    let in_notice = villages
        .get(exited.len()..exited.len() + DEMO_VILLAGES_IN_NOTICE)
        .unwrap_or(&[]);
    let started_from = exited.len() + in_notice.len();
    let started = villages
        .get(started_from..started_from + DEMO_VILLAGES_STARTED)
        .unwrap_or(&[]);

    let households: Vec<(i64, String)> = household::Entity::find()
        .select_only()
        .column(household::Column::Id)
        .column(household::Column::VillageCode)
        .into_tuple()
        .all(txn)
        .await?;
    let sizes: HashMap<i64, i64> = household_member::Entity::find()
        .select_only()
        .column(household_member::Column::HouseholdId)
        .column_as(household_member::Column::Id.count(), "members")
        .group_by(household_member::Column::HouseholdId)
        .into_tuple::<(i64, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();

    let now = Utc::now();
    let mut incomes = Vec::new();
    let mut checks = Vec::new();
    // (household, village, state)
    let mut cases: Vec<(i64, String, ExitState)> = Vec::new();
    for (id, village) in &households {
        let members = sizes.get(id).copied().unwrap_or(1).max(1);
        let whole_village_out = exited.contains(village) || in_notice.contains(village);
        let stage = if whole_village_out {
            Some(ExitState::Announced)
        } else if started.contains(village) && rng.random_bool(0.3) {
            Some(
                *[
                    ExitState::Proposed,
                    ExitState::Appraised,
                    ExitState::Verified,
                ]
                .get(rng.random_range(0..3))
                .expect("three stages"),
            )
        } else {
            None
        };
        // Above the line for those on their way out; below it for most others.
        let per_capita = if stage.is_some() {
            line_fen + rng.random_range(30_000..500_000)
        } else {
            rng.random_range(line_fen / 2..line_fen + 40_000)
        };
        let total = per_capita * members;
        let farming = total * rng.random_range(20..60) / 100;
        for (source, amount) in [
            (IncomeSource::Wages, total - farming),
            (IncomeSource::Farming, farming),
        ] {
            incomes.push(household_income::ActiveModel {
                household_id: Set(*id),
                year: Set(DEMO_YEAR),
                source: Set(source),
                amount_fen: Set(amount),
                updated_by: Set(Some(official)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
        if let Some(stage) = stage {
            for check in CheckKind::iter() {
                checks.push(household_check::ActiveModel {
                    household_id: Set(*id),
                    year: Set(DEMO_YEAR),
                    check: Set(check),
                    passed: Set(true),
                    note: Set(Some("示范数据".into())),
                    evidence_url: Set(None),
                    checked_by: Set(official),
                    checked_at: Set(now),
                    ..Default::default()
                });
            }
            cases.push((*id, village.clone(), stage));
        }
    }
    for chunk in incomes.chunks(CHUNK) {
        household_income::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in checks.chunks(CHUNK) {
        household_check::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(txn)
            .await?;
    }

    let case_row =
        |subject, household_id, village: &str, state: ExitState| exit_case::ActiveModel {
            subject: Set(subject),
            household_id: Set(household_id),
            village_code: Set(village.to_owned()),
            year: Set(DEMO_YEAR),
            state: Set(state),
            open: Set(!matches!(state, ExitState::Announced | ExitState::Rejected)),
            notice_ends_at: Set((state == ExitState::PublicNotice).then(|| now + rules.notice)),
            proposed_by: Set(official),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
    let mut rows: Vec<exit_case::ActiveModel> = cases
        .iter()
        .map(|(id, village, state)| case_row(ExitSubject::Household, Some(*id), village, *state))
        .collect();
    rows.extend(
        exited
            .iter()
            .map(|v| case_row(ExitSubject::Village, None, v, ExitState::Announced)),
    );
    rows.extend(
        in_notice
            .iter()
            .map(|v| case_row(ExitSubject::Village, None, v, ExitState::PublicNotice)),
    );
    for chunk in rows.chunks(CHUNK) {
        exit_case::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(txn)
            .await?;
    }
    let stored: Vec<(i64, String)> = exit_case::Entity::find()
        .select_only()
        .column(exit_case::Column::Id)
        .column(exit_case::Column::State)
        .into_tuple()
        .all(txn)
        .await?;
    let steps: Vec<exit_case_step::ActiveModel> = stored
        .into_iter()
        .filter_map(|(id, state)| {
            let state = ExitState::try_from_value(&state).ok()?;
            Some(exit_case_step::ActiveModel {
                case_id: Set(id),
                from_state: Set(None),
                to_state: Set(state),
                action: Set("recorded".into()),
                actor_user_id: Set(Some(official)),
                reason: Set(Some("示范数据：系统启用前的退出程序记录".into())),
                at: Set(now),
                ..Default::default()
            })
        })
        .collect();
    for chunk in steps.chunks(CHUNK) {
        exit_case_step::Entity::insert_many(chunk.iter().cloned())
            .exec_without_returning(txn)
            .await?;
    }

    let indicators = exited
        .iter()
        .chain(in_notice)
        .map(|v| village_indicator::ActiveModel {
            village_code: Set(v.clone()),
            year: Set(DEMO_YEAR),
            hardened_road: Set(true),
            safe_water: Set(true),
            power: Set(true),
            broadband: Set(true),
            clinic: Set(true),
            cultural_room: Set(true),
            collective_income_fen: Set(rules.min_collective_income_fen + 2_000_000),
            recorded_by: Set(official),
            recorded_at: Set(now),
            ..Default::default()
        });
    village_indicator::Entity::insert_many(indicators)
        .exec_without_returning(txn)
        .await?;

    let (out, pending): (Vec<_>, Vec<_>) = cases
        .iter()
        .partition(|(_, _, state)| *state == ExitState::Announced);
    // Every member of a household on its way out is insured, as the medical check says.
    let on_the_way: Vec<i64> = cases.iter().map(|c| c.0).collect();
    for chunk in on_the_way.chunks(CHUNK) {
        household_member::Entity::update_many()
            .col_expr(
                household_member::Column::MedicalInsurance,
                Expr::value(true),
            )
            .filter(household_member::Column::HouseholdId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    for (ids, status) in [
        (
            out.iter().map(|c| c.0).collect::<Vec<_>>(),
            HouseholdStatus::Exited,
        ),
        (
            pending.iter().map(|c| c.0).collect::<Vec<_>>(),
            HouseholdStatus::ExitPending,
        ),
    ] {
        // Exited through the procedure in the demo's year, as its announced cases say.
        let (exit_year, exit_source) = match status {
            HouseholdStatus::Exited => (Some(DEMO_YEAR), Some(ExitSource::Procedure.to_value())),
            _ => (None, None),
        };
        for chunk in ids.chunks(CHUNK) {
            household::Entity::update_many()
                .col_expr(household::Column::Status, Expr::value(status.to_value()))
                .col_expr(household::Column::ExitYear, Expr::value(exit_year))
                .col_expr(
                    household::Column::ExitSource,
                    Expr::value(exit_source.clone()),
                )
                .filter(household::Column::Id.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?;
        }
    }
    // The de-listed villages are on record as de-listed through the procedure, like their cases.
    area::Entity::update_many()
        .col_expr(area::Column::DelistedYear, Expr::value(DEMO_YEAR))
        .col_expr(
            area::Column::DelistSource,
            Expr::value(ExitSource::Procedure.to_value()),
        )
        .filter(area::Column::Code.is_in(exited.iter().cloned()))
        .exec(txn)
        .await?;
    let report = DemoProgress {
        households_exited: out.len(),
        households_in_procedure: pending.len(),
    };
    audit::append(
        txn,
        NewAuditEntry {
            actor_user_id: None,
            action: "seed.demo_progress",
            entity: "county",
            entity_id: "demo".into(),
            after: Some(json!({
                "year": DEMO_YEAR,
                "villages_exited": exited.len(),
                "villages_in_notice": in_notice.len(),
                "households_exited": report.households_exited,
                "households_in_procedure": report.households_in_procedure,
            })),
            ..Default::default()
        },
    )
    .await?;
    Ok(report)
}

/// The account the demo's records name as their official: the county's poverty office.
async fn demo_official(txn: &DatabaseTransaction) -> Result<i64, DbErr> {
    if let Some(existing) = user::Entity::find()
        .filter(user::Column::Phone.eq(DEMO_OFFICIAL_PHONE))
        .one(txn)
        .await?
    {
        return Ok(existing.id);
    }
    let now = Utc::now();
    let county: Option<String> = area::Entity::find()
        .select_only()
        .column(area::Column::Code)
        .filter(area::Column::Level.eq(area::AreaLevel::County))
        .into_tuple()
        .one(txn)
        .await?;
    let official = user::ActiveModel {
        phone: Set(Some(DEMO_OFFICIAL_PHONE.into())),
        display_name: Set("示范县扶贫办（示范数据）".into()),
        role: Set(user::Role::CountyOfficial),
        area_code: Set(county),
        token_version: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(official.id)
}
