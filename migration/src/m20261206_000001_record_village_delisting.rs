//! A village's de-listing on record beside the village: the year it was de-listed and how —
//! through the procedure here, or brought by an imported village sheet as already de-listed.
//! Villages de-listed through the procedure before this migration get their announced case's
//! year.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Areas::Table)
                    .add_column(integer_null(Areas::DelistedYear))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Areas::Table)
                    .add_column(string_len_null(Areas::DelistSource, 16))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE areas SET delist_source = 'procedure', delisted_year = (\
                   SELECT MAX(exit_cases.year) FROM exit_cases \
                   WHERE exit_cases.subject = 'village' \
                     AND exit_cases.village_code = areas.code \
                     AND exit_cases.state = 'announced') \
                 WHERE EXISTS (\
                   SELECT 1 FROM exit_cases \
                   WHERE exit_cases.subject = 'village' \
                     AND exit_cases.village_code = areas.code \
                     AND exit_cases.state = 'announced')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Areas::DelistSource, Areas::DelistedYear] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Areas::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    DelistedYear,
    DelistSource,
}
