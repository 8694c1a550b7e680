//! Signing in and out, and tokens: the printed sign-in link, a viewer's studio, revoking.

use crate::support::{Browser, Product, ADMIN_TOKEN};

/// How many requests the page has sent to `/api/v1/…` other than the health check.
async fn data_requests(browser: &Browser) -> anyhow::Result<u64> {
    let n = browser
        .run(
            "return performance.getEntriesByType('resource')
                .filter(e => e.name.includes('/api/v1/') && !e.name.includes('/api/v1/health')).length;",
        )
        .await?;
    Ok(n.as_u64().unwrap_or(u64::MAX))
}

/// Fails when the page is wider than the window (a horizontal scroll bar).
async fn assert_fits(browser: &Browser, what: &str) -> anyhow::Result<()> {
    let overflow = browser
        .run("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await?;
    assert!(overflow.as_i64().unwrap_or(0) <= 1, "{what} is wider than the window by {overflow}px");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn signing_in_through_the_printed_link_and_out_again_hides_the_data() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    assert_eq!(product.sign_in_url, format!("{}/sign-in#token={ADMIN_TOKEN}", product.base_url));

    let browser = product.signed_out_browser().await?;
    browser.goto_url(&product.sign_in_url).await?;
    assert_eq!(browser.wait_left_sign_in().await?, "admin");
    let url = browser.current_url().await?;
    assert_eq!(
        url,
        format!("{}/maps", product.base_url),
        "the link opens the maps, and the token leaves the address"
    );
    browser.find("[data-testid=map-row]").await?;
    let who = browser.find("[data-testid=session-user]").await?.text().await?;
    assert!(who.contains("admin"), "the header says who is signed in: {who}");
    assert_eq!(browser.stored_token().await?.as_deref(), Some(ADMIN_TOKEN));
    browser.screenshot("signed-in-1280").await?;

    browser.click("[data-testid=sign-out]").await?;
    browser.find("[data-testid=sign-in-panel]").await?;
    assert!(browser.find_all("[data-testid=maps-table]").await?.is_empty(), "the maps went with the session");
    assert!(browser.find_all("[data-testid=session-user]").await?.is_empty());
    assert_eq!(browser.stored_token().await?, None, "signing out forgets the token");

    // Opening a view afresh asks to sign in, and asks the server for nothing.
    browser.goto("/maps").await?;
    browser.find("[data-testid=sign-in-panel]").await?;
    assert!(browser.find_all("[data-testid=map-row]").await?.is_empty());
    assert_eq!(data_requests(&browser).await?, 0, "no data is fetched for a signed-out reader");

    // A wrong token is refused, in words.
    browser.type_into("[data-testid=token-input]", "dw_not_a_token").await?;
    browser.click("[data-testid=sign-in-submit]").await?;
    let error = browser.find("[data-testid=sign-in-error]").await?.text().await?;
    assert!(error.contains("does not accept this token"), "{error}");
    assert_eq!(browser.stored_token().await?, None);
    browser.screenshot("sign-in-panel-1280").await?;
    assert_fits(&browser, "the sign-in panel at 1280px").await?;
    browser.set_size(390, 844).await?;
    assert_fits(&browser, "the sign-in panel at 390px").await?;
    browser.screenshot("sign-in-panel-390").await?;

    // The right one opens the view in place.
    assert_eq!(browser.sign_in_with(ADMIN_TOKEN).await?, "admin");
    browser.find("[data-testid=map-row]").await?;
    assert_fits(&browser, "the signed-in maps at 390px").await?;
    browser.screenshot("signed-in-390").await?;
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_viewer_token_issued_on_the_tokens_page_reads_without_actions_until_it_is_revoked(
) -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id("Customers V3 (accounts)").await?;
    let admin = product.browser().await?;
    admin.click("[data-testid=nav-tokens]").await?;
    admin.find("[data-testid=tokens-table]").await?;
    let bootstrap = admin.find("[data-testid=token-row]:has([data-testid=bootstrap])").await?;
    assert!(
        bootstrap.find_all(fantoccini::Locator::Css("[data-testid=token-revoke]")).await?.is_empty(),
        "the token the admin is signed in with cannot revoke itself"
    );

    // The form checks the name with core's rule before asking the server.
    admin.click("[data-testid=token-issue]").await?;
    let problem = admin.find("[data-testid=token-problems] li").await?.text().await?;
    assert!(problem.contains("name"), "{problem}");
    admin.type_into("[data-testid=token-name]", "Auditor").await?;
    admin.find("[data-testid=token-role]").await?.select_by_value("viewer").await?;
    admin.click("[data-testid=token-issue]").await?;
    let secret = admin.find("[data-testid=issued-secret]").await?.prop("value").await?.unwrap_or_default();
    let link = admin.find("[data-testid=issued-link]").await?.prop("value").await?.unwrap_or_default();
    assert!(!secret.is_empty());
    assert!(link.starts_with(&format!("{}/sign-in#token=", product.base_url)), "{link}");
    let row = "[data-testid=token-row][data-name=Auditor]";
    assert!(admin.find(row).await?.text().await?.contains("viewer"));
    admin.screenshot("tokens-issued-1280").await?;
    admin.click("[data-testid=issued-done]").await?;
    assert!(admin.find_all("[data-testid=issued-secret]").await?.is_empty(), "the secret is shown once");

    // The viewer reads the maps and a map, and is offered nothing that changes them.
    let viewer = product.signed_out_browser().await?;
    viewer.goto_url(&link).await?;
    assert_eq!(viewer.wait_left_sign_in().await?, "viewer");
    viewer.find("[data-testid=map-row]").await?;
    for action in ["map-select", "bulk-run", "bulk-stop", "new-map", "nav-tokens"] {
        let css = format!("[data-testid={action}]");
        assert!(viewer.find_all(&css).await?.is_empty(), "a viewer is not offered {action}");
    }
    viewer.screenshot("viewer-maps-1280").await?;
    viewer.goto(&format!("/maps/{id}/mapping")).await?;
    viewer.find("[data-testid=field-grid]").await?;
    viewer.wait_attr("[data-testid=not-editable]", "data-reason", "role").await?;
    for action in ["save", "run", "stop", "pause", "delete", "add-field"] {
        let css = format!("[data-testid={action}]:not([disabled])");
        assert!(viewer.find_all(&css).await?.is_empty(), "a viewer is not offered {action}");
    }
    viewer.screenshot("viewer-map-1280").await?;

    // Revoked: the viewer's next request asks them to sign in again.
    admin.click(&format!("{row} [data-testid=token-revoke]")).await?;
    admin.click(&format!("{row} [data-testid=token-revoke-confirm]")).await?;
    admin
        .eventually("the token listed as revoked", || async {
            let revoked = admin.find(&format!("{row} [data-testid=token-revoked]")).await?.text().await?;
            Ok((!revoked.is_empty()).then_some(()))
        })
        .await?;
    admin.screenshot("tokens-revoked-1280").await?;
    viewer.click("[data-testid=tab-queue]").await?;
    let reason = viewer.find("[data-testid=signed-out-reason]").await?.text().await?;
    assert!(reason.contains("revoked"), "{reason}");
    assert!(viewer.find_all("[data-testid=map-name]").await?.is_empty(), "the map went with the session");
    assert_eq!(viewer.stored_token().await?, None);
    viewer.close().await?;
    admin.close().await
}
