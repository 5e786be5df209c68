//! The one error envelope every response uses: `{"code", "message", "details"}`.
//!
//! Codes are stable and dotted (`area.not_found`); each has an HTTP status and a message in
//! Chinese and English. `mobile-contract/error-codes.json` is this table, committed, and a test
//! fails when the two drift apart.

pub mod services;

use std::time::Duration;

use poem::{
    IntoResponse, Response,
    error::ResponseError,
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::{
    ApiResponse, Object, ResponseContent,
    payload::Json,
    registry::{MetaResponse, MetaResponses, Registry},
};
use serde_json::Value;

use crate::service::reasons::Reason;

/// The language of error messages, chosen by `Accept-Language`; Chinese unless English is
/// preferred.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The text for this reader: `lang.t("登录", "Sign in")`.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The page's `lang` attribute.
    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks Chinese or English from an `Accept-Language` value by quality; ties and anything
    /// else fall back to Chinese.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::Zh;
        };
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map_or(Lang::Zh, |(lang, _)| lang)
    }
}

macro_rules! error_codes {
    ($($variant:ident = ($code:literal, $status:ident, $zh:literal, $en:literal),)*) => {
        /// Every error the server can answer with.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            pub fn message(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((ErrorCode::$variant, Lang::Zh) => $zh,
                      (ErrorCode::$variant, Lang::En) => $en,)*
                }
            }
        }
    };
}

error_codes! {
    RequestInvalid = ("request.invalid", BAD_REQUEST,
        "请求无效", "The request is not valid"),
    RequestInvalidJson = ("request.invalid_json", BAD_REQUEST,
        "请求内容不是有效的 JSON", "The request body is not valid JSON"),
    RequestInvalidBody = ("request.invalid_body", UNPROCESSABLE_ENTITY,
        "请求内容的字段缺失或类型不对", "The request body has missing fields or fields of the wrong type"),
    RequestInvalidParameter = ("request.invalid_parameter", BAD_REQUEST,
        "请求参数无效", "A request parameter is not valid"),
    RequestInvalidCursor = ("request.invalid_cursor", BAD_REQUEST,
        "分页游标无效，请从第一页重新开始", "The page cursor is not valid; start again from the first page"),
    RequestUnknownCursor = ("request.unknown_cursor", UNPROCESSABLE_ENTITY,
        "分页游标已失效，请从第一页重新开始", "The page cursor is not one this list gives; start again from the first page"),
    RequestUnsupportedMediaType = ("request.unsupported_media_type", UNSUPPORTED_MEDIA_TYPE,
        "不支持的内容类型，请以 JSON 格式发送", "Unsupported content type; send application/json"),
    RequestBodyTooLarge = ("request.body_too_large", PAYLOAD_TOO_LARGE,
        "请求内容太大", "The request body is too large"),
    RequestOriginNotAllowed = ("request.origin_not_allowed", FORBIDDEN,
        "不允许从该来源访问", "Requests from this origin are not allowed"),
    RouteNotFound = ("route.not_found", NOT_FOUND,
        "没有这个地址", "There is nothing at this address"),
    RouteMethodNotAllowed = ("route.method_not_allowed", METHOD_NOT_ALLOWED,
        "该地址不支持这种请求方法", "This address does not accept this request method"),
    AreaNotFound = ("area.not_found", NOT_FOUND,
        "找不到该地区", "No area has this code"),
    AreaInvalidCode = ("area.invalid_code", BAD_REQUEST,
        "地区代码应为 6、9 或 12 位数字", "An area code has 6, 9 or 12 digits"),
    AuthUnauthenticated = ("auth.unauthenticated", UNAUTHORIZED,
        "请先登录", "Sign in first"),
    AuthTokenInvalid = ("auth.token_invalid", UNAUTHORIZED,
        "登录凭证无效，请重新登录", "The access token is not valid; sign in again"),
    AuthTokenExpired = ("auth.token_expired", UNAUTHORIZED,
        "登录已过期，请刷新或重新登录", "The access token has expired; refresh it or sign in again"),
    AuthTokenRevoked = ("auth.token_revoked", UNAUTHORIZED,
        "登录已失效，请重新登录", "The access token has been revoked; sign in again"),
    AuthInvalidCredentials = ("auth.invalid_credentials", UNAUTHORIZED,
        "手机号或密码错误", "The phone number or password is wrong"),
    AuthAccountDisabled = ("auth.account_disabled", FORBIDDEN,
        "该账号已停用", "This account is disabled"),
    AuthRefreshInvalid = ("auth.refresh_invalid", UNAUTHORIZED,
        "刷新凭证无效，请重新登录", "The refresh token is not valid; sign in again"),
    AuthRefreshExpired = ("auth.refresh_expired", UNAUTHORIZED,
        "刷新凭证已过期，请重新登录", "The refresh token has expired; sign in again"),
    AuthRefreshReused = ("auth.refresh_reused", UNAUTHORIZED,
        "刷新凭证已被使用过，为安全起见本次登录已全部失效，请重新登录",
        "The refresh token was already used; for safety this sign-in is revoked, sign in again"),
    AuthForbidden = ("auth.forbidden", FORBIDDEN,
        "没有权限进行此操作", "You are not allowed to do this"),
    AuthCodeInvalid = ("auth.code_invalid", UNAUTHORIZED,
        "验证码错误或已过期", "The code is wrong or has expired"),
    AuthCodeTooManyTries = ("auth.code_too_many_tries", UNAUTHORIZED,
        "验证码错误次数过多，请重新获取", "Too many wrong codes; ask for a new one"),
    AuthCodeTooSoon = ("auth.code_too_soon", TOO_MANY_REQUESTS,
        "验证码刚刚发过", "A code was sent moments ago"),
    RequestRateLimited = ("request.rate_limited", TOO_MANY_REQUESTS,
        "请求太频繁", "Too many requests"),
    ServerSmsUnavailable = ("server.sms_unavailable", SERVICE_UNAVAILABLE,
        "短信暂时发送不了，请稍后再试", "Text messages cannot be sent right now; try again later"),
    AuthWechatDisabled = ("auth.wechat_disabled", NOT_FOUND,
        "本服务未开通微信登录", "WeChat sign-in is not enabled on this server"),
    AuthWechatCodeInvalid = ("auth.wechat_code_invalid", UNAUTHORIZED,
        "微信登录凭证无效或已使用，请重新登录", "The WeChat login code is invalid or already used; log in again"),
    AuthWechatBlocked = ("auth.wechat_blocked", FORBIDDEN,
        "微信限制了该用户登录", "WeChat does not allow this user to sign in"),
    AuthWechatNotAuthorised = ("auth.wechat_not_authorised", FORBIDDEN,
        "您没有同意微信授权，可以用手机号和短信验证码登录", "You did not allow WeChat to sign you in; sign in with your phone and a texted code instead"),
    AuthWechatSnapshot = ("auth.wechat_snapshot", FORBIDDEN,
        "这是微信的预览页，请点页面下方的“使用完整服务”后再登录", "This is WeChat's preview of the page; tap “use the full service” at its foot, then sign in"),
    AuthWechatStateRefused = ("auth.wechat_state_refused", FORBIDDEN,
        "这次微信登录已失效，或不是在这部手机上开始的，请重新登录", "This WeChat sign-in expired or was not started on this phone; sign in again"),
    UserWechatTaken = ("user.wechat_taken", CONFLICT,
        "这个微信已经绑定了另一个有手机号的账号，请用那个手机号登录", "This WeChat already signs in to another account with a phone number; sign in with that phone"),
    ServerWechatUnavailable = ("server.wechat_unavailable", SERVICE_UNAVAILABLE,
        "微信服务暂时不可用，请稍后再试", "WeChat cannot be reached right now; try again later"),
    UserPhoneAlreadyBound = ("user.phone_already_bound", CONFLICT,
        "该账号已绑定手机号", "This account already has a phone number"),
    UserMergeRefused = ("user.merge_refused", CONFLICT,
        "该手机号属于另一个账号，无法合并", "The phone belongs to another account that this one cannot be merged into"),
    HouseholdNotFound = ("household.not_found", NOT_FOUND,
        "找不到该户", "No such household"),
    HouseholdNumberTaken = ("household.number_taken", CONFLICT,
        "该户编号已登记", "This household number is already registered"),
    HouseholdInUse = ("household.in_use", CONFLICT,
        "该户已有评估、退出、交易或溯源记录，不能删除",
        "Other records rely on this household (assessments, exit cases, goods, orders, trace); it cannot be removed. details lists them"),
    HouseholdUnknownVillage = ("household.unknown_village", UNPROCESSABLE_ENTITY,
        "户所在的村不存在", "The household's village does not exist"),
    HouseholdInvalid = ("household.invalid", UNPROCESSABLE_ENTITY,
        "户信息有误", "The household's details are not valid"),
    HouseholdInvalidIdNumber = ("household.invalid_id_number", UNPROCESSABLE_ENTITY,
        "身份证号码有误", "An ID number is not valid"),
    HouseholdDuplicatePerson = ("household.duplicate_person", CONFLICT,
        "该成员已在其他户登记", "This person is already registered in another household"),
    HouseholdRegisteredElsewhere = ("household.registered_elsewhere", CONFLICT,
        "此人已在本县其他地方登记，请联系县扶贫办",
        "This person is already registered elsewhere in the county; contact the county poverty alleviation office"),
    HouseholdImportRejected = ("household.import_rejected", UNPROCESSABLE_ENTITY,
        "导入文件有错误，未写入任何数据；请按列出的行和列改正后再导入", "The file has problems, listed in details; nothing was written"),
    HouseholdImportUnreadable = ("household.import_unreadable", UNPROCESSABLE_ENTITY,
        "无法读取该文件，请使用 .xlsx 或 .csv 格式的模板", "The file cannot be read; use the .xlsx or .csv template"),
    SectorImportRejected = ("sector.import_rejected", UNPROCESSABLE_ENTITY,
        "部门名单有错误，未写入任何数据；请按所列的行和列改正后再导入", "The sector list has problems, listed by row and column; nothing was written"),
    SectorImportUnreadable = ("sector.import_unreadable", UNPROCESSABLE_ENTITY,
        "无法读取该文件，请使用 .xlsx 或 .csv 格式的名单", "The file cannot be read; use an .xlsx or .csv list"),
    VillageImportRejected = ("village.import_rejected", UNPROCESSABLE_ENTITY,
        "村名单有错误，未写入任何数据；请按所列的行和列改正后再导入", "The village sheet has problems, listed by row and column; nothing was written"),
    VillageImportUnreadable = ("village.import_unreadable", UNPROCESSABLE_ENTITY,
        "无法读取该文件，请使用导出的 .xlsx 或 .csv 村名单", "The file cannot be read; use an exported .xlsx or .csv village sheet"),
    ExitNotFound = ("exit.not_found", NOT_FOUND,
        "找不到该退出事项或对象", "No such exit case, household or village"),
    ExitInvalid = ("exit.invalid", UNPROCESSABLE_ENTITY,
        "退出信息有误", "The exit details are not valid"),
    ExitNotQualified = ("exit.not_qualified", CONFLICT,
        "尚未达到退出标准；请先补齐未达标的项目", "The exit criteria are not met; details lists those that fail"),
    ExitStepNotAllowed = ("exit.step_not_allowed", CONFLICT,
        "当前阶段不能进行这一步", "This step is not allowed at the case's stage; details lists the allowed ones"),
    ExitCaseOpen = ("exit.case_open", CONFLICT,
        "该对象已有进行中的退出事项", "This subject already has an open exit case"),
    MonitoringNotFound = ("monitoring.not_found", NOT_FOUND,
        "找不到该监测户或监测事项", "No such monitored household or monitoring case"),
    MonitoringInvalid = ("monitoring.invalid", UNPROCESSABLE_ENTITY,
        "监测信息有误", "The monitoring details are not valid"),
    MonitoringStepNotAllowed = ("monitoring.step_not_allowed", CONFLICT,
        "当前阶段不能进行这一步", "This step is not allowed at the case's stage; details lists the allowed ones"),
    MonitoringOpen = ("monitoring.open", CONFLICT,
        "这户已经在监测中，或已有进行中的事项", "This household is monitored already or has an open monitoring case"),
    MonitoringNotQualified = ("monitoring.not_qualified", CONFLICT,
        "还不能消除风险；请先看未达标的项目", "The risk cannot be marked eliminated yet; details lists what fails"),
    HelpInvalid = ("help.invalid", UNPROCESSABLE_ENTITY,
        "帮扶或走访信息有误", "The help or visit details are not valid"),
    MarketNotFound = ("market.not_found", NOT_FOUND,
        "找不到该商品或品类", "No such listing or category"),
    MarketInvalid = ("market.invalid", UNPROCESSABLE_ENTITY,
        "商品信息有误", "The listing or category details are not valid"),
    MarketCategoryTaken = ("market.category_taken", CONFLICT,
        "该品类代码已存在", "A category with this code exists already"),
    OrderOutOfStock = ("order.out_of_stock", CONFLICT,
        "库存不足，请减少数量", "Not enough in stock; details says how many are left"),
    OrderIdempotencyKeyReused = ("order.idempotency_key_reused", UNPROCESSABLE_ENTITY,
        "这张表单已经提交过另一笔订单，请刷新页面重新填写", "This idempotency key was used for a different order"),
    RequestIdempotencyKeyReused = ("request.idempotency_key_reused", UNPROCESSABLE_ENTITY,
        "这张表单已经提交过别的内容，请刷新页面重新填写", "This key was sent before with another request; reload the page and fill it in again"),
    OrderStepNotAllowed = ("order.step_not_allowed", CONFLICT,
        "订单现在的状态不能进行这一步", "This step is not allowed in the order's state; details lists the allowed ones"),
    OrderBothSides = ("order.both_sides", FORBIDDEN,
        "您已替卖方办理过这笔订单（收款或发货），不能再替买方完成它；请买家或另一位干部完成",
        "You recorded the seller's side of this order (payment or shipping), so you cannot also complete it for the buyer; the buyer or another official must"),
    OrderInvalidDestination = ("order.invalid_destination", UNPROCESSABLE_ENTITY,
        "收货地区代码有误", "The delivery province or city code is not on the national list"),
    TraceNotFound = ("trace.not_found", NOT_FOUND,
        "找不到该地块、批次或溯源码", "No such plot, batch or trace code"),
    TraceInvalid = ("trace.invalid", UNPROCESSABLE_ENTITY,
        "溯源信息有误", "The traceability details are not valid"),
    TracePlotOutsideVillage = ("trace.plot_outside_village", UNPROCESSABLE_ENTITY,
        "地块只能登记在您家所在的村", "A plot can only be recorded in your household's own village"),
    TraceNoCodeInPhoto = ("trace.no_code_in_photo", UNPROCESSABLE_ENTITY,
        "照片中没有找到溯源二维码，请对准标签重拍", "No trace QR code was found in the photo; take it again, closer to the label"),
    PhotoNotAnImage = ("photo.not_an_image", UNSUPPORTED_MEDIA_TYPE,
        "请上传 JPEG、PNG 或 WebP 格式的照片", "Upload a JPEG, PNG or WebP photo"),
    PhotoTypeMismatch = ("photo.type_mismatch", UNPROCESSABLE_ENTITY,
        "照片的实际格式与文件名或类型不符", "The photo's contents do not match its name or declared type"),
    PhotoTooManyPixels = ("photo.too_many_pixels", UNPROCESSABLE_ENTITY,
        "照片尺寸过大", "The photo has too many pixels"),
    PhotoMetadataTooLarge = ("photo.metadata_too_large", UNPROCESSABLE_ENTITY,
        "照片附带的信息（EXIF 等）过多", "The photo carries too much metadata (EXIF and the like)"),
    PhotoCorrupt = ("photo.corrupt", UNPROCESSABLE_ENTITY,
        "照片已损坏或不完整，请重新拍摄或选择", "The photo is damaged or cut short; take or choose it again"),
    UserNotFound = ("user.not_found", NOT_FOUND,
        "找不到该用户", "No such user"),
    UserPhoneTaken = ("user.phone_taken", CONFLICT,
        "该手机号已注册", "This phone number is already registered"),
    UserInvalidPhone = ("user.invalid_phone", BAD_REQUEST,
        "手机号应为 11 位，以 13 至 19 开头", "A mobile number has 11 digits and starts with 13 to 19"),
    UserInvalidPassword = ("user.invalid_password", BAD_REQUEST,
        "密码应为 8 至 128 个字符", "A password has 8 to 128 characters"),
    UserRoleAreaMismatch = ("user.role_area_mismatch", UNPROCESSABLE_ENTITY,
        "角色与地区级别不符：村干部对应村，乡镇干部对应乡镇，县级干部对应县",
        "The role does not fit the area: village cadres belong to a village, township officials to a township, county officials to a county"),
    AuditChainBroken = ("audit.chain_broken", CONFLICT,
        "审计链有断裂，未签署检查点；请管理员核查审计记录",
        "The audit chain is broken, so no checkpoint was signed; run `shanhuo audit verify` to find where"),
    ServerInternal = ("server.internal", INTERNAL_SERVER_ERROR,
        "服务器内部错误，请稍后再试", "Something went wrong on the server; please try again later"),
    ServerNotReady = ("server.not_ready", SERVICE_UNAVAILABLE,
        "服务暂时不可用，请稍后再试", "The service is not ready; please try again shortly"),
    ServerStorageFull = ("server.storage_full", INSUFFICIENT_STORAGE,
        "存储空间不足，请联系管理员", "The server's storage is full or cannot be written; please contact the administrator"),
}

/// The body of every error response.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Error")]
pub struct ErrorEnvelope {
    /// Stable, dotted error code, listed in the error-code catalogue.
    pub code: String,
    /// Human-readable message in the language chosen by `Accept-Language` (Chinese by default).
    pub message: String,
    /// What exactly was wrong, when there is more to say (the parameter, the value, the reason);
    /// `null` otherwise.
    pub details: Option<Value>,
}

/// An error on its way to the client. Its cause, if any, goes to the log, never to the client.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub details: Option<Value>,
    /// Why a service refused, from the catalogue of reasons: the message a person reads.
    pub reason: Option<Box<Reason>>,
    /// Sent as `Retry-After` (seconds) on 429 and 503 answers.
    pub retry_after: Option<Duration>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            details: None,
            reason: None,
            retry_after: None,
            source: None,
        }
    }

    /// The reason a service gave: the message says it, `details.reason_code` names it.
    pub fn with_reason(mut self, reason: Reason) -> Self {
        self.reason = Some(Box::new(reason));
        self
    }

    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// A server-side failure: the client sees an opaque 500, the log sees the whole chain.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            code: ErrorCode::ServerInternal,
            details: None,
            reason: None,
            retry_after: None,
            source: Some(Box::new(source)),
        }
    }

    /// The failure behind a refusal of ours, for the log (the client never sees it).
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The envelope in `lang`: a service's reason, when it gave one, is the message (it says
    /// more than the code's), and `details` carries its code and text. A 429 says in words how
    /// long to wait ("请 4 小时 31 分钟后再试") and gives the seconds in
    /// `details.retry_after_seconds`.
    pub fn envelope(&self, lang: Lang) -> ErrorEnvelope {
        let mut message = self.code.message(lang).to_owned();
        let mut details = match self.details.clone() {
            Some(Value::Object(map)) => Some(map),
            None => None,
            Some(other) => {
                return ErrorEnvelope {
                    code: self.code.as_str().to_owned(),
                    message,
                    details: Some(other),
                };
            }
        };
        if let Some(reason) = &self.reason {
            let text = lang.t(&reason.zh, &reason.en);
            let map = details.get_or_insert_with(serde_json::Map::new);
            map.insert("reason".into(), Value::from(text));
            map.insert("reason_code".into(), Value::from(reason.code));
            message = text.to_owned();
        }
        if self.code.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait = self.retry_after.unwrap_or(Duration::from_secs(60));
            let words = wait_in_words(lang, wait);
            message.push_str(&match lang {
                Lang::Zh => format!("，请 {words}后再试"),
                Lang::En => format!("; try again in {words}"),
            });
            let seconds = wait.as_secs().max(1);
            details
                .get_or_insert_with(serde_json::Map::new)
                .insert("retry_after_seconds".into(), seconds.into());
        }
        ErrorEnvelope {
            code: self.code.as_str().to_owned(),
            message,
            details: details.map(Value::Object),
        }
    }

    pub fn to_response(&self, lang: Lang) -> Response {
        let mut response = Json(self.envelope(lang)).into_response();
        response.set_status(self.code.status());
        if let Some(retry_after) = self.retry_after {
            let seconds = retry_after.as_secs().max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    /// The cause chain, for the log.
    pub fn cause_chain(&self) -> String {
        let mut chain = String::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|e| e as _);
        while let Some(err) = next {
            if !chain.is_empty() {
                chain.push_str(": ");
            }
            chain.push_str(&err.to_string());
            next = err.source();
        }
        chain
    }
}

/// A wait as people say it, rounded up: "45 秒", "3 分钟", "4 小时 31 分钟"; "45 seconds",
/// "3 minutes", "4 hours 31 minutes".
pub fn wait_in_words(lang: Lang, wait: Duration) -> String {
    let seconds = wait.as_secs().max(1);
    if seconds < 60 {
        return match lang {
            Lang::Zh => format!("{seconds} 秒"),
            Lang::En if seconds == 1 => "1 second".into(),
            Lang::En => format!("{seconds} seconds"),
        };
    }
    let minutes = seconds.div_ceil(60);
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let en = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match (lang, hours, minutes) {
        (Lang::Zh, 0, m) => format!("{m} 分钟"),
        (Lang::Zh, h, 0) => format!("{h} 小时"),
        (Lang::Zh, h, m) => format!("{h} 小时 {m} 分钟"),
        (Lang::En, 0, m) => en(m, "minute"),
        (Lang::En, h, 0) => en(h, "hour"),
        (Lang::En, h, m) => format!("{} {}", en(h, "hour"), en(m, "minute")),
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// Chinese by default; the envelope middleware renders it again in the client's language.
    fn as_response(&self) -> Response {
        self.to_response(Lang::Zh)
    }
}

/// Documents the error statuses operations share, all with the envelope as body.
impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        // Every status a code in the catalogue has, on every operation: rate limits, sign-in
        // and scope checks apply across the API. The body's `code` says which case it is.
        const DOCUMENTED: &[(u16, &str)] = &[
            (
                400,
                "The request is malformed: a bad parameter, cursor or JSON body.",
            ),
            (
                401,
                "Not signed in, or the token or credentials are not valid; sign in again.",
            ),
            (
                403,
                "Signed in, but not allowed to do this (another area, another role, a disabled account).",
            ),
            (
                404,
                "Nothing has this identifier, or it is outside the caller's reach.",
            ),
            (
                409,
                "The request clashes with what is stored (a duplicate, a step out of turn).",
            ),
            (413, "The request body is larger than the server accepts."),
            (
                415,
                "The request body is not of a type the operation takes.",
            ),
            (
                422,
                "The body has missing fields or fields of the wrong type, or breaks a rule.",
            ),
            (
                429,
                "Too many requests; `Retry-After` says when to try again.",
            ),
            (
                500,
                "The server failed; the body says nothing more, the server log does.",
            ),
            (
                503,
                "A service the server needs (database, SMS gateway, WeChat) is not answering.",
            ),
            (
                507,
                "The server's file storage is full or cannot be written; nothing was kept.",
            ),
        ];
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|&(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: <Json<ErrorEnvelope> as ResponseContent>::media_types(),
                    headers: Vec::new(),
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        <Json<ErrorEnvelope> as ResponseContent>::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_an_operation_can_answer_is_documented() {
        let documented: Vec<u16> = <ApiError as ApiResponse>::meta()
            .responses
            .iter()
            .filter_map(|r| r.status)
            .collect();
        for code in ErrorCode::ALL {
            let status = code.status().as_u16();
            // A wrong method reaches no operation.
            if status != 405 {
                assert!(documented.contains(&status), "{} ({status})", code.as_str());
            }
        }
    }

    #[test]
    fn a_refusal_for_too_many_requests_says_how_long_to_wait() {
        let error = ApiError::new(ErrorCode::RequestRateLimited)
            .with_retry_after(Duration::from_secs(16_241));
        assert_eq!(
            error.envelope(Lang::Zh).message,
            "请求太频繁，请 4 小时 31 分钟后再试"
        );
        assert_eq!(
            error.envelope(Lang::En).message,
            "Too many requests; try again in 4 hours 31 minutes"
        );
        assert_eq!(
            error.envelope(Lang::Zh).details,
            Some(serde_json::json!({ "retry_after_seconds": 16_241 }))
        );
        let soon =
            ApiError::new(ErrorCode::AuthCodeTooSoon).with_retry_after(Duration::from_secs(45));
        assert_eq!(
            soon.envelope(Lang::Zh).message,
            "验证码刚刚发过，请 45 秒后再试"
        );
        assert_eq!(
            wait_in_words(Lang::En, Duration::from_secs(61)),
            "2 minutes"
        );
        assert_eq!(wait_in_words(Lang::Zh, Duration::from_secs(7200)), "2 小时");
        assert_eq!(wait_in_words(Lang::En, Duration::from_secs(3600)), "1 hour");
    }

    #[test]
    fn chinese_is_the_default_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("fr-FR, de")), Lang::Zh);
    }

    #[test]
    fn english_is_chosen_when_preferred_by_quality() {
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("zh-CN;q=0.5, en;q=0.8")),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language(Some("en;q=0")), Lang::Zh);
    }

    /// Latin words a Chinese message may hold: units, formats and names people know.
    const LATIN_ALLOWED: &[&str] = &[
        "KB", "MB", "JPEG", "PNG", "WebP", "EXIF", "JSON", "PDF", "CSV", "xlsx", "csv", "QR",
    ];

    /// Latin words of three letters or more in `text` that are not allowed.
    fn developer_words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 3 && !LATIN_ALLOWED.contains(w))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_message_and_reason_a_person_reads_in_chinese_is_plain_chinese() {
        let mut found = Vec::new();
        for code in ErrorCode::ALL {
            let words = developer_words(code.message(Lang::Zh));
            if !words.is_empty() {
                found.push(format!("{}: {words:?}", code.as_str()));
            }
        }
        for reason in crate::service::reasons::every() {
            let words = developer_words(&reason.zh);
            if !words.is_empty() {
                found.push(format!("{}: {words:?}", reason.code));
            }
            assert!(
                reason
                    .zh
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{} is not written in Chinese",
                reason.code
            );
        }
        assert!(
            found.is_empty(),
            "developer words in Chinese messages: {found:#?}"
        );
    }

    #[test]
    fn a_reason_is_the_message_with_its_numbers_in_the_readers_language() {
        let refused = ApiError::new(ErrorCode::OrderOutOfStock)
            .with_details(serde_json::json!({ "available": 3 }))
            .with_reason(crate::service::reasons::out_of_stock(3, "斤", "jin"));
        let zh = refused.envelope(Lang::Zh);
        assert_eq!(zh.message, "库存只剩 3 斤");
        let details = zh.details.unwrap();
        assert_eq!(details["available"], 3);
        assert_eq!(details["reason_code"], "order.out_of_stock");
        assert_eq!(
            refused.envelope(Lang::En).message,
            "Only 3 jin left in stock"
        );
    }

    #[test]
    fn the_check_finds_a_developer_sentence() {
        assert_eq!(
            developer_words("商品信息有误（a price lies between 1 fen）"),
            ["price", "lies", "between", "fen"]
        );
        assert!(developer_words("照片不能超过 15 MB，请用 JPEG 或 PNG").is_empty());
    }

    #[test]
    fn every_code_is_unique_dotted_and_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
            assert!(
                code.as_str().contains('.'),
                "{} is not dotted",
                code.as_str()
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
            assert!(!code.message(Lang::Zh).is_empty() && !code.message(Lang::En).is_empty());
        }
    }
}
