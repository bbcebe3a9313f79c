//! `rsp sign DECISION --role R` and `rsp decisions list|show`: sign-off on decisions.
//!
//! A decision is a draft until every role the policy names as a signer of its kind has
//! signed it; then it is final, and the store freezes it. What a role signs (documented in
//! `docs/governance.md`) is the RFC 8785 canonical JSON of
//!
//! ```json
//! {"decision": <the decision record without its status>, "role": "<role>",
//!  "type": "rsp.decision-signoff/v1"}
//! ```
//!
//! The status is left out because signing is what changes it; the role and a type tag are
//! put in so a signature can be neither replayed under another role nor mistaken for a
//! signature over some other JSON. Signatures are checked, never trusted: `sign` and
//! `decisions list|show` re-verify each one against the public keys registered for its role.

use std::io::Write as _;

use anyhow::{Context as _, Result, bail};
use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use rsp_ledger::LeafKind;
use rsp_policy::{DecisionKind, Policy};
use rsp_store::{
    DecisionAction, DecisionRecord, DecisionStatus, GovernanceStore as _, KeyRecord,
    SignatureRecord, SqliteStore,
};
use serde_json::{Value, json};

use super::key::{
    audit, display, key_path, load_policy, open_store, policy_role, public_hex, read_key, runtime,
};
use crate::cli::{DecisionsCommand, SignArgs};
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

/// The type tag inside every signed message.
pub const SIGNOFF_TYPE: &str = "rsp.decision-signoff/v1";

/// The exact bytes `role` signs for `decision`: see the module docs.
pub fn signed_message(decision: &DecisionRecord, role: &str) -> Result<Vec<u8>> {
    let mut d = serde_json::to_value(decision).context("cannot encode the decision")?;
    if let Value::Object(m) = &mut d {
        m.remove("status");
    }
    let v = json!({"type": SIGNOFF_TYPE, "role": role, "decision": d});
    rsp_ledger::canonical_json(&v).context("the decision holds a non-finite number")
}

/// The policy's decision kind for a stored action.
fn kind(action: DecisionAction) -> DecisionKind {
    match action {
        DecisionAction::Deploy => DecisionKind::Deploy,
        DecisionAction::Train => DecisionKind::Train,
    }
}

/// Finds a decision by id or unique id prefix.
async fn find(store: &SqliteStore, id: &str) -> Result<DecisionRecord> {
    if let Some(d) = store.get_decision(id).await? {
        return Ok(d);
    }
    let mut matches: Vec<DecisionRecord> = store
        .list_decisions(None)
        .await?
        .into_iter()
        .filter(|d| d.id.starts_with(id))
        .collect();
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => bail!("no decision `{id}`; `rsp decisions list` shows them"),
        n => bail!("`{id}` matches {n} decisions; give more of the id"),
    }
}

/// One signature, checked.
#[derive(Debug)]
pub(super) struct Checked {
    pub(super) record: SignatureRecord,
    /// The signature verifies over the signed message under its public key.
    valid: bool,
    /// That public key is registered for the role.
    registered: bool,
}

impl Checked {
    pub(super) fn ok(&self) -> bool {
        self.valid && self.registered
    }

    fn problem(&self) -> Option<&'static str> {
        if !self.registered {
            Some("key not registered for this role")
        } else if !self.valid {
            Some("signature does not verify")
        } else {
            None
        }
    }
}

fn verify(decision: &DecisionRecord, sig: &SignatureRecord, keys: &[KeyRecord]) -> Checked {
    let registered = keys
        .iter()
        .any(|k| k.role == sig.role && k.public_key == sig.public_key);
    let key = hex::decode(&sig.public_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok());
    let signature = hex::decode(&sig.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b));
    let valid = match (key, signature, signed_message(decision, &sig.role)) {
        (Some(k), Some(s), Ok(m)) => k.verify_strict(&m, &s).is_ok(),
        _ => false,
    };
    Checked {
        record: sig.clone(),
        valid,
        registered,
    }
}

/// A decision with its signatures checked against the policy's signers.
pub(super) struct Review {
    pub(super) decision: DecisionRecord,
    pub(super) signatures: Vec<Checked>,
    pub(super) required: Vec<String>,
}

impl Review {
    pub(super) async fn load(
        store: &SqliteStore,
        policy: &Policy,
        decision: DecisionRecord,
    ) -> Result<Self> {
        let keys = store.list_keys(None).await?;
        let signatures = store
            .signatures(&decision.id)
            .await?
            .iter()
            .map(|s| verify(&decision, s, &keys))
            .collect();
        let required = policy
            .signers(kind(decision.action))
            .map(|r| r.id.clone())
            .collect();
        Ok(Self {
            decision,
            signatures,
            required,
        })
    }

    /// Required roles with a valid signature, in policy order.
    pub(super) fn signed(&self) -> Vec<&str> {
        self.required
            .iter()
            .filter(|r| {
                self.signatures
                    .iter()
                    .any(|s| &s.record.role == *r && s.ok())
            })
            .map(String::as_str)
            .collect()
    }

    fn missing(&self) -> Vec<&str> {
        let signed = self.signed();
        self.required
            .iter()
            .map(String::as_str)
            .filter(|r| !signed.contains(r))
            .collect()
    }

    fn all_valid(&self) -> bool {
        self.signatures.iter().all(Checked::ok)
    }

    fn json(&self) -> Value {
        self.json_of(&self.decision)
    }

    /// The review as JSON, with `decision` standing for the reviewed record.
    fn json_of(&self, decision: &DecisionRecord) -> Value {
        json!({
            "decision": decision,
            "required_signers": self.required,
            "missing_signers": self.missing(),
            "signatures": self.signatures.iter().map(|s| json!({
                "role": s.record.role,
                "public_key": s.record.public_key,
                "signature": s.record.signature,
                "signed_at": s.record.signed_at,
                "valid": s.ok(),
                "problem": s.problem(),
            })).collect::<Vec<_>>(),
        })
    }
}

pub fn sign(args: &SignArgs, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    runtime()?.block_on(sign_async(&project, &args.decision, &args.role))
}

async fn sign_async(project: &Project, id: &str, role: &str) -> Result<Code> {
    let policy = load_policy(project)?;
    policy_role(&policy, role)?;
    let store = open_store(project).await?;
    let log = crate::audit::ProjectLog::open(project, &store)?;
    let decision = find(&store, id).await?;
    let k = kind(decision.action);
    let signers: Vec<&str> = policy.signers(k).map(|r| r.id.as_str()).collect();
    if !signers.contains(&role) {
        bail!(
            "role `{role}` does not sign {k} decisions under the policy (signers: {})",
            if signers.is_empty() {
                "none".to_owned()
            } else {
                signers.join(", ")
            }
        );
    }
    if decision.status == DecisionStatus::Final {
        bail!(
            "decision {} is already final; final decisions never change",
            decision.id
        );
    }
    let path = key_path(project, role)?;
    let key = read_key(&path)?;
    let public_key = public_hex(&key);
    // Only the newest key registered for the role may sign; older ones are retired.
    let Some(registered) = store.list_keys(Some(role)).await?.pop() else {
        bail!("role `{role}` has no registered key; its holder runs `rsp key new --role {role}`");
    };
    if registered.public_key != public_key {
        bail!(
            "the key in {} (public {}…) is not the key registered for role `{role}` ({}…); \
             only the holder of the role's key can sign for it",
            display(project, &path),
            &public_key[..16],
            &registered.public_key[..16]
        );
    }
    let mut out = std::io::stdout().lock();
    let already = store
        .signatures(&decision.id)
        .await?
        .into_iter()
        .any(|s| s.role == role && s.public_key == public_key);
    if already {
        writeln!(out, "{role} has already signed decision {}", decision.id)?;
    } else {
        let message = signed_message(&decision, role)?;
        let signature = key.sign(&message);
        let record = SignatureRecord {
            decision_id: decision.id.clone(),
            role: role.to_owned(),
            public_key,
            signature: hex::encode(signature.to_bytes()),
            signed_at: chrono::Utc::now(),
        };
        store.insert_signature(&record).await?;
        // The log keeps the record and the digest of the exact signed bytes, so an auditor
        // can re-check the signature from the log alone.
        let mut artifact = serde_json::to_value(&record)?;
        if let Value::Object(m) = &mut artifact {
            m.insert(
                "message_sha256".into(),
                rsp_ledger::sha256(&message).to_hex().into(),
            );
        }
        audit(
            project,
            &log,
            LeafKind::Signature,
            &artifact,
            crate::audit::meta([("id", decision.id.clone().into()), ("role", role.into())]),
        )
        .await?;
        writeln!(out, "signed decision {} as {role}", decision.id)?;
    }
    let review = Review::load(&store, &policy, decision).await?;
    let missing = review.missing();
    if missing.is_empty() {
        store
            .set_decision_status(&review.decision.id, DecisionStatus::Final)
            .await?;
        let mut final_record = review.decision.clone();
        final_record.status = DecisionStatus::Final;
        audit(
            project,
            &log,
            LeafKind::Decision,
            &review.json_of(&final_record),
            crate::audit::meta([
                ("id", final_record.id.clone().into()),
                ("status", "final".into()),
            ]),
        )
        .await?;
        writeln!(
            out,
            "decision {} is final: signed by {}",
            review.decision.id,
            review.signed().join(", ")
        )?;
    } else {
        writeln!(out, "awaiting signatures: {}", missing.join(", "))?;
    }
    Ok(Code::Ok)
}

pub fn decisions(cmd: DecisionsCommand, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let rt = runtime()?;
    match cmd {
        DecisionsCommand::List { json } => rt.block_on(list(&project, json)),
        DecisionsCommand::Show { id, json } => rt.block_on(show(&project, &id, json)),
    }
}

/// `allowed` / `blocked` from the outcome the assessment wrote, when it says.
fn verdict(outcome: &Value) -> &'static str {
    match outcome.get("allowed").and_then(Value::as_bool) {
        Some(true) => "allowed",
        Some(false) => "blocked",
        None => "-",
    }
}

fn status(d: &DecisionRecord) -> &'static str {
    match d.status {
        DecisionStatus::Draft => "draft",
        DecisionStatus::Final => "final",
    }
}

fn action(d: &DecisionRecord) -> String {
    match (d.action, d.params.get("to_flop").and_then(Value::as_f64)) {
        (DecisionAction::Train, Some(f)) => format!("train to {}", super::model::sci(f)),
        (a, _) => a.to_string(),
    }
}

async fn list(project: &Project, json: bool) -> Result<Code> {
    let policy = load_policy(project)?;
    let store = open_store(project).await?;
    let mut reviews = Vec::new();
    for d in store.list_decisions(None).await? {
        reviews.push(Review::load(&store, &policy, d).await?);
    }
    let bad = reviews.iter().any(|r| !r.all_valid());
    let mut out = std::io::stdout().lock();
    if json {
        let v: Vec<Value> = reviews.iter().map(Review::json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if reviews.is_empty() {
        writeln!(out, "no decisions yet; `rsp assess` makes them")?;
    } else {
        writeln!(
            out,
            "{:<12} {:<10} {:<16} {:<18} {:<8} {:<6} SIGNATURES",
            "ID", "CREATED", "MODEL", "ACTION", "OUTCOME", "STATUS"
        )?;
        for r in &reviews {
            let d = &r.decision;
            let mut sigs = format!("{}/{}", r.signed().len(), r.required.len());
            if !r.signed().is_empty() {
                sigs.push_str(&format!(" ({})", r.signed().join(", ")));
            }
            if !r.all_valid() {
                sigs.push_str(" INVALID SIGNATURE");
            }
            writeln!(
                out,
                "{:<12} {:<10} {:<16} {:<18} {:<8} {:<6} {sigs}",
                &d.id[..d.id.len().min(12)],
                d.created_at.format("%Y-%m-%d"),
                d.model,
                action(d),
                verdict(&d.outcome),
                status(d),
            )?;
        }
    }
    Ok(if bad { Code::Fail } else { Code::Ok })
}

async fn show(project: &Project, id: &str, json: bool) -> Result<Code> {
    let policy = load_policy(project)?;
    let store = open_store(project).await?;
    let decision = find(&store, id).await?;
    let r = Review::load(&store, &policy, decision).await?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&r.json())?)?;
    } else {
        let d = &r.decision;
        writeln!(out, "decision: {}", d.id)?;
        writeln!(out, "model:    {}", d.model)?;
        writeln!(out, "action:   {}", action(d))?;
        writeln!(out, "outcome:  {}", verdict(&d.outcome))?;
        writeln!(out, "status:   {}", status(d))?;
        writeln!(out, "created:  {}", d.created_at.to_rfc3339())?;
        writeln!(out, "signers:  {}", r.required.join(", "))?;
        for s in &r.signatures {
            let state = s
                .problem()
                .map_or("valid".to_owned(), |p| format!("INVALID: {p}"));
            writeln!(
                out,
                "  {:<10} {state}  key {}…  {}",
                s.record.role,
                &s.record.public_key[..s.record.public_key.len().min(16)],
                s.record.signed_at.format("%Y-%m-%d %H:%M UTC")
            )?;
        }
        let missing = r.missing();
        if !missing.is_empty() {
            writeln!(out, "awaiting: {}", missing.join(", "))?;
        }
        if let Some(reasons) = d.outcome.get("reasons").and_then(Value::as_array) {
            writeln!(out, "reasons:")?;
            for reason in reasons {
                let text = reason
                    .as_str()
                    .map_or_else(|| reason.to_string(), str::to_owned);
                writeln!(out, "  - {text}")?;
            }
        }
    }
    Ok(if r.all_valid() { Code::Ok } else { Code::Fail })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn decision() -> DecisionRecord {
        DecisionRecord {
            id: "d1".into(),
            model: "m".into(),
            action: DecisionAction::Deploy,
            params: json!({}),
            status: DecisionStatus::Draft,
            outcome: json!({"allowed": true, "z": 1.5, "a": [1, 2]}),
            created_at: chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        }
    }

    #[test]
    fn the_signed_bytes_are_canonical_and_bind_the_role_not_the_status() {
        let d = decision();
        let m = String::from_utf8(signed_message(&d, "rso").unwrap()).unwrap();
        assert_eq!(
            m,
            r#"{"decision":{"action":"deploy","created_at":"2026-11-29T10:00:00Z","id":"d1","model":"m","outcome":{"a":[1,2],"allowed":true,"z":1.5},"params":{}},"role":"rso","type":"rsp.decision-signoff/v1"}"#
        );
        let mut fin = d.clone();
        fin.status = DecisionStatus::Final;
        assert_eq!(
            signed_message(&fin, "rso").unwrap(),
            signed_message(&d, "rso").unwrap()
        );

        let key = SigningKey::from_bytes(&[7; 32]);
        let sig = SignatureRecord {
            decision_id: "d1".into(),
            role: "rso".into(),
            public_key: public_hex(&key),
            signature: hex::encode(key.sign(m.as_bytes()).to_bytes()),
            signed_at: chrono::Utc::now(),
        };
        let keys = vec![KeyRecord {
            role: "rso".into(),
            public_key: public_hex(&key),
            created_at: chrono::Utc::now(),
        }];
        assert!(verify(&fin, &sig, &keys).ok());
        // The same signature claimed for another role, or over a changed outcome, fails.
        let other = SignatureRecord {
            role: "ceo".into(),
            ..sig.clone()
        };
        assert_eq!(
            verify(&d, &other, &keys).problem(),
            Some("key not registered for this role")
        );
        let mut changed = d;
        changed.outcome = json!({"allowed": false});
        assert_eq!(
            verify(&changed, &sig, &keys).problem(),
            Some("signature does not verify")
        );
    }
}
