//! Which methods an address takes, so a 405 answer says so in `Allow` (RFC 9110 §15.5.6).
//! The pages and the server's own addresses are routed through [`get`] and [`post`] here,
//! which remember their methods; the API's are read from its operations.

use std::sync::OnceLock;

use poem::{
    Endpoint, IntoEndpoint, Request, Response, Result, RouteMethod, error::MethodNotAllowedError,
    http::Method,
};

use super::api::{API_PREFIX, served_operations};

/// The methods an address takes, carried on a 405 error to the envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed(pub String);

/// A `RouteMethod` that names its methods when it refuses another.
pub struct Methods {
    route: RouteMethod,
    methods: Vec<Method>,
}

/// Routes `GET` (and with it `HEAD`) to `ep`.
pub fn get<E>(ep: E) -> Methods
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    Methods {
        route: RouteMethod::new().get(ep),
        methods: vec![Method::GET],
    }
}

/// Routes `POST` to `ep`.
pub fn post<E>(ep: E) -> Methods
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    Methods {
        route: RouteMethod::new().post(ep),
        methods: vec![Method::POST],
    }
}

impl Methods {
    /// Routes `POST` to `ep` as well.
    #[must_use]
    pub fn post<E>(mut self, ep: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.route = self.route.post(ep);
        self.methods.push(Method::POST);
        self
    }

    fn allowed(&self) -> Allowed {
        Allowed(allow_header(self.methods.iter().map(Method::as_str)))
    }
}

impl Endpoint for Methods {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        match self.route.call(req).await {
            Err(mut err) if err.is::<MethodNotAllowedError>() => {
                err.set_data(self.allowed());
                Err(err)
            }
            other => other,
        }
    }
}

/// `Allow`'s value for these methods: `HEAD` beside `GET`, as the router answers it.
fn allow_header<'a>(methods: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<String> = methods.map(str::to_ascii_uppercase).collect();
    if names.iter().any(|m| m == "GET") && !names.iter().any(|m| m == "HEAD") {
        names.push("HEAD".into());
    }
    names.sort();
    names.dedup();
    names.join(", ")
}

/// The API's addresses as templates (segments, `{name}` for a parameter) with their methods.
fn api_routes() -> &'static [(Vec<String>, Vec<String>)] {
    static TABLE: OnceLock<Vec<(Vec<String>, Vec<String>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for (method, template) in served_operations() {
            let segments: Vec<String> = template.split('/').map(str::to_owned).collect();
            match table.iter_mut().find(|(s, _)| *s == segments) {
                Some((_, methods)) => methods.push(method),
                None => table.push((segments, vec![method])),
            }
        }
        table
    })
}

/// The API address a request's path (under `/api/v1`) is routed to, if any: a literal segment
/// wins over a parameter, as the router decides.
fn api_route(path: &str) -> Option<&'static (Vec<String>, Vec<String>)> {
    let rest = path.strip_prefix(API_PREFIX)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let matching = |(template, _): &&(Vec<String>, Vec<String>)| {
        template.len() == segments.len()
            && template
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (is_parameter(t) && !s.is_empty()))
    };
    api_routes()
        .iter()
        .filter(matching)
        .max_by_key(|(template, _)| template.iter().filter(|t| !is_parameter(t)).count())
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The methods the API serves at `path` (a request's path under `/api/v1`), if any.
pub fn api_allow(path: &str) -> Option<Allowed> {
    api_route(path).map(|(_, methods)| Allowed(allow_header(methods.iter().map(String::as_str))))
}

/// The name the document gives the `index`th parameter of the API address `path` is routed
/// to (the router numbers them `param0`, `param1`, …).
pub fn api_path_parameter(path: &str, index: usize) -> Option<&'static str> {
    let (template, _) = api_route(path)?;
    template
        .iter()
        .filter(|t| is_parameter(t))
        .nth(index)
        .map(|t| &t[1..t.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_names_the_methods_of_an_address() {
        assert_eq!(
            api_allow("/api/v1/households/42").map(|a| a.0).as_deref(),
            Some("DELETE, GET, HEAD, PATCH")
        );
        assert_eq!(
            api_allow("/api/v1/households/import")
                .map(|a| a.0)
                .as_deref(),
            Some("POST")
        );
        assert_eq!(api_allow("/api/v1/nowhere/at/all/x"), None);
    }

    #[test]
    fn path_parameters_are_named_as_the_document_names_them() {
        let labels = "/api/v1/batches/1/code-runs/2/labels/x";
        assert_eq!(api_path_parameter(labels, 0), Some("id"));
        assert_eq!(api_path_parameter(labels, 2), Some("page"));
        assert_eq!(api_path_parameter(labels, 3), None);
    }
}
