//! Reading the memcached conversation scripts (`tests/scripts/memcache/*.mc`): lines,
//! escapes, repetitions, CAS variables, directives and modifiers. The format is documented
//! in `tests/differential_memcache.rs`.

use std::path::{Path, PathBuf};

/// A piece of the bytes a step sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// `${key}`: the CAS value this server last returned for `key`.
    Cas(Vec<u8>),
}

/// Comparison modifiers of one step (see the list in `tests/differential_memcache.rs`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mods {
    /// `%stats`: compare `STAT` lists by name, order and data values.
    pub stats: bool,
    /// `%ignore <name>[,<name>…]`: more `STAT` values to mask.
    pub ignore: Vec<Vec<u8>>,
    /// `%held`: compare this step's replies together with the next step's.
    pub held: bool,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send these bytes (one write), then read both servers until quiet or closed.
    Send(Vec<Piece>),
    /// Drop the connections and open new ones.
    Reconnect,
}

/// One step: a request line with its continuation lines, or a directive.
#[derive(Debug, Clone)]
pub struct Step {
    /// Line number of its first line, from 1.
    pub line: usize,
    /// Its lines as written (continuations joined with ` | `), for reports.
    pub text: String,
    pub action: Action,
    pub mods: Mods,
}

/// A parsed script file.
#[derive(Debug)]
pub struct Script {
    pub path: PathBuf,
    /// File name, for the timing summary.
    pub name: String,
    /// `%memcached` flags: memcached's own spelling, mapped to cachegate's by the runner.
    pub server_flags: Vec<String>,
    pub steps: Vec<Step>,
}

/// Appends literal bytes, merging with a literal piece before them.
fn push_bytes(pieces: &mut Vec<Piece>, bytes: &[u8]) {
    match pieces.last_mut() {
        Some(Piece::Bytes(b)) => b.extend_from_slice(bytes),
        _ => pieces.push(Piece::Bytes(bytes.to_vec())),
    }
}

/// Decodes the escapes of `text` (`\\ \r \n \t \0 \s \xHH`), stopping at `\c`. Returns the
/// bytes and whether `\c` was met (then no line ending is to be added).
fn unescape(text: &str) -> Result<(Vec<u8>, bool), String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let Some(&e) = b.get(i + 1) else {
            return Err("a lone \\ at the end (\\\\ is a backslash)".into());
        };
        i += 2;
        match e {
            b'\\' => out.push(b'\\'),
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'0' => out.push(0),
            b's' => out.push(b' '),
            b'c' => {
                if i < b.len() {
                    return Err("\\c must end the line".into());
                }
                return Ok((out, true));
            }
            b'x' => {
                let hex = text
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("\\x needs two hex digits")?;
                out.push(hex);
                i += 2;
            }
            other => return Err(format!("unknown escape \\{}", other as char)),
        }
    }
    Ok((out, false))
}

/// Turns the text of a request or continuation line into pieces: `{{text*N}}` repeats
/// `text`, `${key}` is a CAS variable (the key written like the rest of the line), the rest
/// is unescaped. Returns the pieces and
/// whether the line ends with `\c` (no CRLF).
fn line_pieces(text: &str) -> Result<(Vec<Piece>, bool), String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        let rep = rest.find("{{");
        let var = rest.find("${");
        let next = match (rep, var) {
            (Some(r), Some(v)) => r.min(v),
            (Some(r), None) => r,
            (None, Some(v)) => v,
            (None, None) => {
                let (bytes, no_crlf) = unescape(rest)?;
                push_bytes(&mut pieces, &bytes);
                return Ok((pieces, no_crlf));
            }
        };
        let (bytes, no_crlf) = unescape(&rest[..next])?;
        if no_crlf {
            return Err("\\c must end the line".into());
        }
        push_bytes(&mut pieces, &bytes);
        rest = &rest[next..];
        if rest.starts_with("{{") {
            let end = rest.find("}}").ok_or("{{ without }}")?;
            let inner = &rest[2..end];
            let star = inner.rfind('*').ok_or("{{text*count}} needs a *")?;
            let count: usize = inner[star + 1..]
                .trim()
                .parse()
                .map_err(|_| "{{text*count}}: bad count")?;
            let (unit, no_crlf) = unescape(&inner[..star])?;
            if no_crlf {
                return Err("\\c inside {{…}}".into());
            }
            push_bytes(&mut pieces, &unit.repeat(count));
            rest = &rest[end + 2..];
        } else {
            // The key may be written with escapes and repetitions itself: its end is the
            // first `}` outside a `{{…}}`.
            let mut end = 2;
            loop {
                let tail = &rest[end..];
                if tail.starts_with("{{") {
                    end += tail.find("}}").ok_or("{{ without }}")? + 2;
                } else if tail.starts_with('}') {
                    break;
                } else {
                    end += tail.chars().next().ok_or("${ without }")?.len_utf8();
                }
            }
            let key = match line_pieces(&rest[2..end])? {
                (p, false) if p.len() <= 1 => match p.into_iter().next() {
                    Some(Piece::Bytes(b)) => b,
                    _ => Vec::new(),
                },
                _ => return Err("a ${key} holds a plain key".into()),
            };
            pieces.push(Piece::Cas(key));
            rest = &rest[end + 1..];
        }
    }
}

/// Parses one script file; errors name the file and line.
pub fn parse_script(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut script = Script {
        path: path.to_path_buf(),
        name,
        server_flags: Vec::new(),
        steps: Vec::new(),
    };
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw_line.trim();
        let fail = |msg: &str| format!("{}:{line}: {msg}: {trimmed}", script.name);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // A continuation: more bytes for the step above, sent in the same write.
        if let Some(cont) = trimmed.strip_prefix('|') {
            let (pieces, no_crlf) = line_pieces(cont.trim()).map_err(|e| fail(&e))?;
            let Some(Step {
                action: Action::Send(send),
                text,
                ..
            }) = script.steps.last_mut()
            else {
                return Err(fail("a | line must follow a request line"));
            };
            for p in pieces {
                match p {
                    Piece::Bytes(b) => push_bytes(send, &b),
                    var => send.push(var),
                }
            }
            if !no_crlf {
                push_bytes(send, b"\r\n");
            }
            text.push_str(" | ");
            text.push_str(cont.trim());
            continue;
        }
        let mut rest = trimmed;
        let mut mods = Mods::default();
        let action = loop {
            if !rest.starts_with('%') {
                let (mut pieces, no_crlf) = line_pieces(rest).map_err(|e| fail(&e))?;
                if !no_crlf {
                    push_bytes(&mut pieces, b"\r\n");
                }
                break Some(Action::Send(pieces));
            }
            let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
            let after = after.trim_start();
            match word {
                "%stats" => {
                    mods.stats = true;
                    rest = after;
                }
                "%held" => {
                    mods.held = true;
                    rest = after;
                }
                "%ignore" => {
                    let (names, after) = after.split_once(' ').unwrap_or((after, ""));
                    if names.is_empty() {
                        return Err(fail("%ignore needs field names"));
                    }
                    mods.ignore
                        .extend(names.split(',').map(|n| n.as_bytes().to_vec()));
                    rest = after.trim_start();
                }
                "%reconnect" if after.is_empty() => break Some(Action::Reconnect),
                "%memcached" => {
                    if !script.steps.is_empty() {
                        return Err(fail("%memcached must come before the first step"));
                    }
                    script.server_flags = after.split_whitespace().map(String::from).collect();
                    break None;
                }
                _ => return Err(fail("unknown directive or modifier")),
            }
        };
        let Some(action) = action else { continue };
        if script.steps.last().is_some_and(|s| s.mods.held) && !matches!(action, Action::Send(_)) {
            return Err(fail("a %held step must be followed by a request line"));
        }
        if mods != Mods::default() && !matches!(action, Action::Send(_)) {
            return Err(fail("modifiers apply to request lines only"));
        }
        if !mods.ignore.is_empty() && !mods.stats {
            return Err(fail("%ignore masks STAT values: it needs %stats"));
        }
        script.steps.push(Step {
            line,
            text: trimmed.to_string(),
            action,
            mods,
        });
    }
    if script.steps.last().is_some_and(|s| s.mods.held) {
        return Err(format!("{}: the last step is %held", script.name));
    }
    Ok(script)
}

/// Every script in `tests/scripts/memcache/`, in name order (`DIFF_SCRIPT` filters by path).
pub fn load_scripts() -> Vec<Script> {
    super::shared::script_paths("memcache", "mc")
        .iter()
        .map(|p| parse_script(p).unwrap_or_else(|e| panic!("bad script: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_repeats_and_variables() {
        let (p, no_crlf) = line_pieces(r"get \x00a\sb {{k*3}} ${key} x\c").unwrap();
        assert!(no_crlf);
        assert_eq!(
            p,
            vec![
                Piece::Bytes(b"get \x00a b kkk ".to_vec()),
                Piece::Cas(b"key".to_vec()),
                Piece::Bytes(b" x".to_vec()),
            ]
        );
        assert_eq!(
            line_pieces(r"{{\r\n*2}}").unwrap(),
            (vec![Piece::Bytes(b"\r\n\r\n".to_vec())], false)
        );
        assert_eq!(
            line_pieces(r"cas ${{{k*3}}\x21} 1").unwrap().0,
            vec![
                Piece::Bytes(b"cas ".to_vec()),
                Piece::Cas(b"kkk!".to_vec()),
                Piece::Bytes(b" 1".to_vec()),
            ]
        );
        assert!(line_pieces(r"a\c b").is_err());
        assert!(line_pieces(r"a\q").is_err());
        assert!(line_pieces("{{k*}}").is_err());
    }
}
