//! Redis glob-style pattern matching: `*`, `?`, `[...]` classes and `\`
//! escapes, case-sensitive or not.
//!
//! Owns the matcher only. `CONFIG GET` uses it case-insensitively; `KEYS`,
//! `SCAN … MATCH` and friends reuse it case-sensitively, which is why it has
//! no dependency on the rest of this crate. The behaviour is Redis 7.0's
//! `stringmatchlen`, quirks included, checked against redis-server 7.0.15
//! on x86-64:
//!
//! * `*` matches any run of bytes, `?` exactly one byte.
//! * `[abc]`, `[a-z]`, `[^...]`: a range written backwards (`[z-a]`) is
//!   swapped; range ends compare as *signed* bytes, as C `char` does on
//!   x86-64, so `[a-\xff]` means `\xff`(-1) ..= `a`(97) and does not match
//!   `b` or `\x80`; `\x` inside a class matches `x` exactly, even when the
//!   match is case-insensitive; an unterminated class runs to the end of the
//!   pattern; `[^` alone matches any byte, `[` alone matches nothing.
//! * `\x` outside a class matches `x` literally; a trailing `\` matches `\`.
//! * Case-insensitive means ASCII only (the C locale's `tolower`); in a
//!   range the ends are swapped first and lower-cased second, so
//!   `[Z-a]` matches nothing when case is ignored.
//! * The empty string matches only the empty pattern, so `*` does not
//!   match `""`. Redis's KEYS and SCAN special-case the pattern `*` before
//!   matching; callers that need `""` to match `*` must do the same.
//!
//! The pattern is compiled once into tokens and matched with the classic
//! backtrack-to-the-last-star loop, so matching is O(pattern × string)
//! without recursion, whatever the input. Because every token other than
//! `*` consumes exactly one byte, this gives the same answers as Redis's
//! recursive matcher.

/// Whether letters match regardless of ASCII case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// `a` matches only `a` (KEYS, SCAN MATCH, PSUBSCRIBE).
    Sensitive,
    /// `a` matches `a` and `A` (CONFIG GET, COMMAND LIST FILTERBY PATTERN).
    Insensitive,
}

/// A compiled glob pattern; compile once, match many strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern as a token sequence, consecutive stars collapsed.
    tokens: Vec<Token>,
    /// Whether ASCII letters compare case-insensitively.
    nocase: bool,
}

/// One unit of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// `*`: any run of bytes, possibly empty.
    Star,
    /// `?`: exactly one byte.
    AnyByte,
    /// A literal byte (possibly written escaped).
    Byte(u8),
    /// `[...]` or `[^...]`: one byte that is (or, negated, is not) in the set.
    Class {
        /// `[^...]`: matches bytes *not* in the set.
        negated: bool,
        /// The members, in pattern order.
        items: Vec<ClassItem>,
    },
}

/// One member of a `[...]` class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClassItem {
    /// `\x`: exactly this byte, case-sensitive even in a case-insensitive
    /// match (Redis compares escaped class members without folding).
    Exact(u8),
    /// A plain member, folded when matching case-insensitively.
    Byte(u8),
    /// `a-z`: both ends inclusive, already ordered as signed bytes.
    Range(u8, u8),
}

/// Matches `string` against `pattern` once; compile a [`Pattern`] instead
/// when the same pattern is matched against many strings.
pub fn glob_match(pattern: &[u8], string: &[u8], case: Case) -> bool {
    Pattern::new(pattern, case).matches(string)
}

impl Pattern {
    /// Compiles `pattern`. Every byte sequence is a valid pattern; malformed
    /// classes and escapes get Redis's interpretation rather than an error.
    pub fn new(pattern: &[u8], case: Case) -> Pattern {
        let mut tokens = Vec::new();
        let n = pattern.len();
        let mut i = 0;
        while i < n {
            let token = match pattern[i] {
                b'*' => {
                    i += 1;
                    if tokens.last() == Some(&Token::Star) {
                        continue;
                    }
                    Token::Star
                }
                b'?' => {
                    i += 1;
                    Token::AnyByte
                }
                b'[' => {
                    let (token, next) = compile_class(pattern, i + 1);
                    i = next;
                    token
                }
                b'\\' if n - i >= 2 => {
                    i += 2;
                    Token::Byte(pattern[i - 1])
                }
                b => {
                    i += 1;
                    Token::Byte(b)
                }
            };
            tokens.push(token);
        }
        Pattern {
            tokens,
            nocase: case == Case::Insensitive,
        }
    }

    /// Whether the whole of `string` matches the pattern.
    pub fn matches(&self, string: &[u8]) -> bool {
        let tokens = &self.tokens;
        if string.is_empty() {
            // Redis never enters its matching loop for an empty string, so
            // only the empty pattern matches it (not even `*`).
            return tokens.is_empty();
        }
        let (mut t, mut s) = (0, 0);
        // Where to resume after the most recent star: (token after it,
        // first string byte the star has not yet swallowed).
        let mut resume: Option<(usize, usize)> = None;
        while s < string.len() {
            match tokens.get(t) {
                Some(Token::Star) => {
                    t += 1;
                    resume = Some((t, s));
                    continue;
                }
                Some(token) if self.token_matches(token, string[s]) => {
                    t += 1;
                    s += 1;
                    continue;
                }
                _ => {}
            }
            match resume {
                // Let the star swallow one more byte and retry from there.
                Some((after_star, swallowed)) => {
                    t = after_star;
                    s = swallowed + 1;
                    resume = Some((after_star, s));
                }
                None => return false,
            }
        }
        tokens[t..].iter().all(|token| *token == Token::Star)
    }

    /// Whether a one-byte token accepts `c`.
    fn token_matches(&self, token: &Token, c: u8) -> bool {
        match token {
            Token::Star => false,
            Token::AnyByte => true,
            Token::Byte(b) => self.fold(*b) == self.fold(c),
            Token::Class { negated, items } => {
                let found = items.iter().any(|item| match *item {
                    ClassItem::Exact(b) => b == c,
                    ClassItem::Byte(b) => self.fold(b) == self.fold(c),
                    ClassItem::Range(lo, hi) => {
                        let (lo, hi, c) =
                            (self.fold(lo) as i8, self.fold(hi) as i8, self.fold(c) as i8);
                        lo <= c && c <= hi
                    }
                });
                found != *negated
            }
        }
    }

    /// Lower-cases ASCII letters when matching case-insensitively.
    fn fold(&self, b: u8) -> u8 {
        if self.nocase {
            b.to_ascii_lowercase()
        } else {
            b
        }
    }
}

/// Compiles a class whose body starts at `pattern[start]` (just after `[`);
/// returns the token and the index just past the class.
fn compile_class(pattern: &[u8], start: usize) -> (Token, usize) {
    let n = pattern.len();
    let mut i = start;
    let negated = pattern.get(i) == Some(&b'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    while i < n {
        let rest = n - i;
        if pattern[i] == b'\\' && rest >= 2 {
            items.push(ClassItem::Exact(pattern[i + 1]));
            i += 2;
        } else if pattern[i] == b']' {
            i += 1;
            break;
        } else if rest >= 3 && pattern[i + 1] == b'-' {
            let (a, b) = (pattern[i], pattern[i + 2]);
            // Order the ends as signed bytes, like C `char` on x86-64.
            let (lo, hi) = if (a as i8) > (b as i8) {
                (b, a)
            } else {
                (a, b)
            };
            items.push(ClassItem::Range(lo, hi));
            i += 3;
        } else {
            items.push(ClassItem::Byte(pattern[i]));
            i += 1;
        }
    }
    (Token::Class { negated, items }, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sensitive(p: &[u8], s: &[u8]) -> bool {
        glob_match(p, s, Case::Sensitive)
    }

    fn insensitive(p: &[u8], s: &[u8]) -> bool {
        glob_match(p, s, Case::Insensitive)
    }

    #[test]
    fn stars_and_questions() {
        assert!(sensitive(b"*", b"anything"));
        assert!(sensitive(b"h?llo", b"hello"));
        assert!(!sensitive(b"h?llo", b"hllo"));
        assert!(sensitive(b"h*llo", b"hllo"));
        assert!(sensitive(b"h*llo", b"heeeello"));
        assert!(sensitive(b"*o", b"hello"));
        assert!(!sensitive(b"*x", b"hello"));
        assert!(sensitive(b"a**b***c", b"a-b-c"));
        assert!(sensitive(b"a*", b"a"));
        assert!(sensitive(b"*a*", b"banana"));
        assert!(sensitive(b"*a*n*a", b"banana"));
        assert!(!sensitive(b"*a*n*x", b"banana"));
        assert!(!sensitive(b"?", b"ab"));
        assert!(sensitive(b"??", b"ab"));
    }

    #[test]
    fn empty_string_matches_only_empty_pattern() {
        assert!(sensitive(b"", b""));
        assert!(!sensitive(b"*", b""));
        assert!(!sensitive(b"**", b""));
        assert!(!sensitive(b"", b"a"));
    }

    #[test]
    fn classes() {
        assert!(sensitive(b"h[ae]llo", b"hallo"));
        assert!(!sensitive(b"h[ae]llo", b"hillo"));
        assert!(sensitive(b"h[^e]llo", b"hallo"));
        assert!(!sensitive(b"h[^e]llo", b"hello"));
        assert!(sensitive(b"h[a-b]llo", b"hbllo"));
        assert!(
            sensitive(b"h[b-a]llo", b"hbllo"),
            "reversed range is swapped"
        );
        assert!(!sensitive(b"[]", b"]"), "[] is an empty class");
        assert!(sensitive(b"[^]", b"x"), "[^] matches any byte");
        assert!(sensitive(b"[\\]]", b"]"));
        assert!(sensitive(b"[\\-]", b"-"));
        assert!(!sensitive(b"[\\-]", b"\\"));
    }

    /// Answers observed from redis-server 7.0.15 (x86-64) with `KEYS`
    /// over the keys below, sent as raw RESP.
    #[test]
    fn matches_redis_7_0_15() {
        let keys: &[&[u8]] = &[b"\x80", b"0", b"\xff", b"b", b"B", b"a", b"[", b"\\"];
        let cases: &[(&[u8], &[&[u8]])] = &[
            (b"[a-\xff]", &[b"0", b"\xff", b"B", b"a", b"[", b"\\"]),
            (b"[\xff-a]", &[b"0", b"\xff", b"B", b"a", b"[", b"\\"]),
            (b"[\x80-\xff]", &[b"\x80", b"\xff"]),
            (b"[^", keys),
            (b"[", &[]),
            (b"\\", &[b"\\"]),
            (b"[\\", &[b"\\"]),
            (b"[A-a]", &[b"B", b"a", b"[", b"\\"]),
            (b"[a-]", &[b"a"]),
            (b"[b-a", &[b"a", b"b"]),
            (b"?\\", &[]),
        ];
        for &(pattern, want) in cases {
            let compiled = Pattern::new(pattern, Case::Sensitive);
            let mut got: Vec<&[u8]> = keys
                .iter()
                .copied()
                .filter(|k| compiled.matches(k))
                .collect();
            let mut want = want.to_vec();
            got.sort();
            want.sort();
            assert_eq!(got, want, "pattern {pattern:?}");
        }
    }

    #[test]
    fn escapes() {
        assert!(sensitive(b"a\\*b", b"a*b"));
        assert!(!sensitive(b"a\\*b", b"axb"));
        assert!(sensitive(b"\\?", b"?"));
        assert!(!sensitive(b"\\?", b"x"));
        assert!(sensitive(b"a\\", b"a\\"), "trailing backslash is literal");
        assert!(sensitive(b"\\a", b"a"));
        assert!(insensitive(b"\\A", b"a"), "escaped literal still folds");
    }

    #[test]
    fn case_folding() {
        assert!(insensitive(b"MAX*", b"maxclients"));
        assert!(!sensitive(b"MAX*", b"maxclients"));
        assert!(insensitive(b"[A-C]x", b"bX"));
        assert!(insensitive(b"[P]ort", b"port"));
        assert!(
            !insensitive(b"[\\P]ort", b"port"),
            "escaped class member is exact"
        );
        assert!(insensitive(b"[\\p]ort", b"port"));
        assert!(
            !insensitive(b"[Z-a]", b"z"),
            "swap before fold empties the range"
        );
        assert!(!insensitive(b"[Z-a]", b"a"));
        assert!(sensitive(b"[Z-a]", b"_"));
        assert!(!insensitive(b"\xc9", b"\xe9"), "only ASCII folds");
    }

    #[test]
    fn unterminated_class_runs_to_end() {
        // `[ab` is the class {a, b}; nothing may follow it.
        assert!(sensitive(b"x[ab", b"xa"));
        assert!(!sensitive(b"x[ab", b"xab"));
        // `[a-]`: the range a..] swallows the bracket, so the class is open.
        assert!(sensitive(b"[a-]", b"_"));
        assert!(!sensitive(b"[a-]z", b"az"));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let string = [b'a'; 200];
        assert!(!sensitive(pattern, &string));
    }

    /// An independent, byte-level restatement of the semantics (recursive,
    /// no tokenizer) used to cross-check the compiled matcher.
    fn reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
        fn fold(b: u8, nocase: bool) -> u8 {
            if nocase {
                b.to_ascii_lowercase()
            } else {
                b
            }
        }
        fn go(p: &[u8], s: &[u8], nocase: bool) -> bool {
            let Some((&first, rest)) = p.split_first() else {
                return s.is_empty();
            };
            if first == b'*' {
                return (0..=s.len()).any(|k| go(rest, &s[k..], nocase));
            }
            let Some((&c, s_rest)) = s.split_first() else {
                return false;
            };
            match first {
                b'?' => go(rest, s_rest, nocase),
                b'[' => {
                    let mut q = rest;
                    let negated = q.first() == Some(&b'^');
                    if negated {
                        q = &q[1..];
                    }
                    let mut found = false;
                    loop {
                        match q {
                            [] => break,
                            [b'\\', x, tail @ ..] => {
                                found |= *x == c;
                                q = tail;
                            }
                            [b']', tail @ ..] => {
                                q = tail;
                                break;
                            }
                            [a, b'-', b, tail @ ..] => {
                                let (mut lo, mut hi) = (*a as i8, *b as i8);
                                if lo > hi {
                                    std::mem::swap(&mut lo, &mut hi);
                                }
                                let lo = fold(lo as u8, nocase) as i8;
                                let hi = fold(hi as u8, nocase) as i8;
                                let cc = fold(c, nocase) as i8;
                                found |= lo <= cc && cc <= hi;
                                q = tail;
                            }
                            [x, tail @ ..] => {
                                found |= fold(*x, nocase) == fold(c, nocase);
                                q = tail;
                            }
                        }
                    }
                    found != negated && go(q, s_rest, nocase)
                }
                b'\\' if !rest.is_empty() => {
                    fold(rest[0], nocase) == fold(c, nocase) && go(&rest[1..], s_rest, nocase)
                }
                _ => fold(first, nocase) == fold(c, nocase) && go(rest, s_rest, nocase),
            }
        }
        if s.is_empty() {
            return p.is_empty();
        }
        go(p, s, nocase)
    }

    fn small_alphabet() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b'a'),
                Just(b'B'),
                Just(b'b'),
                Just(b'*'),
                Just(b'?'),
                Just(b'['),
                Just(b']'),
                Just(b'^'),
                Just(b'-'),
                Just(b'\\'),
                Just(0x80u8),
                Just(0xffu8),
            ],
            0..10,
        )
    }

    proptest! {
        #[test]
        fn never_panics(p in proptest::collection::vec(any::<u8>(), 0..40),
                        s in proptest::collection::vec(any::<u8>(), 0..40),
                        nocase in any::<bool>()) {
            let case = if nocase { Case::Insensitive } else { Case::Sensitive };
            let _ = glob_match(&p, &s, case);
        }

        #[test]
        fn agrees_with_reference(p in small_alphabet(), s in small_alphabet(), nocase in any::<bool>()) {
            let case = if nocase { Case::Insensitive } else { Case::Sensitive };
            prop_assert_eq!(glob_match(&p, &s, case), reference(&p, &s, nocase),
                "pattern {:?} string {:?}", p, s);
        }
    }
}
