//! What a path is: a secret, a place that grants access or persists, a system directory, a device.
//!
//! Paths are compared as written after a light normalisation: `$HOME`, `${HOME}` and `~` become
//! `~`, repeated and trailing slashes go. No file system is consulted (the crate is pure), so a
//! symlink can hide a target; that is why the reader rules look at every argument.

use std::borrow::Cow;

/// How sensitive a path is to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ReadClass {
    /// Nothing special.
    Plain,
    /// A `.env` file inside the project: ask.
    ProjectEnv,
    /// Secrets: private keys, credentials, password databases, another process's environment.
    Secret,
}

/// True when a `find -name` pattern picks out secret files: private keys, credential files,
/// key and keystore suffixes, and `.env` files when the search runs outside the project.
pub(crate) fn secret_name_pattern(pattern: &str, outside: bool) -> bool {
    let p = pattern.trim_matches('"').trim_matches('\'');
    let p = p.rsplit('/').next().unwrap_or(p);
    if p.is_empty() || p == "*" {
        return false;
    }
    let matches = |name: &str| {
        if has_glob(p) {
            glob_match(p.as_bytes(), name.as_bytes())
        } else {
            p == name
        }
    };
    let names = SECRET_NAMES
        .iter()
        .filter(|n| !matches!(**n, "credentials" | "identity" | "hosts.yml" | "kubeconfig"))
        .copied()
        .chain(["id_rsa.old", "id_ed25519.bak"]);
    if names.into_iter().any(&matches) {
        return true;
    }
    // `*.pem`, `*.key`, `*id_rsa*`: a glob that matches a key file name.
    if SECRET_SUFFIXES
        .iter()
        .any(|s| matches(&format!("server{s}")) && !matches("README.md"))
    {
        return true;
    }
    outside && (matches(".env") || matches("prod.env"))
}

/// How sensitive a path is to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum WriteClass {
    /// Nothing special.
    Plain,
    /// System configuration or binaries (`/etc`, `/usr`, `/boot`): ask.
    System,
    /// Grants access or persists: `authorized_keys`, rc files, sudoers, cron, systemd units,
    /// `/etc/passwd`, `ld.so.preload`.
    Sensitive,
    /// A block device or kernel memory.
    Device,
}

/// `$HOME/x`, `${HOME}/x`, `~/x` -> `~/x`; `//` -> `/`; no trailing `/`.
pub(crate) fn normalize(p: &str) -> Cow<'_, str> {
    let dots = p.contains("/./") || p.contains("/../") || p.ends_with("/.") || p.ends_with("/..");
    let needs = p.starts_with("$HOME")
        || p.starts_with("${HOME}")
        || p.contains("//")
        || (p.len() > 1 && p.ends_with('/'))
        || p.starts_with("\"")
        || dots;
    if !needs {
        return Cow::Borrowed(p);
    }
    let mut s = p.trim_matches('"').to_owned();
    for home in ["${HOME}", "$HOME"] {
        if let Some(rest) = s.strip_prefix(home) {
            s = format!("~{rest}");
        }
    }
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
    // `/tmp/../`, `/usr/./bin`: an absolute path's `.` and `..` resolved by name (`/..` is `/`).
    if dots && s.starts_with('/') {
        let mut parts: Vec<&str> = Vec::new();
        for seg in s.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                _ => parts.push(seg),
            }
        }
        s = format!("/{}", parts.join("/"));
    }
    Cow::Owned(s)
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// True for a path outside the working directory: absolute, home-relative or going up.
pub(crate) fn outside_project(p: &str) -> bool {
    p.starts_with('/')
        || p.starts_with('~')
        || p == ".."
        || p.starts_with("../")
        || p.contains("/../")
}

/// True for a path in a scratch directory (`/tmp`, `/var/tmp`, `/dev/shm`).
pub(crate) fn scratch(p: &str) -> bool {
    !p.contains("/..")
        && ["/tmp/", "/var/tmp/", "/dev/shm/", "~/tmp/"]
            .iter()
            .any(|d| p.starts_with(d))
}

/// Private-key and credential file names, wherever they are.
const SECRET_NAMES: &[&str] = &[
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ecdsa_sk",
    "id_ed25519_sk",
    "identity",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    "credentials",
    "credentials.json",
    "credentials.db",
    "credentials.toml",
    "application_default_credentials.json",
    "access_tokens.db",
    ".vault-token",
    "credentials.tfrc.json",
    ".pypirc",
    "shadow",
    "gshadow",
    "master.passwd",
    "opasswd",
    "sudoers",
    "krb5.keytab",
    "logins.json",
    "key4.db",
    "key3.db",
    ".npmrc",
    ".dockercfg",
    "hosts.yml",
    "secrets.yml",
    "secrets.yaml",
    ".htpasswd",
    "wp-config.php",
    "kubeconfig",
];

const SECRET_SUFFIXES: &[&str] = &[
    ".pem",
    ".key",
    ".p12",
    ".pfx",
    ".keytab",
    ".kdbx",
    ".jks",
    ".keystore",
    ".ppk",
    ".gpg",
    ".asc",
];

const SECRET_DIRS: &[&str] = &[
    "~/.ssh/",
    "/root/.ssh/",
    "~/.aws/",
    "~/.gnupg/",
    "~/.password-store/",
    "~/.kube/",
    "~/.docker/config.json",
    "~/.config/gcloud/",
    "~/.azure/",
    "~/.config/gh/",
    "~/.local/share/keyrings/",
    "/etc/ssl/private/",
    "/etc/ssh/ssh_host_",
    "/var/run/secrets/",
    "/run/secrets/",
    "~/.mozilla/",
    "~/.config/google-chrome/",
    "~/.cargo/credentials",
    "/etc/sudoers",
    "~/.terraform.d/credentials",
    "/root/.aws/",
    "/root/.kube/",
    "/root/.gnupg/",
];

/// The sensitivity of reading `p`; a glob is judged as the worst sensitive path it can match.
pub(crate) fn read_class(p: &str) -> ReadClass {
    let own = read_class_plain(p);
    if !has_glob(p) {
        return own;
    }
    glob_matches(p)
        .map(read_class_plain)
        .fold(own, ReadClass::max)
}

fn read_class_plain(p: &str) -> ReadClass {
    let p = normalize(p);
    let p = p.as_ref();
    let base = basename(p);
    if (p.starts_with("/proc/") && (base == "environ" || base == "mem" || base == "maps"))
        || p == "/etc/shadow"
        || p == "/etc/gshadow"
        || p.starts_with("/etc/shadow")
    {
        return ReadClass::Secret;
    }
    // Physical and kernel memory: every secret of every process.
    if matches!(p, "/dev/mem" | "/dev/kmem" | "/dev/port" | "/proc/kcore") {
        return ReadClass::Secret;
    }
    // The sudo package's documentation of the drop-in directory: comments only, no rules.
    if p == "/etc/sudoers.d/README" {
        return ReadClass::Plain;
    }
    let pub_key = base.ends_with(".pub")
        || base == "known_hosts"
        || base == "config" && p.contains("/.ssh/")
        || base == "authorized_keys";
    if !pub_key
        && (SECRET_DIRS
            .iter()
            .any(|d| p.starts_with(d) || (d.ends_with('/') && p == &d[..d.len() - 1])))
    {
        return ReadClass::Secret;
    }
    if !pub_key
        && p.contains("/.ssh/")
        && (base.starts_with("id_") || base.contains("key") || base.ends_with('*'))
    {
        return ReadClass::Secret;
    }
    if !pub_key
        && [
            "/.aws/",
            "/.gnupg/",
            "/.kube/config",
            "/.docker/config.json",
            "/etc/kubernetes/",
            "/etc/rancher/",
            "/etc/gitlab-runner/",
            "/etc/wireguard/",
            "/etc/NetworkManager/system-connections",
            "/.config/rclone/",
            "/var/backups/shadow",
            "/var/backups/gshadow",
            "/.password-store/",
            "/.local/share/keyrings/",
        ]
        .iter()
        .any(|d| p.contains(d))
    {
        return ReadClass::Secret;
    }
    // Plain words (`shadow`, `credentials`) are secrets only as paths.
    if !p.contains('/')
        && matches!(
            base,
            "shadow"
                | "gshadow"
                | "opasswd"
                | "sudoers"
                | "master.passwd"
                | "credentials"
                | "identity"
                | "hosts.yml"
                | "kubeconfig"
                | "logins.json"
        )
    {
        return ReadClass::Plain;
    }
    if base == "README" || base.ends_with(".md") {
        return ReadClass::Plain;
    }
    if !pub_key && SECRET_NAMES.contains(&base) {
        // `credentials`, `identity` and `config` are common words: only in a dotted directory.
        if matches!(
            base,
            "credentials" | "identity" | "hosts.yml" | "kubeconfig"
        ) && !p.contains("/.")
            && !p.starts_with('.')
        {
            return ReadClass::Plain;
        }
        return ReadClass::Secret;
    }
    if SECRET_SUFFIXES.iter().any(|s| base.ends_with(s))
        && !base.ends_with(".pub.pem")
        && base != "cert.pem"
        && !base.contains("cert")
        && !base.contains("chain")
        && !base.starts_with("ca")
    {
        return ReadClass::Secret;
    }
    if base == ".env" || base.starts_with(".env.") || base.ends_with(".env") {
        if base.ends_with(".example") || base.ends_with(".sample") || base.ends_with(".template") {
            return ReadClass::Plain;
        }
        return if outside_project(p) {
            ReadClass::Secret
        } else {
            ReadClass::ProjectEnv
        };
    }
    if p.starts_with("~/.bash_history")
        || p.starts_with("~/.zsh_history")
        || base == ".bash_history"
        || base == ".zsh_history"
        || base == ".mysql_history"
        || base == ".psql_history"
    {
        return ReadClass::Secret;
    }
    ReadClass::Plain
}

const SENSITIVE_WRITE_PREFIXES: &[&str] = &[
    "~/.ssh",
    "/root/.ssh",
    "/etc/ssh/",
    "/etc/sudoers",
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/crontab",
    "/etc/cron.",
    "/var/spool/cron",
    "/etc/systemd/",
    "/lib/systemd/",
    "/usr/lib/systemd/",
    "~/.config/systemd/",
    "/etc/init.d/",
    "/etc/rc.local",
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/pam.d/",
    "/etc/security/",
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/environment",
    "/etc/zsh/",
    "/etc/update-motd.d/",
    "~/.config/autostart",
    "/etc/xdg/autostart",
    "/etc/sudo.conf",
    "/etc/doas.conf",
    "/etc/polkit-1/",
    "/usr/share/polkit-1/",
    "/etc/udev/rules.d/",
    "/etc/modules-load.d/",
    "/etc/anacrontab",
    "/var/spool/anacron",
    "/etc/at.",
    "/var/spool/at",
    "/etc/xinetd",
    "/etc/inittab",
    "/etc/apt/apt.conf.d/",
    "~/.local/share/systemd/",
    "/run/systemd/",
    "/etc/network/if-up.d/",
    "/etc/NetworkManager/dispatcher.d/",
    "/boot/",
    "/etc/rc.d/",
    "/etc/hosts.allow",
    "/etc/hosts.deny",
    "~/.gnupg/",
    "~/.aws/",
    "~/.kube/",
    "~/.docker/",
];

const RC_FILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".zlogin",
    ".zlogout",
    ".kshrc",
    ".cshrc",
    ".tcshrc",
    ".login",
    ".logout",
    ".xinitrc",
    ".xprofile",
    ".xsession",
    "config.fish",
    ".inputrc",
    ".vimrc",
    ".exrc",
    ".gitconfig",
    ".npmrc",
    ".pam_environment",
    ".curlrc",
    ".wgetrc",
    ".pythonrc",
    "authorized_keys",
    "authorized_keys2",
    ".rhosts",
    ".shosts",
    ".forward",
    ".bash_aliases",
    ".screenrc",
    ".tmux.conf",
    ".lesskey",
];

const SYSTEM_PREFIXES: &[&str] = &[
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/boot", "/opt", "/var/lib",
    "/sys", "/proc", "/srv", "/root", "/var/www",
];

const DEVICE_PREFIXES: &[&str] = &[
    "/dev/sd",
    "/dev/hd",
    "/dev/vd",
    "/dev/xvd",
    "/dev/nvme",
    "/dev/mmcblk",
    "/dev/md",
    "/dev/dm-",
    "/dev/mapper/",
    "/dev/disk/",
    "/dev/mem",
    "/dev/kmem",
    "/dev/port",
    "/dev/loop",
    "/dev/sr",
    "/dev/fd0",
    "/dev/nbd",
    "/dev/rbd",
    "/dev/zram",
];

/// The sensitivity of writing `p`; a glob is judged as the worst sensitive path it can match.
pub(crate) fn write_class(p: &str) -> WriteClass {
    let own = write_class_plain(p);
    if !has_glob(p) {
        return own;
    }
    glob_matches(p)
        .map(write_class_plain)
        .fold(own, WriteClass::max)
}

fn write_class_plain(p: &str) -> WriteClass {
    let p = normalize(p);
    let p = p.as_ref();
    if DEVICE_PREFIXES.iter().any(|d| p.starts_with(d)) || p == "/proc/sysrq-trigger" {
        return WriteClass::Device;
    }
    let base = basename(p);
    let in_home = p.starts_with("~/") || p.starts_with("/root/") || p.starts_with("/home/");
    if SENSITIVE_WRITE_PREFIXES.iter().any(|d| p.starts_with(d))
        || (RC_FILES.contains(&base) && (in_home || p.starts_with("/etc/") || !p.contains('/')))
    {
        // A project-relative `.gitconfig` or `.npmrc` is project configuration, not the user's.
        if !p.contains('/')
            && matches!(
                base,
                ".gitconfig"
                    | ".npmrc"
                    | ".curlrc"
                    | ".wgetrc"
                    | ".vimrc"
                    | ".exrc"
                    | ".inputrc"
                    | ".tmux.conf"
                    | ".screenrc"
                    | ".lesskey"
            )
        {
            return WriteClass::Plain;
        }
        if p.starts_with("~/.ssh/known_hosts") {
            return WriteClass::Plain;
        }
        return WriteClass::Sensitive;
    }
    if guard_config(p) {
        return WriteClass::Sensitive;
    }
    // Code the next git command or the next agent start runs: hooks, `core.fsmonitor` and
    // `core.sshCommand` in the repository's config, project MCP servers.
    if p.contains("/.git/hooks/")
        || p.starts_with(".git/hooks/")
        || ends_with_component(p, ".git/config")
        || ends_with_component(p, ".mcp.json")
    {
        return WriteClass::System;
    }
    // Replacing or shadowing programs, loading code into every Python or every login.
    if [
        "/usr/bin/",
        "/bin/",
        "/sbin/",
        "/usr/sbin/",
        "/lib/x86_64-linux-gnu/security/",
        "/usr/lib/x86_64-linux-gnu/security/",
        "/lib/security/",
        "/lib/modules/",
        "/etc/modules",
        "/etc/modprobe.d/",
        "/etc/sysctl.d/",
        "/etc/sysctl.conf",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/nsswitch.conf",
        "/etc/apt/sources.list",
        "/etc/yum.repos.d/",
        "/etc/docker/daemon.json",
        "/var/run/docker.sock",
        "/run/docker.sock",
    ]
    .iter()
    .any(|d| p.starts_with(d))
        || base.ends_with(".pth")
    {
        return WriteClass::Sensitive;
    }
    if (p.starts_with("/usr/local/bin/")
        || p.starts_with("~/.local/bin/")
        || p.starts_with("~/bin/")
        || p.starts_with("/usr/local/sbin/"))
        && toolcap_catalog::lookup(base).is_some()
    {
        return WriteClass::Sensitive;
    }
    if SYSTEM_PREFIXES
        .iter()
        .any(|d| p == *d || p.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
    {
        return WriteClass::System;
    }
    WriteClass::Plain
}

/// `p` is `suffix` or ends with `/suffix`.
fn ends_with_component(p: &str, suffix: &str) -> bool {
    p.strip_suffix(suffix)
        .is_some_and(|head| head.is_empty() || head.ends_with('/'))
}

/// The settings that decide what an agent may do, and toolcap's own policy: an agent that
/// rewrites them switches off its own guard. Claude Code's settings (project, local, user and
/// managed) and its user file with MCP servers, GitHub Copilot's hooks, toolcap's policy files.
fn guard_config(p: &str) -> bool {
    let in_home = |rest: &str| {
        p.strip_prefix("~/") == Some(rest)
            || p.strip_prefix("/root/") == Some(rest)
            || p.strip_prefix("/home/")
                .and_then(|r| r.split_once('/'))
                .is_some_and(|(_, r)| r == rest)
    };
    ends_with_component(p, ".claude/settings.json")
        || ends_with_component(p, ".claude/settings.local.json")
        || in_home(".claude.json")
        || p.starts_with("/etc/claude-code/")
        || ends_with_component(p, ".toolcap/policy.toml")
        || p.starts_with("/etc/toolcap/")
        || in_home(".config/toolcap/policy.toml")
        || p.starts_with(".github/hooks/")
        || p.contains("/.github/hooks/")
}

/// Harmless device files a redirection may write.
pub(crate) fn harmless_device(p: &str) -> bool {
    matches!(
        p,
        "/dev/null"
            | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/tty"
            | "/dev/zero"
            | "/dev/full"
            | "/dev/random"
            | "/dev/urandom"
    ) || p.starts_with("/dev/fd/")
        || p.starts_with("/dev/pts/")
}

/// What deleting (or chmod/chown -R on) a path would hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A path inside the project below its top (`./build`, `target`, `tmp/cache`).
    Project,
    /// Somewhere else that is not special (`/tmp/x`, `/srv/app/cache`).
    Elsewhere,
    /// Only known at run time.
    Dynamic,
    /// The whole project or its parent (`.`, `*`, `..`, `.git`).
    WholeProject,
    /// A top-level data directory or one level below it: served sites, mounts and backups,
    /// installed software, databases (`/srv/www`, `/mnt/backup`, `/opt/app`, `/data`).
    Data,
    /// A system directory (`/etc`, `/usr/lib`, `/var`).
    System,
    /// A home directory (`~`, `$HOME`, `/home/alice`, `/root`).
    Home,
    /// The root directory (`/`, `/*`).
    Root,
}

const SYSTEM_DIRS: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/opt", "/proc", "/sbin", "/srv",
    "/sys", "/usr", "/var", "/snap", "/mnt", "/media", "/run",
];

/// Top-level directories that hold data rather than the system (deleting them, or what is one
/// level below them, loses a service's data or a backup).
const DATA_DIRS: &[&str] = &[
    "/data", "/backup", "/backups", "/storage", "/export", "/nfs",
];

/// Classifies a deletion target; a glob (`/e*`, `/u??`, `~/.s*`) is judged as the worst
/// sensitive or system path it can match.
pub(crate) fn target(word: &str, dynamic: bool) -> Target {
    let own = target_plain(word, dynamic);
    if !has_glob(word) || own >= Target::Root {
        return own;
    }
    glob_matches(word)
        .map(|m| target_plain(m, false))
        .fold(own, Target::max)
}

/// True when the word has a glob character the shell would expand.
fn has_glob(p: &str) -> bool {
    p.bytes().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// Concrete paths a glob pattern must be judged as: the root's directories, homes, and the
/// secret, access and start-up files, each one level deep where that matters. A pattern is only
/// compared with paths of its own kind (absolute with absolute, `~/` with `~/`), so a project glob
/// such as `*.o` matches none of them.
const GLOB_CANDIDATES: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/snap",
    "/mnt",
    "/media",
    "/run",
    "/Users",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/local",
    "/usr/share",
    "/usr/include",
    "/var/lib",
    "/var/log",
    "/var/spool",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/passwd",
    "/etc/group",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/crontab",
    "/etc/cron.d",
    "/etc/ssh",
    "/etc/ssh/sshd_config",
    "/etc/ld.so.preload",
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/systemd/system",
    "/root/.ssh",
    "/root/.ssh/id_rsa",
    "/root/.ssh/authorized_keys",
    "/root/.bashrc",
    "/dev/sda",
    "/dev/nvme0n1",
    "/dev/vda",
    "/dev/mem",
    "~/.ssh",
    "~/.ssh/id_rsa",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_dsa",
    "~/.ssh/authorized_keys",
    "~/.ssh/config",
    "~/.aws",
    "~/.aws/credentials",
    "~/.gnupg",
    "~/.kube/config",
    "~/.docker/config.json",
    "~/.netrc",
    "~/.git-credentials",
    "~/.bashrc",
    "~/.bash_profile",
    "~/.profile",
    "~/.zshrc",
    "~/.config",
    "~/.local",
    "~/.pgpass",
    "~/.config/gcloud",
    "~/.azure",
];

/// The candidates (see [`GLOB_CANDIDATES`]) a glob pattern matches.
fn glob_matches(pattern: &str) -> impl Iterator<Item = &'static str> + '_ {
    let n = normalize(pattern);
    // `/usr/bin/*` and `~/.ssh/*` stand for the directory's files: match the directory too.
    let pat: String = n.trim_end_matches("/*").to_owned();
    let pat = if pat.is_empty() { "/".to_owned() } else { pat };
    GLOB_CANDIDATES.iter().copied().filter(move |c| {
        let same_kind = match (pat.as_bytes().first(), c.as_bytes().first()) {
            (Some(b'/'), Some(b'/')) => true,
            (Some(b'~'), Some(b'~')) => pat.starts_with("~/"),
            _ => false,
        };
        same_kind
            && (glob_match(pat.as_bytes(), c.as_bytes()) || glob_match(n.as_bytes(), c.as_bytes()))
    })
}

/// Shell pattern matching (POSIX 2.13): `*` and `?` do not match `/`; `[...]` with ranges and
/// `!`/`^` negation. Iterative with one backtrack point, so time is bounded by the product of the
/// lengths.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        let step = match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
                continue;
            }
            Some(b'?') if s[si] != b'/' => Some(pi + 1),
            Some(b'[') => class(p, pi, s[si]),
            Some(&c) if c == s[si] => Some(pi + 1),
            _ => None,
        };
        match step {
            Some(next) => {
                pi = next;
                si += 1;
            }
            None => match star {
                // `*` never crosses a `/`.
                Some((sp, ss)) if s[ss] != b'/' => {
                    star = Some((sp, ss + 1));
                    pi = sp + 1;
                    si = ss + 1;
                }
                _ => return false,
            },
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// Matches byte `c` against the bracket expression at `p[at]`; returns the index after it.
fn class(p: &[u8], at: usize, c: u8) -> Option<usize> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while let Some(&b) = p.get(i) {
        if b == b']' && !first {
            return (hit != negate && c != b'/').then_some(i + 1);
        }
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&e| e != b']') {
            let e = p[i + 2];
            hit |= b <= c && c <= e;
            i += 3;
        } else {
            hit |= b == c;
            i += 1;
        }
    }
    // No closing `]`: the `[` is an ordinary character.
    (c == b'[').then_some(at + 1)
}

fn target_plain(word: &str, dynamic: bool) -> Target {
    let n = normalize(word);
    // `find ROOT -exec rm {}`: the shell analysis writes `ROOT/{}`, every file under ROOT.
    let n = match n.strip_suffix("{}") {
        Some(root) if !root.is_empty() => std::borrow::Cow::Owned(format!("{root}*")),
        _ => n,
    };
    let dynamic = dynamic && !word.ends_with("/{}");
    let p = n.trim_end_matches("/*").trim_end_matches("/.");
    let p = if p.is_empty() { "/" } else { p };
    if matches!(p, "/" | "/*" | "/." | "/.." | "/.*") || word.starts_with("/*") {
        return Target::Root;
    }
    if matches!(
        p,
        "~" | "~/" | "~/*" | "~/.*" | "/home" | "/root" | "/Users"
    ) || p.starts_with("~/..")
    {
        return Target::Home;
    }
    if let Some(rest) = p
        .strip_prefix("/home/")
        .or_else(|| p.strip_prefix("/Users/"))
        && !rest.contains('/')
    {
        return Target::Home;
    }
    if p.starts_with('~') && !p.contains('/') {
        return Target::Home;
    }
    // The user's configuration, data and keys (not caches): losing them is losing the home.
    if let Some(dot) = p.strip_prefix("~/").or_else(|| p.strip_prefix("/root/"))
        && matches!(
            dot,
            ".config"
                | ".local"
                | ".ssh"
                | ".gnupg"
                | ".aws"
                | ".kube"
                | ".mozilla"
                | ".local/share"
        )
    {
        return Target::Home;
    }
    if dynamic {
        // `$HOME/x` was normalised above; any other run-time part is unknown.
        if p.starts_with("~/") && !p[2..].contains('$') {
            return Target::Elsewhere;
        }
        return Target::Dynamic;
    }
    for d in SYSTEM_DIRS {
        if p == *d {
            return Target::System;
        }
        if let Some(rest) = p.strip_prefix(d).and_then(|r| r.strip_prefix('/')) {
            // `/usr/lib`, `/etc/nginx`: one level below a system directory is still the system;
            // `/var/log/app/old.log` or `/opt/app/cache` are not.
            let deep = rest
                .split('/')
                .filter(|s| !s.is_empty() && *s != "*")
                .count();
            let data = matches!(*d, "/mnt" | "/media" | "/opt" | "/srv");
            if data && deep <= 1 {
                return Target::Data;
            }
            if deep <= 1 && *d != "/run" {
                return Target::System;
            }
            if *d == "/var" && (rest.starts_with("log") || rest.starts_with("lib")) && deep <= 2 {
                return Target::System;
            }
            // `/var/lib/docker/volumes`, `/var/www/site`, `/var/backups/db`: data one level down.
            if *d == "/var"
                && deep <= 3
                && ["lib/", "www/", "backups/", "opt/", "mail/"]
                    .iter()
                    .any(|x| rest.starts_with(x))
                && (deep <= 2 || rest.starts_with("lib/"))
            {
                return Target::Data;
            }
            return Target::Elsewhere;
        }
    }
    // Top-level data directories that are not system directories.
    for d in DATA_DIRS {
        if let Some(rest) = p.strip_prefix(d)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            let deep = rest
                .split('/')
                .filter(|s| !s.is_empty() && *s != "*")
                .count();
            if deep <= 1 {
                return Target::Data;
            }
        }
    }
    if matches!(
        p,
        "." | "./"
            | "*"
            | "./*"
            | ".*"
            | ".."
            | "../*"
            | "../.."
            | ".git"
            | "./.git"
            | "**"
            | "./."
    ) || p.starts_with("../") && p.matches("..").count() >= 2
    {
        return Target::WholeProject;
    }
    if outside_project(p) {
        return Target::Elsewhere;
    }
    Target::Project
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised() {
        for p in [
            "~/.ssh/id_rsa",
            "$HOME/.ssh/id_ed25519",
            "/etc/shadow",
            "~/.aws/credentials",
            "~/.kube/config",
            "/proc/1/environ",
            "server.key",
            "../.env",
            "/home/u/.netrc",
            "~/.docker/config.json",
        ] {
            assert_eq!(read_class(p), ReadClass::Secret, "{p}");
        }
        for p in [
            "~/.ssh/id_rsa.pub",
            "README.md",
            "src/credentials.rs",
            ".env.example",
            "/etc/hosts",
            "~/.ssh/known_hosts",
        ] {
            assert_eq!(read_class(p), ReadClass::Plain, "{p}");
        }
        assert_eq!(read_class(".env"), ReadClass::ProjectEnv);
    }

    #[test]
    fn write_targets() {
        assert_eq!(write_class("~/.ssh/authorized_keys"), WriteClass::Sensitive);
        assert_eq!(write_class("$HOME/.bashrc"), WriteClass::Sensitive);
        assert_eq!(write_class("/etc/sudoers.d/x"), WriteClass::Sensitive);
        assert_eq!(write_class("/etc/nginx/nginx.conf"), WriteClass::System);
        assert_eq!(write_class("/dev/sda"), WriteClass::Device);
        assert_eq!(write_class("out.txt"), WriteClass::Plain);
        assert_eq!(write_class(".gitconfig"), WriteClass::Plain);
    }

    #[test]
    fn an_agents_own_guard_is_sensitive() {
        for p in [
            ".claude/settings.json",
            ".claude/settings.local.json",
            "/work/proj/.claude/settings.json",
            "~/.claude/settings.json",
            "$HOME/.claude.json",
            "/home/dev/.claude.json",
            "/etc/claude-code/managed-settings.json",
            ".toolcap/policy.toml",
            "/srv/app/.toolcap/policy.toml",
            "~/.config/toolcap/policy.toml",
            "/etc/toolcap/policy.toml",
            ".github/hooks/guard.json",
            "/work/proj/.github/hooks/x.json",
        ] {
            assert_eq!(write_class(p), WriteClass::Sensitive, "{p}");
        }
        for p in [
            ".git/config",
            "/work/proj/.git/config",
            ".mcp.json",
            "../x/.mcp.json",
        ] {
            assert_eq!(write_class(p), WriteClass::System, "{p}");
        }
        for p in [
            "claude/settings.json",
            "docs/.claude.json",
            "my.claude/settings.json.bak",
            "toolcap/policy.toml",
            ".github/workflows/ci.yml",
            "src/git/config",
        ] {
            assert_eq!(write_class(p), WriteClass::Plain, "{p}");
        }
    }

    #[test]
    fn deletion_targets() {
        assert_eq!(target("/", false), Target::Root);
        assert_eq!(target("/*", false), Target::Root);
        assert_eq!(target("~", false), Target::Home);
        assert_eq!(target("$HOME", true), Target::Home);
        assert_eq!(target("/etc", false), Target::System);
        assert_eq!(target("/usr/lib", false), Target::System);
        assert_eq!(target(".", false), Target::WholeProject);
        assert_eq!(target("*", false), Target::WholeProject);
        assert_eq!(target("./build", false), Target::Project);
        assert_eq!(target("target", false), Target::Project);
        assert_eq!(target("/tmp/x", false), Target::Elsewhere);
        assert_eq!(target("$DIR/", true), Target::Dynamic);
        assert_eq!(target("~/.cache/pip", true), Target::Elsewhere);
    }
}
