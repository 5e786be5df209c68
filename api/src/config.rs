//! Settings: built-in defaults for local use, then an optional TOML file, then the environment.
//!
//! Every setting has a safe default so `shanhuo serve` runs on a fresh machine with SQLite, an
//! in-process cache and a local data folder. Production mode refuses any default secret and
//! insists on a server database and Redis, so a forgotten variable cannot reach real users.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use crate::{
    infra::{
        blobs::{BlobStore, S3Options},
        pii::PiiKeys,
    },
    service::{audit::keys::AuditKeySettings, exit::rules::RuleSettings},
};

/// The signing secret used when none is configured. Good for a laptop, refused in production.
pub const DEVELOPMENT_SECRET_KEY: &str = "shanhuo-development-secret-never-use-in-production";

/// The file read when no `--config` / `SHANHUO_CONFIG` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "shanhuo.toml";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    #[default]
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, the default in development.
    Pretty,
    /// One JSON object per line, the default in production.
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `development` or `production`.
    pub env: RunMode,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Public URL of this server, used in links and QR codes.
    pub public_base_url: String,
    /// sea-orm database URL: `sqlite://…`, `postgres://…` or `mysql://…`.
    pub database_url: String,
    /// PostgreSQL schema to use instead of `public`.
    pub database_schema: Option<String>,
    /// A replica of the database (same kind, PostgreSQL or MySQL) that dashboards and
    /// statistics read; unset, they read `database_url`.
    #[serde(deserialize_with = "empty_as_none")]
    pub database_read_url: Option<String>,
    /// Upper bound of the database connection pool.
    pub database_max_connections: u32,
    /// Redis URL; without it the cache, counters and rate limits live in this process.
    #[serde(deserialize_with = "empty_as_none")]
    pub redis_url: Option<String>,
    /// Prefix of every cache key, so several deployments can share one Redis.
    pub cache_prefix: String,
    /// Milliseconds a Redis command may take before the cache answers without Redis.
    pub redis_timeout_ms: u64,
    /// Milliseconds connecting to Redis may take.
    pub redis_connect_timeout_ms: u64,
    /// Entries the in-process cache keeps at most.
    pub cache_capacity: u64,
    /// Folder for photos, label sheets and other files on the embedded default.
    pub data_dir: PathBuf,
    /// Folder of this server's scan journal; `{data_dir}/scan-journal` when unset.
    pub scan_journal_dir: Option<PathBuf>,
    /// Master secret for signing; at least 32 characters in production.
    pub secret_key: SecretString,
    /// The secret before the last rotation: what it signed still verifies until it expires.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub previous_secret_key: Option<SecretString>,
    /// Key for sealing personal data (ID numbers); derived from the secret key when not set.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub pii_key: Option<SecretString>,
    /// The personal-data key before the last rotation: data it sealed still opens.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub pii_previous_key: Option<SecretString>,
    /// Key of the searchable hash of personal data. It must never change once data is stored;
    /// derived from the secret key when not set, so set it before rotating the secret key.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub pii_search_key: Option<SecretString>,
    /// Key of the audit chain's HMAC links; kept out of the database so that whoever can write
    /// SQL cannot forge a link. Required in production.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub audit_key: Option<SecretString>,
    /// Audit keys before rotations, comma-separated: entries they linked still verify.
    #[serde(deserialize_with = "secret_list")]
    pub audit_previous_keys: Vec<SecretString>,
    /// Ed25519 seed (32 bytes, hex or base64) that signs audit checkpoints. Required in
    /// production.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub audit_signing_key: Option<SecretString>,
    /// Public keys (hex or base64) of signing keys before rotations, comma-separated: the
    /// checkpoints they signed still verify.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub audit_previous_public_keys: Vec<String>,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in days.
    pub refresh_token_ttl_days: u64,
    /// SMS gateway endpoint; without it one-time codes are written to the log (development).
    #[serde(deserialize_with = "empty_as_none")]
    pub sms_gateway_url: Option<String>,
    /// Bearer key for the SMS gateway.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub sms_api_key: Option<SecretString>,
    /// The gateway's template id for the sign-in code message.
    pub sms_template: String,
    /// Seconds a texted sign-in code stays valid.
    pub sms_code_ttl_secs: u64,
    /// Seconds before another code may be texted to the same phone; 0 for no wait.
    pub sms_resend_after_secs: u64,
    /// WeChat mini-program app id; WeChat sign-in is off without it.
    #[serde(deserialize_with = "empty_as_none")]
    pub wechat_appid: Option<String>,
    /// WeChat mini-program app secret.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub wechat_secret: Option<SecretString>,
    /// Where WeChat's API is called: `code2session`, and the Official Account's web
    /// authorisation, access token and JS-SDK ticket.
    pub wechat_base_url: String,
    /// The Official Account's (公众号) app id: with it, pages opened inside WeChat sign in
    /// through WeChat's web authorisation and use the JS-SDK (scanning, share cards).
    #[serde(deserialize_with = "empty_as_none")]
    pub wechat_oa_appid: Option<String>,
    /// The Official Account's app secret.
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub wechat_oa_secret: Option<SecretString>,
    /// The domain authorised in the Official Account (网页授权域名 and JS接口安全域名); the host
    /// of `public_base_url` when not set.
    #[serde(deserialize_with = "empty_as_none")]
    pub wechat_oa_domain: Option<String>,
    /// WeChat's authorisation page.
    pub wechat_authorize_url: String,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Requests per minute one address may make without signing in; 0 turns the limit off.
    pub anonymous_requests_per_minute: u32,
    /// Sign-in codes texted a day at the request of one network (/24 or /48): a village
    /// service point or a carrier's shared address serves many phones.
    pub sms_codes_per_network_per_day: u32,
    /// Sign-in attempts an hour from one network (/24 or /48).
    pub sign_in_attempts_per_network_per_hour: u32,
    /// Origins allowed to call the API from a browser; empty allows none, `*` allows any.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Log filter in `tracing` syntax.
    pub log: String,
    /// Log line format; `json` in production and `pretty` otherwise when not set.
    pub log_format: Option<LogFormat>,
    /// Load the synthetic demo county into an empty database at start (never in production).
    pub seed_demo: bool,
    /// With `seed_demo`, load the demo county's 45,000 registered households too.
    pub seed_demo_households: bool,
    /// Largest spreadsheet an official may upload for a household import, in bytes.
    pub import_limit_bytes: usize,
    /// A genuine trace code scanned more often than this warns of a copied label.
    pub scan_warn_after: i64,
    /// A genuine trace code scanned from more network neighbourhoods than this warns too.
    pub scan_warn_places: i64,
    /// Seconds between writes of scan counts from the cache to the database.
    pub scan_flush_secs: u64,
    /// A font file with Chinese glyphs (TTF, OTF or TTC) for label sheet PNGs; without it the
    /// usual system places are searched (WenQuanYi, Noto CJK, Droid).
    #[serde(deserialize_with = "empty_as_none")]
    pub label_font: Option<PathBuf>,
    /// Largest photo a farmer may upload, in bytes.
    pub photo_limit_bytes: usize,
    /// Photos decoded and resized at once; more wait their turn. 0 means one per CPU core.
    pub photo_workers: usize,
    /// S3-compatible bucket for photos and label sheets; without it they live under `data_dir`.
    #[serde(deserialize_with = "empty_as_none")]
    pub s3_bucket: Option<String>,
    /// The S3 endpoint (MinIO, OSS, COS); AWS when not set.
    #[serde(deserialize_with = "empty_as_none")]
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    #[serde(deserialize_with = "empty_as_none")]
    pub s3_access_key_id: Option<String>,
    #[serde(deserialize_with = "empty_secret_as_none")]
    pub s3_secret_access_key: Option<SecretString>,
    /// Allow a plain-HTTP endpoint (a MinIO on the same host).
    pub s3_allow_http: bool,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    pub shutdown_timeout_secs: u64,
    /// The county's time zone (IANA name): every date a person types or reads is in it.
    #[serde(deserialize_with = "time_zone")]
    pub time_zone: chrono_tz::Tz,
    /// The poverty line per year, yuan per person: a TOML table (`2014 = 2800`) or
    /// `2014=2800,2015=2855`. A year without a line of its own uses the latest earlier one.
    #[serde(deserialize_with = "year_amounts")]
    pub income_lines: BTreeMap<i32, i64>,
    /// A village may exit when its poverty incidence is below this, in percent.
    pub poverty_incidence_threshold_percent: f64,
    /// Indicators a village must meet to exit: any of `hardened_road`, `safe_water`, `power`,
    /// `broadband`, `clinic`, `cultural_room`, `collective_income`.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub village_required_indicators: Vec<String>,
    /// Village collective income that counts as met, yuan per year.
    pub village_min_collective_income_yuan: i64,
    /// Days a public notice (公示) runs before the township may review (fractions allowed).
    pub public_notice_days: f64,
    /// The monitoring range (防止返贫监测范围) per year, yuan per person: a household whose
    /// income per person is at or below it may be monitored, and its risk is eliminated only
    /// above it. Same forms as `income_lines`.
    #[serde(deserialize_with = "year_amounts")]
    pub monitoring_lines: BTreeMap<i32, i64>,
    /// Days a monitoring notice (村内公示 of an identification or a risk elimination) runs.
    pub monitoring_notice_days: f64,
    /// A household whose income per person is above the monitoring line by at most this
    /// percentage of it is warned of too (0 to 100).
    pub monitoring_margin_percent: u32,
    /// A household whose e-commerce income fell by at least this percentage from the year
    /// before is warned of (1 to 100).
    pub monitoring_ecommerce_drop_percent: u32,
    /// The county's goals: poor villages to de-list and registered poor people to lift out.
    pub goal_villages: u32,
    pub goal_people: u32,
    /// Yearly targets on the way, cumulative by the end of each year: `2017=40,2018=100`.
    #[serde(deserialize_with = "year_amounts")]
    pub yearly_goal_villages: BTreeMap<i32, i64>,
    /// Yearly targets of people lifted out, cumulative: `2017=30000,2018=80000`.
    #[serde(deserialize_with = "year_amounts")]
    pub yearly_goal_people: BTreeMap<i32, i64>,
    /// The county's products the certificate rules (承诺达标合格证) cover, each with its class
    /// of the rules' list: a TOML table (`free_range_eggs = "eggs"`) or
    /// `free_range_eggs=eggs,red_tangerine=fruit`. Classes: `vegetables` (cultivated edible
    /// fungi included), `fruit`, `tea_leaves`, `livestock`, `eggs`, `aquatic`.
    #[serde(deserialize_with = "code_classes")]
    pub certificate_categories: BTreeMap<String, String>,
    /// Months a certificate is kept after the day it was issued (the rules ask six at least;
    /// fewer is refused at start).
    pub certificate_keep_months: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            env: RunMode::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: "http://127.0.0.1:8080".into(),
            database_url: "sqlite://shanhuo.db?mode=rwc".into(),
            database_schema: None,
            database_read_url: None,
            database_max_connections: 10,
            redis_url: None,
            cache_prefix: "shanhuo:".into(),
            redis_timeout_ms: 50,
            redis_connect_timeout_ms: 100,
            cache_capacity: 100_000,
            data_dir: PathBuf::from("./data"),
            scan_journal_dir: None,
            secret_key: SecretString::from(DEVELOPMENT_SECRET_KEY),
            previous_secret_key: None,
            pii_key: None,
            pii_previous_key: None,
            pii_search_key: None,
            audit_key: None,
            audit_previous_keys: Vec::new(),
            audit_signing_key: None,
            audit_previous_public_keys: Vec::new(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            sms_gateway_url: None,
            sms_api_key: None,
            sms_template: "SHANHUO_LOGIN_CODE".into(),
            sms_code_ttl_secs: 300,
            sms_resend_after_secs: 60,
            wechat_appid: None,
            wechat_secret: None,
            wechat_base_url: "https://api.weixin.qq.com".into(),
            wechat_oa_appid: None,
            wechat_oa_secret: None,
            wechat_oa_domain: None,
            wechat_authorize_url: "https://open.weixin.qq.com/connect/oauth2/authorize".into(),
            trust_forwarded_for: false,
            anonymous_requests_per_minute: 600,
            sms_codes_per_network_per_day: 500,
            sign_in_attempts_per_network_per_hour: 1000,
            cors_origins: Vec::new(),
            body_limit_bytes: 1024 * 1024,
            log: "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into(),
            log_format: None,
            seed_demo: true,
            seed_demo_households: true,
            import_limit_bytes: 32 * 1024 * 1024,
            scan_warn_after: 20,
            scan_warn_places: 5,
            scan_flush_secs: 2,
            label_font: None,
            photo_limit_bytes: 15 * 1024 * 1024,
            photo_workers: 0,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            shutdown_timeout_secs: 30,
            time_zone: crate::domain::county_time::DEFAULT_ZONE,
            // The national lines as published (2010 prices adjusted each year).
            income_lines: BTreeMap::from([
                (2014, 2800),
                (2015, 2855),
                (2016, 2952),
                (2017, 3335),
                (2018, 3535),
                (2019, 3747),
                (2020, 4000),
            ]),
            poverty_incidence_threshold_percent: 3.0,
            village_required_indicators: [
                "hardened_road",
                "safe_water",
                "power",
                "broadband",
                "clinic",
                "cultural_room",
                "collective_income",
            ]
            .map(String::from)
            .to_vec(),
            village_min_collective_income_yuan: 50_000,
            public_notice_days: 7.0,
            monitoring_lines: BTreeMap::from([(2021, 6000)]),
            monitoring_notice_days: 5.0,
            monitoring_margin_percent: 10,
            monitoring_ecommerce_drop_percent: 50,
            goal_villages: 162,
            goal_people: 135_000,
            yearly_goal_villages: BTreeMap::new(),
            yearly_goal_people: BTreeMap::new(),
            certificate_categories: BTreeMap::from([
                ("free_range_eggs".into(), "eggs".into()),
                ("red_tangerine".into(), "fruit".into()),
                ("black_fungus".into(), "vegetables".into()),
            ]),
            certificate_keep_months: 6,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

/// What production mode found unsafe; every problem is listed, not just the first.
#[derive(Debug)]
pub struct UnsafeForProduction(pub Vec<String>);

impl fmt::Display for UnsafeForProduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing to start in production mode: {}",
            self.0.join("; ")
        )
    }
}

impl std::error::Error for UnsafeForProduction {}

impl Settings {
    /// Loads settings from the built-in defaults, the TOML file (explicit, or `shanhuo.toml` if
    /// present), `DATABASE_URL` / `DATABASE_READ_URL` / `REDIS_URL`, and `SHANHUO_*` variables, later ones winning.
    pub fn load(config_file: Option<PathBuf>) -> Result<Self, ConfigError> {
        let file = match config_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path)),
            Some(path) => path,
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        Self::from_figment(
            Figment::new()
                .merge(Toml::file(file))
                .merge(Env::raw().only(&["DATABASE_URL", "DATABASE_READ_URL", "REDIS_URL"]))
                .merge(Env::prefixed("SHANHUO_").ignore(&["CONFIG"])),
        )
    }

    /// Extracts settings from any figment; tests use it to feed values without the process
    /// environment.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// The exit criteria and goals, as `ExitRules::new` checks and builds them.
    pub fn exit_rules(&self) -> RuleSettings {
        RuleSettings {
            income_lines: self.income_lines.clone(),
            poverty_incidence_threshold_percent: self.poverty_incidence_threshold_percent,
            public_notice_days: self.public_notice_days,
            monitoring_lines: self.monitoring_lines.clone(),
            monitoring_notice_days: self.monitoring_notice_days,
            monitoring_margin_percent: self.monitoring_margin_percent,
            monitoring_ecommerce_drop_percent: self.monitoring_ecommerce_drop_percent,
            village_required_indicators: self.village_required_indicators.clone(),
            village_min_collective_income_yuan: self.village_min_collective_income_yuan,
            goal_villages: self.goal_villages,
            goal_people: self.goal_people,
            yearly_goal_villages: self.yearly_goal_villages.clone(),
            yearly_goal_people: self.yearly_goal_people.clone(),
        }
    }

    /// The keys of personal data; where none is set, derived from the server secret.
    pub fn pii_keys(&self) -> PiiKeys {
        let or_secret =
            |key: &Option<SecretString>| key.clone().unwrap_or_else(|| self.secret_key.clone());
        PiiKeys {
            encryption: or_secret(&self.pii_key),
            previous: self.pii_previous_key.clone(),
            search: or_secret(&self.pii_search_key),
        }
    }

    /// The audit chain's keys; where none is set, the development keys.
    pub fn audit_keys(&self) -> AuditKeySettings {
        AuditKeySettings {
            link: self.audit_key.clone(),
            previous_links: self.audit_previous_keys.clone(),
            signing: self.audit_signing_key.clone(),
            previous_public: self.audit_previous_public_keys.clone(),
        }
    }

    /// Where photos and label sheets are kept: the bucket when one is set, else
    /// `{data_dir}/files`.
    /// Where this server journals its scans until they are written.
    pub fn scan_journal_dir(&self) -> PathBuf {
        self.scan_journal_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("scan-journal"))
    }

    pub fn blob_store(&self) -> BlobStore {
        match &self.s3_bucket {
            Some(bucket) => BlobStore::S3(S3Options {
                bucket: bucket.clone(),
                region: self.s3_region.clone(),
                endpoint: self.s3_endpoint.clone(),
                allow_http: self.s3_allow_http,
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.clone(),
            }),
            None => BlobStore::Local(self.data_dir.join("files")),
        }
    }

    /// The scheme and host of `public_base_url`, without a path or a trailing slash.
    pub fn public_origin(&self) -> String {
        let base = self.public_base_url.trim_end_matches('/');
        match base.split_once("://") {
            Some((scheme, rest)) => {
                format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest))
            }
            None => base.to_owned(),
        }
    }

    /// Where WeChat sends a browser back to, and the origin whose pages the JS-SDK may be
    /// signed for: the authorised domain on `public_base_url`'s scheme.
    pub fn wechat_origin(&self) -> String {
        let origin = self.public_origin();
        match (&self.wechat_oa_domain, origin.split_once("://")) {
            (Some(domain), Some((scheme, _))) => format!("{scheme}://{domain}"),
            _ => origin,
        }
    }

    /// The Official Account's settings, when it is configured.
    pub fn wechat_web(&self) -> Option<crate::infra::wechat_web::WebSettings> {
        match (&self.wechat_oa_appid, &self.wechat_oa_secret) {
            (Some(appid), Some(secret)) => Some(crate::infra::wechat_web::WebSettings {
                appid: appid.clone(),
                secret: secret.clone(),
                base_url: self.wechat_base_url.clone(),
                authorize_url: self.wechat_authorize_url.clone(),
            }),
            _ => None,
        }
    }

    pub fn is_production(&self) -> bool {
        self.env == RunMode::Production
    }

    pub fn uses_embedded_database(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(if self.is_production() {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        })
    }

    /// Checks what production mode demands. Outside production everything passes.
    pub fn check_production_safety(&self) -> Result<(), UnsafeForProduction> {
        if !self.is_production() {
            return Ok(());
        }
        let mut problems = Vec::new();
        let secret = self.secret_key.expose_secret();
        if secret == DEVELOPMENT_SECRET_KEY {
            problems.push("SHANHUO_SECRET_KEY is the development default".to_string());
        } else if secret.chars().count() < 32 {
            problems.push("SHANHUO_SECRET_KEY is shorter than 32 characters".to_string());
        }
        match &self.audit_key {
            None => problems.push(
                "SHANHUO_AUDIT_KEY is not set; the audit chain needs a key outside the database"
                    .into(),
            ),
            Some(key) if key.expose_secret().chars().count() < 32 => {
                problems.push("SHANHUO_AUDIT_KEY is shorter than 32 characters".into())
            }
            Some(_) => {}
        }
        if self.audit_signing_key.is_none() {
            problems.push(
                "SHANHUO_AUDIT_SIGNING_KEY is not set; audit checkpoints need a signing key".into(),
            );
        }
        if self.uses_embedded_database() {
            problems
                .push("DATABASE_URL points at SQLite; production needs PostgreSQL or MySQL".into());
        }
        if self.sms_gateway_url.is_none() {
            problems.push(
                "SHANHUO_SMS_GATEWAY_URL is not set; without it sign-in codes go to the log".into(),
            );
        }
        if self.redis_url.is_none() {
            problems.push("REDIS_URL is not set; production needs Redis".into());
        }
        if self.wechat_oa_appid.is_some() != self.wechat_oa_secret.is_some() {
            problems.push(
                "SHANHUO_WECHAT_OA_APPID and SHANHUO_WECHAT_OA_SECRET are set only together".into(),
            );
        }
        if self.wechat_oa_appid.is_some() && !self.public_origin().starts_with("https://") {
            problems.push(
                "SHANHUO_PUBLIC_BASE_URL must be https for WeChat's web authorisation".into(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(UnsafeForProduction(problems))
        }
    }
}

fn empty_secret_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(empty_as_none::<_, String>(d)?.map(SecretString::from))
}

fn empty_as_none<'de, D: Deserializer<'de>, T: From<String>>(d: D) -> Result<Option<T>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    Ok(value.filter(|s| !s.trim().is_empty()).map(T::from))
}

/// An IANA time zone name such as `Asia/Shanghai`.
fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let name = String::deserialize(d)?;
    crate::domain::county_time::parse_zone(&name).map_err(serde::de::Error::custom)
}

/// Accepts a TOML table of year = amount or, from an environment variable, `2014=2800,…`.
/// Amounts are positive.
fn year_amounts<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<i32, i64>, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TableOrString {
        Table(BTreeMap<String, i64>),
        String(String),
    }
    let pairs: Vec<(String, String)> = match TableOrString::deserialize(d)? {
        TableOrString::Table(table) => table
            .into_iter()
            .map(|(year, amount)| (year, amount.to_string()))
            .collect(),
        TableOrString::String(s) => s
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(|item| {
                let (year, amount) = item.split_once('=').unwrap_or((item, ""));
                (year.to_owned(), amount.to_owned())
            })
            .collect(),
    };
    pairs
        .into_iter()
        .map(|(year, amount)| {
            let year = year.trim().parse::<i32>();
            let amount = amount.trim().parse::<i64>();
            match (year, amount) {
                (Ok(year), Ok(amount)) if amount > 0 => Ok((year, amount)),
                _ => Err(D::Error::custom(
                    "expected year=amount pairs with positive amounts, e.g. 2014=2800,2015=2855",
                )),
            }
        })
        .collect()
}

/// The classes of products the certificate rules list (their article 3).
pub const CERTIFICATE_CLASSES: &[&str] = &[
    "vegetables",
    "fruit",
    "tea_leaves",
    "livestock",
    "eggs",
    "aquatic",
];

/// Product codes with their certificate class, as a TOML table or `code=class,code=class`.
fn code_classes<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TableOrString {
        Table(BTreeMap<String, String>),
        String(String),
    }
    let pairs: Vec<(String, String)> = match TableOrString::deserialize(d)? {
        TableOrString::Table(table) => table.into_iter().collect(),
        TableOrString::String(s) => s
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(|item| {
                let (code, class) = item.split_once('=').unwrap_or((item, ""));
                (code.to_owned(), class.to_owned())
            })
            .collect(),
    };
    pairs
        .into_iter()
        .map(|(code, class)| {
            let (code, class) = (code.trim().to_owned(), class.trim().to_owned());
            if code.is_empty() || !CERTIFICATE_CLASSES.contains(&class.as_str()) {
                return Err(D::Error::custom(format!(
                    "expected product=class pairs, the class one of {}",
                    CERTIFICATE_CLASSES.join(", ")
                )));
            }
            Ok((code, class))
        })
        .collect()
}

/// Secrets as a TOML list or a comma-separated string.
fn secret_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SecretString>, D::Error> {
    Ok(list_or_comma_separated(d)?
        .into_iter()
        .map(SecretString::from)
        .collect())
}

/// Accepts a TOML list or, from an environment variable, a comma-separated string.
fn list_or_comma_separated<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let items = match ListOrString::deserialize(d)? {
        ListOrString::List(items) => items,
        ListOrString::String(s) => s.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}
