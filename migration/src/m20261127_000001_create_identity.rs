//! Identity and audit: users, their refresh tokens, and the hash-chained audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_null(Users::Phone, 16).unique_key())
                    .col(string_len(Users::DisplayName, 64))
                    .col(string_len(Users::Role, 32))
                    .col(string_len_null(Users::AreaCode, 12))
                    .col(big_integer_null(Users::HouseholdId))
                    .col(string_len_null(Users::WechatOpenid, 64).unique_key())
                    .col(string_len_null(Users::WechatUnionid, 64))
                    .col(string_len_null(Users::PasswordHash, 255))
                    .col(integer(Users::TokenVersion).default(0))
                    .col(boolean(Users::Disabled).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_area")
                            .from(Users::Table, Users::AreaCode)
                            .to(Areas::Table, Areas::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_area_code")
                    .table(Users::Table)
                    .col(Users::AreaCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(big_pk_auto(RefreshTokens::Id))
                    .col(big_integer(RefreshTokens::UserId))
                    .col(string_len(RefreshTokens::FamilyId, 36))
                    .col(string_len(RefreshTokens::TokenHash, 64).unique_key())
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_user")
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorUserId))
                    .col(string_len_null(AuditLog::ActorIp, 64))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Entity, 64))
                    .col(string_len(AuditLog::EntityId, 64))
                    .col(string_len_null(AuditLog::AreaCode, 12))
                    .col(text_null(AuditLog::Before))
                    .col(text_null(AuditLog::After))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_area_code")
                    .table(AuditLog::Table)
                    .col(AuditLog::AreaCode)
                    .to_owned(),
            )
            .await?;
        // One row naming the chain's last link. Appends update it first, which serialises them
        // on every database, so the chain never forks.
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::LastId))
                    .col(string_len(AuditHead::LastHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::LastId, AuditHead::LastHash])
                    .values_panic([1.into(), 0.into(), "0".repeat(64).into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditHead::Table.into_iden(),
            AuditLog::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Phone,
    DisplayName,
    Role,
    AreaCode,
    HouseholdId,
    WechatOpenid,
    WechatUnionid,
    PasswordHash,
    TokenVersion,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    ActorIp,
    Action,
    Entity,
    EntityId,
    AreaCode,
    Before,
    After,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    LastId,
    LastHash,
}
