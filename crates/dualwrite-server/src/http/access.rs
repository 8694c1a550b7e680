//! Who may call what: the bearer-token check in front of every endpoint that is not public, and the
//! endpoints of the caller's session and of the tokens themselves.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::{Extension, Json};
use dualwrite_core::access::Permission;
use dualwrite_core::api::{IssuedToken, NewToken, Paged, Session, TokenInfo};
use dualwrite_core::error_code::ErrorCode;

use super::body::Body;
use super::AppState;
use crate::error::{ApiError, Kind};
use crate::tokens::Caller;

/// Lets the request through when its bearer token is live and its role holds `permission`; the
/// handler can then read the [`Caller`].
pub async fn guard(
    State((app, permission)): State<(AppState, Permission)>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let secret = bearer(request.headers())?;
    let caller = match app.tokens.cached(&secret) {
        Some(caller) => caller,
        None => {
            let (tokens, store) = (app.tokens.clone(), app.store.clone());
            tokio::task::spawn_blocking(move || tokens.reload(&store, &secret)).await??
        }
    };
    let caller = caller.ok_or_else(|| {
        ApiError::new(
            Kind::Unauthorized,
            ErrorCode::Unauthorized,
            "this token is not valid (unknown or revoked); sign in again with a current token",
        )
    })?;
    if !caller.role.may(permission) {
        let roles: Vec<&str> = permission.roles().map(|r| r.as_str()).collect();
        return Err(ApiError::new(
            Kind::Forbidden,
            ErrorCode::Forbidden,
            format!(
                "a {} token may not do this; it needs one of these roles: {}",
                caller.role,
                roles.join(", ")
            ),
        )
        .with("role", caller.role.as_str())
        .with("needs", roles));
    }
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = |message: &str| ApiError::new(Kind::Unauthorized, ErrorCode::Unauthorized, message);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| missing("this call needs a token: send the header Authorization: Bearer <token>"))?;
    let value = value.to_str().unwrap_or_default();
    let (scheme, secret) = value.split_once(' ').unwrap_or((value, ""));
    let secret = secret.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || secret.is_empty() {
        return Err(missing("the Authorization header must read `Bearer <token>`"));
    }
    Ok(secret.to_owned())
}

/// `GET /session`: who the token belongs to.
pub async fn session(Extension(caller): Extension<Caller>) -> Json<Session> {
    Json(Session { token_id: caller.token_id, name: caller.name, role: caller.role })
}

/// `GET /tokens`: every token, live and revoked, oldest first; never their secrets.
pub async fn list(State(app): State<AppState>) -> Result<Json<Paged<TokenInfo>>, ApiError> {
    let tokens = app.tokens.clone();
    let items = app.read(move |tx, _| Ok(tokens.list(tx)?)).await?;
    Ok(Json(Paged::whole(items)))
}

/// `POST /tokens`: a new token; its secret is in this answer and nowhere else.
pub async fn issue(
    State(app): State<AppState>,
    Body(request): Body<NewToken>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let problems = request.problems();
    if !problems.is_empty() {
        return Err(ApiError::invalid(ErrorCode::InvalidTokenRequest, "the token request is not valid")
            .with("problems", serde_json::to_value(problems).unwrap_or_default()));
    }
    let tokens = app.tokens.clone();
    let issued = app.write(move |tx, _| Ok(tokens.issue(tx, &request.name, request.role)?)).await?;
    app.tokens.changed();
    tracing::info!(id = %issued.info.id, name = %issued.info.name, role = %issued.info.role, "token issued");
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `DELETE /tokens/{id}`: revokes a token; requests carrying it are refused from now on.
pub async fn revoke(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    let tokens = app.tokens.clone();
    let revoked = app.write(move |tx, _| Ok(tokens.revoke(tx, &caller, &id)?)).await?;
    app.tokens.changed();
    tracing::info!(id = %revoked.id, name = %revoked.name, "token revoked");
    Ok(Json(revoked))
}
