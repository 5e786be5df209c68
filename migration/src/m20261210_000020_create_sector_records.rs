//! Sector lists (部门筛查预警数据): people another sector (health insurance, civil affairs,
//! emergency management, education) reports, as officials import them, each matched to a
//! registered member by the ID number's keyed hash where one is registered.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SectorRecords::Table)
                    .col(big_pk_auto(SectorRecords::Id))
                    .col(string_len(SectorRecords::Sector, 24))
                    .col(string_len(SectorRecords::Name, 64))
                    .col(string_len(SectorRecords::IdKeyId, 16))
                    .col(text(SectorRecords::IdCiphertext))
                    .col(string_len(SectorRecords::IdMasked, 18))
                    .col(string_len(SectorRecords::IdHash, 64))
                    .col(string_len(SectorRecords::What, 200))
                    .col(big_integer_null(SectorRecords::AmountFen))
                    .col(date(SectorRecords::HappenedOn))
                    .col(big_integer_null(SectorRecords::HouseholdId))
                    .col(string_len_null(SectorRecords::VillageCode, 12))
                    .col(big_integer_null(SectorRecords::ImportedBy))
                    .col(timestamp_with_time_zone(SectorRecords::ImportedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sector_records_household")
                            .from(SectorRecords::Table, SectorRecords::HouseholdId)
                            .to(Households::Table, Households::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_sector_records_household",
                vec![SectorRecords::HouseholdId, SectorRecords::HappenedOn],
            ),
            ("idx_sector_records_id_hash", vec![SectorRecords::IdHash]),
        ] {
            let mut index = Index::create();
            index.name(name).table(SectorRecords::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SectorRecords::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SectorRecords {
    Table,
    Id,
    Sector,
    Name,
    IdKeyId,
    IdCiphertext,
    IdMasked,
    IdHash,
    What,
    AmountFen,
    HappenedOn,
    HouseholdId,
    VillageCode,
    ImportedBy,
    ImportedAt,
}

#[derive(DeriveIden)]
enum Households {
    Table,
    Id,
}
