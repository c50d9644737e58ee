//! Results: the summary of a finished run, as one human line or one JSON object.
//!
//! Owns the meaning of every reported figure. JSON is written by hand: the object is flat
//! apart from one nested latency object, its only strings are the host and names chosen
//! by this program, and a serializer dependency would buy nothing else.

use std::fmt::Write as _;
use std::time::Duration;

use crate::cli::Config;
use crate::conn::Stats;

/// Everything reported about one run.
#[derive(Debug)]
pub struct Report<'a> {
    /// The configuration that was run.
    pub config: &'a Config,
    /// Merged counters and latencies of all connections.
    pub stats: &'a Stats,
    /// Measured window: from the end of the warm-up (or the start, for `--load`) to the
    /// last measured reply.
    pub elapsed: Duration,
    /// CPU time (user + system) this process used, as a fraction of one core over the
    /// whole run including warm-up; near 1.0 with one thread means the load generator,
    /// not the server, may be what limits throughput.
    pub client_cpu: f64,
}

impl Report<'_> {
    /// Measured replies per second.
    pub fn ops_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.stats.ops as f64 / secs
        } else {
            0.0
        }
    }

    /// Latency at quantile `q` in microseconds (0 when nothing was measured).
    fn latency_us(&self, q: f64) -> f64 {
        if self.stats.latency.is_empty() {
            return 0.0;
        }
        self.stats.latency.value_at_quantile(q) as f64 / 1000.0
    }

    fn max_us(&self) -> f64 {
        self.stats.latency.max() as f64 / 1000.0
    }

    fn mean_us(&self) -> f64 {
        if self.stats.latency.is_empty() {
            return 0.0;
        }
        self.stats.latency.mean() / 1000.0
    }

    fn mode(&self) -> &'static str {
        if self.config.load {
            "load"
        } else if self.config.pingpong {
            "pingpong"
        } else {
            "run"
        }
    }

    /// What was sent: `ratio=S:G`, `pingpong BLPOP/LPUSH`, or the templates' names with
    /// their weights and measured counts.
    fn what(&self) -> String {
        let c = self.config;
        if c.pingpong {
            return "BLPOP/LPUSH pairs".into();
        }
        if c.commands.is_empty() {
            return format!("ratio={}:{}", c.sets, c.gets);
        }
        let mut out = String::from("commands=");
        for (i, (w, t)) in c.commands.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}x{}:{}", t.name, w, self.stats.commands[i]);
        }
        out
    }

    /// One line for people.
    pub fn human(&self) -> String {
        let c = self.config;
        let s = self.stats;
        format!(
            "{} {} {}:{} c={} P={} t={} k={} v={} {} | {:.0} ops/s ({} ops in {:.3} s; {} sets, {} gets) \
             | latency p50 {} p99 {} p99.9 {} max {} | hits {} misses {} errors {} | client cpu {:.0}%",
            self.mode(),
            c.protocol.name(),
            c.host,
            c.port,
            c.connections,
            c.pipeline,
            c.threads,
            c.keyspace,
            c.value_size,
            self.what(),
            self.ops_per_sec(),
            s.ops,
            self.elapsed.as_secs_f64(),
            s.sets,
            s.gets,
            fmt_us(self.latency_us(0.5)),
            fmt_us(self.latency_us(0.99)),
            fmt_us(self.latency_us(0.999)),
            fmt_us(self.max_us()),
            s.hits,
            s.misses,
            s.errors,
            self.client_cpu * 100.0,
        )
    }

    /// One JSON object, no trailing newline. Latencies are in microseconds.
    pub fn json(&self) -> String {
        let c = self.config;
        let s = self.stats;
        let mut out = String::with_capacity(640);
        // Writing into a String cannot fail; the results are ignored for that reason.
        let _ = write!(
            out,
            "{{\"mode\":\"{}\",\"protocol\":\"{}\",\"host\":{},\"port\":{},\"connections\":{},\
             \"pipeline\":{},\"threads\":{},\"keyspace\":{},\"key_prefix\":{},\"value_size\":{},\
             \"ratio\":\"{}:{}\",\"seed\":{},",
            self.mode(),
            c.protocol.name(),
            json_string(&c.host),
            c.port,
            c.connections,
            c.pipeline,
            c.threads,
            c.keyspace,
            json_string(&String::from_utf8_lossy(&c.key_prefix)),
            c.value_size,
            c.sets,
            c.gets,
            c.seed,
        );
        out.push_str("\"commands\":[");
        for (i, (w, t)) in c.commands.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"command\":{},\"name\":{},\"weight\":{},\"count\":{}}}",
                json_string(&t.source),
                json_string(&t.name),
                w,
                s.commands[i]
            );
        }
        let _ = write!(
            out,
            "],\"passes\":{},\"all_ops\":{},",
            c.passes,
            s.ops + s.warmup_ops
        );
        let _ = write!(
            out,
            "\"elapsed_s\":{},\"ops\":{},\"ops_per_sec\":{},\"sets\":{},\"gets\":{},\"hits\":{},\
             \"misses\":{},\"errors\":{},\"latency_us\":{{\"p50\":{},\"p99\":{},\"p999\":{},\
             \"max\":{},\"mean\":{}}},\"client_cpu\":{}}}",
            json_f64(self.elapsed.as_secs_f64()),
            s.ops,
            json_f64(self.ops_per_sec()),
            s.sets,
            s.gets,
            s.hits,
            s.misses,
            s.errors,
            json_f64(self.latency_us(0.5)),
            json_f64(self.latency_us(0.99)),
            json_f64(self.latency_us(0.999)),
            json_f64(self.max_us()),
            json_f64(self.mean_us()),
            json_f64(self.client_cpu),
        );
        out
    }
}

/// Microseconds as a short human figure: `87µs`, `1.25ms`, `2.10s`.
fn fmt_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0}µs")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

/// A JSON number with three decimals; JSON has no NaN or infinity, so those become 0.
fn json_f64(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "0".into()
    }
}

/// A JSON string literal with the escapes RFC 8259 requires.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(json_string("127.0.0.1"), "\"127.0.0.1\"");
    }

    #[test]
    fn json_numbers_are_finite() {
        assert_eq!(json_f64(1.0), "1.000");
        assert_eq!(json_f64(f64::NAN), "0");
        assert_eq!(json_f64(f64::INFINITY), "0");
    }

    #[test]
    fn human_latency_units() {
        assert_eq!(fmt_us(87.4), "87µs");
        assert_eq!(fmt_us(1250.0), "1.25ms");
        assert_eq!(fmt_us(2_100_000.0), "2.10s");
    }
}
