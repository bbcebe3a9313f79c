//! The JSON API under `/api/v1`.
//!
//! [`endpoints`] is the single list of API routes: each entry carries its handler *and*
//! its documentation (parameters, body and response types, roles). The router and the
//! OpenAPI document are both built from it, so a route cannot exist undocumented, and the
//! conformance test checks the document against live responses.

pub(crate) mod read;
pub mod types;
pub(crate) mod write;

use axum::routing::{MethodRouter, get, post};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::auth::Role;
use crate::state::AppState;

/// Builds a JSON Schema (a `$ref` into the components) for a type.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(crate) fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
}

/// A documented parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub location: In,
    pub required: bool,
    /// JSON Schema type: `string`, `integer`, `number`.
    pub ty: &'static str,
    pub description: &'static str,
}

const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: In::Path,
        required: true,
        ty: "string",
        description,
    }
}

const fn query(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: In::Query,
        required: false,
        ty,
        description,
    }
}

/// What a successful response is.
#[derive(Clone, Copy)]
pub(crate) enum Body {
    Json(SchemaFn),
    EventStream,
}

/// One documented API route.
#[derive(Clone, Copy)]
pub(crate) struct Endpoint {
    /// `get` or `post`.
    pub method: &'static str,
    /// Axum path syntax, which is also OpenAPI's (`/api/v1/runs/{id}`).
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// Roles allowed; empty for open reads.
    pub roles: &'static [Role],
    pub params: &'static [Param],
    pub request: Option<SchemaFn>,
    pub status: u16,
    pub response: Body,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

const SAMPLE_FILTERS: &[Param] = &[
    path("id", "Run id."),
    query("min_value", "number", "Only samples scoring at least this."),
    query("max_value", "number", "Only samples scoring at most this."),
    query(
        "error",
        "string",
        "`yes`: only errored samples; `no`: only clean ones; `any` (default).",
    ),
    query(
        "meta",
        "string",
        "`field=value`: a top-level metadata field must equal the value (read as JSON when it parses).",
    ),
    query(
        "after",
        "string",
        "Cursor `position.epoch` from the previous page's `next`.",
    ),
    query("limit", "integer", "Page size, 1–500 (default 50)."),
];

/// Every API route with its documentation and handler.
pub(crate) fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    use types::*;
    let e = |method, path, operation_id, summary| Endpoint {
        method,
        path,
        operation_id,
        summary,
        roles: &[],
        params: const { &[] },
        request: None,
        status: 200,
        response: Body::Json(schema_of::<serde_json::Value>),
    };
    vec![
        (
            Endpoint {
                response: Body::Json(schema_of::<Health>),
                ..e("get", "/api/v1/health", "health", "Liveness and version.")
            },
            get(read::health),
        ),
        (
            Endpoint {
                response: Body::Json(schema_of::<Vec<ModelStatus>>),
                ..e(
                    "get",
                    "/api/v1/overview",
                    "overview",
                    "One row per model: required standard, safeguards, decision, nearest line, next assessment.",
                )
            },
            get(read::overview),
        ),
        (
            Endpoint {
                response: Body::Json(schema_of::<Vec<ModelInfo>>),
                ..e("get", "/api/v1/models", "listModels", "Registered models.")
            },
            get(read::models),
        ),
        (
            Endpoint {
                params: const { &[path("name", "Model name.")] },
                response: Body::Json(schema_of::<ModelDetail>),
                ..e(
                    "get",
                    "/api/v1/models/{name}",
                    "getModel",
                    "A model's thresholds, history and assessments.",
                )
            },
            get(read::model),
        ),
        (
            Endpoint {
                params: const { &[path("id", "Assessment id.")] },
                ..e(
                    "get",
                    "/api/v1/assessments/{id}",
                    "getAssessment",
                    "The full assessment report (the rsp-assess JSON report).",
                )
            },
            get(read::assessment),
        ),
        (
            Endpoint {
                params: const {
                    &[
                        query("model", "string", "Only runs of this provider spec."),
                        query("status", "string", "Only runs in this status."),
                        query(
                            "limit",
                            "integer",
                            "At most this many, newest first (default 100).",
                        ),
                    ]
                },
                response: Body::Json(schema_of::<Vec<RunInfo>>),
                ..e("get", "/api/v1/runs", "listRuns", "Runs, newest first.")
            },
            get(read::runs),
        ),
        (
            Endpoint {
                roles: write::RUN_ROLES,
                request: Some(schema_of::<StartRunRequest>),
                status: 501,
                response: Body::Json(schema_of::<crate::error::ErrorBody>),
                ..e(
                    "post",
                    "/api/v1/runs",
                    "startRun",
                    "Start a run (not available yet: answers 501 after the role check).",
                )
            },
            post(write::start_run),
        ),
        (
            Endpoint {
                params: const { &[path("id", "Run id.")] },
                response: Body::Json(schema_of::<RunInfo>),
                ..e("get", "/api/v1/runs/{id}", "getRun", "One run.")
            },
            get(read::run),
        ),
        (
            Endpoint {
                params: SAMPLE_FILTERS,
                response: Body::Json(schema_of::<SamplePage>),
                ..e(
                    "get",
                    "/api/v1/runs/{id}/samples",
                    "listSamples",
                    "A page of a run's samples (keyset pagination, filters).",
                )
            },
            get(read::samples),
        ),
        (
            Endpoint {
                params: const {
                    &[
                        path("id", "Run id."),
                        path("sample", "Sample id."),
                        Param {
                            ty: "integer",
                            ..path("epoch", "Epoch, from 0.")
                        },
                    ]
                },
                response: Body::Json(schema_of::<SampleDetail>),
                ..e(
                    "get",
                    "/api/v1/runs/{id}/samples/{sample}/{epoch}",
                    "getSample",
                    "One sample with its transcript, scores and judge output.",
                )
            },
            get(read::sample),
        ),
        (
            Endpoint {
                params: const {
                    &[
                        Param {
                            required: true,
                            ..query("a", "string", "Run A.")
                        },
                        Param {
                            required: true,
                            ..query("b", "string", "Run B.")
                        },
                    ]
                },
                response: Body::Json(schema_of::<Comparison>),
                ..e(
                    "get",
                    "/api/v1/compare",
                    "compareRuns",
                    "Two runs paired on sample id, with paired statistics.",
                )
            },
            get(read::compare),
        ),
        (
            Endpoint {
                response: Body::Json(schema_of::<PolicyInfo>),
                ..e("get", "/api/v1/policy", "getPolicy", "The policy in force.")
            },
            get(read::policy),
        ),
        (
            Endpoint {
                response: Body::Json(schema_of::<Vec<PolicyVersion>>),
                ..e(
                    "get",
                    "/api/v1/policy/versions",
                    "listPolicyVersions",
                    "Policy versions recorded in the ledger.",
                )
            },
            get(read::policy_versions),
        ),
        (
            Endpoint {
                params: const {
                    &[
                        Param {
                            required: true,
                            ..query("from", "integer", "Ledger index of the old version.")
                        },
                        Param {
                            required: true,
                            ..query("to", "integer", "Ledger index of the new version.")
                        },
                    ]
                },
                response: Body::Json(schema_of::<PolicyDiff>),
                ..e(
                    "get",
                    "/api/v1/policy/diff",
                    "diffPolicy",
                    "Semantic diff between two policy versions, weakening flagged.",
                )
            },
            get(read::policy_diff),
        ),
        (
            Endpoint {
                params: const {
                    &[
                        query(
                            "before",
                            "integer",
                            "Entries with a lower index (for older pages).",
                        ),
                        query("limit", "integer", "Page size, 1–500 (default 50)."),
                    ]
                },
                response: Body::Json(schema_of::<LedgerPage>),
                ..e(
                    "get",
                    "/api/v1/ledger",
                    "ledger",
                    "Ledger entries, newest first, and the latest checkpoint.",
                )
            },
            get(read::ledger),
        ),
        (
            Endpoint {
                response: Body::Json(schema_of::<crate::hooks::VerifySummary>),
                ..e(
                    "get",
                    "/api/v1/ledger/verify",
                    "verifyLedger",
                    "Verify every leaf, artifact and checkpoint now.",
                )
            },
            get(read::verify),
        ),
        (
            Endpoint {
                params: const { &[query("model", "string", "Only decisions about this model.")] },
                response: Body::Json(schema_of::<Vec<DecisionInfo>>),
                ..e(
                    "get",
                    "/api/v1/decisions",
                    "listDecisions",
                    "Decisions with their signatures, each re-verified.",
                )
            },
            get(read::decisions),
        ),
        (
            Endpoint {
                params: const { &[path("id", "Decision id.")] },
                roles: write::SIGN_ROLES,
                request: Some(schema_of::<SignatureRequest>),
                status: 201,
                response: Body::Json(schema_of::<SignatureResult>),
                ..e(
                    "post",
                    "/api/v1/decisions/{id}/signatures",
                    "submitSignature",
                    "Submit a role's Ed25519 signature on a draft decision; the decision becomes final when every required role has signed.",
                )
            },
            post(write::sign),
        ),
        (
            Endpoint {
                roles: write::ATTEST_ROLES,
                request: Some(schema_of::<AttestationRequest>),
                status: 201,
                response: Body::Json(schema_of::<AttestationInfo>),
                ..e(
                    "post",
                    "/api/v1/attestations",
                    "attest",
                    "Record that a safeguard is in place, with the evidence's digest.",
                )
            },
            post(write::attest),
        ),
        (
            Endpoint {
                response: Body::Json(schema_of::<Vec<LiveRun>>),
                ..e(
                    "get",
                    "/api/v1/live",
                    "liveRuns",
                    "Runs in flight and their progress.",
                )
            },
            get(read::live),
        ),
        (
            Endpoint {
                response: Body::EventStream,
                ..e(
                    "get",
                    "/api/v1/live/events",
                    "liveEvents",
                    "Server-sent events: a `progress` event with the runs in flight, every poll interval.",
                )
            },
            get(crate::live::events),
        ),
        (
            Endpoint {
                ..e("get", "/api/v1/openapi.json", "openapi", "This document.")
            },
            get(crate::openapi::handler),
        ),
    ]
}
