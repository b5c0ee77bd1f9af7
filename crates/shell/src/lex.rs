//! The fast path: a small, strictly conservative lexer for the common subset of shell lines.
//!
//! Most lines an agent runs are a few simple commands of literal words joined by `|`, `&&`, `||`
//! and `;`, with quotes and a redirection or two (`grep -rn "TODO" src | head -20`,
//! `make 2>&1 > build.log`). For those, the full parser (tokenizer, PEG grammar, word parser) costs
//! ten times what the rest of the analysis does. [`fast_line`] reads exactly that subset and gives
//! up (`None`) on anything else, so that the parser handles it; it never guesses.
//!
//! Accepted (everything else is refused, see `docs/decisions/0032-lexer-fast-path.md`):
//! - blanks: space and tab;
//! - unquoted word bytes: ASCII letters, digits and `_ . / , : @ % + - = * ? [ ] { }`, `~` only as
//!   the first byte of a word and followed by `/` or the end of the word, and a backslash before a
//!   printable ASCII byte other than `$` and a backtick (the byte itself, quoted);
//! - single quotes around anything but control bytes;
//! - double quotes around anything but control bytes, a backtick, a backslash, `!` and a `$` that
//!   does not start a parameter;
//! - parameters `$NAME` (a shell name), unquoted or in double quotes: kept as written and resolved
//!   by the walker against the line's known values, as the parser path resolves them;
//! - operators `|`, `&&`, `||`, `;` between non-empty commands;
//! - redirections `<`, `>`, `>>` to one word, `>&D` and `<&D` to one digit, each with an optional
//!   one-digit descriptor written right before it, after the command name.
//!
//! The command name (the first word of each command) must not be a reserved word, contain `=`
//! (an assignment), `{` or `}`. Words are resolved exactly as the walker resolves the parser's
//! words: quotes removed, `\c` becomes `c`. Property tests hold the result to the parser path's,
//! field for field (`walk::tests`).

use std::ops::Range;

use crate::walk::Raw;
use crate::{Redirect, RedirectOp, Source, Word};

/// Where a word with parameters sits in its command.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    /// `argv[i]`.
    Arg(usize),
    /// The target of `redirects[i]`.
    Target(usize),
}

/// One simple command of a fast line.
#[derive(Debug)]
pub(crate) struct Part {
    /// True when it is the first command of a pipeline (the start of the line or after `&&`,
    /// `||` or `;`); false after `|`.
    pub(crate) starts_pipeline: bool,
    /// The command; a word with parameters holds each `$NAME` as written, and is resolved by the
    /// walker (`vars`) once the earlier commands' assignments are known.
    pub(crate) raw: Raw,
    /// The words with `$NAME` parameters and the byte ranges of each `$NAME` in their text.
    pub(crate) vars: Vec<(Slot, Vec<Range<usize>>)>,
}

/// Words that are reserved in command position (bash(1) "RESERVED WORDS", plus `[[`/`]]`).
const RESERVED: [&str; 22] = [
    "!", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if",
    "in", "select", "then", "time", "until", "while", "{", "}", "[[", "]]",
];

/// The simple commands of a line in the fast-path subset, in order, or `None` when the line is
/// outside it (the parser then decides).
pub(crate) fn fast_line(src: &str) -> Option<Vec<Part>> {
    let b = src.as_bytes();
    let mut parts: Vec<Part> = Vec::new();
    let mut raw = Raw::default();
    let mut vars: Vec<(Slot, Vec<Range<usize>>)> = Vec::new();
    let mut starts_pipeline = true;
    let mut i = 0;
    loop {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let Some(&c) = b.get(i) else { break };
        match c {
            b'|' | b'&' | b';' => {
                let next = b.get(i + 1).copied();
                let (len, pipe) = match (c, next) {
                    (b'|', Some(b'|')) | (b'&', Some(b'&')) => (2, false),
                    // `|&`, `;;`, `;&`, `&` (background), `&>`, `||&`: not ours.
                    (b'|', Some(b'&')) | (b';', Some(b';' | b'&')) | (b'&', _) => return None,
                    (b'|', _) => (1, true),
                    _ => (1, false),
                };
                if raw.argv.is_empty() {
                    return None;
                }
                parts.push(Part {
                    starts_pipeline,
                    raw: std::mem::take(&mut raw),
                    vars: std::mem::take(&mut vars),
                });
                starts_pipeline = !pipe;
                i += len;
            }
            b'<' | b'>' => {
                i = redirect(b, i, None, &mut raw, &mut vars)?;
            }
            b'0'..=b'9' if matches!(b.get(i + 1), Some(b'<' | b'>')) => {
                i = redirect(b, i + 1, Some(i32::from(c - b'0')), &mut raw, &mut vars)?;
            }
            _ => {
                let start = i;
                let mut params = Vec::new();
                let word = word(b, &mut i, &mut params)?;
                // A longer number right before `<` or `>` is a descriptor we do not read.
                if matches!(b.get(i), Some(b'<' | b'>'))
                    && b[start..i].iter().all(u8::is_ascii_digit)
                {
                    return None;
                }
                if raw.argv.is_empty() {
                    let written = &b[start..i];
                    if !raw.redirects.is_empty()
                        || written.iter().any(|c| b"={}".contains(c))
                        || RESERVED.contains(&word.text.as_str())
                    {
                        return None;
                    }
                }
                if !params.is_empty() {
                    vars.push((Slot::Arg(raw.argv.len()), params));
                }
                raw.argv.push(word);
            }
        }
    }
    if raw.argv.is_empty() {
        return None;
    }
    parts.push(Part {
        starts_pipeline,
        raw,
        vars,
    });
    Some(parts)
}

/// Reads a redirection whose operator starts at `b[i]`; returns the index after its target.
fn redirect(
    b: &[u8],
    mut i: usize,
    fd: Option<i32>,
    raw: &mut Raw,
    vars: &mut Vec<(Slot, Vec<Range<usize>>)>,
) -> Option<usize> {
    // A redirection before the command name, or with no command: not ours.
    if raw.argv.is_empty() {
        return None;
    }
    let (op, len) = match (b.get(i), b.get(i + 1)) {
        (Some(b'>'), Some(b'>')) => (RedirectOp::Append, 2),
        (Some(b'>'), Some(b'&')) => (RedirectOp::DupOutput, 2),
        (Some(b'<'), Some(b'&')) => (RedirectOp::DupInput, 2),
        // `>|`, `>(`, `<<`, `<<<`, `<>`, `<(`: not ours.
        (Some(b'>'), Some(b'|' | b'(')) | (Some(b'<'), Some(b'<' | b'>' | b'(')) => return None,
        (Some(b'>'), _) => (RedirectOp::Write, 1),
        (Some(b'<'), _) => (RedirectOp::Read, 1),
        _ => return None,
    };
    i += len;
    let target = if matches!(op, RedirectOp::DupOutput | RedirectOp::DupInput) {
        // Exactly one digit, then the end of the word.
        let d = *b.get(i).filter(|d| d.is_ascii_digit())?;
        if b.get(i + 1).is_some_and(|&c| !is_boundary(c)) {
            return None;
        }
        i += 1;
        Word::literal(char::from(d).to_string())
    } else {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if b.get(i).is_none_or(|&c| is_boundary(c)) {
            return None;
        }
        let mut params = Vec::new();
        let w = word(b, &mut i, &mut params)?;
        if !params.is_empty() {
            vars.push((Slot::Target(raw.redirects.len()), params));
        }
        w
    };
    if op == RedirectOp::Read && fd.is_none_or(|f| f == 0) {
        raw.stdin = Source::File(target.clone());
    }
    raw.redirects.push(Redirect { fd, op, target });
    Some(i)
}

/// True for a byte that ends an unquoted word.
fn is_boundary(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'|' | b'&' | b';' | b'<' | b'>')
}

/// Reads one word starting at `b[*i]` (not a blank, not an operator) and resolves it; `None` for
/// any byte outside the subset.
fn word(b: &[u8], i: &mut usize, params: &mut Vec<Range<usize>>) -> Option<Word> {
    let start = *i;
    // Most words are unquoted: their text is their bytes, copied once.
    let plain = b[start..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || b"_./,:@%+-=*?[]{}".contains(&c)))
        .map_or(b.len(), |p| start + p);
    if plain > start && b.get(plain).is_none_or(|&c| is_boundary(c)) {
        *i = plain;
        let text = std::str::from_utf8(&b[start..plain]).ok()?;
        return Some(Word::literal(text));
    }
    let mut text: Vec<u8> = Vec::with_capacity((b.len() - start).min(64));
    while let Some(&c) = b.get(*i) {
        match c {
            b' ' | b'\t' | b'|' | b'&' | b';' | b'<' | b'>' => break,
            b'\'' => {
                let close = b[*i + 1..].iter().position(|&q| q == b'\'')?;
                let inner = &b[*i + 1..*i + 1 + close];
                if inner.iter().any(|&q| q < 0x20 || q == 0x7f) {
                    return None;
                }
                text.extend_from_slice(inner);
                *i += close + 2;
            }
            b'"' => {
                *i += 1;
                loop {
                    match *b.get(*i)? {
                        b'"' => break,
                        b'$' => param(b, i, &mut text, params)?,
                        q if q < 0x20 || q == 0x7f || b"`\\!".contains(&q) => return None,
                        q => {
                            text.push(q);
                            *i += 1;
                        }
                    }
                }
                *i += 1;
            }
            b'$' => param(b, i, &mut text, params)?,
            b'\\' => {
                // Not `\$` or `\``: brush's tokenizer still treats what follows them as an
                // expansion (`\$'...'` opens an ANSI-C quote there).
                let e = *b
                    .get(*i + 1)
                    .filter(|&&e| (0x20..0x7f).contains(&e) && e != b'$' && e != b'`')?;
                text.push(e);
                *i += 2;
            }
            b'~' => {
                if *i != start || b.get(*i + 1).is_some_and(|&n| n != b'/' && !is_boundary(n)) {
                    return None;
                }
                text.push(c);
                *i += 1;
            }
            _ if c.is_ascii_alphanumeric() || b"_./,:@%+-=*?[]{}".contains(&c) => {
                text.push(c);
                *i += 1;
            }
            _ => return None,
        }
    }
    if *i == start {
        return None;
    }
    // Only whole UTF-8 sequences were copied (quotes and ASCII bytes cut nowhere else).
    String::from_utf8(text).ok().map(|text| Word {
        text,
        dynamic: !params.is_empty(),
    })
}

/// Reads a parameter `$NAME` (a shell name: a letter or `_`, then letters, digits and `_`) at
/// `b[*i]` into `text` as written and records its range; `None` for any other `$` (`$1`, `$@`,
/// `${...}`, `$(...)`, `$'...'`).
fn param(
    b: &[u8],
    i: &mut usize,
    text: &mut Vec<u8>,
    params: &mut Vec<Range<usize>>,
) -> Option<()> {
    let start = *i;
    if !b
        .get(start + 1)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    {
        return None;
    }
    let end = b[start + 1..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .map_or(b.len(), |p| start + 1 + p);
    params.push(text.len()..text.len() + (end - start));
    text.extend_from_slice(&b[start..end]);
    *i = end;
    Some(())
}
