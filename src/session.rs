//! Who is signed in: the bearer token (in `sessionStorage`, so it lasts as long as the tab and is
//! never sent anywhere but the API), the session the server says it opens, and what its role may do.
//!
//! [`api`](crate::api) reads the token for every request and reports a refused one here; the shell
//! shows the sign-in panel whenever [`phase`] is not [`Phase::SignedIn`].

use dualwrite_core::access::Permission;
use dualwrite_core::api::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};

/// The one `sessionStorage` key that holds the token.
const KEY: &str = "dualwrite.token";

/// Where the studio stands with the server.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// A stored token is being checked with `GET /session`.
    Checking,
    SignedIn(Session),
    /// Nobody is signed in; `reason` says why, when it is not simply that nobody has yet.
    SignedOut {
        reason: Option<String>,
    },
}

/// [`State`] without the details: what the shell switches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Checking,
    SignedIn,
    SignedOut,
}

thread_local! {
    // Reference-counted rather than owned by a component, so no view's cleanup can dispose of it.
    static STATE: ArcRwSignal<State> = ArcRwSignal::new(State::Checking);
}

fn state() -> ArcRwSignal<State> {
    STATE.with(Clone::clone)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.session_storage().ok().flatten())
}

/// The token requests carry, if someone is signed in (or being checked).
pub fn token() -> Option<String> {
    storage().and_then(|s| s.get_item(KEY).ok().flatten()).filter(|t| !t.is_empty())
}

fn forget_token() {
    if let Some(s) = storage() {
        let _ = s.remove_item(KEY);
    }
}

/// Checks the stored token once, at start: signed in with it, or signed out (and the token
/// forgotten) when the server refuses it.
pub fn start() {
    let Some(stored) = token() else {
        state().set(State::SignedOut { reason: None });
        return;
    };
    spawn_local(async move {
        match api::session_as(&stored).await {
            Ok(session) => state().set(State::SignedIn(session)),
            // A 401 has already signed out through `refused`.
            Err(e) if e.status == 401 => {}
            Err(e) => state().set(State::SignedOut {
                reason: Some(format!("the studio could not check your sign-in: {}", e.message)),
            }),
        }
    });
}

/// Checks `token` with the server and, when it opens a session, signs in with it.
pub async fn sign_in(token: &str) -> Result<Session, ApiError> {
    let token = token.trim();
    let session = api::session_as(token).await.map_err(|e| {
        if e.status == 401 {
            ApiError {
                message: "the server does not accept this token: it is mistyped, unknown or revoked".into(),
                ..e
            }
        } else {
            e
        }
    })?;
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, token);
    }
    state().set(State::SignedIn(session.clone()));
    Ok(session)
}

/// Forgets the token: the shell asks to sign in again.
pub fn sign_out() {
    forget_token();
    state().set(State::SignedOut { reason: None });
}

/// The server refused a request that carried `bearer` (401). When that is the stored token, it no
/// longer opens a session: forget it and ask to sign in again. A token merely being tried on the
/// sign-in form changes nothing.
pub fn refused(bearer: Option<&str>) {
    if bearer.is_some() && token().as_deref() == bearer {
        forget_token();
        state().set(State::SignedOut {
            reason: Some("the server no longer accepts your token (it was revoked or is unknown)".into()),
        });
    }
}

/// Where the studio stands, tracked.
pub fn phase() -> Phase {
    state().with(|s| match s {
        State::Checking => Phase::Checking,
        State::SignedIn(_) => Phase::SignedIn,
        State::SignedOut { .. } => Phase::SignedOut,
    })
}

/// The open session, tracked.
pub fn current() -> Option<Session> {
    state().with(|s| match s {
        State::SignedIn(session) => Some(session.clone()),
        _ => None,
    })
}

/// Why nobody is signed in, tracked; `None` when there is nothing to explain.
pub fn signed_out_reason() -> Option<String> {
    state().with(|s| match s {
        State::SignedOut { reason } => reason.clone(),
        _ => None,
    })
}

/// Whether the signed-in role may do what `permission` guards, tracked: core's rule, asked here so
/// the studio offers only what the server would allow.
pub fn may(permission: Permission) -> bool {
    state().with(|s| matches!(s, State::SignedIn(session) if session.role.may(permission)))
}

/// `next` if it is a path of this studio (`/…`, not `//…` or `/\…`, no control characters or
/// spaces, which browsers strip or bend), so a sign-in link cannot send anyone elsewhere.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !next.starts_with("/sign-in");
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_studio_are_followed_after_sign_in() {
        for good in ["/maps", "/maps/4/mapping?field=2#draft=WzEs", "/envs/finops/tables?filter=a%20b", "/"] {
            assert_eq!(safe_next(good), Some(good));
        }
        for bad in [
            "",
            "maps",
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/\t/evil.example",
            "javascript:alert(1)",
            "/sign-in?next=/maps",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
