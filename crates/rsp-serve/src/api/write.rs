//! Write endpoints. Each takes a [`Caller`] (401 without a valid token), checks its role
//! (403), and only then parses the body, so the auth matrix does not depend on what is
//! posted. Every record written is also appended to the audit ledger through the
//! [`crate::hooks::AuditLog`] hook, as the CLI does.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Days, NaiveDate, Utc};
use rsp_ledger::LeafKind;
use rsp_policy::SafeguardEvidence;
use rsp_store::prelude::*;
use rsp_store::{AttestationRecord, DecisionStatus, SignatureRecord};
use serde_json::{Map, Value, json};

use super::types::{
    AttestationInfo, AttestationRequest, SignatureRequest, SignatureResult, StartRunRequest,
};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ErrorCode};
use crate::extract::P;
use crate::hooks::AuditEntry;
use crate::state::AppState;
use crate::{signoff, view};
use axum::body::Bytes;

/// Who may record an attestation.
pub const ATTEST_ROLES: &[Role] = &[Role::Rso, Role::Admin];
/// Who may submit a signature.
pub const SIGN_ROLES: &[Role] = &[Role::Rso, Role::Admin];
/// Who may start a run.
pub const RUN_ROLES: &[Role] = &[Role::Evaluator, Role::Rso, Role::Admin];

fn meta<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

async fn audit(
    s: &AppState,
    kind: LeafKind,
    artifact: Value,
    meta: Map<String, Value>,
) -> Result<(), ApiError> {
    s.hooks()
        .audit
        .append(AuditEntry {
            kind,
            artifact,
            meta,
        })
        .await
        .map_err(|e| {
            ApiError::internal(
                "appending to the audit ledger",
                &*Box::<dyn std::error::Error>::from(e),
            )
        })
}

/// Parses a JSON body after the role check, so a caller without the role learns nothing
/// about what the endpoint accepts.
fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub(crate) async fn attest(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<AttestationInfo>), ApiError> {
    caller.require(ATTEST_ROLES)?;
    let req: AttestationRequest = parse(&body)?;
    let loaded = s.require_policy()?;
    let policy = &loaded.policy;
    let sg = policy
        .standards
        .iter()
        .flat_map(|st| &st.safeguards)
        .find(|sg| sg.id == req.safeguard)
        .ok_or_else(|| {
            ApiError::unprocessable(format!("the policy has no safeguard `{}`", req.safeguard))
        })?;
    let (role, valid_days) = match &sg.evidence {
        SafeguardEvidence::Attestation { by, valid_days } => (by.as_str(), *valid_days),
        SafeguardEvidence::Metric { suite, metric, .. } => {
            return Err(ApiError::unprocessable(format!(
                "safeguard `{}` is proven by a measured metric ({suite}: {metric}), not an attestation",
                req.safeguard
            )));
        }
    };
    if req.by_role != role {
        return Err(ApiError::unprocessable(format!(
            "safeguard `{}` must be attested by role `{role}`, not `{}`",
            req.safeguard, req.by_role
        )));
    }
    if !is_sha256_hex(&req.evidence_sha256) {
        return Err(ApiError::unprocessable(
            "evidence_sha256 must be 64 lowercase hex digits",
        ));
    }
    let today = Utc::now().date_naive();
    let latest = today
        .checked_add_days(Days::new(u64::from(valid_days)))
        .ok_or_else(|| ApiError::unprocessable("expiry date out of range"))?;
    let expires = match req.expires.as_deref() {
        None => latest,
        Some(text) => {
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| ApiError::unprocessable("expires must be YYYY-MM-DD"))?;
            if d > latest {
                return Err(ApiError::unprocessable(format!(
                    "expires {d} is beyond the policy's {valid_days}-day validity (at most {latest})"
                )));
            }
            if d < today {
                return Err(ApiError::unprocessable(format!(
                    "expires {d} is in the past"
                )));
            }
            d
        }
    };
    let record = AttestationRecord {
        id: rsp_store::new_id(),
        safeguard: req.safeguard.clone(),
        evidence_sha256: req.evidence_sha256,
        evidence_path: req.evidence_path,
        by_role: req.by_role.clone(),
        created_at: Utc::now(),
        expires,
    };
    s.store().insert_attestation(&record).await?;
    let artifact = serde_json::to_value(&record).map_err(|e| ApiError::internal("encoding", &e))?;
    audit(
        &s,
        LeafKind::Attestation,
        artifact,
        meta([
            ("id", record.id.clone().into()),
            ("safeguard", record.safeguard.clone().into()),
            ("by", record.by_role.clone().into()),
            ("via", format!("api:{}", caller.role).into()),
        ]),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(AttestationInfo {
            id: record.id,
            safeguard: record.safeguard,
            evidence_sha256: record.evidence_sha256,
            evidence_path: record.evidence_path,
            by_role: record.by_role,
            created_at: record.created_at,
            expires: record.expires.to_string(),
        }),
    ))
}

pub(crate) async fn sign(
    State(s): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<SignatureResult>), ApiError> {
    caller.require(SIGN_ROLES)?;
    let req: SignatureRequest = parse(&body)?;
    let loaded = s.require_policy()?;
    let decision = s
        .store()
        .get_decision(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("decision", &id))?;
    if decision.status == DecisionStatus::Final {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("decision {id} is already final; final decisions never change"),
        ));
    }
    let info = view::decision_info(&s, Some(&loaded.policy), decision.clone()).await?;
    if !info.required_signers.contains(&req.role) {
        return Err(ApiError::unprocessable(format!(
            "role `{}` does not sign {} decisions under the policy (signers: {})",
            req.role,
            info.action,
            info.required_signers.join(", ")
        )));
    }
    // Only the newest key registered for the role may sign; older ones are retired.
    let newest = s
        .store()
        .list_keys(Some(&req.role))
        .await?
        .pop()
        .ok_or_else(|| {
            ApiError::unprocessable(format!("role `{}` has no registered key", req.role))
        })?;
    if newest.public_key != req.public_key {
        return Err(ApiError::unprocessable(format!(
            "public_key is not the key registered for role `{}`",
            req.role
        )));
    }
    if !signoff::verifies(&decision, &req.role, &req.public_key, &req.signature) {
        return Err(ApiError::unprocessable(
            "the signature does not verify over this decision's sign-off message for this role",
        ));
    }
    let already = info
        .signatures
        .iter()
        .any(|x| x.role == req.role && x.public_key == req.public_key);
    if !already {
        let record = SignatureRecord {
            decision_id: decision.id.clone(),
            role: req.role.clone(),
            public_key: req.public_key.clone(),
            signature: req.signature.clone(),
            signed_at: Utc::now(),
        };
        s.store().insert_signature(&record).await?;
        let mut artifact =
            serde_json::to_value(&record).map_err(|e| ApiError::internal("encoding", &e))?;
        if let (Value::Object(m), Some(msg)) =
            (&mut artifact, signoff::signed_message(&decision, &req.role))
        {
            m.insert(
                "message_sha256".into(),
                rsp_ledger::sha256(&msg).to_hex().into(),
            );
        }
        audit(
            &s,
            LeafKind::Signature,
            artifact,
            meta([
                ("id", decision.id.clone().into()),
                ("role", req.role.clone().into()),
                ("via", format!("api:{}", caller.role).into()),
            ]),
        )
        .await?;
    }
    let after = view::decision_info(&s, Some(&loaded.policy), decision.clone()).await?;
    let mut status = DecisionStatus::Draft;
    if after.missing_signers.is_empty() {
        s.store()
            .set_decision_status(&decision.id, DecisionStatus::Final)
            .await?;
        status = DecisionStatus::Final;
        let mut final_record = decision.clone();
        final_record.status = DecisionStatus::Final;
        audit(
            &s,
            LeafKind::Decision,
            json!({
                "decision": final_record,
                "required_signers": after.required_signers,
                "missing_signers": after.missing_signers,
                "signatures": after.signatures,
            }),
            meta([
                ("id", decision.id.clone().into()),
                ("status", "final".into()),
            ]),
        )
        .await?;
    }
    Ok((
        if already {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(SignatureResult {
            decision_id: decision.id,
            role: req.role,
            status: status.as_str().to_owned(),
            missing_signers: after.missing_signers,
        }),
    ))
}

pub(crate) async fn start_run(caller: Caller, body: Bytes) -> Result<Json<Value>, ApiError> {
    caller.require(RUN_ROLES)?;
    let _req: StartRunRequest = parse(&body)?;
    Err(ApiError::new(
        ErrorCode::NotImplemented,
        "starting runs from the server is not available yet; run `rsp eval SUITE --model M` \
         (its progress appears under Live runs)",
    ))
}
