//! Builds the running server from settings: connects the parts, prepares the database, and
//! serves until SIGTERM or Ctrl-C, letting in-flight requests finish.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, bail};
use poem::{
    Server,
    listener::{Acceptor, Listener, TcpListener},
};

use crate::{
    config::Settings,
    domain::county_time::{self, SharedClock},
    http,
    infra::{
        cache::{Cache, MemoryCache, RedisCache, RedisTimeouts, ResilientCache},
        db::{Database, DatabaseOptions},
        labels::LabelFonts,
        pii::PiiVault,
        sms::{HttpSms, LogSms, SmsSender},
        tokens::TokenKeys,
        trace_codes::TraceKeys,
        wechat::{HttpWeChat, WeChat},
        wechat_web::OfficialAccount,
    },
    service::{
        areas,
        audit::{checkpoints, keys::AuditKeys},
        auth::Auth,
        exit::{
            progress::{self, KeptProgress},
            rules::ExitRules,
        },
        market::{catalogue, photos::Photos},
        otp::{Otp, OtpTimings},
        rate_limit,
        rate_limit::SignInLimits,
        seed,
        trace::{
            codes::{self, RecordsMemo, RenderedRecords},
            scan_journal::ScanJournal,
            scans::{self, ScanCounter},
        },
    },
    telemetry::Metrics,
};

/// What every request handler can reach. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Database,
    pub cache: Arc<dyn Cache>,
    pub auth: Auth,
    /// Seals and finds personal data (ID numbers).
    pub pii: Arc<PiiVault>,
    pub metrics: Metrics,
    /// The configured exit criteria and goals.
    pub exit_rules: Arc<ExitRules>,
    /// Listing photos: processing and storage.
    pub photos: Photos,
    /// Signs and checks trace codes.
    pub trace_keys: Arc<TraceKeys>,
    /// Counts scans in the cache and writes them to the database in batches.
    pub scans: ScanCounter,
    /// Trace code records recently read, so scans of popular codes cost no query.
    pub trace_records: RecordsMemo,
    /// Their answers' unchanging part, serialised once.
    pub trace_rendered: RenderedRecords,
    /// The progress dashboards this server keeps rendered.
    pub progress: KeptProgress,
    /// Fonts for label sheet pictures, read when first needed.
    pub label_fonts: Arc<LabelFonts>,
    /// Links audit entries and signs checkpoints of the chain.
    pub audit_keys: Arc<AuditKeys>,
    /// Where "now" comes from: the wall clock, or a fixed one in tests.
    pub clock: SharedClock,
    /// The WeChat Official Account, when configured: sign-in inside WeChat and the JS-SDK.
    pub wechat_web: Option<OfficialAccount>,
}

/// How `serve` treats the schema at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateOnStart {
    /// Apply pending migrations (the embedded default, or `--migrate`).
    Apply,
    /// Leave the schema alone and refuse to start if it is behind (production).
    Require,
}

impl AppState {
    /// Connects the database and the cache named by the settings.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let db = connect_database(&settings).await?;
        let cache = connect_cache(&settings).await?;
        Self::new(settings, db, cache)
    }

    pub fn new(settings: Settings, db: Database, cache: Arc<dyn Cache>) -> anyhow::Result<Self> {
        let keys = TokenKeys::new(
            &settings.secret_key,
            settings.previous_secret_key.as_ref(),
            Duration::from_secs(settings.access_token_ttl_secs),
        );
        let sms: Arc<dyn SmsSender> = match &settings.sms_gateway_url {
            Some(url) => Arc::new(HttpSms::new(
                url.clone(),
                settings.sms_api_key.clone(),
                settings.sms_template.clone(),
            )),
            None => Arc::new(LogSms),
        };
        let timings = OtpTimings {
            code_ttl: Duration::from_secs(settings.sms_code_ttl_secs.max(1)),
            resend_after: Duration::from_secs(settings.sms_resend_after_secs),
        };
        let limits = SignInLimits {
            sms_codes_per_network_per_day: settings.sms_codes_per_network_per_day,
            sign_in_attempts_per_network_per_hour: settings.sign_in_attempts_per_network_per_hour,
        };
        let otp = Otp::new(
            db.clone(),
            sms,
            settings.secret_key.clone(),
            timings,
            limits,
        );
        let wechat: Option<Arc<dyn WeChat>> =
            match (&settings.wechat_appid, &settings.wechat_secret) {
                (Some(appid), Some(secret)) => Some(Arc::new(HttpWeChat::new(
                    &settings.wechat_base_url,
                    appid.clone(),
                    secret.clone(),
                ))),
                _ => None,
            };
        let auth = Auth::new(
            db.clone(),
            cache.clone(),
            Arc::new(keys),
            otp,
            wechat,
            Duration::from_secs(settings.refresh_token_ttl_days * 24 * 60 * 60),
        );
        let pii = Arc::new(PiiVault::from_keys(&settings.pii_keys()));
        let exit_rules =
            Arc::new(ExitRules::new(&settings.exit_rules()).context("invalid exit rules")?);
        let photos = Photos::open(&settings.blob_store(), settings.photo_workers)
            .context("cannot open the file storage")?;
        let journal = ScanJournal::open(&settings.scan_journal_dir())
            .context("cannot open the scan journal")?;
        let scans = ScanCounter::new(cache.clone(), Some(journal));
        let trace_keys = Arc::new(TraceKeys::new(
            &settings.secret_key,
            settings.previous_secret_key.as_ref(),
        ));
        let label_fonts = Arc::new(LabelFonts::new(settings.label_font.clone()));
        let audit_keys =
            Arc::new(AuditKeys::new(&settings.audit_keys()).context("invalid audit keys")?);
        audit_keys.install();
        county_time::install_zone(settings.time_zone);
        let wechat_web = settings
            .wechat_web()
            .map(|web| OfficialAccount::new(web, cache.clone()));
        Ok(Self {
            wechat_web,
            settings: Arc::new(settings),
            db,
            cache,
            auth,
            pii,
            exit_rules,
            photos,
            trace_keys,
            scans,
            trace_records: codes::records_memo(),
            trace_rendered: Default::default(),
            progress: Default::default(),
            label_fonts,
            audit_keys,
            metrics: Metrics::new(),
            clock: county_time::system_clock(),
        })
    }
}

pub async fn connect_database(settings: &Settings) -> anyhow::Result<Database> {
    let options = DatabaseOptions {
        max_connections: settings.database_max_connections,
        schema: settings.database_schema.clone(),
    };
    let connected = match &settings.database_read_url {
        None => Database::connect(&settings.database_url, &options).await,
        Some(replica) => {
            Database::connect_with_replica(&settings.database_url, replica, &options).await
        }
    };
    connected.with_context(|| {
        let replica = settings.database_read_url.as_deref().map(redact);
        format!(
            "cannot connect to the database at {}{}",
            redact(&settings.database_url),
            replica.map_or(String::new(), |r| format!(" with its replica at {r}"))
        )
    })
}

/// Redis behind its circuit when configured (a Redis that is away at start only makes the
/// server start degraded), otherwise the in-process cache.
pub async fn connect_cache(settings: &Settings) -> anyhow::Result<Arc<dyn Cache>> {
    Ok(match &settings.redis_url {
        Some(url) => {
            let timeouts = RedisTimeouts {
                connect: Duration::from_millis(settings.redis_connect_timeout_ms.max(1)),
                response: Duration::from_millis(settings.redis_timeout_ms.max(1)),
            };
            let redis = RedisCache::connect_lazily(url, &settings.cache_prefix, timeouts)
                .with_context(|| format!("the Redis URL {} is not valid", redact(url)))?;
            if let Err(e) = redis.ping().await {
                tracing::error!(error = %e, url = %redact(url), "Redis does not answer; starting degraded");
            }
            Arc::new(ResilientCache::new(redis, settings.cache_capacity))
        }
        None => Arc::new(MemoryCache::new(settings.cache_capacity)),
    })
}

/// Brings the schema up to date (or checks it is) and, outside production, loads the demo
/// county into an empty database so a newcomer sees a county at once.
pub async fn prepare(state: &AppState, migrate: MigrateOnStart) -> anyhow::Result<()> {
    match migrate {
        MigrateOnStart::Apply => state
            .db
            .migrate_up(None)
            .await
            .context("migration failed")?,
        MigrateOnStart::Require => {
            if state.db.has_pending_migrations().await? {
                bail!(
                    "the database schema is behind this version; run `shanhuo migrate up` \
                     or start with `serve --migrate`"
                );
            }
        }
    }
    let recovered = state
        .scans
        .recover(&state.db)
        .await
        .context("writing the scan journal's unwritten scans failed")?;
    if recovered > 0 {
        tracing::warn!(
            scans = recovered,
            "wrote scans that an earlier run counted but did not write"
        );
    }
    let added = catalogue::ensure_defaults(&state.db).await?;
    if added > 0 {
        tracing::info!(added, "added the county's default product categories");
    }
    crate::service::trace::certificates::apply_scope(
        &state.db,
        &state.settings.certificate_categories,
    )
    .await?;
    let settings = &state.settings;
    if !settings.is_production() && settings.seed_demo && areas::count(&state.db).await? == 0 {
        let report = seed::seed_demo_county(
            &state.db,
            settings.seed_demo_households.then_some(seed::DemoRegistry {
                vault: &state.pii,
                rules: &state.exit_rules,
            }),
            &state.photos,
            &state.cache,
            &*state.clock,
        )
        .await?;
        tracing::info!(
            areas = report.county.areas_inserted,
            households = report.county.households_inserted,
            people = report.county.people_inserted,
            exited = report.county.households_exited,
            county = seed::DEMO_COUNTY_CODE,
            "the database was empty: loaded the synthetic demo county ({} townships, {} villages, {} poor villages)",
            seed::DEMO_TOWNSHIPS,
            seed::DEMO_VILLAGES,
            seed::DEMO_POOR_VILLAGES,
        );
        if settings.seed_demo_households {
            tracing::info!(
                listings = report.market.listings,
                orders = report.market.orders,
                completed = report.market.completed,
                "loaded the demo marketplace: listings with photos and a year of orders"
            );
            tracing::info!(
                batches = report.trace.batches,
                events = report.trace.events,
                codes = report.trace.codes,
                "made the demo goods traceable: plots, batches, journeys and codes"
            );
            tracing::info!(
                inputs = report.trace.inputs,
                certificates = report.trace.certificates,
                "recorded the demo farm inputs and compliance certificates"
            );
        }
    }
    Ok(())
}

/// Serves until a shutdown signal, then gives in-flight requests the configured time.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let settings = state.settings.clone();
    let acceptor = TcpListener::bind(settings.listen)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    for addr in acceptor.local_addr() {
        if let Some(addr) = addr.as_socket_addr() {
            tracing::info!(
                database = ?state.db.backend(),
                cache = state.cache.kind(),
                "shanhuo is listening on http://{addr}",
            );
        }
    }
    let snapshots = tokio::spawn(snapshot_progress_hourly(state.clone()));
    let counters = tokio::spawn(purge_ended_limits_hourly(state.db.clone()));
    let scan_writer = tokio::spawn(scans::flush_periodically(
        state.scans.clone(),
        state.db.clone(),
        Duration::from_secs(settings.scan_flush_secs.max(1)),
    ));
    let checkpointer = tokio::spawn(checkpoint_daily(state.clone()));
    let served = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            http::routes(state.clone()),
            shutdown_signal(),
            Some(Duration::from_secs(settings.shutdown_timeout_secs)),
        )
        .await;
    snapshots.abort();
    counters.abort();
    scan_writer.abort();
    checkpointer.abort();
    // The scans counted since the last write, so a restart loses none.
    match state.scans.flush(&state.db).await {
        Ok(codes) => tracing::info!(codes, "wrote the pending scan counts"),
        Err(e) => tracing::error!(error = %e, "writing the pending scan counts failed"),
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Removes the sign-in limits' counts of windows that have ended, every hour.
async fn purge_ended_limits_hourly(db: Database) {
    let mut tick = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        tick.tick().await;
        match rate_limit::purge_ended(&db).await {
            Ok(purged) if purged > 0 => tracing::info!(purged, "purged ended sign-in limit counts"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging ended sign-in limit counts failed"),
        }
    }
}

/// Records the day's progress every hour (the last one of a day stands for it). With several
/// servers on one Redis, one of them takes each hour's turn.
async fn snapshot_progress_hourly(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        tick.tick().await;
        let hour = chrono::Utc::now().format("%Y-%m-%dT%H");
        let turn = state
            .cache
            .set_if_absent(
                &format!("progress-snapshot:{hour}"),
                b"1",
                Duration::from_secs(60 * 60),
            )
            .await;
        if !matches!(turn, Ok(true)) {
            continue;
        }
        match progress::take_snapshots(&state.db, &state.exit_rules).await {
            Ok(areas) => tracing::debug!(areas, "progress snapshot taken"),
            Err(e) => tracing::warn!(error = %e, "progress snapshot failed; trying next hour"),
        }
    }
}

/// Signs a checkpoint of the audit chain at start unless a recent one is stored, and then
/// whenever the last one is older than 23 hours, so there is one at least every day. The
/// stored checkpoints decide, so several servers sign about once a day between them.
async fn checkpoint_daily(state: AppState) {
    let every = chrono::Duration::hours(23);
    let mut tick = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        tick.tick().await;
        let due = match checkpoints::latest_at(&state.db).await {
            Ok(latest) => latest.is_none_or(|at| chrono::Utc::now() - at >= every),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the audit checkpoints; trying next hour");
                continue;
            }
        };
        if !due {
            continue;
        }
        match checkpoints::create(&state.db, &state.audit_keys).await {
            Ok(checkpoint) => tracing::info!(
                seq = checkpoint.seq,
                entry_id = checkpoint.entry_id,
                "audit checkpoint signed"
            ),
            Err(e) => tracing::error!(error = %e, "audit checkpoint not signed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// A URL fit for logs: the password, if any, replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/shanhuo"),
            "postgres://app:***@db:5432/shanhuo"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(
            redact("sqlite://shanhuo.db?mode=rwc"),
            "sqlite://shanhuo.db?mode=rwc"
        );
    }
}
