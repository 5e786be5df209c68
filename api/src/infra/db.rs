//! One database handle over sea-orm that behaves the same on SQLite, PostgreSQL and MySQL.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Connection settings beyond the URL.
#[derive(Clone, Debug, Default)]
pub struct DatabaseOptions {
    pub max_connections: u32,
    /// PostgreSQL only: the schema to use instead of `public`.
    pub schema: Option<String>,
}

/// The database every service talks to. Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct Database {
    conn: DatabaseConnection,
    /// A replica for reads that may lag behind by moments (dashboards, statistics); none
    /// means they read the primary.
    replica: Option<DatabaseConnection>,
    /// Statements run on this pool since it was opened.
    statements: Arc<AtomicU64>,
}

/// One migration and whether it has run, for `shanhuo migrate status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

impl Database {
    pub async fn connect(url: &str, options: &DatabaseOptions) -> Result<Self, DbErr> {
        let statements = Arc::new(AtomicU64::new(0));
        let conn = Self::pool(url, options, &statements).await?;
        Ok(Self {
            conn,
            replica: None,
            statements,
        })
    }

    /// As [`connect`](Self::connect), with reads that may lag sent to a replica of the same
    /// kind of database (a PostgreSQL streaming replica, a MySQL replica).
    pub async fn connect_with_replica(
        url: &str,
        replica_url: &str,
        options: &DatabaseOptions,
    ) -> Result<Self, DbErr> {
        let kind = |url: &str| match url.split(':').next().unwrap_or_default() {
            // sqlx takes both spellings of PostgreSQL's scheme.
            "postgresql" => "postgres".to_owned(),
            scheme => scheme.to_owned(),
        };
        if url.starts_with("sqlite:") || kind(url) != kind(replica_url) {
            return Err(DbErr::Custom(
                "a read replica must be the same kind of database as the primary, \
                 and PostgreSQL or MySQL"
                    .into(),
            ));
        }
        let mut database = Self::connect(url, options).await?;
        database.replica = Some(Self::pool(replica_url, options, &database.statements).await?);
        Ok(database)
    }

    async fn pool(
        url: &str,
        options: &DatabaseOptions,
        statements: &Arc<AtomicU64>,
    ) -> Result<DatabaseConnection, DbErr> {
        let mut connect = ConnectOptions::new(url);
        connect
            .max_connections(options.max_connections.max(1))
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        if let Some(schema) = &options.schema {
            connect.set_schema_search_path(schema.clone());
        }
        // SQLite: write-ahead logging lets readers run beside the single writer, and waiting on
        // a busy lock beats failing a farmer's request.
        connect.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
        let mut conn = sea_orm::Database::connect(connect).await?;
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(conn)
    }

    /// How many statements this pool has run: hot paths that must not touch the database are
    /// tested against it.
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Where reads that may be moments behind go: the replica when there is one. Only for
    /// answers keyed by what they read (a dashboard keyed by the replica's own last audit
    /// entry), never for a copy kept under a version read from the primary, which a lagging
    /// replica would fill with the state before the change.
    pub fn reads(&self) -> &DatabaseConnection {
        self.replica.as_ref().unwrap_or(&self.conn)
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that reads first and writes later could otherwise find
    /// its snapshot stale and fail with "database is locked" instead of waiting its turn.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    /// Applies pending migrations (all, or the next `steps`).
    pub async fn migrate_up(&self, steps: Option<u32>) -> Result<(), DbErr> {
        Migrator::up(&self.conn, steps).await
    }

    /// Reverts applied migrations (the last one unless `steps` says more).
    pub async fn migrate_down(&self, steps: Option<u32>) -> Result<(), DbErr> {
        Migrator::down(&self.conn, Some(steps.unwrap_or(1))).await
    }

    pub async fn migration_states(&self) -> Result<Vec<MigrationState>, DbErr> {
        let applied: std::collections::HashSet<String> =
            Migrator::get_applied_migrations(&self.conn)
                .await?
                .into_iter()
                .map(|m| m.name().to_owned())
                .collect();
        Ok(Migrator::migrations()
            .iter()
            .map(|m| MigrationState {
                name: m.name().to_owned(),
                applied: applied.contains(m.name()),
            })
            .collect())
    }

    pub async fn has_pending_migrations(&self) -> Result<bool, DbErr> {
        Ok(!Migrator::get_pending_migrations(&self.conn)
            .await?
            .is_empty())
    }
}
