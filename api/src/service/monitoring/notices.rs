//! The public notice board: every village notice running or ended in the last months — exits,
//! village de-listings, monitoring identifications and risk eliminations — for anyone to read,
//! with the household head's name masked (张*) and nothing else about the person. A villager
//! whose phone was confirmed by a texted code may object to a notice while it runs: a
//! monitoring case goes back to the home check, an exit case to verification, as an
//! official's objection would, and the objection is audited.

use chrono::{DateTime, Duration, Utc};
use entities::{
    area, exit_case,
    exit_case::ExitSubject,
    household_member::{self, MemberRelation},
    monitoring_case::{self, MonitoringProcedure},
};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    MonitoringError,
    cases::{self, MonitoringAction, StepBy},
};
use crate::{
    domain::{AreaCode, Phone, county_time::Clock},
    infra::db::Database,
    service::{
        exit::{self, ExitError, rules::ExitRules},
        reasons,
        trace::codes::mask_name,
        users::Origin,
    },
};

/// How far back ended notices stay on the board.
pub const SHOWN_FOR: Duration = Duration::days(92);
/// The most notices one board lists.
pub const MOST: usize = 200;

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// 脱贫退出 of a household.
    Exit,
    /// 贫困村退出.
    VillageDelisting,
    /// 监测对象识别.
    Identification,
    /// 风险消除.
    Elimination,
}

impl NoticeKind {
    pub fn zh(self) -> &'static str {
        match self {
            NoticeKind::Exit => "脱贫退出",
            NoticeKind::VillageDelisting => "贫困村退出",
            NoticeKind::Identification => "纳入防返贫监测",
            NoticeKind::Elimination => "监测户风险消除",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            NoticeKind::Exit => "Household exit",
            NoticeKind::VillageDelisting => "Village de-listing",
            NoticeKind::Identification => "Taken into monitoring",
            NoticeKind::Elimination => "Risk eliminated",
        }
    }

    /// Whether its case is an exit case (a household's exit or a village's de-listing), not a
    /// monitoring case.
    pub fn is_exit(self) -> bool {
        matches!(self, NoticeKind::Exit | NoticeKind::VillageDelisting)
    }
}

/// One notice as the board shows it.
#[derive(Clone, Debug)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The case's id within its kind.
    pub case_id: i64,
    pub village_code: String,
    pub village_name: String,
    /// The household head's name masked, or the village's name for a de-listing.
    pub subject: String,
    pub year: i32,
    pub ends_at: DateTime<Utc>,
    pub running: bool,
}

impl Notice {
    /// Whether the notice was stopped before its end, by an objection or a step back: it no
    /// longer runs, and its end has not come.
    pub fn stopped(&self, now: DateTime<Utc>) -> bool {
        !self.running && now < self.ends_at
    }
}

/// The notices of `area` (a village, a township or the county; `None` for all), running ones
/// first, then by their end, newest first; at most [`MOST`].
pub async fn board(
    db: &Database,
    area: Option<&AreaCode>,
    now: DateTime<Utc>,
) -> Result<Vec<Notice>, MonitoringError> {
    let since = now - SHOWN_FOR;
    let prefix = area.map(|a| a.descendant_prefix().to_owned());
    let conn = db.conn();

    let mut exits = exit_case::Entity::find().filter(exit_case::Column::NoticeEndsAt.gt(since));
    let mut watched =
        monitoring_case::Entity::find().filter(monitoring_case::Column::NoticeEndsAt.gt(since));
    if let Some(prefix) = &prefix {
        exits = exits.filter(exit_case::Column::VillageCode.starts_with(prefix));
        watched = watched.filter(monitoring_case::Column::VillageCode.starts_with(prefix));
    }
    let exits = exits
        .order_by_desc(exit_case::Column::NoticeEndsAt)
        .all(conn)
        .await?;
    let watched = watched
        .order_by_desc(monitoring_case::Column::NoticeEndsAt)
        .all(conn)
        .await?;

    let mut notices = Vec::with_capacity(exits.len() + watched.len());
    for case in exits.into_iter().take(MOST) {
        let Some(ends_at) = case.notice_ends_at else {
            continue;
        };
        let (kind, subject) = match (case.subject, case.household_id) {
            (ExitSubject::Household, Some(id)) => (NoticeKind::Exit, head_masked(conn, id).await?),
            _ => (NoticeKind::VillageDelisting, String::new()),
        };
        notices.push(Notice {
            kind,
            case_id: case.id,
            village_name: String::new(),
            village_code: case.village_code,
            subject,
            year: case.year,
            ends_at,
            running: case.state == exit_case::ExitState::PublicNotice && now < ends_at,
        });
    }
    for case in watched.into_iter().take(MOST) {
        let Some(ends_at) = case.notice_ends_at else {
            continue;
        };
        notices.push(Notice {
            kind: match case.procedure {
                MonitoringProcedure::Identification => NoticeKind::Identification,
                MonitoringProcedure::Elimination => NoticeKind::Elimination,
            },
            running: cases::notice_running(&case, now),
            case_id: case.id,
            village_name: String::new(),
            subject: head_masked(conn, case.household_id).await?,
            village_code: case.village_code,
            year: case.year,
            ends_at,
        });
    }
    notices.sort_by(|a, b| b.running.cmp(&a.running).then(b.ends_at.cmp(&a.ends_at)));
    notices.truncate(MOST);
    let mut codes: Vec<String> = notices.iter().map(|n| n.village_code.clone()).collect();
    codes.sort_unstable();
    codes.dedup();
    let villages = area::Entity::find()
        .filter(area::Column::Code.is_in(codes))
        .all(conn)
        .await?;
    for notice in &mut notices {
        if let Some(village) = villages.iter().find(|v| v.code == notice.village_code) {
            notice.village_name = village.name.clone();
            if notice.kind == NoticeKind::VillageDelisting {
                notice.subject = village.name.clone();
            }
        }
    }
    Ok(notices)
}

async fn head_masked(
    conn: &impl ConnectionTrait,
    household_id: i64,
) -> Result<String, MonitoringError> {
    let head = household_member::Entity::find()
        .filter(household_member::Column::HouseholdId.eq(household_id))
        .filter(household_member::Column::Relation.eq(MemberRelation::Head.to_value()))
        .one(conn)
        .await?;
    Ok(head.map(|m| mask_name(&m.name)).unwrap_or_default())
}

/// What a villager says against a notice, trimmed: 1 to 500 characters.
fn objection(reason: &str) -> Result<String, reasons::Reason> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(reasons::objection_reason_length(500));
    }
    Ok(reason.to_owned())
}

/// A villager's objection to a monitoring notice, from a phone the caller has confirmed by a
/// texted code. Taken only while the notice runs (409 with the allowed steps otherwise); the
/// case goes back to the home check, and the objection is audited with the masked phone.
pub async fn object(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    case_id: i64,
    phone: &Phone,
    reason: &str,
    origin: &Origin,
) -> Result<(), MonitoringError> {
    let reason = objection(reason).map_err(MonitoringError::Invalid)?;
    let by = StepBy::Villager {
        phone_masked: &phone.masked(),
    };
    let action = MonitoringAction::Object;
    cases::transition(db, clock, rules, by, case_id, action, Some(reason), origin).await?;
    Ok(())
}

/// A villager's objection to an exit notice (a household's exit or a village's de-listing),
/// from a phone the caller has confirmed by a texted code: while the notice runs, the case goes
/// back to verification, audited with the masked phone.
pub async fn object_to_exit(
    db: &Database,
    clock: &dyn Clock,
    rules: &ExitRules,
    case_id: i64,
    phone: &Phone,
    reason: &str,
    origin: &Origin,
) -> Result<(), ExitError> {
    let reason = objection(reason).map_err(ExitError::Invalid)?;
    let phone = phone.masked();
    exit::cases::object_from_board(db, clock, rules, case_id, &phone, reason, origin).await?;
    Ok(())
}
