//! The front door: `/` as a browser opens it, and the page for an address that leads nowhere.
//! A client asking for JSON at `/` keeps the server's description (`http::ops`).

use askama::Template;
use poem::{Request, Response, http::header};

use crate::http::{
    error::Lang,
    pages::{
        error::PageError,
        shell::{Frame, public},
    },
};

/// Phones may keep the front door a few minutes: it changes only with a new release.
const HOME_MAX_AGE: u32 = 300;

/// Whether the request is a browser's asking for a page (`Accept: text/html`), not a client's.
pub fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// `/` for a browser: where buyers, farmers and officials each go.
pub fn home_page(lang: Lang) -> Result<Response, PageError> {
    public(&HomePage { lang }, HOME_MAX_AGE).map(|resp| {
        let mut resp = resp;
        resp.headers_mut().insert(
            header::VARY,
            header::HeaderValue::from_static("Accept, Accept-Language"),
        );
        resp
    })
}

#[derive(Template)]
#[template(path = "public/home.html")]
struct HomePage {
    lang: Lang,
}
