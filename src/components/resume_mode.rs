use dualwrite_core::lifecycle::ResumeMode;
use leptos::prelude::*;

fn slug(mode: ResumeMode) -> &'static str {
    match mode {
        ResumeMode::CatchUp => "catch_up",
        ResumeMode::SkipPreserve => "skip_preserve",
        ResumeMode::SkipDiscard => "skip_discard",
    }
}

/// How a paused map resumes: the three documented choices.
#[component]
pub fn ResumeModeSelect(mode: RwSignal<ResumeMode>) -> impl IntoView {
    let choices = [
        (ResumeMode::CatchUp, "Catch up the queued changes, then go live"),
        (ResumeMode::SkipPreserve, "Go live; keep the queue as catch-up errors to retry"),
        (ResumeMode::SkipDiscard, "Go live; discard the queue"),
    ];
    view! {
        <select aria-label="how to resume" data-testid="resume-mode" prop:value=move || slug(mode.get())
            on:change=move |ev| {
                let picked = event_target_value(&ev);
                if let Some((m, _)) = choices.iter().find(|(m, _)| slug(*m) == picked) {
                    mode.set(*m);
                }
            }>
            {choices.into_iter().map(|(m, label)| view! { <option value=slug(m)>{label}</option> }).collect_view()}
        </select>
    }
}
