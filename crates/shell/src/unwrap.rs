//! Wrappers: commands that run another command, and how to find it.
//!
//! Option syntax follows each program's manual page (GNU coreutils for `env`, `timeout`, `nice`,
//! `stdbuf`, `nohup`, `chroot`; sudo(8); findutils for `find` and `xargs`; OpenSSH ssh(1)).

use crate::walk::{Ctx, Raw, Walker};
use crate::{Assignment, ShellError, Source, Word, WrapperKind, basename, code, words};

type R<T> = Result<T, ShellError>;

/// What a wrapper does with its arguments.
enum Step {
    /// Not a wrapper (or one with nothing to run): emit as is.
    Keep,
    /// Runs `argv[skip..]` as the command.
    Strip {
        skip: usize,
        privileged: bool,
        kind: WrapperKind,
        assignments: Vec<Assignment>,
    },
    /// Runs this string as shell code; the wrapper itself does nothing else.
    Shell {
        src: String,
        privileged: bool,
        kind: WrapperKind,
    },
    /// Emits the command itself and also what it runs.
    Also(Vec<Extra>),
}

/// A command an ordinary program runs on the side.
enum Extra {
    /// A shell string.
    Shell(WrapperKind, String, bool),
    /// An argument vector.
    Argv(WrapperKind, Vec<Word>),
}

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "mksh",
    "ash",
    "busybox-sh",
    "fish",
    "csh",
    "tcsh",
    "rbash",
    "yash",
    "posh",
    "lksh",
    "pdksh",
];

/// True for a shell's basename.
pub(crate) fn is_shell(name: &str) -> bool {
    SHELLS.contains(&name)
}

/// True for an interpreter that takes inline code.
pub(crate) fn interpreter_flag(name: &str) -> Option<&'static [&'static str]> {
    let py = name.starts_with("python") || name.starts_with("pypy");
    Some(match name {
        _ if py => &["-c"],
        "perl" | "perl5" => &["-e", "-E"],
        "ruby" | "irb" => &["-e"],
        "node" | "nodejs" | "bun" => &["-e", "--eval", "-p", "--print"],
        "deno" => &["eval"],
        "php" => &["-r"],
        "lua" | "luajit" | "lua5.1" | "lua5.2" | "lua5.3" | "lua5.4" => &["-e"],
        "Rscript" | "julia" => &["-e"],
        "expect" | "tclsh" | "wish" => &["-c"],
        "pwsh" | "powershell" => &["-c", "-Command", "-command"],
        "osascript" => &["-e"],
        // `emacs --batch --eval '(shell-command "...")'`: Emacs Lisp.
        "emacs" => &["--eval", "-eval"],
        _ => return None,
    })
}

fn is_awk(name: &str) -> bool {
    matches!(name, "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk")
}

/// Environment variables whose value is a command line some program will run.
pub(crate) const COMMAND_VARS: &[&str] = &[
    "PAGER",
    "MANPAGER",
    "GIT_PAGER",
    "SYSTEMD_PAGER",
    "LESSOPEN",
    "LESSCLOSE",
    "EDITOR",
    "VISUAL",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_SSH_COMMAND",
    "GIT_SSH",
    "GIT_EXTERNAL_DIFF",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "BASH_ENV",
    "ENV",
    "PROMPT_COMMAND",
    "BROWSER",
    "FCEDIT",
    "RSYNC_RSH",
    "CVS_RSH",
    "SUDO_EDITOR",
];

pub(crate) fn emit(w: &mut Walker<'_>, mut raw: Raw, ctx: &Ctx) -> R<Vec<usize>> {
    let mut ctx = ctx.clone();
    let mut steps = 0;
    loop {
        steps += 1;
        if steps > w.limits.max_unwrap * 4 {
            return Err(ShellError::TooManyWrappers {
                max: w.limits.max_unwrap,
            });
        }
        let step = match raw.argv.first() {
            Some(first) if !first.dynamic => {
                let name = basename(&first.text);
                // `echo 'rm -rf /' | sh`: literal data piped into a shell is a script; read it as
                // a here-string would be read.
                match raw.stdin {
                    // `echo "sh <$(tty)" | at now`: at runs the line as written, substitutions
                    // included.
                    Source::Pipe(i) if matches!(name, "at" | "batch") => {
                        match w.literal_output(i).or_else(|| w.echo_text(i)) {
                            Some(text) => {
                                let mut fed = raw.clone();
                                fed.stdin = Source::HereString(Word::literal(text));
                                classify(name, &fed)
                            }
                            None => classify(name, &raw),
                        }
                    }
                    Source::Pipe(i) if is_shell(name) => match w.literal_output(i) {
                        Some(text) => {
                            let mut fed = raw.clone();
                            fed.stdin = Source::HereString(Word::literal(text));
                            classify(name, &fed)
                        }
                        None => classify(name, &raw),
                    },
                    _ => classify(name, &raw),
                }
            }
            _ => Step::Keep,
        };
        match step {
            Step::Keep => return finish(w, raw, &ctx, Vec::new()),
            Step::Strip {
                skip,
                privileged,
                kind,
                assignments,
            } => {
                let program = raw
                    .argv
                    .first()
                    .map(|f| basename(&f.text).to_owned())
                    .unwrap_or_default();
                ctx = ctx.wrapped(kind, &program);
                ctx.privileged |= privileged;
                let input = (kind == WrapperKind::Xargs).then(|| xargs_input(w, &raw, skip));
                if kind == WrapperKind::Xargs
                    && open_tty(raw.argv.get(1..skip.min(raw.argv.len())).unwrap_or(&[]))
                {
                    raw.stdin = Source::Inherited;
                }
                raw.argv.drain(..skip.min(raw.argv.len()));
                if let Some((replace, words)) = input {
                    feed_xargs(&mut raw.argv, replace.as_deref(), words);
                }
                raw.assignments.extend(assignments);
                if raw.argv.is_empty() {
                    return finish(w, raw, &ctx, Vec::new());
                }
            }
            Step::Shell {
                src,
                privileged,
                kind,
            } => {
                let program = raw
                    .argv
                    .first()
                    .map(|f| basename(&f.text).to_owned())
                    .unwrap_or_default();
                let mut inner = ctx.clone();
                inner.privileged |= privileged;
                inner.redirects.extend(raw.redirects.iter().cloned());
                env_commands(w, &raw.assignments, &inner)?;
                let mains = w.nested(&src, &inner, kind, &program)?;
                // The wrapper's own stdin (a pipe or a file) reaches the first inner command.
                if raw.stdin != Source::Inherited
                    && let Some(c) = mains.first().and_then(|&i| w.out.commands.get_mut(i))
                    && c.stdin == Source::Inherited
                {
                    c.stdin = raw.stdin.clone();
                }
                return Ok(mains);
            }
            Step::Also(extras) => return finish(w, raw, &ctx, extras),
        }
    }
}

/// What `xargs` appends to the command it runs: its input words where the line shows them
/// (`echo / | xargs rm -rf`, `find / | xargs rm`), otherwise one word only known at run time.
/// Also the replacement string of `-I R` / `-i` / `--replace`, when given.
fn xargs_input(w: &Walker<'_>, raw: &Raw, skip: usize) -> (Option<String>, Vec<Word>) {
    let opts = raw.argv.get(1..skip.min(raw.argv.len())).unwrap_or(&[]);
    let mut replace = None;
    let mut from_file = false;
    let mut i = 0;
    while let Some(o) = opts.get(i) {
        let t = o.text.as_str();
        if t == "-I" {
            replace = opts.get(i + 1).map(|r| r.text.clone());
            i += 1;
        } else if let Some(r) = t.strip_prefix("-I") {
            replace = Some(r.to_owned());
        } else if t == "-i" || t == "--replace" {
            replace = Some("{}".to_owned());
        } else if let Some(r) = t
            .strip_prefix("--replace=")
            .or_else(|| t.strip_prefix("-i"))
        {
            replace = Some(r.to_owned());
        } else if t == "-a" || t.starts_with("--arg-file") || (t.starts_with("-a") && t.len() > 2) {
            let file = match t {
                "-a" | "--arg-file" => {
                    i += 1;
                    opts.get(i).map(|f| f.text.as_str())
                }
                _ => t
                    .strip_prefix("--arg-file=")
                    .or_else(|| t.strip_prefix("-a")),
            };
            // `xargs -a /dev/null sh`: no input at all, the command runs with nothing appended.
            if file == Some("/dev/null") {
                return (replace, Vec::new());
            }
            from_file = true;
        }
        i += 1;
    }
    let unknown = || {
        vec![Word {
            text: "$(xargs input)".to_owned(),
            dynamic: true,
        }]
    };
    // `xargs -o CMD` reopens the terminal as the command's input: with no pipe, xargs reads its
    // arguments from the terminal too, and `xargs -o sh` is an interactive shell.
    let open_tty = open_tty(opts);
    let null = opts
        .iter()
        .any(|o| o.text == "-0" || o.text == "--null" || o.text.starts_with("-0"));
    // The words xargs reads from literal input: with `-0` the whole input is one argument,
    // with `-I` each line is one, otherwise the blank-separated words.
    let split = |text: &str| -> Vec<Word> {
        if null {
            vec![Word::literal(text.trim_end_matches('\n'))]
        } else if replace.is_some() {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Word::literal(l.trim()))
                .collect()
        } else {
            text.split_whitespace().map(Word::literal).collect()
        }
    };
    let words = match &raw.stdin {
        Source::HereString(h) if !h.dynamic && !from_file => split(&h.text),
        Source::HereDoc(body) if !from_file => split(body),
        Source::Inherited if open_tty && !from_file => Vec::new(),
        Source::File(f) if f.text == "/dev/null" => Vec::new(),
        &Source::Pipe(p) if !from_file => match w.literal_output(p) {
            Some(text) if !text.trim().is_empty() => split(&text),
            // `echo | xargs sh`: no input words, the command runs once without any.
            Some(_) => Vec::new(),
            _ => match w.out.commands.get(p) {
                Some(c) if c.static_name() == Some("find") => {
                    vec![find_placeholder(c.argv.get(1..).unwrap_or(&[]))]
                }
                _ => unknown(),
            },
        },
        _ => unknown(),
    };
    (replace, words)
}

/// `xargs -o` / `--open-tty`: the command's standard input is the terminal, not xargs' input.
fn open_tty(opts: &[Word]) -> bool {
    opts.iter().any(|o| {
        o.text == "--open-tty"
            || (o.text.starts_with('-')
                && !o.text.starts_with("--")
                && o.text[1..].bytes().all(|b| b.is_ascii_alphabetic())
                && o.text.contains('o'))
    })
}

/// Puts the input words of `xargs` into the command it runs: in place of the replacement string,
/// or after the arguments.
fn feed_xargs(argv: &mut Vec<Word>, replace: Option<&str>, input: Vec<Word>) {
    match replace {
        Some(r) if !r.is_empty() => {
            let value = match input.as_slice() {
                [one] => one.clone(),
                _ => Word {
                    text: "$(xargs input)".to_owned(),
                    dynamic: true,
                },
            };
            for a in argv.iter_mut() {
                if a.text.contains(r) {
                    a.text = a.text.replace(r, &value.text);
                    a.dynamic |= value.dynamic;
                }
            }
        }
        _ => argv.extend(input),
    }
}

fn finish(w: &mut Walker<'_>, raw: Raw, ctx: &Ctx, extras: Vec<Extra>) -> R<Vec<usize>> {
    let name = raw.argv.first().map_or("", |f| basename(&f.text));
    env_commands(w, &raw.assignments, ctx)?;
    let code = inline_code(name, &raw);
    let from_code: Vec<String> = code.as_deref().map(code::shell_strings).unwrap_or_default();
    // Owned only when a nested command needs it (most commands have none).
    let program = if from_code.is_empty() && extras.is_empty() {
        String::new()
    } else {
        name.to_owned()
    };
    // `echo 'rm -rf ~' > /tmp/x.sh; sh /tmp/x.sh`, `chmod +x "$TF"; "$TF"`, `scp -S $TF`: a file
    // the line wrote literal text to is run; judge the text as the script it is.
    let script = run_file(&raw).and_then(|f| w.written_script(f));
    let hooks = install_hooks(w, name, &raw);
    let hook_program = if hooks.is_empty() {
        String::new()
    } else {
        name.to_owned()
    };
    let me = w.push(raw, ctx, code)?;
    if let Some(text) = script {
        w.nested(&text, ctx, WrapperKind::Shell, "sh")?;
    }
    for (kind, text) in hooks {
        match kind {
            WrapperKind::Interpreter => {
                for s in code::shell_strings(&text) {
                    w.nested(&s, ctx, WrapperKind::Interpreter, &hook_program)?;
                }
            }
            _ => {
                w.nested(&text, ctx, kind, &hook_program)?;
            }
        }
    }
    for s in from_code {
        w.nested(&s, ctx, WrapperKind::Interpreter, &program)?;
    }
    for extra in extras {
        match extra {
            Extra::Shell(kind, src, remote) => {
                let mut inner = ctx.clone();
                inner.remote |= remote;
                w.nested(&src, &inner, kind, &program)?;
            }
            Extra::Argv(kind, argv) => {
                let inner = ctx.wrapped(kind, &program);
                emit(
                    w,
                    Raw {
                        argv,
                        ..Raw::default()
                    },
                    &inner,
                )?;
            }
        }
    }
    Ok(vec![me])
}

/// `pip install DIR` runs `DIR/setup.py`; `npm install` in `-C DIR`/`--prefix DIR` runs the
/// `preinstall`/`install`/`postinstall`/`prepare` scripts of `DIR/package.json`. When the line
/// wrote that file, its code (Python, for its `os.system`/`os.exec*` strings) or its scripts
/// (shell) are what the install runs.
fn install_hooks(w: &Walker<'_>, name: &str, raw: &Raw) -> Vec<(WrapperKind, String)> {
    let args = raw.argv.get(1..).unwrap_or(&[]);
    let mut out = Vec::new();
    if name.starts_with("pip") && args.iter().any(|a| a.text == "install") {
        for a in args
            .iter()
            .filter(|a| !a.text.starts_with('-') && a.text != "install")
        {
            let dir = a.text.trim_end_matches('/');
            if let Some(text) = w.written_script(&format!("{dir}/setup.py")) {
                out.push((WrapperKind::Interpreter, text));
            }
        }
    }
    if name == "npm"
        && args
            .iter()
            .any(|a| matches!(a.text.as_str(), "i" | "install" | "ci" | "add"))
    {
        let dir = args
            .windows(2)
            .find(|p| matches!(p[0].text.as_str(), "-C" | "--prefix"))
            .map_or(".".to_owned(), |p| p[1].text.clone());
        let dir = dir.trim_end_matches('/');
        if let Some(json) = w.written_script(&format!("{dir}/package.json")) {
            for key in ["preinstall", "install", "postinstall", "prepare"] {
                if let Some(v) = json_string_value(&json, key) {
                    out.push((WrapperKind::Shell, v));
                }
            }
        }
    }
    out
}

/// The string value of `"key": "..."` in a JSON text (no unescaping beyond `\"`).
fn json_string_value(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = json[at + key.len() + 2..].trim_start().strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    None
}

/// The file a command runs as a script: the command word itself when it is a path, or the
/// script operand of a shell, `.` or `source`.
fn run_file(raw: &Raw) -> Option<&str> {
    let first = raw.argv.first()?;
    let name = basename(&first.text);
    if is_shell(name) || matches!(name, "." | "source") {
        let args = raw.argv.get(1..)?;
        let op = args
            .iter()
            .position(|a| !a.text.starts_with('-') && !a.text.starts_with('+'))?;
        return args.get(op).map(|a| a.text.as_str());
    }
    (first.text.contains('/') || first.dynamic || first.text.starts_with('$'))
        .then_some(first.text.as_str())
}

/// Command-valued variables (`PAGER='sh -c ...' man x`) run their value: analyse it.
fn env_commands(w: &mut Walker<'_>, assignments: &[Assignment], ctx: &Ctx) -> R<()> {
    for a in assignments {
        if COMMAND_VARS.contains(&a.name.as_str()) && !a.value.text.is_empty() {
            w.nested(&a.value.text, ctx, WrapperKind::EnvVar, &a.name)?;
        }
    }
    Ok(())
}

/// The inline program of an interpreter one-liner, or a heredoc fed to an interpreter.
fn inline_code(name: &str, raw: &Raw) -> Option<String> {
    let args = &raw.argv.get(1..)?;
    if let Some(flags) = interpreter_flag(name) {
        for (i, a) in args.iter().enumerate() {
            let t = a.text.as_str();
            if flags.contains(&t) {
                return args.get(i + 1).map(|w| w.text.clone());
            }
            // Combined short flags: `perl -ne CODE`, `python3 -Sc CODE`, `-c'CODE'`.
            for f in flags.iter().filter(|f| f.len() == 2) {
                let letter = &f[1..];
                if t.starts_with('-') && !t.starts_with("--") && t.len() > 2 {
                    if t.ends_with(letter)
                        && t[1..t.len() - 1].bytes().all(|b| b.is_ascii_alphabetic())
                    {
                        return args.get(i + 1).map(|w| w.text.clone());
                    }
                    if let Some(rest) = t.strip_prefix(*f)
                        && name.starts_with("python")
                    {
                        return Some(rest.to_owned());
                    }
                }
            }
            if !t.starts_with('-') {
                break;
            }
        }
        return match &raw.stdin {
            Source::HereDoc(body) => Some(body.clone()),
            Source::HereString(w) => Some(w.text.clone()),
            _ => None,
        };
    }
    if is_awk(name) {
        let mut i = 0;
        while let Some(a) = args.get(i) {
            match a.text.as_str() {
                "-f" | "--file" => return None,
                "-F" | "-v" | "--assign" | "--field-separator" => i += 2,
                "-e" | "--source" => return args.get(i + 1).map(|w| w.text.clone()),
                "--" => return args.get(i + 1).map(|w| w.text.clone()),
                t if t.starts_with('-') && t.len() > 1 => i += 1,
                t => return Some(t.to_owned()),
            }
        }
    }
    None
}

/// Index (into `args`, which excludes argv\[0\]) of the first operand, skipping options.
/// `with_arg` lists short options (one letter) and long options (`--name`) that take a value.
fn first_operand(args: &[Word], with_arg: &[&str]) -> usize {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if t == "--" {
            return i + 1;
        }
        if !t.starts_with('-') || t == "-" {
            return i;
        }
        if let Some(long) = t.strip_prefix("--") {
            let takes =
                !long.contains('=') && with_arg.iter().any(|o| o.strip_prefix("--") == Some(long));
            i += if takes { 2 } else { 1 };
            continue;
        }
        // Short options, possibly combined: `-ab`, `-uroot`, `-u root`.
        let letters = &t[1..];
        let mut consumed = 1;
        for (pos, ch) in letters.char_indices() {
            let mut buf = [0u8; 4];
            let opt = ch.encode_utf8(&mut buf);
            if with_arg.iter().any(|o| o.len() == opt.len() && *o == opt) {
                if pos + ch.len_utf8() == letters.len() {
                    consumed = 2;
                }
                break;
            }
        }
        i += consumed;
    }
    i
}

fn has_flag(args: &[Word], upto: usize, letter: char, long: &str) -> bool {
    args.iter().take(upto).any(|a| {
        let t = a.text.as_str();
        (!long.is_empty() && t == long)
            || (t.starts_with('-') && !t.starts_with("--") && t[1..].contains(letter))
    })
}

fn join(args: &[Word]) -> String {
    args.iter()
        .map(|w| {
            if w.dynamic {
                w.text.clone()
            } else {
                words::quote(&w.text)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn strip(skip: usize) -> Step {
    Step::Strip {
        skip,
        privileged: false,
        kind: WrapperKind::Prefix,
        assignments: Vec::new(),
    }
}

fn strip_after(args: &[Word], with_arg: &[&str]) -> Step {
    let op = first_operand(args, with_arg);
    if op >= args.len() {
        Step::Keep
    } else {
        strip(op + 1)
    }
}

fn classify(name: &str, raw: &Raw) -> Step {
    let args = raw.argv.get(1..).unwrap_or(&[]);
    match name {
        "sudo" => {
            let with = [
                "u",
                "g",
                "h",
                "p",
                "C",
                "D",
                "r",
                "t",
                "U",
                "T",
                "R",
                "--user",
                "--group",
                "--host",
                "--prompt",
                "--chdir",
                "--role",
                "--type",
                "--other-user",
                "--command-timeout",
                "--chroot",
                "--close-from",
            ];
            let op = first_operand(args, &with);
            if op >= args.len()
                || has_flag(args, op, 'e', "--edit")
                || has_flag(args, op, 'l', "--list")
            {
                return Step::Keep;
            }
            // `sudo LD_PRELOAD=x.so cmd`: sudo sets leading NAME=value operands, as env does.
            let (assignments, op) = leading_assignments(args, op);
            if op >= args.len() {
                return Step::Keep;
            }
            Step::Strip {
                skip: op + 1,
                privileged: true,
                kind: WrapperKind::Prefix,
                assignments,
            }
        }
        "doas" | "pkexec" | "run0" | "runuser" | "sg" => {
            let with = ["u", "C", "g", "--user", "--group", "--uid", "--gid"];
            let op = first_operand(args, &with);
            if op >= args.len() {
                return Step::Keep;
            }
            // `sg group cmd`: the group comes first.
            let op = if name == "sg" { op + 1 } else { op };
            if op >= args.len() {
                return Step::Keep;
            }
            if name == "runuser" && has_flag(args, op, 'c', "--command") {
                return su_like(args);
            }
            Step::Strip {
                skip: op + 1,
                privileged: true,
                kind: WrapperKind::Prefix,
                assignments: Vec::new(),
            }
        }
        "su" => su_like(args),
        "env" => env_step(args),
        "timeout" => {
            let op = first_operand(args, &["s", "k", "--signal", "--kill-after"]);
            if op + 1 >= args.len() {
                Step::Keep
            } else {
                strip(op + 2)
            }
        }
        "nice" => {
            // `nice -10 cmd`: a numeric option.
            let op = first_operand(args, &["n", "--adjustment"]);
            if op >= args.len() {
                Step::Keep
            } else {
                strip(op + 1)
            }
        }
        "ionice" => {
            if has_flag(args, args.len(), 'p', "--pid") || has_flag(args, args.len(), 'P', "--pgid")
            {
                return Step::Keep;
            }
            strip_after(args, &["c", "n", "--class", "--classdata"])
        }
        // `unbuffer -p CMD`: -p (read from a pipeline) takes no value.
        "unbuffer" => strip_after(args, &[]),
        "nohup" | "builtin" | "rlwrap" | "catchsegv" | "dbus-run-session" | "xvfb-run"
        | "torsocks" | "proxychains" | "proxychains4" | "firejail" | "fakeroot" | "aa-exec"
        | "caffeinate" => strip_after(args, &["p", "f", "--profile"]),
        // `faketime [-m] [-f] [-p PID] TIMESTAMP CMD`: the timestamp comes before the command.
        "faketime" => {
            let op = first_operand(args, &["p", "--date-prog"]);
            if op + 1 >= args.len() {
                Step::Keep
            } else {
                strip(op + 2)
            }
        }
        // `sshpass -p PW | -f FILE | -d FD | -e [-P PROMPT] CMD`: runs ssh, scp, rsync...
        "sshpass" => strip_after(args, &["p", "f", "d", "P"]),
        // `npx [-y] [-p PKG] BIN ARGS`, `npx -c 'CMD'`: the package binary is judged as npx
        // itself (it may be downloaded) and as the command it names.
        "npx" | "bunx" => npx_step(args),
        "mosh" => mosh_step(args),
        "screen" => screen_step(args),
        "tmux" => tmux_step(args),
        "setsid" => strip_after(args, &[]),
        "time" => strip_after(args, &["f", "o", "--format", "--output"]),
        "command" => {
            let op = first_operand(args, &[]);
            if has_flag(args, op, 'v', "") || has_flag(args, op, 'V', "") || op >= args.len() {
                Step::Keep
            } else {
                strip(op + 1)
            }
        }
        "exec" => strip_after(args, &["a"]),
        "stdbuf" => strip_after(args, &["i", "o", "e", "--input", "--output", "--error"]),
        "chrt" | "taskset" => {
            if has_flag(args, args.len(), 'p', "--pid") {
                return Step::Keep;
            }
            let op = first_operand(
                args,
                &[
                    "T",
                    "P",
                    "D",
                    "--sched-runtime",
                    "--sched-period",
                    "--sched-deadline",
                ],
            );
            if op + 1 >= args.len() {
                Step::Keep
            } else {
                strip(op + 2)
            }
        }
        "flock" => {
            let op = first_operand(
                args,
                &[
                    "w",
                    "E",
                    "c",
                    "--timeout",
                    "--conflict-exit-code",
                    "--command",
                ],
            );
            if let Some(i) = args
                .iter()
                .take(op)
                .position(|a| a.text == "-c" || a.text == "--command")
                && let Some(s) = args.get(i + 1)
            {
                return Step::Shell {
                    src: s.text.clone(),
                    privileged: false,
                    kind: WrapperKind::Shell,
                };
            }
            if let Some(i) = args
                .iter()
                .position(|a| a.text == "-c" || a.text == "--command")
                && let Some(s) = args.get(i + 1)
            {
                return Step::Shell {
                    src: s.text.clone(),
                    privileged: false,
                    kind: WrapperKind::Shell,
                };
            }
            if op + 1 >= args.len() {
                Step::Keep
            } else {
                strip(op + 2)
            }
        }
        "chroot" => {
            let op = first_operand(args, &["--userspec", "--groups"]);
            if op + 1 >= args.len() {
                // `chroot DIR` alone runs an interactive shell.
                return Step::Also(vec![Extra::Argv(
                    WrapperKind::Prefix,
                    vec![Word::literal("sh")],
                )]);
            }
            Step::Strip {
                skip: op + 2,
                privileged: true,
                kind: WrapperKind::Prefix,
                assignments: Vec::new(),
            }
        }
        "unshare" | "nsenter" => {
            let with = [
                "S",
                "G",
                "R",
                "w",
                "t",
                "--setuid",
                "--setgid",
                "--root",
                "--wd",
                "--target",
                "--propagation",
                "--map-user",
                "--map-group",
            ];
            let op = first_operand(args, &with);
            if op >= args.len() {
                return Step::Also(vec![Extra::Argv(
                    WrapperKind::Prefix,
                    vec![Word::literal("sh")],
                )]);
            }
            strip(op + 1)
        }
        "strace" | "ltrace" => {
            if has_flag(args, args.len(), 'p', "--attach") {
                return Step::Keep;
            }
            strip_after(
                args,
                &[
                    "o", "e", "p", "s", "u", "E", "P", "I", "a", "b", "n", "l", "S", "X",
                    "--output", "--expr", "--user", "--env",
                ],
            )
        }
        "valgrind" | "perf" if !args.is_empty() => {
            let op = first_operand(args, &[]);
            let op = if name == "perf" {
                op + 1
                    + first_operand(
                        args.get(op + 1..).unwrap_or(&[]),
                        &["e", "o", "p", "--event", "--output"],
                    )
            } else {
                op
            };
            if op >= args.len() {
                Step::Keep
            } else {
                strip(op + 1)
            }
        }
        "logsave" => {
            let op = first_operand(args, &[]);
            if op + 1 >= args.len() {
                Step::Keep
            } else {
                strip(op + 2)
            }
        }
        "cpulimit" => strip_after(args, &["l", "p", "e", "--limit", "--pid", "--exe"]),
        "busybox" | "toybox" => {
            if args.first().is_some_and(|a| !a.text.starts_with('-')) {
                strip(1)
            } else {
                Step::Keep
            }
        }
        "ld.so"
        | "ld-linux.so.2"
        | "ld-linux-x86-64.so.2"
        | "ld-linux-aarch64.so.1"
        | "ld-musl-x86_64.so.1" => ld_so_step(args),
        // `service ../../bin/sh`: the name is looked up under /etc/init.d, so a path with `/`
        // leaves it and runs that program.
        "service" => match args.first() {
            Some(a) if a.text.contains('/') => strip(1),
            _ => Step::Keep,
        },
        "xargs" => {
            let with = [
                "a",
                "d",
                "E",
                "I",
                "L",
                "n",
                "P",
                "s",
                "--arg-file",
                "--delimiter",
                "--max-lines",
                "--max-args",
                "--max-procs",
                "--max-chars",
                "--process-slot-var",
            ];
            let op = first_operand(args, &with);
            if op >= args.len() {
                return Step::Keep;
            }
            Step::Strip {
                skip: op + 1,
                privileged: false,
                kind: WrapperKind::Xargs,
                assignments: Vec::new(),
            }
        }
        "parallel" => {
            let end = args
                .iter()
                .position(|a| a.text.starts_with(":::"))
                .unwrap_or(args.len());
            let head = &args[..end];
            let op = first_operand(
                head,
                &[
                    "j",
                    "S",
                    "--jobs",
                    "--sshlogin",
                    "--joblog",
                    "--results",
                    "--delay",
                    "--timeout",
                    "--colsep",
                ],
            );
            let rest = head.get(op..).unwrap_or(&[]);
            // `parallel rm -rf ::: / /home`: the arguments after `:::` are its input; judge the
            // command with all of them appended (or in place of `{}`).
            let inputs: Vec<&Word> = args
                .get(end..)
                .unwrap_or(&[])
                .iter()
                .filter(|a| !a.text.starts_with(":::"))
                .collect();
            let mut src = match rest {
                [] => return Step::Keep,
                [one] => one.text.clone(),
                _ => join(rest),
            };
            if !inputs.is_empty() {
                let quoted: Vec<String> = inputs.iter().map(|w| words::quote(&w.text)).collect();
                let quoted = quoted.join(" ");
                if src.contains("{}") {
                    src = src.replace("{}", &quoted);
                } else {
                    src.push(' ');
                    src.push_str(&quoted);
                }
            }
            Step::Shell {
                src,
                privileged: false,
                kind: WrapperKind::Xargs,
            }
        }
        "watch" => {
            let op = first_operand(args, &["n", "d", "--interval", "--differences"]);
            let rest = args.get(op..).unwrap_or(&[]);
            if rest.is_empty() {
                return Step::Keep;
            }
            let src = if has_flag(args, op, 'x', "--exec") || rest.len() > 1 {
                join(rest)
            } else {
                rest[0].text.clone()
            };
            Step::Shell {
                src,
                privileged: false,
                kind: WrapperKind::Shell,
            }
        }
        "script" => {
            // Options may follow the file operand too (`script /dev/null -qc CMD`).
            for (i, a) in args.iter().enumerate() {
                let cluster_c = a.text.starts_with('-')
                    && !a.text.starts_with("--")
                    && a.text.len() > 2
                    && a.text.ends_with('c')
                    && a.text[1..].bytes().all(|b| b.is_ascii_alphabetic());
                if (a.text == "-c" || a.text == "--command" || cluster_c)
                    && let Some(s) = args.get(i + 1)
                {
                    return Step::Shell {
                        src: s.text.clone(),
                        privileged: false,
                        kind: WrapperKind::Shell,
                    };
                }
                if let Some(s) = a.text.strip_prefix("--command=") {
                    return Step::Shell {
                        src: s.to_owned(),
                        privileged: false,
                        kind: WrapperKind::Shell,
                    };
                }
            }
            Step::Keep
        }
        "eval" => {
            if args.is_empty() {
                return Step::Keep;
            }
            let src = args
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            Step::Shell {
                src,
                privileged: false,
                kind: WrapperKind::Shell,
            }
        }
        // `alias ls='rm -rf ~'; ls`: what an alias will run is judged as if it ran (the
        // definition and its later use may be far apart, or the use hidden behind a common
        // name). `alias` alone or `alias ll` only prints.
        "alias" => {
            let values: Vec<&str> = args
                .iter()
                .filter_map(|w| w.text.split_once('=').map(|(_, v)| v))
                .filter(|v| !v.trim().is_empty())
                .collect();
            if values.is_empty() {
                return Step::Keep;
            }
            Step::Shell {
                src: values.join("\n"),
                privileged: false,
                kind: WrapperKind::Shell,
            }
        }
        "find" => find_step(args),
        // `echo CMD | at now`, `at now <<< CMD`, `batch <<EOF`: at runs its input as a script.
        "at" | "batch"
            if !args
                .iter()
                .any(|a| matches!(a.text.as_str(), "-l" | "-r" | "-d" | "-c" | "-f")) =>
        {
            match &raw.stdin {
                Source::HereDoc(body) => {
                    Step::Also(vec![Extra::Shell(WrapperKind::Shell, body.clone(), false)])
                }
                Source::HereString(w) if !w.dynamic => Step::Also(vec![Extra::Shell(
                    WrapperKind::Shell,
                    w.text.clone(),
                    false,
                )]),
                _ => Step::Keep,
            }
        }
        "docker" | "podman" | "nerdctl" | "docker-compose" | "podman-compose" => {
            container_exec_step(name, args)
        }
        "kubectl" | "oc" => kubectl_exec_step(args),
        "ssh" => ssh_step(args),
        _ if is_shell(name) => shell_step(args, raw),
        _ => option_commands(name, args),
    }
}

/// `ld.so [--preload LIBS] [--library-path DIRS] PROGRAM ARGS`: the program runs with those
/// libraries, as `LD_PRELOAD=`/`LD_LIBRARY_PATH=` would load them.
fn ld_so_step(args: &[Word]) -> Step {
    let op = first_operand(args, &["--library-path", "--preload", "--audit"]);
    if op >= args.len() {
        return Step::Keep;
    }
    let mut assignments = Vec::new();
    for (i, a) in args.iter().take(op).enumerate() {
        let (var, value) = match a.text.as_str() {
            "--preload" | "--audit" => ("LD_PRELOAD", args.get(i + 1)),
            "--library-path" => ("LD_LIBRARY_PATH", args.get(i + 1)),
            _ => continue,
        };
        if let Some(v) = value {
            assignments.push(Assignment {
                name: var.to_owned(),
                value: v.clone(),
            });
        }
    }
    Step::Strip {
        skip: op + 1,
        privileged: false,
        kind: WrapperKind::Prefix,
        assignments,
    }
}

fn npx_step(args: &[Word]) -> Step {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        match t {
            "-c" | "--call" => {
                return match args.get(i + 1) {
                    Some(s) => Step::Also(vec![Extra::Shell(
                        WrapperKind::Option,
                        s.text.clone(),
                        false,
                    )]),
                    None => Step::Keep,
                };
            }
            "-p" | "--package" => i += 2,
            "--" => {
                i += 1;
                break;
            }
            _ if t.starts_with("--call=") => {
                return Step::Also(vec![Extra::Shell(
                    WrapperKind::Option,
                    t["--call=".len()..].to_owned(),
                    false,
                )]);
            }
            _ if t.starts_with('-') => i += 1,
            _ => break,
        }
    }
    match args.get(i..) {
        Some(rest) if !rest.is_empty() => {
            Step::Also(vec![Extra::Argv(WrapperKind::Prefix, rest.to_vec())])
        }
        _ => Step::Keep,
    }
}

/// `mosh [--ssh=CMD] [options] HOST [--] [CMD...]`: the ssh command it starts, and the command
/// run on the other machine.
fn mosh_step(args: &[Word]) -> Step {
    let mut extras = Vec::new();
    let mut i = 0;
    let mut host = None;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if let Some(v) = t.strip_prefix("--ssh=") {
            extras.push(Extra::Shell(WrapperKind::Option, v.to_owned(), false));
        } else if t == "--ssh" {
            if let Some(v) = args.get(i + 1) {
                extras.push(Extra::Shell(WrapperKind::Option, v.text.clone(), false));
            }
            i += 1;
        } else if matches!(
            t,
            "-p" | "--port" | "--server" | "--family" | "--predict" | "--bind-server"
        ) {
            i += 1;
        } else if t == "--" {
            if host.is_some() {
                i += 1;
                break;
            }
        } else if !t.starts_with('-') {
            if host.is_some() {
                break;
            }
            host = Some(i);
        }
        i += 1;
    }
    if host.is_some() {
        let rest = args.get(i..).unwrap_or(&[]);
        if !rest.is_empty() {
            extras.push(Extra::Shell(WrapperKind::Remote, join_plain(rest), true));
        }
    }
    if extras.is_empty() {
        Step::Keep
    } else {
        Step::Also(extras)
    }
}

fn join_plain(args: &[Word]) -> String {
    args.iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `screen [-dm] [-S name] CMD ARGS`: the program the new window runs.
fn screen_step(args: &[Word]) -> Step {
    // `-X` sends a screen command to a session, `-r`/`-x`/`-ls` attach or list.
    let with = ["S", "c", "e", "h", "p", "s", "T", "t", "X", "Logfile"];
    let op = first_operand(args, &with);
    // `screen -r dev`, `-x`, `-d -r`, `-ls`: attach, detach or list sessions by name.
    let opts = args.get(..op).unwrap_or(&[]);
    let starts = opts
        .iter()
        .any(|a| a.text.starts_with('-') && a.text.contains('m'));
    let attaches = opts.iter().any(|a| {
        matches!(a.text.as_str(), "-ls" | "-list" | "-wipe" | "-Q")
            || (a.text.starts_with('-')
                && !a.text.starts_with("--")
                && a.text.len() <= 3
                && a.text[1..].contains(['r', 'R', 'x', 'D', 'd']))
    });
    if has_flag(args, op, 'X', "") || op >= args.len() || (attaches && !starts) {
        return Step::Keep;
    }
    Step::Also(vec![Extra::Argv(
        WrapperKind::Prefix,
        args.get(op..).unwrap_or(&[]).to_vec(),
    )])
}

/// `tmux [-c CMD]`, `tmux new -d 'CMD'`, `new-window`, `split-window`, `respawn-pane`,
/// `run-shell`, `display-popup`: the shell command; `send-keys ... Enter`: the typed line.
fn tmux_step(args: &[Word]) -> Step {
    let global = ["L", "S", "f", "T", "c"];
    if let Some(i) = args.iter().position(|a| a.text == "-c")
        && i < first_operand(args, &global)
        && let Some(s) = args.get(i + 1)
    {
        return Step::Also(vec![Extra::Shell(
            WrapperKind::Shell,
            s.text.clone(),
            false,
        )]);
    }
    let op = first_operand(args, &global);
    let Some(sub) = args.get(op) else {
        return Step::Keep;
    };
    let rest = args.get(op + 1..).unwrap_or(&[]);
    let runs = matches!(
        sub.text.as_str(),
        "new"
            | "new-session"
            | "neww"
            | "new-window"
            | "splitw"
            | "split-window"
            | "respawnp"
            | "respawn-pane"
            | "respawnw"
            | "respawn-window"
            | "run"
            | "run-shell"
            | "popup"
            | "display-popup"
    );
    let src = if runs {
        let with = [
            "c", "e", "F", "n", "s", "t", "x", "y", "l", "p", "f", "w", "h", "d", "T", "b", "S",
            "E",
        ];
        // `-d` detaches for `new`, `neww` and `splitw`; it is a delay for `run-shell`.
        let with: Vec<&str> = with
            .iter()
            .copied()
            .filter(|o| *o != "d" || matches!(sub.text.as_str(), "run" | "run-shell"))
            .collect();
        let cmd = rest.get(first_operand(rest, &with)..).unwrap_or(&[]);
        join_plain(cmd)
    } else if matches!(sub.text.as_str(), "send" | "send-keys") {
        let cmd = rest.get(first_operand(rest, &["t", "N"])..).unwrap_or(&[]);
        match cmd
            .iter()
            .position(|k| matches!(k.text.as_str(), "Enter" | "C-m" | "KPEnter" | "C-j" | "^M"))
        {
            Some(end) => join_plain(&cmd[..end]),
            None => String::new(),
        }
    } else {
        String::new()
    };
    if src.trim().is_empty() {
        Step::Keep
    } else {
        Step::Also(vec![Extra::Shell(WrapperKind::Shell, src, false)])
    }
}

/// `docker exec [-it] [-u U] [-e K=V] [-w DIR] CONTAINER CMD ARGS`: the command runs inside the
/// container, judged like a command run on another machine.
fn container_exec_step(name: &str, args: &[Word]) -> Step {
    let global = [
        "H",
        "c",
        "l",
        "f",
        "p",
        "--host",
        "--context",
        "--log-level",
        "--config",
        "--file",
        "--project-name",
        "--env-file",
        "--profile",
        "--project-directory",
    ];
    let mut at = first_operand(args, &global);
    // `docker compose [-f FILE] exec SERVICE CMD`.
    if !name.ends_with("compose") && args.get(at).is_some_and(|a| a.text == "compose") {
        at += 1 + first_operand(args.get(at + 1..).unwrap_or(&[]), &global);
    }
    if args.get(at).is_none_or(|a| a.text != "exec") {
        return Step::Keep;
    }
    let rest = args.get(at + 1..).unwrap_or(&[]);
    let with = [
        "e",
        "u",
        "w",
        "--env",
        "--env-file",
        "--user",
        "--workdir",
        "--detach-keys",
        "--index",
    ];
    let container = first_operand(rest, &with);
    let cmd = rest.get(container + 1..).unwrap_or(&[]);
    if cmd.is_empty() {
        return Step::Keep;
    }
    Step::Also(vec![Extra::Shell(WrapperKind::Remote, join(cmd), true)])
}

/// `kubectl exec [-it] POD [-c C] [-n NS] -- CMD ARGS`: the command after `--` runs in the pod.
fn kubectl_exec_step(args: &[Word]) -> Step {
    let global = [
        "n",
        "s",
        "--namespace",
        "--context",
        "--kubeconfig",
        "--cluster",
        "--user",
        "--server",
    ];
    let sub = first_operand(args, &global);
    if args.get(sub).is_none_or(|a| a.text != "exec") {
        return Step::Keep;
    }
    let Some(dash) = args.iter().position(|a| a.text == "--") else {
        return Step::Keep;
    };
    let cmd = args.get(dash + 1..).unwrap_or(&[]);
    if cmd.is_empty() {
        return Step::Keep;
    }
    Step::Also(vec![Extra::Shell(WrapperKind::Remote, join(cmd), true)])
}

fn su_like(args: &[Word]) -> Step {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if t == "-c" || t == "--command" || t == "-C" || t == "--session-command" {
            return match args.get(i + 1) {
                Some(s) => Step::Shell {
                    src: s.text.clone(),
                    privileged: true,
                    kind: WrapperKind::Shell,
                },
                None => Step::Keep,
            };
        }
        if let Some(s) = t.strip_prefix("--command=") {
            return Step::Shell {
                src: s.to_owned(),
                privileged: true,
                kind: WrapperKind::Shell,
            };
        }
        i += 1;
    }
    Step::Keep
}

fn env_step(args: &[Word]) -> Step {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        match t {
            "-u" | "--unset" | "-C" | "--chdir" => i += 2,
            "-S" | "--split-string" => {
                let mut rest: Vec<String> = args
                    .get(i + 1..)
                    .unwrap_or(&[])
                    .iter()
                    .map(|w| w.text.clone())
                    .collect();
                if rest.is_empty() {
                    return Step::Keep;
                }
                let first = rest.remove(0);
                let tail = rest
                    .iter()
                    .map(|s| words::quote(s))
                    .collect::<Vec<_>>()
                    .join(" ");
                let src = if tail.is_empty() {
                    first
                } else {
                    format!("{first} {tail}")
                };
                return Step::Shell {
                    src,
                    privileged: false,
                    kind: WrapperKind::Shell,
                };
            }
            "--" => {
                i += 1;
                break;
            }
            _ if t.starts_with("-S") && t.len() > 2 => {
                return Step::Shell {
                    src: t[2..].to_owned(),
                    privileged: false,
                    kind: WrapperKind::Shell,
                };
            }
            _ if t.starts_with("--split-string=") => {
                return Step::Shell {
                    src: t["--split-string=".len()..].to_owned(),
                    privileged: false,
                    kind: WrapperKind::Shell,
                };
            }
            _ if t.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let (assignments, i) = leading_assignments(args, i);
    if i >= args.len() {
        return Step::Keep;
    }
    Step::Strip {
        skip: i + 1,
        privileged: false,
        kind: WrapperKind::Prefix,
        assignments,
    }
}

/// `NAME=value` operands from `args[i]` on, as `env` and `sudo` read them: assignments for the
/// command that follows. Returns them and the index of the first other operand (the command).
fn leading_assignments(args: &[Word], mut i: usize) -> (Vec<Assignment>, usize) {
    let mut assignments = Vec::new();
    while let Some(a) = args.get(i) {
        match a.text.split_once('=') {
            Some((n, v))
                if !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                assignments.push(Assignment {
                    name: n.to_owned(),
                    value: Word {
                        text: v.to_owned(),
                        dynamic: a.dynamic,
                    },
                });
                i += 1;
            }
            _ => break,
        }
    }
    (assignments, i)
}

fn shell_step(args: &[Word], raw: &Raw) -> Step {
    let mut i = 0;
    let mut dash_c = false;
    while let Some(a) = args.get(i) {
        let t = a.text.as_str();
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
            if t == "-o"
                || t == "+o"
                || t == "-O"
                || t == "+O"
                || t == "--rcfile"
                || t == "--init-file"
            {
                i += 2;
                continue;
            }
            if !t.starts_with("--") && t[1..].contains('c') {
                dash_c = true;
            }
            i += 1;
            continue;
        }
        break;
    }
    if dash_c {
        return match args.get(i) {
            Some(s) => Step::Shell {
                src: s.text.clone(),
                privileged: false,
                kind: WrapperKind::Shell,
            },
            None => Step::Keep,
        };
    }
    if i >= args.len() {
        match &raw.stdin {
            Source::HereDoc(body) => {
                return Step::Shell {
                    src: body.clone(),
                    privileged: false,
                    kind: WrapperKind::HereDoc,
                };
            }
            Source::HereString(w) if !w.dynamic => {
                return Step::Shell {
                    src: w.text.clone(),
                    privileged: false,
                    kind: WrapperKind::HereDoc,
                };
            }
            _ => {}
        }
    }
    Step::Keep
}

/// The files `find ARGS` names: what `{}` stands for in `-exec`, and what `find ... | xargs`
/// hands on.
fn find_placeholder(args: &[Word]) -> Word {
    // What `{}` stands for: with no narrowing test, every file under the first root (`/{}` is
    // judged like `/*`); with one, some files only known at run time.
    let narrowed = args.iter().any(|a| {
        matches!(
            a.text.as_str(),
            "-name"
                | "-iname"
                | "-path"
                | "-ipath"
                | "-wholename"
                | "-regex"
                | "-iregex"
                | "-newer"
                | "-mtime"
                | "-mmin"
                | "-atime"
                | "-amin"
                | "-ctime"
                | "-size"
                | "-user"
                | "-group"
                | "-perm"
                | "-empty"
                | "-links"
                | "-inum"
                | "-samefile"
        )
    });
    let root = args
        .first()
        .filter(|a| !a.text.starts_with('-') && a.text != "(" && a.text != "!");
    match root {
        _ if narrowed => Word {
            text: "{}".to_owned(),
            dynamic: true,
        },
        Some(r) => Word {
            text: format!("{}/{{}}", r.text.trim_end_matches('/')),
            dynamic: true,
        },
        None => Word {
            text: "./{}".to_owned(),
            dynamic: true,
        },
    }
}

fn find_step(args: &[Word]) -> Step {
    let mut extras = Vec::new();
    let placeholder = find_placeholder(args);
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if matches!(a.text.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            let start = i + 1;
            let mut end = start;
            while let Some(b) = args.get(end) {
                if b.text == ";" || b.text == "+" {
                    break;
                }
                end += 1;
            }
            let argv: Vec<Word> = args
                .get(start..end)
                .unwrap_or(&[])
                .iter()
                .map(|w| {
                    if w.text == "{}" {
                        placeholder.clone()
                    } else {
                        w.clone()
                    }
                })
                .collect();
            if !argv.is_empty() {
                extras.push(Extra::Argv(WrapperKind::FindExec, argv));
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
    if extras.is_empty() {
        Step::Keep
    } else {
        Step::Also(extras)
    }
}

fn ssh_step(args: &[Word]) -> Step {
    let with = [
        "B", "b", "c", "D", "E", "e", "F", "I", "i", "J", "L", "l", "m", "O", "o", "p", "Q", "R",
        "S", "W", "w",
    ];
    let mut extras = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let value = if a.text == "-o" {
            args.get(i + 1).map(|w| w.text.as_str())
        } else {
            a.text.strip_prefix("-o")
        };
        if let Some(v) = value
            && let Some(cmd) = ssh_option_command(v)
        {
            extras.push(Extra::Shell(WrapperKind::Option, cmd.to_owned(), false));
        }
    }
    let op = first_operand(args, &with);
    // ssh reads options after the host too (`ssh host -N -L 8080:x:80`): the remote command
    // starts at the first operand after them.
    let after = args.get(op + 1..).unwrap_or(&[]);
    let more = if after.first().is_some_and(|a| a.text.starts_with('-')) {
        first_operand(after, &with)
    } else {
        0
    };
    let rest = after.get(more..).unwrap_or(&[]);
    if !rest.is_empty() {
        let src = rest
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        extras.push(Extra::Shell(WrapperKind::Remote, src, true));
    }
    if extras.is_empty() {
        Step::Keep
    } else {
        Step::Also(extras)
    }
}

/// `ProxyCommand=cmd`, `LocalCommand cmd`, `KnownHostsCommand=cmd`: the command part.
fn ssh_option_command(v: &str) -> Option<&str> {
    let (key, value) = v
        .split_once(['=', ' '])
        .map(|(k, v)| (k.trim(), v.trim()))?;
    let key = key.to_ascii_lowercase();
    matches!(
        key.as_str(),
        "proxycommand" | "localcommand" | "knownhostscommand"
    )
    .then_some(value)
}

/// Options of ordinary programs that name a command to run (the GTFOBins class).
fn option_commands(name: &str, args: &[Word]) -> Step {
    let mut extras = Vec::new();
    let shell = |s: &str| Extra::Shell(WrapperKind::Option, s.to_owned(), false);
    let value_of = |i: usize, a: &Word, short: &[&str], long: &[&str]| -> Option<String> {
        let t = a.text.as_str();
        if short.contains(&t) || long.contains(&t) {
            return args.get(i + 1).map(|w| w.text.clone());
        }
        for l in long {
            if let Some(v) = t.strip_prefix(l).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_owned());
            }
        }
        None
    };
    match name {
        "tar" | "gtar" | "bsdtar" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = a.text.strip_prefix("--checkpoint-action=exec=") {
                    extras.push(shell(v));
                } else if let Some(v) = value_of(
                    i,
                    a,
                    &["-I", "-F"],
                    &[
                        "--to-command",
                        "--use-compress-program",
                        "--rsh-command",
                        "--info-script",
                        "--new-volume-script",
                    ],
                ) {
                    extras.push(shell(&v));
                }
            }
        }
        "zip" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-TT"], &["--unzip-command"]) {
                    extras.push(shell(&v));
                }
            }
        }
        "rsync" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-e"], &["--rsh", "--rsync-path"])
                    .or_else(|| rsync_short_rsh(args, i))
                {
                    extras.push(shell(&v));
                }
            }
        }
        "scp" | "sftp" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-S"], &[]) {
                    extras.push(Extra::Argv(WrapperKind::Option, vec![Word::literal(v)]));
                }
                let o = if a.text == "-o" {
                    args.get(i + 1).map(|w| w.text.as_str())
                } else {
                    a.text.strip_prefix("-o")
                };
                if let Some(cmd) = o.and_then(ssh_option_command) {
                    extras.push(shell(cmd));
                }
            }
        }
        "git" => {
            for (i, a) in args.iter().enumerate() {
                if a.text == "-c"
                    && let Some((k, v)) = args.get(i + 1).and_then(|w| w.text.split_once('='))
                {
                    let k = k.to_ascii_lowercase();
                    let runs = matches!(
                        k.as_str(),
                        "core.pager"
                            | "core.sshcommand"
                            | "core.editor"
                            | "core.fsmonitor"
                            | "sequence.editor"
                            | "diff.external"
                            | "gpg.program"
                            | "core.askpass"
                    ) || k.starts_with("pager.");
                    if runs {
                        extras.push(shell(v));
                    } else if (k.starts_with("alias.") || k.starts_with("credential."))
                        && v.starts_with('!')
                    {
                        extras.push(shell(&v[1..]));
                    }
                }
                if let Some(v) = value_of(i, a, &[], &["--upload-pack", "--receive-pack", "--exec"])
                {
                    extras.push(shell(&v));
                }
                if let Some(v) = a.text.strip_prefix("ext::") {
                    extras.push(shell(&v.replace("% ", " ")));
                }
            }
        }
        "vim" | "vi" | "nvim" | "view" | "vimdiff" | "rvim" | "ex" | "gvim" | "rview" | "vimx" => {
            for (i, a) in args.iter().enumerate() {
                let cmd = value_of(i, a, &["-c", "--cmd"], &[])
                    .or_else(|| a.text.strip_prefix('+').map(str::to_owned));
                if let Some(c) = cmd {
                    editor_command(&c, &mut extras);
                }
            }
        }
        "gdb" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(c) = value_of(
                    i,
                    a,
                    &["-ex", "-eval-command", "--eval-command", "-iex"],
                    &["--eval-command", "--ex"],
                ) {
                    editor_command(&c, &mut extras);
                }
            }
        }
        "less" | "more" | "man" | "most" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(c) = a.text.strip_prefix('+') {
                    editor_command(c, &mut extras);
                }
                if name == "man"
                    && let Some(v) = value_of(i, a, &["-P", "-H"], &["--pager", "--html"])
                {
                    extras.push(shell(&v));
                }
            }
        }
        "socat" => {
            for a in args {
                for part in a.text.split(['!']) {
                    let lower = part.to_ascii_lowercase();
                    let body = lower
                        .strip_prefix("exec:")
                        .or_else(|| lower.strip_prefix("system:"))
                        .map(|_| &part[part.find(':').map_or(0, |p| p + 1)..]);
                    if let Some(b) = body {
                        let cmd = b.split(',').next().unwrap_or(b);
                        extras.push(shell(cmd));
                    }
                }
            }
        }
        // `wget --use-askpass=CMD`: the program asked for the password.
        "wget" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &[], &["--use-askpass"]) {
                    extras.push(Extra::Argv(WrapperKind::Option, vec![Word::literal(v)]));
                }
            }
        }
        // `aria2c --on-download-complete=CMD URL`: the hook runs a program.
        "aria2c" => {
            for a in args {
                if let Some((opt, v)) = a.text.split_once('=')
                    && opt.starts_with("--on-")
                    && !v.is_empty()
                {
                    extras.push(Extra::Argv(WrapperKind::Option, vec![Word::literal(v)]));
                }
            }
        }
        // `npm exec -c 'CMD'`, `npm x --call=CMD`: a shell string.
        "npm"
            if args
                .first()
                .is_some_and(|a| matches!(a.text.as_str(), "exec" | "x")) =>
        {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-c"], &["--call"]) {
                    extras.push(shell(&v));
                }
            }
        }
        "tcpdump" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-z"], &[]) {
                    extras.push(Extra::Argv(WrapperKind::Option, vec![Word::literal(v)]));
                }
            }
        }
        "start-stop-daemon" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-x", "-a"], &["--exec", "--startas"]) {
                    extras.push(Extra::Argv(WrapperKind::Option, vec![Word::literal(v)]));
                }
            }
        }
        "nano" | "pico" => {
            for (i, a) in args.iter().enumerate() {
                if let Some(v) = value_of(i, a, &["-s"], &["--speller"]) {
                    extras.push(shell(&v));
                }
            }
        }
        "sqlite3" | "mysql" | "mariadb" | "psql" => {
            for a in args {
                let t = a.text.trim_start();
                if let Some(c) = t
                    .strip_prefix(".shell ")
                    .or_else(|| t.strip_prefix(".system "))
                    .or_else(|| t.strip_prefix("\\! "))
                    .or_else(|| t.strip_prefix("system "))
                {
                    extras.push(shell(c));
                }
            }
        }
        _ => {}
    }
    if extras.is_empty() {
        Step::Keep
    } else {
        Step::Also(extras)
    }
}

/// `-e` inside a cluster of rsync's short options: `-e'ssh -i k'` (the rest of the word) or
/// `-avze 'ssh -p 2222'` (the next word). A bare `-e` is read by the caller.
fn rsync_short_rsh(args: &[Word], i: usize) -> Option<String> {
    let t = args.get(i)?.text.as_str();
    if t == "-e" || t.starts_with("--") || !t.starts_with('-') {
        return None;
    }
    let letters = &t[1..];
    for (pos, ch) in letters.char_indices() {
        match ch {
            // Other short options that take the rest of the word as their value.
            'B' | 'f' | 'T' | 'M' => return None,
            'e' => {
                let rest = &letters[pos + 1..];
                return if rest.is_empty() {
                    args.get(i + 1).map(|w| w.text.clone())
                } else {
                    Some(rest.to_owned())
                };
            }
            _ if ch.is_ascii_alphanumeric() => {}
            _ => return None,
        }
    }
    None
}

/// An editor or debugger command line (`:!sh`, `!sh`, `shell sh`, `:call system("sh")`).
fn editor_command(c: &str, extras: &mut Vec<Extra>) {
    let c = c.trim_start_matches([':', ' ']);
    if let Some(rest) = c.strip_prefix('!') {
        extras.push(Extra::Shell(WrapperKind::Option, rest.to_owned(), false));
    } else if let Some(rest) = c.strip_prefix("shell ") {
        extras.push(Extra::Shell(WrapperKind::Option, rest.to_owned(), false));
    } else if matches!(
        c.split(['|', ' ']).next(),
        Some("sh" | "shell" | "terminal" | "term")
    ) || c.contains("|:sh")
        || c.contains("|:shell")
    {
        extras.push(Extra::Argv(WrapperKind::Option, vec![Word::literal("sh")]));
    } else {
        for s in code::shell_strings(c) {
            extras.push(Extra::Shell(WrapperKind::Option, s, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<Word> {
        s.split_whitespace().map(Word::literal).collect()
    }

    #[test]
    fn options_are_skipped() {
        assert_eq!(first_operand(&w("-u root -E rm"), &["u"]), 3);
        assert_eq!(first_operand(&w("-uroot rm"), &["u"]), 1);
        assert_eq!(first_operand(&w("--user=root rm"), &["--user"]), 1);
        assert_eq!(first_operand(&w("--user root rm"), &["--user"]), 2);
        assert_eq!(first_operand(&w("-- -rm"), &[]), 1);
    }
}
