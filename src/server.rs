//! Building the server from its configuration and running it until shutdown.
//!
//! [`run`] binds every listener first (so a bad address fails startup with a clear error,
//! before anything is served), builds the shared state and its executor, starts the accept
//! loops, the periodic maintenance task (active expiry at `hz`), the metrics exporter, and
//! waits for SIGTERM, SIGINT or the SHUTDOWN command. Shutdown stops accepting, tells every
//! connection to finish, removes Unix socket files and returns.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use cachegate_config::redis_params::PORT_APPLY_ERROR;
use cachegate_config::Config;
use cachegate_storage::clock::SystemClock;
use cachegate_storage::Store;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use cachegate_protocols::memcache::ParserConfig;
use cachegate_storage::mc::{McConfig, McStore};

use crate::clients::Peer;
use crate::conn::memcache::{McCounters, McCtx};
use crate::conn::resp::Accepted;
use crate::engine::{Counters, Executor, Shared, Tunables};
use crate::listener::{bind_all, bind_unix, tune};
use crate::{conn, telemetry};

/// What every connection task shares.
pub struct ServerCtx {
    /// Access to the shared state.
    pub executor: Executor,
    /// Settings read without the lock.
    pub tunables: Arc<Tunables>,
    /// Flips to true when the server is stopping.
    pub shutdown: watch::Sender<bool>,
    /// Open Redis connections (for `maxclients`).
    pub resp_connections: AtomicUsize,
}

/// Sockets bound before serving starts.
struct Bound {
    resp_tcp: Vec<std::net::TcpListener>,
    resp_unix: Option<std::os::unix::net::UnixListener>,
    mc_tcp: Vec<std::net::TcpListener>,
    mc_unix: Option<std::os::unix::net::UnixListener>,
}

/// Settings accepted by the configuration that this build does not implement yet: refusing
/// to start is better than silently ignoring them.
fn unsupported(config: &Config) -> Result<(), String> {
    if config.memcache.keyspace == cachegate_config::Keyspace::Shared {
        return Err("memcache.keyspace = \"shared\" is not supported yet; use \"separate\"".into());
    }
    if config.memcache.udp_port != 0 {
        return Err(
            "memcache.udp_port: the memcached UDP protocol is not supported yet; set 0".into(),
        );
    }
    Ok(())
}

/// The TCP listeners (none if `port` is 0) and Unix socket (none if `path` is empty) of
/// one protocol.
type Side = (
    Vec<std::net::TcpListener>,
    Option<std::os::unix::net::UnixListener>,
);

fn bind_side(
    bind: &[String],
    port: u16,
    backlog: u32,
    path: &str,
    perm: u32,
) -> Result<Side, String> {
    let tcp = if port != 0 {
        bind_all(bind, port, backlog)?
    } else {
        Vec::new()
    };
    let unix = if path.is_empty() {
        None
    } else {
        Some(bind_unix(path, perm)?)
    };
    Ok((tcp, unix))
}

fn bind(config: &Config) -> Result<Bound, String> {
    unsupported(config)?;
    let (resp_tcp, resp_unix) = bind_side(
        &config.bind,
        config.port,
        config.tcp_backlog,
        &config.unixsocket,
        config.unixsocketperm,
    )?;
    let mc = &config.memcache;
    let (mc_tcp, mc_unix) = bind_side(
        &mc.bind,
        mc.port,
        config.tcp_backlog,
        &mc.unixsocket,
        mc.unixsocketperm,
    )?;
    Ok(Bound {
        resp_tcp,
        resp_unix,
        mc_tcp,
        mc_unix,
    })
}

/// 40 random hex characters for `run_id`.
fn run_id() -> String {
    let mut bytes = [0u8; 20];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies the settings the store reads (value limits, encoding thresholds) from `config`;
/// at startup and after CONFIG SET.
pub fn configure_store(store: &mut Store, config: &Config) {
    let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    store.limits.proto_max_bulk_len = size(config.proto_max_bulk_len);
    store.thresholds = cachegate_storage::types::Thresholds {
        hash_max_listpack_entries: size(config.hash_max_listpack_entries),
        hash_max_listpack_value: size(config.hash_max_listpack_value),
        set_max_intset_entries: size(config.set_max_intset_entries),
        zset_max_listpack_entries: size(config.zset_max_listpack_entries),
        zset_max_listpack_value: size(config.zset_max_listpack_value),
        list_max_listpack_size: config.list_max_listpack_size,
        list_compress_depth: size(config.list_compress_depth),
        stream_node_max_bytes: size(config.stream_node_max_bytes),
        stream_node_max_entries: size(config.stream_node_max_entries),
        quicklist_packed_threshold: store.thresholds.quicklist_packed_threshold,
        hll_sparse_max_bytes: size(config.hll_sparse_max_bytes),
    };
}

/// Runs the server until it is told to stop. `config_file` is reported by INFO.
pub async fn run(config: Config, config_file: String) -> Result<(), String> {
    let bound = bind(&config)?;
    let tcp_port = bound
        .resp_tcp
        .first()
        .and_then(|l| l.local_addr().ok())
        .map_or(0, |a| a.port());
    let tunables = Arc::new(Tunables::from_config(&config));
    let mut store = Store::new(config.databases as usize, Box::new(SystemClock));
    configure_store(&mut store, &config);
    let (rebind_tx, mut rebind_rx) =
        tokio::sync::mpsc::unbounded_channel::<Vec<std::net::TcpListener>>();
    let backlog = config.tcp_backlog;
    let rebind = move |cfg: &Config| -> Result<(), String> {
        let listeners = if cfg.port == 0 {
            Vec::new()
        } else {
            bind_all(&cfg.bind, cfg.port, backlog).map_err(|e| {
                tracing::warn!("CONFIG SET could not rebind: {e}");
                PORT_APPLY_ERROR.to_string()
            })?
        };
        rebind_tx
            .send(listeners)
            .map_err(|_| PORT_APPLY_ERROR.to_string())
    };
    let mc_tcp_port = bound
        .mc_tcp
        .first()
        .and_then(|l| l.local_addr().ok())
        .map_or(0, |a| a.port());
    let mc_config = config.memcache.clone();
    let threads = match config.io_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        n => u64::from(n),
    };
    let execution_model = config.execution_model;
    let metrics = config.metrics.clone();
    let hz = config.hz.clamp(1, 500);
    let unixsocket = config.unixsocket.clone();
    let started_unix_ms = cachegate_storage::clock::Clock::now_ms(&SystemClock);
    let server_commands = crate::frontend::admin::ServerHandlers::new(&store.commands)?;
    let shared = Shared {
        store,
        server_commands,
        clients: crate::clients::Clients::new(),
        config,
        config_file,
        counters: Counters::default(),
        started: Instant::now(),
        started_unix_ms,
        run_id: run_id(),
        shutdown: None,
        tunables: tunables.clone(),
        rebind: Some(Box::new(rebind)),
        pause: None,
        startup_memory: crate::sys::allocated_bytes() as u64,
        lazyfree: crate::lazyfree::LazyFree::start(),
        tcp_port,
    };
    let executor = Executor::start(shared, execution_model)?;
    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let ctx = Arc::new(ServerCtx {
        executor,
        tunables,
        shutdown: shutdown_tx,
        resp_connections: AtomicUsize::new(0),
    });

    // Redis TCP listeners, replaced as a group when CONFIG SET changes port or bind.
    let mut tcp_token = spawn_resp_tcp(&ctx, bound.resp_tcp)?;
    let resp_tcp_ctx = ctx.clone();
    let mut stop_rebinds = ctx.shutdown.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                next = rebind_rx.recv() => {
                    let Some(listeners) = next else { return };
                    tcp_token.cancel();
                    match spawn_resp_tcp(&resp_tcp_ctx, listeners) {
                        Ok(t) => tcp_token = t,
                        Err(e) => tracing::warn!("{e}"),
                    }
                }
                _ = stop_rebinds.changed() => {
                    tcp_token.cancel();
                    return;
                }
            }
        }
    });
    if let Some(l) = bound.resp_unix {
        let l = UnixListener::from_std(l).map_err(|e| e.to_string())?;
        tokio::spawn(accept_resp_unix(l, ctx.clone(), unixsocket.clone()));
    }

    // memcached listeners.
    let item_size_max = usize::try_from(mc_config.max_item_size).unwrap_or(usize::MAX);
    let mc_store = Arc::new(McStore::new(
        McConfig {
            max_bytes: usize::try_from(mc_config.memory_limit.saturating_mul(1024 * 1024))
                .unwrap_or(usize::MAX),
            item_size_max,
            ..McConfig::default()
        },
        Box::new(SystemClock),
    ));
    let mc = Arc::new(McCtx {
        store: mc_store,
        counters: McCounters::default(),
        max_connections: u64::from(mc_config.max_connections),
        parser: ParserConfig {
            item_size_max,
            ..ParserConfig::default()
        },
        started: Instant::now(),
        threads,
        tcp_port: mc_tcp_port,
        shutdown: ctx.shutdown.clone(),
    });
    for l in bound.mc_tcp {
        let l = TcpListener::from_std(l).map_err(|e| e.to_string())?;
        tokio::spawn(accept_mc_tcp(l, mc.clone(), ctx.clone()));
    }
    if let Some(l) = bound.mc_unix {
        let l = UnixListener::from_std(l).map_err(|e| e.to_string())?;
        tokio::spawn(accept_mc_unix(l, mc.clone()));
    }
    tokio::spawn(cron(ctx.clone(), mc.clone(), hz));
    if metrics.port != 0 {
        let addr: SocketAddr = format!("{}:{}", metrics.bind, metrics.port)
            .parse()
            .map_err(|_| format!("invalid metrics address {}:{}", metrics.bind, metrics.port))?;
        telemetry::start(addr, ctx.clone(), mc.clone())?;
    }
    tracing::info!(
        port = tcp_port,
        "cachegate {} ready to accept connections",
        crate::VERSION
    );

    tokio::select! {
        _ = shutdown_rx.wait_for(|stop| *stop) => {}
        _ = signal() => {
            tracing::warn!("received a signal, shutting down");
            let _ = ctx.shutdown.send(true);
        }
    }
    // Every connection finishes what it was writing and closes.
    crate::exec!(ctx.executor, |s: &mut Shared| {
        for c in s.clients.iter() {
            c.mailbox.post(crate::mailbox::Mail::Kill);
        }
    });
    // Give connections a moment to see the kill and write what they have.
    let deadline = Instant::now() + Duration::from_secs(2);
    while ctx.resp_connections.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for path in [&unixsocket, &mc_config.unixsocket] {
        if !path.is_empty() {
            let _ = std::fs::remove_file(path);
        }
    }
    tracing::info!("cachegate is now ready to exit, bye bye");
    Ok(())
}

async fn signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// Starts accept loops for a group of TCP listeners; cancelling the token stops them all.
fn spawn_resp_tcp(
    ctx: &Arc<ServerCtx>,
    listeners: Vec<std::net::TcpListener>,
) -> Result<CancellationToken, String> {
    let token = CancellationToken::new();
    for l in listeners {
        let l = TcpListener::from_std(l).map_err(|e| e.to_string())?;
        tokio::spawn(accept_resp_tcp(l, ctx.clone(), token.clone()));
    }
    Ok(token)
}

/// A listener [`accept_loop`] can drive: tokio's TCP and Unix listeners.
trait Accept: Send + Sync + 'static {
    /// What one accept yields.
    type Conn: Send;
    /// Polls for the next connection.
    fn poll_conn(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<Self::Conn>>;
}

impl Accept for TcpListener {
    type Conn = (tokio::net::TcpStream, SocketAddr);
    fn poll_conn(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<Self::Conn>> {
        self.poll_accept(cx)
    }
}

impl Accept for UnixListener {
    type Conn = (tokio::net::UnixStream, tokio::net::unix::SocketAddr);
    fn poll_conn(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<Self::Conn>> {
        self.poll_accept(cx)
    }
}

/// Accepts connections on `l` and hands each to `on_conn` until the server stops or
/// `token` is cancelled. A failed accept (out of file descriptors and the like) backs off
/// briefly instead of spinning.
async fn accept_loop<L: Accept>(
    l: L,
    mut stop: watch::Receiver<bool>,
    token: CancellationToken,
    mut on_conn: impl FnMut(L::Conn) + Send,
) {
    loop {
        let accepted = tokio::select! {
            r = std::future::poll_fn(|cx| l.poll_conn(cx)) => r,
            _ = token.cancelled() => return,
            _ = stop.changed() => return,
        };
        match accepted {
            Ok(conn) => on_conn(conn),
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn raw_fd(s: &impl std::os::fd::AsRawFd) -> i64 {
    i64::from(s.as_raw_fd())
}

async fn accept_resp_tcp(l: TcpListener, ctx: Arc<ServerCtx>, token: CancellationToken) {
    let stop = ctx.shutdown.subscribe();
    accept_loop(l, stop, token, |(stream, peer)| {
        tune(&stream, ctx.tunables.tcp_keepalive.load(Ordering::Relaxed));
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let fd = raw_fd(&stream);
        let accepted = Accepted {
            stream,
            peer: Peer::Tcp { peer, local },
            fd,
        };
        tokio::spawn(conn::resp::serve(Box::new(accepted), ctx.clone()));
    })
    .await;
}

async fn accept_resp_unix(l: UnixListener, ctx: Arc<ServerCtx>, path: String) {
    let stop = ctx.shutdown.subscribe();
    accept_loop(l, stop, CancellationToken::new(), |(stream, _)| {
        let fd = raw_fd(&stream);
        let accepted = Accepted {
            stream,
            peer: Peer::Unix(path.clone()),
            fd,
        };
        tokio::spawn(conn::resp::serve(Box::new(accepted), ctx.clone()));
    })
    .await;
}

async fn accept_mc_tcp(l: TcpListener, mc: Arc<McCtx>, ctx: Arc<ServerCtx>) {
    let stop = mc.shutdown.subscribe();
    accept_loop(l, stop, CancellationToken::new(), |(stream, _)| {
        tune(&stream, ctx.tunables.tcp_keepalive.load(Ordering::Relaxed));
        tokio::spawn(conn::memcache::serve(stream, mc.clone()));
    })
    .await;
}

async fn accept_mc_unix(l: UnixListener, mc: Arc<McCtx>) {
    let stop = mc.shutdown.subscribe();
    accept_loop(l, stop, CancellationToken::new(), |(stream, _)| {
        tokio::spawn(conn::memcache::serve(stream, mc.clone()));
    })
    .await;
}

/// The periodic sweep over Redis clients (redis-server's `clientsCron`): a client quiet for
/// [`conn::resp::RELEASE_AFTER`] is told to give its buffers back, and one idle past
/// `timeout` seconds (not blocked) is closed. Both go through the mailbox, so no connection
/// keeps a timer of its own.
fn clients_cron(s: &mut Shared) {
    let now = s.store.clock_us() / 1_000_000;
    let quiet = conn::resp::RELEASE_AFTER.as_secs() as i64;
    let timeout = i64::from(s.config.timeout);
    for c in s.clients.iter_mut() {
        let idle = now - c.last_interaction;
        if timeout > 0 && idle > timeout && !s.store.blocking.is_blocked(c.id) {
            c.mailbox.post(crate::mailbox::Mail::Kill);
        } else if idle >= quiet && c.qbuf + c.qbuf_free + c.obuf > 0 {
            c.mailbox.post(crate::mailbox::Mail::Release);
            c.qbuf_free = 0;
            c.obuf = 0;
        }
    }
}

/// Items the memcached crawler looks at per tick.
const MC_CRAWL_BUDGET: usize = 4096;

/// Periodic work at `hz`: active expiry within a quarter of each period (redis-server's
/// slow-cycle budget), a step of the memcached crawler, index maintenance (moving resizes
/// along, shrinking emptied indexes), and returning freed memory to the OS.
async fn cron(ctx: Arc<ServerCtx>, mc: Arc<McCtx>, hz: u32) {
    let period = Duration::from_micros(1_000_000 / u64::from(hz));
    let budget = period / 4;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop = ctx.shutdown.subscribe();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        mc.store.crawl(MC_CRAWL_BUDGET);
        ctx.executor
            .run(move |s| {
                s.store.active_expire(budget);
                s.store.maintain();
                clients_cron(s);
                let now = s.store.now_ms();
                let used = s.used_memory().total();
                let c = &mut s.counters;
                c.peak_memory = c.peak_memory.max(used);
                let totals = [
                    s.store.stats.total_commands_processed,
                    c.net_input_bytes,
                    c.net_output_bytes,
                ];
                c.rates.sample(now, totals);
            })
            .await;
        crate::sys::release_free_memory();
    }
}
