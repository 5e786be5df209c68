//! What must survive a cache that vanishes: sign-in limits and one-time codes, the version of a
//! batch's records, and which scan journal segments are already in the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SecurityCounters::Table)
                    .col(string_len(SecurityCounters::Key, 200).primary_key())
                    .col(big_integer(SecurityCounters::Count))
                    .col(timestamp_with_time_zone(SecurityCounters::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_security_counters_expires_at")
                    .table(SecurityCounters::Table)
                    .col(SecurityCounters::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInCodes::Table)
                    .col(string_len(SignInCodes::Phone, 20).primary_key())
                    .col(string_len_null(SignInCodes::CodeHash, 64))
                    .col(integer(SignInCodes::Tries))
                    .col(timestamp_with_time_zone(SignInCodes::SentAt))
                    .col(timestamp_with_time_zone(SignInCodes::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Batches::Table)
                    .add_column(big_integer(Batches::RecordsVersion).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScanJournals::Table)
                    .col(string_len(ScanJournals::JournalId, 40).primary_key())
                    .col(big_integer(ScanJournals::FlushedThrough))
                    .col(timestamp_with_time_zone(ScanJournals::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScanJournals::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Batches::Table)
                    .drop_column(Batches::RecordsVersion)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SignInCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SecurityCounters::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SecurityCounters {
    Table,
    Key,
    Count,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SignInCodes {
    Table,
    Phone,
    CodeHash,
    Tries,
    SentAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    RecordsVersion,
}

#[derive(DeriveIden)]
enum ScanJournals {
    Table,
    JournalId,
    FlushedThrough,
    UpdatedAt,
}
