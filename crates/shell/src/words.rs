//! Quote removal helpers: ANSI-C `$'...'` decoding and shell quoting for rebuilt command lines.

/// Decodes the body of a bash ANSI-C quoted string (`$'\x72m'` -> `rm`), per the bash manual,
/// "ANSI-C Quoting". Unknown escapes are kept as written.
pub(crate) fn ansi_c(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'e' | 'E' => out.push('\x1b'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' | '\'' | '"' | '?' => out.push(e),
            'x' | 'u' | 'U' => {
                let max = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v: u32 = 0;
                let mut n = 0;
                while n < max {
                    match chars.peek().and_then(|d| d.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            chars.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                match (n, char::from_u32(v)) {
                    (0, _) => {
                        out.push('\\');
                        out.push(e);
                    }
                    (_, Some(ch)) => out.push(ch),
                    (_, None) => out.push('\u{fffd}'),
                }
            }
            '0'..='7' => {
                let mut v: u32 = e.to_digit(8).unwrap_or(0);
                let mut n = 1;
                while n < 3 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'c' => {
                // Control character: `\cx`.
                if let Some(x) = chars.next() {
                    out.push(char::from_u32(u32::from(x) & 0x1f).unwrap_or('\u{fffd}'));
                }
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Decodes standard base64 (RFC 4648 §4; whitespace ignored, padding optional) into UTF-8 text,
/// as `base64 -d` would print it. `None` for anything else.
pub(crate) fn base64_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(v)) & 0x00ff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// Decodes plain hex (`xxd -r -p`: pairs of hex digits, whitespace ignored) into UTF-8 text.
/// `None` for anything else, an odd digit count included.
pub(crate) fn hex_decode(s: &str) -> Option<String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let value = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks_exact(2) {
        let (hi, lo) = (value(pair[0])?, value(pair[1])?);
        out.push(u8::try_from(hi * 16 + lo).ok()?);
    }
    String::from_utf8(out).ok()
}

/// Quotes `s` for a shell so that it reads back as one word.
pub(crate) fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&b))
    {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_c_escapes() {
        assert_eq!(ansi_c(r"\x72m"), "rm");
        assert_eq!(ansi_c(r"\162\155"), "rm");
        assert_eq!(ansi_c(r"\u0072m"), "rm");
        assert_eq!(ansi_c(r"a\nb\q"), "a\nb\\q");
        assert_eq!(ansi_c(r"\"), "\\");
    }

    #[test]
    fn base64_decodes_rfc4648_vectors() {
        assert_eq!(base64_decode("Zm9vYmFy").as_deref(), Some("foobar"));
        assert_eq!(base64_decode("Zm9vYg==").as_deref(), Some("foob"));
        assert_eq!(base64_decode("cm0gLXJmIC8=").as_deref(), Some("rm -rf /"));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn hex_decodes_what_xxd_reverts() {
        assert_eq!(hex_decode("726d202d7266202f").as_deref(), Some("rm -rf /"));
        assert_eq!(hex_decode("72 6D 0a").as_deref(), Some("rm\n"));
        assert_eq!(hex_decode("726"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn quoting_round_trips_through_the_parser() {
        for s in ["rm", "a b", "it's", "", "$(x)"] {
            let a = crate::analyze(&format!("echo {}", quote(s))).unwrap();
            assert_eq!(a.commands[0].argv[1].text, s);
        }
    }
}
