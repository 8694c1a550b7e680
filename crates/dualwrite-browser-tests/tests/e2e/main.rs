//! End-to-end tests: the real server with the real built studio, driven in headless Chromium.
//!
//! They need the built studio, the server binary and Chromium, so they are ignored by a plain
//! `cargo test`; `cargo xtask test` builds all three and runs them with `--ignored`.

mod support;

use fantoccini::Locator;
use support::Product;

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn home_page_shows_the_version_the_server_reports() -> anyhow::Result<()> {
    let product = Product::start().await?;
    let health = product.get_json("/api/v1/health").await?;
    let version = health["version"].as_str().expect("health reports a version").to_owned();

    let browser = product.browser().await?;
    browser.goto("/").await?;
    let shown = browser.text(Locator::Css("[data-testid=server-version]")).await?;
    assert_eq!(shown, version, "the home page shows the version fetched from the server");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_deep_link_opens_its_view() -> anyhow::Result<()> {
    let product = Product::start().await?;
    let browser = product.browser().await?;
    browser.goto("/maps").await?;
    let title = browser.text(Locator::Css("[data-testid=maps-title]")).await?;
    assert_eq!(title, "Table maps");
    browser.close().await
}

mod data_browser;
mod day_one;
mod map_editor;
mod preflight;
mod run_dialog;
mod sign_in;
mod sync;
mod views;
