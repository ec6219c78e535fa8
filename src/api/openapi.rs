//! The API's OpenAPI 3 description, made from the code: every route under
//! `/api/v1` is registered through [`super::described`], whose handlers carry
//! `#[utoipa::path]` and whose bodies are the real request and response types
//! (`#[derive(ToSchema)]`), so the document cannot list a route the router
//! does not serve, nor leave one out. Served at `GET /api/v1/openapi.json`.

use std::{borrow::Cow, collections::BTreeMap, sync::LazyLock};

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use utoipa::{
    IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToSchema,
    openapi::{
        self, ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        schema::{ObjectBuilder, Schema, SchemaFormat, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{
    error::ErrorBody,
    meetings::MeetingId,
    papers::PaperId,
    scripts::{ResponseId, ScriptId},
    users::UserId,
};

/// The document: the API's routes under `/api/v1`, `/healthz`, the error
/// responses they share and the bearer-token scheme.
pub fn document() -> openapi::OpenApi {
    let (_, routes) = super::described().split_for_parts();
    ApiDoc::openapi().nest("/api/v1", routes)
}

/// `GET /api/v1/openapi.json`: the document (made once, on first request).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "get_openapi",
    security(()),
    responses((status = 200, description = "This API's OpenAPI 3 description", content_type = "application/json", body = Object)),
)]
pub async fn get_openapi() -> Response {
    static JSON: LazyLock<String> = LazyLock::new(|| document().to_pretty_json().unwrap_or_else(|_| "{}".to_owned()));
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], JSON.as_str()).into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "standardise",
        description = "Exam-marking standardisation meetings, for programs. Send `Authorization: Bearer <token>` \
                       (made on the API tokens page or with `standardise token create`); a token has exactly its \
                       account's rights. Every error answers with the same body, `ErrorBody`, and its HTTP status."
    ),
    paths(healthz),
    components(schemas(ErrorBody)),
    modifiers(&SharedAnswers),
    security(("bearer" = [])),
    tags(
        (name = "account", description = "The token's account"),
        (name = "papers", description = "Papers, their mark schemes and candidate scripts (administrators)"),
        (name = "meetings", description = "Setting up and running a meeting"),
        (name = "marking", description = "Marks, definitive marks, release"),
        (name = "dashboard", description = "Marks, statistics and live events for those who oversee"),
        (name = "qualification", description = "Qualification sets, results, decisions and seeds"),
        (name = "living", description = "Referrals, amendments, scheme versions and the meeting's record"),
        (name = "meta", description = "This document and the health check"),
    )
)]
struct ApiDoc;

/// `GET /healthz` lives outside `/api/v1` (in `health`, for load balancers),
/// but it is in the README's API table, so it is described here too.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    security(()),
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    ),
)]
#[allow(dead_code)]
async fn healthz() {}

/// What `GET /healthz` answers.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Health {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    status: String,
    /// `ok` or `not answering`.
    #[schema(example = "ok")]
    database: String,
}

/// Adds the bearer scheme and the error responses every route refers to.
struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(openapi::Components::new);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token (`standardise token create`, or the API tokens page)"))
                    .build(),
            ),
        );
        for (name, _, description) in ERRORS {
            let mut response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", ContentBuilder::new().schema(Some(ErrorBody::schema_ref())).build());
            match *name {
                "Unauthorized" => {
                    response = response.header("WWW-Authenticate", text_header("Always `Bearer`"));
                }
                "Unavailable" => {
                    response = response.header("Retry-After", seconds_header("When a collision (`busy`) may be sent again at once"));
                }
                _ => {}
            }
            components.responses.insert((*name).to_owned(), RefOr::T(response.build()));
        }
    }
}

fn text_header(description: &str) -> openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::String)).description(Some(description)).build()
}

fn seconds_header(description: &str) -> openapi::header::Header {
    HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::Integer)).description(Some(description)).build()
}

impl ErrorBody {
    fn schema_ref() -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name(<ErrorBody as ToSchema>::name()))
    }
}

/// The error answers, by name: the component response, its status, and when it is given.
const ERRORS: &[(&str, &str, &str)] = &[
    ("BadRequest", "400", "The request cannot be understood: malformed JSON, or a path or query value of the wrong type"),
    ("Unauthorized", "401", "No bearer token, or one that is malformed, unknown or revoked"),
    ("Forbidden", "403", "The token's account may not do this"),
    ("NotFound", "404", "No such thing, or not one the caller may know exists"),
    ("Conflict", "409", "The request conflicts with what is stored: a duplicate, a stale version, or the wrong state"),
    ("PayloadTooLarge", "413", "The body is larger than allowed (2 MB)"),
    ("UnsupportedMediaType", "415", "The body is not `application/json`"),
    ("Invalid", "422", "Understood, but the values are not acceptable; `details` lists each problem"),
    ("Unavailable", "503", "The database is not answering, or the change collided with another (`busy`: send it again)"),
];

/// Declares a marker type per error answer for `responses(...)` in
/// `#[utoipa::path]`: each refers to its shared response in the components.
macro_rules! error_answers {
    ($($name:ident),+ $(,)?) => {$(
        #[doc = concat!("The shared `", stringify!($name), "` error answer, for `responses(...)`.")]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
                let (name, status, _) = ERRORS.iter().find(|(n, ..)| *n == stringify!($name)).copied().unwrap_or_default();
                BTreeMap::from([(status.to_owned(), RefOr::Ref(Ref::from_response_name(name)))])
            }
        }
    )+};
}

error_answers!(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable);

/// The path of a meeting's routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct MeetingPath {
    /// The meeting's id (anything else is answered 404).
    id: MeetingId,
}

/// The path of a response in a meeting.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ResponsePath {
    /// The meeting's id (anything else is answered 404).
    id: MeetingId,
    /// The response's id.
    response_id: ResponseId,
}

/// The path of a paper's routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct PaperPath {
    /// The paper's id.
    id: PaperId,
}

/// Ids are UUIDs in JSON and in paths. (`id_type!` in `db::id` could declare
/// this for each id itself.)
macro_rules! uuid_schemas {
    ($($id:ident),+ $(,)?) => {$(
        impl PartialSchema for $id {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(openapi::KnownFormat::Uuid))).into()
            }
        }

        impl ToSchema for $id {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($id))
            }
        }
    )+};
}

uuid_schemas!(UserId, MeetingId, PaperId, ScriptId, ResponseId);
