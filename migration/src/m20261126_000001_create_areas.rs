//! The area tree: county → township → village, keyed by the 12-digit administrative code.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Areas::Table)
                    .col(string_len(Areas::Code, 12).primary_key())
                    .col(string_len_null(Areas::ParentCode, 12))
                    .col(string_len(Areas::Level, 16))
                    .col(string_len(Areas::Name, 64))
                    .col(big_integer(Areas::RuralPopulation).default(0))
                    .col(boolean(Areas::IsPoorVillage).default(false))
                    .col(timestamp_with_time_zone(Areas::CreatedAt))
                    .col(timestamp_with_time_zone(Areas::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_areas_parent")
                            .from(Areas::Table, Areas::ParentCode)
                            // NO ACTION, not RESTRICT: checked at the end of the statement, so
                            // a whole subtree (or, on SQLite, the table on `down`) can go at once.
                            .to(Areas::Table, Areas::Code)
                            .on_delete(ForeignKeyAction::NoAction),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_areas_parent_code")
                    .table(Areas::Table)
                    .col(Areas::ParentCode)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_areas_name")
                    .table(Areas::Table)
                    .col(Areas::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Areas::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Code,
    ParentCode,
    Level,
    Name,
    RuralPopulation,
    IsPoorVillage,
    CreatedAt,
    UpdatedAt,
}
