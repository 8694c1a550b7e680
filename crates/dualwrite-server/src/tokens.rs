//! API tokens: issued to a name with a role, stored only as SHA-256 hashes, revocable.
//!
//! The tokens live in the database (the `tokens` document) so they survive restarts and are shared by
//! every server on one PostgreSQL database. Each server keeps a copy for checking requests, refreshed
//! at once after its own changes and within [`REFRESH`] after another server's.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime};

use dualwrite_core::access::Role;
use dualwrite_core::api::{IssuedToken, TokenInfo};
use dualwrite_core::error_code::ErrorCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError, Tx};
use crate::sync_error::SyncError;

const DOCUMENT: &str = "tokens";
/// How stale this server's copy of the tokens may be before a request reloads it.
const REFRESH: Duration = Duration::from_secs(2);
/// The id of the first admin token `dualwrite serve` started with on a database (later distinct ones
/// get `bootstrap-` and a random suffix).
pub const BOOTSTRAP_ID: &str = "bootstrap";

/// One token as stored: everything but the secret, which only its hash stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredToken {
    #[serde(flatten)]
    info: TokenInfo,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokensDocument {
    tokens: Vec<StoredToken>,
}

/// The admin token a server started with: its id, whether it was new, and the other admin tokens
/// servers were started with that are still valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub id: String,
    pub added: bool,
    pub others: Vec<String>,
}

/// Why a server cannot start with its admin token.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "this admin token was revoked (token `{id}`); start with another DUALWRITE_ADMIN_TOKEN, or delete \
         the admin token file to have a new one made"
    )]
    Revoked { id: String },
}

/// Who made a request: the token's id, name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_id: String,
    pub name: String,
    pub role: Role,
}

/// This server's copy of the live (unrevoked) tokens, by hash.
struct Snapshot {
    loaded: Instant,
    by_hash: HashMap<String, Caller>,
}

/// The token registry.
pub struct Tokens {
    snapshot: RwLock<Option<Snapshot>>,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens { snapshot: RwLock::new(None) }
    }
}

impl Tokens {
    /// Who holds `secret` by this server's copy of the tokens; `None` when the copy is too old to say.
    pub fn cached(&self, secret: &str) -> Option<Option<Caller>> {
        let guard = self.snapshot.read().ok()?;
        let snapshot = guard.as_ref().filter(|s| s.loaded.elapsed() < REFRESH)?;
        Some(snapshot.by_hash.get(&hash(secret)).cloned())
    }

    /// Who holds `secret`, if it is a live token, reading the tokens from the store afresh.
    pub fn reload(&self, store: &Store, secret: &str) -> Result<Option<Caller>, StoreError> {
        let document = store.read(|tx| load(tx))?;
        Ok(self.replace(&document).remove(&hash(secret)))
    }

    /// Makes `secret` an admin token `dualwrite serve` starts with, keeping every other one.
    ///
    /// Several servers share one database, and each is started with its own secret or the same one:
    /// a secret already stored is kept as it is (one token per distinct secret), a new one is added
    /// beside the others, so no server signs out another's admin. A restart with another secret
    /// therefore leaves the old one valid until an admin revokes it ([`Bootstrap::others`] names
    /// them). A secret that was revoked is refused: starting with it would bring it back.
    pub fn set_bootstrap(&self, store: &Store, secret: &str) -> Result<Bootstrap, BootstrapError> {
        let sha256 = hash(secret);
        let (document, outcome) = store.write(|tx| {
            let mut document = load(tx)?;
            let kept = document.tokens.iter().find(|t| t.sha256 == sha256).map(|t| t.info.clone());
            let (id, added) = match kept {
                Some(info) if info.revoked_at.is_some() => {
                    return Ok((document, Err(BootstrapError::Revoked { id: info.id })));
                }
                Some(info) => (info.id, false),
                None => {
                    let id = if document.tokens.iter().any(|t| t.info.id == BOOTSTRAP_ID) {
                        format!("{BOOTSTRAP_ID}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
                    } else {
                        BOOTSTRAP_ID.to_owned()
                    };
                    document.tokens.push(StoredToken {
                        info: TokenInfo {
                            id: id.clone(),
                            name: "admin (dualwrite serve)".into(),
                            role: Role::Admin,
                            created_at: now(),
                            revoked_at: None,
                            bootstrap: true,
                        },
                        sha256: sha256.clone(),
                    });
                    save(tx, &document)?;
                    (id, true)
                }
            };
            let others = document
                .tokens
                .iter()
                .filter(|t| t.info.bootstrap && t.info.revoked_at.is_none() && t.info.id != id)
                .map(|t| t.info.id.clone())
                .collect();
            Ok::<_, StoreError>((document, Ok(Bootstrap { id, added, others })))
        })?;
        self.replace(&document);
        outcome
    }

    /// Every token, live and revoked, oldest first.
    pub fn list(&self, tx: &mut dyn Tx) -> Result<Vec<TokenInfo>, StoreError> {
        Ok(load(tx)?.tokens.into_iter().map(|t| t.info).collect())
    }

    /// Issues a new token in `tx`; call [`Tokens::changed`] once it commits.
    pub fn issue(&self, tx: &mut dyn Tx, name: &str, role: Role) -> Result<IssuedToken, StoreError> {
        let mut document = load(tx)?;
        let secret = new_secret();
        let info = TokenInfo {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            name: name.trim().to_owned(),
            role,
            created_at: now(),
            revoked_at: None,
            bootstrap: false,
        };
        document.tokens.push(StoredToken { info: info.clone(), sha256: hash(&secret) });
        save(tx, &document)?;
        Ok(IssuedToken { token: secret, info })
    }

    /// Revokes token `id` for `caller` in `tx`; call [`Tokens::changed`] once it commits. Revoking
    /// twice keeps the first time. Any token may be revoked, an admin token `dualwrite serve` started
    /// with too (a server restarted with it then refuses to start), except the caller's own.
    pub fn revoke(&self, tx: &mut dyn Tx, caller: &Caller, id: &str) -> Result<TokenInfo, SyncError> {
        let mut document = load(tx)?;
        let token = document
            .tokens
            .iter_mut()
            .find(|t| t.info.id == id)
            .ok_or_else(|| SyncError::not_found(format_args!("token `{id}`")))?;
        if token.info.id == caller.token_id {
            return Err(SyncError::conflict(
                ErrorCode::TokenIsYours,
                "a token cannot revoke itself, so that an admin never locks everyone out; sign in \
                 with another admin token to revoke this one",
            ));
        }
        token.info.revoked_at.get_or_insert_with(now);
        let info = token.info.clone();
        save(tx, &document)?;
        Ok(info)
    }

    /// Forgets this server's copy, so the next request sees a change just committed.
    pub fn changed(&self) {
        if let Ok(mut guard) = self.snapshot.write() {
            *guard = None;
        }
    }

    fn replace(&self, document: &TokensDocument) -> HashMap<String, Caller> {
        let by_hash: HashMap<String, Caller> = document
            .tokens
            .iter()
            .filter(|t| t.info.revoked_at.is_none())
            .map(|t| {
                let caller =
                    Caller { token_id: t.info.id.clone(), name: t.info.name.clone(), role: t.info.role };
                (t.sha256.clone(), caller)
            })
            .collect();
        if let Ok(mut guard) = self.snapshot.write() {
            *guard = Some(Snapshot { loaded: Instant::now(), by_hash: by_hash.clone() });
        }
        by_hash
    }
}

fn load(tx: &mut dyn Tx) -> Result<TokensDocument, StoreError> {
    match tx.get_document(DOCUMENT)? {
        None => Ok(TokensDocument::default()),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| StoreError::Corrupt(format!("the stored tokens do not read back: {e}"))),
    }
}

fn save(tx: &mut dyn Tx, document: &TokensDocument) -> Result<(), StoreError> {
    let value = serde_json::to_value(document)
        .map_err(|e| StoreError::Corrupt(format!("the tokens do not serialise: {e}")))?;
    tx.put_document(DOCUMENT, &value)
}

/// A new secret: 244 random bits from the operating system, as 64 hex digits after a `dw_` prefix
/// that makes a leaked token easy to search for.
pub fn new_secret() -> String {
    format!("dw_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_distinct_and_only_their_hash_is_kept() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 67);
        let stored = serde_json::to_string(&TokensDocument {
            tokens: vec![StoredToken {
                info: TokenInfo {
                    id: "x".into(),
                    name: "n".into(),
                    role: Role::App,
                    created_at: now(),
                    revoked_at: None,
                    bootstrap: false,
                },
                sha256: hash(&a),
            }],
        })
        .unwrap_or_default();
        assert!(!stored.contains(&a) && stored.contains(&hash(&a)));
    }
}
