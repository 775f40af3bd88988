//! Semantic checks on a parsed formula: names, argument counts, types and the
//! special rules of `round`, `tier` and the peer functions.
//!
//! It reports every problem it finds rather than the first, and avoids follow-on
//! noise: a node whose own error was reported has type [`Ty::Unknown`], which fits
//! anywhere. On success it gives what the compiler and the engine need: the
//! variables in order of first appearance, and the number of peer call sites.

use std::collections::HashSet;

use super::ast::{Expr, ExprKind, UnaryOp};
use super::error::CompileError;
use super::functions::{ALL, Func};
use super::lexer::shorten;
use super::print::number_text;
use super::suggest::closest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Num,
    Bool,
    Unknown,
}

pub(crate) struct Checked {
    pub variables: Vec<String>,
    pub peer_sites: usize,
}

struct Checker<'a> {
    allowed: &'a [&'a str],
    allowed_set: HashSet<&'a str>,
    seen: HashSet<String>,
    variables: Vec<String>,
    peer_sites: usize,
    errors: Vec<CompileError>,
}

/// Checks `expr` against the variables the formula may use.
pub(crate) fn check(expr: &Expr, allowed: &[&str]) -> Result<Checked, Vec<CompileError>> {
    let mut c = Checker {
        allowed,
        allowed_set: allowed.iter().copied().collect(),
        seen: HashSet::new(),
        variables: Vec::new(),
        peer_sites: 0,
        errors: Vec::new(),
    };
    let ty = c.expr(expr, None);
    c.expect(expr, ty, Ty::Num, || "the formula's result".into());
    if c.errors.is_empty() { Ok(Checked { variables: c.variables, peer_sites: c.peer_sites }) } else { Err(c.errors) }
}

fn is_literal(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Number(x) => Some(*x),
        ExprKind::Unary(UnaryOp::Neg, inner) => match inner.kind {
            ExprKind::Number(x) => Some(-x),
            _ => None,
        },
        _ => None,
    }
}

impl Checker<'_> {
    fn error(&mut self, e: &Expr, message: String) {
        self.errors.push(CompileError::new(e.pos, message));
    }

    /// Reports `e` (of type `got`) where a `want` is required; `what` names the place.
    fn expect(&mut self, e: &Expr, got: Ty, want: Ty, what: impl FnOnce() -> String) {
        // `what` is a closure so that the common case, no error, builds no text.
        if got == want || got == Ty::Unknown || want == Ty::Unknown {
            return;
        }
        let what = what();
        let message = match want {
            Ty::Num => format!(
                "{what} must be a number, but this is a condition (true/false); \
                 use `if(condition, a, b)` to turn it into a number"
            ),
            _ => format!("{what} must be a condition (true/false) such as `x > 0`, but this is a number"),
        };
        self.error(e, message);
    }

    /// Type of `e`. `peer` is the peer function whose argument `e` lies in, if any.
    fn expr(&mut self, e: &Expr, peer: Option<Func>) -> Ty {
        match &e.kind {
            ExprKind::Number(_) => Ty::Num,
            ExprKind::Var(name) => {
                self.variable(e, name);
                Ty::Num
            }
            ExprKind::Unary(UnaryOp::Neg, x) => {
                let t = self.expr(x, peer);
                self.expect(x, t, Ty::Num, || "the operand of unary `-`".into());
                Ty::Num
            }
            ExprKind::Unary(UnaryOp::Not, x) => {
                let t = self.expr(x, peer);
                self.expect(x, t, Ty::Bool, || "the operand of `not`".into());
                Ty::Bool
            }
            ExprKind::Binary(op, l, r) => {
                let lt = self.expr(l, peer);
                let rt = self.expr(r, peer);
                let (want, result) = if op.is_logic() {
                    (Ty::Bool, Ty::Bool)
                } else if op.is_comparison() {
                    (Ty::Num, Ty::Bool)
                } else {
                    (Ty::Num, Ty::Num)
                };
                let sym = op.symbol();
                self.expect(l, lt, want, || format!("the left operand of `{sym}`"));
                self.expect(r, rt, want, || format!("the right operand of `{sym}`"));
                result
            }
            ExprKind::Call(name, args) => self.call(e, name, args, peer),
        }
    }

    fn variable(&mut self, e: &Expr, name: &str) {
        if self.allowed_set.contains(name) {
            if !self.seen.contains(name) {
                self.seen.insert(name.to_string());
                self.variables.push(name.to_string());
            }
            return;
        }
        if Func::from_name(name).is_some() {
            self.error(e, format!("`{name}` is a function, not a variable: call it as `{name}(…)`"));
            return;
        }
        if name == "true" || name == "false" {
            self.error(
                e,
                format!(
                    "unknown variable `{name}`: there are no true/false literals; \
                     write a comparison such as `x > 0`"
                ),
            );
            return;
        }
        let suggestion = closest(name, self.allowed.iter().copied()).map(str::to_string);
        self.errors.push(CompileError::new(e.pos, format!("unknown variable `{}`", shorten(name))).with_suggestion(suggestion));
    }

    fn call(&mut self, e: &Expr, name: &str, args: &[Expr], peer: Option<Func>) -> Ty {
        let Some(func) = Func::from_name(name) else {
            let message = if self.allowed_set.contains(name) {
                format!("unknown function `{name}` (`{name}` is a variable, not a function)")
            } else {
                format!("unknown function `{}`", shorten(name))
            };
            let suggestion = closest(name, ALL.iter().map(|f| f.name())).map(str::to_string);
            self.errors.push(CompileError::new(e.pos, message).with_suggestion(suggestion));
            for arg in args {
                self.expr(arg, peer);
            }
            return Ty::Unknown;
        };
        if let Some(takes) = func.arity_problem(args.len()) {
            let n = args.len();
            let plural = if n == 1 { "" } else { "s" };
            self.error(e, format!("`{name}` takes {takes}, but was given {n} argument{plural}"));
        }
        let mut inner_peer = peer;
        if func.is_peer() {
            if let Some(outer) = peer {
                self.error(e, format!("peer functions cannot be nested: `{name}` is inside the argument of `{}`", outer.name()));
            } else {
                self.peer_sites += 1;
            }
            inner_peer = Some(func);
        }
        let types: Vec<Ty> = args.iter().map(|a| self.expr(a, inner_peer)).collect();
        let arg_what = |i: usize| format!("argument {} of `{name}`", i + 1);
        match func {
            Func::If => {
                if let (Some(c), Some(&ct)) = (args.first(), types.first()) {
                    self.expect(c, ct, Ty::Bool, || "the condition of `if`".into());
                }
                match (args.get(1).zip(types.get(1)), args.get(2).zip(types.get(2))) {
                    (Some((_, &a)), Some((b_expr, &b))) => {
                        if a != Ty::Unknown && b != Ty::Unknown && a != b {
                            let kind = |t| {
                                if t == Ty::Num { "a number" } else { "a condition" }
                            };
                            self.error(
                                b_expr,
                                format!(
                                    "the two branches of `if` must have the same type: \
                                     the first is {}, the second {}",
                                    kind(a),
                                    kind(b)
                                ),
                            );
                            Ty::Unknown
                        } else if a == Ty::Unknown {
                            b
                        } else {
                            a
                        }
                    }
                    _ => Ty::Unknown,
                }
            }
            Func::Round => {
                if let (Some(x), Some(&xt)) = (args.first(), types.first()) {
                    self.expect(x, xt, Ty::Num, || arg_what(0));
                }
                if let Some(n) = args.get(1) {
                    let ok = matches!(n.kind, ExprKind::Number(v)
                        if v.fract() == 0.0 && (0.0..=10.0).contains(&v));
                    if !ok {
                        self.error(
                            n,
                            "the number of decimals of `round` must be written as a whole \
                             number from 0 to 10, such as `round(x, 2)`"
                                .to_string(),
                        );
                    }
                }
                Ty::Num
            }
            _ => {
                for (i, (a, &t)) in args.iter().zip(&types).enumerate() {
                    self.expect(a, t, Ty::Num, || arg_what(i));
                }
                if func == Func::Tier && func.arity_problem(args.len()).is_none() {
                    self.tier_thresholds(args);
                }
                Ty::Num
            }
        }
    }

    /// Thresholds written as literals must be strictly descending among themselves;
    /// computed thresholds are left to the data.
    fn tier_thresholds(&mut self, args: &[Expr]) {
        let pairs = (args.len() - 2) / 2;
        let mut last: Option<f64> = None;
        for t in args.iter().skip(1).step_by(2).take(pairs) {
            let Some(v) = is_literal(t) else { continue };
            if let Some(prev) = last
                && v >= prev
            {
                self.error(
                    t,
                    format!(
                        "the thresholds of `tier` must be strictly descending, but {} \
                         follows {}",
                        number_text(v),
                        number_text(prev)
                    ),
                );
            }
            last = Some(v);
        }
    }
}
