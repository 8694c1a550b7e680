//! Pause, queue, resume and catch-up, and the initial-sync tab, as a user watches them.

use crate::support::Product;

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn pausing_writing_and_resuming_empties_the_queue_and_completes_the_progress() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id("Customers V3 (accounts)").await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/queue")).await?;
    browser.click("[data-testid=queue-pause]").await?;
    browser.wait_attr("[data-testid=map-status]", "data-status", "paused").await?;

    product
        .send_json(
            reqwest::Method::POST,
            "/api/v1/envs/finops/transactions",
            serde_json::json!({"ops": [{"op": "update", "table": "CustCustomerV3Entity",
                "key": {"CUSTOMERACCOUNT": "US-002", "dataAreaId": "USMF"}, "row": {"SALESMEMO": "Written while paused"}}]}),
        )
        .await?;
    let queued = |want: &'static str| {
        let browser = &browser;
        move || async move {
            let total = browser.find("[data-testid=queue-total]").await?.text().await?;
            Ok((total == want).then_some(()))
        }
    };
    browser.eventually("one queued change", queued("1")).await?;
    browser.click("[data-testid=queue-resume]").await?;
    browser.eventually("an empty queue", queued("0")).await?;
    browser.wait_attr("[data-testid=progress]", "data-complete", "true").await?;
    browser.wait_attr("[data-testid=map-status]", "data-status", "running").await?;
    let twin = product
        .get_json("/api/v1/envs/dataverse/tables/account/rows?filter=accountnumber%20eq%20%27US-002%27")
        .await?;
    assert_eq!(twin["items"][0]["description"], "Written while paused", "{twin}");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn the_initial_sync_tab_says_when_a_map_went_live_without_one() -> anyhow::Result<()> {
    // The demo runs its maps live, without an initial sync.
    let product = Product::start_demo().await?;
    let id = product.map_id("Customers V3 (accounts)").await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/initial-sync")).await?;
    browser
        .eventually("the initial-sync tab saying there was none", || async {
            Ok((!browser.find_all("[data-testid=initial-sync-none]").await?.is_empty()).then_some(()))
        })
        .await?;
    browser.screenshot("initial-sync").await?;
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn running_with_initial_sync_shows_its_progress_to_completion() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id("Customers V3 (accounts)").await?;
    product
        .send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), serde_json::json!({}))
        .await?;
    // A customer written while the map was stopped: only an initial sync brings it across.
    product
        .send_json(
            reqwest::Method::POST,
            "/api/v1/envs/finops/transactions",
            serde_json::json!({"ops": [{"op": "insert", "table": "CustCustomerV3Entity", "row": {
                "dataAreaId": "USMF", "CUSTOMERACCOUNT": "US-100", "SALESMEMO": "Written while stopped",
                "CREDITLIMIT": 100.0, "CREDITLIMITISMANDATORY": "no", "SALESCURRENCYCODE": "USD",
                "CUSTOMERGROUPID": "10", "ISONETIMECUSTOMER": "no", "ONHOLDSTATUS": "no", "PARTYCOUNTRY": "USA",
                "PARTYTYPE": "Organization", "PAYMENTTERMSBASEDAYS": 30, "CONTACTPERSONID": "CP-001"}}]}),
        )
        .await?;
    let browser = product.browser().await?;
    browser.goto(&format!("/maps/{id}/initial-sync")).await?;
    browser.click("[data-testid=run]").await?;
    browser.find("[data-testid=run-row]").await?;
    let initial_sync = browser.find("[data-testid=run-row] [data-testid=run-initial-sync]").await?;
    assert_eq!(initial_sync.prop("checked").await?.as_deref(), Some("true"), "initial sync is on by default");
    browser.click("[data-testid=run-confirm]").await?;
    browser
        .eventually("the initial sync to complete", || async {
            let status = browser.find("[data-testid=initial-sync-status]").await?.text().await?;
            let bar = browser.find("[data-testid=progress]").await?;
            Ok((status == "completed" && bar.attr("data-complete").await?.as_deref() == Some("true"))
                .then_some(()))
        })
        .await?;
    browser.screenshot("initial-sync-completed").await?;
    browser.wait_attr("[data-testid=map-status]", "data-status", "running").await?;
    let twin = product
        .get_json("/api/v1/envs/dataverse/tables/account/rows?filter=accountnumber%20eq%20%27US-100%27")
        .await?;
    assert_eq!(twin["items"][0]["description"], "Written while stopped", "{twin}");
    browser.close().await
}
