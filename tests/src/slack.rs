//! A stand-in for Slack's incoming webhooks on 127.0.0.1 (Slack itself
//! cannot be reached from here): it answers 503 to its first `failures`
//! posts, then 200, and keeps the bodies it took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A running stand-in.
pub struct SlackStandIn {
    /// Its webhook URL (plain http to this machine, which Lodge allows).
    pub url: String,
    /// The bodies it took, in order.
    pub posts: Arc<Mutex<Vec<serde_json::Value>>>,
    /// Every post it was sent, refused ones included.
    pub tries: Arc<AtomicUsize>,
}

impl SlackStandIn {
    /// Start one that refuses its first `failures` posts.
    pub async fn start(failures: usize) -> anyhow::Result<Self> {
        let posts: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let tries = Arc::new(AtomicUsize::new(0));
        let (p, t) = (posts.clone(), tries.clone());
        let app = axum::Router::new().route(
            "/services/T0/B0/secret",
            axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let (p, t) = (p.clone(), t.clone());
                async move {
                    if t.fetch_add(1, Ordering::SeqCst) < failures {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    p.lock().unwrap_or_else(|e| e.into_inner()).push(body);
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/services/T0/B0/secret", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { url, posts, tries })
    }

    /// How many posts it took.
    pub fn taken(&self) -> usize {
        self.posts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
