//! A household's exit on record beside its status: the year it exited and how — through the
//! procedure here, or brought by an imported sheet as already exited. Households that exited
//! through the procedure before this migration get their announced case's year.

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
                    .table(Households::Table)
                    .add_column(integer_null(Households::ExitYear))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Households::Table)
                    .add_column(string_len_null(Households::ExitSource, 16))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE households SET exit_source = 'procedure', exit_year = (\
                   SELECT MAX(exit_cases.year) FROM exit_cases \
                   WHERE exit_cases.household_id = households.id \
                     AND exit_cases.state = 'announced') \
                 WHERE status = 'exited'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Households::ExitSource, Households::ExitYear] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Households::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Households {
    Table,
    ExitYear,
    ExitSource,
}
