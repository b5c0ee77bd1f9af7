//! Walks the `brush-parser` AST and collects every simple command.

use brush_parser::ParserOptions;
use brush_parser::ast;
use brush_parser::word::{self, WordPiece, WordPieceWithSource};

use crate::{
    Analysis, Assignment, Limits, Name, Redirect, RedirectOp, ShellError, SimpleCommand, Source,
    Word, Wrapper, WrapperKind, prescan, unwrap, words,
};

/// The inherited context of a command: how it was reached and what wraps it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ctx {
    pub(crate) via: Vec<Wrapper>,
    pub(crate) privileged: bool,
    pub(crate) remote: bool,
    /// Redirections of enclosing compound commands.
    pub(crate) redirects: Vec<Redirect>,
}

impl Ctx {
    pub(crate) fn wrapped(&self, kind: WrapperKind, program: &str) -> Ctx {
        let mut c = self.clone();
        c.via.push(Wrapper {
            kind,
            program: program.to_owned(),
        });
        c
    }
}

/// A simple command before unwrapping.
#[derive(Clone, Debug, Default)]
pub(crate) struct Raw {
    pub(crate) argv: Vec<Word>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) redirects: Vec<Redirect>,
    pub(crate) stdin: Source,
}

pub(crate) struct Walker<'l> {
    pub(crate) limits: &'l Limits,
    opts: ParserOptions,
    pub(crate) out: Analysis,
    unwrap_depth: usize,
    /// Constant propagation of `NAME=value` statements within the line (`x=rm; $x -rf /`):
    /// the known value of each variable, or `None` once it was given a run-time or a second,
    /// different value (an assignment inside a branch must not hide the other path).
    vars: Vec<(String, Option<String>)>,
    /// The command whose output the next pipeline element reads.
    incoming: Option<usize>,
    /// Take the plain-words fast path ([`plain_words`]); tests turn it off to compare.
    fast: bool,
}

type R<T> = Result<T, ShellError>;

impl<'l> Walker<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Walker<'l> {
        Walker {
            limits,
            opts: ParserOptions::default(),
            out: Analysis::default(),
            unwrap_depth: 0,
            vars: Vec::new(),
            incoming: None,
            fast: true,
        }
    }

    pub(crate) fn run(mut self, line: &str) -> R<Analysis> {
        self.source(line, &Ctx::default())?;
        Ok(self.out)
    }

    /// Parses and walks shell source; returns the indices of its pipeline-level commands.
    fn source(&mut self, src: &str, ctx: &Ctx) -> R<Vec<usize>> {
        if !prescan::depth_ok(src, self.limits.max_depth) {
            return Err(ShellError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        if self.fast
            && let Some(argv) = plain_words(src)
        {
            // The tail of `simple` for a command with only literal words.
            let mut raw = Raw {
                argv,
                ..Raw::default()
            };
            self.record_assignments(&raw);
            if let Some(i) = self.incoming.take() {
                raw.stdin = Source::Pipe(i);
            }
            return unwrap::emit(self, raw, ctx);
        }
        let tokens = brush_parser::uncached_tokenize_str(src, &self.opts.tokenizer_options())
            .map_err(|e| ShellError::Syntax(e.to_string()))?;
        let program = brush_parser::parse_tokens(&tokens, &self.opts)
            .map_err(|e| ShellError::Syntax(e.to_string()))?;
        let mut mains = Vec::new();
        for list in &program.complete_commands {
            mains.extend(self.list(list, ctx)?);
        }
        Ok(mains)
    }

    /// Parses a string that a wrapper hands to a shell. An unparseable string becomes one command
    /// with a dynamic name, so that it is judged as unknown rather than dropped.
    pub(crate) fn nested(
        &mut self,
        src: &str,
        ctx: &Ctx,
        kind: WrapperKind,
        program: &str,
    ) -> R<Vec<usize>> {
        if self.unwrap_depth >= self.limits.max_unwrap {
            return Err(ShellError::TooManyWrappers {
                max: self.limits.max_unwrap,
            });
        }
        let inner = ctx.wrapped(kind, program);
        self.unwrap_depth += 1;
        let mut result = self.source(src, &inner);
        // `ProxyCommand=';sh'`: programs hand the string to `sh -c`, where a leading separator is
        // an error, but the rest is what an attacker meant; judge the rest.
        let trimmed = src.trim_start().trim_start_matches([';', '&', '|', ' ']);
        if matches!(result, Err(ShellError::Syntax(_)))
            && trimmed.len() < src.len()
            && !trimmed.is_empty()
        {
            result = self.source(trimmed, &inner);
        }
        self.unwrap_depth -= 1;
        match result {
            Err(ShellError::Syntax(_)) if kind == WrapperKind::Interpreter => Ok(Vec::new()),
            Err(ShellError::Syntax(_)) => {
                let raw = Raw {
                    argv: vec![Word {
                        text: src.to_owned(),
                        dynamic: true,
                    }],
                    ..Raw::default()
                };
                Ok(vec![self.push(raw, &inner, None)?])
            }
            other => other,
        }
    }

    /// Emits one command; returns its index.
    pub(crate) fn push(&mut self, raw: Raw, ctx: &Ctx, code: Option<String>) -> R<usize> {
        if self.out.commands.len() >= self.limits.max_commands {
            return Err(ShellError::TooManyCommands {
                max: self.limits.max_commands,
            });
        }
        let name = match raw.argv.first() {
            None => Name::Static(String::new()),
            Some(w) if w.dynamic => Name::Dynamic(w.text.clone()),
            Some(w) => Name::Static(crate::basename(&w.text).to_owned()),
        };
        let mut redirects = ctx.redirects.clone();
        redirects.extend(raw.redirects);
        self.out.commands.push(SimpleCommand {
            name,
            argv: raw.argv,
            assignments: raw.assignments,
            redirects,
            via: ctx.via.clone(),
            privileged: ctx.privileged,
            remote: ctx.remote,
            stdin: raw.stdin,
            code,
        });
        Ok(self.out.commands.len() - 1)
    }

    fn list(&mut self, list: &ast::CompoundList, ctx: &Ctx) -> R<Vec<usize>> {
        let mut mains = Vec::new();
        for item in &list.0 {
            let aol = &item.0;
            mains.extend(self.pipeline(&aol.first, ctx)?);
            for next in &aol.additional {
                let p = match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => p,
                };
                mains.extend(self.pipeline(p, ctx)?);
            }
        }
        Ok(mains)
    }

    fn pipeline(&mut self, p: &ast::Pipeline, ctx: &Ctx) -> R<Vec<usize>> {
        // The `time` keyword runs the pipeline like the `time` program would: record it as the
        // wrapper it is (`time -p /bin/sh -i` is a shell reached through a wrapper).
        let timed;
        let ctx = if p.timed.is_some() {
            timed = ctx.wrapped(WrapperKind::Prefix, "time");
            &timed
        } else {
            ctx
        };
        let mut all = Vec::new();
        let mut prev: Vec<usize> = Vec::new();
        for cmd in &p.seq {
            self.incoming = prev.last().copied();
            let mains = self.command(cmd, ctx)?;
            self.incoming = None;
            if let Some(&last) = prev.last() {
                for &b in &mains {
                    for &a in &prev {
                        if self.out.pipes.len() >= self.limits.max_commands * 4 {
                            return Err(ShellError::TooManyCommands {
                                max: self.limits.max_commands,
                            });
                        }
                        self.out.pipes.push((a, b));
                    }
                    if let Some(c) = self.out.commands.get_mut(b)
                        && c.stdin == Source::Inherited
                    {
                        c.stdin = Source::Pipe(last);
                    }
                }
            }
            all.extend(mains.iter().copied());
            prev = mains;
        }
        Ok(all)
    }

    fn command(&mut self, cmd: &ast::Command, ctx: &Ctx) -> R<Vec<usize>> {
        match cmd {
            ast::Command::Simple(sc) => self.simple(sc, ctx),
            ast::Command::Compound(cc, redirs) => {
                let inner = self.with_redirects(redirs.as_ref(), ctx)?;
                self.compound(cc, &inner)
            }
            ast::Command::Function(f) => {
                let inner = self.with_redirects(f.body.1.as_ref(), ctx)?;
                self.compound(&f.body.0, &inner)?;
                Ok(Vec::new())
            }
            ast::Command::ExtendedTest(t, redirs) => {
                let inner = self.with_redirects(redirs.as_ref(), ctx)?;
                self.test_expr(&t.expr, &inner)?;
                Ok(Vec::new())
            }
        }
    }

    fn with_redirects(&mut self, redirs: Option<&ast::RedirectList>, ctx: &Ctx) -> R<Ctx> {
        let Some(list) = redirs else {
            return Ok(ctx.clone());
        };
        let mut inner = ctx.clone();
        let mut stdin = Source::Inherited;
        let mut feeds = Vec::new();
        for r in &list.0 {
            self.redirect(r, ctx, &mut inner.redirects, &mut stdin, &mut feeds)?;
        }
        Ok(inner)
    }

    fn test_expr(&mut self, e: &ast::ExtendedTestExpr, ctx: &Ctx) -> R<()> {
        match e {
            ast::ExtendedTestExpr::And(a, b) | ast::ExtendedTestExpr::Or(a, b) => {
                self.test_expr(a, ctx)?;
                self.test_expr(b, ctx)
            }
            ast::ExtendedTestExpr::Not(a) | ast::ExtendedTestExpr::Parenthesized(a) => {
                self.test_expr(a, ctx)
            }
            ast::ExtendedTestExpr::UnaryTest(_, w) => self.word(&w.value, ctx).map(|_| ()),
            ast::ExtendedTestExpr::BinaryTest(_, a, b) => {
                self.word(&a.value, ctx)?;
                self.word(&b.value, ctx).map(|_| ())
            }
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand, ctx: &Ctx) -> R<Vec<usize>> {
        match cc {
            ast::CompoundCommand::Arithmetic(a) => {
                self.arith(&a.expr.value, ctx)?;
                Ok(Vec::new())
            }
            ast::CompoundCommand::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arith(&e.value, ctx)?;
                }
                self.list(&f.body.list, ctx)
            }
            ast::CompoundCommand::BraceGroup(b) => self.list(&b.list, ctx),
            ast::CompoundCommand::Subshell(s) => self.list(&s.list, ctx),
            ast::CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(&w.value, ctx)?;
                }
                self.list(&f.body.list, ctx)
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value, ctx)?;
                let mut mains = Vec::new();
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, ctx)?;
                    }
                    if let Some(l) = &item.cmd {
                        mains.extend(self.list(l, ctx)?);
                    }
                }
                Ok(mains)
            }
            ast::CompoundCommand::IfClause(i) => {
                let mut mains = self.list(&i.condition, ctx)?;
                mains.extend(self.list(&i.then, ctx)?);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        mains.extend(self.list(c, ctx)?);
                    }
                    mains.extend(self.list(&e.body, ctx)?);
                }
                Ok(mains)
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                let mut mains = self.list(&w.0, ctx)?;
                mains.extend(self.list(&w.1.list, ctx)?);
                Ok(mains)
            }
            ast::CompoundCommand::Coprocess(c) => self.command(&c.body, ctx),
        }
    }

    /// Finds the substitutions inside arithmetic text (`$(( $(cmd) + 1 ))`).
    fn arith(&mut self, text: &str, ctx: &Ctx) -> R<()> {
        if text.contains("$(") || text.contains('`') {
            self.word(text, ctx)?;
        }
        Ok(())
    }

    fn simple(&mut self, sc: &ast::SimpleCommand, ctx: &Ctx) -> R<Vec<usize>> {
        let incoming = self.incoming.take();
        let mut raw = Raw::default();
        let mut feeds: Vec<usize> = Vec::new();
        let prefix = sc.prefix.iter().flat_map(|p| p.0.iter());
        let suffix = sc.suffix.iter().flat_map(|s| s.0.iter());
        let mut items: Vec<Item<'_>> = prefix.map(Item::Part).collect();
        if let Some(w) = &sc.word_or_name {
            items.push(Item::Name(w));
        }
        items.extend(suffix.map(Item::Part));
        for item in items {
            match item {
                Item::Name(w) | Item::Part(ast::CommandPrefixOrSuffixItem::Word(w)) => {
                    let (word, subs) = self.word(&w.value, ctx)?;
                    feeds.extend(subs);
                    raw.argv.push(word);
                }
                Item::Part(ast::CommandPrefixOrSuffixItem::IoRedirect(r)) => {
                    self.redirect(r, ctx, &mut raw.redirects, &mut raw.stdin, &mut feeds)?;
                }
                Item::Part(ast::CommandPrefixOrSuffixItem::AssignmentWord(a, w)) => {
                    if raw.argv.is_empty() {
                        let name = match &a.name {
                            ast::AssignmentName::VariableName(n) => n.clone(),
                            ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
                        };
                        let value = match &a.value {
                            ast::AssignmentValue::Scalar(v) => {
                                let (word, subs) = self.word(&v.value, ctx)?;
                                feeds.extend(subs);
                                word
                            }
                            ast::AssignmentValue::Array(items) => {
                                let mut text = String::new();
                                let mut dynamic = false;
                                for (_, v) in items {
                                    let (word, subs) = self.word(&v.value, ctx)?;
                                    feeds.extend(subs);
                                    if !text.is_empty() {
                                        text.push(' ');
                                    }
                                    text.push_str(&word.text);
                                    dynamic |= word.dynamic;
                                }
                                Word { text, dynamic }
                            }
                        };
                        raw.assignments.push(Assignment { name, value });
                    } else {
                        let (word, subs) = self.word(&w.value, ctx)?;
                        feeds.extend(subs);
                        raw.argv.push(word);
                    }
                }
                Item::Part(ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub)) => {
                    let inner = ctx.wrapped(WrapperKind::ProcessSubstitution, "");
                    let subs = self.list(&sub.list, &inner)?;
                    feeds.extend(subs);
                    let text = match kind {
                        ast::ProcessSubstitutionKind::Read => "<(...)",
                        ast::ProcessSubstitutionKind::Write => ">(...)",
                    };
                    raw.argv.push(Word {
                        text: text.to_owned(),
                        dynamic: true,
                    });
                }
            }
        }
        if raw.argv.is_empty() && raw.assignments.is_empty() && raw.redirects.is_empty() {
            return Ok(Vec::new());
        }
        self.record_assignments(&raw);
        if raw.stdin == Source::Inherited
            && let Some(i) = incoming
        {
            raw.stdin = Source::Pipe(i);
        }
        let mains = unwrap::emit(self, raw, ctx)?;
        for &b in &mains {
            for &a in &feeds {
                self.out.feeds.push((a, b));
            }
        }
        Ok(mains)
    }

    fn redirect(
        &mut self,
        r: &ast::IoRedirect,
        ctx: &Ctx,
        out: &mut Vec<Redirect>,
        stdin: &mut Source,
        feeds: &mut Vec<usize>,
    ) -> R<()> {
        match r {
            ast::IoRedirect::File(fd, kind, target) => {
                let op = match kind {
                    ast::IoFileRedirectKind::Read => RedirectOp::Read,
                    ast::IoFileRedirectKind::Write => RedirectOp::Write,
                    ast::IoFileRedirectKind::Append => RedirectOp::Append,
                    ast::IoFileRedirectKind::ReadAndWrite => RedirectOp::ReadWrite,
                    ast::IoFileRedirectKind::Clobber => RedirectOp::Clobber,
                    ast::IoFileRedirectKind::DuplicateInput => RedirectOp::DupInput,
                    ast::IoFileRedirectKind::DuplicateOutput => RedirectOp::DupOutput,
                };
                let word = match target {
                    ast::IoFileRedirectTarget::Filename(w)
                    | ast::IoFileRedirectTarget::Duplicate(w) => {
                        let (word, subs) = self.word(&w.value, ctx)?;
                        feeds.extend(subs);
                        word
                    }
                    ast::IoFileRedirectTarget::Fd(n) => Word::literal(n.to_string()),
                    ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                        let inner = ctx.wrapped(WrapperKind::ProcessSubstitution, "");
                        let subs = self.list(&sub.list, &inner)?;
                        feeds.extend(subs);
                        Word {
                            text: "<(...)".to_owned(),
                            dynamic: true,
                        }
                    }
                };
                if op == RedirectOp::Read && fd.is_none_or(|f| f == 0) {
                    *stdin = Source::File(word.clone());
                }
                out.push(Redirect {
                    fd: *fd,
                    op,
                    target: word,
                });
            }
            ast::IoRedirect::HereDocument(fd, doc) => {
                let body = doc.doc.value.clone();
                if doc.requires_expansion
                    && (body.contains("$(") || body.contains('`'))
                    && let Ok(pieces) = word::parse_heredoc(&body, &self.opts)
                {
                    let mut scratch = (String::new(), false);
                    for p in &pieces {
                        self.piece(p, &body, ctx, &mut scratch, feeds)?;
                    }
                }
                if fd.is_none_or(|f| f == 0) {
                    *stdin = Source::HereDoc(body.clone());
                }
                out.push(Redirect {
                    fd: *fd,
                    op: RedirectOp::HereDoc,
                    target: Word::literal(body),
                });
            }
            ast::IoRedirect::HereString(fd, w) => {
                let (word, subs) = self.word(&w.value, ctx)?;
                feeds.extend(subs);
                if fd.is_none_or(|f| f == 0) {
                    *stdin = Source::HereString(word.clone());
                }
                out.push(Redirect {
                    fd: *fd,
                    op: RedirectOp::HereString,
                    target: word,
                });
            }
            ast::IoRedirect::OutputAndError(w, _append) => {
                let (word, subs) = self.word(&w.value, ctx)?;
                feeds.extend(subs);
                out.push(Redirect {
                    fd: None,
                    op: RedirectOp::WriteBoth,
                    target: word,
                });
            }
        }
        Ok(())
    }

    /// Resolves one word: quote removal, escapes, substitutions (whose commands are emitted).
    /// Returns the word and the indices of the commands its substitutions ran.
    pub(crate) fn word(&mut self, raw: &str, ctx: &Ctx) -> R<(Word, Vec<usize>)> {
        // Fast path: nothing to expand or unquote.
        if !raw.bytes().any(|b| b"'\"\\$`~".contains(&b)) {
            return Ok((Word::literal(raw), Vec::new()));
        }
        let Ok(pieces) = word::parse(raw, &self.opts) else {
            return Ok((
                Word {
                    text: raw.to_owned(),
                    dynamic: true,
                },
                Vec::new(),
            ));
        };
        let mut acc = (String::with_capacity(raw.len()), false);
        let mut subs = Vec::new();
        for p in &pieces {
            self.piece(p, raw, ctx, &mut acc, &mut subs)?;
        }
        Ok((
            Word {
                text: acc.0,
                dynamic: acc.1,
            },
            subs,
        ))
    }

    fn piece(
        &mut self,
        p: &WordPieceWithSource,
        src: &str,
        ctx: &Ctx,
        acc: &mut (String, bool),
        subs: &mut Vec<usize>,
    ) -> R<()> {
        match &p.piece {
            WordPiece::Text(s) | WordPiece::SingleQuotedText(s) => acc.0.push_str(s),
            WordPiece::AnsiCQuotedText(s) => acc.0.push_str(&words::ansi_c(s)),
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                for q in inner {
                    self.piece(q, src, ctx, acc, subs)?;
                }
            }
            WordPiece::TildeExpansion(t) => match t {
                word::TildeExpr::UserHome(u) => {
                    acc.0.push('~');
                    acc.0.push_str(u);
                }
                _ => acc.0.push('~'),
            },
            WordPiece::EscapeSequence(s) => acc.0.push_str(s.strip_prefix('\\').unwrap_or(s)),
            WordPiece::ParameterExpansion(_) => {
                let text = src.get(p.start_index..p.end_index).unwrap_or("$?");
                if let Some(v) = self.known_var(text) {
                    acc.0.push_str(v);
                    return Ok(());
                }
                acc.0.push_str(text);
                acc.1 = true;
                // `${x:-$(cmd)}` runs cmd: look inside the braces.
                if let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'))
                    && (inner.contains("$(") || inner.contains('`'))
                {
                    let (_, s) = self.word(inner, ctx)?;
                    subs.extend(s);
                }
            }
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                let first = self.out.commands.len();
                let mains = self.nested(s, ctx, WrapperKind::Substitution, "")?;
                subs.extend(mains.iter().copied());
                match self.static_output(first) {
                    Some(out) => acc.0.push_str(&out),
                    None => {
                        acc.0.push_str("$(");
                        acc.0.push_str(s);
                        acc.0.push(')');
                        acc.1 = true;
                    }
                }
            }
            WordPiece::ArithmeticExpression(e) => {
                self.arith(&e.value, ctx)?;
                acc.0.push_str("$((");
                acc.0.push_str(&e.value);
                acc.0.push_str("))");
                acc.1 = true;
            }
        }
        Ok(())
    }

    /// Records `NAME=value` statements (and `export`/`readonly`/`declare`/`local NAME=value`)
    /// for constant propagation. Prefix assignments of a command (`X=1 cmd`) are not recorded:
    /// they only reach that command's environment.
    fn record_assignments(&mut self, raw: &Raw) {
        let declared: Vec<(&str, &Word)>;
        let pairs: &[(&str, &Word)] = match raw.argv.first().map(|w| w.text.as_str()) {
            None => {
                declared = raw
                    .assignments
                    .iter()
                    .map(|a| (a.name.as_str(), &a.value))
                    .collect();
                &declared
            }
            Some("export" | "readonly" | "declare" | "local" | "typeset") => {
                declared = raw
                    .argv
                    .iter()
                    .skip(1)
                    .filter_map(|w| {
                        let (n, _) = w.text.split_once('=')?;
                        Some((n, w))
                    })
                    .collect();
                &declared
            }
            _ => return,
        };
        for &(name, word) in pairs {
            let value = if raw.argv.is_empty() {
                word.text.as_str()
            } else {
                word.text.split_once('=').map_or("", |(_, v)| v)
            };
            // Unquoted, a value with blanks or glob characters is split and expanded again: keep
            // such a variable unknown.
            let known = (!word.dynamic && !value.bytes().any(|b| b" \t\n*?[".contains(&b)))
                .then(|| value.to_owned());
            if self.vars.len() >= 256 {
                return;
            }
            match self.vars.iter_mut().find(|(n, _)| n == name) {
                Some((_, old)) => {
                    if *old != known {
                        *old = None;
                    }
                }
                None => self.vars.push((name.to_owned(), known)),
            }
        }
    }

    /// The known value of `$name` or `${name}`, when the line assigned it a constant.
    fn known_var(&self, text: &str) -> Option<&str> {
        let name = text
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .or_else(|| text.strip_prefix('$'))?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// The output of a substitution when it is one `echo`/`printf` of static words (`$(echo rm)`).
    fn static_output(&self, first: usize) -> Option<String> {
        let cmds = self.out.commands.get(first..)?;
        let [_] = cmds else { return None };
        self.literal_output(first)
    }

    /// The output of `commands[i]` when it is an `echo`/`printf` of static words.
    pub(crate) fn literal_output(&self, i: usize) -> Option<String> {
        let c = self.out.commands.get(i)?;
        // `echo cm0gLXJmIC8= | base64 -d`: decoding literal data is literal data.
        if c.static_name() == Some("base64")
            && c.args().any(|a| matches!(a, "-d" | "--decode" | "-D"))
            && c.args().all(|a| a.starts_with('-'))
            && let Source::Pipe(from) = c.stdin
            && from < i
        {
            let encoded = self.literal_output(from)?;
            return words::base64_decode(&encoded);
        }
        if !c.redirects.is_empty() || c.argv.iter().any(|w| w.dynamic) {
            return None;
        }
        let mut args: Vec<&str> = c.args().collect();
        match c.static_name()? {
            "echo" => {
                while args
                    .first()
                    .is_some_and(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                {
                    args.remove(0);
                }
                Some(words::ansi_c(&args.join(" ")).trim_end().to_owned())
            }
            "printf" if args.len() == 1 && !args[0].contains('%') => {
                Some(words::ansi_c(args[0]).trim_end().to_owned())
            }
            "printf" if args.first() == Some(&"%s") => Some(args[1..].concat()),
            // `printf '%s\n' 'rm -rf /'`: one argument per line.
            "printf" if matches!(args.first(), Some(&("%s\\n" | "%s\n"))) => {
                Some(args[1..].join("\n"))
            }
            _ => None,
        }
    }
}

enum Item<'a> {
    Name(&'a ast::Word),
    Part(&'a ast::CommandPrefixOrSuffixItem),
}

/// The words of a line that is one plain simple command, or `None`.
///
/// Plain means: only ASCII letters, digits, spaces, tabs and `_ . / , : @ % + - =`, a first word
/// that is neither an assignment nor a reserved word. Such a line has no quoting, expansion,
/// globbing, tilde, comment, operator, redirection or compound command, so every shell splits it
/// into exactly these literal words; the parser would produce the same simple command (a property
/// test holds the two paths to that), only slower.
fn plain_words(src: &str) -> Option<Vec<Word>> {
    const RESERVED: [&str; 17] = [
        "if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "case",
        "esac", "select", "function", "time", "coproc",
    ];
    let plain = |b: u8| b.is_ascii_alphanumeric() || b" \t_./,:@%+-=".contains(&b);
    if !src.bytes().all(plain) {
        return None;
    }
    let mut words = src.split([' ', '\t']).filter(|w| !w.is_empty()).peekable();
    let first = *words.peek()?;
    if first.contains('=') || RESERVED.contains(&first) {
        return None;
    }
    Some(words.map(Word::literal).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn both(line: &str) -> (R<Analysis>, R<Analysis>) {
        let limits = Limits::default();
        let fast = Walker::new(&limits).run(line);
        let mut slow = Walker::new(&limits);
        slow.fast = false;
        (fast, slow.run(line))
    }

    #[test]
    fn plain_lines_skip_the_parser_and_others_do_not() {
        assert!(plain_words("git status").is_some());
        assert!(plain_words("  sudo  rm -rf /\t").is_some());
        for line in [
            "",
            "   ",
            "X=1 rm",
            "time rm -rf /",
            "fi",
            "rm *",
            "rm ~",
            "ls # c",
            "a;b",
            "echo $x",
            "echo 'a'",
            "a | b",
            "a > f",
            "a\nb",
            "done",
        ] {
            assert!(plain_words(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_parser_on_wrappers() {
        for line in [
            "git status",
            "sudo -u root rm -rf /",
            "timeout 5 nice -n 10 rm -rf /tmp/x",
            "env A=1 B=2 make",
            "xargs rm -rf",
            "find / -name x -delete",
            "bash -c ls",
            "ssh host rm -rf /",
            "git -c core.pager=less log",
            "python3 -c print",
            "command -v rm",
            "export X=/",
        ] {
            let (fast, slow) = both(line);
            assert_eq!(fast, slow, "{line}");
        }
    }

    #[test]
    fn nested_plain_sources_agree_with_the_parser() {
        for line in [
            "eval export X=/; rm -rf $X",
            "echo / | bash -c 'xargs rm -rf'",
            "x=rm; bash -c 'sudo rm -rf /'",
            "echo hi | sh -c 'cat'",
        ] {
            let (fast, slow) = both(line);
            assert_eq!(fast, slow, "{line}");
        }
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_parser(
            words in proptest::collection::vec("[a-z0-9_./,:@%+=-]{1,8}", 1..8),
            gaps in proptest::collection::vec("[ \t]{1,3}", 8),
            wrapper in proptest::sample::select(vec![
                "", "sudo ", "env ", "timeout 3 ", "nice ", "nohup ", "xargs ", "exec ",
                "command ", "bash -c ", "stdbuf -o0 ", "watch ",
            ]),
        ) {
            let mut line = wrapper.to_owned();
            for (w, g) in words.iter().zip(&gaps) {
                line.push_str(w);
                line.push_str(g);
            }
            let (fast, slow) = both(&line);
            prop_assert_eq!(fast, slow, "{:?}", line);
        }
    }
}
