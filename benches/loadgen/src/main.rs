//! `cachegate-loadgen`: a load generator for RESP and memcached text servers: GET/SET at a
//! fixed mix, any templated RESP command (`--command`), or BLPOP/LPUSH ping-pong.
//!
//! This module owns the run as a whole: parse the command line, open every connection up
//! front (so connecting is not part of the measured time and a refused connection fails
//! the run before any load is sent), spread the connections over `--threads` OS threads
//! each running a single-threaded tokio runtime, wait for them, merge their statistics
//! and print the report. Exit status: 0 on success, 1 when the run failed (connection,
//! timeout or protocol error, or errors during `--load`), 2 on bad usage.
//!
//! See `benches/README.md` for how the side-by-side benchmark uses it.

#[cfg(test)]
mod alloc_test;
mod cli;
mod conn;
mod pingpong;
mod report;
mod request;
mod rng;
mod scan;
mod template;

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::cli::{Args, Config};
use crate::conn::{Conn, ConnError, Recorder, Shared, Stats, ThreadCtx, Workload};
use crate::pingpong::Pair;
use crate::report::Report;
use crate::request::Encoder;
use crate::rng::Rng;

fn main() -> ExitCode {
    let config = match Config::from_args(Args::parse()) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("cachegate-loadgen: {msg}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("cachegate-loadgen: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the configured load and prints the report; the error is a message for the user.
fn run(config: &Config) -> Result<(), String> {
    let addr = resolve(&config.host, config.port)?;
    let streams = connect_all(addr, config)?;

    let cpu_before = cpu_time();
    let start = Instant::now();
    let measure_start = if config.load {
        start
    } else {
        start + config.warmup
    };
    let shared = Arc::new(Shared {
        measure_start,
        deadline: if config.load {
            None
        } else {
            config.duration.map(|d| measure_start + d)
        },
        budget: if config.load {
            None
        } else {
            config.requests.map(AtomicU64::new)
        },
        abort: AtomicBool::new(false),
        io_timeout: config.timeout,
    });
    let encoder = Arc::new(
        Encoder::new(config.protocol, &config.key_prefix, config.value_size)
            .with_commands(config.commands.iter().map(|(_, t)| t.clone()).collect()),
    );

    // Connection i runs on thread i % threads; in ping-pong mode pair p (connections 2p
    // and 2p+1) runs on thread p % threads.
    let mut per_thread: Vec<Vec<Job>> = (0..config.threads).map(|_| Vec::new()).collect();
    if config.pingpong {
        let mut streams = streams.into_iter().enumerate();
        while let (Some((i, popper)), Some((_, pusher))) = (streams.next(), streams.next()) {
            let (pair, pops) = pingpong::role(i);
            debug_assert!(pops);
            per_thread[pair % config.threads].push(Job::Pair(i, popper, pusher));
        }
    } else {
        for (i, stream) in streams.into_iter().enumerate() {
            per_thread[i % config.threads].push(Job::Conn(i, stream));
        }
    }
    let handles: Vec<_> = per_thread
        .into_iter()
        .enumerate()
        .map(|(t, conns)| {
            let config = config.clone();
            let shared = Arc::clone(&shared);
            let encoder = Arc::clone(&encoder);
            thread::Builder::new()
                .name(format!("loadgen-{t}"))
                .spawn(move || drive_thread(conns, &config, shared, encoder))
                .map_err(|e| format!("cannot start driver thread: {e}"))
        })
        .collect::<Result<_, _>>()?;

    let mut total = Stats::new();
    let mut failures: Vec<(usize, String)> = Vec::new();
    for handle in handles {
        let (results, latencies) = handle
            .join()
            .map_err(|_| "a driver thread panicked".to_string())??;
        total.merge(&latencies);
        for (i, result) in results {
            match result {
                Ok(stats) => total.merge(&stats),
                Err(e) => failures.push((i, e.to_string())),
            }
        }
    }
    let wall = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);

    if let Some((i, first)) = failures.iter().min_by_key(|(i, _)| *i) {
        let more = match failures.len() {
            1 => String::new(),
            n => format!(" ({} connections failed)", n),
        };
        return Err(format!("connection {i} to {addr}: {first}{more}"));
    }

    let elapsed = total
        .last_reply
        .map(|t| t.saturating_duration_since(measure_start))
        .unwrap_or_default();
    let report = Report {
        config,
        stats: &total,
        elapsed,
        client_cpu: cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9),
    };
    if config.json {
        eprintln!("{}", report.human());
        println!("{}", report.json());
    } else {
        println!("{}", report.human());
    }
    if config.load && total.errors > 0 {
        let what = if config.commands.is_empty() {
            "SETs"
        } else {
            "requests"
        };
        return Err(format!(
            "{} of {} {what} failed during --load; the keyspace is incomplete",
            total.errors, total.ops
        ));
    }
    Ok(())
}

/// Connection index and outcome, for each connection a thread drove.
type ThreadResults = Vec<(usize, Result<Stats, ConnError>)>;

/// What one task drives: a connection (by index), or a ping-pong pair (by the popper's
/// index) with its popper and pusher.
enum Job {
    Conn(usize, TcpStream),
    Pair(usize, TcpStream, TcpStream),
}

/// A job ready to run.
enum Task {
    Conn(Box<Conn>),
    Pair(Box<Pair>),
}

/// Registers a connected socket with the thread's runtime.
fn register(i: usize, stream: TcpStream) -> Result<tokio::net::TcpStream, String> {
    tokio::net::TcpStream::from_std(stream)
        .map_err(|e| format!("connection {i}: cannot register socket: {e}"))
}

/// Body of one driver thread: a single-threaded runtime running its connections, all
/// recording latencies into one histogram; returns each connection's outcome and the
/// thread's latencies (in an otherwise empty [`Stats`]).
fn drive_thread(
    jobs: Vec<Job>,
    config: &Config,
    shared: Arc<Shared>,
    encoder: Arc<Encoder>,
) -> Result<(ThreadResults, Stats), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    let latency = Recorder::new();
    let ctx = ThreadCtx {
        protocol: config.protocol,
        pipeline: config.pipeline,
        encoder,
        shared: Arc::clone(&shared),
        latency: latency.clone(),
    };
    // A LocalSet: the tasks share the thread's Recorder, so they must stay on it.
    let local = tokio::task::LocalSet::new();
    let results = local.block_on(&runtime, async {
        let mut tasks = Vec::with_capacity(jobs.len());
        for job in jobs {
            let registered = match job {
                Job::Conn(i, stream) => register(i, stream).map(|s| (i, s, None)),
                Job::Pair(i, popper, pusher) => {
                    register(i, popper).and_then(|p| Ok((i, p, Some(register(i + 1, pusher)?))))
                }
            };
            let (i, stream, pusher) = match registered {
                Ok(r) => r,
                Err(e) => {
                    shared.abort.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
            // Built here, outside the task, so the task owns everything it uses.
            let task = match pusher {
                None => Task::Conn(Box::new(Conn::new(stream, i, workload(config, i), &ctx))),
                Some(pusher) => Task::Pair(Box::new(Pair::new(
                    pingpong::role(i).0,
                    stream,
                    pusher,
                    Arc::clone(&shared),
                    latency.clone(),
                ))),
            };
            let run = async move {
                match task {
                    Task::Conn(conn) => conn.run().await,
                    Task::Pair(pair) => pair.run().await,
                }
            };
            let shared = Arc::clone(&shared);
            tasks.push((
                i,
                tokio::task::spawn_local(async move {
                    let result = run.await;
                    if result.is_err() {
                        // Let every other connection stop after its current batch.
                        shared.abort.store(true, Ordering::Relaxed);
                    }
                    result
                }),
            ));
        }
        let mut results = Vec::with_capacity(tasks.len());
        for (i, task) in tasks {
            let result = task
                .await
                .map_err(|e| format!("connection {i}: task failed: {e}"))?;
            results.push((i, result));
        }
        Ok(results)
    })?;
    let mut latencies = Stats::new();
    latency.add_to(&mut latencies);
    Ok((results, latencies))
}

/// The requests connection `i` sends.
fn workload(config: &Config, i: usize) -> Workload {
    if config.load {
        // Contiguous ranges: connection i writes keys [K·i/N, K·(i+1)/N) in order.
        let n = config.connections as u128;
        let k = u128::from(config.keyspace);
        let bound = |j: u128| (k * j / n) as u64;
        Workload::Load {
            first: bound(i as u128),
            next: bound(i as u128),
            end: bound(i as u128 + 1),
            passes_left: config.passes - 1,
            // At most MAX_COMMANDS templates, so the count fits a u8.
            templates: config.commands.len() as u8,
            template: 0,
        }
    } else if !config.commands.is_empty() {
        Workload::Commands {
            keyspace: config.keyspace,
            cumulative: config
                .commands
                .iter()
                .scan(0, |sum, (w, _)| {
                    *sum += w;
                    Some(*sum)
                })
                .collect(),
            rng: Rng::new(config.seed, i as u64),
        }
    } else {
        Workload::Mixed {
            keyspace: config.keyspace,
            sets: config.sets,
            gets: config.gets,
            rng: Rng::new(config.seed, i as u64),
        }
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port} resolves to no address"))
}

/// Opens every connection, with the configured timeout, before any load is sent.
fn connect_all(addr: SocketAddr, config: &Config) -> Result<Vec<TcpStream>, String> {
    (0..config.connections)
        .map(|i| {
            let fail = |what: &str, e: std::io::Error| {
                format!(
                    "connection {i} of {} to {addr}: {what}: {e}",
                    config.connections
                )
            };
            let stream = TcpStream::connect_timeout(&addr, config.timeout)
                .map_err(|e| fail("cannot connect", e))?;
            // Batches are complete requests: send them now, do not wait to coalesce.
            stream
                .set_nodelay(true)
                .map_err(|e| fail("cannot set TCP_NODELAY", e))?;
            stream
                .set_nonblocking(true)
                .map_err(|e| fail("cannot make socket non-blocking", e))?;
            Ok(stream)
        })
        .collect()
}

/// User plus system CPU time used so far by this process (zero if unavailable, which
/// only makes the reported client CPU figure read 0).
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes a `struct rusage` into the zero-initialised value we pass
    // and reads nothing else; the struct is plain old data.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
