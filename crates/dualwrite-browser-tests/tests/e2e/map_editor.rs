//! The map editor: validation in the page, drafts in shared links, and what it looks like.

use crate::support::{Browser, Product, ADMIN_TOKEN};

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

const FILTER: &str = "[data-testid=dataverse_filter-input]";

/// Stops the accounts map, edits a filter and a field's direction in the studio, selects the field on
/// the mapping tab and returns the share link of that view: the map's id and the link.
async fn share_a_draft(product: &Product) -> anyhow::Result<(String, String)> {
    let id = product.map_id(ACCOUNTS).await?;
    product
        .send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), serde_json::json!({}))
        .await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/filters")).await?;
    browser.find(FILTER).await?.send_keys(" and creditlimit ge 0").await?;
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
    browser.close().await?;
    Ok((id, link))
}

/// The view `share_a_draft` shared: the same map, tab, selection and unsaved edits, as a draft.
async fn assert_the_shared_view(browser: &Browser) -> anyhow::Result<()> {
    assert_eq!(browser.text(fantoccini::Locator::Css("[data-testid=map-name]")).await?, ACCOUNTS);
    browser.find("[data-testid=draft-badge]").await?;
    let tab = browser.find("[data-testid=tab-mapping]").await?;
    assert_eq!(tab.attr("aria-selected").await?.as_deref(), Some("true"), "the same tab");
    let row = browser.find("[data-testid=field-row][data-index=\"3\"]").await?;
    assert!(row.attr("class").await?.unwrap_or_default().contains("selected"), "the same selection");
    let direction =
        browser.find("[data-testid=field-row][data-index=\"3\"] [data-testid=field-direction]").await?;
    assert_eq!(direction.prop("value").await?.as_deref(), Some("to_dataverse"), "the unsaved field edit");
    browser.click("[data-testid=tab-filters]").await?;
    let shown = browser.find(FILTER).await?.prop("value").await?.unwrap_or_default();
    assert_eq!(shown, "customertypecode eq 3 and creditlimit ge 0", "the unsaved filter edit");
    browser.find("[data-testid=draft-badge]").await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_shared_draft_link_opens_the_same_map_tab_selection_and_edits_in_a_fresh_browser(
) -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let (_, link) = share_a_draft(&product).await?;
    println!("share link of a one-field, one-filter draft of {ACCOUNTS}: {} characters", link.len());

    // A fresh profile, signed in first.
    let fresh = product.browser().await?;
    fresh.goto_url(&link).await?;
    assert_the_shared_view(&fresh).await?;
    fresh.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_shared_draft_link_asks_a_signed_out_reader_to_sign_in_then_opens_the_same_view(
) -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let (_, link) = share_a_draft(&product).await?;
    let here = link.strip_prefix(&product.base_url).expect("the share link is on the server").to_owned();

    // Signing in on the panel opens the view in place.
    let fresh = product.signed_out_browser().await?;
    fresh.goto_url(&link).await?;
    fresh.find("[data-testid=sign-in-panel]").await?;
    assert!(fresh.find_all("[data-testid=map-name]").await?.is_empty(), "no map before signing in");
    let href = fresh.find("[data-testid=sign-in-link]").await?.attr("href").await?.unwrap_or_default();
    let next = href.strip_prefix("/sign-in?next=").expect("a link to the sign-in page with next");
    assert_eq!(decode(next), here, "the sign-in page comes back to the whole view: path, query, draft");
    fresh.screenshot("sign-in-for-a-shared-link-1280").await?;
    fresh.sign_in_with(ADMIN_TOKEN).await?;
    assert_eq!(fresh.current_url().await?, link, "the address is the shared one still");
    assert_the_shared_view(&fresh).await?;
    fresh.close().await?;

    // So does the sign-in page, given the link's token.
    let other = product.signed_out_browser().await?;
    other.goto_url(&format!("{}{href}#token={ADMIN_TOKEN}", product.base_url)).await?;
    other.wait_left_sign_in().await?;
    assert_eq!(other.current_url().await?, link, "the sign-in page opened the shared view");
    assert_the_shared_view(&other).await?;
    other.close().await
}

/// Undoes percent-encoding.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// When the map editor became usable, in ms since the page's navigation began (its `map-editor-ready` mark).
async fn editor_ready_at(browser: &Browser) -> anyhow::Result<f64> {
    browser
        .eventually("the editor's ready mark", || async {
            let t = browser
                .run("const m = performance.getEntriesByName('map-editor-ready'); return m.length ? m[0].startTime : null;")
                .await?;
            Ok(t.as_f64())
        })
        .await
}

/// A shared link opened by someone whose browser has nothing cached, on a slow mobile connection:
/// everything the studio is made of comes over the wire before the editor can be used.
#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_map_editor_link_opens_on_a_slow_connection_with_nothing_cached() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id(ACCOUNTS).await?;
    let browser = product.browser().await?;
    browser.emulate_fast_3g().await?;
    browser.goto(&format!("/maps/{id}/mapping")).await?;
    browser.find("[data-testid=field-grid]").await?;
    let ready = editor_ready_at(&browser).await?;
    println!("first load of a map editor link on Fast 3G, nothing cached: {ready:.0} ms");
    println!("BENCH\tstudio: first load of a map editor link, Fast 3G, nothing cached\t{ready:.1}\tms");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn the_map_editor_becomes_usable_and_reads_at_desktop_and_phone_sizes() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id(ACCOUNTS).await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/mapping?field=5")).await?;
    browser.find("[data-testid=field-grid]").await?;
    let ready = editor_ready_at(&browser).await?;
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
