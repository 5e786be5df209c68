//! De-listing (脱贫退出): assessments of households and villages, the exit procedure, and the
//! county's progress toward its goals.

pub mod assessment;
pub mod cases;
pub mod dashboard;
pub mod demo;
pub mod progress;
pub mod rules;
pub mod village_file;
pub mod village_sheet;
pub mod worklist;

use chrono::{DateTime, Utc};
use entities::{area, exit_case::ExitState};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use self::{assessment::Failing, cases::ExitAction};
/// Households are reached through the registry's own check.
pub(crate) use super::households::household_for;
use crate::{
    domain::AreaCode,
    service::{
        households::HouseholdError,
        policy::{self, Action, Actor, Resource},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum ExitError {
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    /// Not allowed, with the reason a person reads.
    #[error("{0}")]
    Refused(crate::service::reasons::Reason),
    #[error("{0}")]
    Invalid(crate::service::reasons::Reason),
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
    /// The `Idempotency-Key` was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl From<crate::service::idempotency::KeyError> for ExitError {
    fn from(e: crate::service::idempotency::KeyError) -> Self {
        use crate::service::idempotency::KeyError;
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

impl From<HouseholdError> for ExitError {
    fn from(err: HouseholdError) -> Self {
        match err {
            HouseholdError::NotFound | HouseholdError::UserNotFound => ExitError::NotFound,
            HouseholdError::Forbidden => ExitError::Forbidden,
            HouseholdError::Database(e) => ExitError::Database(e),
            HouseholdError::Invalid(reason) => ExitError::Invalid(reason),
            HouseholdError::UnknownVillage => {
                ExitError::Invalid(crate::service::reasons::unknown_village())
            }
            _ => ExitError::Invalid(crate::service::reasons::household_records()),
        }
    }
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
    let mut find = area::Entity::find_by_id(code.to_string());
    if action == Action::Update {
        // Two proposals for one village run one after the other; the second sees the first's case.
        find = find.lock_exclusive();
    }
    find.one(conn)
        .await?
        .filter(|a| a.level == area::AreaLevel::Village)
        .ok_or(ExitError::NotFound)
}
