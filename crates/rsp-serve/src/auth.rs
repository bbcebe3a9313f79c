//! Bearer tokens and roles.
//!
//! Reads are open (the server is read-only by default and listens on loopback); every write
//! needs `Authorization: Bearer <token>`. A token is 32 random bytes shown once, at
//! creation; the store keeps only its SHA-256, so a copied database grants nothing. Tokens
//! travel in a header, never in a cookie, so a browser never attaches one on its own and a
//! cross-site form cannot borrow it: that is the API's CSRF protection.
//!
//! The token never reaches a log line: [`Caller`] holds only the role, and the extractor's
//! error messages never echo the header.

use std::fmt;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use rand::RngCore as _;
use rsp_store::{TokenRecord, TokenStore};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{ApiError, ErrorCode, ServeError};
use crate::state::AppState;

/// Prefix of every token, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "rsp_";

/// What a token may do. Ordered: each role may do everything the ones before it may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads only (the same as no token today; kept so reads can be locked down later).
    Viewer,
    /// May start runs.
    Evaluator,
    /// Responsible scaling officer: may also record attestations and submit signatures.
    Rso,
    /// Everything.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Evaluator, Role::Rso, Role::Admin];

    /// The spelling used in tokens, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Evaluator => "evaluator",
            Self::Rso => "rso",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (roles: viewer, evaluator, rso, admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Lowercase hex SHA-256 of a token: what the store keeps.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A freshly created token. Its `Debug` hides the secret so it cannot leak through a log.
pub struct NewToken {
    /// The secret, to show the user once.
    pub token: String,
    /// The role it grants.
    pub role: Role,
}

impl fmt::Debug for NewToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewToken")
            .field("token", &"<redacted>")
            .field("role", &self.role)
            .finish()
    }
}

/// Creates a token for `role` and stores its hash: what `rsp token new --role R` calls.
/// The caller shows `token` once; it cannot be recovered later.
pub async fn create_token(store: &dyn TokenStore, role: Role) -> Result<NewToken, ServeError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    store
        .insert_token(&TokenRecord {
            token_hash: hash_token(&token),
            role: role.as_str().to_owned(),
            created_at: Utc::now(),
        })
        .await
        .map_err(ServeError::Token)?;
    Ok(NewToken { token, role })
}

/// The authenticated caller of a write endpoint. Extracting it fails with 401 when the
/// request carries no valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The token's role.
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller holds one of `allowed`.
    pub fn require(self, allowed: &[Role]) -> Result<Self, ApiError> {
        if allowed.contains(&self.role) {
            Ok(self)
        } else {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "role `{}` may not do this; it needs one of: {}",
                    self.role,
                    names.join(", ")
                ),
            ))
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("this endpoint needs `Authorization: Bearer <token>`; `rsp token new --role R` creates one"))?;
        let value = header
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let record = state
            .store()
            .token_by_hash(&hash_token(token))
            .await?
            .ok_or_else(|| unauthorized("unknown token"))?;
        let role = record
            .role
            .parse::<Role>()
            .map_err(|e| ApiError::internal("stored token role", &e))?;
        Ok(Caller { role })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order_by_privilege() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!(Role::Viewer < Role::Evaluator && Role::Rso < Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn token_hash_is_sha256_hex_and_new_token_debug_hides_the_secret() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let t = NewToken {
            token: "rsp_secret".into(),
            role: Role::Rso,
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("rsp_secret"), "{shown}");
    }

    #[test]
    fn require_names_the_roles_needed() {
        let c = Caller { role: Role::Viewer };
        let err = c.require(&[Role::Rso, Role::Admin]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden);
        assert!(err.message().contains("rso, admin"), "{}", err.message());
        assert!(Caller { role: Role::Admin }.require(&[Role::Admin]).is_ok());
    }
}
