//! What an official's list of work reads: the open exit cases waiting for a step they may
//! take, each with the name of its village.

use entities::exit_case::{self, ExitSubject};

use super::{
    ExitError,
    cases::{self, ExitAction},
};
use crate::{infra::db::Database, service::areas, service::policy::Actor};

/// A case waiting for the official, where it is, and the steps they may take on it.
#[derive(Clone, Debug)]
pub struct WaitingCase {
    pub case: exit_case::Model,
    /// The name of the case's village (empty if the village is gone from the areas).
    pub village: String,
    /// Forward steps first; rejecting and objecting last.
    pub actions: Vec<ExitAction>,
}

impl WaitingCase {
    /// The household the case is about; none for a village's case.
    pub fn household(&self) -> Option<i64> {
        self.case
            .household_id
            .filter(|_| self.case.subject == ExitSubject::Household)
    }
}

/// The open cases of the official's area that wait for a forward step they may take, oldest
/// first, at most `limit`.
pub async fn waiting(
    db: &Database,
    actor: &Actor,
    limit: usize,
) -> Result<Vec<WaitingCase>, ExitError> {
    let waiting = cases::awaiting(db, actor, limit).await?;
    let names = areas::names_of(
        db.conn(),
        waiting.iter().map(|w| w.case.village_code.clone()),
    )
    .await?;
    Ok(waiting
        .into_iter()
        .map(|w| WaitingCase {
            village: names.get(&w.case.village_code).cloned().unwrap_or_default(),
            case: w.case,
            actions: w.actions,
        })
        .collect())
}
