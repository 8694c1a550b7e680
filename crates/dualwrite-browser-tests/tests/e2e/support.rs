//! The product under test (a `dualwrite serve` process, started with a known admin token) and a
//! headless Chromium driven over WebDriver, signed in through the sign-in link the server prints.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// The admin token the product starts with (`DUALWRITE_ADMIN_TOKEN`), which the HTTP helpers carry.
pub const ADMIN_TOKEN: &str = "dw_e2e_admin_token_0123456789abcdef0123456789abcdef";

/// What the server prints before the sign-in link.
const SIGN_IN_LINE: &str = "sign in: ";

fn env_path(name: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .with_context(|| format!("{name} is not set; run the browser tests through `cargo xtask test`"))
}

/// The repository's fixture at `path` (under `fixtures/`), as an absolute path a file input takes.
pub fn fixture(path: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let file = root.join(path);
    file.canonicalize().unwrap_or(file)
}

/// A child process killed when the test is done with it.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `dualwrite serve` on a fresh SQLite file and a free port.
pub struct Product {
    pub base_url: String,
    /// The sign-in link the server printed: `{base_url}/sign-in#token=…`.
    pub sign_in_url: String,
    _server: Process,
    _data: tempfile::TempDir,
}

impl Product {
    pub async fn start() -> anyhow::Result<Product> {
        Product::launch(false).await
    }

    /// With the Contoso demo loaded: schema, four maps running, companies, currencies, customers.
    pub async fn start_demo() -> anyhow::Result<Product> {
        Product::launch(true).await
    }

    async fn launch(demo: bool) -> anyhow::Result<Product> {
        let bin = env_path("DUALWRITE_BIN")?;
        let studio = env_path("DUALWRITE_STUDIO_DIR")?;
        let data = tempfile::tempdir()?;
        let db = format!("sqlite://{}", data.path().join("e2e.db").display());
        let mut child = Command::new(&bin)
            .args(["serve", "--bind", "127.0.0.1:0", "--db", &db, "--studio-dir"])
            .arg(&studio)
            .args(demo.then_some("--demo"))
            .env("DUALWRITE_ADMIN_TOKEN", ADMIN_TOKEN)
            .current_dir(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let server = Process(child);
        // Once it listens, the server prints the sign-in link; the rest of its output is read (and
        // dropped) for as long as it runs, so it never writes into a closed pipe.
        let (found, link) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find(SIGN_IN_LINE).map(|at| at + SIGN_IN_LINE.len()) {
                    if let Some(found) = found.take() {
                        let _ = found.send(line[at..].trim().to_owned());
                    }
                }
            }
        });
        let sign_in_url = tokio::task::spawn_blocking(move || link.recv_timeout(PATIENCE))
            .await?
            .context("the server printed no sign-in link (`sign in: http://…/sign-in#token=…`)")?;
        let base_url = sign_in_url
            .split_once("/sign-in")
            .map(|(base, _)| base.to_owned())
            .with_context(|| format!("the sign-in link {sign_in_url} has no /sign-in"))?;
        Ok(Product { base_url, sign_in_url, _server: server, _data: data })
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        self.get_json_as(ADMIN_TOKEN, path).await
    }

    /// `GET path` with `token`; the JSON answer, or the error answer as an error.
    pub async fn get_json_as(&self, token: &str, path: &str) -> anyhow::Result<serde_json::Value> {
        let response =
            reqwest::Client::new().get(format!("{}{path}", self.base_url)).bearer_auth(token).send().await?;
        let status = response.status();
        let body = response.json().await?;
        if !status.is_success() {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(body)
    }

    /// Sends `body` to `path` with `method`; the JSON answer, or the error answer as an error.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let response = reqwest::Client::new()
            .request(method.clone(), format!("{}{path}", self.base_url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(if text.trim().is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text)? })
    }

    /// The id of the map called `name`.
    pub async fn map_id(&self, name: &str) -> anyhow::Result<String> {
        let maps = self.get_json("/api/v1/maps").await?;
        maps["items"]
            .as_array()
            .and_then(|items| items.iter().find(|m| m["name"] == name))
            .and_then(|m| m["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no map named {name}"))
    }

    /// A fresh browser, signed in as the admin through the sign-in link the server printed.
    pub async fn browser(&self) -> anyhow::Result<Browser> {
        let browser = self.signed_out_browser().await?;
        browser.goto_url(&self.sign_in_url).await?;
        browser.wait_left_sign_in().await?;
        Ok(browser)
    }

    /// A fresh browser nobody has signed in with.
    pub async fn signed_out_browser(&self) -> anyhow::Result<Browser> {
        Browser::start(self.base_url.clone()).await
    }
}

/// Headless Chromium with a fresh profile, through its own chromedriver.
pub struct Browser {
    client: Client,
    base_url: String,
    _driver: Process,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(base_url: String) -> anyhow::Result<Browser> {
        let chromium = env_path("CHROMIUM")?;
        let chromedriver = env_path("CHROMEDRIVER")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver = Process(
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", chromedriver.display()))?,
        );
        let profile = tempfile::tempdir()?;
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a json object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // chromedriver takes a moment to listen.
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => return Err(e).context("connecting to chromedriver"),
            }
        };
        Ok(Browser { client, base_url, _driver: driver, _profile: profile })
    }

    pub async fn goto(&self, path: &str) -> anyhow::Result<()> {
        self.client.goto(&format!("{}{path}", self.base_url)).await?;
        Ok(())
    }

    /// Opens a whole URL (a shared link).
    pub async fn goto_url(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await?;
        Ok(())
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css} on {}", self.base_url))
    }

    /// Every element matching `css` now (none is no error).
    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        element.click().await.with_context(|| format!("clicking {css}"))?;
        Ok(())
    }

    /// Replaces the text of the input matching `css` by typing, as a user would.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        element.clear().await?;
        element.send_keys(text).await?;
        Ok(())
    }

    /// Sets the text of the field matching `css` at once and tells the page, as a user pasting a
    /// file's text does (typing a long document key by key would take minutes).
    pub async fn paste(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.find(css).await?;
        let script = format!(
            "const t = document.querySelector({}); t.value = {}; \
             t.dispatchEvent(new Event('input', {{bubbles: true}})); return true;",
            serde_json::to_string(css)?,
            serde_json::to_string(text)?
        );
        self.run(&script).await?;
        Ok(())
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn run(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    /// Polls `check` until it gives a value, or fails after the deadline saying what it waited for.
    pub async fn eventually<T, F, Fut>(&self, what: &str, check: F) -> anyhow::Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
    {
        let deadline = Instant::now() + PATIENCE;
        let mut last = None;
        loop {
            match check().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(e) => last = Some(e),
            }
            if Instant::now() > deadline {
                bail!("waited {PATIENCE:?} for {what}; last problem: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the first element matching `css` has `attr` equal to `want`.
    pub async fn wait_attr(&self, css: &str, attr: &str, want: &str) -> anyhow::Result<()> {
        self.eventually(&format!("{css} to have {attr}={want}"), || async {
            let element = self.find(css).await?;
            Ok((element.attr(attr).await?.as_deref() == Some(want)).then_some(()))
        })
        .await
    }

    /// Waits until the header names who is signed in; returns their role.
    pub async fn wait_signed_in(&self) -> anyhow::Result<String> {
        let who = self.find("[data-testid=session-user]").await?;
        Ok(who.attr("data-role").await?.unwrap_or_default())
    }

    /// After signing in on `/sign-in`: waits until the view it opens has loaded, signed in.
    pub async fn wait_left_sign_in(&self) -> anyhow::Result<String> {
        self.eventually("the sign-in page to open the next view", || async {
            Ok((!self.current_url().await?.contains("/sign-in")).then_some(()))
        })
        .await?;
        self.wait_signed_in().await
    }

    /// Signs in by pasting `token` into the sign-in field the page shows.
    pub async fn sign_in_with(&self, token: &str) -> anyhow::Result<String> {
        self.type_into("[data-testid=token-input]", token).await?;
        self.click("[data-testid=sign-in-submit]").await?;
        self.wait_signed_in().await
    }

    /// The token this tab keeps, if any.
    pub async fn stored_token(&self) -> anyhow::Result<Option<String>> {
        let token = self.run("return sessionStorage.getItem('dualwrite.token');").await?;
        Ok(token.as_str().map(str::to_owned))
    }

    pub async fn current_url(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    pub async fn set_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.client.set_window_size(width, height).await?;
        Ok(())
    }

    /// Saves a screenshot as `name`.png under `DUALWRITE_SCREENSHOTS`, when that is set.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<()> {
        let Some(dir) = std::env::var_os("DUALWRITE_SCREENSHOTS").map(PathBuf::from) else { return Ok(()) };
        std::fs::create_dir_all(&dir)?;
        let png = self.client.screenshot().await?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
        Ok(())
    }

    /// The text of the first element matching `locator`, waiting for it to appear.
    pub async fn text(&self, locator: Locator<'_>) -> anyhow::Result<String> {
        let element = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(locator)
            .await
            .with_context(|| format!("waiting for {locator:?} on {}", self.base_url))?;
        Ok(element.text().await?)
    }

    /// Makes the tab load as over DevTools' "Fast 3G" preset (562.5 ms round trip, 180 kB/s down,
    /// 84 kB/s up) with its HTTP cache off, as on a first visit over a slow mobile connection.
    pub async fn emulate_fast_3g(&self) -> anyhow::Result<()> {
        self.devtools("Network.enable", serde_json::json!({})).await?;
        self.devtools("Network.setCacheDisabled", serde_json::json!({"cacheDisabled": true})).await?;
        self.devtools(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": false,
                "latency": 562.5,
                "downloadThroughput": 180_000,
                "uploadThroughput": 84_375,
            }),
        )
        .await
    }

    /// Sends a Chrome DevTools Protocol command to the tab, through chromedriver.
    async fn devtools(&self, cmd: &'static str, params: serde_json::Value) -> anyhow::Result<()> {
        self.client.issue_cmd(DevTools { cmd, params }).await.with_context(|| format!("DevTools {cmd}"))?;
        Ok(())
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// A Chrome DevTools Protocol command, which chromedriver forwards at `goog/cdp/execute`.
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: serde_json::Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
