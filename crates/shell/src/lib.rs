//! Shell command-line analysis for toolcap: every simple command a line would run, wrappers
//! unwrapped.
//!
//! [`analyze`] parses a command line (as an agent would pass it to `bash -c`) with a real shell
//! parser (`brush-parser`, see `docs/decisions/0020-shell-parser.md`) and returns an [`Analysis`]:
//! the flat list of [`SimpleCommand`]s the line can run, in the order the shell would meet them,
//! plus the data flow between them ([`Analysis::pipes`] for `a | b`, [`Analysis::feeds`] for
//! command and process substitution).
//!
//! Every simple command is found: in pipelines, `&&`/`||`/`;`/`&` lists, subshells, groups,
//! `if`/`for`/`while`/`until`/`case`, function bodies, `$( )` and backticks (also inside
//! double-quoted words, assignments and parameter defaults), process substitution, arithmetic and
//! redirections. Wrappers are unwrapped and the command they run is analysed in their place, with
//! the chain recorded in [`SimpleCommand::via`]: `sudo`, `env`, `timeout`, `nice`, `xargs`,
//! `find -exec`, `bash -c`, `eval`, `ssh host 'cmd'`, `watch`, options of ordinary binaries that
//! name a command (`tar --checkpoint-action=exec=`, `rsync -e`, `git -c core.pager=`), command-valued
//! environment variables (`PAGER=`), heredocs fed to a shell, and the shell strings that
//! interpreter one-liners pass to `system()` and friends.
//!
//! The analysis is bounded ([`Limits`]): a pre-scan rejects nesting deeper than the limit before the
//! recursive parser sees the input, so adversarial input cannot overflow the stack.
//!
//! ```
//! use toolcap_shell::{analyze, Name};
//!
//! let analysis = analyze("cd build && timeout 5 sudo rm -rf /").unwrap();
//! let rm = &analysis.commands[1];
//! assert_eq!(rm.name, Name::Static("rm".into()));
//! assert!(rm.privileged);
//! assert_eq!(rm.args().collect::<Vec<_>>(), ["-rf", "/"]);
//! ```
#![cfg_attr(not(test), warn(missing_docs))]

mod code;
mod lex;
mod prescan;
mod unwrap;
mod walk;
mod words;

pub use code::shell_strings;

/// Bounds on the work one analysis may do. Exceeding any of them is a [`ShellError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of parentheses, braces, substitutions and compound commands.
    pub max_depth: usize,
    /// Most simple commands one line may contain (after unwrapping).
    pub max_commands: usize,
    /// Deepest chain of shell strings parsed inside shell strings (`bash -c "eval '...'"`).
    pub max_unwrap: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 64 * 1024,
            max_depth: 32,
            max_commands: 512,
            max_unwrap: 12,
        }
    }
}

/// Why a command line could not be analysed. Every variant means "do not trust this line".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShellError {
    /// The bytes are not UTF-8.
    #[error("command line is not valid utf-8")]
    InvalidUtf8,
    /// The line is longer than [`Limits::max_bytes`].
    #[error("command line is {len} bytes, over the limit of {max}")]
    TooLong {
        /// The line's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Nesting deeper than [`Limits::max_depth`].
    #[error("nesting deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More simple commands than [`Limits::max_commands`].
    #[error("more than {max} commands")]
    TooManyCommands {
        /// The limit.
        max: usize,
    },
    /// Shell strings nested deeper than [`Limits::max_unwrap`].
    #[error("wrappers nested deeper than {max} levels")]
    TooManyWrappers {
        /// The limit.
        max: usize,
    },
    /// The shell parser rejected the line.
    #[error("unparseable command line: {0}")]
    Syntax(String),
}

/// Everything a command line would run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Every simple command, in the order the shell would meet them (substitutions before the
    /// command that uses them).
    pub commands: Vec<SimpleCommand>,
    /// `(a, b)`: the standard output of `commands[a]` is the standard input of `commands[b]`.
    pub pipes: Vec<(usize, usize)>,
    /// `(a, b)`: the output of `commands[a]` becomes an argument, a file or a script of
    /// `commands[b]` (command substitution `$(a)`, process substitution `<(a)`).
    pub feeds: Vec<(usize, usize)>,
    /// `(a, name)`: the output of `commands[a]`, a substitution in the word list of a `for`
    /// loop, is the values the loop variable `name` takes (`for l in $(a); do ...; done`).
    pub loop_values: Vec<(usize, String)>,
}

/// The command name of a simple command.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Name {
    /// A name known before running: the basename of the command word (`/usr/bin/rm` -> `rm`).
    /// Empty for a part with only assignments or redirections.
    Static(String),
    /// A name only known at run time (`$cmd`, `$(get-name)`), as written.
    Dynamic(String),
}

impl Name {
    /// The static name, or `None` for a dynamic one.
    pub fn as_static(&self) -> Option<&str> {
        match self {
            Name::Static(s) => Some(s),
            Name::Dynamic(_) => None,
        }
    }
}

/// One word of a command after quote removal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Word {
    /// The value with quotes removed and escapes resolved; parts only known at run time (`$HOME`,
    /// `$(cmd)`) are kept as written.
    pub text: String,
    /// True when some part is only known at run time.
    pub dynamic: bool,
}

impl Word {
    /// A word whose value is fully known.
    pub fn literal(text: impl Into<String>) -> Word {
        Word {
            text: text.into(),
            dynamic: false,
        }
    }
}

/// A `NAME=value` assignment in front of a command (or given to `env`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The variable name.
    pub name: String,
    /// The value.
    pub value: Word,
}

/// What a redirection does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedirectOp {
    /// `<`
    Read,
    /// `>` (truncates)
    Write,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `>|`
    Clobber,
    /// `<&`
    DupInput,
    /// `>&`
    DupOutput,
    /// `&>` or `&>>`: standard output and error to a file.
    WriteBoth,
    /// `<<` here-document; the target is its body.
    HereDoc,
    /// `<<<` here-string; the target is the string.
    HereString,
}

impl RedirectOp {
    /// True when the target file is written.
    pub const fn writes(self) -> bool {
        matches!(
            self,
            RedirectOp::Write
                | RedirectOp::Append
                | RedirectOp::ReadWrite
                | RedirectOp::Clobber
                | RedirectOp::WriteBoth
                | RedirectOp::DupOutput
        )
    }

    /// True when the target file is read.
    pub const fn reads(self) -> bool {
        matches!(
            self,
            RedirectOp::Read | RedirectOp::ReadWrite | RedirectOp::DupInput
        )
    }
}

/// A redirection of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The file descriptor named before the operator, if any.
    pub fd: Option<i32>,
    /// The operator.
    pub op: RedirectOp,
    /// The file (or fd number, here-document body, here-string).
    pub target: Word,
}

/// Where a command's standard input comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// Whatever the line's standard input is.
    #[default]
    Inherited,
    /// The standard output of `commands[i]`.
    Pipe(usize),
    /// A file (`< file`).
    File(Word),
    /// A here-document body.
    HereDoc(String),
    /// A here-string.
    HereString(Word),
}

/// How a wrapper hands a command on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WrapperKind {
    /// Runs the rest of its arguments as a command (`sudo`, `env`, `timeout`, `nice`, `exec`).
    Prefix,
    /// Parses a string as shell code (`bash -c`, `eval`, `su -c`, `watch`, `script -c`).
    Shell,
    /// Runs a command on another machine (`ssh host 'cmd'`).
    Remote,
    /// Runs a command built from its input (`xargs`, `parallel`).
    Xargs,
    /// `find -exec`, `-execdir`, `-ok`, `-okdir`.
    FindExec,
    /// An interpreter one-liner hands a string to a shell (`os.system("...")`).
    Interpreter,
    /// Command substitution `$( )` or backticks.
    Substitution,
    /// Process substitution `<( )` or `>( )`.
    ProcessSubstitution,
    /// A here-document or here-string fed to a shell.
    HereDoc,
    /// An option of an ordinary program names a command (`tar --checkpoint-action=exec=`,
    /// `rsync -e`, `git -c core.pager=`, `ssh -o ProxyCommand=`, `vim -c ':!cmd'`).
    Option,
    /// A command-valued environment variable (`PAGER=`, `GIT_SSH_COMMAND=`).
    EnvVar,
}

/// One step of the chain by which a command was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wrapper {
    /// How the wrapper hands the command on.
    pub kind: WrapperKind,
    /// The wrapper program (basename), or the variable or option name.
    pub program: String,
}

/// One simple command the line can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The command name.
    pub name: Name,
    /// The argument vector; `argv[0]` is the command word as written (`/usr/bin/rm`).
    pub argv: Vec<Word>,
    /// `NAME=value` assignments in front of it (also those given to `env`).
    pub assignments: Vec<Assignment>,
    /// Its redirections (including those of enclosing compound commands and wrappers).
    pub redirects: Vec<Redirect>,
    /// The wrappers it was reached through, outermost first.
    pub via: Vec<Wrapper>,
    /// Reached through `sudo`, `doas`, `su`, `pkexec` or `run0`.
    pub privileged: bool,
    /// Runs on another machine (`ssh host 'cmd'`).
    pub remote: bool,
    /// Its standard input.
    pub stdin: Source,
    /// The inline program of an interpreter one-liner (`python -c CODE`, `awk PROGRAM`).
    pub code: Option<String>,
}

impl SimpleCommand {
    /// The arguments after the command word, as text.
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.argv.iter().skip(1).map(|w| w.text.as_str())
    }

    /// The static command name, if known.
    pub fn static_name(&self) -> Option<&str> {
        self.name.as_static()
    }

    /// True when it was reached through a wrapper of this kind.
    pub fn reached_via(&self, kind: WrapperKind) -> bool {
        self.via.iter().any(|w| w.kind == kind)
    }
}

/// Analyses a command line with [`Limits::default`].
pub fn analyze(line: &str) -> Result<Analysis, ShellError> {
    analyze_with(line, &Limits::default())
}

/// Analyses a command line given as bytes: invalid UTF-8 is [`ShellError::InvalidUtf8`].
pub fn analyze_bytes(bytes: &[u8], limits: &Limits) -> Result<Analysis, ShellError> {
    let line = std::str::from_utf8(bytes).map_err(|_| ShellError::InvalidUtf8)?;
    analyze_with(line, limits)
}

/// Analyses a command line within the given limits.
pub fn analyze_with(line: &str, limits: &Limits) -> Result<Analysis, ShellError> {
    if line.len() > limits.max_bytes {
        return Err(ShellError::TooLong {
            len: line.len(),
            max: limits.max_bytes,
        });
    }
    walk::Walker::new(limits).run(line)
}

/// The basename of a command word: `/usr/bin/rm` -> `rm`, `./x` -> `x`.
pub fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}
