//! A stand-in for the SMS API (Twilio's shape), which cannot exist here:
//! the server's real SMS client posts to it, and it keeps what it took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One text message as the SMS API received it.
#[derive(Debug, Clone)]
pub struct Text {
    /// To.
    pub to: String,
    /// From.
    pub from: String,
    /// The message.
    pub body: String,
    /// The account it was sent under.
    pub account: String,
}

/// A stand-in for the SMS API: answers 503 to the first `failures` posts,
/// then 201, and records what it took.
pub async fn sms_api(failures: usize) -> (String, Arc<Mutex<Vec<Text>>>, Arc<AtomicUsize>) {
    let texts: Arc<Mutex<Vec<Text>>> = Arc::default();
    let tries = Arc::new(AtomicUsize::new(0));
    let (t, n) = (texts.clone(), tries.clone());
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        axum::routing::post(
            move |axum::extract::Path(account): axum::extract::Path<String>,
                  headers: axum::http::HeaderMap,
                  axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let (t, n) = (t.clone(), n.clone());
                async move {
                    // Basic authentication of the account and its token.
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    if auth != format!("Basic {}", base64_of(&format!("{account}:secret-token"))) {
                        return axum::http::StatusCode::UNAUTHORIZED;
                    }
                    if n.fetch_add(1, Ordering::SeqCst) < failures {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
                    t.lock().unwrap().push(Text { to: get("To"), from: get("From"), body: get("Body"), account });
                    axum::http::StatusCode::CREATED
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, texts, tries)
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
