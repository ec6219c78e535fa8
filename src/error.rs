//! One error type for the whole application.
//!
//! Handlers return [`AppError`]; it becomes a response carrying an [`ErrorInfo`]
//! extension and no body. The [`render_errors`] middleware then renders that
//! information as an HTML page for pages, or as
//! `{"error": {"code", "message"}}` for `/api/`, so a handler never has to know
//! who is asking. Errors raised outside our handlers (the 404 fallback, axum's
//! extractor rejections, the body-size limit) are rendered the same way.

use askama::Template;
use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Serialize;

/// Everything that can go wrong in a request, with the status each one means.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be understood.
    #[error("{0}")]
    BadRequest(String),
    /// 401: nobody is signed in (pages redirect to the sign-in page instead).
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// 401: an API token that is malformed, unknown or revoked.
    #[error("{0}")]
    BadToken(String),
    /// 403: signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// 403: the form's CSRF token is missing or wrong.
    #[error("This form has expired or did not come from standardise. Go back, reload the page and try again.")]
    Csrf,
    /// 404: no such thing, or not one the caller may know exists.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with what is stored (duplicate, stale edit).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body or upload is larger than allowed.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422: understood, but the values are not acceptable; `details` lists each problem.
    #[error("{message}")]
    Invalid { message: String, details: Vec<String> },
    /// 429: too many attempts (sign-in throttling).
    #[error("{0}")]
    TooManyRequests(String),
    /// 503: the database does not answer; the server keeps running and recovers.
    #[error("The database is not answering at the moment. Try again in a minute.")]
    Unavailable,
    /// 503: the change collided with someone else's at the same moment (a deadlock or a
    /// serialization failure) and was not made; sending it again is safe.
    #[error("Someone else was changing the same records at the same moment, so nothing was saved. Please try again.")]
    Busy,
    /// 500: a database error that is a bug, not the user's doing. Logged, never shown.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// 500: anything else unexpected. Logged, never shown.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

/// What PostgreSQL text refuses (SQLSTATE 22021, 22P05): the only such character
/// a Rust string can hold is NUL.
pub const NUL_MESSAGE: &str = "Text cannot contain the NUL character.";

impl AppError {
    /// A 422 with a single message.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid { message: message.into(), details: Vec::new() }
    }

    /// A 404 naming what was not found.
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(format!("{} was not found.", what.into()))
    }

    /// True when the same request may well succeed if simply made again (the
    /// database refused it only because of a concurrent transaction).
    pub fn is_retryable(&self) -> bool {
        matches!(self, AppError::Busy)
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated | AppError::BadToken(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadToken(_) => "invalid_token",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::Invalid { .. } => "invalid",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Unavailable => "unavailable",
            AppError::Busy => "busy",
            AppError::Database(_) | AppError::Internal(_) => "internal",
        }
    }
}

/// True when the database is down or unreachable: the request may well
/// succeed later, and nothing was done.
pub fn is_outage(err: &sqlx::Error) -> bool {
    matches!(classify(err), Some(AppError::Unavailable))
}

/// What a database error means for the person who caused it, by its kind and
/// SQLSTATE; `None` for errors that are bugs (answered 500).
fn classify(err: &sqlx::Error) -> Option<AppError> {
    match err {
        // A database that is down or unreachable is an outage, not a bug.
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            Some(AppError::Unavailable)
        }
        sqlx::Error::RowNotFound => Some(AppError::not_found("That record")),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            match code.as_ref() {
                // character_not_in_repertoire, untranslatable_character: NUL in text or jsonb.
                "22021" | "22P05" => Some(AppError::invalid(NUL_MESSAGE)),
                // serialization_failure, deadlock_detected: nothing was done; doing it again is safe.
                "40001" | "40P01" => Some(AppError::Busy),
                // admin_shutdown, crash_shutdown, cannot_connect_now (a server stopping,
                // restarting or recovering), too_many_connections, and every
                // connection_exception (class 08): the database is not answering.
                "57P01" | "57P02" | "57P03" | "53300" => Some(AppError::Unavailable),
                c if c.starts_with("08") => Some(AppError::Unavailable),
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        // Outages answer 503 so clients retry, and the server keeps serving.
        match classify(&err) {
            Some(AppError::Unavailable) => {
                tracing::warn!(error = %err, "database unavailable");
                AppError::Unavailable
            }
            Some(AppError::Busy) => {
                tracing::warn!(error = %err, "transaction collided with another; the client may try again");
                AppError::Busy
            }
            Some(mapped) => mapped,
            None => AppError::Database(err),
        }
    }
}

impl From<anyhow::Error> for AppError {
    /// A database error that travelled inside an `anyhow::Error` is judged as one.
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<sqlx::Error>() {
            Ok(db) => db.into(),
            Err(other) => AppError::Internal(other),
        }
    }
}

/// Turns a unique-constraint violation into a 409 with a message for people;
/// any other error passes through unchanged.
pub fn on_constraint(err: sqlx::Error, constraint: &str, message: &str) -> AppError {
    if let sqlx::Error::Database(db) = &err
        && db.constraint() == Some(constraint)
    {
        return AppError::Conflict(message.to_owned());
    }
    err.into()
}

/// What the renderer needs to know about an error; travels in response extensions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(description = "What went wrong.")]
pub struct ErrorInfo {
    /// A stable machine-readable code such as `not_found`.
    #[schema(value_type = String, example = "not_found")]
    pub code: &'static str,
    /// A sentence for people saying what went wrong and what to do.
    pub message: String,
    /// Individual problems (validation), possibly empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// The body of every API error: what went wrong, and the request's reference
/// (the `x-request-id` header) to quote when reporting it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInfo,
    /// The request's reference, as in its `x-request-id` header.
    pub request_id: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            // The request id is on the request span, so this line can be found
            // from the reference shown to the user.
            tracing::error!(error = %self, "request failed");
            "Something went wrong on our side. It has been logged; please try again, and quote the reference below if it keeps happening."
                .to_owned()
        } else {
            self.to_string()
        };
        let code = self.code();
        let busy = matches!(self, AppError::Busy);
        let details = match self {
            AppError::Invalid { details, .. } => details,
            _ => Vec::new(),
        };
        let mut response = status.into_response();
        if busy {
            // A collision passes at once: programs may send the request again straight away.
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response.extensions_mut().insert(ErrorInfo { code, message, details });
        response
    }
}

/// The error page (askama), shown for every error on pages.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    info: &'a ErrorInfo,
    request_id: &'a str,
    viewer: Option<&'a ErrorViewer>,
    /// Where to go from here, most specific first.
    ways_back: Vec<WayBack>,
}

/// A link out of an error page.
#[derive(Debug, Clone, PartialEq)]
struct WayBack {
    /// A path on this site, checked (never another site's address).
    href: String,
    /// What the link says.
    label: &'static str,
}

/// Who was signed in when a page failed, so its error page keeps their
/// navigation (set by `web::remember_viewer` on page routes).
#[derive(Debug, Clone)]
pub struct ErrorViewer {
    /// Their name.
    pub name: String,
    /// An administrator (the navigation then lists papers and accounts).
    pub is_admin: bool,
}

fn default_info(status: StatusCode, body_text: Option<String>) -> ErrorInfo {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "There is no page at this address. Check the link, or go back to the home page.".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This address does not accept that kind of request.".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "What you sent is larger than standardise accepts. See the README for the size limits, and split large uploads.".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long and was stopped. Please try again.".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", body_text.unwrap_or_else(|| "The request body has the wrong content type.".to_owned()))
        }
        s if s.is_client_error() => ("bad_request", body_text.unwrap_or_else(|| "The request could not be understood.".to_owned())),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "The service is not answering at the moment. Try again in a minute.".to_owned()),
        _ => ("internal", "Something went wrong on our side. It has been logged; please try again.".to_owned()),
    };
    let code = match status {
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => code,
    };
    ErrorInfo { code, message, details: Vec::new() }
}

/// Middleware: renders every error response as HTML or JSON depending on
/// whether the request went to the API, and sends pages' 401s to sign-in.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let wanted = request.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_else(|| "/".to_owned());
    let is_get = request.method() == axum::http::Method::GET;
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let came_from = came_from(request.headers(), request.uri());

    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let has_own_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if has_own_body && response.extensions().get::<ErrorInfo>().is_none() {
        // A handler's own page or JSON for this status (a form shown again
        // with its error, the health check): already meant for the reader.
        return response;
    }
    let (parts, body) = response.into_parts();
    let info = match parts.extensions.get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None => {
            // Someone else's error (axum rejection, fallback, limit): keep its
            // short plain-text explanation for 4xx, never for 5xx.
            let text = if status.is_client_error() {
                axum::body::to_bytes(body, 4096)
                    .await
                    .ok()
                    .and_then(|b| String::from_utf8(b.to_vec()).ok())
                    .filter(|s| !s.trim().is_empty())
            } else {
                None
            };
            if status.is_server_error() {
                tracing::error!(%status, "request failed outside a handler");
            }
            default_info(status, text)
        }
    };

    if is_api {
        let mut response = (status, axum::Json(ErrorBody { error: info, request_id })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        copy_retry_after(&parts.headers, response.headers_mut());
        return response;
    }

    if status == StatusCode::UNAUTHORIZED && info.code == "unauthenticated" {
        let next_url = if is_get { wanted } else { "/".to_owned() };
        let target = format!("/login?next={}", urlencode(&next_url));
        return Redirect::to(&target).into_response();
    }

    let viewer = parts.extensions.get::<ErrorViewer>();
    let page = ErrorPage {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        info: &info,
        request_id: &request_id,
        viewer,
        ways_back: ways_back(&wanted, is_get, came_from.as_deref(), viewer),
    };
    let html = page.render().unwrap_or_else(|_| info.message.clone());
    let mut response = (status, Html(html)).into_response();
    copy_retry_after(&parts.headers, response.headers_mut());
    response
}

/// The page a request came from, when its `Referer` is a page of this site:
/// the path and query only, so the link can never lead anywhere else.
/// (Browsers send it only to this site anyway: `Referrer-Policy: same-origin`.)
fn came_from(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    // HTTP/2 carries the host in the request line's authority, HTTP/1.1 in `Host`.
    let host = uri.authority().map(|a| a.as_str()).or_else(|| headers.get(header::HOST)?.to_str().ok())?;
    same_site_path(referer, host)
}

/// The path (and query) of `referer` when it is an address on `host`; `None`
/// for any other site, a malformed address, or a path that [`safe_next`]
/// would not follow.
///
/// [`safe_next`]: crate::web::safe_next
fn same_site_path(referer: &str, host: &str) -> Option<String> {
    let lower = referer.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &referer[8..]
    } else if lower.starts_with("http://") {
        &referer[7..]
    } else {
        return None;
    };
    // The authority ends at the first '/', '?' or '#' (RFC 3986); a user-info
    // part ("evil.example@host") makes it differ from the host, so it is refused.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if host.is_empty() || !authority.eq_ignore_ascii_case(host) {
        return None;
    }
    let path = path.split('#').next().unwrap_or("");
    let path = match path {
        "" => "/".to_owned(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_owned(),
    };
    // One rule for where a link may send people: the one `next=` follows.
    (crate::web::safe_next(Some(&path)) == path).then_some(path)
}

/// The meeting (or, for administrators, the paper) a failed address is under,
/// such as `/meetings/{id}` for `/meetings/{id}/tolerances`; not the address itself.
fn parent_of(failed: &str, viewer: &ErrorViewer) -> Option<WayBack> {
    let path = failed.split(['?', '#']).next().unwrap_or("");
    let mut parts = path.strip_prefix('/')?.splitn(3, '/');
    let (area, id, rest) = (parts.next()?, parts.next()?, parts.next()?);
    if rest.is_empty() || uuid::Uuid::parse_str(id).is_err() {
        return None;
    }
    let label = match area {
        "meetings" => "Back to the meeting",
        "papers" if viewer.is_admin => "Back to the paper",
        _ => return None,
    };
    Some(WayBack { href: format!("/{area}/{id}"), label })
}

/// The links an error page offers: the meeting or paper the failed address is
/// under, the page the request came from, then the home page (and signing in
/// for someone signed out).
fn ways_back(failed: &str, is_get: bool, came_from: Option<&str>, viewer: Option<&ErrorViewer>) -> Vec<WayBack> {
    let parent = viewer.and_then(|v| parent_of(failed, v));
    let mut rest = vec![WayBack { href: "/".to_owned(), label: "Go to the home page" }];
    if viewer.is_none() {
        rest.push(WayBack { href: "/login".to_owned(), label: "Sign in" });
    }
    // Going "back" to the address that just failed to load would fail again;
    // a page already offered keeps its own, plainer name.
    let back = came_from
        .filter(|from| !(is_get && *from == failed))
        .filter(|from| parent.iter().chain(&rest).all(|l| l.href != *from))
        .map(|from| WayBack { href: from.to_owned(), label: "Go back to the page you came from" });
    parent.into_iter().chain(back).chain(rest).collect()
}

fn copy_retry_after(from: &axum::http::HeaderMap, to: &mut axum::http::HeaderMap) {
    if let Some(v) = from.get(header::RETRY_AFTER) {
        to.insert(header::RETRY_AFTER, v.clone());
    }
}

/// Percent-encodes a path for use as a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// A database error as PostgreSQL would report it, with this SQLSTATE.
    #[derive(Debug)]
    struct Pg(&'static str);

    impl std::fmt::Display for Pg {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Pg {}

    impl sqlx::error::DatabaseError for Pg {
        fn message(&self) -> &str {
            "from the test"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn answer(code: &'static str) -> (StatusCode, ErrorInfo, Option<String>) {
        let response = AppError::from(sqlx::Error::Database(Box::new(Pg(code)))).into_response();
        let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        (response.status(), response.extensions().get::<ErrorInfo>().unwrap().clone(), retry)
    }

    const MEETING: &str = "/meetings/0b7f7c0e-3f1c-4c55-9d5e-2f8a1c9b6a10";

    fn viewer(is_admin: bool) -> ErrorViewer {
        ErrorViewer { name: "Ada".into(), is_admin }
    }

    fn hrefs(links: &[WayBack]) -> Vec<(&str, &str)> {
        links.iter().map(|l| (l.href.as_str(), l.label)).collect()
    }

    #[test]
    fn only_a_page_of_this_site_is_a_way_back() {
        let host = "standardise.example:3000";
        let cases: [(&str, Option<&str>); 16] = [
            ("http://standardise.example:3000/meetings/1?tab=2", Some("/meetings/1?tab=2")),
            ("https://standardise.example:3000/papers#scripts", Some("/papers")),
            ("HTTP://Standardise.Example:3000", Some("/")),
            ("http://standardise.example:3000?x=1", Some("/?x=1")),
            ("http://evil.example/meetings/1", None),
            ("http://standardise.example:3001/", None),
            ("http://standardise.example/", None),
            ("http://standardise.example:3000.evil.example/", None),
            ("http://evil.example@standardise.example:3000/", None),
            ("http://standardise.example:3000@evil.example/", None),
            ("http://standardise.example:3000//evil.example/", None),
            ("http://standardise.example:3000/\\evil.example/", None),
            ("javascript:alert(1)", None),
            ("//standardise.example:3000/meetings", None),
            ("/meetings", None),
            ("", None),
        ];
        for (referer, expected) in cases {
            assert_eq!(same_site_path(referer, host).as_deref(), expected, "{referer}");
        }
        assert_eq!(same_site_path("http:///x", ""), None, "no host, no way back");
    }

    #[test]
    fn the_referer_is_read_from_the_request() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert(header::REFERER, HeaderValue::from_static("http://127.0.0.1:3000/meetings"));
        let uri: axum::http::Uri = "/meetings/x/close".parse().unwrap();
        assert_eq!(came_from(&headers, &uri).as_deref(), Some("/meetings"));
        headers.insert(header::REFERER, HeaderValue::from_static("http://evil.example/meetings"));
        assert_eq!(came_from(&headers, &uri), None);
        headers.remove(header::REFERER);
        assert_eq!(came_from(&headers, &uri), None);
    }

    #[test]
    fn an_error_under_a_meeting_leads_back_to_it() {
        let failed = format!("{MEETING}/tolerances");
        let from = format!("{MEETING}/dashboard");
        assert_eq!(
            hrefs(&ways_back(&failed, false, Some(&from), Some(&viewer(false)))),
            [(MEETING, "Back to the meeting"), (from.as_str(), "Go back to the page you came from"), ("/", "Go to the home page")]
        );
        // The meeting page itself is offered once.
        assert_eq!(
            hrefs(&ways_back(&failed, false, Some(MEETING), Some(&viewer(false)))),
            [(MEETING, "Back to the meeting"), ("/", "Go to the home page")]
        );
        // Not the address that failed, and not for a path that is not a meeting's.
        assert_eq!(hrefs(&ways_back(MEETING, true, None, Some(&viewer(false)))), [("/", "Go to the home page")]);
        assert_eq!(hrefs(&ways_back("/meetings/new/x", true, None, Some(&viewer(true)))), [("/", "Go to the home page")]);
        let paper = "/papers/0b7f7c0e-3f1c-4c55-9d5e-2f8a1c9b6a10";
        assert_eq!(ways_back(&format!("{paper}/scripts/bulk"), false, None, Some(&viewer(true)))[0].href, paper);
        assert_eq!(ways_back(&format!("{paper}/scripts/bulk"), false, None, Some(&viewer(false)))[0].href, "/");
    }

    #[test]
    fn going_back_to_the_address_that_failed_is_not_offered() {
        let failed = "/meetings?page=2";
        assert_eq!(hrefs(&ways_back(failed, true, Some(failed), Some(&viewer(false)))), [("/", "Go to the home page")]);
        // After a form posted to the address of its own page, that page is the way back.
        assert_eq!(ways_back("/meetings", false, Some("/meetings"), Some(&viewer(false)))[0].href, "/meetings");
    }

    #[test]
    fn someone_signed_out_is_offered_the_home_page_and_signing_in() {
        assert_eq!(hrefs(&ways_back("/login", false, Some("/login"), None)), [("/", "Go to the home page"), ("/login", "Sign in")]);
        assert_eq!(
            hrefs(&ways_back("/no/such/page", true, Some("/help?x=1"), None)),
            [("/help?x=1", "Go back to the page you came from"), ("/", "Go to the home page"), ("/login", "Sign in")]
        );
        // No meeting link for someone signed out: they cannot open it.
        assert_eq!(ways_back(&format!("{MEETING}/tolerances"), false, Some("/"), None).len(), 2);
    }

    #[test]
    fn a_server_shutting_down_or_refusing_connections_is_503() {
        // admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown,
        // cannot_connect_now, too_many_connections, connection_failure.
        for code in ["57P01", "57P02", "57P03", "53300", "08006", "08003"] {
            let (status, info, _) = answer(code);
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{code}");
            assert_eq!(info.code, "unavailable", "{code}");
        }
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_503_saying_try_again() {
        for code in ["40P01", "40001"] {
            let (status, info, retry) = answer(code);
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{code}");
            assert_eq!(info.code, "busy");
            assert!(info.message.contains("try again"), "{}", info.message);
            assert_eq!(retry.as_deref(), Some("1"));
            assert!(AppError::from(sqlx::Error::Database(Box::new(Pg(code)))).is_retryable());
        }
    }

    #[test]
    fn nul_in_text_is_the_callers_mistake_not_ours() {
        for code in ["22021", "22P05"] {
            let (status, info, _) = answer(code);
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
            assert_eq!(info.message, NUL_MESSAGE);
        }
    }

    #[test]
    fn other_database_errors_stay_500_and_hidden() {
        let (status, info, _) = answer("42P01");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!info.message.contains("SQLSTATE"));
        assert!(!AppError::from(sqlx::Error::Database(Box::new(Pg("42P01")))).is_retryable());
    }

    #[test]
    fn database_errors_inside_anyhow_are_judged_the_same() {
        let err: AppError = anyhow::Error::from(sqlx::Error::Database(Box::new(Pg("57P01")))).into();
        assert!(matches!(err, AppError::Unavailable));
        let err: AppError = anyhow::anyhow!("something else").into();
        assert!(matches!(err, AppError::Internal(_)));
    }
}
