//! A small W3C WebDriver client over HTTP, enough to drive the real app
//! through `tauri-driver` and `WebKitWebDriver`: find, click, type, read,
//! run a script, take a screenshot.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::{Value, json};

/// The W3C key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver session.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    /// Open a session on `driver` (`http://127.0.0.1:PORT`) with these capabilities.
    pub async fn create(driver: &str, capabilities: Value) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let answer: Value = http
            .post(format!("{driver}/session"))
            .json(&json!({ "capabilities": { "alwaysMatch": capabilities } }))
            .send()
            .await?
            .json()
            .await?;
        let id = answer["value"]["sessionId"].as_str().with_context(|| format!("no session: {answer}"))?;
        Ok(Self { http, base: format!("{driver}/session/{id}") })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            request = request.json(&b);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let answer: Value = request.send().await?.json().await?;
        if let Some(error) = answer["value"]["error"].as_str() {
            bail!("WebDriver {path}: {error}: {}", answer["value"]["message"]);
        }
        Ok(answer["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Resize the window (its outer size, in CSS pixels).
    pub async fn set_window_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.post("/window/rect", json!({ "width": width, "height": height })).await.map(|_| ())
    }

    /// Elements matching a CSS selector now.
    pub async fn all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        let found = self.post("/elements", json!({ "using": "css selector", "value": css })).await?;
        Ok(found.as_array().map(|a| a.iter().filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_owned()))).collect()).unwrap_or_default())
    }

    /// Wait up to `limit` for an element matching `css`.
    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        self.find_within(css, Duration::from_secs(20)).await
    }

    /// Wait up to `limit` for an element matching `css`.
    pub async fn find_within(&self, css: &str, limit: Duration) -> anyhow::Result<Element> {
        let start = Instant::now();
        loop {
            if let Some(e) = self.all(css).await?.into_iter().next() {
                return Ok(e);
            }
            if start.elapsed() > limit {
                bail!("no element `{css}` after {limit:?}; the page says: {}", self.page_text().await.unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait for an element whose visible text starts with `prefix` (text
    /// that ends in a time the test cannot know to the minute).
    pub async fn find_starting(&self, tag: &str, prefix: &str) -> anyhow::Result<Element> {
        let xpath = format!("//{tag}[starts-with(normalize-space(.), {})]", xpath_literal(prefix));
        self.find_xpath(&xpath, || format!("<{tag}> starting “{prefix}”")).await
    }

    /// Wait for a button (or any element) whose visible text is exactly `text`.
    pub async fn find_text(&self, tag: &str, text: &str) -> anyhow::Result<Element> {
        let xpath = format!("//{tag}[normalize-space(.)={}]", xpath_literal(text));
        self.find_xpath(&xpath, || format!("<{tag}> reading “{text}”")).await
    }

    /// Wait up to 20 s for the first element an XPath finds.
    async fn find_xpath(&self, xpath: &str, what: impl Fn() -> String) -> anyhow::Result<Element> {
        let start = Instant::now();
        loop {
            let found = self.post("/elements", json!({ "using": "xpath", "value": xpath })).await?;
            if let Some(e) = found.as_array().and_then(|a| a.first()).and_then(|e| e[ELEMENT].as_str()) {
                return Ok(Element(e.to_owned()));
            }
            if start.elapsed() > Duration::from_secs(20) {
                bail!("no {}; the page says: {}", what(), self.page_text().await.unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the page's text contains `text`.
    pub async fn wait_text(&self, text: &str) -> anyhow::Result<()> {
        self.wait_until(&format!("the page to show “{text}”"), |page| page.contains(text)).await
    }

    /// Wait until `check` holds for the page's text.
    pub async fn wait_until(&self, what: &str, check: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let page = self.page_text().await?;
            if check(&page) {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(20) {
                bail!("timed out waiting for {what}; the page says: {page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the whole page.
    pub async fn page_text(&self) -> anyhow::Result<String> {
        // innerText is the rendered text, as a person reads it.
        Ok(self.execute("return document.body ? document.body.innerText : '';", json!([])).await?.as_str().unwrap_or_default().to_owned())
    }

    /// Click.
    pub async fn click(&self, e: &Element) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/click", e.0), json!({})).await.map(|_| ())
    }

    /// Type into a field (real key and input events).
    pub async fn type_into(&self, e: &Element, text: &str) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text })).await.map(|_| ())
    }

    /// Empty a field.
    pub async fn clear(&self, e: &Element) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/clear", e.0), json!({})).await.map(|_| ())
    }

    /// An element's visible text.
    pub async fn text(&self, e: &Element) -> anyhow::Result<String> {
        Ok(self.get(&format!("/element/{}/text", e.0)).await?.as_str().unwrap_or_default().to_owned())
    }

    /// An attribute or property.
    pub async fn attribute(&self, e: &Element, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self.get(&format!("/element/{}/attribute/{name}", e.0)).await?.as_str().map(str::to_owned))
    }

    /// Run a script in the page; `arguments` as in WebDriver.
    pub async fn execute(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// Run an asynchronous script (it calls its last argument when done).
    pub async fn execute_async(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.post("/execute/async", json!({ "script": script, "args": args })).await
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let b64 = self.get("/screenshot").await?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default())?)
    }

    /// Close the session (and with it the app).
    pub async fn close(&self) -> anyhow::Result<()> {
        self.call(reqwest::Method::DELETE, "", None).await.map(|_| ())
    }
}

fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else {
        format!("\"{text}\"")
    }
}
