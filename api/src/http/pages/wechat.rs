//! Inside WeChat: signing in through the Official Account's web authorisation, binding a
//! farmer's or official's WeChat after a texted-code sign-in, the JS-SDK's `wx.config`, and
//! what a scanned label opens.
//!
//! The authorisation's `state` is bound to the browser: a random value kept in an `HttpOnly`
//! cookie of `/login/wechat` is sent as `state` and must come back as it went, so nobody can
//! sign another's browser in to their own WeChat (login CSRF) or bind their WeChat to another's
//! account. Its last letter says which step it is: the silent look-up (`b`), the user-info
//! consent that registers a new buyer (`u`), or binding to the signed-in account (`k`).

use askama::Template;
use poem::{
    IntoResponse, Request, Response, handler,
    http::StatusCode,
    web::{
        Data, Json, Query,
        cookie::{Cookie, CookieJar, SameSite},
    },
};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{
    error::PageError,
    forms::PageUpload,
    session::{self, Farmer, home_of, safe_next, urlencode},
    shell::{Frame, private_with, see_other},
};
use crate::{
    app::AppState,
    http::{
        caller::client_ip,
        error::{ApiError, ErrorCode, Lang},
    },
    infra::{trace_codes, wechat_web::Scope},
    service::{auth::AuthError, trace::batch_pages},
};

const STATE_COOKIE: &str = "shanhuo_wechat_state";
const STATE_PATH: &str = "/login/wechat";

/// Whether the page is opened in WeChat's own browser (its user agent says `MicroMessenger`).
pub fn in_wechat(req: &Request) -> bool {
    req.headers()
        .get(poem::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("MicroMessenger"))
}

/// Where WeChat sends the browser back to.
fn back_url(state: &AppState, next: Option<&str>) -> String {
    let origin = state.settings.wechat_origin();
    match safe_next(next) {
        Some(next) => format!("{origin}/login/wechat/back?next={}", urlencode(next)),
        None => format!("{origin}/login/wechat/back"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The silent look-up of the openid (`snsapi_base`).
    LookUp,
    /// The consent page (`snsapi_userinfo`): the unionid and nickname of someone new.
    Register,
    /// Binding to the account signed in by texted code (`snsapi_base`).
    Bind,
}

impl Step {
    fn letter(self) -> char {
        match self {
            Step::LookUp => 'b',
            Step::Register => 'u',
            Step::Bind => 'k',
        }
    }

    fn of(state: &str) -> Option<Self> {
        match state.chars().last()? {
            'b' => Some(Step::LookUp),
            'u' => Some(Step::Register),
            'k' => Some(Step::Bind),
            _ => None,
        }
    }

    fn scope(self) -> Scope {
        match self {
            Step::Register => Scope::UserInfo,
            Step::LookUp | Step::Bind => Scope::Base,
        }
    }
}

/// Off to WeChat's authorisation for `step`, the browser carrying the state it must bring back.
fn authorise(state: &AppState, cookies: &CookieJar, step: Step, next: Option<&str>) -> Response {
    match authorise_url(state, cookies, step, next) {
        Some(url) => see_other(&url),
        None => see_other(&login_url(next, false)),
    }
}

/// WeChat's authorisation address for `step`, with the browser's state kept in its cookie.
fn authorise_url(
    state: &AppState,
    cookies: &CookieJar,
    step: Step,
    next: Option<&str>,
) -> Option<String> {
    let oa = state.wechat_web.as_ref()?;
    let value = format!(
        "{}{}",
        crate::http::pages::forms::fresh_key(),
        step.letter()
    );
    let mut cookie = Cookie::new_with_str(STATE_COOKIE, &value);
    cookie.set_path(STATE_PATH);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.settings.public_base_url.starts_with("https://"));
    cookie.set_max_age(std::time::Duration::from_secs(600));
    cookies.add(cookie);
    Some(oa.authorize_url(&back_url(state, next), step.scope(), &value))
}

/// The texted-code sign-in, keeping where to go; `first` says WeChat does not know them yet.
fn login_url(next: Option<&str>, first: bool) -> String {
    let mut query = Vec::new();
    if let Some(next) = safe_next(next) {
        query.push(format!("next={}", urlencode(next)));
    }
    if first {
        query.push("wechat=first".to_owned());
    }
    if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{}", query.join("&"))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
    bind: Option<String>,
}

/// `GET /login/wechat`: signs in through WeChat (or, with `bind=1`, binds WeChat to the
/// signed-in account). Binding follows the texted-code sign-in's form, so it goes on from a
/// page of its own: a form's redirects may not leave the site.
#[handler]
pub fn start(
    state: Data<&AppState>,
    cookies: &CookieJar,
    lang: Lang,
    Query(query): Query<StartQuery>,
) -> Result<Response, PageError> {
    if query.bind.is_none() {
        return Ok(authorise(
            &state,
            cookies,
            Step::LookUp,
            query.next.as_deref(),
        ));
    }
    match authorise_url(&state, cookies, Step::Bind, query.next.as_deref()) {
        Some(url) => super::shell::private(&BindPage { lang, url }),
        None => Ok(see_other(&login_url(query.next.as_deref(), false))),
    }
}

#[derive(Template)]
#[template(path = "session/wechat_bind.html")]
struct BindPage {
    lang: Lang,
    url: String,
}

/// After a texted-code sign-in inside WeChat: where to go next, by way of binding WeChat when
/// the account has none yet.
pub fn after_sms_sign_in(
    state: &AppState,
    req: &Request,
    user: &entities::user::Model,
    next: &str,
) -> String {
    if state.wechat_web.is_some() && in_wechat(req) && user.wechat_web_openid.is_none() {
        format!("/login/wechat?bind=1&next={}", urlencode(next))
    } else {
        next.to_owned()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BackQuery {
    code: Option<String>,
    state: Option<String>,
    next: Option<String>,
}

/// `GET /login/wechat/back`: WeChat's answer. The state must be the browser's; then the code
/// names the WeChat user.
#[handler]
pub async fn back(
    state: Data<&AppState>,
    req: &Request,
    cookies: &CookieJar,
    lang: Lang,
    Query(query): Query<BackQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(query.next.as_deref()).map(str::to_owned);
    let Some(oa) = &state.wechat_web else {
        return Ok(see_other(&login_url(next.as_deref(), false)));
    };
    let kept = cookies
        .get(STATE_COOKIE)
        .map(|c| c.value_str().to_owned())
        .unwrap_or_default();
    let mut removal = Cookie::new_with_str(STATE_COOKIE, "");
    removal.set_path(STATE_PATH);
    removal.make_removal();
    cookies.add(removal);
    let returned = query.state.unwrap_or_default();
    let step = Step::of(&kept);
    let matches = !kept.is_empty() && bool::from(kept.as_bytes().ct_eq(returned.as_bytes()));
    let (Some(step), true) = (step, matches) else {
        tracing::warn!("a WeChat sign-in came back without this browser's state");
        return failed(lang, ErrorCode::AuthWechatStateRefused.into(), next);
    };
    // Someone who declines the consent page comes back without a code.
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return failed(lang, ErrorCode::AuthWechatNotAuthorised.into(), next);
    };
    let wechat_user = match oa.user_of_code(&code, step.scope()).await {
        Ok(user) => user,
        Err(e) => return failed(lang, AuthError::from(e).into(), next),
    };
    let ip = client_ip(req, &state.settings);
    if step == Step::Bind {
        let Some(user) = session::signed_in(req).await? else {
            return Ok(see_other(&login_url(next.as_deref(), false)));
        };
        return match state
            .auth
            .bind_wechat_web(&user.actor, &wechat_user, &ip)
            .await
        {
            Ok(bound) => Ok(see_other(next.as_deref().unwrap_or(home_of(bound.role)))),
            Err(e) => failed(lang, e.into(), next),
        };
    }
    let register = step == Step::Register;
    match state
        .auth
        .login_with_wechat_web(&wechat_user, register, &ip)
        .await
    {
        Ok(Some(pair)) => {
            session::start(&state, cookies, &pair);
            Ok(see_other(
                next.as_deref().unwrap_or(home_of(pair.user.role)),
            ))
        }
        // A farmer's or an official's page: their account was made for their phone, so they
        // sign in by texted code once, and WeChat is bound to it then.
        Ok(None) if next.as_deref().is_some_and(for_farmers_or_officials) => {
            Ok(see_other(&login_url(next.as_deref(), true)))
        }
        Ok(None) => Ok(authorise(&state, cookies, Step::Register, next.as_deref())),
        Err(e) => failed(lang, e.into(), next),
    }
}

fn for_farmers_or_officials(path: &str) -> bool {
    ["/f", "/o"].iter().any(|p| {
        path == *p || path.starts_with(&format!("{p}/")) || path.starts_with(&format!("{p}?"))
    })
}

/// WeChat's sign-in did not work: said plainly, with the texted-code sign-in offered.
fn failed(lang: Lang, error: ApiError, next: Option<String>) -> Result<Response, PageError> {
    let status = error.code.status();
    let message = super::error::refusal_message(lang, &error);
    private_with(
        &FailedPage {
            lang,
            message,
            sms: login_url(next.as_deref(), false),
            again: match &next {
                Some(next) => format!("/login/wechat?next={}", urlencode(next)),
                None => "/login/wechat".to_owned(),
            },
        },
        status,
    )
}

#[derive(Template)]
#[template(path = "session/wechat_failed.html")]
struct FailedPage {
    lang: Lang,
    message: String,
    sms: String,
    again: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfigQuery {
    url: Option<String>,
}

/// `GET /wx/config?url=`: `wx.config` for one of our pages (its address as the browser has it),
/// signed with the JS-SDK ticket.
#[handler]
pub async fn js_config(state: Data<&AppState>, Query(query): Query<ConfigQuery>) -> Response {
    let Some(oa) = &state.wechat_web else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let url = query.url.unwrap_or_default();
    let ours = format!("{}/", state.settings.wechat_origin());
    if !url.starts_with(&ours) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match oa.js_config(&url).await {
        Ok(config) => Json(config)
            .with_header(poem::http::header::CACHE_CONTROL, "no-store")
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "no JS-SDK signature: WeChat's ticket could not be had");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The code in what a scanner read: a label's address (`…/t/CODE`, upper-case as printed) or
/// the code itself.
pub fn code_in_scan(text: &str) -> String {
    let text = text.trim();
    let tail = ["/t/", "/T/"]
        .iter()
        .filter_map(|p| text.rfind(p).map(|i| &text[i + p.len()..]))
        .next()
        .unwrap_or(text);
    let tail = tail.split(['?', '#']).next().unwrap_or(tail);
    trace_codes::canonical(tail)
}

#[derive(Debug, Default, Deserialize)]
pub struct ScanQuery {
    u: Option<String>,
}

/// `GET /f/scan?u=`: what the farmer's scanner read. Their own label opens its batch at that
/// item, for the next step of its journey; anyone else's opens the public scan page.
#[handler]
pub async fn farmer_scan(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    Query(query): Query<ScanQuery>,
) -> Result<Response, PageError> {
    open_scanned(
        &state,
        &farmer,
        lang,
        &code_in_scan(query.u.as_deref().unwrap_or("")),
    )
    .await
}

/// `POST /f/scan`: a photo of a label, where WeChat's scanner is not at hand.
#[handler]
pub async fn farmer_scan_photo(
    state: Data<&AppState>,
    farmer: Farmer,
    lang: Lang,
    PageUpload(form): PageUpload,
) -> Result<Response, PageError> {
    let Some(file) = form.file else {
        return Err(PageError::mistake(
            lang.t("请拍一张标签的照片", "Take a photo of the label"),
        ));
    };
    let code =
        crate::service::trace::codes::code_in_photo(&state.photos, file.bytes, file.declared)
            .await
            .map_err(|e| PageError::refused(lang, e))?;
    open_scanned(&state, &farmer, lang, &code).await
}

async fn open_scanned(
    state: &AppState,
    farmer: &Farmer,
    lang: Lang,
    code: &str,
) -> Result<Response, PageError> {
    let Ok(scanned) = state.trace_keys.verify(code) else {
        return Err(PageError::mistake(lang.t(
            "这不是山货的溯源标签，请对准标签上的二维码再扫一次",
            "This is not a Shanhuo label; aim at the label's QR code and scan again",
        )));
    };
    let batch_id = i64::from(scanned.batch_id);
    match batch_pages::own_batch(&state.db, &state.trace_keys, &farmer.actor, batch_id).await {
        Ok(_) => Ok(see_other(&format!(
            "/f/batches/{batch_id}?item={}#step",
            scanned.item
        ))),
        Err(crate::service::trace::TraceError::NotFound) => Ok(see_other(&format!("/t/{code}"))),
        Err(e) => Err(PageError::Unavailable(e.into())),
    }
}

/// `POST /m/trace`: a photo of a label on the buyer's "verify a code" page.
#[handler]
pub async fn buyer_scan_photo(
    state: Data<&AppState>,
    lang: Lang,
    mut multipart: poem::web::Multipart,
) -> Result<Response, PageError> {
    let mut photo = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(super::forms::PHOTO_FIELD) {
            let declared =
                crate::infra::imaging::declared_format(field.content_type(), field.file_name());
            let bytes = field.bytes().await.map_err(|_| PageError::BadForm)?;
            photo = Some((bytes, declared));
        }
    }
    let Some((bytes, declared)) = photo.filter(|(b, _)| !b.is_empty()) else {
        return Err(PageError::mistake(
            lang.t("请拍一张标签的照片", "Take a photo of the label"),
        ));
    };
    let code = crate::service::trace::codes::code_in_photo(&state.photos, bytes, declared)
        .await
        .map_err(|e| PageError::refused(lang, e))?;
    Ok(see_other(&format!("/t/{code}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scanned_label_address_gives_its_code() {
        assert_eq!(code_in_scan("HTTPS://A.EXAMPLE/T/ABCD2345"), "ABCD2345");
        assert_eq!(code_in_scan("https://a.example/t/abcd2345?x=1"), "ABCD2345");
        assert_eq!(code_in_scan(" abcd2345 "), "ABCD2345");
    }

    #[test]
    fn farmers_and_officials_pages_are_told_apart() {
        assert!(for_farmers_or_officials("/f"));
        assert!(for_farmers_or_officials("/f/batches/3"));
        assert!(for_farmers_or_officials("/o?area=5"));
        assert!(!for_farmers_or_officials("/m/orders"));
        assert!(!for_farmers_or_officials("/foo"));
    }
}
