//! Binding listening sockets and accepting connections.
//!
//! Addresses follow redis.conf's `bind` syntax: `*` is every IPv4 address, `::*` every IPv6
//! address, a leading `-` makes an address optional (skipped if it cannot be bound), and an
//! empty list means every interface. Unix sockets replace a stale file at their path and take
//! the configured permissions. Accept loops hand each connection to its protocol's task and
//! enforce the connection limit with redis-server's (or memcached's) refusal.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use socket2::{Domain, Protocol, Socket, Type};

/// A bind address from redis.conf syntax.
fn parse_bind(addr: &str) -> Result<(IpAddr, bool), String> {
    let (optional, addr) = match addr.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, addr),
    };
    let ip = match addr {
        "*" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "::*" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        other => other
            .parse()
            .map_err(|_| format!("invalid bind address '{other}'"))?,
    };
    Ok((ip, optional))
}

/// Binds a TCP listener with the given backlog and `SO_REUSEADDR`, as redis-server does.
/// Returns a non-blocking std listener: binding needs no async runtime (CONFIG SET port runs
/// under the executor, which may be a plain thread); the accept loop adopts it.
pub fn bind_tcp(addr: SocketAddr, backlog: u32) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // Keep IPv6 listeners IPv6-only so `*` and `::*` can both be bound.
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Binds every address of `bind` on `port`. Optional addresses that fail are skipped; any
/// other failure is an error naming the address.
pub fn bind_all(
    bind: &[String],
    port: u16,
    backlog: u32,
) -> Result<Vec<std::net::TcpListener>, String> {
    let addrs: Vec<String> = if bind.is_empty() {
        vec!["*".into(), "-::*".into()]
    } else {
        bind.to_vec()
    };
    let mut out = Vec::new();
    for a in &addrs {
        let (ip, optional) = parse_bind(a)?;
        match bind_tcp(SocketAddr::new(ip, port), backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional => {
                tracing::warn!("skipping optional bind address {a}: {e}");
            }
            Err(e) => return Err(format!("could not bind {a}:{port}: {e}")),
        }
    }
    if out.is_empty() {
        return Err(format!("no address could be bound for port {port}"));
    }
    Ok(out)
}

/// Binds a Unix socket at `path` (replacing a stale socket file) with permissions `perm`
/// (0 = leave as created).
pub fn bind_unix(path: &str, perm: u32) -> Result<std::os::unix::net::UnixListener, String> {
    let p = Path::new(path);
    if p.exists() {
        std::fs::remove_file(p)
            .map_err(|e| format!("could not remove stale socket {path}: {e}"))?;
    }
    let l = std::os::unix::net::UnixListener::bind(p)
        .map_err(|e| format!("could not bind unix socket {path}: {e}"))?;
    l.set_nonblocking(true)
        .map_err(|e| format!("could not configure unix socket {path}: {e}"))?;
    if perm != 0 {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(perm))
            .map_err(|e| format!("could not set permissions on {path}: {e}"))?;
    }
    Ok(l)
}

/// Applies per-connection TCP options: no Nagle delay (replies go out at once, as
/// redis-server and memcached do) and keepalive probes every `keepalive` seconds.
pub fn tune(stream: &tokio::net::TcpStream, keepalive: u64) {
    let _ = stream.set_nodelay(true);
    if keepalive > 0 {
        let ka = socket2::TcpKeepalive::new()
            .with_time(std::time::Duration::from_secs(keepalive))
            .with_interval(std::time::Duration::from_secs((keepalive / 3).max(1)));
        let _ = socket2::SockRef::from(stream).set_tcp_keepalive(&ka);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_syntax() {
        assert_eq!(
            parse_bind("*"),
            Ok((IpAddr::V4(Ipv4Addr::UNSPECIFIED), false))
        );
        assert_eq!(parse_bind("-::1"), Ok(("::1".parse().unwrap(), true)));
        assert!(parse_bind("nope").is_err());
    }
}
