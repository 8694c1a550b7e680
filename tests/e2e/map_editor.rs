//! The map editor: validation in the page, drafts in shared links, and what it looks like.

use crate::support::{Browser, Product};

const ACCOUNTS: &str = "Customers V3 (accounts)";

/// How many requests the page has sent to the API since the last `performance.clearResourceTimings()`.
async fn api_requests(browser: &Browser) -> anyhow::Result<u64> {
    let n = browser
        .run("return performance.getEntriesByType('resource').filter(e => e.name.includes('/api/')).length;")
        .await?;
    Ok(n.as_u64().unwrap_or(u64::MAX))
}

/// The row index of the mapping whose finops field is `field`.
async fn row_of(browser: &Browser, field: &str) -> anyhow::Result<Option<usize>> {
    for (i, input) in
        browser.find_all("[data-testid=field-row] [data-testid=field-finops]").await?.into_iter().enumerate()
    {
        if input.prop("value").await?.as_deref() == Some(field) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

async fn has_diagnostic(browser: &Browser, code: &str) -> anyhow::Result<bool> {
    Ok(!browser.find_all(&format!("[data-testid=diagnostic][data-code={code}]")).await?.is_empty())
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn breaking_a_map_shows_dipv1014_without_asking_the_server_and_fixing_it_clears_it(
) -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id(ACCOUNTS).await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/mapping")).await?;
    assert_eq!(browser.text(fantoccini::Locator::Css("[data-testid=map-name]")).await?, ACCOUNTS);

    // The demo runs the map: stop it, as a user must before editing.
    browser.click("[data-testid=stop]").await?;
    browser.wait_attr("[data-testid=map-status]", "data-status", "not_running").await?;
    assert!(!has_diagnostic(&browser, "DIPV1014").await?, "the published map covers its key");

    browser.run("performance.clearResourceTimings(); return true;").await?;
    let row = row_of(&browser, "CUSTOMERACCOUNT").await?.expect("the account number is mapped");
    let rows = browser.find_all("[data-testid=field-row]").await?;
    rows[row].find(fantoccini::Locator::Css("[data-testid=remove-field]")).await?.click().await?;
    browser.find("[data-testid=diagnostic][data-code=DIPV1014]").await?;
    browser.find("[data-testid=draft-badge]").await?;
    assert_eq!(api_requests(&browser).await?, 0, "the diagnostic came from the page, not the server");

    // Put the mapping back by hand.
    browser.click("[data-testid=add-field]").await?;
    let last = browser.find_all("[data-testid=field-row]").await?.len();
    let new_row = format!("[data-testid=field-row][data-index=\"{}\"]", last - 1);
    browser.type_into(&format!("{new_row} [data-testid=field-finops]"), "CUSTOMERACCOUNT").await?;
    browser.type_into(&format!("{new_row} [data-testid=field-dataverse]"), "accountnumber").await?;
    browser
        .eventually("DIPV1014 to disappear", || async {
            Ok((!has_diagnostic(&browser, "DIPV1014").await?).then_some(()))
        })
        .await?;
    assert_eq!(api_requests(&browser).await?, 0, "fixing it asked the server nothing either");

    // The counter does see requests: saving is one.
    browser.click("[data-testid=save]").await?;
    let saved = browser.text(fantoccini::Locator::Css("[data-testid=outcome]")).await?;
    assert!(saved.starts_with("Saved"), "{saved}");
    assert!(api_requests(&browser).await? > 0, "saving reaches the server");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_shared_draft_link_opens_the_same_map_tab_selection_and_edits_in_a_fresh_browser(
) -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id(ACCOUNTS).await?;
    product
        .send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), serde_json::json!({}))
        .await?;

    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/filters")).await?;
    let filter = "[data-testid=dataverse_filter-input]";
    browser.find(filter).await?.send_keys(" and creditlimit ge 0").await?;
    browser.click("[data-testid=tab-mapping]").await?;
    browser.click("[data-testid=field-row][data-index=\"3\"] [data-testid=select-field]").await?;
    browser
        .find("[data-testid=field-row][data-index=\"3\"] [data-testid=field-direction]")
        .await?
        .select_by_value("to_dataverse")
        .await?;
    browser.find("[data-testid=draft-badge]").await?;
    browser.click("[data-testid=share-button]").await?;
    let link = browser.find("[data-testid=share-url]").await?.prop("value").await?.unwrap_or_default();
    assert!(link.contains(&format!("/maps/{id}/mapping?field=4#draft=")), "{link}");
    println!("share link of a one-field, one-filter draft of {ACCOUNTS}: {} characters", link.len());
    browser.close().await?;

    let fresh = product.browser().await?;
    fresh.goto_url(&link).await?;
    assert_eq!(fresh.text(fantoccini::Locator::Css("[data-testid=map-name]")).await?, ACCOUNTS);
    fresh.find("[data-testid=draft-badge]").await?;
    let tab = fresh.find("[data-testid=tab-mapping]").await?;
    assert_eq!(tab.attr("aria-selected").await?.as_deref(), Some("true"), "the same tab");
    let row = fresh.find("[data-testid=field-row][data-index=\"3\"]").await?;
    assert!(row.attr("class").await?.unwrap_or_default().contains("selected"), "the same selection");
    let direction =
        fresh.find("[data-testid=field-row][data-index=\"3\"] [data-testid=field-direction]").await?;
    assert_eq!(direction.prop("value").await?.as_deref(), Some("to_dataverse"), "the unsaved field edit");
    fresh.click("[data-testid=tab-filters]").await?;
    let shown = fresh.find(filter).await?.prop("value").await?.unwrap_or_default();
    assert_eq!(shown, "customertypecode eq 3 and creditlimit ge 0", "the unsaved filter edit");
    fresh.find("[data-testid=draft-badge]").await?;
    fresh.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn the_map_editor_becomes_usable_and_reads_at_desktop_and_phone_sizes() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id(ACCOUNTS).await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/mapping?field=5")).await?;
    browser.find("[data-testid=field-grid]").await?;
    let ready = browser
        .eventually("the editor's ready mark", || async {
            let t = browser
                .run("const m = performance.getEntriesByName('map-editor-ready'); return m.length ? m[0].startTime : null;")
                .await?;
            Ok(t.as_f64())
        })
        .await?;
    println!("navigation to an interactive map editor: {ready:.0} ms");
    println!("BENCH\tstudio: navigation to an interactive map editor\t{ready:.1}\tms");
    browser.screenshot("map-editor-1280").await?;
    browser.click("[data-testid=tab-keys]").await?;
    browser.find("[data-testid=key-coverage]").await?;
    browser.screenshot("key-coverage-1280").await?;
    browser.set_size(390, 844).await?;
    browser.click("[data-testid=tab-mapping]").await?;
    browser.find("[data-testid=field-grid]").await?;
    browser.screenshot("map-editor-390").await?;
    browser.close().await
}
