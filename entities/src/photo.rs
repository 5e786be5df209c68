//! A stored photo, named by the SHA-256 of the bytes uploaded, so the same photo is kept once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photos")]
pub struct Model {
    /// Lower-case hex SHA-256 of the uploaded file.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Of the stored (bounded) original, after orientation.
    pub width: i32,
    pub height: i32,
    /// What the upload turned out to be: `jpeg`, `png` or `webp`.
    pub source_format: String,
    pub uploaded_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
