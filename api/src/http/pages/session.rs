//! Signing in to the pages by texted code, and who is signed in on every farmer's, official's
//! and buyer's page.
//!
//! A page sign-in is an ordinary sign-in whose refresh token the browser keeps in an `HttpOnly`,
//! `SameSite=Lax` cookie. Every form that changes something carries a token derived from that
//! cookie (which scripts on another site can neither read nor guess), and a post whose `Origin`
//! or `Sec-Fetch-Site` names another site is refused before anything else happens.
//!
//! Handlers name who may open them by their arguments: [`Farmer`], [`Official`] or [`Buyer`]
//! for the signed-in user, [`PageForm`] for a posted form that passed both checks.

use std::ops::Deref;

use askama::Template;
use entities::user::Role;
use poem::{
    FromRequest, Request, RequestBody, Response, handler,
    http::Method,
    web::{
        Data, Form, Query,
        cookie::{Cookie, CookieJar, SameSite},
    },
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use subtle::ConstantTimeEq;

use super::{
    error::PageError,
    shell::{Frame, private, private_with, see_other},
};
use crate::{
    app::AppState,
    http::{caller::client_ip, error::Lang},
    infra::tokens::sha256_hex,
    service::{
        auth::AuthError,
        policy::{Actor, is_official_role},
    },
};

const COOKIE: &str = "shanhuo_session";
/// The phone number a sign-in code was texted to, until the code is typed.
const PHONE_COOKIE: &str = "shanhuo_sign_in_phone";

/// The signed-in user of a page, and what their forms must carry.
pub struct PageUser {
    pub actor: Actor,
    session: SecretString,
    /// The account's tag: the same on every sign-in of one account, and telling nothing of it.
    account: String,
}

impl PageUser {
    /// The anti-forgery token of this sign-in, for the forms of its pages, after the account's
    /// tag (`{account}.{token}`): a form kept on the phone with no signal says whose it is,
    /// and the phone sends it only while that account is signed in (`static/sw.js`).
    pub fn csrf(&self) -> String {
        format!("{}.{}", self.account, csrf_of(&self.session))
    }
}

/// An account's tag in its pages' forms: a keyed digest of its id, so a form kept on a shared
/// phone can be told apart from another account's without naming either.
fn account_tag(secret: &SecretString, user_id: i64) -> String {
    sha256_hex(format!("account\0{}\0{user_id}", secret.expose_secret()).as_bytes())[..12]
        .to_owned()
}

fn csrf_of(session: &SecretString) -> String {
    sha256_hex(format!("csrf\0{}", session.expose_secret()).as_bytes())[..32].to_owned()
}

fn session_cookie(req: &Request) -> Option<SecretString> {
    req.cookie()
        .get(COOKIE)
        .map(|cookie| SecretString::from(cookie.value_str().to_owned()))
        .filter(|session| !session.expose_secret().is_empty())
}

fn state_of(req: &Request) -> Result<&AppState, PageError> {
    req.data::<AppState>()
        .ok_or_else(|| PageError::Unavailable(anyhow::anyhow!("the pages run without their state")))
}

/// The page's signed-in user, if the sign-in is still current.
pub(super) async fn signed_in(req: &Request) -> Result<Option<PageUser>, PageError> {
    let Some(session) = session_cookie(req) else {
        return Ok(None);
    };
    let state = state_of(req)?;
    match state.auth.authenticate_page(&session).await {
        Ok(actor) => Ok(Some(PageUser {
            account: account_tag(&state.settings.secret_key, actor.user_id),
            actor,
            session,
        })),
        Err(AuthError::Database(e)) => Err(PageError::Unavailable(e.into())),
        Err(_) => Ok(None),
    }
}

/// The signed-in user if `allowed` admits their role; otherwise to the sign-in page (and back
/// here afterwards), or a page saying this is not theirs.
async fn require_role(req: &Request, allowed: fn(Role) -> bool) -> Result<PageUser, PageError> {
    match signed_in(req).await? {
        Some(user) if allowed(user.actor.role) => Ok(user),
        Some(user) => Err(PageError::NotYours {
            home: home_of(user.actor.role),
        }),
        // A form posted to a lapsed sign-in cannot be sent again from the sign-in page, so
        // its sender starts from their own pages.
        // Inside WeChat, WeChat says who they are.
        None if req.method() == Method::GET => Err(PageError::SignIn {
            next: req.uri().path_and_query().map(|p| p.as_str().to_owned()),
            wechat: state_of(req)?.wechat_web.is_some() && super::wechat::in_wechat(req),
        }),
        None => Err(PageError::SignIn {
            next: None,
            wechat: false,
        }),
    }
}

macro_rules! page_role {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        pub struct $name(pub PageUser);

        impl Deref for $name {
            type Target = PageUser;

            fn deref(&self) -> &PageUser {
                &self.0
            }
        }

        impl<'a> FromRequest<'a> for $name {
            async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
                Ok(Self(require_role(req, $allowed).await?))
            }
        }
    };
}

page_role!(
    /// A farmer signed in to the pages.
    Farmer,
    |role| role == Role::Farmer
);
page_role!(
    /// An official (or an administrator) signed in to the pages.
    Official,
    |role| role == Role::Admin || is_official_role(role)
);
page_role!(
    /// Anyone signed in, as a buyer: every account may order goods.
    Buyer,
    |_| true
);

/// Where a role's pages begin.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Farmer => "/f",
        Role::Buyer => "/m",
        Role::VillageCadre | Role::TownshipOfficial | Role::CountyOfficial | Role::Admin => "/o",
    }
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

/// Whether a form carrying `csrf` came from one of our own pages of this request's sign-in.
pub(super) fn form_is_ours(req: &Request, csrf: Option<&str>) -> Result<bool, PageError> {
    let state = state_of(req)?;
    // The account's tag before the token is only for the phone to read.
    let csrf = csrf.map(|c| c.rsplit_once('.').map_or(c, |(_, token)| token));
    let token_matches = match (session_cookie(req), csrf) {
        (Some(session), Some(csrf)) => {
            bool::from(csrf.as_bytes().ct_eq(csrf_of(&session).as_bytes()))
        }
        _ => false,
    };
    Ok(token_matches && same_site(req, &state.settings.public_base_url))
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// A posted form from one of our pages of this sign-in: its token and origin were checked
/// before the handler runs, and a form that fails either changes nothing.
pub struct PageForm<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for PageForm<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body
            .take()?
            .into_bytes()
            .await
            .map_err(|_| PageError::BadForm)?;
        let CsrfField { csrf } =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadForm)?;
        if !form_is_ours(req, csrf.as_deref())? {
            return Err(PageError::Forged.into());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadForm)?;
        Ok(Self(form))
    }
}

/// A posted sign-in form: there is no sign-in yet to carry a token, so only its origin is
/// checked.
pub struct SignInForm<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for SignInForm<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        if !same_site(req, &state_of(req)?.settings.public_base_url) {
            return Err(PageError::Forged.into());
        }
        let Form(form) = Form::<T>::from_request(req, body)
            .await
            .map_err(|_| PageError::BadForm)?;
        Ok(Self(form))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// `first`: WeChat does not know this farmer or official yet.
    wechat: Option<String>,
}

/// `GET /login`: the phone number, to text a code to; inside WeChat, WeChat's sign-in too.
#[handler]
pub async fn login_page(
    state: Data<&AppState>,
    req: &Request,
    lang: Lang,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let mut page = PhonePage::new(lang, String::new(), query.next, None);
    page.first_in_wechat = query.wechat.as_deref() == Some("first");
    if state.wechat_web.is_some() && super::wechat::in_wechat(req) && !page.first_in_wechat {
        page.wechat = Some(match &page.next {
            Some(next) => format!("/login/wechat?next={}", urlencode(next)),
            None => "/login/wechat".to_owned(),
        });
    }
    private(&page)
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    phone: Option<String>,
    code: Option<String>,
    next: Option<String>,
}

/// `POST /login/code`: texts a code, then on to the page that asks for it (post, redirect,
/// get: going back from a signed-in page never posts the form again).
#[handler]
pub async fn send_code(
    state: Data<&AppState>,
    req: &Request,
    cookies: &CookieJar,
    lang: Lang,
    SignInForm(form): SignInForm<LoginForm>,
) -> Result<Response, PageError> {
    let phone = normalise_phone(form.phone.as_deref().unwrap_or(""));
    let ip = client_ip(req, &state.settings);
    match state.auth.send_sign_in_code(&phone, &ip).await {
        Ok(_) => {
            // The number waits for the code in a cookie of the sign-in pages, not in the address.
            let mut cookie = Cookie::new_with_str(PHONE_COOKIE, &phone);
            cookie.set_path("/login");
            cookie.set_http_only(true);
            cookie.set_same_site(SameSite::Lax);
            cookie.set_secure(state.settings.public_base_url.starts_with("https://"));
            cookie.set_max_age(std::time::Duration::from_secs(
                state.settings.sms_code_ttl_secs.max(60),
            ));
            cookies.add(cookie);
            Ok(see_other(&code_page_url(form.next.as_deref())))
        }
        Err(e) => refused_again(lang, e, |problem| {
            PhonePage::new(lang, phone, form.next, problem)
        }),
    }
}

/// Where the code is asked for, keeping where to go afterwards.
fn code_page_url(next: Option<&str>) -> String {
    match safe_next(next) {
        Some(next) => format!("/login/code?next={}", urlencode(next)),
        None => "/login/code".to_owned(),
    }
}

pub(super) fn urlencode(s: &str) -> String {
    askama::filters::urlencode(s)
        .map(|encoded| encoded.to_string())
        .unwrap_or_default()
}

/// `GET /login/code`: the code texted to the number just given; without one, the number first.
#[handler]
pub async fn code_page(
    cookies: &CookieJar,
    lang: Lang,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let phone = cookies
        .get(PHONE_COOKIE)
        .map(|c| c.value_str().to_owned())
        .filter(|p| !p.is_empty());
    match phone {
        Some(phone) => private(&CodePage::new(lang, phone, query.next, None)),
        None => Ok(see_other(&match safe_next(query.next.as_deref()) {
            Some(next) => format!("/login?next={}", urlencode(next)),
            None => "/login".to_owned(),
        })),
    }
}

/// `POST /login`: checks the code, starts the sign-in and goes on to the user's pages.
#[handler]
pub async fn login(
    state: Data<&AppState>,
    req: &Request,
    cookies: &CookieJar,
    lang: Lang,
    SignInForm(form): SignInForm<LoginForm>,
) -> Result<Response, PageError> {
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
            start(&state, cookies, &pair);
            let mut phone = Cookie::new_with_str(PHONE_COOKIE, "");
            phone.set_path("/login");
            phone.make_removal();
            cookies.add(phone);
            let next = safe_next(form.next.as_deref()).unwrap_or(home_of(pair.user.role));
            Ok(see_other(&super::wechat::after_sms_sign_in(
                &state, req, &pair.user, next,
            )))
        }
        Err(e) => refused_again(lang, e, |problem| {
            CodePage::new(lang, phone, form.next, problem)
        }),
    }
}

/// The sign-in form again, saying what was wrong, with the status of the refusal.
fn refused_again<P: Template>(
    lang: Lang,
    error: AuthError,
    page: impl FnOnce(Option<String>) -> P,
) -> Result<Response, PageError> {
    match PageError::refused(lang, error) {
        PageError::Refused {
            message, status, ..
        } => private_with(&page(Some(message)), status),
        failure => Err(failure),
    }
}

/// Keeps a new sign-in in the browser.
pub(super) fn start(state: &AppState, cookies: &CookieJar, pair: &crate::service::auth::TokenPair) {
    let mut cookie = session(state, pair.refresh_token.expose_secret());
    cookie.set_max_age(pair.refresh_expires_in);
    cookies.add(cookie);
}

/// The session cookie: only for our pages' requests, out of scripts' reach, kept to HTTPS
/// where the site is published on it.
fn session(state: &AppState, value: &str) -> Cookie {
    let mut cookie = Cookie::new_with_str(COOKIE, value);
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.settings.public_base_url.starts_with("https://"));
    cookie
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
    cookies: &CookieJar,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    if let Some(session) = session_cookie(req) {
        if !form_is_ours(req, form.csrf.as_deref())? {
            return Err(PageError::Forged);
        }
        if let Err(e) = state.auth.logout_page(&session).await {
            tracing::warn!(error = %e, "ending a page sign-in failed");
        }
    }
    let mut cookie = session(&state, "");
    cookie.make_removal();
    cookies.add(cookie);
    Ok(see_other("/login"))
}

/// Digits typed on any keyboard: full-width ones too, with spaces and dashes left out.
pub(super) fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

/// A phone number as typed: `+86`, spaces, dashes and full-width digits are forgiven.
pub(super) fn normalise_phone(typed: &str) -> String {
    let digits: String = typed.chars().filter_map(ascii_digit).collect();
    match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_owned(),
        _ => digits,
    }
}

/// Only paths on this site are followed after signing in.
pub(super) fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
}

/// `GET /login` and a refused number: the phone number to text a code to.
#[derive(Template)]
#[template(path = "session/phone.html")]
struct PhonePage {
    lang: Lang,
    phone: String,
    next: Option<String>,
    problem: Option<String>,
    /// Inside WeChat: where WeChat's sign-in starts.
    wechat: Option<String>,
    /// WeChat did not know them: a texted code once binds it.
    first_in_wechat: bool,
}

impl PhonePage {
    fn new(lang: Lang, phone: String, next: Option<String>, problem: Option<String>) -> Self {
        let next = safe_next(next.as_deref()).map(str::to_owned);
        Self {
            lang,
            phone,
            next,
            problem,
            wechat: None,
            first_in_wechat: false,
        }
    }
}

/// The code texted to the phone, and a way to have another sent.
#[derive(Template)]
#[template(path = "session/code.html")]
struct CodePage {
    lang: Lang,
    phone: String,
    next: Option<String>,
    problem: Option<String>,
}

impl CodePage {
    fn new(lang: Lang, phone: String, next: Option<String>, problem: Option<String>) -> Self {
        let next = safe_next(next.as_deref()).map(str::to_owned);
        Self {
            lang,
            phone,
            next,
            problem,
        }
    }
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
    fn an_account_has_one_tag_on_every_sign_in_and_another_account_another() {
        let key = SecretString::from("key".to_owned());
        assert_eq!(account_tag(&key, 7), account_tag(&key, 7));
        assert_ne!(account_tag(&key, 7), account_tag(&key, 8));
        let other_key = SecretString::from("other".to_owned());
        assert_ne!(account_tag(&key, 7), account_tag(&other_key, 7));
        assert!(!account_tag(&key, 7).contains('7') || account_tag(&key, 7).len() == 12);
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
    }
}
