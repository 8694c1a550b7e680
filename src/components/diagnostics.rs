use crate::components::live;
use dualwrite_core::validation::{Diagnostic, Severity};
use leptos::prelude::*;

/// The diagnostics of a map; picking one calls `on_pick` with its path.
#[component]
pub fn DiagnosticList(
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="diagnostics" aria-live="polite">
            {live(move || {
                let list = diagnostics.get();
                if list.is_empty() {
                    return view! {
                        <p class="ok" data-testid="no-diagnostics">"No problems: the map can run."</p>
                    }
                    .into_any();
                }
                view! {
                    <ul class="diagnostic-list">
                        {list
                            .into_iter()
                            .map(|d| {
                                let path = d.path.clone();
                                let severity = d.severity;
                                view! {
                                    <li class=severity_class(severity) data-testid="diagnostic" data-code=d.code.clone()>
                                        <span class="sev">{severity_label(severity)}</span>
                                        <button type="button" class="link code" title="Show where"
                                            on:click=move |_| on_pick.run(path.clone())>
                                            {d.code.clone()}
                                        </button>
                                        <span class="message">{d.message.clone()}</span>
                                        {(!d.path.is_empty()).then(|| view! { <code class="path">{d.path.clone()}</code> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            })}
        </div>
    }
}

/// "2 errors, 1 warning".
#[component]
pub fn DiagnosticSummary(#[prop(into)] diagnostics: Signal<Vec<Diagnostic>>) -> impl IntoView {
    let counts = move || {
        diagnostics.with(|d| {
            let errors = d.iter().filter(|d| d.severity == Severity::Error).count();
            (errors, d.len() - errors)
        })
    };
    view! {
        <span class="diag-summary" data-testid="diagnostic-summary"
            class:has-errors=move || { counts().0 > 0 }>
            {live(move || {
                let (e, w) = counts();
                match (e, w) {
                    (0, 0) => "no problems".to_owned(),
                    _ => format!("{e} error{}, {w} warning{}", plural(e), plural(w)),
                }
            })}
        </span>
    }
}

/// The diagnostics at `path` or below it (`fields[3]` takes `fields[3].dataverse`), shown inline.
#[component]
pub fn InlineDiagnostics(
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] path: String,
) -> impl IntoView {
    let path = StoredValue::new(path);
    live(move || {
        let mine: Vec<Diagnostic> = diagnostics
            .with(|all| all.iter().filter(|d| path.with_value(|p| is_at(&d.path, p))).cloned().collect());
        (!mine.is_empty()).then(|| {
            view! {
                <ul class="inline-diagnostics">
                    {mine
                        .into_iter()
                        .map(|d| view! {
                            <li class=severity_class(d.severity) data-testid="inline-diagnostic" data-code=d.code.clone()>
                                <strong>{d.code.clone()}</strong>" "{d.message}
                            </li>
                        })
                        .collect_view()}
                </ul>
            }
        })
    })
}

/// Whether a diagnostic's path is `at` or inside it.
pub fn is_at(path: &str, at: &str) -> bool {
    path == at || path.strip_prefix(at).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// The field index a path points into (`fields[3].dataverse` → 3).
pub fn field_index(path: &str) -> Option<usize> {
    path.strip_prefix("fields[")?.split(']').next()?.parse().ok()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "diag error",
        Severity::Warning => "diag warning",
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_by_member_and_index_not_by_prefix() {
        assert!(is_at("fields[3].dataverse", "fields[3]"));
        assert!(is_at("fields[3]", "fields[3]"));
        assert!(!is_at("fields[31].dataverse", "fields[3]"));
        assert!(is_at("dataverse_filter", "dataverse_filter"));
        assert_eq!(field_index("fields[12].transforms[0]"), Some(12));
        assert_eq!(field_index("version"), None);
    }
}
