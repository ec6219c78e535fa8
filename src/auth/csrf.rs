//! CSRF protection for every state-changing page request.
//!
//! Signed in: the synchronizer token pattern. The token lives in the session;
//! forms carry it in a hidden `csrf` field (urlencoded or multipart), htmx
//! requests in `X-CSRF-Token`.
//!
//! Not signed in: people who have not signed in get no stored session at all,
//! so the sign-in form is protected by a signed double-submit cookie instead. A
//! random value goes in a cookie of its own (HttpOnly, SameSite=Strict, and
//! `__Host-` prefixed and Secure over https); the form carries an HMAC of it
//! under a key kept in the database. `POST /login` must bring both, matching.
//! Another site can neither read the cookie nor make the HMAC of one.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::{RngCore, rngs::OsRng};
use sha2::Sha256;
use sqlx::PgExecutor;
use subtle::ConstantTimeEq;
use tower_sessions::{
    Session,
    cookie::{Cookie, SameSite},
};

use crate::{
    auth::extract::{USER_ID_KEY, session_error},
    error::AppError,
    state::AppState,
};

const CSRF_KEY: &str = "csrf";
/// The form field and header that carry the token.
pub const FIELD: &str = "csrf";
const HEADER: &str = "x-csrf-token";
/// The only address that accepts the signed-out (double-submit) token.
pub const LOGIN_PATH: &str = "/login";

/// The token for the forms of a signed-in session, made on first use. Without
/// anyone signed in it is empty and nothing is stored: the only form such a
/// person can send is the sign-in form, which carries a [`LoginToken`] instead.
pub async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await.map_err(session_error)? {
        return Ok(token);
    }
    if session.get::<serde_json::Value>(USER_ID_KEY).await.map_err(session_error)?.is_none() {
        return Ok(String::new());
    }
    renew(session).await
}

/// A fresh token, e.g. after signing in.
pub async fn renew(session: &Session) -> Result<String, AppError> {
    let token = random_value();
    session.insert(CSRF_KEY, &token).await.map_err(session_error)?;
    Ok(token)
}

/// 32 random bytes in unpadded base64url (43 characters).
fn random_value() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn matches(provided: &[u8], expected: &str) -> bool {
    provided.ct_eq(expected.as_bytes()).into()
}

/// The name of the sign-in cookie: `__Host-` prefixed when cookies are
/// Secure, so no other host (a sibling subdomain) can plant one.
fn login_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-standardise_login" } else { "standardise_login" }
}

/// The sign-in cookie's value in a request, if it holds a well-formed one.
fn login_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = login_cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43 && URL_SAFE_NO_PAD.decode(v).is_ok_and(|b| b.len() == 32))
}

fn login_cookie_header(value: &str, secure: bool, remove: bool) -> HeaderValue {
    let mut cookie = Cookie::build((login_cookie_name(secure), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build();
    if remove {
        cookie.make_removal();
    }
    HeaderValue::from_str(&cookie.to_string()).expect("a cookie of base64url and fixed attributes is a valid header")
}

/// The key the sign-in tokens are signed with (made by a migration).
async fn login_key(db: impl PgExecutor<'_>) -> Result<Vec<u8>, AppError> {
    Ok(sqlx::query_scalar!("SELECT key FROM server_keys WHERE name = 'login_csrf'").fetch_one(db).await?)
}

fn mac(key: &[u8], cookie: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"standardise sign-in form\0");
    mac.update(cookie.as_bytes());
    mac
}

/// Whether `provided` is the HMAC of the cookie's value (compared in constant time).
fn login_token_ok(key: &[u8], cookie: &str, provided: &str) -> bool {
    URL_SAFE_NO_PAD.decode(provided).is_ok_and(|tag| mac(key, cookie).verify_slice(&tag).is_ok())
}

/// The sign-in form's token, and the cookie to set when the browser has none yet.
pub struct LoginToken {
    /// The value of the form's hidden `csrf` field.
    pub form_token: String,
    /// `Set-Cookie` for a new sign-in cookie, if one was made.
    pub set_cookie: Option<HeaderValue>,
}

/// The token for a sign-in form shown to this browser: the HMAC of its
/// sign-in cookie, made (and to be set) if it has none.
pub async fn login_token(db: impl PgExecutor<'_>, headers: &HeaderMap, secure: bool) -> Result<LoginToken, AppError> {
    let (value, set_cookie) = match login_cookie(headers, secure) {
        Some(value) => (value, None),
        None => {
            let value = random_value();
            let header = login_cookie_header(&value, secure, false);
            (value, Some(header))
        }
    };
    let key = login_key(db).await?;
    Ok(LoginToken { form_token: URL_SAFE_NO_PAD.encode(mac(&key, &value).finalize().into_bytes()), set_cookie })
}

/// `Set-Cookie` that removes the sign-in cookie (once signed in, the session's token takes over).
pub fn clear_login_cookie(secure: bool) -> HeaderValue {
    login_cookie_header("", secure, true)
}

async fn multipart_field(bytes: Bytes, content_type: &str) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

/// Middleware: refuses unsafe requests whose token is missing or wrong. The
/// body is read (within the upload limit) and handed on unchanged.
pub async fn verify(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, AppError> {
    if request.method().is_safe() {
        return Ok(next.run(request).await);
    }
    let session = request
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("CSRF check without a session layer")))?;
    let expected = session.get::<String>(CSRF_KEY).await.map_err(session_error)?;
    // The sign-in form may instead carry the signed-out token, with its cookie.
    let secure = state.config.secure_cookies;
    let login_cookie = if request.uri().path() == LOGIN_PATH { login_cookie(request.headers(), secure) } else { None };
    if expected.is_none() && login_cookie.is_none() {
        return Err(AppError::Csrf);
    }

    let (provided, request) = if let Some(value) = request.headers().get(HEADER) {
        (value.to_str().ok().map(str::to_owned), request)
    } else {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, state.config.upload_limit).await.map_err(|_| {
            AppError::PayloadTooLarge(format!(
                "What you sent is larger than the {} MB standardise accepts.",
                state.config.upload_limit / (1024 * 1024)
            ))
        })?;
        let provided = if content_type.starts_with("application/x-www-form-urlencoded") {
            form_urlencoded::parse(&bytes).find(|(k, _)| k == FIELD).map(|(_, v)| v.into_owned())
        } else if content_type.starts_with("multipart/form-data") {
            multipart_field(bytes.clone(), &content_type).await
        } else {
            None
        };
        (provided, Request::from_parts(parts, Body::from(bytes)))
    };
    let Some(provided) = provided.filter(|p| !p.is_empty()) else {
        return Err(AppError::Csrf);
    };
    let session_ok = expected.is_some_and(|e| matches(provided.as_bytes(), &e));
    let login_ok = match (&login_cookie, session_ok) {
        (Some(cookie), false) => login_token_ok(&login_key(&state.db).await?, cookie, &provided),
        _ => false,
    };
    if session_ok || login_ok { Ok(next.run(request).await) } else { Err(AppError::Csrf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_token_is_the_hmac_of_that_cookie_under_that_key() {
        let key = [7u8; 32];
        let cookie = random_value();
        let token = URL_SAFE_NO_PAD.encode(mac(&key, &cookie).finalize().into_bytes());
        assert!(login_token_ok(&key, &cookie, &token));
        assert!(!login_token_ok(&key, &random_value(), &token), "another cookie");
        assert!(!login_token_ok(&[8u8; 32], &cookie, &token), "another key");
        assert!(!login_token_ok(&key, &cookie, &cookie), "the cookie itself is not the token");
        assert!(!login_token_ok(&key, &cookie, ""));
        assert!(!login_token_ok(&key, &cookie, "not base64!"));
    }

    #[test]
    fn the_sign_in_cookie_is_read_only_when_well_formed() {
        let value = random_value();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("a=b; standardise_login={value}; c=d")).unwrap());
        assert_eq!(login_cookie(&headers, false), Some(value.clone()));
        assert_eq!(login_cookie(&headers, true), None, "over https only the __Host- cookie counts");
        headers.insert(header::COOKIE, HeaderValue::from_static("standardise_login=short"));
        assert_eq!(login_cookie(&headers, false), None);
    }

    #[test]
    fn the_sign_in_cookie_is_strict_and_http_only() {
        let set = login_cookie_header("v", true, false);
        let set = set.to_str().unwrap();
        assert!(set.starts_with("__Host-standardise_login=v"), "{set}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(set.contains(attribute), "{set}");
        }
        let removal = clear_login_cookie(false);
        assert!(removal.to_str().unwrap().contains("Max-Age=0"), "{removal:?}");
    }
}
