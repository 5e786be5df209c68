//! Traceability: households' plots (地块), production batches (批次) and the trace codes issued
//! for them, with revocations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plots::Table)
                    .col(big_pk_auto(Plots::Id))
                    .col(big_integer(Plots::HouseholdId))
                    .col(string_len(Plots::Name, 32))
                    .col(string_len(Plots::VillageCode, 12))
                    .col(big_integer(Plots::AreaCentimu))
                    .col(string_len(Plots::Crop, 32))
                    .col(double_null(Plots::Latitude))
                    .col(double_null(Plots::Longitude))
                    .col(timestamp_with_time_zone(Plots::CreatedAt))
                    .col(timestamp_with_time_zone(Plots::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plots_household")
                            .from(Plots::Table, Plots::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Batches::Table)
                    .col(big_pk_auto(Batches::Id))
                    .col(big_integer(Batches::HouseholdId))
                    .col(big_integer_null(Batches::PlotId))
                    .col(string_len(Batches::VillageCode, 12))
                    .col(big_integer(Batches::CategoryId))
                    .col(big_integer(Batches::Quantity))
                    .col(string_len(Batches::Unit, 8))
                    .col(date(Batches::ProducedOn))
                    .col(string_len(Batches::Note, 500))
                    .col(timestamp_with_time_zone_null(Batches::RecalledAt))
                    .col(string_len_null(Batches::RecallReason, 200))
                    .col(big_integer(Batches::CreatedBy))
                    .col(timestamp_with_time_zone(Batches::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_batches_household")
                            .from(Batches::Table, Batches::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_batches_plot")
                            .from(Batches::Table, Batches::PlotId)
                            .to(Plots::Table, Plots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BatchListings::Table)
                    .col(big_integer(BatchListings::BatchId))
                    .col(big_integer(BatchListings::ListingId))
                    .primary_key(
                        Index::create()
                            .col(BatchListings::BatchId)
                            .col(BatchListings::ListingId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_batch_listings_batch")
                            .from(BatchListings::Table, BatchListings::BatchId)
                            .to(Batches::Table, Batches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TraceCodeRuns::Table)
                    .col(big_pk_auto(TraceCodeRuns::Id))
                    .col(big_integer(TraceCodeRuns::BatchId))
                    .col(big_integer(TraceCodeRuns::FirstItem))
                    .col(big_integer(TraceCodeRuns::LastItem))
                    .col(big_integer(TraceCodeRuns::CreatedBy))
                    .col(timestamp_with_time_zone(TraceCodeRuns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_trace_code_runs_batch")
                            .from(TraceCodeRuns::Table, TraceCodeRuns::BatchId)
                            .to(Batches::Table, Batches::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RevokedCodes::Table)
                    .col(big_integer(RevokedCodes::BatchId))
                    .col(big_integer(RevokedCodes::Item))
                    .col(string_len(RevokedCodes::Reason, 200))
                    .col(big_integer(RevokedCodes::RevokedBy))
                    .col(timestamp_with_time_zone(RevokedCodes::RevokedAt))
                    .primary_key(
                        Index::create()
                            .col(RevokedCodes::BatchId)
                            .col(RevokedCodes::Item),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            (
                "idx_plots_household",
                Plots::Table.into_iden(),
                Plots::HouseholdId.into_iden(),
            ),
            (
                "idx_batches_household",
                Batches::Table.into_iden(),
                Batches::HouseholdId.into_iden(),
            ),
            (
                "idx_batches_village",
                Batches::Table.into_iden(),
                Batches::VillageCode.into_iden(),
            ),
            (
                "idx_trace_code_runs_batch",
                TraceCodeRuns::Table.into_iden(),
                TraceCodeRuns::BatchId.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RevokedCodes::Table.into_iden(),
            TraceCodeRuns::Table.into_iden(),
            BatchListings::Table.into_iden(),
            Batches::Table.into_iden(),
            Plots::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Plots {
    Table,
    Id,
    HouseholdId,
    Name,
    VillageCode,
    /// Hundredths of a mu.
    AreaCentimu,
    Crop,
    Latitude,
    Longitude,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
    HouseholdId,
    PlotId,
    VillageCode,
    CategoryId,
    Quantity,
    Unit,
    ProducedOn,
    Note,
    RecalledAt,
    RecallReason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BatchListings {
    Table,
    BatchId,
    ListingId,
}

#[derive(DeriveIden)]
enum TraceCodeRuns {
    Table,
    Id,
    BatchId,
    FirstItem,
    LastItem,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RevokedCodes {
    Table,
    BatchId,
    Item,
    Reason,
    RevokedBy,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}
