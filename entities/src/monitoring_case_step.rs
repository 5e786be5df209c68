//! One step of a monitoring case: who moved it from which state to which, when and why.

use sea_orm::entity::prelude::*;

use super::monitoring_case::MonitoringState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_case_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// `None` for the step that opened the case.
    pub from_state: Option<MonitoringState>,
    pub to_state: MonitoringState,
    /// The action's name (`open`, `check`, `object`, …).
    pub action: String,
    /// `None` for an objection a villager made on the public notice board.
    pub actor_user_id: Option<i64>,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::monitoring_case::Entity",
        from = "Column::CaseId",
        to = "super::monitoring_case::Column::Id"
    )]
    Case,
}

impl Related<super::monitoring_case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
