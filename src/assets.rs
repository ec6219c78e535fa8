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
];

/// `GET /static/{file}`.
pub async fn serve_static(Path(file): Path<String>) -> Result<Response, AppError> {
    let (_, content_type, body) = FILES.iter().find(|(name, _, _)| *name == file).ok_or_else(|| AppError::not_found("That file"))?;
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    Ok(response)
}
