//! Running maps through the Run dialog.

use crate::support::Product;

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn running_a_map_through_the_dialog_runs_its_related_maps_first_and_reaches_running(
) -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let groups = product.map_id("Customer groups (msdyn_customergroups)").await?;
    let accounts = product.map_id("Customers V3 (accounts)").await?;
    for id in [&accounts, &groups] {
        product
            .send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), serde_json::json!({}))
            .await?;
    }
    let browser = product.browser().await?;
    browser.goto("/maps").await?;
    browser
        .click(&format!("[data-testid=map-row][data-map-id=\"{accounts}\"] [data-testid=map-select]"))
        .await?;
    browser.click("[data-testid=bulk-run]").await?;
    browser.find("[data-testid=run-dialog]").await?;
    let order = browser
        .eventually("the related maps", || async {
            let mut ids = Vec::new();
            for row in browser.find_all("[data-testid=run-row]").await? {
                ids.push(row.attr("data-map-id").await?.unwrap_or_default());
            }
            Ok((ids.len() >= 2).then_some(ids))
        })
        .await?;
    let at = |id: &str| order.iter().position(|x| x == id);
    assert!(
        at(&groups) < at(&accounts) && at(&groups).is_some(),
        "customer groups run before customers: {order:?}"
    );
    assert_eq!(order.last(), Some(&accounts), "the chosen map runs last");

    // Initial sync off: the rows are already in step (the demo wrote them through live sync).
    for checkbox in browser.find_all("[data-testid=run-initial-sync]").await? {
        if checkbox.prop("checked").await?.as_deref() == Some("true") {
            checkbox.click().await?;
        }
    }
    browser.screenshot("run-dialog").await?;
    browser.click("[data-testid=run-confirm]").await?;
    for id in [&groups, &accounts] {
        let badge = format!("[data-testid=map-row][data-map-id=\"{id}\"] [data-testid=map-status]");
        browser.wait_attr(&badge, "data-status", "running").await?;
    }
    let maps = product.get_json("/api/v1/maps").await?;
    assert!(maps["items"].as_array().into_iter().flatten().all(|m| m["status"] == "running"), "{maps}");
    browser.close().await
}
