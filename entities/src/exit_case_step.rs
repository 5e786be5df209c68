//! One step of an exit case: who moved it from which state to which, when and why.

use sea_orm::entity::prelude::*;

use super::exit_case::ExitState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exit_case_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// `None` for the proposal that opened the case.
    pub from_state: Option<ExitState>,
    pub to_state: ExitState,
    /// The action's name (`propose`, `appraise`, `object`, …).
    pub action: String,
    /// `None` for an objection a villager made on the public notice board.
    pub actor_user_id: Option<i64>,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::exit_case::Entity",
        from = "Column::CaseId",
        to = "super::exit_case::Column::Id"
    )]
    Case,
}

impl Related<super::exit_case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
