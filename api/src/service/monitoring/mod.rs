//! Return-to-poverty monitoring (防返贫动态监测): households at risk are identified through
//! their own procedure, monitored and helped, and their risk is marked eliminated through a
//! second procedure; both run in the open, with a village notice and objections.

pub mod application;
pub mod cases;
pub mod demo;
pub mod figures;
pub mod help;
pub mod notices;
pub mod sector;
pub mod warnings;

use chrono::{DateTime, Utc};
use entities::{
    household::HouseholdStatus,
    monitored_household::MonitoringCategory,
    monitoring_case::{MonitoringProcedure, MonitoringState},
};

use self::cases::MonitoringAction;
use crate::service::{exit::assessment::Failing, households::HouseholdError, reasons::Reason};

#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    /// Not allowed, with the reason a person reads.
    #[error("{0}")]
    Refused(Reason),
    #[error("{0}")]
    Invalid(Reason),
    /// The household is monitored already, or its record has an open case.
    #[error("monitoring record {0} is still open")]
    Open(i64),
    #[error("the risk is not eliminated yet")]
    NotQualified(Vec<Failing>),
    #[error("{action:?} is not allowed from {state:?} now")]
    NotAllowedNow {
        procedure: MonitoringProcedure,
        state: MonitoringState,
        action: MonitoringAction,
        next: Vec<MonitoringAction>,
        notice_ends_at: Option<DateTime<Utc>>,
    },
    /// The client's key was sent before with another request.
    #[error("the key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

impl From<crate::service::idempotency::KeyError> for MonitoringError {
    fn from(e: crate::service::idempotency::KeyError) -> Self {
        use crate::service::idempotency::KeyError;
        match e {
            KeyError::Malformed(reason) => Self::Invalid(reason),
            KeyError::Reused => Self::KeyReused,
            KeyError::Database(e) => Self::Database(e),
        }
    }
}

impl From<HouseholdError> for MonitoringError {
    fn from(err: HouseholdError) -> Self {
        match err {
            HouseholdError::NotFound | HouseholdError::UserNotFound => MonitoringError::NotFound,
            HouseholdError::Forbidden => MonitoringError::Forbidden,
            HouseholdError::Database(e) => MonitoringError::Database(e),
            HouseholdError::Invalid(reason) => MonitoringError::Invalid(reason),
            _ => MonitoringError::Invalid(crate::service::reasons::household_records()),
        }
    }
}

/// The category a household is monitored as by its standing, unless an official says
/// otherwise: an exited (or returned) household is 脱贫不稳定户, any other 突发严重困难户.
pub fn category_for(status: HouseholdStatus) -> MonitoringCategory {
    match status {
        HouseholdStatus::Exited | HouseholdStatus::Returned => MonitoringCategory::UnstableExited,
        _ => MonitoringCategory::SuddenHardship,
    }
}

/// What put a household at risk (风险类型).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskType {
    /// 因病
    Illness,
    /// 因残
    Disability,
    /// 因灾
    Disaster,
    /// 因意外事故
    Accident,
    /// 务工就业不稳
    UnstableWork,
    /// 产业项目失败
    FailedBusiness,
    /// 因学
    Schooling,
    Other,
}

impl RiskType {
    pub const ALL: [RiskType; 8] = [
        RiskType::Illness,
        RiskType::Disability,
        RiskType::Disaster,
        RiskType::Accident,
        RiskType::UnstableWork,
        RiskType::FailedBusiness,
        RiskType::Schooling,
        RiskType::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RiskType::Illness => "illness",
            RiskType::Disability => "disability",
            RiskType::Disaster => "disaster",
            RiskType::Accident => "accident",
            RiskType::UnstableWork => "unstable_work",
            RiskType::FailedBusiness => "failed_business",
            RiskType::Schooling => "schooling",
            RiskType::Other => "other",
        }
    }

    /// The Chinese a cadre reads.
    pub fn zh(self) -> &'static str {
        match self {
            RiskType::Illness => "因病",
            RiskType::Disability => "因残",
            RiskType::Disaster => "因灾",
            RiskType::Accident => "因意外事故",
            RiskType::UnstableWork => "务工就业不稳",
            RiskType::FailedBusiness => "产业经营失败",
            RiskType::Schooling => "因学",
            RiskType::Other => "其他",
        }
    }

    pub fn parse(name: &str) -> Option<RiskType> {
        RiskType::ALL.into_iter().find(|r| r.name() == name.trim())
    }

    /// The stored form: names in a fixed order, comma-separated, each once.
    pub fn join(types: &[RiskType]) -> String {
        let mut sorted = types.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted
            .into_iter()
            .map(RiskType::name)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The stored form read back; unknown names are skipped.
    pub fn split(stored: &str) -> Vec<RiskType> {
        stored.split(',').filter_map(RiskType::parse).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_types_are_stored_once_each_in_a_fixed_order() {
        let stored = RiskType::join(&[RiskType::Schooling, RiskType::Illness, RiskType::Illness]);
        assert_eq!(stored, "illness,schooling");
        assert_eq!(
            RiskType::split(&stored),
            vec![RiskType::Illness, RiskType::Schooling]
        );
        for risk in RiskType::ALL {
            assert_eq!(RiskType::parse(risk.name()), Some(risk));
        }
    }
}
