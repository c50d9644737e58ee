//! The `cachegate` binary: parse flags, load configuration, start the runtime, run the
//! server. Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use cachegate::sys::CountingAlloc;
use cachegate_config::{Config, LogLevel, CONFIG_FILE_ENV};
use clap::Parser;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// One cache server for Redis and memcached clients.
///
/// Settings come from the built-in defaults, then the --config file (or $CACHEGATE_CONFIG),
/// then CACHEGATE_* environment variables (CACHEGATE_PORT, CACHEGATE_MEMCACHE__PORT…), then
/// these flags. Any setting can be given with --set key=value (dotted for sections, e.g.
/// --set memcache.memory_limit=128).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Redis TCP port (0 = no TCP listener).
    #[arg(long)]
    port: Option<String>,
    /// Redis bind address (repeat for several).
    #[arg(long)]
    bind: Vec<String>,
    /// Redis Unix socket path.
    #[arg(long)]
    unixsocket: Option<String>,
    /// Redis Unix socket permissions (octal).
    #[arg(long)]
    unixsocketperm: Option<String>,
    /// listen() backlog.
    #[arg(long)]
    tcp_backlog: Option<String>,
    /// Close clients idle for this many seconds (0 = never).
    #[arg(long)]
    timeout: Option<String>,
    /// Maximum Redis clients.
    #[arg(long)]
    maxclients: Option<String>,
    /// Number of Redis databases.
    #[arg(long)]
    databases: Option<String>,
    /// Background task frequency (Hz).
    #[arg(long)]
    hz: Option<String>,
    /// Largest bulk string accepted.
    #[arg(long)]
    proto_max_bulk_len: Option<String>,
    /// Input bytes a client may buffer.
    #[arg(long)]
    client_query_buffer_limit: Option<String>,
    /// Network threads (0 = one per core).
    #[arg(long)]
    io_threads: Option<String>,
    /// lock or engine.
    #[arg(long)]
    execution_model: Option<String>,
    /// debug, verbose, notice or warning.
    #[arg(long)]
    loglevel: Option<String>,
    /// Log file ("" = standard error).
    #[arg(long)]
    logfile: Option<String>,
    /// memcached TCP port (0 = off).
    #[arg(long)]
    memcache_port: Option<String>,
    /// memcached bind address (repeat for several).
    #[arg(long)]
    memcache_bind: Vec<String>,
    /// memcached Unix socket path (memcached's -s).
    #[arg(long, short = 's')]
    memcache_unixsocket: Option<String>,
    /// memcached memory for items in MiB (memcached's -m).
    #[arg(long, short = 'm')]
    memcache_memory_limit: Option<String>,
    /// Largest memcached item (memcached's -I).
    #[arg(long, short = 'I')]
    memcache_max_item_size: Option<String>,
    /// memcached UDP port (0 = off).
    #[arg(long)]
    memcache_udp_port: Option<String>,
    /// Prometheus endpoint port (0 = off).
    #[arg(long)]
    metrics_port: Option<String>,
    /// Prometheus endpoint address.
    #[arg(long)]
    metrics_bind: Option<String>,
    /// Any setting as key=value.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

impl Cli {
    /// The flags as (dotted key, value) overrides, in increasing precedence.
    fn overrides(&self) -> Result<Vec<(String, String)>, String> {
        let mut o: Vec<(String, String)> = Vec::new();
        let mut one = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                o.push((k.to_string(), v.clone()));
            }
        };
        one("port", &self.port);
        one("unixsocket", &self.unixsocket);
        one("unixsocketperm", &self.unixsocketperm);
        one("tcp_backlog", &self.tcp_backlog);
        one("timeout", &self.timeout);
        one("maxclients", &self.maxclients);
        one("databases", &self.databases);
        one("hz", &self.hz);
        one("proto_max_bulk_len", &self.proto_max_bulk_len);
        one("client_query_buffer_limit", &self.client_query_buffer_limit);
        one("io_threads", &self.io_threads);
        one("execution_model", &self.execution_model);
        one("loglevel", &self.loglevel);
        one("logfile", &self.logfile);
        one("memcache.port", &self.memcache_port);
        one("memcache.unixsocket", &self.memcache_unixsocket);
        one("memcache.memory_limit", &self.memcache_memory_limit);
        one("memcache.max_item_size", &self.memcache_max_item_size);
        one("memcache.udp_port", &self.memcache_udp_port);
        one("metrics.port", &self.metrics_port);
        one("metrics.bind", &self.metrics_bind);
        if !self.bind.is_empty() {
            o.push(("bind".into(), self.bind.join(" ")));
        }
        if !self.memcache_bind.is_empty() {
            o.push(("memcache.bind".into(), self.memcache_bind.join(" ")));
        }
        for kv in &self.set {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("--set expects key=value, got '{kv}'"))?;
            o.push((k.to_string(), v.to_string()));
        }
        Ok(o)
    }
}

fn init_logging(config: &Config) -> Result<(), String> {
    let level = match config.loglevel {
        LogLevel::Debug => "debug",
        LogLevel::Verbose => "info",
        LogLevel::Notice => "info",
        LogLevel::Warning => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CACHEGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.logfile.is_empty() {
        builder.with_writer(std::io::stderr).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|e| format!("cannot open log file {}: {e}", config.logfile))?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = match cli.overrides() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cachegate: {e}");
            return ExitCode::from(2);
        }
    };
    let file = cli
        .config
        .clone()
        .or_else(|| std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from));
    let config = match Config::load_from_process(file.as_deref(), &overrides) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("cachegate: invalid configuration:\n{errors}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = init_logging(&config) {
        eprintln!("cachegate: {e}");
        return ExitCode::from(2);
    }
    let threads = match config.io_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n as usize,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("cachegate-io")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cachegate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config_file = file.map(|p| p.display().to_string()).unwrap_or_default();
    match runtime.block_on(cachegate::server::run(config, config_file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("cachegate: {e}");
            ExitCode::FAILURE
        }
    }
}
