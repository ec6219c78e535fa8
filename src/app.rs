//! The application: shared state and the router that production and the tests serve.

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware,
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
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf::verify))
        .layer(sessions);

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
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static("x-request-id")))
        .layer(SetRequestIdLayer::new(HeaderName::from_static("x-request-id"), MakeRequestUuid))
        .with_state(state)
}
