//! The application: shared state and the router that production and the tests serve.

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::PostgresStore;

pub use crate::state::AppState;
use crate::{api, assets, auth, dashboard, demo, error, health, home, marking, meetings, papers, scripts, users};

/// No inline script or style anywhere, no framing, no plugins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Builds the whole router with its layers.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let idle = time::Duration::seconds(i64::try_from(config.session_idle.as_secs()).unwrap_or(i64::MAX));
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.db.clone()))
        .with_name("standardise_session")
        .with_secure(config.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(idle));

    // Pages: session cookie and CSRF check. The API has neither: bearer tokens only.
    let pages = Router::new()
        .merge(home::routes())
        .merge(demo::pages::routes())
        .merge(auth::routes())
        .merge(users::admin::routes())
        .merge(papers::routes())
        .merge(scripts::pages::routes())
        .merge(meetings::pages::routes())
        .merge(marking::pages::routes())
        .merge(dashboard::pages::routes())
        .merge(crate::qualification::pages::routes())
        .merge(crate::living::pages::routes())
        // An unknown address is answered inside the session layers, so its
        // error page keeps the signed-in person's navigation.
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf::verify))
        .layer(middleware::from_fn_with_state(state.clone(), crate::web::remember_viewer))
        .layer(sessions)
        .layer(middleware::from_fn(session_store_failed));

    // Layers run outside-in from the bottom: the error renderer sits outside
    // the limits and the timeout so their refusals are rendered like ours.
    Router::new()
        .merge(pages)
        .nest("/api/v1", api::routes())
        .route("/static/{file}", get(assets::serve_static))
        .route("/healthz", get(health::healthz))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(RequestBodyLimitLayer::new(config.upload_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(middleware::from_fn(error::render_errors))
        .layer(CompressionLayer::new())
        // Pages and API answers are never reused from a cache (Back after Submit must not show
        // the old page); static files and scans set their own caching first.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                })
                // A line per request is DEBUG (`RUST_LOG=info,tower_http=debug` shows them): at
                // thousands of saves a second the lines cost more than the saves' own work.
                // Failures log themselves at WARN and ERROR, with the request's span.
                .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static("x-request-id")))
        .layer(SetRequestIdLayer::new(HeaderName::from_static("x-request-id"), MakeRequestUuid))
        .with_state(state)
}

/// Middleware around the session layer. When tower-sessions cannot save a
/// session it answers a bare 500 of its own (no body, no [`error::ErrorInfo`]);
/// its store is the database, so that is the database not answering: a 503
/// like every other outage, not a bug. Our own errors always carry `ErrorInfo`.
async fn session_store_failed(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let bare = response.extensions().get::<error::ErrorInfo>().is_none() && !response.headers().contains_key(header::CONTENT_TYPE);
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR && bare {
        tracing::warn!("the session store failed");
        return error::AppError::Unavailable.into_response();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;
    use tower_sessions::Session;

    /// A page that changes its session, over a session store whose database is gone.
    fn page_over_a_dead_store() -> Router {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(std::time::Duration::from_millis(500))
            .connect_lazy("postgres://nobody@127.0.0.1:1/gone")
            .expect("a lazy pool");
        Router::new()
            .route(
                "/",
                get(|session: Session| async move {
                    session.insert("seen", true).await.expect("a new session is not loaded");
                    "done"
                }),
            )
            .layer(SessionManagerLayer::new(PostgresStore::new(pool)))
    }

    #[tokio::test]
    async fn a_session_that_cannot_be_saved_is_a_503_not_a_500() {
        let request = || Request::get("/").body(Body::empty()).expect("request");
        // tower-sessions alone answers a bare 500 ...
        let bare = page_over_a_dead_store().oneshot(request()).await.expect("response");
        assert_eq!(bare.status(), StatusCode::INTERNAL_SERVER_ERROR);
        // ... which the application answers as the outage it is.
        let wrapped = page_over_a_dead_store().layer(middleware::from_fn(session_store_failed)).oneshot(request()).await.expect("response");
        assert_eq!(wrapped.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(wrapped.extensions().get::<error::ErrorInfo>().map(|i| i.code), Some("unavailable"));
    }
}
