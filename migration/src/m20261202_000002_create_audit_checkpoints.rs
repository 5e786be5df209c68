//! A keyed, numbered audit chain with signed checkpoints: every entry gets a chain sequence
//! number and the id of the key that linked it, the head keeps the last number, and signed
//! checkpoints of the head get a table of their own.
//!
//! Entries already written keep no number and no key id: they stay plain SHA-256 links.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time. Nullable, without a
        // constraint, so `down` can drop them on every database.
        for column in [
            big_integer_null(AuditLog::Seq),
            string_len_null(AuditLog::KeyId, 16),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditLog::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Unique, so two entries can never claim one place in the chain; NULLs (entries from
        // before numbering) do not collide on any of the three databases.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_seq")
                    .table(AuditLog::Table)
                    .col(AuditLog::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditHead::Table)
                    .add_column(big_integer(AuditHead::LastSeq).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(big_pk_auto(AuditCheckpoints::Id))
                    .col(big_integer(AuditCheckpoints::Seq))
                    .col(big_integer(AuditCheckpoints::EntryId))
                    .col(string_len(AuditCheckpoints::Link, 64))
                    .col(timestamp_with_time_zone(AuditCheckpoints::At))
                    .col(string_len(AuditCheckpoints::PublicKeyId, 16))
                    .col(string_len(AuditCheckpoints::Signature, 128))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditHead::Table)
                    .drop_column(AuditHead::LastSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_audit_log_seq")
                    .table(AuditLog::Table)
                    .to_owned(),
            )
            .await?;
        for column in [AuditLog::KeyId, AuditLog::Seq] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditLog::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    KeyId,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    LastSeq,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Id,
    Seq,
    EntryId,
    Link,
    At,
    PublicKeyId,
    Signature,
}
