use crate::components::live;
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
    let percent = move |decimals| {
        let (d, t) = (done.get(), total.get());
        decimal(d.min(t) * 100, t, decimals)
    };
    let complete = move || total.get() > 0 && done.get() >= total.get();
    view! {
        <div class="progress-wrap">
            <div class="progress" role="progressbar" aria-label=label.clone() aria-valuemin="0"
                aria-valuemax=move || total.get().to_string() aria-valuenow=move || done.get().to_string()
                data-testid="progress" data-complete=move || complete().to_string()>
                <div class="progress-fill" class:complete=complete style:width=move || format!("{}%", percent(1))></div>
            </div>
            <span class="progress-text">{live(move || match caption {
                Some(caption) => caption.get(),
                None => format!("{} of {} ({}%)", done.get(), total.get(), percent(0)),
            })}</span>
        </div>
    }
}

/// `numerator / denominator` written with `decimals` digits after the point (0 when the denominator
/// is), rounded half to even as `format!("{:.1}", f64)` does; integers only, so the wasm carries no
/// float formatting.
pub fn decimal(numerator: u64, denominator: u64, decimals: u32) -> String {
    if denominator == 0 {
        return decimal(0, 1, decimals);
    }
    let (numerator, denominator) = (u128::from(numerator), u128::from(denominator));
    let scaled = numerator * 10u128.pow(decimals);
    let (mut units, rest) = (scaled / denominator, scaled % denominator);
    if 2 * rest > denominator || (2 * rest == denominator && units % 2 == 1) {
        units += 1;
    }
    let scale = 10u128.pow(decimals);
    match decimals {
        0 => units.to_string(),
        _ => format!("{}.{:0width$}", units / scale, units % scale, width = decimals as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals_read_as_float_formatting_does() {
        for (n, d, decimals) in [
            (1, 3, 1),
            (2, 3, 0),
            (1, 8, 0),
            (3, 8, 0),
            (1, 16, 1),
            (5, 1, 1),
            (0, 7, 1),
            (7, 7, 0),
            (1, 2, 0),
            (3, 2, 0),
            (5, 4, 1),
        ] {
            assert_eq!(
                decimal(n, d, decimals),
                format!("{:.*}", decimals as usize, n as f64 / d as f64),
                "{n}/{d}"
            );
        }
        assert_eq!(decimal(5, 0, 1), "0.0");
    }
}
