//! What happened to a batch (GS1 EPCIS what/when/where/why): append-only; a correction is a new
//! event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TraceEvents::Table)
                    .col(big_pk_auto(TraceEvents::Id))
                    .col(big_integer(TraceEvents::BatchId))
                    .col(string_len(TraceEvents::Kind, 16))
                    .col(timestamp_with_time_zone(TraceEvents::OccurredAt))
                    .col(string_len_null(TraceEvents::PlaceAreaCode, 12))
                    .col(string_len_null(TraceEvents::PlaceText, 100))
                    .col(string_len_null(TraceEvents::Result, 8))
                    .col(text(TraceEvents::InputBatchIds))
                    .col(text(TraceEvents::Details))
                    .col(big_integer(TraceEvents::RecordedBy))
                    .col(timestamp_with_time_zone(TraceEvents::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_trace_events_batch")
                            .from(TraceEvents::Table, TraceEvents::BatchId)
                            .to(Batches::Table, Batches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_trace_events_batch")
                    .table(TraceEvents::Table)
                    .col(TraceEvents::BatchId)
                    .col(TraceEvents::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TraceEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TraceEvents {
    Table,
    Id,
    BatchId,
    Kind,
    OccurredAt,
    PlaceAreaCode,
    PlaceText,
    Result,
    /// JSON array of the batches a processing step consumed.
    InputBatchIds,
    /// JSON object of small structured details.
    Details,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
}
