//! A linear pre-scan that bounds nesting before the recursive parser sees the input.
//!
//! The shell parser is a recursive-descent (PEG) parser: input such as 10,000 nested `$(` would
//! recurse 10,000 levels and overflow the stack. This scan runs in one pass, with constant stack,
//! and over-approximates the nesting depth: parentheses, braces, substitutions, backticks and
//! compound-command keywords each count one level. Over-approximating only ever rejects (fails
//! closed); it never lets a deeper input through.

/// Returns false when the nesting of `src` exceeds `max_depth`.
pub(crate) fn depth_ok(src: &str, max_depth: usize) -> bool {
    let bytes = src.as_bytes();
    let mut depth: usize = 0;
    let mut in_single = false;
    let mut in_double = false;
    let mut backtick = false;
    let mut i = 0;
    let mut word_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if in_single {
            if b == b'\'' {
                in_single = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'\\' => {
                i += 2;
                word_start = false;
                continue;
            }
            b'\'' if !in_double => in_single = true,
            b'"' => in_double = !in_double,
            b'`' => {
                if backtick {
                    depth = depth.saturating_sub(1);
                } else {
                    depth += 1;
                }
                backtick = !backtick;
            }
            b'(' | b'{' | b'['
                // Inside double quotes only `$(`, `${` and `$[` open a level.
                if (!in_double || (i > 0 && bytes[i - 1] == b'$')) => {
                    depth += 1;
                }
            b')' | b'}' | b']'
                if (!in_double || depth > 0) => {
                    depth = depth.saturating_sub(1);
                }
            _ if word_start && !in_double && b.is_ascii_alphabetic() => {
                let end = bytes[i..].iter().position(|c| !c.is_ascii_alphanumeric()).map_or(bytes.len(), |p| i + p);
                match &src[i..end] {
                    "if" | "case" | "while" | "until" | "for" | "select" | "function" | "coproc" => depth += 1,
                    "fi" | "esac" | "done" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                i = end;
                word_start = false;
                if depth > max_depth {
                    return false;
                }
                continue;
            }
            _ => {}
        }
        if depth > max_depth {
            return false;
        }
        word_start = matches!(
            b,
            b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'{' | b'}' | b'`'
        );
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::depth_ok;

    #[test]
    fn deep_substitution_is_rejected() {
        let s = "$(".repeat(10_000);
        assert!(!depth_ok(&s, 32));
        assert!(depth_ok("echo $(echo $(echo hi))", 32));
    }

    #[test]
    fn keywords_count() {
        let s = "if true; then ".repeat(40);
        assert!(!depth_ok(&s, 32));
        assert!(depth_ok(
            "for f in *; do if [ -f $f ]; then echo $f; fi; done",
            32
        ));
    }

    #[test]
    fn quotes_hide_parens() {
        assert!(depth_ok(&format!("echo '{}'", "(".repeat(100)), 8));
        assert!(depth_ok(&format!("echo \"{}\"", "(".repeat(100)), 8));
        assert!(!depth_ok(&format!("echo \"{}\"", "$(".repeat(100)), 8));
    }
}
