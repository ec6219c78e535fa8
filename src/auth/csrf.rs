//! CSRF protection for every state-changing page request: the synchronizer
//! token pattern. The token lives in the session; forms carry it in a hidden
//! `csrf` field (urlencoded or multipart), htmx requests in `X-CSRF-Token`.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::{auth::extract::session_error, error::AppError, state::AppState};

const CSRF_KEY: &str = "csrf";
/// The form field and header that carry the token.
pub const FIELD: &str = "csrf";
const HEADER: &str = "x-csrf-token";

/// The session's token, made on first use.
pub async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await.map_err(session_error)? {
        return Ok(token);
    }
    renew(session).await
}

/// A fresh token, e.g. after signing in.
pub async fn renew(session: &Session) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    session.insert(CSRF_KEY, &token).await.map_err(session_error)?;
    Ok(token)
}

fn matches(provided: &[u8], expected: &str) -> bool {
    provided.ct_eq(expected.as_bytes()).into()
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
    let Some(expected) = session.get::<String>(CSRF_KEY).await.map_err(session_error)? else {
        return Err(AppError::Csrf);
    };
    if let Some(value) = request.headers().get(HEADER) {
        return if matches(value.as_bytes(), &expected) { Ok(next.run(request).await) } else { Err(AppError::Csrf) };
    }
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
    match provided {
        Some(token) if matches(token.as_bytes(), &expected) => Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await),
        _ => Err(AppError::Csrf),
    }
}
