//! Test support: every test gets its own database (a schema on PostgreSQL, a database on
//! MySQL, a file on SQLite) and its own cache namespace, so tests run in parallel on one server.
//!
//! `TEST_DATABASE_URL` and `TEST_REDIS_URL` choose the servers. Unset, tests use SQLite and the
//! in-process cache. Set, the server must answer: a test never quietly falls back.

use std::{sync::Arc, time::Duration};

use poem::{EndpointExt, test::TestClient};
use sea_orm::{ConnectionTrait, DbBackend};

use crate::{
    app::{self, AppState, MigrateOnStart},
    config::Settings,
    domain::county_time::{FixedClock, SharedClock},
    infra::{
        cache::{Cache, MemoryCache, RedisCache, RedisTimeouts},
        db::{Database, DatabaseOptions},
    },
};

/// A database of its own for one test, dropped with it.
pub struct TestDatabase {
    pub db: Database,
    /// URL and schema a separate process (the e2e server) can connect with.
    pub url: String,
    pub schema: Option<String>,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
    Mysql { admin_url: String, database: String },
}

impl TestDatabase {
    /// An empty database with no tables.
    pub async fn empty() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Self::on_server(url.trim()).await,
            _ => Self::sqlite().await,
        }
    }

    /// A database with every migration applied.
    pub async fn migrated() -> Self {
        let test_db = Self::empty().await;
        test_db.db.migrate_up(None).await.expect("migrations apply");
        test_db
    }

    /// Which server the tests talk to, for messages.
    pub fn backend(&self) -> DbBackend {
        self.db.backend()
    }

    /// Points settings at this database.
    pub fn configure(&self, settings: &mut Settings) {
        settings.database_url = self.url.clone();
        settings.database_schema = self.schema.clone();
        settings.database_max_connections = 5;
    }

    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let db = connect(&url, None).await;
        Self {
            db,
            url,
            schema: None,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    async fn on_server(admin_url: &str) -> Self {
        let name = format!("t_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let admin = connect(admin_url, None).await;
        match admin.backend() {
            DbBackend::Postgres => {
                exec(&admin, &format!("CREATE SCHEMA \"{name}\"")).await;
                let db = connect(admin_url, Some(name.clone())).await;
                Self {
                    db,
                    url: admin_url.to_owned(),
                    schema: Some(name.clone()),
                    cleanup: Cleanup::Postgres {
                        admin_url: admin_url.to_owned(),
                        schema: name,
                    },
                }
            }
            DbBackend::MySql => {
                exec(&admin, &format!("CREATE DATABASE `{name}`")).await;
                let url = with_database(admin_url, &name);
                let db = connect(&url, None).await;
                Self {
                    db,
                    url,
                    schema: None,
                    cleanup: Cleanup::Mysql {
                        admin_url: admin_url.to_owned(),
                        database: name,
                    },
                }
            }
            other => panic!("TEST_DATABASE_URL names an unsupported backend: {other:?}"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, statements) = match &self.cleanup {
            Cleanup::Sqlite(_) => return,
            Cleanup::Postgres { admin_url, schema } => (
                admin_url.clone(),
                [
                    "SET lock_timeout = '10s'".to_owned(),
                    format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
                ],
            ),
            Cleanup::Mysql {
                admin_url,
                database,
            } => (
                admin_url.clone(),
                [
                    "SET SESSION lock_wait_timeout = 10".to_owned(),
                    format!("DROP DATABASE IF EXISTS `{database}`"),
                ],
            ),
        };
        // Drop cannot await; a short-lived runtime on its own thread does the clean-up. The
        // lock timeout keeps a session left holding a lock from hanging the whole suite.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                // One connection, so the session setting applies to the statement after it.
                let single = DatabaseOptions {
                    max_connections: 1,
                    schema: None,
                };
                if let Ok(db) = Database::connect(&admin_url, &single).await {
                    for sql in statements {
                        if let Err(e) = db.conn().execute_unprepared(&sql).await {
                            eprintln!("test clean-up failed: {sql}: {e}");
                            break;
                        }
                    }
                }
            });
        })
        .join();
    }
}

fn options(schema: Option<String>) -> DatabaseOptions {
    DatabaseOptions {
        max_connections: 5,
        schema,
    }
}

async fn connect(url: &str, schema: Option<String>) -> Database {
    Database::connect(url, &options(schema))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "TEST_DATABASE_URL {} does not answer: {e}",
                app::redact(url)
            )
        })
}

async fn exec(db: &Database, sql: &str) {
    db.conn()
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The same URL naming another database: `mysql://u@h:3306/test?x` → `mysql://u@h:3306/name?x`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The caches the cache suite runs against: always the in-process one, Redis when
/// `TEST_REDIS_URL` is set and a Redis Cluster when `TEST_REDIS_CLUSTER_URL` names its nodes
/// (each under a key prefix of its own).
pub async fn test_caches() -> Vec<Arc<dyn Cache>> {
    let mut caches: Vec<Arc<dyn Cache>> = vec![Arc::new(MemoryCache::new(10_000))];
    caches.extend(test_redis().await);
    caches.extend(test_redis_cluster().await);
    caches
}

/// Redis under a fresh key prefix when `TEST_REDIS_URL` is set; panics if it does not answer.
pub async fn test_redis() -> Option<Arc<dyn Cache>> {
    connect_test_redis("TEST_REDIS_URL").await
}

/// A Redis Cluster under a fresh key prefix when `TEST_REDIS_CLUSTER_URL` names its nodes
/// (`redis://127.0.0.1:7101,redis://127.0.0.1:7102,...`); panics if it does not answer.
pub async fn test_redis_cluster() -> Option<Arc<dyn Cache>> {
    connect_test_redis("TEST_REDIS_CLUSTER_URL").await
}

async fn connect_test_redis(variable: &str) -> Option<Arc<dyn Cache>> {
    let url = std::env::var(variable)
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    // Generous timeouts: a test machine under load is slower than a production one.
    let timeouts = RedisTimeouts {
        connect: Duration::from_secs(2),
        response: Duration::from_secs(2),
    };
    let cache = RedisCache::connect(url.trim(), &prefix, timeouts)
        .await
        .unwrap_or_else(|e| panic!("{variable} {url} does not answer: {e}"));
    Some(Arc::new(cache))
}

/// The whole HTTP application in-process, on its own database, for `TestClient` tests.
pub struct TestApp {
    pub client: TestClient<poem::endpoint::BoxEndpoint<'static>>,
    pub state: AppState,
    pub database: TestDatabase,
    /// The app's file storage (photos), removed with the app.
    pub files: tempfile::TempDir,
}

impl TestApp {
    /// Migrated and seeded with the demo county's areas, as `serve` leaves a fresh embedded
    /// database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on(adjust, None, None).await
    }

    /// As `spawn`, with the clock stopped at `now`: the whole app lives at that instant.
    pub async fn spawn_at(now: chrono::DateTime<chrono::Utc>) -> Self {
        let clock: SharedClock = Arc::new(FixedClock(now));
        Self::spawn_on(|_| {}, None, Some(clock)).await
    }

    /// As `spawn_with`, on the given cache instead of the test run's.
    pub async fn spawn_with_cache(
        adjust: impl FnOnce(&mut Settings),
        cache: Arc<dyn Cache>,
    ) -> Self {
        Self::spawn_on(adjust, Some(cache), None).await
    }

    /// Another server on this app's database and cache, with memory of its own (kept copies,
    /// scans not yet written): a second server behind the same load balancer.
    pub fn second_server(&self) -> TestClient<poem::endpoint::BoxEndpoint<'static>> {
        let mut settings = (*self.state.settings).clone();
        settings.scan_journal_dir = Some(self.files.path().join("scan-journal-second"));
        let mut state = AppState::new(settings, self.state.db.clone(), self.state.cache.clone())
            .expect("the second server starts");
        state.clock = self.state.clock.clone();
        TestClient::new(crate::http::routes(state).map_to_response().boxed())
    }

    async fn spawn_on(
        adjust: impl FnOnce(&mut Settings),
        cache: Option<Arc<dyn Cache>>,
        clock: Option<SharedClock>,
    ) -> Self {
        let database = TestDatabase::empty().await;
        let mut settings = Settings::default();
        database.configure(&mut settings);
        // The demo county's areas, without its 45,000 households (a test adds its own).
        settings.seed_demo_households = false;
        let files = tempfile::tempdir().expect("a temporary folder for files");
        settings.data_dir = files.path().to_owned();
        // Beside the files, not among them: a test that puts the files on a disk of its own
        // (to fill it, or make it read-only) keeps the journal off that disk.
        settings.scan_journal_dir = Some(files.path().join("scan-journal"));
        adjust(&mut settings);
        let cache: Arc<dyn Cache> = match (cache, test_redis().await) {
            (Some(cache), _) => cache,
            (None, Some(redis)) => redis,
            (None, None) => Arc::new(MemoryCache::new(settings.cache_capacity)),
        };
        // A replica is connected as `serve` connects it, beside the test's own database.
        let db = match &settings.database_read_url {
            Some(_) => app::connect_database(&settings)
                .await
                .expect("the test database and its replica answer"),
            None => database.db.clone(),
        };
        let mut state = AppState::new(settings, db, cache).expect("the test app starts");
        if let Some(clock) = clock {
            state.clock = clock;
        }
        app::prepare(&state, MigrateOnStart::Apply)
            .await
            .expect("the test app prepares");
        let client = TestClient::new(crate::http::routes(state.clone()).map_to_response().boxed());
        Self {
            client,
            state,
            database,
            files,
        }
    }
}

/// A Redis server of the test's own, on a port of its own, that the test may stop and start
/// again (never the machine's shared one). Needs `redis-server` on the PATH.
pub struct OwnRedis {
    pub port: u16,
    process: Option<std::process::Child>,
}

impl OwnRedis {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            process: None,
        };
        redis.start_again().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again, empty: nothing is saved), and waits until it answers.
    pub async fn start_again(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts (is it installed?)");
        self.process = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the test's own redis-server on port {} does not answer",
            self.port
        );
    }

    /// Kills it, as a crash would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A small local SMS gateway that speaks the gateway protocol and remembers what it was sent;
/// set `failing` to make it answer 500.
pub struct FakeSmsGateway {
    pub url: String,
    pub received: Arc<std::sync::Mutex<Vec<ReceivedSms>>>,
    pub failing: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Clone, Debug)]
pub struct ReceivedSms {
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

impl FakeSmsGateway {
    pub async fn start() -> Self {
        use poem::{
            Response, handler,
            http::StatusCode,
            web::{Data, Json},
        };
        type State = (
            Arc<std::sync::Mutex<Vec<ReceivedSms>>>,
            Arc<std::sync::atomic::AtomicBool>,
        );

        #[handler]
        fn send(
            req: &poem::Request,
            body: Json<serde_json::Value>,
            state: Data<&State>,
        ) -> Response {
            let (received, failing) = state.0;
            if failing.load(std::sync::atomic::Ordering::SeqCst) {
                return Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .finish();
            }
            received.lock().unwrap().push(ReceivedSms {
                authorization: req
                    .header(poem::http::header::AUTHORIZATION)
                    .map(str::to_owned),
                body: body.0,
            });
            Response::builder()
                .status(StatusCode::OK)
                .body(r#"{"status":"accepted"}"#)
        }

        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let app = poem::Route::new()
            .at("/sms/send", poem::post(send))
            .data::<State>((received.clone(), failing.clone()));
        let addr = serve_locally(app).await;
        Self {
            url: format!("http://{addr}/sms/send"),
            received,
            failing,
        }
    }

    /// Points the settings at this gateway.
    pub fn configure(&self, settings: &mut Settings) {
        settings.sms_gateway_url = Some(self.url.clone());
        settings.sms_api_key = Some(secrecy::SecretString::from("test-gateway-key"));
    }

    /// The code in the last message to `phone`.
    pub fn last_code_for(&self, phone: &str) -> Option<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m.body["phone"] == phone)
            .and_then(|m| m.body["params"]["code"].as_str().map(str::to_owned))
    }
}

/// A small local stand-in for WeChat's `code2session`, answering as WeChat does (JSON with a
/// text/plain content type). Codes work once. `wx-<name>` and `wx-<name>.<anything>` are the
/// user `<name>`; `invalid`, `busy`, `blocked` and `limited` give WeChat's error codes.
pub struct FakeWeChat {
    pub base_url: String,
    /// The query strings WeChat was called with.
    pub calls: Arc<std::sync::Mutex<Vec<std::collections::HashMap<String, String>>>>,
}

impl FakeWeChat {
    pub const APPID: &'static str = "wx-test-appid";
    pub const SECRET: &'static str = "wx-test-secret";

    pub async fn start() -> Self {
        use std::collections::{HashMap, HashSet};

        use poem::{
            Response, handler,
            web::{Data, Query},
        };
        type Calls = Arc<std::sync::Mutex<Vec<HashMap<String, String>>>>;
        type Used = Arc<std::sync::Mutex<HashSet<String>>>;

        #[handler]
        fn code2session(
            query: Query<HashMap<String, String>>,
            calls: Data<&Calls>,
            used: Data<&Used>,
        ) -> Response {
            calls.lock().unwrap().push(query.0.clone());
            let code = query.0.get("js_code").cloned().unwrap_or_default();
            let credentials_ok = query.0.get("appid").map(String::as_str)
                == Some(FakeWeChat::APPID)
                && query.0.get("secret").map(String::as_str) == Some(FakeWeChat::SECRET)
                && query.0.get("grant_type").map(String::as_str) == Some("authorization_code");
            let body = if !credentials_ok {
                serde_json::json!({"errcode": 40125, "errmsg": "invalid appsecret"})
            } else if !used.lock().unwrap().insert(code.clone()) {
                serde_json::json!({"errcode": 40163, "errmsg": "code been used"})
            } else if let Some(name) = code
                .strip_prefix("wx-")
                .map(|rest| rest.split('.').next().unwrap_or(rest))
            {
                serde_json::json!({
                    "openid": format!("openid-{name}"),
                    "session_key": "never-stored",
                    "unionid": format!("unionid-{name}"),
                })
            } else {
                let errcode = match code.as_str() {
                    "busy" => -1,
                    "blocked" => 40226,
                    "limited" => 45011,
                    _ => 40029,
                };
                serde_json::json!({"errcode": errcode, "errmsg": "fake WeChat"})
            };
            Response::builder()
                .content_type("text/plain")
                .body(body.to_string())
        }

        let calls: Calls = Arc::default();
        let used: Used = Arc::default();
        let app = poem::Route::new()
            .at("/sns/jscode2session", poem::get(code2session))
            .data(calls.clone())
            .data(used);
        let addr = serve_locally(app).await;
        Self {
            base_url: format!("http://{addr}"),
            calls,
        }
    }

    /// Points the settings at this stand-in.
    pub fn configure(&self, settings: &mut Settings) {
        settings.wechat_appid = Some(Self::APPID.into());
        settings.wechat_secret = Some(secrecy::SecretString::from(Self::SECRET));
        settings.wechat_base_url = self.base_url.clone();
    }
}

/// A small local stand-in for WeChat's Official Account, answering as WeChat does: the
/// authorisation page (it sends the browser straight back, as the user `act_as` names), the
/// code exchange and user info, the access token and the JS-SDK ticket. Codes work once; the
/// users `busy`, `invalid`, `limited` and `snapshot` give WeChat's answers for them. A new
/// access token ends the one before it, as WeChat's does, and `expire_tokens` ends them all.
pub struct FakeOfficialAccount {
    pub base_url: String,
    pub world: Arc<std::sync::Mutex<OfficialAccountWorld>>,
}

/// What the stand-in has seen and handed out.
#[derive(Debug)]
pub struct OfficialAccountWorld {
    /// Who is signed in to WeChat on the phone.
    pub current_user: String,
    pub used_codes: std::collections::HashSet<String>,
    /// Calls of `cgi-bin/token` and `cgi-bin/ticket/getticket`.
    pub token_calls: usize,
    pub ticket_calls: usize,
    /// The one access token that still works, if any.
    pub live_token: Option<String>,
    /// How long WeChat says a token and a ticket live.
    pub expires_in: i64,
}

impl FakeOfficialAccount {
    pub const APPID: &'static str = "wx-test-oa";
    pub const SECRET: &'static str = "wx-test-oa-secret";

    pub async fn start() -> Self {
        use std::collections::HashMap;

        use poem::{
            Response, handler,
            http::StatusCode,
            web::{Data, Query},
        };
        type World = Arc<std::sync::Mutex<OfficialAccountWorld>>;

        fn json(body: serde_json::Value) -> Response {
            Response::builder()
                .content_type("text/plain")
                .body(body.to_string())
        }
        fn credentials_ok(q: &HashMap<String, String>) -> bool {
            q.get("appid").map(String::as_str) == Some(FakeOfficialAccount::APPID)
                && q.get("secret").map(String::as_str) == Some(FakeOfficialAccount::SECRET)
        }

        #[handler]
        fn authorize(q: Query<HashMap<String, String>>, world: Data<&World>) -> Response {
            let (Some(redirect), Some(scope)) = (q.0.get("redirect_uri"), q.0.get("scope")) else {
                return StatusCode::BAD_REQUEST.into();
            };
            if q.0.get("appid").map(String::as_str) != Some(FakeOfficialAccount::APPID)
                || q.0.get("response_type").map(String::as_str) != Some("code")
            {
                return StatusCode::BAD_REQUEST.into();
            }
            let code = {
                let world = world.lock().unwrap();
                format!(
                    "oa-{}.{}.{scope}",
                    world.current_user,
                    uuid::Uuid::new_v4().simple()
                )
            };
            let state = q.0.get("state").cloned().unwrap_or_default();
            let sep = if redirect.contains('?') { '&' } else { '?' };
            let query = serde_urlencoded::to_string([("code", code), ("state", state)]).unwrap();
            Response::builder()
                .status(StatusCode::FOUND)
                .header("location", format!("{redirect}{sep}{query}"))
                .finish()
        }

        #[handler]
        fn act_as(poem::web::Path(name): poem::web::Path<String>, world: Data<&World>) -> Response {
            world.lock().unwrap().current_user = name;
            json(serde_json::json!({"ok": true}))
        }

        #[handler]
        fn oauth_token(q: Query<HashMap<String, String>>, world: Data<&World>) -> Response {
            if !credentials_ok(&q.0)
                || q.0.get("grant_type").map(String::as_str) != Some("authorization_code")
            {
                return json(serde_json::json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
            }
            let code = q.0.get("code").cloned().unwrap_or_default();
            if !world.lock().unwrap().used_codes.insert(code.clone()) {
                return json(serde_json::json!({"errcode": 40163, "errmsg": "code been used"}));
            }
            let Some((name, scope)) = code
                .strip_prefix("oa-")
                .and_then(|rest| rest.split_once('.'))
                .and_then(|(name, rest)| rest.split_once('.').map(|(_, scope)| (name, scope)))
            else {
                return json(serde_json::json!({"errcode": 40029, "errmsg": "invalid code"}));
            };
            let errcode = match name {
                "busy" => -1,
                "invalid" => 40029,
                "limited" => 45011,
                _ => 0,
            };
            if errcode != 0 {
                return json(serde_json::json!({"errcode": errcode, "errmsg": "fake WeChat"}));
            }
            let mut answer = serde_json::json!({
                "access_token": format!("web-{name}"),
                "expires_in": 7200,
                "refresh_token": "never-used",
                "openid": format!("oa-openid-{name}"),
                "scope": scope,
            });
            if scope == "snsapi_userinfo" {
                answer["unionid"] = format!("unionid-{name}").into();
            }
            if name == "snapshot" {
                answer["is_snapshotuser"] = 1.into();
            }
            json(answer)
        }

        #[handler]
        fn userinfo(q: Query<HashMap<String, String>>) -> Response {
            let Some(name) = q.0.get("access_token").and_then(|t| t.strip_prefix("web-")) else {
                return json(serde_json::json!({"errcode": 40001, "errmsg": "invalid credential"}));
            };
            if q.0.get("openid").map(String::as_str) != Some(format!("oa-openid-{name}").as_str()) {
                return json(serde_json::json!({"errcode": 40003, "errmsg": "invalid openid"}));
            }
            json(serde_json::json!({
                "openid": format!("oa-openid-{name}"),
                "nickname": format!("{name}的微信"),
                "unionid": format!("unionid-{name}"),
            }))
        }

        #[handler]
        async fn token(q: Query<HashMap<String, String>>, world: Data<&World>) -> Response {
            if !credentials_ok(&q.0)
                || q.0.get("grant_type").map(String::as_str) != Some("client_credential")
            {
                return json(serde_json::json!({"errcode": 40001, "errmsg": "invalid credential"}));
            }
            // As slow as a call across the country: pages that ask at once all ask meanwhile.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let mut world = world.lock().unwrap();
            world.token_calls += 1;
            let token = format!("token-{}", world.token_calls);
            world.live_token = Some(token.clone());
            json(serde_json::json!({"access_token": token, "expires_in": world.expires_in}))
        }

        #[handler]
        async fn ticket(q: Query<HashMap<String, String>>, world: Data<&World>) -> Response {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let mut world = world.lock().unwrap();
            world.ticket_calls += 1;
            if q.0.get("type").map(String::as_str) != Some("jsapi") {
                return json(serde_json::json!({"errcode": 40097, "errmsg": "invalid args"}));
            }
            if q.0.get("access_token") != world.live_token.as_ref() {
                return json(
                    serde_json::json!({"errcode": 42001, "errmsg": "access_token expired"}),
                );
            }
            let n = world.ticket_calls;
            json(serde_json::json!({
                "errcode": 0, "errmsg": "ok",
                "ticket": format!("ticket-{n}"),
                "expires_in": world.expires_in,
            }))
        }

        let world: World = Arc::new(std::sync::Mutex::new(OfficialAccountWorld {
            current_user: "alice".into(),
            used_codes: Default::default(),
            token_calls: 0,
            ticket_calls: 0,
            live_token: None,
            expires_in: 7200,
        }));
        let app = poem::Route::new()
            .at("/connect/oauth2/authorize", poem::get(authorize))
            .at("/as/:name", poem::get(act_as))
            .at("/sns/oauth2/access_token", poem::get(oauth_token))
            .at("/sns/userinfo", poem::get(userinfo))
            .at("/cgi-bin/token", poem::get(token))
            .at("/cgi-bin/ticket/getticket", poem::get(ticket))
            .data(world.clone());
        let addr = serve_locally(app).await;
        Self {
            base_url: format!("http://{addr}"),
            world,
        }
    }

    /// Points the settings at this stand-in.
    pub fn configure(&self, settings: &mut Settings) {
        settings.wechat_oa_appid = Some(Self::APPID.into());
        settings.wechat_oa_secret = Some(secrecy::SecretString::from(Self::SECRET));
        settings.wechat_base_url = self.base_url.clone();
        settings.wechat_authorize_url = format!("{}/connect/oauth2/authorize", self.base_url);
    }

    /// Who is signed in to WeChat on the phone from now on.
    pub fn act_as(&self, name: &str) {
        self.world.lock().unwrap().current_user = name.to_owned();
    }

    /// WeChat ends every access token it handed out (as a token fetched elsewhere would).
    pub fn expire_tokens(&self) {
        self.world.lock().unwrap().live_token = None;
    }

    /// How many times the access token and the ticket were fetched.
    pub fn fetches(&self) -> (usize, usize) {
        let world = self.world.lock().unwrap();
        (world.token_calls, world.ticket_calls)
    }
}

/// A one-person household in `village`, registered as the county would; `n` (1–99) keeps the
/// household number and the ID number apart from other households.
pub async fn one_person_household(state: &AppState, village: &str, n: u32) -> i64 {
    use crate::{
        domain::{AreaCode, IdNumber},
        service::{
            households::{self, NewHousehold, NewMember},
            policy::Actor,
            users::Origin,
        },
    };
    use entities::{
        household::PovertyCause,
        household_member::{Health, LabourCapacity, MemberRelation, Schooling},
        user::Role,
    };
    let county = Actor {
        user_id: 1,
        role: Role::CountyOfficial,
        area: Some(AreaCode::parse(&village[..6]).expect("a county code")),
        household_id: None,
    };
    households::register(
        &state.db,
        &state.pii,
        &county,
        NewHousehold {
            household_number: format!("M-{n}"),
            village: AreaCode::parse(village).expect("a village code"),
            phone: None,
            poverty_cause: PovertyCause::Land,
            responsible_cadre_id: None,
            registered_year: 2015,
            members: vec![NewMember {
                name: "农户".into(),
                id_number: IdNumber::from_body(&format!("{}197001{n:02}011", &village[..6]))
                    .expect("a valid ID number"),
                relation: MemberRelation::Head,
                declared_sex: None,
                declared_birth_date: None,
                labour_capacity: LabourCapacity::Full,
                health: Health::Healthy,
                schooling: Schooling::Primary,
                medical_insurance: true,
            }],
        },
        &Origin::default(),
    )
    .await
    .expect("the household registers")
    .household
    .id
}

/// An account that signs in with `password`; a farmer's is bound to `household_id`.
pub async fn account(
    db: &Database,
    phone: &str,
    role: entities::user::Role,
    household_id: Option<i64>,
    password: &str,
) -> entities::user::Model {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    let hash = crate::infra::passwords::hash(&secrecy::SecretString::from(password))
        .await
        .expect("the password hashes");
    entities::user::ActiveModel {
        phone: Set(Some(phone.into())),
        display_name: Set(format!("用户 {phone}")),
        role: Set(role),
        household_id: Set(household_id),
        password_hash: Set(Some(hash)),
        token_version: Set(0),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.conn())
    .await
    .expect("the account is created")
}

/// A small local S3-compatible object store: `PUT`, `GET`, `HEAD` and `DELETE` of objects in
/// one bucket, answered with the headers S3 sends, and the objects kept in memory for the test
/// to inspect. It checks that each request is signed (AWS Signature V4) but not the signature
/// itself.
pub struct FakeS3 {
    pub endpoint: String,
    pub bucket: String,
    pub objects: Arc<std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>>,
}

impl FakeS3 {
    pub async fn start() -> Self {
        use poem::{
            Body, Response, handler,
            http::{Method, StatusCode},
            web::Data,
        };
        type Objects = Arc<std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>>;

        #[handler]
        async fn object(req: &poem::Request, body: Body, objects: Data<&Objects>) -> Response {
            let signed = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential="));
            if !signed {
                return Response::builder()
                    .status(StatusCode::FORBIDDEN)
                    .body("<Error><Code>AccessDenied</Code></Error>");
            }
            let key = req.uri().path().trim_start_matches('/').to_owned();
            let etag = |bytes: &[u8]| format!("\"{}\"", crate::infra::tokens::sha256_hex(bytes));
            let modified = chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            match *req.method() {
                Method::PUT => {
                    let bytes = body.into_vec().await.unwrap_or_default();
                    let tag = etag(&bytes);
                    objects.lock().unwrap().insert(key, bytes);
                    Response::builder().header("ETag", tag).finish()
                }
                Method::DELETE => {
                    objects.lock().unwrap().remove(&key);
                    Response::builder().status(StatusCode::NO_CONTENT).finish()
                }
                Method::GET | Method::HEAD => match objects.lock().unwrap().get(&key) {
                    Some(bytes) => {
                        let builder = Response::builder()
                            .header("ETag", etag(bytes))
                            .header("Last-Modified", modified)
                            .header("Content-Length", bytes.len());
                        if req.method() == Method::GET {
                            builder.body(bytes.clone())
                        } else {
                            builder.finish()
                        }
                    }
                    None => Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body("<Error><Code>NoSuchKey</Code></Error>"),
                },
                _ => Response::builder()
                    .status(StatusCode::METHOD_NOT_ALLOWED)
                    .finish(),
            }
        }

        let objects: Objects = Arc::default();
        let app = poem::Route::new().at("/*key", object).data(objects.clone());
        let addr = serve_locally(app).await;
        Self {
            endpoint: format!("http://{addr}"),
            bucket: "shanhuo-files".into(),
            objects,
        }
    }

    /// Points the settings at this store.
    pub fn configure(&self, settings: &mut Settings) {
        settings.s3_bucket = Some(self.bucket.clone());
        settings.s3_endpoint = Some(self.endpoint.clone());
        settings.s3_allow_http = true;
        settings.s3_access_key_id = Some("test-key-id".into());
        settings.s3_secret_access_key = Some(secrecy::SecretString::from("test-secret"));
    }
}

/// Serves `app` on a free local port until the test ends; answers the address.
pub async fn serve_locally(app: impl poem::Endpoint + 'static) -> std::net::SocketAddr {
    use poem::{
        Server,
        listener::{Acceptor, Listener, TcpListener},
    };
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("a free port");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("a socket address");
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    addr
}
