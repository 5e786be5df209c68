//! Signing in to the pages by texted code, and the page sign-in every farmer's and official's
//! page checks.
//!
//! A page sign-in is an ordinary sign-in whose refresh token the browser keeps in an `HttpOnly`,
//! `SameSite=Lax` cookie. Every form that changes something carries a token derived from that
//! cookie (which scripts on another site can neither read nor guess), and a post whose `Origin`
//! or `Sec-Fetch-Site` names another site is refused before anything else happens.

use entities::user::Role;
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Form, Query},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::shell::{alert, esc, form_page, lang_of, refusal, text};
use crate::http::{caller::client_ip, error::Lang};
use crate::{
    app::AppState,
    infra::tokens::sha256_hex,
    service::{auth::AuthError, policy::Actor},
};

const COOKIE: &str = "shanhuo_session";

/// The signed-in user of a page, and what their forms must carry.
pub struct PageUser {
    pub actor: Actor,
    session: SecretString,
    /// The address the site is published at, which our own pages' posts come from.
    public_base_url: String,
}

impl PageUser {
    /// The anti-forgery token of this sign-in.
    pub fn csrf(&self) -> String {
        csrf_of(&self.session)
    }

    /// The hidden form field that carries [`PageUser::csrf`].
    pub fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            self.csrf()
        )
    }

    /// Whether a submitted form came from one of our own pages of this sign-in.
    pub fn accepts(&self, req: &Request, csrf: Option<&str>) -> bool {
        same_site(req, &self.public_base_url)
            && csrf.is_some_and(|c| constant_time_eq(c.as_bytes(), self.csrf().as_bytes()))
    }
}

fn csrf_of(session: &SecretString) -> String {
    sha256_hex(format!("csrf\0{}", session.expose_secret()).as_bytes())[..32].to_owned()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A post from another site's page is refused whatever it carries: browsers say where a
/// request comes from in `Sec-Fetch-Site` and `Origin`. Ours come from the published address,
/// or from the host the request was sent to (a proxy may rename it on the way).
fn same_site(req: &Request, public_base_url: &str) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| s == "cross-site" || s == "same-site") {
        return false;
    }
    let Some(origin) = header("origin") else {
        return true;
    };
    origin == public_base_url.trim_end_matches('/')
        || header("host").is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority == host)
        })
}

fn session_cookie(req: &Request) -> Option<SecretString> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| SecretString::from(value.to_owned()))
}

/// The page's signed-in user, if the sign-in is still current.
pub async fn signed_in(state: &AppState, req: &Request) -> Option<PageUser> {
    let session = session_cookie(req)?;
    match state.auth.authenticate_page(&session).await {
        Ok(actor) => Some(PageUser {
            actor,
            session,
            public_base_url: state.settings.public_base_url.clone(),
        }),
        Err(AuthError::Database(e)) => {
            tracing::error!(error = %e, "checking a page sign-in failed");
            None
        }
        Err(_) => None,
    }
}

/// The signed-in user if `allowed` admits their role; otherwise the answer to send instead:
/// to the sign-in page (and back here afterwards), or a page saying this is not theirs.
pub async fn require(
    state: &AppState,
    req: &Request,
    allowed: fn(Role) -> bool,
) -> Result<PageUser, Response> {
    let lang = lang_of(req);
    match signed_in(state, req).await {
        Some(user) if allowed(user.actor.role) => Ok(user),
        Some(user) => Err(private(
            form_page(
                lang,
                text(lang, "无权查看", "Not for this account"),
                &format!(
                    "<p class=\"note\">{}</p><a class=\"more\" href=\"{}\">{}</a>",
                    text(
                        lang,
                        "这个页面不属于您的账号。",
                        "This page is not for your account."
                    ),
                    home_of(user.actor.role),
                    text(lang, "回到我的首页", "Back to my pages")
                ),
            ),
            StatusCode::FORBIDDEN,
        )),
        // Back to the page after signing in; a form posted to a lapsed sign-in cannot be
        // sent again from there, so its sender starts from their own pages.
        None if req.method() == poem::http::Method::GET => {
            let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
            Err(see_other(&format!("/login?next={}", url_escape(next))))
        }
        None => Err(see_other("/login")),
    }
}

/// For a posted form: as [`require`], and the form must carry this sign-in's token from one of
/// our own pages, else nothing is done and the answer says so.
pub async fn require_form(
    state: &AppState,
    req: &Request,
    allowed: fn(Role) -> bool,
    csrf: Option<&str>,
) -> Result<PageUser, Response> {
    let user = require(state, req, allowed).await?;
    if !user.accepts(req, csrf) {
        return Err(forged(lang_of(req)));
    }
    Ok(user)
}

/// Where a role's pages begin.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Farmer => "/f",
        Role::Buyer => "/m",
        Role::VillageCadre | Role::TownshipOfficial | Role::CountyOfficial | Role::Admin => "/o",
    }
}

/// A page for one signed-in user: never kept by a shared cache.
pub fn private(body: String, status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
}

pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

/// The answer to a form that did not come from our page of this sign-in.
pub fn forged(lang: Lang) -> Response {
    private(
        form_page(
            lang,
            text(lang, "请重新提交", "Please try again"),
            &format!(
                "<p class=\"note\">{}</p><a class=\"more\" href=\"/login\">{}</a>",
                text(
                    lang,
                    "这个表单已失效或来自别的网站，没有保存任何内容。请回到页面重新填写。",
                    "This form has expired or came from another site; nothing was saved. Go back and fill it in again."
                ),
                text(lang, "重新登录", "Sign in again")
            ),
        ),
        StatusCode::FORBIDDEN,
    )
}

/// Only paths on this site are followed after signing in.
fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
}

fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`: the phone number, to text a code to.
#[handler]
pub async fn login_page(req: &Request, Query(query): Query<LoginQuery>) -> Response {
    let lang = lang_of(req);
    private(
        phone_form(lang, "", query.next.as_deref(), None),
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    phone: Option<String>,
    code: Option<String>,
    next: Option<String>,
}

/// `POST /login/code`: texts a code and asks for it.
#[handler]
pub async fn send_code(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(req);
    if !same_site(req, &state.settings.public_base_url) {
        return forged(lang);
    }
    let phone = normalise_phone(form.phone.as_deref().unwrap_or(""));
    let ip = client_ip(req, &state.settings);
    match state.auth.send_sign_in_code(&phone, &ip).await {
        Ok(_) => private(
            code_form(lang, &phone, form.next.as_deref(), None),
            StatusCode::OK,
        ),
        Err(e) => {
            let (problem, status) = refusal(lang, e);
            private(
                phone_form(lang, &phone, form.next.as_deref(), Some(&problem)),
                status,
            )
        }
    }
}

/// `POST /login`: checks the code, starts the sign-in and goes on to the user's pages.
#[handler]
pub async fn login(state: Data<&AppState>, req: &Request, Form(form): Form<LoginForm>) -> Response {
    let lang = lang_of(req);
    if !same_site(req, &state.settings.public_base_url) {
        return forged(lang);
    }
    let phone = normalise_phone(form.phone.as_deref().unwrap_or(""));
    let code: String = form
        .code
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter_map(ascii_digit)
        .collect();
    let ip = client_ip(req, &state.settings);
    match state.auth.login_with_code(&phone, &code, &ip).await {
        Ok(pair) => {
            let next = safe_next(form.next.as_deref()).unwrap_or(home_of(pair.user.role));
            let secure = if state.settings.public_base_url.starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let mut response = see_other(next);
            let cookie = format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                pair.refresh_token.expose_secret(),
                pair.refresh_expires_in.as_secs()
            );
            if let Ok(value) = cookie.parse() {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            let (problem, status) = refusal(lang, e);
            private(
                code_form(lang, &phone, form.next.as_deref(), Some(&problem)),
                status,
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// `POST /logout`: ends the page sign-in.
#[handler]
pub async fn logout(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<LogoutForm>,
) -> Response {
    let lang = lang_of(req);
    if let Some(user) = signed_in(&state, req).await {
        if !user.accepts(req, form.csrf.as_deref()) {
            return forged(lang);
        }
        if let Err(e) = state.auth.logout_page(&user.session).await {
            tracing::warn!(error = %e, "ending a page sign-in failed");
        }
    }
    let mut response = see_other("/login");
    if let Ok(value) = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0").parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response.into_response()
}

/// Digits typed on any keyboard: full-width ones too, with spaces and dashes left out.
fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

/// A phone number as typed: `+86`, spaces, dashes and full-width digits are forgiven.
fn normalise_phone(typed: &str) -> String {
    let digits: String = typed.chars().filter_map(ascii_digit).collect();
    match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_owned(),
        _ => digits,
    }
}

fn next_field(next: Option<&str>) -> String {
    safe_next(next)
        .map(|n| format!("<input type=\"hidden\" name=\"next\" value=\"{}\">", esc(n)))
        .unwrap_or_default()
}

fn phone_form(lang: Lang, phone: &str, next: Option<&str>, problem: Option<&str>) -> String {
    let t = |zh, en| text(lang, zh, en);
    let body = format!(
        "{alert}<p class=\"note\">{intro}</p>\
         <form class=\"stack\" method=\"post\" action=\"/login/code\">{next}\
         <label for=\"phone\">{label}</label>\
         <input id=\"phone\" name=\"phone\" type=\"tel\" inputmode=\"numeric\" autocomplete=\"tel\" \
         maxlength=\"20\" required value=\"{phone}\">\
         <button type=\"submit\">{send}</button></form>",
        alert = alert(problem),
        intro = t(
            "农户和干部用登记的手机号登录；我们会发一条短信验证码。",
            "Farmers and officials sign in with the phone number on record; we text you a code."
        ),
        next = next_field(next),
        label = t("手机号", "Mobile number"),
        phone = esc(phone),
        send = t("获取验证码", "Text me a code"),
    );
    form_page(lang, t("登录", "Sign in"), &body)
}

fn code_form(lang: Lang, phone: &str, next: Option<&str>, problem: Option<&str>) -> String {
    let t = |zh, en| text(lang, zh, en);
    let body = format!(
        "{alert}<p class=\"note\">{sent} {phone}</p>\
         <form class=\"stack\" method=\"post\" action=\"/login\">{next}\
         <input type=\"hidden\" name=\"phone\" value=\"{phone}\">\
         <label for=\"code\">{label}</label>\
         <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         maxlength=\"12\" required autofocus>\
         <button type=\"submit\">{sign_in}</button></form>\
         <form class=\"stack\" method=\"post\" action=\"/login/code\">{next}\
         <input type=\"hidden\" name=\"phone\" value=\"{phone}\">\
         <button type=\"submit\" class=\"plain\">{again}</button></form>",
        alert = alert(problem),
        sent = t("验证码已发送至", "We texted a code to"),
        phone = esc(phone),
        next = next_field(next),
        label = t("短信验证码", "Code from the text"),
        sign_in = t("登录", "Sign in"),
        again = t("重新发送验证码", "Send another code"),
    );
    form_page(lang, t("输入验证码", "Enter the code"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_forgiven_as_typed() {
        assert_eq!(normalise_phone("139 0000 0001"), "13900000001");
        assert_eq!(normalise_phone("+86 139-0000-0001"), "13900000001");
        assert_eq!(normalise_phone("１３９００００００01"), "13900000001");
        assert_eq!(normalise_phone("8613900000001"), "13900000001");
    }

    #[test]
    fn only_own_paths_are_followed() {
        assert_eq!(safe_next(Some("/f/listings")), Some("/f/listings"));
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
    }

    #[test]
    fn the_form_token_depends_on_the_sign_in() {
        let a = csrf_of(&SecretString::from("one".to_owned()));
        let b = csrf_of(&SecretString::from("two".to_owned()));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(constant_time_eq(a.as_bytes(), a.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
    }
}
