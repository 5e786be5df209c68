//! What the officials' dashboard reads: an area's progress toward its goals, and the way there
//! over time — people lifted out day by day, against the yearly targets.

use std::sync::Arc;

use chrono::NaiveDate;

use super::{
    ExitError,
    progress::{self, Progress},
    rules::ExitRules,
};
use crate::{
    domain::AreaCode,
    infra::{cache::Cache, db::Database},
    service::policy::Actor,
};

/// An area's progress, and the series its chart of people lifted out draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    pub progress: Progress,
    /// People lifted out on each day with a snapshot, oldest first.
    pub lifted_out: Vec<(NaiveDate, u64)>,
    /// The county's cumulative yearly targets of people lifted out, due on each year's last
    /// day; none for a part of the county.
    pub people_targets: Vec<(NaiveDate, u64)>,
}

impl From<Progress> for Dashboard {
    fn from(progress: Progress) -> Self {
        let lifted_out = progress
            .history
            .iter()
            .map(|s| (s.day, s.people_lifted_out))
            .collect();
        let people_targets = progress
            .yearly_goals
            .iter()
            .filter_map(|g| {
                let people = u64::try_from(g.people?).ok()?;
                Some((NaiveDate::from_ymd_opt(g.year, 12, 31)?, people))
            })
            .collect();
        Self {
            progress,
            lifted_out,
            people_targets,
        }
    }
}

/// The dashboard of an area the actor governs (default: their own; the county for an admin).
pub async fn of(
    db: &Database,
    cache: &Arc<dyn Cache>,
    rules: &ExitRules,
    actor: &Actor,
    area: Option<AreaCode>,
) -> Result<Dashboard, ExitError> {
    Ok(progress::progress(db, cache, rules, actor, area)
        .await?
        .into())
}
