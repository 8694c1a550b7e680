//! Every view opens from its own URL, at a desktop and a phone size; packages and keys round-trip
//! through the pages.

use crate::support::{fixture, Product};

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn every_view_opens_from_its_url_at_desktop_and_phone_sizes() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id("Customers V3 (accounts)").await?;
    let browser = product.browser().await?;
    let views = [
        ("maps", "/maps".to_owned(), "[data-testid=maps-table]"),
        ("filters", format!("/maps/{id}/filters"), "[data-testid=dataverse_filter-input]"),
        ("validation", format!("/maps/{id}/validation"), "[data-testid=diagnostics]"),
        ("queue", format!("/maps/{id}/queue"), "[data-testid=queue]"),
        ("preflight", format!("/maps/{id}/preflight"), "[data-testid=preflight]"),
        ("new-map", "/maps/new/mapping".to_owned(), "[data-testid=add-field]"),
        ("integration-keys", "/integration-keys".to_owned(), "[data-testid=keys-table]"),
        ("data", "/envs/dataverse/tables/account".to_owned(), "[data-testid=rows-table]"),
        ("alerts", "/alerts".to_owned(), "h1"),
        ("import", "/import".to_owned(), "[data-testid=import-text]"),
        ("load", "/envs/finops/load".to_owned(), "[data-testid=load-file]"),
        ("tokens", "/tokens".to_owned(), "[data-testid=tokens-table]"),
    ];
    for (width, height) in [(1280, 800), (390, 844)] {
        browser.set_size(width, height).await?;
        for (name, path, shows) in &views {
            browser.goto(path).await?;
            browser.find(shows).await?;
            let overflow = browser
                .run("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
                .await?;
            assert!(
                overflow.as_i64().unwrap_or(0) <= 1,
                "{path} is wider than a {width}px window by {overflow}px"
            );
            browser.screenshot(&format!("{name}-{width}")).await?;
        }
    }
    browser.close().await
}

/// Stops every map of the demo, so that an import may replace them.
async fn stop_every_map(product: &Product) -> anyhow::Result<()> {
    let maps = product.get_json("/api/v1/maps").await?;
    for id in maps["items"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str()) {
        product
            .send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), serde_json::json!({}))
            .await?;
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn an_exported_msdyn_mapping_imports_back_over_the_maps_it_came_from() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    stop_every_map(&product).await?;
    let browser = product.browser().await?;
    browser.goto("/import").await?;
    browser.find("[data-testid=export-button]").await?;
    // Wait for the map list, then export every map in dual-write's own shape.
    browser.find("label.check.block").await?;
    browser.find("select").await?.select_by_value("msdyn_mapping").await?;
    browser.click("[data-testid=export-button]").await?;
    let exported = browser.find("[data-testid=export-text]").await?.prop("value").await?.unwrap_or_default();
    assert!(
        exported.contains("legs"),
        "the msdyn_mapping shape has legs: {}",
        &exported[..exported.len().min(200)]
    );

    // Paste it back (as a user pasting a file's text), preview and import.
    browser.paste("[data-testid=import-text]", &exported).await?;
    let preview = browser.find("[data-testid=import-preview]").await?.text().await?;
    assert!(preview.starts_with("msdyn_mapping: 4 maps"), "{preview}");
    browser.click("[data-testid=import-preview-button]").await?;
    browser.find("[data-testid=import-would]").await?;
    let would = browser.find_all("[data-testid=import-item][data-action='replaces the stored map']").await?;
    assert_eq!(would.len(), 4, "each map replaces the one of its name");
    browser.click("[data-testid=import-button]").await?;
    let result = browser.find("[data-testid=import-result]").await?.text().await?;
    assert!(result.contains("Customers V3 (accounts)"), "{result}");
    let maps = product.get_json("/api/v1/maps").await?;
    assert_eq!(maps["total"], 4, "the four maps replaced, none added");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_solution_zip_is_previewed_map_by_map_and_imported() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    stop_every_map(&product).await?;
    let browser = product.browser().await?;
    browser.goto("/import").await?;
    let zip = fixture("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    browser.find("[data-testid=import-file]").await?.send_keys(&zip.display().to_string()).await?;
    let chosen = browser.find("[data-testid=import-chosen]").await?.text().await?;
    assert!(chosen.starts_with("ContosoDualWriteMaps_1_0_0_1.zip"), "{chosen}");
    browser.click("[data-testid=import-preview-button]").await?;
    browser.find("[data-testid=import-would]").await?;
    assert_eq!(browser.find_all("[data-testid=import-item]").await?.len(), 4);
    browser.click("[data-testid=import-button]").await?;
    let result = browser.find("[data-testid=import-result]").await?.text().await?;
    assert!(result.contains("version 1.0.0.5"), "the solution's own versions: {result}");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_metadata_document_is_previewed_and_merged_into_the_schema() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    stop_every_map(&product).await?;
    let browser = product.browser().await?;
    browser.goto("/import").await?;
    let xml = std::fs::read_to_string(fixture("contoso/finops-metadata.xml"))?;
    browser.find("[data-testid=schema-import-side]").await?.select_by_value("finops").await?;
    browser.paste("[data-testid=schema-import-xml]", &xml).await?;
    browser.type_into("[data-testid=schema-import-tables]", "Customers V3").await?;
    browser.click("[data-testid=schema-import-preview]").await?;
    browser.wait_attr("[data-testid=schema-import-result]", "data-preview", "true").await?;
    let tables = browser.find_all("[data-testid=schema-import-table]").await?;
    assert!(!tables.is_empty(), "the customers and what they reach");
    let shown = browser.find("[data-testid=schema-import-result]").await?.text().await?;
    assert!(shown.contains("CustCustomerV3Entity"), "{shown}");
    browser.click("[data-testid=schema-import-merge]").await?;
    browser.wait_attr("[data-testid=schema-import-result]", "data-preview", "false").await?;
    let schema = product.get_json("/api/v1/schema").await?;
    let customers =
        schema["finops"].as_array().into_iter().flatten().find(|t| t["name"] == "CustCustomerV3Entity");
    assert!(customers.is_some_and(|t| t["aliases"].as_array().is_some_and(|a| !a.is_empty())), "{schema}");
    browser.close().await
}

#[tokio::test]
#[ignore = "needs the built studio and Chromium; run by `cargo xtask test`"]
async fn a_key_set_by_hand_shows_as_manual_and_reaches_the_server() -> anyhow::Result<()> {
    let product = Product::start_demo().await?;
    let id = product.map_id("Currencies (transactioncurrencies)").await?;
    product
        .send_json(reqwest::Method::POST, &format!("/api/v1/maps/{id}/stop"), serde_json::json!({}))
        .await?;
    let browser = product.browser().await?;
    browser.goto("/integration-keys").await?;
    let row = "[data-testid=key-row][data-table=transactioncurrency]";
    browser.click(&format!("{row} button")).await?;
    browser.type_into("[data-testid=key-input]", "isocurrencycode, currencyname").await?;
    browser.click("[data-testid=key-save]").await?;
    browser
        .eventually("the manual key in the list", || async {
            let text = browser.find(row).await?.text().await?;
            Ok((text.contains("isocurrencycode, currencyname") && text.contains("manual")).then_some(()))
        })
        .await?;
    let keys = product.get_json("/api/v1/integration-keys").await?;
    let key = keys["items"].as_array().into_iter().flatten().find(|k| k["table"] == "transactioncurrency");
    assert_eq!(key.map(|k| k["manual"].clone()), Some(serde_json::json!(true)), "{keys}");
    browser.close().await
}
