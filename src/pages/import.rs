//! Bringing real environments in, and maps out: dual-write maps in any shape they leave an
//! environment (a native package, `msdyn_mapping` JSON, a solution's `customizations.xml`, a solution
//! zip or a zip of them), an environment's `$metadata` merged into the schema, and maps exported as a
//! file. Each import shows what it would do before anything is written.

mod export;
mod package;
mod schema;

use leptos::prelude::*;

use export::PackageExport;
use package::PackageImport;
use schema::SchemaImportPanel;

#[component]
pub fn ImportPage() -> impl IntoView {
    let imported = Trigger::new();
    view! {
        <section class="page">
            <h1>"Import and export"</h1>
            <div class="two-col">
                <PackageImport on_imported=Callback::new(move |()| imported.notify()) />
                <PackageExport refresh=imported />
            </div>
            <SchemaImportPanel />
        </section>
    }
}

/// A file the user chose in `input`, as its bytes.
async fn chosen_file(input: web_sys::HtmlInputElement) -> Option<(String, Vec<u8>)> {
    let file = input.files().and_then(|f| f.get(0))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await.ok()?;
    Some((file.name(), js_sys::Uint8Array::new(&buffer).to_vec()))
}
