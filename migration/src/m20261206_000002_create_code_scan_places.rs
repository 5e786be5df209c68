//! The places each trace code was scanned from, written with the scan counts: a label copied
//! and scanned across the country stays flagged after the cache forgets.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CodeScanPlaces::Table)
                    .col(big_integer(CodeScanPlaces::BatchId))
                    .col(big_integer(CodeScanPlaces::Item))
                    .col(string_len(CodeScanPlaces::Place, 64))
                    .col(timestamp_with_time_zone(CodeScanPlaces::FirstSeenAt))
                    .primary_key(
                        Index::create()
                            .col(CodeScanPlaces::BatchId)
                            .col(CodeScanPlaces::Item)
                            .col(CodeScanPlaces::Place),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CodeScanPlaces::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CodeScanPlaces {
    Table,
    BatchId,
    Item,
    Place,
    FirstSeenAt,
}
