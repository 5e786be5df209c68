//! The demo county's monitored households (防返贫监测示范数据): exited households of one
//! village at each stage — a warning to visit, checked at home, in the village notice,
//! confirmed and helped, proposed for elimination, eliminated — each brought there by the
//! procedures' own services, step by step, with the clock set back to when each step would
//! have been taken; the confirmed ones with help and visits on file. Nothing is added when the
//! county has monitored households already.

use chrono::{DateTime, Duration, Utc};
use entities::{
    help_record::HelpKind,
    household::{self, HouseholdStatus},
    household_check::CheckKind,
    household_income::IncomeSource,
    household_member,
    monitored_household::{self, DiscoveryChannel, MonitoringCategory},
    user::{self, Role},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::{
    MonitoringError, RiskType,
    cases::{self, MonitoringAction, NewMonitoring, StepBy},
    help::{self, NewHelp, NewVisit},
};
use crate::{
    domain::{
        AreaCode, Phone,
        county_time::{Clock, FixedClock},
    },
    infra::db::Database,
    service::{
        exit::{
            assessment::{self, NewCheck},
            rules::ExitRules,
        },
        households::incomes,
        market::photos::Photos,
        policy::Actor,
        users::{self, Invitation, Origin},
    },
};

/// The demo's village cadre and township official (the county's is the exit demo's).
const DEMO_CADRE_PHONE: &str = "19900000001";
const DEMO_TOWNSHIP_PHONE: &str = "19900000002";
const DEMO_COUNTY_PHONE: &str = "19900000000";

/// How far a demo household goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Warning,
    Checked,
    InNotice,
    Confirmed,
    Proposed,
    Eliminated,
}

/// The households the demo monitors, in order: (stage, category, risks, what happened).
const HOUSEHOLDS: &[(Stage, MonitoringCategory, &[RiskType], &str)] = &[
    (
        Stage::Warning,
        MonitoringCategory::UnstableExited,
        &[RiskType::Illness],
        "户主腰伤住院两个月，家里的地没人种",
    ),
    (
        Stage::Warning,
        MonitoringCategory::UnstableExited,
        &[RiskType::UnstableWork],
        "在外务工的儿子今年没找到活，回村了",
    ),
    (
        Stage::Checked,
        MonitoringCategory::UnstableExited,
        &[RiskType::Disaster],
        "七月暴雨冲毁了半亩地和猪圈",
    ),
    (
        Stage::InNotice,
        MonitoringCategory::UnstableExited,
        &[RiskType::Illness, RiskType::Schooling],
        "妻子查出慢性病，两个孩子在读书",
    ),
    (
        Stage::InNotice,
        MonitoringCategory::UnstableExited,
        &[RiskType::Accident],
        "户主摔断了腿，半年不能干重活",
    ),
    (
        Stage::Confirmed,
        MonitoringCategory::UnstableExited,
        &[RiskType::Illness],
        "老人长期住院，自付医疗费三万多元",
    ),
    (
        Stage::Confirmed,
        MonitoringCategory::UnstableExited,
        &[RiskType::FailedBusiness],
        "养的三十头猪染病，本钱全亏了",
    ),
    (
        Stage::Confirmed,
        MonitoringCategory::UnstableExited,
        &[RiskType::Disability],
        "儿子重度残疾，需要人照料",
    ),
    (
        Stage::Proposed,
        MonitoringCategory::UnstableExited,
        &[RiskType::UnstableWork],
        "去年务工中断，今年在镇上的厂里稳定上班了",
    ),
    (
        Stage::Eliminated,
        MonitoringCategory::UnstableExited,
        &[RiskType::Illness],
        "户主手术后已康复，重新种上了脆李",
    ),
];

/// What the demo's monitoring added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoMonitoring {
    pub households: usize,
    pub help_records: usize,
    pub visits: usize,
}

/// Brings the demo's monitored households to their stages, once.
pub async fn seed_demo_monitoring(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    photos: &Photos,
) -> Result<DemoMonitoring, MonitoringError> {
    let mut done = DemoMonitoring::default();
    if monitored_household::Entity::find().count(db.conn()).await? > 0 {
        return Ok(done);
    }
    // The first village with enough exited households.
    let exited = household::Entity::find()
        .filter(household::Column::Status.eq(HouseholdStatus::Exited))
        .order_by_asc(household::Column::VillageCode)
        .order_by_asc(household::Column::Id)
        .all(db.conn())
        .await?;
    let Some(village) = exited
        .chunk_by(|a, b| a.village_code == b.village_code)
        .find(|group| group.len() >= HOUSEHOLDS.len())
        .map(|group| group[0].village_code.clone())
    else {
        return Ok(done);
    };
    let chosen: Vec<household::Model> = exited
        .into_iter()
        .filter(|h| h.village_code == village)
        .take(HOUSEHOLDS.len())
        .collect();
    let village_code = AreaCode::parse(&village).map_err(|_| MonitoringError::NotFound)?;
    let cadre = demo_account(
        db,
        DEMO_CADRE_PHONE,
        "示范村干部（示范数据）",
        Role::VillageCadre,
        &village,
    )
    .await?;
    let township = demo_account(
        db,
        DEMO_TOWNSHIP_PHONE,
        "示范乡镇干部（示范数据）",
        Role::TownshipOfficial,
        &village[..9],
    )
    .await?;
    let county = demo_account(
        db,
        DEMO_COUNTY_PHONE,
        "示范县扶贫办（示范数据）",
        Role::CountyOfficial,
        &village[..6],
    )
    .await?;
    debug_assert!(cadre.governs(&village_code));

    let now = clock.now();
    let year = clock.this_year();
    let notice = rules.monitoring_notice;
    let origin = Origin::default();
    for (household, (stage, category, risks, note)) in chosen.iter().zip(HOUSEHOLDS) {
        // Identification: opened and checked two notices and a week ago; the notice of those
        // going further ran then, or runs now.
        let opened = now - notice * 2 - Duration::days(10);
        let at = |t: DateTime<Utc>| FixedClock(t);
        let record = cases::open(
            db,
            &at(opened),
            rules,
            &cadre,
            NewMonitoring {
                household_id: household.id,
                category: *category,
                risk_types: risks.to_vec(),
                channel: if *stage == Stage::Warning {
                    DiscoveryChannel::Warning
                } else {
                    DiscoveryChannel::CadreVisit
                },
                year,
                note: Some((*note).to_owned()),
            },
            None,
            &origin,
        )
        .await?;
        done.households += 1;
        let case = record.cases[0].case.id;
        let step = |action, by: &'static str, t: DateTime<Utc>| {
            let actor = match by {
                "township" => &township,
                "county" => &county,
                _ => &cadre,
            };
            let clock = at(t);
            async move {
                cases::transition(
                    db,
                    &clock,
                    rules,
                    StepBy::Official(actor),
                    case,
                    action,
                    None,
                    &Origin::default(),
                )
                .await
            }
        };
        if *stage == Stage::Warning {
            continue;
        }
        step(MonitoringAction::Check, "cadre", opened + Duration::days(1)).await?;
        if *stage == Stage::Checked {
            continue;
        }
        step(
            MonitoringAction::Authorize,
            "cadre",
            opened + Duration::days(1),
        )
        .await?;
        step(
            MonitoringAction::Appraise,
            "cadre",
            opened + Duration::days(2),
        )
        .await?;
        if *stage == Stage::InNotice {
            step(
                MonitoringAction::StartNotice,
                "cadre",
                now - Duration::hours(20),
            )
            .await?;
            continue;
        }
        let noticed = opened + Duration::days(3);
        step(MonitoringAction::StartNotice, "cadre", noticed).await?;
        let reviewed = noticed + notice + Duration::hours(2);
        step(MonitoringAction::Review, "township", reviewed).await?;
        step(
            MonitoringAction::Confirm,
            "county",
            reviewed + Duration::days(1),
        )
        .await?;
        let monitored = record.monitored.id;

        // Help and visits while monitored.
        let helped_on = (reviewed + Duration::days(2)).date_naive();
        let helps: &[(HelpKind, Option<i64>, &str)] = match risks[0] {
            RiskType::Illness => &[
                (HelpKind::Medical, Some(1_850_000), "大病保险和医疗救助报销"),
                (
                    HelpKind::PublicWelfareJob,
                    Some(60_000),
                    "安排家人做村保洁员，每月 600 元",
                ),
            ],
            RiskType::FailedBusiness => &[
                (
                    HelpKind::MicroCredit,
                    Some(3_000_000),
                    "脱贫人口小额信贷 3 万元，重新补栏",
                ),
                (HelpKind::Industry, None, "县畜牧站上门指导防疫"),
            ],
            RiskType::Disability => &[
                (
                    HelpKind::SocialAssistance,
                    Some(72_000),
                    "纳入低保，每月 720 元",
                ),
                (HelpKind::Consumption, Some(128_000), "网店代销家里的蜂蜜"),
            ],
            _ => &[
                (HelpKind::Employment, None, "推荐到镇上的厂里务工"),
                (HelpKind::Consumption, Some(96_000), "网店代销家里的腊肉"),
            ],
        };
        for (kind, amount_fen, help_note) in helps {
            help::record_help(
                db,
                &at(reviewed + Duration::days(2)),
                &cadre,
                NewHelp {
                    household_id: household.id,
                    kind: *kind,
                    given_on: helped_on,
                    amount_fen: *amount_fen,
                    note: Some((*help_note).to_owned()),
                },
                None,
                &origin,
            )
            .await
            .map_err(help_failed)?;
            done.help_records += 1;
        }
        help::record_visit(
            db,
            &at(reviewed + Duration::days(3)),
            photos,
            &cadre,
            NewVisit {
                household_id: household.id,
                visited_on: (reviewed + Duration::days(3)).date_naive(),
                findings: "入户走访：帮扶措施已落实，家里人身体和收入情况都问过了".into(),
            },
            None,
            None,
            &origin,
        )
        .await
        .map_err(help_failed)?;
        done.visits += 1;
        if *stage == Stage::Confirmed {
            continue;
        }

        // Elimination, judged on last year's income and this year's checks as recorded.
        let judged = year - 1;
        let members = household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.eq(household.id))
            .count(db.conn())
            .await?
            .max(1) as i64;
        let line = rules.monitoring_line_fen(judged).unwrap_or(700_000);
        incomes::record_year(
            db,
            &cadre,
            household.id,
            judged,
            &[(IncomeSource::Wages, (line + 300_000) * members)],
            &origin,
        )
        .await?;
        for check in [
            CheckKind::Food,
            CheckKind::Clothing,
            CheckKind::Education,
            CheckKind::Medical,
            CheckKind::Housing,
            CheckKind::Water,
        ] {
            assessment::record_check(
                db,
                rules,
                &cadre,
                household.id,
                judged,
                NewCheck {
                    check,
                    passed: true,
                    note: Some("入户核实".into()),
                    evidence_url: None,
                },
                &origin,
            )
            .await
            .map_err(|_| MonitoringError::Invalid(crate::service::reasons::household_records()))?;
        }
        let proposed_at = now - notice - Duration::days(3);
        let record = cases::propose_elimination(
            db,
            &at(proposed_at),
            rules,
            &cadre,
            monitored,
            judged,
            &origin,
        )
        .await?;
        if *stage == Stage::Proposed {
            continue;
        }
        let case = record
            .open_case()
            .map(|c| c.case.id)
            .ok_or(MonitoringError::NotFound)?;
        let (c, t, k) = (&cadre, &township, &county);
        for (action, actor, t_at) in [
            (MonitoringAction::Check, c, proposed_at + Duration::hours(2)),
            (
                MonitoringAction::Appraise,
                c,
                proposed_at + Duration::days(1),
            ),
            (
                MonitoringAction::StartNotice,
                c,
                proposed_at + Duration::days(1) + Duration::hours(1),
            ),
            (
                MonitoringAction::Review,
                t,
                proposed_at + Duration::days(1) + notice + Duration::hours(2),
            ),
            (
                MonitoringAction::Eliminate,
                k,
                proposed_at + Duration::days(1) + notice + Duration::hours(4),
            ),
        ] {
            cases::transition(
                db,
                &at(t_at),
                rules,
                StepBy::Official(actor),
                case,
                action,
                None,
                &origin,
            )
            .await?;
        }
    }
    Ok(done)
}

fn help_failed(e: help::HelpError) -> MonitoringError {
    match e {
        help::HelpError::Database(e) => MonitoringError::Database(e),
        help::HelpError::Invalid(reason) => MonitoringError::Invalid(reason),
        _ => MonitoringError::Invalid(crate::service::reasons::household_records()),
    }
}

/// The demo's official with this phone, made if missing, as the actor the steps are taken by.
async fn demo_account(
    db: &Database,
    phone: &str,
    name: &str,
    role: Role,
    area: &str,
) -> Result<Actor, MonitoringError> {
    let area_code = AreaCode::parse(area).map_err(|_| MonitoringError::NotFound)?;
    let existing = user::Entity::find()
        .filter(user::Column::Phone.eq(phone))
        .one(db.conn())
        .await?;
    let account = match existing {
        Some(account) => account,
        None => users::invite_official(
            db,
            None,
            Invitation {
                phone: Phone::parse(phone).map_err(|_| MonitoringError::NotFound)?,
                display_name: name.to_owned(),
                role,
                area: area_code.clone(),
            },
            &Origin::default(),
        )
        .await
        .map_err(|_| MonitoringError::Invalid(crate::service::reasons::household_records()))?,
    };
    Ok(Actor {
        user_id: account.id,
        role: account.role,
        area: account
            .area_code
            .as_deref()
            .and_then(|a| AreaCode::parse(a).ok()),
        household_id: None,
    })
}
