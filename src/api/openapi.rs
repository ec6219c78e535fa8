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

/// Schemas of types whose files this module may not change yet: each real
/// type's schema is its twin's below. Once the real type derives `ToSchema`
/// itself, delete its twin and its line in `described_by!`.
macro_rules! described_by {
    ($($real:ty => $twin:ty),+ $(,)?) => {$(
        impl PartialSchema for $real {
            fn schema() -> RefOr<Schema> {
                <$twin as PartialSchema>::schema()
            }
        }

        impl ToSchema for $real {
            fn name() -> Cow<'static, str> {
                <$twin as ToSchema>::name()
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$twin as ToSchema>::schemas(schemas)
            }
        }
    )+};
}

described_by!(
    crate::papers::import::SchemeUpload => twins::SchemeUpload,
    crate::papers::store::PaperSummary => twins::PaperSummary,
    crate::scripts::store::SavedScript => twins::SavedScript,
    crate::scripts::store::SavedResponse => twins::SavedResponse,
    crate::marking::store::StoredMark => twins::StoredMark,
    crate::marking::store::NamedMark => twins::NamedMark,
    crate::qualification::store::Entry => twins::Entry,
    crate::qualification::store::SetScore => twins::SetScore,
    crate::qualification::store::SeedResult => twins::SeedResult,
    crate::qualification::store::Outcome => twins::Outcome,
    crate::living::store::Referral => twins::Referral,
    crate::living::store::QualificationAffected => twins::QualificationAffected,
    crate::living::store::RecordEntry => twins::RecordEntry,
    crate::living::amend::Amendment => twins::Amendment,
    crate::living::impact::Affected => twins::Affected,
    crate::audit::Logged => twins::Logged,
);

/// Field-for-field twins of types outside the API's files (the names, types,
/// and serde attributes that change the JSON are the real ones').
#[allow(dead_code)]
pub mod twins {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;
    use time::OffsetDateTime;
    use utoipa::ToSchema;
    use uuid::Uuid;

    use crate::{
        living::amend::Kind,
        marking::{MarkState, annotations::Annotation, rules::Part},
        markscheme::Scheme,
        papers::PaperId,
        qualification::rules::QualState,
        scripts::{ResponseId, ScriptId},
        users::UserId,
    };

    /// `papers::import::SchemeUpload`: the JSON `markscheme parse` prints, with the board at the top level too.
    #[derive(Deserialize, ToSchema)]
    pub struct SchemeUpload {
        /// The scheme.
        #[serde(flatten)]
        pub scheme: Scheme,
        /// The exam board, if not inside `paper`.
        #[serde(default)]
        pub board: Option<String>,
    }

    /// `papers::store::PaperSummary`: a row of the papers list.
    #[derive(Serialize, ToSchema)]
    pub struct PaperSummary {
        /// Id.
        pub id: PaperId,
        /// Exam board.
        pub board: String,
        /// Code, e.g. HIS2L.
        pub code: String,
        /// Title.
        pub title: String,
        /// Series, e.g. January 2011.
        pub series: String,
        /// How many questions.
        pub questions: i64,
        /// How many candidate scripts.
        pub scripts: i64,
        /// When it was saved.
        pub created_at: OffsetDateTime,
    }

    /// `scripts::store::SavedScript`: a saved script with the ids of its responses.
    #[derive(Serialize, ToSchema)]
    pub struct SavedScript {
        /// Script id.
        pub id: ScriptId,
        /// Candidate number.
        pub candidate: String,
        /// Response ids with their question numbers.
        pub responses: Vec<crate::scripts::store::SavedResponse>,
    }

    /// `scripts::store::SavedResponse`: a saved response's id.
    #[derive(Serialize, ToSchema)]
    pub struct SavedResponse {
        /// Response id.
        pub id: ResponseId,
        /// Question number.
        pub question: String,
    }

    /// `marking::store::StoredMark`: an examiner's stored mark.
    #[derive(Serialize, ToSchema)]
    pub struct StoredMark {
        /// Whose.
        pub examiner_id: UserId,
        /// Level (None for questions not marked by levels).
        pub level: Option<i32>,
        /// Mark (for a question marked per objective, the sum of its parts).
        pub mark: i32,
        /// The level and mark per objective, for a question marked on separate grids.
        pub parts: Vec<Part>,
        /// The examiner's annotations on the answer.
        pub annotations: Vec<Annotation>,
        /// Rationale comment.
        pub comment: String,
        /// Ids of the indicative-content points credited.
        pub credited: Vec<Uuid>,
        /// Draft or submitted.
        pub state: MarkState,
        /// Edit version, for detecting stale edits.
        pub version: i32,
        /// Last change.
        pub updated_at: OffsetDateTime,
    }

    /// `marking::store::NamedMark`: a mark with the examiner's name.
    #[derive(Serialize, ToSchema)]
    pub struct NamedMark {
        /// The response it is on.
        pub response_id: ResponseId,
        /// The mark.
        #[serde(flatten)]
        pub mark: crate::marking::store::StoredMark,
        /// Examiner's email.
        pub email: String,
        /// Examiner's name.
        pub name: String,
    }

    /// `qualification::store::Entry`: one marker's qualification.
    #[derive(Serialize, ToSchema)]
    pub struct Entry {
        /// Who.
        pub email: String,
        /// Name.
        pub name: String,
        /// Where they stand.
        pub state: QualState,
        /// The set they are on.
        pub current_set: Option<i32>,
        /// Their results, set by set.
        pub sets: Vec<crate::qualification::store::SetScore>,
        /// Who decided.
        pub decided_by: Option<String>,
        /// Why.
        pub reason: Option<String>,
        /// Seeds call for a check (2 of the last 3 out of tolerance).
        pub seed_flag: bool,
        /// Their completed seeds, newest first.
        pub seeds: Vec<crate::qualification::store::SeedResult>,
        /// Seeds given but not yet marked.
        pub seeds_pending: i64,
    }

    /// `qualification::store::SetScore`: a marker's result on one set.
    #[derive(Serialize, ToSchema)]
    pub struct SetScore {
        /// The set.
        pub set: i32,
        /// Scripts within tolerance on every response.
        pub within_tolerance: i32,
        /// Scripts in the set.
        pub of: i32,
        /// Total absolute deviation.
        pub total_deviation: i32,
        /// Whether the rule was met.
        pub passed: bool,
    }

    /// `qualification::store::SeedResult`: a completed seed, as evidence.
    #[derive(Serialize, ToSchema)]
    pub struct SeedResult {
        /// Candidate.
        pub candidate: String,
        /// Within tolerance on every response.
        pub within: bool,
        /// Total absolute deviation.
        pub deviation: i32,
        /// When they submitted it.
        pub completed_at: OffsetDateTime,
    }

    /// `qualification::store::Outcome`: a response of a submitted set, as its examiner sees the outcome.
    #[derive(Serialize, ToSchema)]
    pub struct Outcome {
        /// The set.
        pub set: i32,
        /// Response id.
        pub response_id: ResponseId,
        /// Candidate.
        pub candidate: String,
        /// Question number.
        pub question: String,
        /// Their mark.
        pub mark: i32,
        /// The definitive mark.
        pub definitive: i32,
        /// The principal examiner's rationale.
        pub rationale: String,
        /// Mark − definitive.
        pub difference: i32,
        /// The question's tolerance.
        pub tolerance: i32,
        /// Within tolerance.
        pub within: bool,
    }

    /// `living::store::Referral`: a referral as listed.
    #[derive(Serialize, ToSchema)]
    pub struct Referral {
        /// Id.
        pub id: Uuid,
        /// The response it is about.
        pub response_id: ResponseId,
        /// Candidate.
        pub candidate: String,
        /// Question number.
        pub question_number: String,
        /// What the examiner asked.
        pub question: String,
        /// open, passed_up or answered.
        pub state: String,
        /// The answer.
        pub answer: Option<String>,
        /// Who asked.
        pub asked_by: String,
        /// Who answered.
        pub answered_by: Option<String>,
        /// The amendment the answer made, if any.
        pub amendment_id: Option<Uuid>,
        /// When asked.
        pub created_at: OffsetDateTime,
    }

    /// `living::store::QualificationAffected`: an examiner judged on a set that uses an amended question.
    #[derive(Serialize, ToSchema)]
    pub struct QualificationAffected {
        /// The meeting.
        pub meeting: String,
        /// Who.
        pub email: String,
        /// Their name.
        pub name: String,
        /// The set.
        pub set: i32,
        /// Whether they passed it.
        pub passed: bool,
    }

    /// `living::store::RecordEntry`: one entry of a meeting's record.
    #[derive(Serialize, ToSchema)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum RecordEntry {
        /// An adjudication.
        Ruling {
            /// When.
            at: OffsetDateTime,
            /// Candidate.
            candidate: String,
            /// Question.
            question: String,
            /// Marks at that moment.
            marks: Value,
            /// Definitive mark before.
            definitive_before: Option<Value>,
            /// Definitive mark after.
            definitive_after: Value,
            /// The scheme version the amendment this ruling led to made, if any.
            amended_version: Option<i32>,
            /// Who ruled.
            by: Option<String>,
        },
        /// An amendment of the scheme.
        Amendment {
            /// When.
            at: OffsetDateTime,
            /// The version it made.
            version: i32,
            /// Question.
            question: String,
            /// Kind.
            kind: String,
            /// Level, for descriptors.
            level: Option<i32>,
            /// The text.
            text: String,
            /// Why.
            reason: String,
            /// Who.
            by: Option<String>,
        },
    }

    /// `living::amend::Amendment`: an amendment as asked for.
    #[derive(Deserialize, ToSchema)]
    pub struct Amendment {
        /// The question's number, e.g. "01".
        pub question: String,
        /// What it changes.
        pub kind: Kind,
        /// The level, for a descriptor.
        #[serde(default)]
        pub level: Option<i32>,
        /// The new point, descriptor or note.
        pub text: String,
        /// Why.
        pub reason: String,
    }

    /// `living::impact::Affected`: one examiner whose outcome would change.
    #[derive(Serialize, ToSchema)]
    pub struct Affected {
        /// Their email.
        pub email: String,
        /// Their name.
        pub name: String,
        /// Their submitted mark on the response.
        pub mark: i32,
        /// Within tolerance of the definitive mark as it is.
        pub within_before: bool,
        /// Within tolerance of the proposed one.
        pub within_after: bool,
        /// For a qualification script: the set, and whether it was passed before and would be after.
        pub set: Option<i32>,
        /// See `set`.
        pub passed_before: Option<bool>,
        /// See `set`.
        pub passed_after: Option<bool>,
    }

    /// `audit::meeting_log::Logged`: an audit entry as read back.
    #[derive(Serialize, ToSchema)]
    pub struct Logged {
        /// Sequence number.
        pub id: i64,
        /// When.
        pub at: OffsetDateTime,
        /// Who (email).
        pub actor: Option<String>,
        /// Who (name).
        pub actor_name: Option<String>,
        /// What.
        pub action: String,
        /// Which response.
        pub response_id: Option<Uuid>,
        /// Candidate and question of that response, e.g. "0001 / 02".
        pub response_label: Option<String>,
        /// Whose mark (email).
        pub subject: Option<String>,
        /// Whose mark (name).
        pub subject_name: Option<String>,
        /// Before.
        pub old_value: Option<Value>,
        /// After.
        pub new_value: Option<Value>,
        /// Why.
        pub reason: Option<String>,
    }
}
