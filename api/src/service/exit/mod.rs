//! De-listing (脱贫退出): assessments of households and villages, the exit procedure, and the
//! county's progress toward its goals.

pub mod assessment;
pub mod cases;
pub mod demo;
pub mod progress;
pub mod rules;

use chrono::{DateTime, Utc};
use entities::{area, exit_case::ExitState, household};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use self::{assessment::Failing, cases::ExitAction};
use crate::{
    domain::AreaCode,
    service::policy::{self, Action, Actor, Resource},
};

#[derive(Debug, thiserror::Error)]
pub enum ExitError {
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    #[error("the subject does not qualify to exit")]
    NotQualified(Vec<Failing>),
    #[error("{action:?} is not allowed from {state:?} now")]
    NotAllowedNow {
        state: ExitState,
        action: ExitAction,
        next: Vec<ExitAction>,
        notice_ends_at: Option<DateTime<Utc>>,
    },
    #[error("case {0} for this subject is still open")]
    CaseOpen(i64),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The household if the actor may take `action` on it; out of reach reads as not found.
pub(crate) async fn household_in_reach(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<household::Model, ExitError> {
    let household = household::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(ExitError::NotFound)?;
    let village = AreaCode::parse(&household.village_code).map_err(|_| ExitError::NotFound)?;
    let resource = Resource::Household {
        household_id: Some(id),
        area: &village,
    };
    if !policy::can(actor, Action::Read, &resource) {
        return Err(ExitError::NotFound);
    }
    if !policy::can(actor, action, &resource) {
        return Err(ExitError::Forbidden);
    }
    Ok(household)
}

/// The village if the actor governs it; out of reach reads as not found.
pub(crate) async fn village_in_reach(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    code: &AreaCode,
    action: Action,
) -> Result<area::Model, ExitError> {
    let resource = Resource::Household {
        household_id: None,
        area: code,
    };
    if !policy::can(actor, Action::Read, &resource) {
        return Err(ExitError::NotFound);
    }
    if !policy::can(actor, action, &resource) {
        return Err(ExitError::Forbidden);
    }
    area::Entity::find_by_id(code.to_string())
        .one(conn)
        .await?
        .filter(|a| a.level == area::AreaLevel::Village)
        .ok_or(ExitError::NotFound)
}
