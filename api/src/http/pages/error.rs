//! One refusal for every page: not signed in, not this account's page, a forged or unreadable
//! form, something that is not there, a service's refusal, or a failure. Handlers return
//! `Result<Response, PageError>`; [`PageErrors`] turns the error into the refusal page, in the
//! reader's language and the frame of the part of the site it was asked in.

use askama::Template;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    error::{NotFoundError, ResponseError},
    http::{StatusCode, header},
};

use super::shell::{Frame, html_response, render, see_other};
use crate::http::error::{ApiError, Lang};

/// Why a page could not be shown or a form not taken.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Nobody is signed in: to the sign-in page (inside WeChat, through WeChat's
    /// authorisation), and back to `next` afterwards.
    #[error("not signed in")]
    SignIn { next: Option<String>, wechat: bool },
    /// Signed in, but the page is for another role.
    #[error("the page is not for this account")]
    NotYours { home: &'static str },
    /// A form that did not come from our page of this sign-in.
    #[error("the form did not come from our page of this sign-in")]
    Forged,
    /// A form that did not arrive whole.
    #[error("the form could not be read")]
    BadForm,
    /// What was asked for is not there, or not the reader's.
    #[error("not found: {0:?}")]
    Missing(Missing),
    /// A service refused: its message (with its reason) and status, and the code of the
    /// reason or error, which tells a form the field it concerns.
    #[error("refused: {message}")]
    Refused {
        message: String,
        status: StatusCode,
        code: &'static str,
    },
    /// Something failed on our side; logged, and the reader asked to try again.
    #[error(transparent)]
    Unavailable(#[from] anyhow::Error),
}

/// What a page looked for and did not find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// A listing of the farmer's own.
    OwnListing,
    /// A listing that can be ordered.
    Orderable,
    /// A batch of the farmer's own.
    OwnBatch,
    /// A plot of the farmer's own.
    OwnPlot,
    /// An area the official governs.
    Area,
    /// A household in the official's area.
    Household,
    /// An area whose production and sales the official may see.
    StatsArea,
    /// A listing a buyer opened that is not, or no longer, on sale.
    Listing,
    /// An address that leads nowhere, opened in a browser.
    Page,
    /// A buyer's report in the official's area.
    Report,
    /// A compliance certificate opened from its QR code.
    Certificate,
}

impl PageError {
    /// A service's refusal as a page says it: the catalogue's message, with the service's
    /// reason when it gave one; a failure on our side stays a failure.
    pub fn refused(lang: Lang, error: impl Into<ApiError>) -> Self {
        let error = error.into();
        let status = error.code.status();
        // A full store is said plainly: only an administrator can mend it, and the form comes
        // back as it was filled in.
        if status.is_server_error() && status != StatusCode::INSUFFICIENT_STORAGE {
            return Self::Unavailable(anyhow::anyhow!("{error}"));
        }
        Self::Refused {
            message: refusal_message(lang, &error),
            status,
            code: error
                .reason
                .as_ref()
                .map_or(error.code.as_str(), |r| r.code),
        }
    }

    /// A form filled in with something it cannot take: the form again, saying what to fix.
    pub fn mistake(what_to_fix: &str) -> Self {
        Self::mistake_in("", what_to_fix)
    }

    /// [`PageError::mistake`] in the field `field`.
    pub fn mistake_in(field: &'static str, what_to_fix: &str) -> Self {
        Self::Refused {
            message: what_to_fix.to_owned(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: field,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::NotYours { .. } | Self::Forged => StatusCode::FORBIDDEN,
            Self::BadForm => StatusCode::BAD_REQUEST,
            Self::Missing(_) => StatusCode::NOT_FOUND,
            Self::Refused { status, .. } => *status,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The page that says so, in `frame`.
    pub fn answer(&self, lang: Lang, frame: Frame) -> Response {
        if let Self::SignIn { next, wechat } = self {
            let start = if *wechat { "/login/wechat" } else { "/login" };
            return match next {
                Some(next) => see_other(&format!("{start}?next={}", urlencode(next))),
                None => see_other(start),
            };
        }
        if let Self::Unavailable(e) = self {
            tracing::error!(error = format!("{e:#}"), "a page could not be put together");
        }
        // Another account's part of the site, or a form from elsewhere: its tabs lead nowhere
        // the reader may go.
        let frame = match self {
            Self::NotYours { .. } | Self::Forged => Frame::plain(),
            _ => frame,
        };
        let page = RefusalPage {
            lang,
            frame,
            words: self.words(lang, frame),
        };
        match render(&page) {
            Ok(html) => html_response(html, self.status(), "no-store"),
            Err(e) => {
                tracing::error!(error = %e, "the refusal page could not be put together");
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
        }
    }

    fn words(&self, lang: Lang, frame: Frame) -> Words {
        let t = |zh, en| lang.t(zh, en);
        let back = Some((frame.home(), t("返回", "Back")));
        match self {
            Self::SignIn { .. } => Words::new(t("请先登录", "Please sign in"), "", None),
            Self::NotYours { home } => Words::new(
                t("无权查看", "Not for this account"),
                t(
                    "这个页面不属于您的账号。",
                    "This page is not for your account.",
                ),
                Some((home, t("回到我的首页", "Back to my pages"))),
            ),
            Self::Forged => Words::new(
                t("请重新提交", "Please try again"),
                t(
                    "这个表单已失效或来自别的网站，没有保存任何内容。请回到页面重新填写。",
                    "This form has expired or came from another site; nothing was saved. Go back and fill it in again.",
                ),
                Some(("/login", t("重新登录", "Sign in again"))),
            ),
            Self::BadForm => Words::new(
                t("表单没有收到", "The form did not arrive"),
                t(
                    "网络不好或照片太大，什么都没有保存。请再试一次。",
                    "The connection dropped or the photo was too large; nothing was saved. Please try again.",
                ),
                back,
            ),
            Self::Missing(missing) => missing.words(lang),
            Self::Refused { message, .. } => {
                Words::new(t("没有办成", "Not done"), message.clone(), back)
            }
            Self::Unavailable(_) => Words::new(
                t("暂时打不开", "Not available"),
                t("暂时打不开，请稍后再试", "Please try again in a moment"),
                None,
            ),
        }
    }
}

impl Missing {
    fn words(self, lang: Lang) -> Words {
        let t = |zh, en| lang.t(zh, en);
        let (title, note, way_on) = match self {
            Self::OwnListing => (
                t("找不到商品", "Not found"),
                t("没有这件商品。", "There is no such listing of yours."),
                ("/f", t("回到我的商品", "Back to my goods")),
            ),
            Self::Orderable => (
                t("不能下单", "Not on sale"),
                t("这件商品不存在或已下架。", "This listing is not on sale."),
                ("/m", t("去看看别的", "See what else is on sale")),
            ),
            Self::OwnBatch => (
                t("找不到批次", "Not found"),
                t("没有这个批次。", "There is no such batch of yours."),
                ("/f/batches", t("回到我的批次", "Back to my batches")),
            ),
            Self::OwnPlot => (
                t("找不到地块", "Not found"),
                t("没有这块地。", "There is no such plot of yours."),
                ("/f/plots", t("回到我的地块", "Back to my plots")),
            ),
            Self::Area => (
                t("找不到这个地区", "No such area"),
                t(
                    "没有这个地区，或它不在您的管辖范围内。",
                    "There is no such area, or it is not one you govern.",
                ),
                ("/o", t("回到我的地区", "Back to my area")),
            ),
            Self::Household => (
                t("找不到农户", "Not found"),
                t(
                    "没有这户，或它不在您的管辖范围内。",
                    "There is no such household in your area.",
                ),
                ("/o/cases", t("回到待办", "Back to my work")),
            ),
            Self::StatsArea => (
                t("产销统计", "Production and sales"),
                t(
                    "这个地区不在您的管辖范围内。",
                    "This area is not one you govern.",
                ),
                ("/o/stats", t("看我的地区", "See my area")),
            ),
            Self::Listing => (
                t("找不到商品", "Not found"),
                t(
                    "没有这件商品，或已下架",
                    "This listing does not exist or was taken down",
                ),
                ("/m", t("去看看别的", "See what else is on sale")),
            ),
            Self::Report => (
                t("找不到反馈", "Not found"),
                t(
                    "没有这条反馈，或它不在您的管辖范围内。",
                    "There is no such report in your area.",
                ),
                ("/o/reports", t("回到买家反馈", "Back to buyers' reports")),
            ),
            Self::Certificate => (
                t("找不到合格证", "Not found"),
                t(
                    "没有这张合格证，可能是二维码输错了。",
                    "There is no such certificate: the code may be mistyped.",
                ),
                ("/m/trace", t("验证溯源码", "Verify a trace code")),
            ),
            Self::Page => (
                t("找不到这个页面", "Page not found"),
                t(
                    "这个网址没有页面，可能是输错了或已经不用了。",
                    "There is no page at this address: it may be mistyped or no longer used.",
                ),
                ("/", t("回到首页", "Go to the front page")),
            ),
        };
        Words::new(title, note, Some(way_on))
    }
}

/// What a refusal page says.
struct Words {
    title: &'static str,
    note: String,
    way_on: Option<(&'static str, &'static str)>,
}

impl Words {
    fn new(
        title: &'static str,
        note: impl Into<String>,
        way_on: Option<(&'static str, &'static str)>,
    ) -> Self {
        Self {
            title,
            note: note.into(),
            way_on,
        }
    }
}

#[derive(Template)]
#[template(path = "refusal.html")]
struct RefusalPage {
    lang: Lang,
    frame: Frame,
    words: Words,
}

/// A refused request as a page says it: the service's reason when it gave one (from the
/// catalogue of reasons, with its numbers), otherwise the error code's message. Never the
/// developer's details.
pub fn refusal_message(lang: Lang, error: &ApiError) -> String {
    error.envelope(lang).message
}

fn urlencode(s: &str) -> String {
    askama::filters::urlencode(s)
        .map(|encoded| encoded.to_string())
        .unwrap_or_default()
}

impl ResponseError for PageError {
    fn status(&self) -> StatusCode {
        PageError::status(self)
    }

    fn as_response(&self) -> Response {
        self.answer(Lang::Zh, Frame::plain())
    }
}

/// Turns a page's [`PageError`] into its refusal page, in the reader's language and the
/// frame of the part of the site that was asked.
pub struct PageErrors;

impl<E: Endpoint> Middleware<E> for PageErrors {
    type Output = PageErrorsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        PageErrorsEndpoint(ep)
    }
}

pub struct PageErrorsEndpoint<E>(E);

impl<E: Endpoint> Endpoint for PageErrorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        // Kept for a refusal, read only if there is one: most requests are not refused.
        let accept_language = req.headers().get(header::ACCEPT_LANGUAGE).cloned();
        let frame = Frame::of_path(req.uri().path());
        // A browser that follows a dead link gets a page; the API's clients keep the envelope.
        let page_wanted =
            !req.uri().path().starts_with("/api/") && super::public::home::wants_html(&req);
        let lang =
            || Lang::from_accept_language(accept_language.as_ref().and_then(|v| v.to_str().ok()));
        match self.0.call(req).await {
            Ok(response) => Ok(response.into_response()),
            Err(err) => match err.downcast_ref::<PageError>() {
                Some(page_error) => Ok(page_error.answer(lang(), frame)),
                None if page_wanted && err.is::<NotFoundError>() => {
                    Ok(PageError::Missing(Missing::Page).answer(lang(), frame))
                }
                None => Err(err),
            },
        }
    }
}
