#!/usr/bin/env python3
"""Side-by-side benchmark: cachegate against redis-server and memcached.

Starts cachegate, redis-server and memcached pinned to one CPU core, drives identical
load at each with cachegate-loadgen pinned to another core, and prints cachegate/peer
ratios: throughput and p99 latency as the median of per-round ratios (each round runs
both servers back to back, the one going first alternating between rounds), plus
memory as bytes per item after loading a fixed number of keys into a fresh server.

Python 3 standard library only. Every process it starts is killed by pid when it
exits, including on Ctrl-C, SIGTERM and errors; every step has a time limit.

Run `python3 benches/side_by_side.py --help` for the options; benches/README.md
explains the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent

RESP = "resp"
MEMCACHE = "memcache"


@dataclass(frozen=True)
class Scenario:
    """One table row: a protocol, an operation and a pipeline depth."""

    name: str
    protocol: str
    op: str  # "get" or "set"
    pipeline: int

    @property
    def ratio(self) -> str:
        return "0:1" if self.op == "get" else "1:0"


SCENARIOS = [
    Scenario("resp get P=16", RESP, "get", 16),
    Scenario("resp set P=16", RESP, "set", 16),
    Scenario("resp get P=1", RESP, "get", 1),
    Scenario("resp set P=1", RESP, "set", 1),
    Scenario("memcache get P=1", MEMCACHE, "get", 1),
    Scenario("memcache set P=1", MEMCACHE, "set", 1),
    Scenario("memcache get P=16", MEMCACHE, "get", 16),
]

PEER_NAME = {RESP: "redis-server", MEMCACHE: "memcached"}

# Above this fraction of its core, the load generator may be what limits throughput.
CLIENT_CPU_WARN = 0.90

# Below this fraction of their cores for both the server and the load generator, with 50
# connections pushing, neither was the bottleneck: a third party took CPU time.
IDLE_CPU_WARN = 0.80

# Seconds a server gets to start accepting connections.
START_TIMEOUT = 15.0


def log(msg: str) -> None:
    """Progress goes to stderr so stdout stays clean for --json."""
    print(msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A failure that ends the whole benchmark (a message for the user)."""


# --------------------------------------------------------------------------------------
# Processes


@dataclass
class Server:
    """A server process pinned to the server core, serving one or both protocols."""

    label: str
    argv: list[str]
    ports: dict[str, int]  # protocol -> port
    cpu: str
    log_path: Path
    proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log_file:
            # A session of its own: a Ctrl-C at the terminal reaches only this script,
            # which then stops the servers itself, in order, by pid.
            self.proc = subprocess.Popen(
                ["taskset", "-c", self.cpu, *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _STARTED.append(self)
        deadline = time.monotonic() + START_TIMEOUT
        for port in self.ports.values():
            while not port_accepts(port):
                if self.proc.poll() is not None:
                    raise BenchError(
                        f"{self.label} exited with status {self.proc.returncode} while "
                        f"starting\n  command: {shlex.join(self.argv)}\n{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"{self.label} did not accept connections on port {port} within "
                        f"{START_TIMEOUT:.0f} s\n  command: {shlex.join(self.argv)}\n"
                        f"{self.log_tail()}"
                    )
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        # taskset execs the server, so the child's pid is the server's.
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def rss_bytes(self) -> int:
        """VmRSS from /proc/<pid>/status, in bytes."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise BenchError(f"no VmRSS for {self.label} (pid {self.pid})")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the whole process (all threads) so far."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                stat = f.read()
        except OSError:
            return 0.0
        # Fields after the parenthesised command name; utime and stime are 14 and 15.
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "  (no log)"
        return "\n".join("  | " + l for l in text) or "  (empty log)"


# Every server started, so the exit path can stop them all.
_STARTED: list[Server] = []


def stop_all() -> None:
    for server in reversed(_STARTED):
        try:
            server.stop()
        except Exception as e:  # keep stopping the others
            log(f"warning: could not stop {server.label} (pid {server.pid}): {e}")
    _STARTED.clear()


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


_USED_PORTS: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on right now (never the same one twice)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _USED_PORTS:
            _USED_PORTS.add(port)
            return port
    raise BenchError("could not find a free loopback port")


# --------------------------------------------------------------------------------------
# Server recipes


@dataclass
class Recipe:
    """How to start one kind of server: a command template and the protocols it serves.

    The template is formatted with {port} (RESP) and {memcache_port}; a protocol whose
    placeholder does not appear in it is not served.
    """

    label: str
    template: list[str]

    @property
    def protocols(self) -> list[str]:
        joined = " ".join(self.template)
        out = []
        if "{port}" in joined:
            out.append(RESP)
        if "{memcache_port}" in joined:
            out.append(MEMCACHE)
        return out

    def start(self, cpu: str, logdir: Path, only: Optional[str] = None) -> Server:
        """Starts an instance on fresh ports; `only` limits which ports are waited for."""
        ports = {p: free_port() for p in self.protocols}
        argv = [
            a.replace("{port}", str(ports.get(RESP, 0))).replace(
                "{memcache_port}", str(ports.get(MEMCACHE, 0))
            )
            for a in self.template
        ]
        if only is not None:
            ports = {only: ports[only]}
        n = len(list(logdir.iterdir()))
        server = Server(self.label, argv, ports, cpu, logdir / f"{n:02d}-{self.label}.log")
        server.start()
        return server


def redis_recipe(binary: str) -> Recipe:
    return Recipe(
        "redis-server",
        [binary, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no"],
    )


def memcached_recipe(binary: str) -> Recipe:
    argv = [binary, "-p", "{memcache_port}", "-l", "127.0.0.1", "-U", "0", "-t", "1",
            "-m", "1024"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root without it
    return Recipe("memcached", argv)


def cachegate_recipe(binary: str, extra: str) -> Recipe:
    return Recipe(
        "cachegate",
        [binary, "--port", "{port}", "--memcache-port", "{memcache_port}", *shlex.split(extra)],
    )


# --------------------------------------------------------------------------------------
# Load generator


@dataclass
class RunResult:
    ops_per_sec: float
    p99_us: float
    p50_us: float
    client_cpu: float
    server_cpu: float
    errors: int
    misses: int


class Loadgen:
    def __init__(self, binary: str, cpu: str, args: argparse.Namespace):
        self.binary = binary
        self.cpu = cpu
        self.args = args

    def argv(self, protocol: str, port: int, extra: list[str]) -> list[str]:
        return ["taskset", "-c", self.cpu, self.binary, "--protocol", protocol,
                "--host", "127.0.0.1", "--port", str(port), "--value-size",
                str(self.args.value_size), "--json", "--timeout", "10", *extra]

    def _run(self, argv: list[str], limit: float) -> dict:
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            raise BenchError(f"load generator ran past {limit:.0f} s: {shlex.join(argv)}")
        if done.returncode != 0:
            raise BenchError(f"load generator failed ({done.returncode}): "
                             f"{done.stderr.strip() or '(no message)'}\n  command: {shlex.join(argv)}")
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError:
            raise BenchError(f"load generator printed no JSON: {done.stdout[:200]!r}")

    def load(self, server: Server, protocol: str, keys: int) -> dict:
        """Writes keys 0..keys-1 once each; fails unless every SET succeeded."""
        argv = self.argv(protocol, server.ports[protocol],
                         ["--load", "--keyspace", str(keys), "--connections", "1",
                          "--pipeline", "64"])
        # Even a slow server stores 1M small keys in well under a minute.
        result = self._run(argv, limit=60 + keys / 20_000)
        if result["errors"] or result["sets"] != keys:
            raise BenchError(f"--load into {server.label} stored {result['sets']} keys with "
                             f"{result['errors']} errors, expected {keys}")
        return result

    def run(self, server: Server, scenario: Scenario, seed: int) -> RunResult:
        a = self.args
        argv = self.argv(scenario.protocol, server.ports[scenario.protocol],
                         ["--connections", str(a.connections), "--pipeline",
                          str(scenario.pipeline), "--keyspace", str(a.keyspace),
                          "--ratio", scenario.ratio, "--duration", str(a.duration),
                          "--warmup", str(a.warmup), "--seed", str(seed)])
        if not server.alive():
            raise BenchError(f"{server.label} is no longer running\n{server.log_tail()}")
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        result = self._run(argv, limit=a.duration + a.warmup + 30)
        cpu1, t1 = server.cpu_seconds(), time.monotonic()
        return RunResult(
            ops_per_sec=result["ops_per_sec"],
            p99_us=result["latency_us"]["p99"],
            p50_us=result["latency_us"]["p50"],
            client_cpu=result["client_cpu"],
            server_cpu=(cpu1 - cpu0) / max(t1 - t0, 1e-9),
            errors=result["errors"],
            misses=result["misses"],
        )


# --------------------------------------------------------------------------------------
# Measurements


@dataclass
class RowResult:
    scenario: Scenario
    peer: str
    rounds: list[dict] = field(default_factory=list)  # {"candidate": RunResult, "peer": ..}
    failures: list[str] = field(default_factory=list)
    # Runs whose figure is suspect, counted rather than listed one by one.
    client_bound: int = 0  # load generator near 100 % of its core
    disturbed: int = 0  # neither side busy: a third party took CPU time

    def ratios(self) -> list[float]:
        return [r["candidate"].ops_per_sec / r["peer"].ops_per_sec for r in self.rounds
                if r["peer"].ops_per_sec > 0]

    def p99_ratios(self) -> list[float]:
        return [r["candidate"].p99_us / r["peer"].p99_us for r in self.rounds
                if r["peer"].p99_us > 0]

    def summary(self) -> dict:
        def med(xs):
            return statistics.median(xs) if xs else None
        return {
            "scenario": self.scenario.name,
            "protocol": self.scenario.protocol,
            "op": self.scenario.op,
            "pipeline": self.scenario.pipeline,
            "peer": self.peer,
            "candidate_ops_per_sec": med([r["candidate"].ops_per_sec for r in self.rounds]),
            "peer_ops_per_sec": med([r["peer"].ops_per_sec for r in self.rounds]),
            "ratio": med(self.ratios()),
            "p99_ratio": med(self.p99_ratios()),
            "candidate_p99_us": med([r["candidate"].p99_us for r in self.rounds]),
            "peer_p99_us": med([r["peer"].p99_us for r in self.rounds]),
            "rounds": [
                {"first": r["first"], "candidate": vars(r["candidate"]), "peer": vars(r["peer"])}
                for r in self.rounds
            ],
            "failures": self.failures,
            "client_bound_runs": self.client_bound,
            "disturbed_runs": self.disturbed,
        }


def settled_rss(server: Server, settle: float) -> int:
    """RSS once it stops moving: wait `settle`, then until two readings 0.25 s apart
    agree (at most 3 s more), so a rehash or lazy free in progress is not caught midway."""
    time.sleep(settle)
    last = server.rss_bytes()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = server.rss_bytes()
        if now == last:
            break
        last = now
    return last


def measure_memory(recipe: Recipe, protocol: str, loadgen: Loadgen, keys: int,
                   cpu: str, logdir: Path) -> dict:
    """Bytes per item for `keys` keys loaded into a fresh instance of `recipe`."""
    server = recipe.start(cpu, logdir, only=protocol)
    try:
        empty = settled_rss(server, 0.5)
        loaded_result = loadgen.load(server, protocol, keys)
        loaded = settled_rss(server, 1.0)
    finally:
        server.stop()
    return {
        "server": recipe.label,
        "protocol": protocol,
        "keys": keys,
        "rss_empty": empty,
        "rss_loaded": loaded,
        "bytes_per_item": (loaded - empty) / keys,
        "load_ops_per_sec": loaded_result["ops_per_sec"],
    }


# --------------------------------------------------------------------------------------
# Output


def fmt_ops(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_ratio(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.2f}"


def geomean(xs: list[float]) -> Optional[float]:
    xs = [x for x in xs if x and x > 0]
    return statistics.geometric_mean(xs) if xs else None


def render_table(report: dict) -> str:
    cand = report["candidate_label"]
    out = []
    out.append(f"cachegate side by side: candidate = {cand}; {report['rounds']} rounds x "
               f"{report['duration']} s (+{report['warmup']} s warm-up), "
               f"{report['connections']} connections, keyspace {report['keyspace']:,}, "
               f"{report['value_size']} B values")
    out.append("servers pinned to CPU %s, load generator to CPU %s; ratio = median over "
               "rounds of candidate/peer" % (report["server_cpu"], report["client_cpu"]))
    out.append("")
    header = ("scenario", "peer", "cachegate ops/s", "peer ops/s", "ratio", "p99 ratio")
    rows = []
    for r in report["rows"]:
        rows.append((r["scenario"], r["peer"], fmt_ops(r["candidate_ops_per_sec"]),
                     fmt_ops(r["peer_ops_per_sec"]), fmt_ratio(r["ratio"]),
                     fmt_ratio(r["p99_ratio"])))
    if report["rows"]:
        rows.append(("geometric mean", "", "", "", fmt_ratio(report["geomean_ratio"]),
                     fmt_ratio(report["geomean_p99_ratio"])))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    align = ["<", "<", ">", ">", ">", ">"]

    def line(cells):
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths)).rstrip()

    out.append(line(header))
    out.append(line(["-" * w for w in widths]))
    out.extend(line(r) for r in rows)
    out.append("(ratio > 1: cachegate faster; p99 ratio < 1: cachegate's p99 lower)")

    if report["memory"]:
        out.append("")
        mheader = ("memory", "keys", "cachegate B/item", "peer B/item", "ratio")
        mrows = []
        for m in report["memory"]:
            mrows.append((f"{m['protocol']} vs {m['peer']['server']}", f"{m['keys']:,}",
                          f"{m['candidate']['bytes_per_item']:.1f}",
                          f"{m['peer']['bytes_per_item']:.1f}", fmt_ratio(m["ratio"])))
        mw = [max(len(str(x)) for x in col) for col in zip(mheader, *mrows)]
        mal = ["<", ">", ">", ">", ">"]

        def mline(cells):
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, mal, mw)).rstrip()

        out.append(mline(mheader))
        out.append(mline(["-" * w for w in mw]))
        out.extend(mline(r) for r in mrows)
        out.append(f"(bytes/item = (RSS after --load - RSS empty) / keys, "
                   f"{report['value_size']} B values; ratio < 1: cachegate smaller)")

    for w in report["warnings"]:
        out.append(f"warning: {w}")
    out.append("")
    out.append("command: " + report["command"])
    for label, cmd in report["server_commands"].items():
        out.append(f"  {label}: {cmd}")
    out.append(f"  loadgen: {report['loadgen_command']}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str]) -> argparse.Namespace:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    p = argparse.ArgumentParser(
        description="cachegate vs redis-server and memcached, side by side on one pinned core.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cand = p.add_argument_group("the candidate (what is compared with the peers)")
    cand.add_argument("--cachegate", default=str(target / "release" / "cachegate"),
                      help="cachegate binary")
    cand.add_argument("--cachegate-args",
                      default="--metrics-port 0 --io-threads 1 --memcache-memory-limit 1024",
                      help="extra arguments after --port P --memcache-port Q")
    cand.add_argument("--cachegate-cmd", metavar="TEMPLATE",
                      help="full candidate command instead of --cachegate/--cachegate-args, "
                           "with {port} and/or {memcache_port}; a protocol whose placeholder "
                           "is missing is skipped")
    cand.add_argument("--peer-only", action="store_true",
                      help="use redis-server and memcached themselves as the candidate, to "
                           "validate this script (ratios should come out near 1)")
    tools = p.add_argument_group("tools")
    tools.add_argument("--loadgen", default=str(target / "release" / "cachegate-loadgen"),
                       help="cachegate-loadgen binary")
    tools.add_argument("--redis-server", default="redis-server", help="redis-server binary")
    tools.add_argument("--memcached", default="memcached", help="memcached binary")
    tools.add_argument("--server-cpu", default="0", help="CPU the servers are pinned to")
    tools.add_argument("--client-cpu", default="1", help="CPU the load generator is pinned to")
    load = p.add_argument_group("load")
    load.add_argument("--rounds", type=int, default=3, help="rounds per scenario")
    load.add_argument("--duration", type=float,
                      help="measured seconds per run [default: 5, or 2 with --quick]")
    load.add_argument("--warmup", type=float,
                      help="warm-up seconds per run [default: 1, or 0.5 with --quick]")
    load.add_argument("--quick", action="store_true",
                      help="shorter runs, for a smoke test; --duration/--warmup still win")
    load.add_argument("--connections", type=int, default=50)
    load.add_argument("--keyspace", type=int, default=100_000)
    load.add_argument("--value-size", type=int, default=64)
    load.add_argument("--seed", type=int, default=1, help="seed of round 1 (round r uses seed+r-1)")
    load.add_argument("--only", metavar="FILTERS",
                      help="comma-separated filters; run only scenarios whose name has all "
                           "the words of one filter (e.g. 'resp,get P=16' or 'P=1')")
    mem = p.add_argument_group("memory")
    mem.add_argument("--memory-keys", type=int, default=1_000_000,
                     help="keys loaded for the bytes-per-item figure")
    mem.add_argument("--no-memory", action="store_true", help="skip the memory rows")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object on stdout (the table goes to stderr)")
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 2.0 if args.quick else 5.0
    if args.warmup is None:
        args.warmup = 0.5 if args.quick else 1.0
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0:
        p.error("--rounds must be >= 1, --duration > 0, --warmup >= 0")
    if min(args.connections, args.keyspace, args.memory_keys) < 1 or args.value_size < 0:
        p.error("--connections, --keyspace and --memory-keys must be >= 1, --value-size >= 0")
    if args.duration + args.warmup > 120:
        p.error("runs longer than 120 s are not supported (keep the whole run bounded)")
    return args


def check_tools(args: argparse.Namespace, recipes: list[Recipe]) -> None:
    def runnable(path: str) -> bool:
        return shutil.which(path) is not None

    missing = []
    if not runnable("taskset"):
        missing.append("taskset (util-linux)")
    if not runnable(args.loadgen):
        missing.append(f"{args.loadgen} (cargo build --release -p cachegate-loadgen)")
    for r in recipes:
        if not runnable(r.template[0]):
            hint = " (cargo build --release -p cachegate)" if r.label == "cachegate" else ""
            missing.append(f"{r.template[0]}{hint}")
    if missing:
        raise BenchError("missing: " + ", ".join(dict.fromkeys(missing)))
    cpus = os.sched_getaffinity(0)
    for name, cpu in (("--server-cpu", args.server_cpu), ("--client-cpu", args.client_cpu)):
        if not cpu.isdigit() or int(cpu) not in cpus:
            raise BenchError(f"{name} {cpu} is not a CPU this process may use ({sorted(cpus)})")
    if args.server_cpu == args.client_cpu:
        raise BenchError("--server-cpu and --client-cpu must differ")


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except Exception:
        return "unknown"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    command = shlex.join(["python3", sys.argv[0], *argv])

    redis = redis_recipe(args.redis_server)
    memcached = memcached_recipe(args.memcached)
    peers = {RESP: redis, MEMCACHE: memcached}
    if args.peer_only:
        candidates = {RESP: Recipe("redis-server (as candidate)", redis.template),
                      MEMCACHE: Recipe("memcached (as candidate)", memcached.template)}
        candidate_label = "redis-server/memcached standing in for cachegate (--peer-only)"
    else:
        if args.cachegate_cmd:
            recipe = Recipe("cachegate", shlex.split(args.cachegate_cmd))
            candidate_label = f"cachegate-cmd: {args.cachegate_cmd}"
        else:
            recipe = cachegate_recipe(args.cachegate, args.cachegate_args)
            candidate_label = f"cachegate ({args.cachegate})"
        if not recipe.protocols:
            raise BenchError("--cachegate-cmd has neither {port} nor {memcache_port}")
        candidates = {p: recipe for p in recipe.protocols}

    scenarios = [s for s in SCENARIOS if s.protocol in candidates]
    if args.only:
        # Whole words, so "P=1" does not also select the P=16 rows.
        wanted = [set(w.split()) for w in args.only.split(",") if w.strip()]
        scenarios = [s for s in scenarios if any(w <= set(s.name.split()) for w in wanted)]
    if not scenarios and args.no_memory:
        raise BenchError("nothing to run")
    check_tools(args, list({id(r): r for r in [*candidates.values(), *peers.values()]}.values()))

    runs = len(scenarios) * args.rounds * 2
    est = runs * (args.duration + args.warmup + 0.3) + (0 if args.no_memory else 4 * (3 + args.memory_keys / 200_000))
    log(f"side_by_side: {len(scenarios)} scenarios x {args.rounds} rounds x 2 servers = {runs} runs, "
        f"about {est / 60:.1f} min")

    loadgen = Loadgen(args.loadgen, args.client_cpu, args)
    warnings: list[str] = []
    server_commands: dict[str, str] = {}
    rows: list[RowResult] = []
    memory: list[dict] = []

    with tempfile.TemporaryDirectory(prefix="side_by_side.") as tmp:
        logdir = Path(tmp)
        # ---- throughput and latency: every server up at once, all on the server core
        if scenarios:
            protocols = sorted({s.protocol for s in scenarios}, key=[RESP, MEMCACHE].index)
            cand_servers: dict[str, Server] = {}
            peer_servers: dict[str, Server] = {}
            started: dict[int, Server] = {}
            for proto in protocols:
                recipe = candidates[proto]
                if id(recipe) not in started:  # one cachegate serves both protocols
                    started[id(recipe)] = recipe.start(args.server_cpu, logdir)
                cand_servers[proto] = started[id(recipe)]
                peer_servers[proto] = peers[proto].start(args.server_cpu, logdir)
                server_commands[f"candidate ({proto})"] = shlex.join(cand_servers[proto].argv)
                server_commands[f"peer ({proto})"] = shlex.join(peer_servers[proto].argv)
            # GET rows read keys that exist: load the keyspace into every server first.
            for proto in protocols:
                if any(s.protocol == proto and s.op == "get" for s in scenarios):
                    for srv in (cand_servers[proto], peer_servers[proto]):
                        log(f"preloading {args.keyspace:,} keys into {srv.label} ({proto})")
                        loadgen.load(srv, proto, args.keyspace)

            rows = [RowResult(s, PEER_NAME[s.protocol]) for s in scenarios]
            for rnd in range(args.rounds):
                seed = args.seed + rnd
                # Who goes first alternates between rounds (ABAB... then BABA...), so a
                # drift over time (thermal, noisy neighbour) does not favour one side.
                candidate_first = rnd % 2 == 0
                for row in rows:
                    s = row.scenario
                    sides = [("candidate", cand_servers[s.protocol]),
                             ("peer", peer_servers[s.protocol])]
                    if not candidate_first:
                        sides.reverse()
                    results: dict = {"first": sides[0][0]}
                    try:
                        for side, srv in sides:
                            res = loadgen.run(srv, s, seed)
                            results[side] = res
                            log(f"[round {rnd + 1}/{args.rounds}] {s.name:18} {side:9} "
                                f"{srv.label:28} {res.ops_per_sec:>12,.0f} ops/s  "
                                f"p99 {res.p99_us:>8.0f} us  client cpu {res.client_cpu:4.0%}  "
                                f"server cpu {res.server_cpu:4.0%}")
                            if res.client_cpu >= CLIENT_CPU_WARN:
                                row.client_bound += 1
                            if (res.server_cpu < IDLE_CPU_WARN
                                    and res.client_cpu < IDLE_CPU_WARN):
                                row.disturbed += 1
                            if res.errors:
                                warnings.append(f"{s.name} round {rnd + 1} {side}: "
                                                f"{res.errors} error replies")
                            if s.op == "get" and res.misses:
                                warnings.append(f"{s.name} round {rnd + 1} {side}: "
                                                f"{res.misses} misses on a preloaded keyspace")
                        row.rounds.append(results)
                    except BenchError as e:
                        # One failed run costs its round for this row, not the benchmark.
                        msg = f"round {rnd + 1}: {e}"
                        row.failures.append(msg)
                        warnings.append(f"{s.name} {msg}")
                        log(f"[round {rnd + 1}/{args.rounds}] {s.name}: FAILED: {e}")
            for srv in {id(x): x for x in [*cand_servers.values(), *peer_servers.values()]}.values():
                srv.stop()
            runs_per_row = 2 * args.rounds
            for row in rows:
                if row.client_bound:
                    warnings.append(
                        f"{row.scenario.name}: in {row.client_bound} of {runs_per_row} runs the "
                        f"load generator used >= {CLIENT_CPU_WARN:.0%} of its core; those "
                        f"figures may be client-bound")
                if row.disturbed:
                    warnings.append(
                        f"{row.scenario.name}: in {row.disturbed} of {runs_per_row} runs neither "
                        f"the server nor the load generator kept {IDLE_CPU_WARN:.0%} of its core "
                        f"busy; something else took CPU time, so treat this row as noisy")

        # ---- memory: a fresh server per measurement, so nothing else is in it
        if not args.no_memory:
            for proto in (RESP, MEMCACHE):
                if proto not in candidates:
                    continue
                log(f"memory: loading {args.memory_keys:,} keys over {proto}")
                try:
                    cand_mem = measure_memory(candidates[proto], proto, loadgen,
                                              args.memory_keys, args.server_cpu, logdir)
                    peer_mem = measure_memory(peers[proto], proto, loadgen,
                                              args.memory_keys, args.server_cpu, logdir)
                except BenchError as e:
                    warnings.append(f"memory over {proto}: {e}")
                    log(f"memory over {proto}: FAILED: {e}")
                    continue
                memory.append({
                    "protocol": proto,
                    "keys": args.memory_keys,
                    "candidate": cand_mem,
                    "peer": peer_mem,
                    "ratio": (cand_mem["bytes_per_item"] / peer_mem["bytes_per_item"]
                              if peer_mem["bytes_per_item"] > 0 else None),
                })

    summaries = [r.summary() for r in rows]
    report = {
        "candidate_label": candidate_label,
        "command": command,
        "server_commands": server_commands,
        "loadgen_command": shlex.join(
            loadgen.argv("PROTOCOL", 0, ["--connections", str(args.connections), "--pipeline", "P",
                                         "--keyspace", str(args.keyspace), "--ratio", "SET:GET",
                                         "--duration", str(args.duration), "--warmup",
                                         str(args.warmup), "--seed", "SEED"])
        ).replace("--port 0", "--port PORT"),
        "versions": {
            "redis-server": version_of([args.redis_server, "--version"]),
            "memcached": version_of([args.memcached, "-V"]),
        },
        "rounds": args.rounds,
        "duration": args.duration,
        "warmup": args.warmup,
        "connections": args.connections,
        "keyspace": args.keyspace,
        "value_size": args.value_size,
        "server_cpu": args.server_cpu,
        "client_cpu": args.client_cpu,
        "rows": summaries,
        "geomean_ratio": geomean([r["ratio"] for r in summaries if r["ratio"]]),
        "geomean_p99_ratio": geomean([r["p99_ratio"] for r in summaries if r["p99_ratio"]]),
        "memory": memory,
        "warnings": warnings,
    }
    table = render_table(report)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(report, indent=2))
    else:
        print(table)
    failed = any(r["failures"] for r in summaries) or (
        not args.no_memory and len(memory) < len([p for p in (RESP, MEMCACHE) if p in candidates]))
    return 1 if failed else 0


class Interrupted(Exception):
    """A signal asked the benchmark to stop."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum, _frame):
    # Turn the signal into an exception so the finally block stops the servers; a
    # running load generator is killed by subprocess.run on the way out.
    raise Interrupted(signum)


if __name__ == "__main__":
    # SIGINT too, explicitly: a shell starting this in the background sets SIGINT to
    # "ignore", and Python then installs no handler of its own.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        code = main(sys.argv[1:])
    except BenchError as e:
        log(f"side_by_side: error: {e}")
        code = 2
    except Interrupted as e:
        log(f"side_by_side: stopped by {e}; stopping the servers")
        code = 128 + e.signum
    finally:
        stop_all()
    sys.exit(code)
