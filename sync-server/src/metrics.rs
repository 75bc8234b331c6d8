//! `GET /metrics` in Prometheus' text format, for the operator's
//! monitoring: devices connected per site, frames and bytes in and out,
//! each site's feed and how far its devices lag behind it, the job queue
//! by state, store sizes, and changes set aside. Only with `serve --metrics-token` (a
//! Prometheus bearer token): without one the route answers 404, and a
//! wrong token 401. Names nothing of a site's people or guests.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{AppError, AppState};

/// Counters the connections and the relay add to.
#[derive(Debug, Default)]
pub struct Traffic {
    frames_in: AtomicU64,
    bytes_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
    set_aside: AtomicU64,
}

impl Traffic {
    /// A frame read from a device.
    pub fn frame_in(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A frame written to a device.
    pub fn frame_out(&self, bytes: usize) {
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A change another instance numbered that this one's store could not
    /// take, set aside (see `crate::relay::merge`): an operator alerts on
    /// it, since the log is the only other place it shows.
    pub fn set_aside(&self) {
        self.set_aside.fetch_add(1, Ordering::Relaxed);
    }
}

/// One sample: `name{labels} value`.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
    let _ = writeln!(out, "{name}{labels} {value}");
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The page, read from the registry, the open sites and the counters.
fn page(state: &AppState) -> Result<String, AppError> {
    let mut out = String::new();
    let traffic = &state.traffic;
    for (name, help, value) in [
        ("lodge_frames_in_total", "Frames read from devices.", &traffic.frames_in),
        ("lodge_bytes_in_total", "Bytes of frames read from devices.", &traffic.bytes_in),
        ("lodge_frames_out_total", "Frames written to devices.", &traffic.frames_out),
        ("lodge_bytes_out_total", "Bytes of frames written to devices.", &traffic.bytes_out),
        ("lodge_changes_set_aside_total", "Changes another instance numbered that this one's store could not take, set aside.", &traffic.set_aside),
    ] {
        family(&mut out, name, "counter", help);
        sample(&mut out, name, &[], value.load(Ordering::Relaxed));
    }
    let sites = state.registry().sites()?;
    let devices = state.registry().devices()?;
    let mut lines: [(String, &str, &str, &str); 6] = [
        (String::new(), "lodge_devices_connected", "gauge", "Devices connected now, per site."),
        (String::new(), "lodge_devices_enrolled", "gauge", "Devices enrolled and not removed, per site."),
        (String::new(), "lodge_feed_seq", "counter", "The last number of the site's change feed."),
        (String::new(), "lodge_feed_lag_max", "gauge", "How far the furthest-behind device of the site was from its feed at its last contact."),
        (String::new(), "lodge_jobs", "gauge", "The site's jobs by state (a quiet site's as they were when its store was closed)."),
        (String::new(), "lodge_store_bytes", "gauge", "The site's store on disk, with its write-ahead log."),
    ];
    let open: std::collections::HashMap<_, _> = state.open_hubs().into_iter().map(|h| (h.site, h)).collect();
    for (site, _) in &sites {
        let id = site.to_string();
        let label = [("site", id.as_str())];
        let enrolled: Vec<_> = devices.iter().filter(|d| d.site == *site && d.revoked_at.is_none()).collect();
        let connected = open.get(site).map_or(0, |h| h.connected().len());
        sample(&mut lines[0].0, lines[0].1, &label, connected as u64);
        sample(&mut lines[1].0, lines[1].1, &label, enrolled.len() as u64);
        let seq = state.registry().seq(*site)?;
        sample(&mut lines[2].0, lines[2].1, &label, seq);
        let seen = state.registry().contacts(*site)?;
        let lag = enrolled.iter().map(|d| seq.saturating_sub(seen.get(&d.device).map_or(0, |c| c.seen_seq))).max().unwrap_or(0);
        sample(&mut lines[3].0, lines[3].1, &label, lag);
        for (job_state, count) in state.job_counts(*site)? {
            sample(&mut lines[4].0, lines[4].1, &[("site", id.as_str()), ("state", job_state.as_str())], count);
        }
        let path = state.site_store_path(*site);
        let wal = path.with_extension("sqlite-wal");
        let bytes = [&path, &wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
        sample(&mut lines[5].0, lines[5].1, &label, bytes);
    }
    for (samples, name, kind, help) in &lines {
        family(&mut out, name, kind, help);
        out.push_str(samples);
    }
    Ok(out)
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let Some(expected) = state.metrics_token.clone() else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // The same time for any wrong token.
    let right = given.is_some_and(|g| {
        use sha2::Digest;
        sha2::Sha256::digest(g.as_bytes()) == sha2::Sha256::digest(expected.as_bytes())
    });
    if !right {
        return Err(AppError::Unauthorized);
    }
    let text = tokio::task::spawn_blocking(move || page(&state)).await??;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}
