//! Daily snapshots of progress per area, so progress can be drawn over time and its pace
//! projected forward.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProgressSnapshots::Table)
                    .col(big_pk_auto(ProgressSnapshots::Id))
                    .col(date(ProgressSnapshots::Day))
                    .col(string_len(ProgressSnapshots::AreaCode, 12))
                    .col(integer(ProgressSnapshots::VillagesDelisted))
                    .col(integer(ProgressSnapshots::VillagesInProgress))
                    .col(big_integer(ProgressSnapshots::PeopleLiftedOut))
                    .col(big_integer(ProgressSnapshots::PeopleStillPoor))
                    .col(big_integer(ProgressSnapshots::HouseholdsExited))
                    .col(timestamp_with_time_zone(ProgressSnapshots::TakenAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_progress_snapshots_area_day")
                    .table(ProgressSnapshots::Table)
                    .col(ProgressSnapshots::AreaCode)
                    .col(ProgressSnapshots::Day)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProgressSnapshots::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ProgressSnapshots {
    Table,
    Id,
    Day,
    AreaCode,
    VillagesDelisted,
    VillagesInProgress,
    PeopleLiftedOut,
    PeopleStillPoor,
    HouseholdsExited,
    TakenAt,
}
