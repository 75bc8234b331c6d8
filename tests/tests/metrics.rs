//! `GET /metrics` of a real server: Prometheus' text format behind a
//! bearer token, with devices connected per site, frames and bytes both
//! ways, the feed, the jobs and the store's size, and nothing of a guest.

use lodge_core::visit::GuestForm;
use lodge_tests::site::{LIMIT, TestSite, settled};
use lodge_tests::Server;

/// A sample's value: `name{labels} value`.
fn value(page: &str, name_and_labels: &str) -> Option<u64> {
    page.lines().find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_devices_traffic_feed_jobs_and_store_behind_a_token() {
    let s = TestSite::start_with(|data| Server::start_with(data, &["--metrics-token", "s3cret"])).await;
    let kiosk = s.device("kiosk", "kiosk", None).await;
    let form = GuestForm { name: "Marta Wiśniewska".into(), company: "Acme".into(), host: Some(s.host), consent: true, ..Default::default() };
    kiosk.act(|st| st.register_guest(&kiosk.kiosk(), form)).unwrap();
    settled(&kiosk).await;
    let http = reqwest::Client::new();
    let get = |base: &str, token: Option<&'static str>| {
        let request = http.get(format!("{base}/metrics"));
        match token {
            Some(t) => request.bearer_auth(t).send(),
            None => request.send(),
        }
    };
    // Each instance's page (one on SQLite): each counts its own devices,
    // frames and stores, as Prometheus scrapes them, and sums them.
    let pages = async || {
        let mut pages = Vec::new();
        for base in s.server.http_urls() {
            let answer = get(&base, Some("s3cret")).await.unwrap();
            assert_eq!(answer.headers()[reqwest::header::CONTENT_TYPE], "text/plain; version=0.0.4; charset=utf-8");
            pages.push(answer.text().await.unwrap());
        }
        pages
    };
    let sum = |pages: &[String], name: &str| pages.iter().map(|p| value(p, name).unwrap_or(0)).sum::<u64>();
    for base in s.server.http_urls() {
        assert_eq!(get(&base, None).await.unwrap().status(), reqwest::StatusCode::UNAUTHORIZED);
        assert_eq!(get(&base, Some("guess")).await.unwrap().status(), reqwest::StatusCode::UNAUTHORIZED);
    }

    let site = s.site.to_string();
    let label = format!("{{site=\"{site}\"}}");
    // Both devices connected (the kiosk's hello may still be on its way).
    let deadline = std::time::Instant::now() + LIMIT;
    let connected = loop {
        let n = sum(&pages().await, &format!("lodge_devices_connected{label}"));
        if n == 2 || std::time::Instant::now() > deadline {
            break n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(connected, 2);
    let pages = pages().await;
    assert!(sum(&pages, "lodge_frames_in_total") > 0 && sum(&pages, "lodge_bytes_out_total") > 0, "{pages:?}");
    assert!(sum(&pages, &format!("lodge_store_bytes{label}")) > 0, "{pages:?}");
    // Nothing was set aside, and each page says so.
    assert!(pages.iter().all(|p| value(p, "lodge_changes_set_aside_total") == Some(0)), "{pages:?}");
    for page in &pages {
        // From the registry: the same on every instance.
        assert_eq!(value(page, &format!("lodge_devices_enrolled{label}")), Some(2));
        assert!(value(page, &format!("lodge_feed_seq{label}")).unwrap() > 0, "{page}");
        assert!(page.contains("# TYPE lodge_jobs gauge"), "{page}");
        assert!(!page.contains("Marta"), "no guest's name in the metrics");
    }

    // A server started without a token has no /metrics.
    let plain = TestSite::start().await;
    let status = reqwest::get(format!("{}/metrics", plain.server.http_url())).await.unwrap().status();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_has_transparent_huge_pages_off() {
    // Its allocator would otherwise have the kernel zero 2 MB for every
    // new piece of heap (see `lodge_core::process`).
    let s = TestSite::start().await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.server.pid())).unwrap();
    let thp = status.lines().find(|l| l.starts_with("THP_enabled:")).expect("the kernel reports THP_enabled");
    assert_eq!(thp.split_whitespace().nth(1), Some("0"), "{thp}");
}
