//! Problems buyers report from a scan page, for the officials of the goods' village to read,
//! answer and close.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TraceReports::Table)
                    .col(big_pk_auto(TraceReports::Id))
                    .col(big_integer(TraceReports::BatchId))
                    .col(big_integer(TraceReports::Item))
                    .col(string_len(TraceReports::VillageCode, 12))
                    .col(string_len(TraceReports::What, 500))
                    .col(string_len_null(TraceReports::Phone, 20))
                    .col(string_len(TraceReports::Status, 16))
                    .col(timestamp_with_time_zone(TraceReports::CreatedAt))
                    .col(string_len_null(TraceReports::Answer, 500))
                    .col(big_integer_null(TraceReports::ClosedBy))
                    .col(timestamp_with_time_zone_null(TraceReports::ClosedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_trace_reports_village")
                    .table(TraceReports::Table)
                    .col(TraceReports::VillageCode)
                    .col(TraceReports::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_trace_reports_batch")
                    .table(TraceReports::Table)
                    .col(TraceReports::BatchId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TraceReports::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TraceReports {
    Table,
    Id,
    BatchId,
    Item,
    VillageCode,
    What,
    Phone,
    Status,
    CreatedAt,
    Answer,
    ClosedBy,
    ClosedAt,
}
