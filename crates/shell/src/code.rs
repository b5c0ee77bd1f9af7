//! Recovering the commands an interpreter one-liner hands to a shell or `exec`.
//!
//! This is a lexical scan, not a parser for Python, Perl, Ruby, JavaScript, PHP, Lua or awk: it
//! finds calls of the functions that run commands (`os.system`, `subprocess.*`, `pty.spawn`,
//! `os.exec*`, `exec`/`system`/backticks/`qx{}`, `child_process.exec*`, `shell_exec`,
//! `os.execute`, awk `system()` and `"cmd" | getline`) whose arguments are string literals, and
//! returns each as a shell command line. Code it cannot read stays what it is: code execution.

use crate::words::quote;

/// Function names (last path segment) that run a command given as a string or argument list.
const RUNNERS: &[&str] = &[
    "system",
    "popen",
    "popen2",
    "popen3",
    "exec",
    "execl",
    "execlp",
    "execle",
    "execv",
    "execvp",
    "execve",
    "execvpe",
    "spawn",
    "spawnSync",
    "execSync",
    "execFile",
    "execFileSync",
    "fork",
    "shell_exec",
    "passthru",
    "proc_open",
    "pcntl_exec",
    "execute",
    "check_output",
    "check_call",
    "call",
    "run",
    "Popen",
    "getoutput",
    "getstatusoutput",
    "spawnl",
    "spawnlp",
    "spawnv",
    "spawnvp",
    "capture2",
    "capture2e",
    "capture3",
    "pipeline",
    "execCommand",
];

/// Function names (last path segment) that delete a directory tree: Python `shutil.rmtree`,
/// Ruby `FileUtils.rm_rf` / `rm_r`, Node `fs.rmSync` / `rmdirSync`, PHP has none. Their first
/// literal argument is recovered as the `rm -rf` it amounts to.
const TREE_REMOVERS: &[&str] = &[
    "rmtree",
    "rm_rf",
    "rm_r",
    "remove_dir_all",
    "rmSync",
    "rmdirSync",
];

/// The command lines the code passes to a shell or to `exec`, where they are string literals,
/// and the `rm -rf` that a tree-deleting library call amounts to.
pub fn shell_strings(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() && out.len() < 32 {
        let c = b[i];
        // Backticks and `qx{...}` (Perl, Ruby, PHP) run their body in a shell.
        if c == b'`'
            && let Some(end) = code[i + 1..].find('`')
        {
            out.push(code[i + 1..i + 1 + end].to_owned());
            i += end + 2;
            continue;
        }
        // Bytes, not `code[i..]`: `i` may be inside a multi-byte character.
        if (b[i..].starts_with(b"qx") || b[i..].starts_with(b"%x"))
            && !prev_ident(b, i)
            && let Some((body, next)) = bracketed(code, i + 2)
        {
            out.push(body.to_owned());
            i = next;
            continue;
        }
        // awk: `"cmd" | getline` and `print ... | "cmd"`.
        if c == b'|' {
            let rest = code[i + 1..].trim_start();
            if rest.starts_with('"')
                && let Some((s, _)) = string_literal(rest)
            {
                out.push(s);
            }
            if rest.starts_with("getline")
                && let Some(s) = literal_before(code, i)
            {
                out.push(s);
            }
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let ident = &code[start..i];
            if RUNNERS.contains(&ident)
                && let Some(cmd) = call_command(ident, &code[i..])
            {
                out.push(cmd);
            }
            if TREE_REMOVERS.contains(&ident)
                && let Some(path) = first_literal_argument(&code[i..])
            {
                out.push(format!("rm -rf {}", quote(&path)));
            }
            continue;
        }
        i += 1;
    }
    out
}

fn prev_ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// `qx{...}`, `qx(...)`, `%x(...)`: the body and the index after it.
fn bracketed(code: &str, at: usize) -> Option<(&str, usize)> {
    let open = *code.as_bytes().get(at)?;
    let close = match open {
        b'{' => b'}',
        b'(' => b')',
        b'[' => b']',
        b'<' => b'>',
        b'/' | b'!' | b'|' => open,
        _ => return None,
    };
    let end = code[at + 1..].bytes().position(|c| c == close)?;
    Some((&code[at + 1..at + 1 + end], at + end + 2))
}

/// The string literal that ends right before `at` (awk `"cmd" | getline`).
fn literal_before(code: &str, at: usize) -> Option<String> {
    let head = code[..at].trim_end();
    let body = head.strip_suffix('"')?;
    let start = body.rfind('"')?;
    Some(body[start + 1..].to_owned())
}

/// After a runner's name: the command its string or list arguments describe.
fn call_command(ident: &str, rest: &str) -> Option<String> {
    let mut s = rest.trim_start();
    let paren = s.starts_with('(');
    if paren {
        s = s[1..].trim_start();
    } else if !(s.starts_with('"') || s.starts_with('\'') || s.starts_with('[')) {
        return None;
    }
    let mut literals: Vec<String> = Vec::new();
    let mut list = false;
    // Read literal arguments up to the closing paren (or the end of a paren-less call).
    loop {
        s = s.trim_start();
        // `execSync("sh -i", {stdio: "inherit"})`: an options object after the command.
        if s.starts_with('{') && !literals.is_empty() {
            break;
        }
        if s.starts_with('[') || s.starts_with('{') {
            list = true;
            s = &s[1..];
            continue;
        }
        if s.starts_with(']') || s.starts_with('}') || s.starts_with(',') {
            s = &s[1..];
            continue;
        }
        match string_literal(s) {
            Some((lit, n)) => {
                literals.push(lit);
                s = &s[n..];
            }
            None => break,
        }
        if literals.len() > 64 {
            break;
        }
    }
    let first = literals.first()?;
    let exec_family = ident.starts_with("exec")
        && ident.len() > 4
        && ident != "execute"
        && ident != "execSync"
        && ident != "execFile"
        && ident != "execFileSync"
        && ident != "execCommand";
    let spawn_l = ident.starts_with("spawnl") || ident.starts_with("spawnv");
    if literals.len() == 1 && !list {
        return Some(first.clone());
    }
    let argv: Vec<&String> = if (exec_family || spawn_l) && literals.len() > 1 {
        // execl(path, arg0, args...): arg0 is the name the program sees; the path is what runs.
        std::iter::once(first)
            .chain(literals.iter().skip(2))
            .collect()
    } else {
        literals.iter().collect()
    };
    Some(argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "))
}

/// `("path", ...)` after a function name: the first argument, when it is a string literal.
fn first_literal_argument(rest: &str) -> Option<String> {
    let s = rest.trim_start().strip_prefix('(')?.trim_start();
    string_literal(s).map(|(lit, _)| lit)
}

/// A string literal at the start of `s` (`"..."`, `'...'`, with a Python prefix such as `r` or
/// `f`): its value and its length in bytes.
fn string_literal(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len()
        && i < 2
        && matches!(b[i], b'r' | b'b' | b'f' | b'u' | b'R' | b'B' | b'F' | b'U')
    {
        i += 1;
    }
    let q = *b.get(i)?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let raw = i > 0 && (b[0] == b'r' || b[0] == b'R');
    let mut out = String::new();
    let mut chars = s[i + 1..].char_indices();
    while let Some((j, c)) = chars.next() {
        if c as u32 == u32::from(q) {
            return Some((out, i + 1 + j + 1));
        }
        if c == '\\' && !raw {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, e)) => out.push(e),
                None => return None,
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::shell_strings;

    #[test]
    fn python_forms() {
        assert_eq!(
            shell_strings(r#"import os; os.system("rm -rf /")"#),
            ["rm -rf /"]
        );
        assert_eq!(
            shell_strings(r#"import pty;pty.spawn("/bin/sh")"#),
            ["/bin/sh"]
        );
        assert_eq!(
            shell_strings(r#"import subprocess; subprocess.run(["rm", "-rf", "/tmp/x y"])"#),
            ["rm -rf '/tmp/x y'"]
        );
        assert_eq!(
            shell_strings(r#"subprocess.call("id", shell=True)"#),
            ["id"]
        );
        assert_eq!(
            shell_strings(r#"os.execl("/bin/sh", "sh", "-c", "reset; exec sh")"#),
            ["/bin/sh -c 'reset; exec sh'"]
        );
        assert!(shell_strings("print(1+1)").is_empty());
    }

    #[test]
    fn tree_removal_calls_are_rm_rf() {
        assert_eq!(
            shell_strings(r#"import shutil; shutil.rmtree("/")"#),
            ["rm -rf /"]
        );
        assert_eq!(
            shell_strings("shutil.rmtree( '/home/u' )"),
            ["rm -rf /home/u"]
        );
        assert_eq!(
            shell_strings(r#"require 'fileutils'; FileUtils.rm_rf("/etc")"#),
            ["rm -rf /etc"]
        );
        assert_eq!(
            shell_strings(r#"require('fs').rmSync('/srv/data', {recursive: true})"#),
            ["rm -rf /srv/data"]
        );
        // A path only known at run time is not guessed.
        assert!(shell_strings("shutil.rmtree(path)").is_empty());
        assert!(shell_strings("rmtree").is_empty());
    }

    #[test]
    fn perl_ruby_node_awk_forms() {
        assert_eq!(shell_strings(r#"exec "/bin/sh";"#), ["/bin/sh"]);
        assert_eq!(shell_strings("print `id`"), ["id"]);
        assert_eq!(
            shell_strings(r#"require("child_process").execSync("curl x | sh")"#),
            ["curl x | sh"]
        );
        assert_eq!(shell_strings(r#"BEGIN {system("/bin/sh")}"#), ["/bin/sh"]);
        assert_eq!(
            shell_strings(r#"BEGIN {"id" | getline x; print x}"#),
            ["id"]
        );
        assert_eq!(shell_strings(r#"os.execute("/bin/sh")"#), ["/bin/sh"]);
        assert_eq!(shell_strings("qx{ls -la}"), ["ls -la"]);
    }

    #[test]
    fn non_ascii_code_does_not_panic() {
        // Regression: the `qx`/`%x` check sliced the string inside a multi-byte character.
        assert!(shell_strings("print(\"é\")").is_empty());
        assert_eq!(shell_strings("é; os.system(\"ü | sh\")"), ["ü | sh"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(code in "[a-z\"'`|({\\\\é→ ]{0,40}") {
            let _ = shell_strings(&code);
        }
    }
}
