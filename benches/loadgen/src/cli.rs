//! Command line: the options, their defaults, and validation into a [`Config`].
//!
//! Owns every limit the tool puts on user input, so the rest of the program can take its
//! configuration as given (non-zero counts, finite durations, keys that fit the protocol).

use std::time::Duration;

use clap::Parser;

use crate::request::{Encoder, Protocol, KEY_DIGITS, MAX_KEYSPACE, MEMCACHE_MAX_KEY};
use crate::template::{split_weight, Template, MAX_COMMANDS};

/// Run time used when neither `--duration` nor `--requests` is given, so a run is always
/// bounded.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// Drive GET/SET load, any templated RESP command, or BLPOP/LPUSH ping-pong at a RESP or
/// memcached server and report throughput and latency.
#[derive(Debug, Parser)]
#[command(name = "cachegate-loadgen", version)]
pub struct Args {
    /// Wire protocol: `resp` (Redis) or `memcache` (memcached text).
    #[arg(long, value_enum, default_value_t = Protocol::Resp)]
    pub protocol: Protocol,
    /// Server host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port [default: 6379 for resp, 11211 for memcache].
    #[arg(long)]
    pub port: Option<u16>,
    /// Number of connections.
    #[arg(short = 'c', long, default_value_t = 50)]
    pub connections: usize,
    /// Requests in flight per connection: each batch is sent as one write and all of
    /// its replies are read before the next batch.
    #[arg(short = 'P', long, default_value_t = 1)]
    pub pipeline: usize,
    /// Number of distinct keys; each request picks one uniformly at random.
    #[arg(short = 'k', long, default_value_t = 100_000)]
    pub keyspace: u64,
    /// Key prefix; keys are the prefix followed by a 12-digit zero-padded number.
    #[arg(long, default_value = "key:")]
    pub key_prefix: String,
    /// Value size in bytes for SET.
    #[arg(short = 'd', long, default_value_t = 64)]
    pub value_size: usize,
    /// SET:GET mix, e.g. `1:10`, `1:0` (SETs only), `0:1` (GETs only).
    #[arg(long, default_value = "1:10", value_parser = parse_ratio)]
    pub ratio: (u64, u64),
    /// Send this RESP command instead of GET/SET: `[WEIGHT:]TEMPLATE`, arguments separated
    /// by spaces, with `{key}` (the key number, 12 digits), `{keynum}` (unpadded),
    /// `{value}` (--value-size bytes), `{n}` (per-connection counter), `{conn}`
    /// (connection index); `{{`/`}}` for braces. Repeat to mix commands by weight (1 by
    /// default), e.g. `--command '3:LPUSH l:{key} {value}' --command 'LPOP l:{key}'`.
    /// Replaces --ratio and --key-prefix. With --load, every key gets every command once.
    #[arg(long = "command", value_name = "TEMPLATE")]
    pub commands: Vec<String>,
    /// With --load: walk the keyspace this many times (e.g. to push many elements per
    /// list).
    #[arg(long, default_value_t = 1)]
    pub passes: u64,
    /// Blocking round trips instead of a load: connections pair up, one loops
    /// `BLPOP q<i> 0` while the other sends `LPUSH q<i> x` after each BLPOP; reports
    /// round trips per second. Needs an even --connections; --pipeline must be 1.
    #[arg(long)]
    pub pingpong: bool,
    /// Measured seconds, after the warm-up [default: 10 unless --requests is given].
    #[arg(long, value_parser = parse_positive_secs)]
    pub duration: Option<Duration>,
    /// Measured requests in total over all connections; with --duration, whichever
    /// limit is reached first ends the run.
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Seconds of load sent before measuring starts.
    #[arg(long, default_value = "0", value_parser = parse_secs)]
    pub warmup: Duration,
    /// OS threads driving the connections (connections are spread round-robin).
    #[arg(short = 't', long, default_value_t = 1)]
    pub threads: usize,
    /// Seed of the key and operation sequence; equal seeds send equal requests.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write keys 0..keyspace-1 once each with SET (connections take contiguous ranges,
    /// in order, pipelined) and exit. Ignores --ratio, --duration, --requests, --warmup.
    #[arg(long)]
    pub load: bool,
    /// Print the result as one JSON object on stdout (the human line goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Seconds a connection may wait for a batch's replies (and for connecting) before
    /// the run fails.
    #[arg(long, default_value = "10", value_parser = parse_positive_secs)]
    pub timeout: Duration,
}

/// Validated run configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Wire protocol.
    pub protocol: Protocol,
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connections (≥ 1).
    pub connections: usize,
    /// Requests per batch (≥ 1).
    pub pipeline: usize,
    /// Distinct keys (1 ..= 10^12).
    pub keyspace: u64,
    /// Key prefix bytes.
    pub key_prefix: Vec<u8>,
    /// SET value size.
    pub value_size: usize,
    /// SET weight.
    pub sets: u64,
    /// GET weight.
    pub gets: u64,
    /// Compiled `--command` templates and their weights (empty: GET/SET).
    pub commands: Vec<(u64, Template)>,
    /// `--load` walks of the keyspace (≥ 1).
    pub passes: u64,
    /// `--pingpong` mode.
    pub pingpong: bool,
    /// Measured time limit, if any (always set unless `requests` is).
    pub duration: Option<Duration>,
    /// Measured request limit, if any.
    pub requests: Option<u64>,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Driver threads (1 ..= connections).
    pub threads: usize,
    /// Random seed.
    pub seed: u64,
    /// `--load` mode.
    pub load: bool,
    /// JSON output.
    pub json: bool,
    /// Per-batch and connect timeout.
    pub timeout: Duration,
}

impl Config {
    /// Checks `args` and fills in defaults; the error is a message for the user.
    pub fn from_args(args: Args) -> Result<Config, String> {
        if args.connections == 0 || args.connections > 10_000 {
            return Err("--connections must be between 1 and 10000".into());
        }
        if args.pipeline == 0 || args.pipeline > 100_000 {
            return Err("--pipeline must be between 1 and 100000".into());
        }
        if args.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        if args.keyspace == 0 || args.keyspace > MAX_KEYSPACE {
            return Err(format!("--keyspace must be between 1 and {MAX_KEYSPACE}"));
        }
        if args.value_size > 512 * 1024 * 1024 {
            return Err("--value-size must be at most 512 MiB".into());
        }
        let prefix = args.key_prefix.into_bytes();
        // memcached keys end at the first space or control character; RESP would take
        // anything, but keeping the same rule for both keeps the two loads identical.
        if prefix.iter().any(|&b| b <= b' ' || b == 0x7f) {
            return Err("--key-prefix must not contain spaces or control characters".into());
        }
        if args.protocol == Protocol::Memcache && prefix.len() + KEY_DIGITS > MEMCACHE_MAX_KEY {
            return Err(format!(
                "--key-prefix too long: memcached keys are at most {MEMCACHE_MAX_KEY} bytes"
            ));
        }
        if args.requests == Some(0) {
            return Err("--requests must be at least 1".into());
        }
        let duration = match (args.duration, args.requests) {
            (None, None) => Some(DEFAULT_DURATION),
            (d, _) => d,
        };
        if args.passes == 0 || args.passes > 1_000_000 {
            return Err("--passes must be between 1 and 1000000".into());
        }
        if args.passes > 1 && !args.load {
            return Err("--passes only applies to --load".into());
        }
        if args.commands.len() > MAX_COMMANDS {
            return Err(format!("at most {MAX_COMMANDS} --command templates"));
        }
        if !args.commands.is_empty() && args.protocol != Protocol::Resp {
            return Err("--command sends RESP commands: use --protocol resp".into());
        }
        let value = Encoder::value(args.value_size);
        let commands = args
            .commands
            .iter()
            .map(|spec| {
                let (weight, template) = split_weight(spec)?;
                Ok((weight, Template::compile(template, &value)?))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if args.pingpong {
            if args.protocol != Protocol::Resp {
                return Err("--pingpong needs --protocol resp (BLPOP/LPUSH)".into());
            }
            if args.load || !commands.is_empty() {
                return Err("--pingpong cannot be combined with --load or --command".into());
            }
            if args.connections < 2 || !args.connections.is_multiple_of(2) {
                return Err("--pingpong needs an even --connections (pairs)".into());
            }
            if args.pipeline != 1 {
                return Err("--pingpong has one round trip in flight per pair: -P 1".into());
            }
        }
        let threads = if args.pingpong {
            // A pair runs on one thread, so more threads than pairs would idle.
            args.threads.min(args.connections / 2)
        } else {
            args.threads.min(args.connections)
        };
        let (sets, gets) = args.ratio;
        Ok(Config {
            port: args.port.unwrap_or(args.protocol.default_port()),
            protocol: args.protocol,
            host: args.host,
            connections: args.connections,
            pipeline: args.pipeline,
            keyspace: args.keyspace,
            key_prefix: prefix,
            value_size: args.value_size,
            sets,
            gets,
            commands,
            passes: args.passes,
            pingpong: args.pingpong,
            duration,
            requests: args.requests,
            warmup: args.warmup,
            threads,
            seed: args.seed,
            load: args.load,
            json: args.json,
            timeout: args.timeout,
        })
    }
}

/// Parses `SETS:GETS`; both weights at most 10^6 and not both zero.
fn parse_ratio(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("expected SET:GET such as 1:10, got {s:?}"))?;
    let weight = |w: &str| -> Result<u64, String> {
        w.trim()
            .parse::<u64>()
            .ok()
            .filter(|&n| n <= 1_000_000)
            .ok_or_else(|| format!("bad weight {w:?} in ratio {s:?} (0 to 1000000)"))
    };
    let (sets, gets) = (weight(a)?, weight(b)?);
    if sets == 0 && gets == 0 {
        return Err("ratio 0:0 sends nothing".into());
    }
    Ok((sets, gets))
}

/// Parses a non-negative number of seconds (fractions allowed, at most a day).
fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected seconds, got {s:?}"))?;
    if !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("seconds must be between 0 and 86400, got {s}"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Parses a positive number of seconds.
fn parse_positive_secs(s: &str) -> Result<Duration, String> {
    let d = parse_secs(s)?;
    if d.is_zero() {
        return Err("must be more than 0 seconds".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, String> {
        let args =
            Args::try_parse_from(std::iter::once("cachegate-loadgen").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        Config::from_args(args)
    }

    #[test]
    fn ratios() {
        assert_eq!(parse_ratio("1:10"), Ok((1, 10)));
        assert_eq!(parse_ratio("1:0"), Ok((1, 0)));
        assert_eq!(parse_ratio("0:1"), Ok((0, 1)));
        assert!(parse_ratio("0:0").is_err());
        assert!(parse_ratio("1").is_err());
        assert!(parse_ratio("a:b").is_err());
        assert!(parse_ratio("-1:2").is_err());
        assert!(parse_ratio("1:2000000").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("inf").is_err());
        assert!(parse_positive_secs("0").is_err());
    }

    #[test]
    fn defaults_bound_the_run() {
        let c = config(&[]).unwrap();
        assert_eq!(c.port, 6379);
        assert_eq!(c.duration, Some(Duration::from_secs(10)));
        let c = config(&["--protocol", "memcache", "--requests", "5"]).unwrap();
        assert_eq!(c.port, 11211);
        assert_eq!((c.duration, c.requests), (None, Some(5)));
        let c = config(&["--requests", "5", "--duration", "2"]).unwrap();
        assert_eq!(
            (c.duration, c.requests),
            (Some(Duration::from_secs(2)), Some(5))
        );
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            &["--connections", "0"][..],
            &["--pipeline", "0"],
            &["--threads", "0"],
            &["--keyspace", "0"],
            &["--keyspace", "1000000000001"],
            &["--key-prefix", "a b"],
            &["--requests", "0"],
            &["--duration", "0"],
        ] {
            assert!(config(bad).is_err(), "{bad:?}");
        }
        let long = "x".repeat(239);
        assert!(config(&["--protocol", "memcache", "--key-prefix", &long]).is_err());
        assert!(config(&["--key-prefix", &long]).is_ok());
    }

    #[test]
    fn threads_never_exceed_connections() {
        let c = config(&["-c", "2", "-t", "8"]).unwrap();
        assert_eq!(c.threads, 2);
        let c = config(&["-c", "6", "-t", "8", "--pingpong"]).unwrap();
        assert_eq!(c.threads, 3, "one thread per pair at most");
    }

    #[test]
    fn commands_are_compiled_with_weights() {
        let c = config(&[
            "--command",
            "3:LPUSH l:{key} {value}",
            "--command",
            "LPOP l:{key}",
            "-d",
            "2",
        ])
        .unwrap();
        let summary: Vec<_> = c
            .commands
            .iter()
            .map(|(w, t)| (*w, t.name.as_str()))
            .collect();
        assert_eq!(summary, [(3, "LPUSH"), (1, "LPOP")]);
        assert!(config(&["--command", "GET {nope}"]).is_err());
        assert!(config(&["--protocol", "memcache", "--command", "GET x"]).is_err());
        let many: Vec<&str> = ["--command", "PING"].repeat(MAX_COMMANDS + 1);
        assert!(config(&many).is_err());
    }

    #[test]
    fn pingpong_and_passes_are_checked() {
        assert!(config(&["--pingpong", "-c", "4"]).is_ok());
        assert!(config(&["--pingpong", "-c", "3"]).is_err());
        assert!(config(&["--pingpong", "-c", "4", "-P", "2"]).is_err());
        assert!(config(&["--pingpong", "--load"]).is_err());
        assert!(config(&["--pingpong", "--protocol", "memcache"]).is_err());
        assert!(config(&["--passes", "2"]).is_err(), "only with --load");
        assert!(config(&["--passes", "2", "--load"]).is_ok());
        assert!(config(&["--passes", "0", "--load"]).is_err());
    }
}
