#!/usr/bin/env python3
"""Side-by-side benchmark: cachegate against redis-server and memcached.

Starts cachegate, redis-server and memcached pinned to one CPU core, drives identical
load at each with cachegate-loadgen pinned to another core, and prints cachegate/peer
ratios:

- throughput and p99 latency as the median of per-round ratios (each round runs both
  servers back to back, the one going first alternating between rounds), for GET/SET
  over both protocols and for the Redis data types (lists, sets, hashes, sorted sets,
  streams, BLPOP/LPUSH ping-pong), together with the server CPU time per operation;
- memory as bytes per item (strings) or per element (data types) after loading a fixed
  data set into a fresh server;
- the memory and responsiveness cost of idle connections;
- a scaling check: per-operation time at 10k and at 1M elements, to catch operations
  whose cost grows with the size of the structure.

Python 3 standard library only. Every process it starts is killed by pid when it
exits, including on Ctrl-C, SIGTERM and errors; every step has a time limit.

Run `python3 benches/side_by_side.py --help` for the options; benches/README.md
explains the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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
from typing import Callable, Optional

REPO = Path(__file__).resolve().parent.parent

RESP = "resp"
MEMCACHE = "memcache"

PEER_NAME = {RESP: "redis-server", MEMCACHE: "memcached"}

# Above this fraction of its core, the load generator may be what limits throughput.
CLIENT_CPU_WARN = 0.90

# Below this fraction of their cores for both the server and the load generator, with 50
# connections pushing, neither was the bottleneck: a third party took CPU time.
IDLE_CPU_WARN = 0.80

# Seconds a server gets to start accepting connections.
START_TIMEOUT = 15.0

# Seconds any single request the script itself sends (FLUSHALL, INFO, a probe) may take.
CALL_TIMEOUT = 60.0

# Seconds any preload or memory load may take, at most.
LOAD_LIMIT = 300.0


def log(msg: str) -> None:
    """Progress goes to stderr so stdout stays clean for --json."""
    print(msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A failure that ends the current measurement (a message for the user)."""


class NotSupported(Exception):
    """The server answered 'unknown command' to a command a row needs."""


# --------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Preload:
    """Data a row needs in the server before it runs, written with `cachegate-loadgen
    --load`: every key of 0..keys-1 gets `template` once per pass (`template` None: the
    GET/SET keyspace, one SET per key)."""

    name: str
    keys: int
    template: Optional[str] = None
    passes: int = 1


@dataclass(frozen=True)
class Scenario:
    """One throughput row."""

    name: str
    protocol: str
    op: str  # "get", "set", or the data-type command ("lpush", ...)
    pipeline: int
    # Data-type rows: the load generator's --command template and keyspace.
    command: Optional[str] = None
    keyspace: Optional[int] = None
    pingpong: bool = False
    # What must be in the server before the row runs.
    preloads: tuple[Preload, ...] = ()
    # Flush the server (and redo the preloads) before every run: the row changes the data.
    fresh: bool = False
    # Misses mean the preload did not cover the run (GET on a loaded keyspace, LPOP, ...).
    expect_hits: bool = False
    # Cap on measured requests (rows that consume their preload), per pipeline depth.
    budget: Optional[int] = None
    # Commands whose "unknown command" reply marks the row as not supported.
    probe: tuple[tuple[str, ...], ...] = ()
    group: str = "strings"  # "strings" or "types"

    @property
    def ratio(self) -> str:
        return "0:1" if self.op == "get" else "1:0"


# Preloaded keyspace of the GET rows (its size is --keyspace, filled in at run time).
STRINGS_PRELOAD = "strings"

STRING_SCENARIOS = [
    Scenario("resp get P=16", RESP, "get", 16, expect_hits=True),
    Scenario("resp set P=16", RESP, "set", 16),
    Scenario("resp get P=1", RESP, "get", 1, expect_hits=True),
    Scenario("resp set P=1", RESP, "set", 1),
    Scenario("memcache get P=1", MEMCACHE, "get", 1, expect_hits=True),
    Scenario("memcache set P=1", MEMCACHE, "set", 1),
    Scenario("memcache get P=16", MEMCACHE, "get", 16, expect_hits=True),
]

# Range rows read 100 of 200 elements: above redis-server's 128-entry listpack limit, so
# its sorted sets are the skiplist+dict encoding and the reads hit warm, real structures.
RANGE_ELEMENTS = 200

# Elements per RPUSH when preloading the lists LPOP drains.
LPOP_PUSH_BATCH = 100

# Measured requests at most per LPOP run (the run ends at --type-duration or here,
# whichever first), by pipeline depth: well above what one core serves in a short run.
LPOP_BUDGET_RATE = {16: 1_500_000, 1: 250_000}


def type_scenarios(keys: int) -> list[Scenario]:
    """The data-type rows, on `keys` keys per type."""
    zrange_pre = Preload(
        "zsets for ZRANGE", keys,
        "ZADD zrange:{key} " + " ".join(f"{i} member:{i:03d}" for i in range(RANGE_ELEMENTS)))
    lrange_pre = Preload(
        "lists for LRANGE", keys,
        "RPUSH lrange:{key} " + " ".join(f"element:{i:03d}" for i in range(RANGE_ELEMENTS)))
    rows = []
    for p in (16, 1):
        rows += [
            Scenario(f"resp lpush P={p}", RESP, "lpush", p, "LPUSH list:{key} {value}", keys,
                     fresh=True, probe=(("LPUSH", "probe:list", "x"),), group="types"),
            # Preloads are sized at run time from the budget (see lpop_preload).
            Scenario(f"resp lpop P={p}", RESP, "lpop", p, "LPOP list:{key}", keys,
                     fresh=True, expect_hits=True, budget=LPOP_BUDGET_RATE[p],
                     probe=(("RPUSH", "probe:list", "x"), ("LPOP", "probe:list")),
                     group="types"),
            Scenario(f"resp sadd P={p}", RESP, "sadd", p, "SADD set:{key} m{conn}-{n}", keys,
                     fresh=True, probe=(("SADD", "probe:set", "x"),), group="types"),
            Scenario(f"resp hset P={p}", RESP, "hset", p,
                     "HSET hash:{key} f{conn}-{n} {value}", keys, fresh=True,
                     probe=(("HSET", "probe:hash", "f", "v"),), group="types"),
            Scenario(f"resp zadd P={p}", RESP, "zadd", p, "ZADD zset:{key} {n} m{conn}-{n}",
                     keys, fresh=True, probe=(("ZADD", "probe:zset", "1", "m"),),
                     group="types"),
            Scenario(f"resp zrange P={p}", RESP, "zrange", p, "ZRANGE zrange:{key} 0 99", keys,
                     preloads=(zrange_pre,), expect_hits=True,
                     probe=(("ZADD", "probe:zset", "1", "m"), ("ZRANGE", "probe:zset", "0", "99")),
                     group="types"),
            Scenario(f"resp lrange P={p}", RESP, "lrange", p, "LRANGE lrange:{key} 0 99", keys,
                     preloads=(lrange_pre,), expect_hits=True,
                     probe=(("RPUSH", "probe:list", "x"), ("LRANGE", "probe:list", "0", "99")),
                     group="types"),
            Scenario(f"resp xadd P={p}", RESP, "xadd", p, "XADD stream:{key} * f {value}", keys,
                     fresh=True, probe=(("XADD", "probe:stream", "*", "f", "v"),),
                     group="types"),
        ]
    rows.append(Scenario("resp blpop/lpush ping-pong", RESP, "blpop", 1, pingpong=True,
                         fresh=True, expect_hits=True,
                         probe=(("LPUSH", "probe:q", "x"), ("BLPOP", "probe:q", "1")),
                         group="types"))
    return rows


def lpop_preload(row: Scenario, duration: float, warmup: float, keys: int) -> Preload:
    """Lists holding comfortably more than an LPOP run can pop: the measured budget plus
    what the warm-up can pop at the same rate, +25 % so that no list of the uniformly
    chosen `keys` runs dry (a list's share is within a few standard deviations of its
    mean)."""
    assert row.budget is not None
    most = row.budget * (duration + warmup)
    per_list = int(most * 1.25 / keys) + LPOP_PUSH_BATCH
    passes = max(1, -(-per_list // LPOP_PUSH_BATCH))
    return Preload(f"lists for LPOP ({passes * LPOP_PUSH_BATCH} each)", keys,
                   "RPUSH list:{key}" + " {value}" * LPOP_PUSH_BATCH, passes)


@dataclass(frozen=True)
class TypeMemoryRow:
    """A memory row for a data type: `template` loaded once per key of 0..keys-1 (with
    `--load`), each command storing `per_command` elements."""

    name: str
    template: str
    keys: int
    per_command: int
    probe: tuple[str, ...]

    def scaled(self, scale: float) -> "TypeMemoryRow":
        return TypeMemoryRow(self.name, self.template, max(1, int(self.keys * scale)),
                             self.per_command, self.probe)

    @property
    def elements(self) -> int:
        return self.keys * self.per_command


def _pairs(fmt: str, n: int) -> str:
    return " ".join(fmt.format(i=i) for i in range(n))


TYPE_MEMORY_ROWS = [
    TypeMemoryRow("memory hashes 100k x 10 fields",
                  "HSET hash:{key} " + _pairs("field-{i} value-{i}", 10), 100_000, 10,
                  ("HSET", "probe:hash", "f", "v")),
    TypeMemoryRow("memory sets 100k x 10 ints", "SADD set:{key} " + _pairs("{i}", 10),
                  100_000, 10, ("SADD", "probe:set", "1")),
    TypeMemoryRow("memory sets 100k x 10 strings",
                  "SADD set:{key} " + _pairs("member-{i}", 10), 100_000, 10,
                  ("SADD", "probe:set", "x")),
    TypeMemoryRow("memory zsets 10k x 100 members",
                  "ZADD zset:{key} " + _pairs("{i} member-{i}", 100), 10_000, 100,
                  ("ZADD", "probe:zset", "1", "m")),
    TypeMemoryRow("memory list 1M entries",
                  "RPUSH list:big " + _pairs("{{key}}-{i:02d}", 100), 10_000, 100,
                  ("RPUSH", "probe:list", "x")),
    TypeMemoryRow("memory hash 1M fields",
                  "HSET hash:big " + _pairs("f{{key}}-{i} v{i}", 10), 100_000, 10,
                  ("HSET", "probe:hash", "f", "v")),
    TypeMemoryRow("memory zset 1M members",
                  "ZADD zset:big " + _pairs("{{keynum}}.{i} m{{key}}-{i}", 10), 100_000, 10,
                  ("ZADD", "probe:zset", "1", "m")),
    TypeMemoryRow("memory stream 1M entries", "XADD stream:big * field {key}", 1_000_000, 1,
                  ("XADD", "probe:stream", "*", "f", "v")),
]

# Goal for the data-type memory rows: cachegate's bytes per element at most this
# fraction of redis-server's.
TYPE_MEMORY_GOAL = 0.8

# Idle connections: goals per connection and for PING latency.
IDLE_BYTES_GOAL = 2048
IDLE_PING_P99_GOAL_US = 1000.0


@dataclass(frozen=True)
class ScalingOp:
    """One operation of the scaling check, run against a structure of `size` elements
    loaded with `load` (templates take {size} and {mid}, filled in per size)."""

    name: str
    structure: str  # which preloaded structure it uses
    template: str
    keyspace_is_size: bool  # {key} ranges over the structure's members
    probe: tuple[str, ...]


# Structures of the scaling check: name -> (load template, elements per load command).
SCALING_STRUCTURES = {
    "zset": ("ZADD scale:zset:{size} {keynum} m{key}", 1),
    "list": ("RPUSH scale:list:{size} " + _pairs("{{key}}-{i}", 10), 10),
    "stream": ("XADD scale:stream:{size} * f {key}", 1),
}

SCALING_OPS = [
    # A new score for an existing member: remove and reinsert, the size stays put.
    ScalingOp("scaling zadd", "zset", "ZADD scale:zset:{size} {n} m{key}", True,
              ("ZADD", "probe:zset", "1", "m")),
    ScalingOp("scaling zrank", "zset", "ZRANK scale:zset:{size} m{key}", True,
              ("ZRANK", "probe:zset", "m")),
    ScalingOp("scaling lindex", "list", "LINDEX scale:list:{size} {mid}", False,
              ("LINDEX", "probe:list", "0")),
    # Appends: the run adds --scaling-requests entries, a few % of the smaller size.
    ScalingOp("scaling xadd", "stream", "XADD scale:stream:{size} * f v", False,
              ("XADD", "probe:stream", "*", "f", "v")),
]

SCALING_SIZES = (10_000, 1_000_000)

# Per-op time at 1M over per-op time at 10k above which an operation is flagged as
# growing with the structure (O(log n) gives about 1.5 plus cache misses; O(n) 100).
SCALING_FLAG = 10.0


# --------------------------------------------------------------------------------------
# A minimal RESP client, for the script's own requests (FLUSHALL, INFO, probes, idle
# connections); the load itself always comes from cachegate-loadgen.


class RespError(str):
    """An error reply."""


class RespClient:
    def __init__(self, port: int, timeout: float = CALL_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RespClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def encode(args: tuple) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise BenchError("server closed the connection")
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode(errors="replace")
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise BenchError(f"unexpected reply line {line[:60]!r}")

    def call(self, *args):
        self.sock.sendall(self.encode(args))
        return self.read()


def is_unknown_command(reply) -> bool:
    return isinstance(reply, RespError) and "unknown command" in reply.lower()


def probe(port: int, commands: tuple[tuple[str, ...], ...]) -> None:
    """Sends `commands` on scratch keys; raises NotSupported when one is an unknown
    command. The scratch keys are deleted afterwards."""
    keys = {c[1] for c in commands if len(c) > 1}
    with RespClient(port) as c:
        try:
            for cmd in commands:
                reply = c.call(*cmd)
                if is_unknown_command(reply):
                    raise NotSupported(f"{cmd[0]}: {reply}")
        finally:
            if keys:
                c.call("DEL", *sorted(keys))


def flushall(port: int) -> None:
    with RespClient(port) as c:
        reply = c.call("FLUSHALL", "SYNC")
        if isinstance(reply, RespError):
            reply = c.call("FLUSHALL")  # a server without the SYNC argument
        if isinstance(reply, RespError):
            raise BenchError(f"FLUSHALL failed: {reply}")


def used_memory(port: int) -> Optional[int]:
    """INFO memory's used_memory, or None when the server does not report it."""
    try:
        with RespClient(port) as c:
            info = c.call("INFO", "memory")
    except (OSError, BenchError):
        return None
    if not isinstance(info, bytes):
        return None
    for line in info.decode(errors="replace").splitlines():
        if line.startswith("used_memory:"):
            try:
                return int(line.split(":", 1)[1])
            except ValueError:
                return None
    return None


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
    # Preloads present in the server now, as (protocol, preload name); cleared by
    # FLUSHALL (one cachegate serves both protocols, and may share one keyspace).
    loaded: set = field(default_factory=set)
    # Command sequences probed on this server: names -> the unknown ones.
    supports: dict = field(default_factory=dict)

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
        """User + system CPU time of the whole process (all threads, exited ones
        included) so far, in clock ticks' resolution."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                stat = f.read()
        except OSError:
            return 0.0
        # Fields after the parenthesised command name; utime and stime are 14 and 15.
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cpu_seconds_precise(self) -> float:
        """CPU time of the live threads from /proc/<pid>/task/*/schedstat (nanoseconds),
        for runs too short for clock ticks; falls back to cpu_seconds()."""
        total = 0
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return self.cpu_seconds()
        return total / 1e9 if total else self.cpu_seconds()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "  (no log)"
        return "\n".join("  | " + l for l in text) or "  (empty log)"

    def missing(self, commands: tuple[tuple[str, ...], ...]) -> list[str]:
        """The commands of `commands` the server does not know (the sequence is sent as
        a whole, once per distinct sequence of command names)."""
        names = tuple(c[0].upper() for c in commands)
        if names not in self.supports:
            try:
                probe(self.ports[RESP], commands)
                self.supports[names] = []
            except NotSupported as e:
                self.supports[names] = [str(e).split(":", 1)[0]]
            except OSError as e:
                raise BenchError(f"probing {', '.join(names)} on {self.label}: {e}")
        return self.supports[names]


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
    placeholder does not appear in it is not served. `kind` says how to raise its
    connection limits for the idle-connection rows.
    """

    label: str
    template: list[str]
    kind: str = "custom"  # "redis", "memcached", "cachegate" or "custom"

    @property
    def protocols(self) -> list[str]:
        joined = " ".join(self.template)
        out = []
        if "{port}" in joined:
            out.append(RESP)
        if "{memcache_port}" in joined:
            out.append(MEMCACHE)
        return out

    def connection_args(self, n: int) -> list[str]:
        """Arguments that let the server accept `n` clients (idle-connection rows)."""
        if self.kind == "redis":
            return ["--maxclients", str(n)]
        if self.kind == "memcached":
            return ["-c", str(n)]
        if self.kind == "cachegate":
            return ["--maxclients", str(n), "--set", f"memcache.max_connections={n}"]
        return []

    def start(self, cpu: str, logdir: Path, only: Optional[str] = None,
              extra: Optional[list[str]] = None) -> Server:
        """Starts an instance on fresh ports; `only` limits which ports are waited for;
        `extra` is appended to the command line."""
        ports = {p: free_port() for p in self.protocols}
        argv = [
            a.replace("{port}", str(ports.get(RESP, 0))).replace(
                "{memcache_port}", str(ports.get(MEMCACHE, 0))
            )
            for a in self.template
        ] + list(extra or [])
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
        "redis",
    )


def memcached_recipe(binary: str) -> Recipe:
    argv = [binary, "-p", "{memcache_port}", "-l", "127.0.0.1", "-U", "0", "-t", "1",
            "-m", "1024"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root without it
    return Recipe("memcached", argv, "memcached")


def cachegate_recipe(binary: str, extra: str) -> Recipe:
    return Recipe(
        "cachegate",
        [binary, "--port", "{port}", "--memcache-port", "{memcache_port}", *shlex.split(extra)],
        "cachegate",
    )


# --------------------------------------------------------------------------------------
# Load generator


@dataclass
class RunResult:
    ops_per_sec: float
    p99_us: float
    p50_us: float
    client_cpu: float
    server_cpu: float  # fraction of one core over the run
    errors: int
    misses: int
    # Server CPU seconds over the whole load generator run, and every reply it sent in
    # that time (warm-up included): their ratio is the server's CPU per operation.
    server_cpu_s: float = 0.0
    all_ops: int = 0

    @property
    def kops_per_cpu_s(self) -> Optional[float]:
        if self.server_cpu_s <= 0 or self.all_ops <= 0:
            return None
        return self.all_ops / self.server_cpu_s / 1000


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

    def load_commands(self, server: Server, template: str, keys: int, passes: int = 1,
                      pipeline: int = 64) -> dict:
        """Sends `template` once per key of 0..keys-1, `passes` times, over RESP; fails
        unless every request succeeded."""
        argv = self.argv(RESP, server.ports[RESP],
                         ["--load", "--keyspace", str(keys), "--passes", str(passes),
                          "--connections", "1", "--pipeline", str(pipeline),
                          "--command", template])
        result = self._run(argv, limit=LOAD_LIMIT)
        if result["errors"] or result["ops"] != keys * passes:
            raise BenchError(f"--load --command into {server.label} got {result['errors']} "
                             f"errors in {result['ops']} requests, expected {keys * passes} "
                             f"without errors")
        return result

    def scenario_args(self, scenario: Scenario, duration: float, warmup: float,
                      seed: int) -> list[str]:
        a = self.args
        out = ["--connections", str(a.connections), "--duration", str(duration),
               "--warmup", str(warmup), "--seed", str(seed)]
        if scenario.pingpong:
            return ["--pingpong", *out]
        out += ["--pipeline", str(scenario.pipeline)]
        if scenario.command:
            out += ["--command", scenario.command, "--keyspace",
                    str(scenario.keyspace or a.keyspace)]
        else:
            out += ["--keyspace", str(a.keyspace), "--ratio", scenario.ratio]
        if scenario.budget:
            out += ["--requests", str(int(scenario.budget * duration))]
        return out

    def run(self, server: Server, scenario: Scenario, seed: int, duration: float,
            warmup: float) -> RunResult:
        argv = self.argv(scenario.protocol, server.ports[scenario.protocol],
                         self.scenario_args(scenario, duration, warmup, seed))
        return self.run_argv(server, argv, duration + warmup + 30)

    def run_argv(self, server: Server, argv: list[str], limit: float,
                 precise: bool = False) -> RunResult:
        if not server.alive():
            raise BenchError(f"{server.label} is no longer running\n{server.log_tail()}")
        cpu = server.cpu_seconds_precise if precise else server.cpu_seconds
        cpu0, t0 = cpu(), time.monotonic()
        result = self._run(argv, limit=limit)
        cpu1, t1 = cpu(), time.monotonic()
        return RunResult(
            ops_per_sec=result["ops_per_sec"],
            p99_us=result["latency_us"]["p99"],
            p50_us=result["latency_us"]["p50"],
            client_cpu=result["client_cpu"],
            server_cpu=(cpu1 - cpu0) / max(t1 - t0, 1e-9),
            errors=result["errors"],
            misses=result["misses"],
            server_cpu_s=cpu1 - cpu0,
            all_ops=int(result.get("all_ops", result["ops"])),
        )


# --------------------------------------------------------------------------------------
# Throughput rows


@dataclass
class RowResult:
    scenario: Scenario
    peer: str
    rounds: list[dict] = field(default_factory=list)  # {"candidate": RunResult, "peer": ..}
    failures: list[str] = field(default_factory=list)
    unsupported: Optional[str] = None  # why the row was not run
    # Runs whose figure is suspect, counted rather than listed one by one.
    client_bound: int = 0  # load generator near 100 % of its core
    disturbed: int = 0  # neither side busy: a third party took CPU time

    def ratios(self) -> list[float]:
        return [r["candidate"].ops_per_sec / r["peer"].ops_per_sec for r in self.rounds
                if r["peer"].ops_per_sec > 0]

    def p99_ratios(self) -> list[float]:
        return [r["candidate"].p99_us / r["peer"].p99_us for r in self.rounds
                if r["peer"].p99_us > 0]

    def cpu_ratios(self) -> list[float]:
        out = []
        for r in self.rounds:
            c, p = r["candidate"].kops_per_cpu_s, r["peer"].kops_per_cpu_s
            if c and p:
                out.append(c / p)
        return out

    def summary(self) -> dict:
        def med(xs):
            xs = [x for x in xs if x is not None]
            return statistics.median(xs) if xs else None
        s = self.scenario
        return {
            "scenario": s.name,
            "group": s.group,
            "protocol": s.protocol,
            "op": s.op,
            "pipeline": s.pipeline,
            "command": s.command,
            "pingpong": s.pingpong,
            "peer": self.peer,
            "unsupported": self.unsupported,
            "candidate_ops_per_sec": med([r["candidate"].ops_per_sec for r in self.rounds]),
            "peer_ops_per_sec": med([r["peer"].ops_per_sec for r in self.rounds]),
            "ratio": med(self.ratios()),
            "p99_ratio": med(self.p99_ratios()),
            "candidate_p99_us": med([r["candidate"].p99_us for r in self.rounds]),
            "peer_p99_us": med([r["peer"].p99_us for r in self.rounds]),
            "candidate_kops_per_cpu_s": med([r["candidate"].kops_per_cpu_s for r in self.rounds]),
            "peer_kops_per_cpu_s": med([r["peer"].kops_per_cpu_s for r in self.rounds]),
            "cpu_ratio": med(self.cpu_ratios()),
            "rounds": [
                {"first": r["first"], "candidate": vars(r["candidate"]), "peer": vars(r["peer"])}
                for r in self.rounds
            ],
            "failures": self.failures,
            "client_bound_runs": self.client_bound,
            "disturbed_runs": self.disturbed,
        }


def prepare(server: Server, row: Scenario, loadgen: Loadgen, args: argparse.Namespace,
            duration: float, warmup: float) -> None:
    """Puts the data `row` needs into `server` (flushing first for rows that change it)."""
    if row.protocol == MEMCACHE:
        if row.op == "get" and (MEMCACHE, STRINGS_PRELOAD) not in server.loaded:
            log(f"preloading {args.keyspace:,} keys into {server.label} (memcache)")
            loadgen.load(server, MEMCACHE, args.keyspace)
            server.loaded.add((MEMCACHE, STRINGS_PRELOAD))
        return
    port = server.ports[RESP]
    if row.fresh:
        flushall(port)
        server.loaded.clear()
    preloads = list(row.preloads)
    if row.op == "lpop" and row.budget:
        preloads.append(lpop_preload(row, duration, warmup, row.keyspace or args.type_keys))
    if row.op == "get":
        preloads.append(Preload(STRINGS_PRELOAD, args.keyspace))
    for pre in preloads:
        if (RESP, pre.name) in server.loaded:
            continue
        if pre.template is None:
            log(f"preloading {pre.keys:,} keys into {server.label} (resp)")
            loadgen.load(server, RESP, pre.keys)
        else:
            loadgen.load_commands(server, pre.template, pre.keys, pre.passes)
        server.loaded.add((RESP, pre.name))


def run_throughput(scenarios: list[Scenario], candidates: dict, peers: dict,
                   loadgen: Loadgen, args: argparse.Namespace, logdir: Path,
                   warnings: list[str], server_commands: dict) -> list[RowResult]:
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

    rows = [RowResult(s, PEER_NAME[s.protocol]) for s in scenarios]
    # Data-type rows need commands the candidate may not have yet: probe once, up front.
    for row in rows:
        s = row.scenario
        if not s.probe:
            continue
        for side, srv in (("candidate", cand_servers[s.protocol]),
                          ("peer", peer_servers[s.protocol])):
            missing = srv.missing(s.probe)
            if missing:
                row.unsupported = f"{srv.label}: unknown command {', '.join(missing)}"
                log(f"{s.name}: not supported by {side} {srv.label} ({', '.join(missing)})")
                break

    def timing(s: Scenario) -> tuple[int, float, float]:
        if s.group == "types":
            return args.type_rounds, args.type_duration, args.type_warmup
        return args.rounds, args.duration, args.warmup

    for rnd in range(max(timing(r.scenario)[0] for r in rows)):
        seed = args.seed + rnd
        # Who goes first alternates between rounds (ABAB... then BABA...), so a
        # drift over time (thermal, noisy neighbour) does not favour one side.
        candidate_first = rnd % 2 == 0
        for row in rows:
            s = row.scenario
            n_rounds, duration, warmup = timing(s)
            if row.unsupported or rnd >= n_rounds:
                continue
            sides = [("candidate", cand_servers[s.protocol]), ("peer", peer_servers[s.protocol])]
            if not candidate_first:
                sides.reverse()
            results: dict = {"first": sides[0][0]}
            try:
                for side, srv in sides:
                    prepare(srv, s, loadgen, args, duration, warmup)
                    res = loadgen.run(srv, s, seed, duration, warmup)
                    results[side] = res
                    kops = res.kops_per_cpu_s
                    log(f"[round {rnd + 1}/{n_rounds}] {s.name:26} {side:9} "
                        f"{srv.label:28} {res.ops_per_sec:>12,.0f} ops/s  "
                        f"p99 {res.p99_us:>8.0f} us  client cpu {res.client_cpu:4.0%}  "
                        f"server cpu {res.server_cpu:4.0%}  "
                        f"{(kops or 0):>7,.0f} kops/cpu-s")
                    if res.client_cpu >= CLIENT_CPU_WARN:
                        row.client_bound += 1
                    if res.server_cpu < IDLE_CPU_WARN and res.client_cpu < IDLE_CPU_WARN:
                        row.disturbed += 1
                    if res.errors:
                        warnings.append(f"{s.name} round {rnd + 1} {side}: "
                                        f"{res.errors} error replies")
                    if s.expect_hits and res.misses:
                        warnings.append(f"{s.name} round {rnd + 1} {side}: "
                                        f"{res.misses} misses on preloaded data")
                row.rounds.append(results)
            except BenchError as e:
                # One failed run costs its round for this row, not the benchmark.
                msg = f"round {rnd + 1}: {e}"
                row.failures.append(msg)
                warnings.append(f"{s.name} {msg}")
                log(f"[round {rnd + 1}/{n_rounds}] {s.name}: FAILED: {e}")
    for srv in {id(x): x for x in [*cand_servers.values(), *peer_servers.values()]}.values():
        srv.stop()
    for row in rows:
        runs_per_row = 2 * len(row.rounds)
        if row.client_bound:
            warnings.append(
                f"{row.scenario.name}: in {row.client_bound} of {runs_per_row} runs the "
                f"load generator used >= {CLIENT_CPU_WARN:.0%} of its core; the throughput "
                f"may be the generator's ceiling, so read the CPU-per-op ratio for this row")
        if row.disturbed:
            warnings.append(
                f"{row.scenario.name}: in {row.disturbed} of {runs_per_row} runs neither "
                f"the server nor the load generator kept {IDLE_CPU_WARN:.0%} of its core "
                f"busy; something else took CPU time, so treat this row as noisy")
    return rows


# --------------------------------------------------------------------------------------
# Memory rows


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


def measure_type_memory(recipe: Recipe, row: TypeMemoryRow, loadgen: Loadgen, cpu: str,
                        logdir: Path) -> dict:
    """Bytes per element for `row` loaded into a fresh instance of `recipe` (RESP);
    raises NotSupported when the server does not know the row's command."""
    server = recipe.start(cpu, logdir, only=RESP)
    try:
        port = server.ports[RESP]
        probe(port, (row.probe,))
        empty = settled_rss(server, 0.5)
        used_empty = used_memory(port)
        t0 = time.monotonic()
        loadgen.load_commands(server, row.template, row.keys)
        load_s = time.monotonic() - t0
        loaded = settled_rss(server, 1.0)
        used_loaded = used_memory(port)
    finally:
        server.stop()
    used = (used_loaded - used_empty) / row.elements if (
        used_loaded is not None and used_empty is not None) else None
    return {
        "server": recipe.label,
        "elements": row.elements,
        "rss_empty": empty,
        "rss_loaded": loaded,
        "bytes_per_element": (loaded - empty) / row.elements,
        "used_memory_empty": used_empty,
        "used_memory_loaded": used_loaded,
        "used_memory_per_element": used,
        "load_seconds": load_s,
    }


# --------------------------------------------------------------------------------------
# Idle connections


def raise_fd_limit(want: int) -> int:
    """Raises this process's open-file limit towards `want` (inherited by the servers it
    starts afterwards); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


PING = {RESP: (b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"),
        MEMCACHE: (b"version\r\n", b"\r\n")}


def ping(sock: socket.socket, protocol: str) -> float:
    """One request/reply on `sock`; returns its latency in microseconds."""
    req, end = PING[protocol]
    t0 = time.perf_counter()
    sock.sendall(req)
    got = b""
    while not got.endswith(end):
        chunk = sock.recv(256)
        if not chunk:
            raise BenchError("server closed an idle connection")
        got += chunk
    us = (time.perf_counter() - t0) * 1e6
    if protocol == RESP and got != end:
        raise BenchError(f"PING got {got[:60]!r}")
    return us


def quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def measure_idle(recipe: Recipe, protocol: str, n: int, cpu: str, logdir: Path,
                 settle: float, sample: int = 200, time_limit: float = 120.0) -> dict:
    """RSS per idle connection and PING latency with `n` idle connections open, on a
    fresh instance of `recipe`. Each connection sends one PING (memcached: `version`)
    when opened, so the server has set it up completely, then stays idle for `settle`
    seconds (servers shrink the buffers of idle clients on a timer) before RSS is read."""
    server = recipe.start(cpu, logdir, only=protocol, extra=recipe.connection_args(n + 64))
    socks: list[socket.socket] = []
    deadline = time.monotonic() + time_limit
    try:
        port = server.ports[protocol]
        empty = settled_rss(server, 0.5)
        used_empty = used_memory(port) if protocol == RESP else None
        for i in range(n):
            if time.monotonic() > deadline:
                raise BenchError(f"opening {n} connections took more than {time_limit:.0f} s")
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError as e:
                raise BenchError(f"connection {i + 1} of {n} to {server.label}: {e}")
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
            ping(s, protocol)
        loaded = settled_rss(server, settle)
        used_idle = used_memory(port) if protocol == RESP else None
        # A PING on a fresh connection, while all the others sit idle (the median of a
        # few, each on its own new connection, so one scheduling hiccup does not decide).
        fresh = []
        for _ in range(11):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                fresh.append(ping(s, protocol))
        rng = random.Random(1)
        idle = [ping(s, protocol) for s in rng.sample(socks, min(sample, len(socks)))]
    finally:
        for s in socks:
            s.close()
        server.stop()
    return {
        "server": recipe.label,
        "protocol": protocol,
        "connections": n,
        "rss_before": empty,
        "rss_idle": loaded,
        "bytes_per_connection": (loaded - empty) / n,
        "used_memory_per_connection": ((used_idle - used_empty) / n
                                       if used_idle is not None and used_empty is not None
                                       else None),
        "fresh_ping_us": statistics.median(fresh),
        "idle_ping_p50_us": quantile(idle, 0.5),
        "idle_ping_p99_us": quantile(idle, 0.99),
        "idle_ping_max_us": max(idle),
    }


# --------------------------------------------------------------------------------------
# Scaling check


def measure_scaling(recipe: Recipe, loadgen: Loadgen, args: argparse.Namespace, cpu: str,
                    logdir: Path, ops: list[ScalingOp]) -> dict:
    """Per-op server CPU time of each operation at each size, on one fresh instance.
    Returns {op name: {"unsupported": why} or {size: per-op µs}}."""
    server = recipe.start(cpu, logdir, only=RESP)
    out: dict = {}
    try:
        port = server.ports[RESP]
        structures = {op.structure for op in ops}
        supported = {}
        for op in ops:
            try:
                probe(port, (op.probe,))
                supported[op.name] = True
            except NotSupported as e:
                out[op.name] = {"unsupported": str(e)}
                supported[op.name] = False
        needed = {op.structure for op in ops if supported[op.name]}
        for st in sorted(structures & needed):
            template, per = SCALING_STRUCTURES[st]
            for size in SCALING_SIZES:
                log(f"scaling: loading a {st} of {size:,} into {recipe.label}")
                loadgen.load_commands(server, template.replace("{size}", str(size)),
                                      size // per)
        def per_op_us(template: str, keyspace: int, seed: int) -> float:
            extra = ["--connections", "10", "--pipeline", "16", "--requests",
                     str(args.scaling_requests), "--command", template,
                     "--keyspace", str(keyspace), "--seed", str(seed)]
            res = loadgen.run_argv(server, loadgen.argv(RESP, port, extra), limit=120,
                                   precise=True)
            if res.errors:
                raise BenchError(f"{template}: {res.errors} error replies")
            return res.server_cpu_s / max(res.all_ops, 1) * 1e6

        # What any request costs the server (reading, parsing, replying): subtracted, so
        # the growth is that of the operation's own work.
        baseline = statistics.median(
            per_op_us("PING", 1, args.seed + rep) for rep in range(args.scaling_repeats))
        out["baseline_us"] = baseline
        for op in ops:
            if not supported[op.name]:
                continue
            times: dict[int, list[float]] = {size: [] for size in SCALING_SIZES}
            for rep in range(args.scaling_repeats):
                # Alternate the order of the sizes between repeats, as the rounds do.
                sizes = SCALING_SIZES if rep % 2 == 0 else tuple(reversed(SCALING_SIZES))
                for size in sizes:
                    template = (op.template.replace("{size}", str(size))
                                .replace("{mid}", str(size // 2)))
                    times[size].append(per_op_us(template, size if op.keyspace_is_size else 1,
                                                 args.seed + rep))
            per_op = {size: statistics.median(ts) for size, ts in times.items()}
            small, big = SCALING_SIZES
            # Net of the baseline, floored at a tenth of it so noise cannot make the
            # small size's net time vanish and the growth explode.
            net = {size: max(t - baseline, baseline / 10) for size, t in per_op.items()}
            out[op.name] = {
                "per_op_us": {str(k): v for k, v in per_op.items()},
                "net_per_op_us": {str(k): v for k, v in net.items()},
                "baseline_us": baseline,
                "growth": net[big] / net[small],
            }
    finally:
        server.stop()
    return out


# --------------------------------------------------------------------------------------
# Output


def fmt_ops(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_ratio(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.2f}"


def fmt_bytes(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:,.1f}"


def geomean(xs: list) -> Optional[float]:
    xs = [x for x in xs if x and x > 0]
    return statistics.geometric_mean(xs) if xs else None


def table(header: tuple, rows: list[tuple], align: str) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(cells):
        return "  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(cells, align, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_table(report: dict) -> str:
    cand = report["candidate_label"]
    out = []
    out.append(f"cachegate side by side: candidate = {cand}")
    out.append(f"strings rows: {report['rounds']} rounds x {report['duration']} s "
               f"(+{report['warmup']} s warm-up), {report['connections']} connections, "
               f"keyspace {report['keyspace']:,}, {report['value_size']} B values")
    out.append(f"data-type rows: {report['type_rounds']} rounds x {report['type_duration']} s "
               f"(+{report['type_warmup']} s warm-up), {report['type_keys']:,} keys per type")
    out.append("servers pinned to CPU %s, load generator to CPU %s; ratio = median over "
               "rounds of candidate/peer" % (report["server_cpu"], report["client_cpu"]))

    if report["rows"]:
        out.append("")
        header = ("scenario", "peer", "cachegate ops/s", "peer ops/s", "ratio", "p99 ratio",
                  "cg kops/cpu-s", "peer kops/cpu-s", "cpu/op ratio", "note")
        rows = []
        for r in report["rows"]:
            if r["unsupported"]:
                rows.append((r["scenario"], r["peer"], "not supported", "", "", "", "", "", "",
                             ""))
                continue
            note = "*" if r["client_bound_runs"] else ""
            if r["failures"] and not r["rounds"]:
                note = "failed"
            rows.append((r["scenario"], r["peer"], fmt_ops(r["candidate_ops_per_sec"]),
                         fmt_ops(r["peer_ops_per_sec"]), fmt_ratio(r["ratio"]),
                         fmt_ratio(r["p99_ratio"]), fmt_ops(r["candidate_kops_per_cpu_s"]),
                         fmt_ops(r["peer_kops_per_cpu_s"]), fmt_ratio(r["cpu_ratio"]), note))
        for label, g in report["geomeans"].items():
            rows.append((f"geometric mean ({label})", "", "", "", fmt_ratio(g["ratio"]),
                         fmt_ratio(g["p99_ratio"]), "", "", fmt_ratio(g["cpu_ratio"]), ""))
        out.extend(table(header, rows, "<<>>>>>>><"))
        out.append("(ratio > 1: cachegate faster; p99 ratio < 1: cachegate's p99 lower; "
                   "kops/cpu-s = thousand replies per second of server CPU time, cpu/op "
                   "ratio > 1: cachegate spends less CPU per operation)")
        if any(r["client_bound_runs"] for r in report["rows"]):
            out.append(f"(* the load generator used >= {CLIENT_CPU_WARN:.0%} of its core in "
                       "some run of the row: the throughput may be the generator's ceiling, "
                       "not the server's; the cpu/op ratio is the trustworthy figure then)")

    if report["memory"]:
        out.append("")
        mrows = []
        for m in report["memory"]:
            mrows.append((f"{m['protocol']} vs {m['peer']['server']}", f"{m['keys']:,}",
                          f"{m['candidate']['bytes_per_item']:.1f}",
                          f"{m['peer']['bytes_per_item']:.1f}", fmt_ratio(m["ratio"])))
        out.extend(table(("memory (strings)", "keys", "cachegate B/item", "peer B/item",
                          "ratio"), mrows, "<>>>>"))
        out.append(f"(bytes/item = (RSS after --load - RSS empty) / keys, "
                   f"{report['value_size']} B values; ratio < 1: cachegate smaller)")

    if report["type_memory"]:
        out.append("")
        mrows = []
        for m in report["type_memory"]:
            if m.get("unsupported"):
                mrows.append((m["name"], f"{m['elements']:,}", "not supported",
                              fmt_bytes(m["peer"]["bytes_per_element"]) if m.get("peer") else "-",
                              "", "", "", ""))
                continue
            if m.get("error"):
                mrows.append((m["name"], f"{m['elements']:,}", "failed", "", "", "", "", ""))
                continue
            c, p = m["candidate"], m["peer"]
            goal = "" if m["ratio"] is None else ("ok" if m["ratio"] <= TYPE_MEMORY_GOAL
                                                   else "over")
            mrows.append((m["name"], f"{m['elements']:,}", fmt_bytes(c["bytes_per_element"]),
                          fmt_bytes(p["bytes_per_element"]), fmt_ratio(m["ratio"]),
                          fmt_bytes(c["used_memory_per_element"]),
                          fmt_bytes(p["used_memory_per_element"]), goal))
        scale = report["type_memory_scale"]
        label = "memory (data types)" if scale == 1 else f"memory (types, keys x{scale:g})"
        out.extend(table((label, "elements", "cachegate B/elem", "redis B/elem",
                          "ratio", "cg used_memory", "redis used_memory",
                          f"goal <= {TYPE_MEMORY_GOAL}"), mrows, "<>>>>>><"))
        out.append("(B/elem = (RSS after loading - RSS empty) / elements, an element being "
                   "a field, member or entry; used_memory columns: the same from INFO memory, "
                   "for reference)")

    if report["idle"]:
        out.append("")
        irows = []
        for i in report["idle"]:
            if i.get("error"):
                irows.append((i["name"], f"{i['connections']:,}", "failed", "", "", "", "",
                              "", "", ""))
                continue
            c, p = i["candidate"], i["peer"]
            ok = (c["bytes_per_connection"] <= IDLE_BYTES_GOAL
                  and c["idle_ping_p99_us"] < IDLE_PING_P99_GOAL_US)
            used = "-" if c["used_memory_per_connection"] is None else (
                f"{c['used_memory_per_connection']:,.0f}/"
                f"{p['used_memory_per_connection'] or 0:,.0f}")
            irows.append((i["name"], f"{i['connections']:,}",
                          f"{c['bytes_per_connection']:,.0f}", f"{p['bytes_per_connection']:,.0f}",
                          fmt_ratio(i["ratio"]), used,
                          f"{c['fresh_ping_us']:.0f}/{p['fresh_ping_us']:.0f}",
                          f"{c['idle_ping_p99_us']:.0f}/{p['idle_ping_p99_us']:.0f}",
                          p["server"], "ok" if ok else "over"))
        out.extend(table(("idle connections", "conns", "cachegate B/conn", "peer B/conn",
                          "ratio", "used_memory/conn", "fresh PING us", "idle PING p99 us",
                          "peer", "goal"), irows, "<>>>>>>><<"))
        out.append(f"(B/conn = (RSS with the connections open and idle - RSS before) / conns; "
                   f"used_memory/conn: the same from INFO memory, cachegate/peer (RESP only); "
                   f"PING columns cachegate/peer, measured from the script; goal: <= "
                   f"{IDLE_BYTES_GOAL} B/conn and idle PING p99 < {IDLE_PING_P99_GOAL_US:.0f} us)")

    if report["scaling"]:
        out.append("")
        srows = []
        for s in report["scaling"]:
            small, big = (str(x) for x in SCALING_SIZES)
            cells = [s["name"]]
            for side in ("candidate", "peer"):
                r = s.get(side) or {}
                if "unsupported" in r:
                    cells += ["not supported", "", ""]
                elif "per_op_us" in r:
                    g = r["growth"]
                    flag = " O(n)?" if g is not None and g > SCALING_FLAG else ""
                    cells += [f"{r['per_op_us'][small]:.2f}", f"{r['per_op_us'][big]:.2f}",
                              f"{fmt_ratio(g)}{flag}"]
                else:
                    cells += ["failed", "", ""]
            srows.append(tuple(cells))
        out.extend(table(("scaling", "cg us/op 10k", "cg us/op 1M", "cg growth",
                          "redis us/op 10k", "redis us/op 1M", "redis growth"), srows,
                         "<>>>>>>"))
        base = {side: next((s[side]["baseline_us"] for s in report["scaling"]
                            if s.get(side) and "baseline_us" in s[side]), None)
                for side in ("candidate", "peer")}
        out.append(f"(server CPU per op at 10k and 1M elements; growth = net time at 1M / net "
                   f"time at 10k, net = minus a PING's cost (cachegate {fmt_ratio(base['candidate'])}"
                   f" us, redis {fmt_ratio(base['peer'])} us); above {SCALING_FLAG:.0f}, flagged "
                   f"O(n)?, the op's own work grows with the structure's size)")

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


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for options whose default is worked out later (None)."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv: list[str]) -> argparse.Namespace:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    p = argparse.ArgumentParser(
        description="cachegate vs redis-server and memcached, side by side on one pinned core: "
                    "throughput and CPU per op (strings and data types), memory, idle "
                    "connections, scaling.",
        formatter_class=HelpFormatter)
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
    load = p.add_argument_group("throughput rows")
    load.add_argument("--rounds", type=int, default=3, help="rounds per strings scenario")
    load.add_argument("--duration", type=float,
                      help="measured seconds per strings run [default: 5, or 2 with --quick]")
    load.add_argument("--warmup", type=float,
                      help="warm-up seconds per strings run [default: 1, or 0.5 with --quick]")
    load.add_argument("--quick", action="store_true",
                      help="shorter runs and fewer, smaller memory loads, for a smoke test; "
                           "explicit options still win")
    load.add_argument("--connections", type=int, default=50,
                      help="connections per run (ping-pong: pairs of them)")
    load.add_argument("--keyspace", type=int, default=100_000,
                      help="keys of the strings rows (preloaded for GET)")
    load.add_argument("--value-size", type=int, default=64,
                      help="bytes per SET value and per {value} of the data-type rows")
    load.add_argument("--seed", type=int, default=1, help="seed of round 1 (round r uses seed+r-1)")
    load.add_argument("--only", metavar="FILTERS",
                      help="comma-separated filters; run only rows whose name has all the "
                           "words of one filter (e.g. 'resp,get P=16', 'P=1', 'lpush', "
                           "'memory zset', 'idle', 'scaling'), in every section")
    types = p.add_argument_group("data-type rows (lists, sets, hashes, sorted sets, streams)")
    types.add_argument("--no-types", action="store_true",
                       help="skip the data-type throughput rows")
    types.add_argument("--type-rounds", type=int, default=2, help="rounds per data-type row")
    types.add_argument("--type-duration", type=float,
                       help="measured seconds per data-type run [default: 2, or 1 with --quick]")
    types.add_argument("--type-warmup", type=float,
                       help="warm-up seconds per data-type run [default: 0.5, or 0.25 with "
                            "--quick]")
    types.add_argument("--type-keys", type=int, default=1000,
                       help="keys per data type (lists, sets, ...) in the throughput rows")
    mem = p.add_argument_group("memory rows")
    mem.add_argument("--memory-keys", type=int,
                     help="keys loaded for the strings bytes-per-item figure [default: "
                          "1000000, or 200000 with --quick]")
    mem.add_argument("--type-memory-scale", type=float,
                     help="scale of the data-type memory rows' key counts [default: 1, or "
                          "0.1 with --quick]")
    mem.add_argument("--no-memory", action="store_true", help="skip every memory row")
    mem.add_argument("--no-type-memory", action="store_true",
                     help="skip the data-type memory rows")
    idle = p.add_argument_group("idle connections")
    idle.add_argument("--idle-connections", type=int, default=2000,
                      help="idle connections opened per measurement (10000 for the large "
                           "case; bounded by the open-file limit)")
    idle.add_argument("--idle-settle", type=float, default=6.0,
                      help="seconds the connections stay idle before RSS is read "
                           "(redis-server shrinks idle clients' buffers every 5 s)")
    idle.add_argument("--no-idle", action="store_true", help="skip the idle-connection rows")
    scale = p.add_argument_group("scaling check")
    scale.add_argument("--no-scaling", action="store_true", help="skip the scaling check")
    scale.add_argument("--scaling-requests", type=int, default=20_000,
                       help="requests per scaling measurement")
    scale.add_argument("--scaling-repeats", type=int, default=3,
                       help="measurements per operation and size (median taken)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object on stdout (the table goes to stderr)")
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 2.0 if args.quick else 5.0
    if args.warmup is None:
        args.warmup = 0.5 if args.quick else 1.0
    if args.type_duration is None:
        args.type_duration = 1.0 if args.quick else 2.0
    if args.type_warmup is None:
        args.type_warmup = 0.25 if args.quick else 0.5
    if args.memory_keys is None:
        args.memory_keys = 200_000 if args.quick else 1_000_000
    if args.type_memory_scale is None:
        args.type_memory_scale = 0.1 if args.quick else 1.0
    if (min(args.rounds, args.type_rounds, args.scaling_repeats) < 1 or args.duration <= 0
            or args.type_duration <= 0 or args.warmup < 0 or args.type_warmup < 0):
        p.error("rounds and repeats must be >= 1, durations > 0, warm-ups >= 0")
    if min(args.connections, args.keyspace, args.memory_keys, args.type_keys,
           args.idle_connections, args.scaling_requests) < 1 or args.value_size < 0:
        p.error("counts must be >= 1, --value-size >= 0")
    if not 0 < args.type_memory_scale <= 10:
        p.error("--type-memory-scale must be in (0, 10]")
    if max(args.duration + args.warmup, args.type_duration + args.type_warmup) > 120:
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


def selector(only: Optional[str]) -> Callable[[str], bool]:
    """Whether a row name passes --only (whole words, so "P=1" does not select P=16)."""
    if not only:
        return lambda name: True
    wanted = [set(w.split()) for w in only.split(",") if w.strip()]
    return lambda name: any(w <= set(name.split()) for w in wanted)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    command = shlex.join(["python3", sys.argv[0], *argv])
    selected = selector(args.only)

    redis = redis_recipe(args.redis_server)
    memcached = memcached_recipe(args.memcached)
    peers = {RESP: redis, MEMCACHE: memcached}
    if args.peer_only:
        candidates = {RESP: Recipe("redis-server (as candidate)", redis.template, "redis"),
                      MEMCACHE: Recipe("memcached (as candidate)", memcached.template,
                                       "memcached")}
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

    all_scenarios = list(STRING_SCENARIOS)
    if not args.no_types:
        all_scenarios += type_scenarios(args.type_keys)
    scenarios = [s for s in all_scenarios if s.protocol in candidates and selected(s.name)]
    string_memory = [] if args.no_memory else [
        p for p in (RESP, MEMCACHE) if p in candidates and selected(f"memory {p} strings")]
    type_memory = [] if (args.no_memory or args.no_type_memory or RESP not in candidates) else [
        r.scaled(args.type_memory_scale) for r in TYPE_MEMORY_ROWS if selected(r.name)]
    idle_rows = [] if args.no_idle else [
        p for p in (RESP, MEMCACHE) if p in candidates and selected(f"idle {p}")]
    scaling_ops = [] if (args.no_scaling or RESP not in candidates) else [
        o for o in SCALING_OPS if selected(o.name)]
    if not (scenarios or string_memory or type_memory or idle_rows or scaling_ops):
        raise BenchError("nothing to run")
    check_tools(args, list({id(r): r for r in [*candidates.values(), *peers.values()]}.values()))

    est = 0.0
    for s in scenarios:
        if s.group == "types":
            est += args.type_rounds * 2 * (args.type_duration + args.type_warmup + 0.8)
        else:
            est += args.rounds * 2 * (args.duration + args.warmup + 0.3)
    est += sum(4 * (3 + args.memory_keys / 200_000) for _ in string_memory)
    est += sum(2 * (3 + r.elements / 400_000) for r in type_memory)
    est += len(idle_rows) * 2 * (4 + args.idle_connections / 2000)
    est += 2 * (20 + len(scaling_ops) * 2 * args.scaling_repeats) if scaling_ops else 0
    log(f"side_by_side: {len(scenarios)} throughput rows, {len(string_memory) + len(type_memory)} "
        f"memory rows, {len(idle_rows)} idle rows, {len(scaling_ops)} scaling rows; about "
        f"{est / 60:.1f} min")

    loadgen = Loadgen(args.loadgen, args.client_cpu, args)
    warnings: list[str] = []
    server_commands: dict[str, str] = {}
    rows: list[RowResult] = []
    memory: list[dict] = []
    type_mem: list[dict] = []
    idle: list[dict] = []
    scaling: list[dict] = []
    failed = False

    with tempfile.TemporaryDirectory(prefix="side_by_side.") as tmp:
        logdir = Path(tmp)
        # ---- throughput and latency: every server up at once, all on the server core
        if scenarios:
            rows = run_throughput(scenarios, candidates, peers, loadgen, args, logdir,
                                  warnings, server_commands)

        # ---- memory: a fresh server per measurement, so nothing else is in it
        for proto in string_memory:
            log(f"memory: loading {args.memory_keys:,} keys over {proto}")
            try:
                cand_mem = measure_memory(candidates[proto], proto, loadgen,
                                          args.memory_keys, args.server_cpu, logdir)
                peer_mem = measure_memory(peers[proto], proto, loadgen,
                                          args.memory_keys, args.server_cpu, logdir)
            except BenchError as e:
                warnings.append(f"memory over {proto}: {e}")
                log(f"memory over {proto}: FAILED: {e}")
                failed = True
                continue
            memory.append({
                "protocol": proto,
                "keys": args.memory_keys,
                "candidate": cand_mem,
                "peer": peer_mem,
                "ratio": (cand_mem["bytes_per_item"] / peer_mem["bytes_per_item"]
                          if peer_mem["bytes_per_item"] > 0 else None),
            })
        for row in type_memory:
            log(f"{row.name}: loading {row.elements:,} elements")
            entry: dict = {"name": row.name, "elements": row.elements, "template": row.template,
                           "keys": row.keys}
            try:
                entry["peer"] = measure_type_memory(peers[RESP], row, loadgen, args.server_cpu,
                                                    logdir)
                entry["candidate"] = measure_type_memory(candidates[RESP], row, loadgen,
                                                         args.server_cpu, logdir)
                c, p = entry["candidate"], entry["peer"]
                entry["ratio"] = (c["bytes_per_element"] / p["bytes_per_element"]
                                  if p["bytes_per_element"] > 0 else None)
                log(f"{row.name}: {c['bytes_per_element']:.1f} vs {p['bytes_per_element']:.1f} "
                    f"B/element")
            except NotSupported as e:
                entry["unsupported"] = str(e)
                log(f"{row.name}: not supported by the candidate ({e})")
            except (BenchError, OSError) as e:
                entry["error"] = str(e)
                warnings.append(f"{row.name}: {e}")
                log(f"{row.name}: FAILED: {e}")
                failed = True
            type_mem.append(entry)

        # ---- idle connections: a fresh server per measurement
        if idle_rows:
            n = args.idle_connections
            limit = raise_fd_limit(n + 256)
            if limit < n + 256:
                warnings.append(f"idle connections: open-file limit {limit} allows only "
                                f"{max(limit - 256, 1)} of {n} connections")
                n = max(limit - 256, 1)
            for proto in idle_rows:
                name = f"idle {proto}"
                log(f"{name}: {n:,} idle connections")
                entry = {"name": name, "protocol": proto, "connections": n}
                try:
                    entry["candidate"] = measure_idle(candidates[proto], proto, n,
                                                      args.server_cpu, logdir, args.idle_settle)
                    entry["peer"] = measure_idle(peers[proto], proto, n, args.server_cpu, logdir,
                                                 args.idle_settle)
                    c, p = entry["candidate"], entry["peer"]
                    entry["ratio"] = (c["bytes_per_connection"] / p["bytes_per_connection"]
                                      if p["bytes_per_connection"] > 0 else None)
                except (BenchError, OSError) as e:
                    entry["error"] = str(e)
                    warnings.append(f"{name}: {e}")
                    log(f"{name}: FAILED: {e}")
                    failed = True
                idle.append(entry)

        # ---- scaling check: one fresh server per side
        if scaling_ops:
            results = {}
            for side, recipe in (("candidate", candidates[RESP]), ("peer", peers[RESP])):
                try:
                    results[side] = measure_scaling(recipe, loadgen, args, args.server_cpu,
                                                    logdir, scaling_ops)
                except (BenchError, OSError) as e:
                    results[side] = {}
                    warnings.append(f"scaling check on {recipe.label}: {e}")
                    log(f"scaling check on {recipe.label}: FAILED: {e}")
                    failed = True
            for op in scaling_ops:
                entry = {"name": op.name, "template": op.template}
                for side in ("candidate", "peer"):
                    entry[side] = results.get(side, {}).get(op.name)
                    r = entry[side] or {}
                    if r.get("growth") and r["growth"] > SCALING_FLAG:
                        warnings.append(f"{op.name}: per-op time grows {r['growth']:.1f}x from "
                                        f"10k to 1M elements on the {side}: O(n)?")
                scaling.append(entry)

    summaries = [r.summary() for r in rows]
    geomeans = {}
    for label, group in (("all", None), ("strings", "strings"), ("types", "types")):
        sel = [r for r in summaries if group is None or r["group"] == group]
        if group is not None and len(sel) == len(summaries):
            continue  # only one group ran: "all" says it already
        if not sel:
            continue
        geomeans[label] = {
            "ratio": geomean([r["ratio"] for r in sel]),
            "p99_ratio": geomean([r["p99_ratio"] for r in sel]),
            "cpu_ratio": geomean([r["cpu_ratio"] for r in sel]),
        }
    all_g = geomeans.get("all", {})
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
        "type_rounds": args.type_rounds,
        "type_duration": args.type_duration,
        "type_warmup": args.type_warmup,
        "type_keys": args.type_keys,
        "type_memory_scale": args.type_memory_scale,
        "idle_settle": args.idle_settle,
        "scaling_requests": args.scaling_requests,
        "connections": args.connections,
        "keyspace": args.keyspace,
        "value_size": args.value_size,
        "server_cpu": args.server_cpu,
        "client_cpu": args.client_cpu,
        "rows": summaries,
        "geomeans": geomeans,
        "geomean_ratio": all_g.get("ratio"),
        "geomean_p99_ratio": all_g.get("p99_ratio"),
        "geomean_cpu_ratio": all_g.get("cpu_ratio"),
        "memory": memory,
        "type_memory": type_mem,
        "idle": idle,
        "scaling": scaling,
        "warnings": warnings,
    }
    table_text = render_table(report)
    if args.json:
        print(table_text, file=sys.stderr)
        print(json.dumps(report, indent=2))
    else:
        print(table_text)
    failed = failed or any(r["failures"] for r in summaries)
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
