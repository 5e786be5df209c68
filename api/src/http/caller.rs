//! Who is calling: the client's address (for rate limits and sign-in attempts) and the coarse
//! place a scan comes from. The API and the pages both ask.

use poem::Request;

use crate::{
    app::AppState,
    service::trace::{
        TraceError,
        codes::{self, Scan, ScanLimits, Verification},
    },
    service::users::Origin,
};

/// Where a request came from, for the audit log.
pub fn origin(req: &Request) -> Origin {
    Origin {
        ip: req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string()),
    }
}

/// The client's address: the peer's, or behind a trusted proxy the first hop it reports.
pub fn client_ip(req: &poem::Request, settings: &crate::config::Settings) -> String {
    if settings.trust_forwarded_for
        && let Some(forwarded) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return forwarded.to_owned();
    }
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Where a scan comes from, as coarsely as a copied label shows: the /24 of an IPv4 address,
/// the /48 of an IPv6 one. A loopback or private address (a proxy not trusted for
/// `X-Forwarded-For`, a test) says nothing about where the phone is, so it is no place.
pub fn neighbourhood(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) if v4.is_loopback() || v4.is_private() || v4.is_unspecified() => {
            None
        }
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        std::net::IpAddr::V6(v6) if v6.is_loopback() || v6.is_unspecified() => None,
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}

/// Verifies a code scanned by the client of `req`: the API and the scan page both answer this.
pub async fn verify_scan(
    state: &AppState,
    req: &poem::Request,
    code: &str,
) -> Result<Verification, TraceError> {
    let place = neighbourhood(&client_ip(req, &state.settings));
    let scan = Scan {
        counter: &state.scans,
        cache: &state.cache,
        records: &state.trace_records,
        limits: ScanLimits {
            warn_after_scans: state.settings.scan_warn_after,
            warn_after_places: state.settings.scan_warn_places,
        },
        place: place.as_deref(),
    };
    codes::verify(&state.db, &state.trace_keys, scan, code).await
}
