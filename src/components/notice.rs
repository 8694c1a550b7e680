use dualwrite_core::lifecycle::Action;
use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::live;

/// A failed call, in words: the server's message and code, or that it does not offer this yet.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let missing = error.is_missing_endpoint();
    view! {
        <div class="notice error" role="alert" data-testid="error-notice">
            <p>
                {if missing { "This server does not offer this yet: " } else { "" }}
                {error.message.clone()}
            </p>
            {(!error.code.is_empty()).then(|| view! { <code class="muted">{error.code.clone()}</code> })}
        </div>
    }
}

/// A short-lived message after an action: success or failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(String),
    Failed(ApiError),
}

impl Outcome {
    /// The outcome of a call: `done` says what succeeded, in words.
    pub fn of<T>(result: Result<T, ApiError>, done: impl FnOnce(T) -> String) -> Outcome {
        match result {
            Ok(value) => Outcome::Done(done(value)),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The outcome of a lifecycle action on a map: "pause: done", or why it was refused.
    pub fn of_action<T>(result: Result<T, ApiError>, action: Action) -> Outcome {
        Outcome::of(result, |_| format!("{}: done", action.name().replace('_', " ")))
    }
}

/// Shows the latest outcome of an action, if any.
#[component]
pub fn OutcomeNotice(#[prop(into)] outcome: Signal<Option<Outcome>>) -> impl IntoView {
    live(move || {
        outcome.get().map(|o| match o {
            Outcome::Done(text) => {
                view! { <p class="notice ok" role="status" data-testid="outcome">{text}</p> }.into_any()
            }
            Outcome::Failed(e) => view! { <ErrorNotice error=e /> }.into_any(),
        })
    })
}
