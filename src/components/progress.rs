use leptos::prelude::*;

/// A progress bar for long work (initial sync, catch-up, a file on its way to the server). Beside it
/// `caption`, or by default "done of total (percent)".
#[component]
pub fn ProgressBar(
    #[prop(into)] done: Signal<u64>,
    #[prop(into)] total: Signal<u64>,
    #[prop(into)] label: String,
    #[prop(optional, into)] caption: Option<Signal<String>>,
) -> impl IntoView {
    let percent = move || {
        let (d, t) = (done.get(), total.get());
        if t == 0 {
            0.0
        } else {
            (d.min(t) as f64) * 100.0 / t as f64
        }
    };
    let complete = move || total.get() > 0 && done.get() >= total.get();
    view! {
        <div class="progress-wrap">
            <div class="progress" role="progressbar" aria-label=label.clone() aria-valuemin="0"
                aria-valuemax=move || total.get().to_string() aria-valuenow=move || done.get().to_string()
                data-testid="progress" data-complete=move || complete().to_string()>
                <div class="progress-fill" class:complete=complete style:width=move || format!("{:.1}%", percent())></div>
            </div>
            <span class="progress-text">{move || match caption {
                Some(caption) => caption.get(),
                None => format!("{} of {} ({:.0}%)", done.get(), total.get(), percent()),
            }}</span>
        </div>
    }
}
