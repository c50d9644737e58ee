//! Reading the command scripts: the line format, directives and modifiers (documented in
//! `tests/differential.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use cachegate_protocols::resp::inline::split_args;
use cachegate_protocols::resp::{decode, DecodeLimits, Frame};

/// Comparison modifiers of one step (see the list in `tests/differential.rs`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mods {
    /// `%sort`
    pub sort: bool,
    /// `%cursor`
    pub cursor: bool,
    /// `%approx <n>`
    pub approx: Option<i64>,
    /// `%fields`
    pub fields: bool,
    /// `%keep <names>`: field values `%fields` leaves alone.
    pub keep: Vec<Vec<u8>>,
    /// `%ignore <names>`
    pub ignore: Vec<Vec<u8>>,
    /// `%shape`
    pub shape: bool,
    /// `%help`
    pub help: bool,
    /// `%docs`
    pub docs: bool,
    /// `%subset`
    pub subset: bool,
    /// `%drop <name>`, repeatable.
    pub drop: Vec<Vec<u8>>,
    /// `%sortsub`
    pub sortsub: bool,
    /// `%map`
    pub map: bool,
}

impl Mods {
    /// True if the reply is to be normalised rather than compared byte for byte.
    pub fn any(&self) -> bool {
        *self != Mods::default()
    }
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send a command, compare one reply.
    Command(Vec<Vec<u8>>),
    /// Send bytes, compare everything until close or quiet.
    Raw(Vec<u8>),
    /// Iterate a cursor command to the end, compare the key sets.
    Scan(Vec<Vec<u8>>),
    /// A command only cachegate has, and the reply it must give (bytes and decoded).
    CachegateOnly {
        expect: Vec<u8>,
        frame: Frame,
        args: Vec<Vec<u8>>,
    },
    /// Drop the connections and open new ones.
    Reconnect,
    /// Wait.
    Sleep(Duration),
}

/// One line of a script.
#[derive(Debug, Clone)]
pub struct Step {
    /// Line number, from 1.
    pub line: usize,
    /// The line as written, for reports.
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
    /// RESP versions to replay it over (`%protocols`).
    pub protocols: Vec<u8>,
    pub steps: Vec<Step>,
}

/// Tokenizes a script line the way redis-cli does (quotes and escapes).
fn tokens(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let (mut spans, mut scratch) = (Vec::new(), Vec::new());
    split_args(line.as_bytes(), &mut spans, &mut scratch)
        .map_err(|_| "unbalanced quotes".to_string())?;
    Ok(spans
        .iter()
        .map(|s| scratch[s.start..s.start + s.len].to_vec())
        .collect())
}

/// Expands `<token> %repeat <n>` into the token repeated `n` times (long arguments and
/// oversized protocol lines without kilobytes of script); `None` if a count is missing.
fn expand_repeats(toks: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(toks.len());
    let mut it = toks.into_iter();
    while let Some(tok) = it.next() {
        if tok == b"%repeat" {
            let n: usize = it
                .next()
                .and_then(|n| String::from_utf8(n).ok())
                .and_then(|n| n.parse().ok())
                .filter(|&n| n >= 1)?;
            let last = out.pop()?;
            out.push(last.repeat(n));
        } else {
            out.push(tok);
        }
    }
    Some(out)
}

/// Parses one script file; errors name the file and line.
fn parse_script(path: &Path) -> Result<Script, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut script = Script {
        path: path.to_path_buf(),
        name,
        protocols: vec![2],
        steps: Vec::new(),
    };
    for (i, raw_line) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fail = |msg: &str| format!("{}:{line}: {msg}: {trimmed}", script.name);
        let mut toks = expand_repeats(tokens(trimmed).map_err(|e| fail(&e))?)
            .ok_or_else(|| fail("%repeat needs a count >= 1 after a token"))?;
        toks.reverse(); // pop() from the front
        let mut mods = Mods::default();
        let action = loop {
            let Some(tok) = toks.pop() else {
                return Err(fail("modifiers without a command"));
            };
            let arg = |toks: &mut Vec<Vec<u8>>| {
                toks.pop().ok_or_else(|| {
                    fail(&format!(
                        "{} needs an argument",
                        String::from_utf8_lossy(&tok)
                    ))
                })
            };
            let rest = |toks: &mut Vec<Vec<u8>>| {
                let mut v = std::mem::take(toks);
                v.reverse();
                v
            };
            match tok.as_slice() {
                b"%protocols" => {
                    script.protocols = rest(&mut toks)
                        .iter()
                        .map(|p| match p.as_slice() {
                            b"2" => Ok(2),
                            b"3" => Ok(3),
                            _ => Err(fail("protocols are 2 and/or 3")),
                        })
                        .collect::<Result<_, _>>()?;
                    break None;
                }
                b"%sort" => mods.sort = true,
                b"%cursor" => mods.cursor = true,
                b"%fields" => mods.fields = true,
                b"%shape" => mods.shape = true,
                b"%help" => mods.help = true,
                b"%docs" => mods.docs = true,
                b"%map" => mods.map = true,
                b"%keep" => {
                    let names = arg(&mut toks)?;
                    mods.keep
                        .extend(names.split(|&b| b == b',').map(<[u8]>::to_vec));
                }
                b"%sortsub" => mods.sortsub = true,
                b"%subset" => mods.subset = true,
                b"%drop" => mods.drop.push(arg(&mut toks)?),
                b"%approx" => {
                    let n = arg(&mut toks)?;
                    let n = std::str::from_utf8(&n)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| fail("%approx needs a number"))?;
                    mods.approx = Some(n);
                }
                b"%ignore" => {
                    let names = arg(&mut toks)?;
                    mods.ignore
                        .extend(names.split(|&b| b == b',').map(<[u8]>::to_vec));
                }
                b"%raw" => break Some(Action::Raw(rest(&mut toks).concat())),
                b"%scan" => break Some(Action::Scan(rest(&mut toks))),
                b"%reconnect" => break Some(Action::Reconnect),
                b"%sleep" => {
                    let ms = arg(&mut toks)?;
                    let ms: u64 = std::str::from_utf8(&ms)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| fail("%sleep needs milliseconds"))?;
                    break Some(Action::Sleep(Duration::from_millis(ms)));
                }
                b"%cachegate" => {
                    let expect = arg(&mut toks)?;
                    let frame = match decode(&expect, &DecodeLimits::default()) {
                        Ok(Some((frame, used))) if used == expect.len() => frame,
                        _ => return Err(fail("%cachegate needs exactly one RESP reply")),
                    };
                    break Some(Action::CachegateOnly {
                        expect,
                        frame,
                        args: rest(&mut toks),
                    });
                }
                t if t.starts_with(b"%") => return Err(fail("unknown directive")),
                _ => {
                    let mut args = vec![tok];
                    args.extend(rest(&mut toks));
                    break Some(Action::Command(args));
                }
            }
        };
        if let Some(action) = action {
            if let Action::Scan(a) | Action::CachegateOnly { args: a, .. } = &action {
                if a.is_empty() {
                    return Err(fail("a command is missing"));
                }
            }
            script.steps.push(Step {
                line,
                text: trimmed.to_string(),
                action,
                mods,
            });
        }
    }
    Ok(script)
}

/// Every script in `tests/scripts/redis/`, in name order (`DIFF_SCRIPT` filters by name).
pub fn load_scripts() -> Vec<Script> {
    super::shared::script_paths("redis", "redis")
        .iter()
        .map(|p| parse_script(p).unwrap_or_else(|e| panic!("bad script: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_lines_parse() {
        assert_eq!(
            tokens(r#"SET "a b" '' "\x00""#).unwrap(),
            vec![b"SET".to_vec(), b"a b".to_vec(), Vec::new(), vec![0]]
        );
    }

    #[test]
    fn repeats_expand() {
        let toks = tokens(r#"SET k "ab" %repeat 3 x"#).unwrap();
        assert_eq!(
            expand_repeats(toks),
            Some(vec![
                b"SET".to_vec(),
                b"k".to_vec(),
                b"ababab".to_vec(),
                b"x".to_vec()
            ])
        );
        assert_eq!(
            expand_repeats(vec![b"%repeat".to_vec(), b"2".to_vec()]),
            None
        );
    }
}
