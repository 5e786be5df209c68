//! The page a certificate's QR code opens (`/m/certificates/{id}`): the compliance
//! certificate (承诺达标合格证) with every field, the promise and its basis, the attached report,
//! whether it was withdrawn, the certificates it names and the farm inputs of the batch's plot.
//! No sign-in, no JavaScript.

use askama::Template;
use poem::{
    Response, handler,
    web::{Data, Path},
};

use crate::http::error::Lang;
use crate::http::pages::{
    error::{Missing, PageError},
    shell::{Frame, public, unit_name},
};
use crate::{
    app::AppState,
    service::trace::{
        TraceError,
        certificates::{self, BasisNames, CertificateView},
    },
};

/// How long phones and proxies may keep the page, in seconds: a withdrawal shows within it.
const MAX_AGE: u32 = 60;

/// `GET /m/certificates/{id}`.
#[handler]
pub async fn certificate_page(
    state: Data<&AppState>,
    lang: Lang,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match certificates::public(&state.db, id).await {
        Ok(view) => public(&CertificatePage { lang, view }, MAX_AGE),
        Err(TraceError::NotFound) => Err(PageError::Missing(Missing::Certificate)),
        Err(e) => Err(PageError::refused(lang, e)),
    }
}

#[derive(Template)]
#[template(path = "public/certificate.html")]
struct CertificatePage {
    lang: Lang,
    view: CertificateView,
}

impl CertificatePage {
    fn unit(&self) -> &'static str {
        unit_name(self.lang, self.view.certificate.unit)
    }

    fn basis(&self) -> &'static str {
        let b = self.view.certificate.basis;
        self.lang.t(b.name_zh(), b.name_en())
    }

    fn report_is_photo(&self) -> bool {
        self.view
            .certificate
            .report_type
            .as_deref()
            .is_some_and(|t| t.starts_with("image/"))
    }
}
