//! How often each trace code has been scanned, written in batches from the cache's counters.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CodeScans::Table)
                    .col(big_integer(CodeScans::BatchId))
                    .col(big_integer(CodeScans::Item))
                    .col(big_integer(CodeScans::Scans))
                    .col(timestamp_with_time_zone(CodeScans::FirstScanAt))
                    .col(timestamp_with_time_zone(CodeScans::LastScanAt))
                    .primary_key(Index::create().col(CodeScans::BatchId).col(CodeScans::Item))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CodeScans::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CodeScans {
    Table,
    BatchId,
    Item,
    Scans,
    FirstScanAt,
    LastScanAt,
}
