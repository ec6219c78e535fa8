//! Static files, embedded in the binary so it runs from any folder and offline.

use axum::{
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::error::AppError;

const FILES: &[(&str, &str, &str)] = &[
    ("style.css", "text/css; charset=utf-8", include_str!("../static/style.css")),
    ("htmx.min.js", "text/javascript; charset=utf-8", include_str!("../static/htmx.min.js")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../static/app.js")),
    ("marking.js", "text/javascript; charset=utf-8", include_str!("../static/marking.js")),
];

/// A short fingerprint of every embedded file. Pages link to
/// `/static/{file}?v={version}`, so a new build's files get new URLs and the
/// old ones can be cached for a year.
pub fn version() -> &'static str {
    static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for (name, _, body) in FILES {
            hash.update(name.as_bytes());
            hash.update(body.as_bytes());
        }
        hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
    });
    &VERSION
}

/// `GET /static/{file}`.
pub async fn serve_static(Path(file): Path<String>) -> Result<Response, AppError> {
    let (_, content_type, body) = FILES.iter().find(|(name, _, _)| *name == file).ok_or_else(|| AppError::not_found("That file"))?;
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}
