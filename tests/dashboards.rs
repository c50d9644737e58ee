//! Every metric the Grafana dashboards query must be one cachegate exports.

use std::collections::HashSet;

fn metric_names_in(expr: &str) -> Vec<String> {
    // A metric name is an identifier of our families that is not a label name or function.
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expr[start..i];
            let prev = expr[..start].chars().last();
            let is_label_value = prev == Some('"') || prev == Some('$');
            if !is_label_value
                && (word.starts_with("redis_")
                    || word.starts_with("memcached_")
                    || word.starts_with("cachegate_"))
            {
                out.push(word.to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

fn exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k == "expr" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    exprs(v, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[test]
fn dashboards_only_use_exported_metrics() {
    let exported: HashSet<&str> = cachegate::telemetry::names().collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("dashboards/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read dashboard");
        let json: serde_json::Value = serde_json::from_str(&text).expect("dashboard is valid JSON");
        let mut all = Vec::new();
        exprs(&json, &mut all);
        assert!(!all.is_empty(), "{} has no queries", path.display());
        for e in &all {
            for name in metric_names_in(e) {
                assert!(
                    exported.contains(name.as_str()),
                    "{}: `{name}` (in `{e}`) is not exported",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "too few metric references checked: {checked}");
}
