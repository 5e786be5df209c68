//! A villager may object to an exit notice from the public notice board: the step that
//! records it has no official behind it, so an exit case step's actor may be absent, as a
//! monitoring case step's already may.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{DbBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table's `CREATE` statement as SQLite keeps it, with the actor column's `NOT NULL`
/// dropped (`nullable`) or put back; SQLite changes a column only by building the table anew.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, nullable: bool) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = manager.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'exit_case_steps'",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("exit_case_steps is missing".into()))?;
    let create: String = row.try_get_by_index(0)?;
    let (from, to) = if nullable {
        (
            "\"actor_user_id\" integer NOT NULL",
            "\"actor_user_id\" integer NULL",
        )
    } else {
        (
            "\"actor_user_id\" integer NULL",
            "\"actor_user_id\" integer NOT NULL",
        )
    };
    if !create.contains(from) {
        return Err(DbErr::Custom(format!(
            "exit_case_steps is not as expected: {create}"
        )));
    }
    let create =
        create
            .replacen(from, to, 1)
            .replacen("\"exit_case_steps\"", "\"exit_case_steps_new\"", 1);
    let keep = if nullable {
        ""
    } else {
        " WHERE actor_user_id IS NOT NULL"
    };
    // One batch on one connection: the pool's other connections must not see the table
    // half-rebuilt.
    let batch = [
        create,
        format!("INSERT INTO exit_case_steps_new SELECT * FROM exit_case_steps{keep}"),
        "DROP TABLE exit_case_steps".to_owned(),
        "ALTER TABLE exit_case_steps_new RENAME TO exit_case_steps".to_owned(),
        "CREATE INDEX IF NOT EXISTS idx_exit_case_steps_case ON exit_case_steps (case_id)"
            .to_owned(),
    ]
    .join(";\n");
    conn.execute_unprepared(&batch).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        match backend {
            DbBackend::Sqlite => rebuild_sqlite(manager, true).await,
            DbBackend::Postgres => conn
                .execute_unprepared(
                    "ALTER TABLE exit_case_steps ALTER COLUMN actor_user_id DROP NOT NULL",
                )
                .await
                .map(|_| ()),
            _ => conn
                .execute_unprepared(
                    "ALTER TABLE exit_case_steps MODIFY COLUMN actor_user_id BIGINT NULL",
                )
                .await
                .map(|_| ()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        // Villagers' objections have no actor to keep under the old rule: they go.
        match backend {
            DbBackend::Sqlite => rebuild_sqlite(manager, false).await,
            DbBackend::Postgres => {
                conn.execute_unprepared("DELETE FROM exit_case_steps WHERE actor_user_id IS NULL")
                    .await?;
                conn.execute_unprepared(
                    "ALTER TABLE exit_case_steps ALTER COLUMN actor_user_id SET NOT NULL",
                )
                .await
                .map(|_| ())
            }
            _ => {
                conn.execute_unprepared("DELETE FROM exit_case_steps WHERE actor_user_id IS NULL")
                    .await?;
                conn.execute_unprepared(
                    "ALTER TABLE exit_case_steps MODIFY COLUMN actor_user_id BIGINT NOT NULL",
                )
                .await
                .map(|_| ())
            }
        }
    }
}
