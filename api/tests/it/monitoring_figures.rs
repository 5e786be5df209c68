//! The monitoring figures against a recount: after a mixed set of households — monitored in
//! each category with one or more risks, being identified, eliminated this year and last year,
//! not identified, in two townships; help given this year and last; a household returned to
//! poverty — every figure of the county, a township and a village equals what plain SQL over
//! the rows counts, and the API and the page answer the same.

use api::{
    domain::{
        AreaCode,
        county_time::{Clock, SystemClock},
    },
    service::{
        exit::cases as exit_cases,
        monitoring::{
            RiskType,
            figures::{self, Figures},
            help::{self, NewHelp},
        },
        policy::Actor,
        users::Origin,
    },
    testing::TestApp,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entities::{
    help_record::HelpKind,
    household::{self, HouseholdStatus},
    monitored_household::{self, DiscoveryChannel, MonitoringCategory, MonitoringStatus},
    monitoring_case::{self, MonitoringProcedure, MonitoringState},
    monitoring_case_step,
    user::Role,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait,
    IntoActiveModel, Statement, Value,
};

use crate::support::{self, json_of};

const COUNTY: &str = "500235";
const TOWNSHIP: &str = "500235101";
const VILLAGE: &str = "500235101201";
const VILLAGE_2: &str = "500235101202";
const OTHER_TOWNSHIP_VILLAGE: &str = "500235102201";
const COUNTY_PHONE: &str = "13700000021";

fn county() -> Actor {
    Actor {
        user_id: 1,
        role: Role::CountyOfficial,
        area: Some(AreaCode::parse(COUNTY).unwrap()),
        household_id: None,
    }
}

/// How one household of the mix ends up.
struct Shape {
    village: &'static str,
    category: MonitoringCategory,
    risks: &'static [RiskType],
    status: MonitoringStatus,
    /// The closing steps taken, each with how many days ago (400 days: last year or before).
    steps: &'static [(&'static str, i64)],
    /// Help given, days ago.
    help: &'static [i64],
}

const MIX: &[Shape] = &[
    Shape {
        village: VILLAGE,
        category: MonitoringCategory::UnstableExited,
        risks: &[RiskType::Illness],
        status: MonitoringStatus::Monitored,
        steps: &[("confirm", 0)],
        help: &[0, 0],
    },
    Shape {
        village: VILLAGE,
        category: MonitoringCategory::Edge,
        risks: &[RiskType::Illness, RiskType::Schooling],
        status: MonitoringStatus::Monitored,
        steps: &[("confirm", 400)],
        help: &[400],
    },
    Shape {
        village: VILLAGE_2,
        category: MonitoringCategory::SuddenHardship,
        risks: &[RiskType::Disaster],
        status: MonitoringStatus::Monitored,
        steps: &[("confirm", 0)],
        help: &[],
    },
    Shape {
        village: VILLAGE_2,
        category: MonitoringCategory::Edge,
        risks: &[RiskType::UnstableWork],
        status: MonitoringStatus::Identifying,
        steps: &[],
        help: &[0],
    },
    Shape {
        village: VILLAGE,
        category: MonitoringCategory::UnstableExited,
        risks: &[RiskType::Accident],
        status: MonitoringStatus::Eliminated,
        steps: &[("confirm", 400), ("eliminate", 0)],
        help: &[0],
    },
    Shape {
        village: OTHER_TOWNSHIP_VILLAGE,
        category: MonitoringCategory::Edge,
        risks: &[RiskType::FailedBusiness, RiskType::Other],
        status: MonitoringStatus::Eliminated,
        steps: &[("confirm", 800), ("eliminate", 400)],
        help: &[0],
    },
    Shape {
        village: OTHER_TOWNSHIP_VILLAGE,
        category: MonitoringCategory::SuddenHardship,
        risks: &[RiskType::Disability],
        status: MonitoringStatus::Monitored,
        steps: &[("confirm", 0)],
        help: &[0],
    },
    Shape {
        village: OTHER_TOWNSHIP_VILLAGE,
        category: MonitoringCategory::Edge,
        risks: &[RiskType::Illness],
        status: MonitoringStatus::NotIdentified,
        steps: &[],
        help: &[0],
    },
];

/// A moment `days` ago; today's moments stay inside the county's year by keeping to its start
/// of day when the year began less than a day ago.
fn days_ago(days: i64) -> DateTime<Utc> {
    let now = Utc::now();
    if days == 0 {
        let (start, _) = figures::year_bounds(SystemClock.this_year());
        return now.max(start + Duration::minutes(1));
    }
    now - Duration::days(days)
}

async fn build_mix(app: &TestApp) {
    let db = &app.state.db;
    let conn = db.conn();
    for (n, shape) in MIX.iter().enumerate() {
        let household_id = support::household_in(app, shape.village, n as u32 + 1).await;
        let now = Utc::now();
        let monitored = monitored_household::ActiveModel {
            household_id: Set(household_id),
            village_code: Set(shape.village.into()),
            category: Set(shape.category),
            risk_types: Set(RiskType::join(shape.risks)),
            channel: Set(DiscoveryChannel::CadreVisit),
            year: Set(2024),
            status: Set(shape.status),
            open: Set(matches!(
                shape.status,
                MonitoringStatus::Monitored | MonitoringStatus::Identifying
            )),
            note: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
        for (action, days) in shape.steps {
            let procedure = if *action == "confirm" {
                MonitoringProcedure::Identification
            } else {
                MonitoringProcedure::Elimination
            };
            let to = if *action == "confirm" {
                MonitoringState::Confirmed
            } else {
                MonitoringState::Eliminated
            };
            let case = monitoring_case::ActiveModel {
                monitored_id: Set(monitored.id),
                household_id: Set(household_id),
                village_code: Set(shape.village.into()),
                procedure: Set(procedure),
                year: Set(2024),
                state: Set(to),
                open: Set(false),
                notice_ends_at: Set(None),
                started_by: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
            monitoring_case_step::ActiveModel {
                case_id: Set(case.id),
                from_state: Set(Some(MonitoringState::Reviewed)),
                to_state: Set(to),
                action: Set((*action).into()),
                actor_user_id: Set(Some(1)),
                reason: Set(None),
                at: Set(days_ago(*days)),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
        }
        for days in shape.help {
            let given_on = SystemClock.today() - Duration::days(*days);
            help::record_help(
                db,
                &SystemClock,
                &county(),
                NewHelp {
                    household_id,
                    kind: HelpKind::Medical,
                    given_on,
                    amount_fen: Some(10_000),
                    note: None,
                },
                None,
                &Origin::default(),
            )
            .await
            .unwrap();
        }
    }
    // A household that exited and fell back this year.
    let returned = support::household_in(app, VILLAGE_2, 20).await;
    let found = household::Entity::find_by_id(returned)
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let mut active = found.into_active_model();
    active.status = Set(HouseholdStatus::Exited);
    active.update(conn).await.unwrap();
    exit_cases::mark_returned(
        db,
        &SystemClock,
        &county(),
        returned,
        "户主突发重病",
        &Origin::default(),
    )
    .await
    .unwrap();
}

/// The placeholders of the database's SQL.
fn arg(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".into(),
    }
}

async fn count(app: &TestApp, sql: &str, values: Vec<Value>) -> u64 {
    let conn = app.state.db.conn();
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get_by_index(0).unwrap();
    n as u64
}

/// Every figure counted again by plain SQL over the rows.
async fn recount(app: &TestApp, prefix: &str, year: i32) -> Figures {
    let backend = app.state.db.conn().get_database_backend();
    let like = format!("{prefix}%");
    let (from, until) = figures::year_bounds(year);
    let p = |n| arg(backend, n);
    let status_count = |status: &'static str| {
        let sql = format!(
            "SELECT COUNT(*) FROM monitored_households WHERE status = {} AND village_code LIKE {}",
            p(1),
            p(2)
        );
        (sql, vec![Value::from(status), Value::from(like.clone())])
    };
    let (sql, values) = status_count("monitored");
    let monitored = count(app, &sql, values).await;
    let (sql, values) = status_count("identifying");
    let identifying = count(app, &sql, values).await;
    let mut by_category = Vec::new();
    for category in figures::CATEGORIES {
        let sql = format!(
            "SELECT COUNT(*) FROM monitored_households WHERE status = 'monitored' \
             AND category = {} AND village_code LIKE {}",
            p(1),
            p(2)
        );
        let n = count(
            app,
            &sql,
            vec![category.to_value().into(), like.clone().into()],
        )
        .await;
        by_category.push((category, n));
    }
    let mut by_risk = Vec::new();
    for risk in RiskType::ALL {
        let sql = format!(
            "SELECT COUNT(*) FROM monitored_households WHERE status = 'monitored' \
             AND (',' || risk_types || ',') LIKE {} AND village_code LIKE {}",
            p(1),
            p(2)
        );
        let n = count(
            app,
            &sql,
            vec![format!("%,{},%", risk.name()).into(), like.clone().into()],
        )
        .await;
        by_risk.push((risk, n));
    }
    let stepped = |action: &'static str| {
        let sql = format!(
            "SELECT COUNT(DISTINCT c.monitored_id) FROM monitoring_case_steps s \
             JOIN monitoring_cases c ON c.id = s.case_id \
             WHERE s.action = {} AND s.at >= {} AND s.at < {} AND c.village_code LIKE {}",
            p(1),
            p(2),
            p(3),
            p(4)
        );
        (
            sql,
            vec![
                Value::from(action),
                Value::from(from),
                Value::from(until),
                Value::from(like.clone()),
            ],
        )
    };
    let (sql, values) = stepped("confirm");
    let identified = count(app, &sql, values).await;
    let (sql, values) = stepped("eliminate");
    let eliminated = count(app, &sql, values).await;
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let next = NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap();
    let sql = format!(
        "SELECT COUNT(DISTINCT h.household_id) FROM help_records h \
         JOIN monitored_households m ON m.household_id = h.household_id \
         WHERE h.given_on >= {} AND h.given_on < {} AND h.village_code LIKE {} \
         AND (m.status = 'monitored' OR (m.status = 'eliminated' AND EXISTS ( \
           SELECT 1 FROM monitoring_case_steps s JOIN monitoring_cases c ON c.id = s.case_id \
           WHERE c.monitored_id = m.id AND s.action = 'eliminate' AND s.at >= {} AND s.at < {})))",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5)
    );
    let helped = count(
        app,
        &sql,
        vec![
            first.into(),
            next.into(),
            like.clone().into(),
            from.into(),
            until.into(),
        ],
    )
    .await;
    let sql = format!(
        "SELECT COUNT(DISTINCT entity_id) FROM audit_log WHERE action = 'household.returned_to_poverty' \
         AND at >= {} AND at < {} AND area_code LIKE {}",
        p(1),
        p(2),
        p(3)
    );
    let returned = count(
        app,
        &sql,
        vec![from.into(), until.into(), like.clone().into()],
    )
    .await;
    Figures {
        monitored,
        identifying,
        by_category,
        by_risk,
        identified,
        helped,
        eliminated,
        returned,
        ..Figures::default()
    }
}

fn counted(f: &Figures) -> Figures {
    Figures {
        area: None,
        year: 0,
        by_township: Vec::new(),
        by_village: Vec::new(),
        ..f.clone()
    }
}

#[tokio::test]
async fn every_figure_equals_a_recount_from_the_rows_for_the_county_a_township_and_a_village() {
    let app = support::app_with_admin().await;
    build_mix(&app).await;
    let year = SystemClock.this_year();
    let conn = app.state.db.conn();
    for prefix in [COUNTY, TOWNSHIP, VILLAGE, OTHER_TOWNSHIP_VILLAGE] {
        let area = AreaCode::parse(prefix).unwrap();
        let shown = figures::of(conn, Some(&area), year).await.unwrap();
        let again = recount(&app, prefix, year).await;
        assert_eq!(counted(&shown), again, "{prefix}");
        // The areas add up to the whole.
        let villages: u64 = shown.by_village.iter().map(|v| v.monitored).sum();
        let townships: u64 = shown.by_township.iter().map(|t| t.monitored).sum();
        assert_eq!(villages, shown.monitored, "{prefix}");
        assert_eq!(townships, shown.monitored, "{prefix}");
    }
    // The mix as written, so the recount is not merely agreeing with itself on nothing.
    let county = figures::of(conn, Some(&AreaCode::parse(COUNTY).unwrap()), year)
        .await
        .unwrap();
    assert_eq!(
        (county.monitored, county.identifying),
        (4, 1),
        "four monitored, one being identified"
    );
    assert_eq!(county.identified, 3, "three confirmed this year");
    assert_eq!(county.eliminated, 1, "one eliminated this year");
    assert_eq!(
        county.helped, 3,
        "monitored or eliminated this year, helped this year"
    );
    assert_eq!(county.returned, 1);
    assert_eq!(
        county
            .by_risk
            .iter()
            .find(|(r, _)| *r == RiskType::Illness)
            .map(|(_, n)| *n),
        Some(2)
    );
    let township = figures::of(conn, Some(&AreaCode::parse(TOWNSHIP).unwrap()), year)
        .await
        .unwrap();
    assert_eq!(township.by_township.len(), 1);
    assert_eq!(township.by_village.len(), 2);

    // The API gives the same figures to the county official, and refuses an area outside.
    support::official(&app, COUNTY_PHONE, Role::CountyOfficial, COUNTY).await;
    let (token, _) = support::tokens(&app, COUNTY_PHONE).await;
    let resp = app
        .client
        .get("/api/v1/monitoring-figures")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = json_of(resp).await;
    assert_eq!(body["monitored"], county.monitored);
    assert_eq!(body["identified"], county.identified);
    assert_eq!(body["helped"], county.helped);
    assert_eq!(body["eliminated"], county.eliminated);
    assert_eq!(body["returned"], county.returned);
    assert_eq!(body["by_village"].as_array().unwrap().len(), 3);
    let outside = app
        .client
        .get("/api/v1/monitoring-figures?area_code=500236")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;
    outside.assert_status(poem::http::StatusCode::NOT_FOUND);

    let cookie = crate::page_snapshots::cookie_for(&app, COUNTY_PHONE).await;
    let page = app
        .client
        .get(format!("/o/monitoring/figures?area={TOWNSHIP}"))
        .header("cookie", &cookie)
        .send()
        .await;
    page.assert_status_is_ok();
    let html = page.0.into_body().into_string().await.unwrap();
    assert!(
        html.contains("在监测户") && html.contains("边缘易致贫户"),
        "{html}"
    );
}
