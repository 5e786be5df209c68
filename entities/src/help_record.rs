//! One piece of help (帮扶措施) a household was given: its kind, the day, the amount if it has
//! one, and a note. Append-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "help_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub household_id: i64,
    /// The household's village when the help was recorded, for reading by area.
    pub village_code: String,
    pub kind: HelpKind,
    pub given_on: Date,
    /// Fen; `None` for help that has no sum (a job found, a visit by a doctor).
    pub amount_fen: Option<i64>,
    pub note: Option<String>,
    pub recorded_by: i64,
    pub created_at: DateTimeUtc,
}

/// The kinds of help the policy names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum HelpKind {
    /// 产业帮扶
    #[sea_orm(string_value = "industry")]
    Industry,
    /// 就业帮扶
    #[sea_orm(string_value = "employment")]
    Employment,
    /// 公益岗位
    #[sea_orm(string_value = "public_welfare_job")]
    PublicWelfareJob,
    /// 小额信贷
    #[sea_orm(string_value = "micro_credit")]
    MicroCredit,
    /// 教育帮扶
    #[sea_orm(string_value = "education")]
    Education,
    /// 医疗帮扶
    #[sea_orm(string_value = "medical")]
    Medical,
    /// 住房安全
    #[sea_orm(string_value = "housing")]
    Housing,
    /// 社会救助 (低保, 特困, 临时救助)
    #[sea_orm(string_value = "social_assistance")]
    SocialAssistance,
    /// 消费帮扶, such as the household's goods sold online.
    #[sea_orm(string_value = "consumption")]
    Consumption,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::household::Entity",
        from = "Column::HouseholdId",
        to = "super::household::Column::Id"
    )]
    Household,
}

impl Related<super::household::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Household.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
