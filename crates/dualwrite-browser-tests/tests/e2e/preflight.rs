//! The preflight tab, as a user checks a map before its initial sync.

use serde_json::json;

use crate::support::Product;

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn preflight_says_ready_then_names_the_row_whose_lookup_would_fail() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id("Customers V3 (accounts)").await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/preflight")).await?;
    browser.click("[data-testid=preflight-run]").await?;
    // The demo's customers were synced live: every pair is equal.
    browser.wait_attr("[data-testid=preflight-verdict]", "data-ready", "true").await?;
    browser.screenshot("preflight-ready").await?;

    // A customer written while the map was stopped, whose contact person Dataverse lacks.
    product.send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), json!({})).await?;
    product
        .send_json(
            reqwest::Method::POST,
            "/api/v1/envs/finops/transactions",
            json!({"ops": [{"op": "insert", "table": "CustCustomerV3Entity", "row": {
                "dataAreaId": "DEMF", "CUSTOMERACCOUNT": "DE-404", "CUSTOMERGROUPID": "10", "SALESCURRENCYCODE": "EUR",
                "PARTYTYPE": "Organization", "CONTACTPERSONID": "CP-404"}}]}),
        )
        .await?;
    browser.click("[data-testid=preflight-run]").await?;
    browser.wait_attr("[data-testid=preflight-verdict]", "data-ready", "false").await?;
    browser.click("[data-testid=preflight-problem][data-code=LOOKUP_NOT_FOUND] summary").await?;
    let rows = browser
        .eventually("the failing row listed", || async {
            let text = browser
                .find("[data-testid=preflight-problem][data-code=LOOKUP_NOT_FOUND]")
                .await?
                .text()
                .await?;
            // Named as the row holds its key, the company in a column of its own.
            Ok((text.contains("DE-404") && text.contains("DEMF")).then_some(text))
        })
        .await?;
    assert!(rows.contains("CP-404"), "the missing contact is named: {rows}");
    browser.screenshot("preflight-problems").await?;
    browser.close().await
}
