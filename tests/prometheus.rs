//! A real Prometheus scrapes cachegate's `/metrics` and sees the exporter-compatible names.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cachegate_protocols::resp::Frame;
use common::*;

/// GET `path` from a local HTTP server; returns the body.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    resp.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

fn url_encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn prometheus_scrapes_exporter_names() {
    let bin = require("prometheus");
    let cg = Cachegate::start(&[]);
    let mut c = cg.redis();
    for i in 0..5 {
        assert_eq!(
            cmd(&mut c, &["SET", &format!("k{i}"), "v"]),
            Frame::simple("OK")
        );
    }
    assert_eq!(cmd(&mut c, &["GET", "k1"]), Frame::bulk("v"));

    // Our own endpoint first: the text format with the redis_exporter names.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = http_get(cg.metrics_port, "/metrics").unwrap_or_default();
        if body.contains("redis_db_keys{db=\"db0\"} 5")
            && body.contains("redis_commands_total{cmd=\"set\"} 5")
        {
            assert!(
                body.contains("# TYPE redis_commands_total counter"),
                "{body}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "metrics never showed the keys:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Then a real Prometheus scraping it.
    let dir = std::env::temp_dir().join(format!("cachegate-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cachegate\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
            cg.metrics_port
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let mut prom = Proc {
        child,
        port,
        name: "prometheus",
    };
    wait_for_port(port, &mut prom.child, "prometheus");
    let query = format!(
        "/api/v1/query?query={}",
        url_encode("redis_db_keys{db=\"db0\"}")
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = http_get(port, &query).unwrap_or_default();
        if body.contains("\"success\"") && body.contains("\"5\"]") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never saw redis_db_keys: {body}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let up = http_get(
        port,
        &format!(
            "/api/v1/query?query={}",
            url_encode("up{job=\"cachegate\"}")
        ),
    )
    .unwrap_or_default();
    assert!(up.contains("\"1\"]"), "scrape target not up: {up}");
    drop(prom);
    let _ = std::fs::remove_dir_all(&dir);
}
