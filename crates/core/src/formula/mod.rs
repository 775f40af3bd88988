//! The formula language of spec §4: how an indicator's score is computed from a
//! unit's fields, params and the built-in variables.
//!
//! A formula is compiled once, when the scheme is loaded ([`Formula::compile`]:
//! lexer → parser → checker → bytecode), then evaluated for every unit and period
//! ([`Formula::eval`]) by a small stack machine that neither recurses nor allocates.
//!
//! Module map:
//! - `lexer`: characters to tokens (numbers, names, operators, full-width punctuation)
//! - `parser`, `ast`: tokens to a tree, with precedence and nesting limits
//! - `print`: the tree back to canonical text
//! - `check`: names, argument counts, types, `round`/`tier`/peer rules
//! - `compile`, `eval`: bytecode and the machine that runs it; [`PeerSet`]
//!
//! Peer functions (`group_max` and friends) need the values of their argument for
//! every unit of the group. The engine gets them in two steps: it runs
//! [`Formula::eval_peer_arg`] for site `k` on each complete peer, wraps the results
//! in a [`PeerSet`], and passes one per site to [`Formula::eval`].
//!
//! # Choices where spec §4 is silent
//!
//! - Numbers are `digits[.digits][(e|E)[+|-]digits]`: no `.5`, no `5.`, no unary plus.
//!   A number running straight into a letter (`2x`) is an error, not `2 * x`.
//! - Identifiers start with `_` or a Unicode letter (`char::is_alphabetic`) and go on
//!   with letters, digits (`char::is_alphanumeric`) and `_`. Keywords are lowercase
//!   only. Any Unicode whitespace separates tokens, including the ideographic space
//!   U+3000. Full-width characters other than `（），` are rejected with a hint naming
//!   the ASCII one; `=`, `&`, `|` alone are rejected with a hint; `true`/`false` are
//!   unknown variables with a hint that there are no boolean literals.
//! - `round(x, n)`: `n` must be a literal whose value is a whole number from 0 to 10;
//!   `2.0` counts as `2` (and prints as `2`).
//! - `tier`: a threshold "written as a literal" is a number or unary minus applied to a
//!   number (`-5`, `-(5)`); other thresholds are skipped when checking the order. `-0`
//!   equals `0`, so it is not strictly below it.
//! - `clamp(x, lo, hi)` with `lo > hi` gives `lo`, as its definition
//!   `max(lo, min(x, hi))` does; it is not an error. `min`/`max` keep the first of equal
//!   values (visible only for `0` and `-0`).
//! - `safe_div(a, b, d)` and `/` treat `-0` as zero. `0 ^ -1` is reported as a
//!   non-finite result (overflow), not as a division by zero.
//! - Slot values that are not finite are refused when read, with the variable's name.
//! - Peer functions: an error in `peers[k]` is returned unchanged (the engine knows
//!   which peer failed and can say so); `group_max`/`group_min`/`group_avg` over an
//!   empty set are errors, `group_rank*` over one gives 1 and `group_count()` 0. Ranks
//!   compare with IEEE equality, so `-0` and `0` tie.
//! - Limits: 200 levels of parentheses, call arguments and prefix operators; a tree
//!   1000 levels deep (so a chain of more than 1000 terms like `a + b + …` is rejected:
//!   "formula nested too deeply"); at most 50 compile errors, the first by position.
//! - "Did you mean": the closest name by edit distance (with transpositions, ignoring
//!   case) when at most a third of the name's length, and at least one edit, away.
//! - Errors point at the token that defines the offending node: the operator of a
//!   binary operation, the name of a call or variable, the first digit of a number.
//! - Canonical text: one space around binary operators, `and`/`or`/`not` as words,
//!   `, ` between arguments, only the parentheses the grammar needs, `- -x` for a
//!   double minus, numbers as the shortest text that reads back as the same double
//!   (`1000` for `1e3`, `1e-7` and `1.5e300` beyond the everyday range).

mod ast;
mod check;
mod compile;
mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod print;
mod suggest;
mod trial;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

pub use ast::{BinaryOp, Expr, ExprKind, Pos, UnaryOp};
pub use error::{CompileError, EvalError};
pub use eval::PeerSet;
pub use trial::{BUILTINS, Trial, trial};

use compile::Program;
use eval::Machine;

/// At most this many compile errors are reported, the first ones by position.
const MAX_ERRORS: usize = 50;

/// Parses `source` (syntax only: names, types and arguments are not checked).
pub fn parse(source: &str) -> Result<Expr, Vec<CompileError>> {
    match parser::parse_with_errors(source) {
        (Some(expr), errors) if errors.is_empty() => Ok(expr),
        (_, errors) => Err(finish_errors(errors)),
    }
}

fn finish_errors(mut errors: Vec<CompileError>) -> Vec<CompileError> {
    errors.sort_by_key(|e| (e.line, e.column));
    errors.truncate(MAX_ERRORS);
    errors
}

/// A compiled formula: immutable, `Send + Sync`, and cheap to clone (shared).
#[derive(Clone)]
pub struct Formula {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    canonical: String,
    variables: Vec<String>,
    program: Program,
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Formula")
            .field("source", &self.inner.source)
            .field("variables", &self.inner.variables)
            .field("peer_sites", &self.peer_sites())
            .finish()
    }
}

impl Formula {
    /// Parses, checks and compiles `source`. `variables` are the names the formula
    /// may use (field keys, param keys and the built-ins the engine allows: `points`,
    /// `progress`, `month`, and for record indicators `record_points`,
    /// `record_count`); any other name is an unknown variable. Errors come sorted by
    /// position.
    pub fn compile(source: &str, variables: &[&str]) -> Result<Formula, Vec<CompileError>> {
        let (tree, mut errors) = parser::parse_with_errors(source);
        let Some(tree) = tree else {
            return Err(finish_errors(errors));
        };
        let checked = match check::check(&tree, variables) {
            Ok(checked) if errors.is_empty() => checked,
            Ok(_) => return Err(finish_errors(errors)),
            Err(more) => {
                errors.extend(more);
                return Err(finish_errors(errors));
            }
        };
        let program = compile::compile(&tree, &checked.variables);
        debug_assert_eq!(program.peer_args.len(), checked.peer_sites);
        Ok(Formula {
            inner: Arc::new(Inner { source: source.to_string(), canonical: tree.to_string(), variables: checked.variables, program }),
        })
    }

    /// The text the formula was compiled from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The canonical text: one space around binary operators, `and`/`or`/`not` as
    /// words, ASCII punctuation, only the parentheses needed.
    pub fn canonical(&self) -> String {
        self.inner.canonical.clone()
    }

    /// The distinct variables the formula's text mentions anywhere (an `if` branch
    /// never taken, a peer function's argument), in order of first appearance. Slot
    /// `i` of the `slots` given to [`eval`](Self::eval) is the value of `variables()[i]`.
    pub fn variables(&self) -> &[String] {
        &self.inner.variables
    }

    /// The number of peer-function call sites, numbered from 0 in source order.
    pub fn peer_sites(&self) -> usize {
        self.inner.program.peer_args.len()
    }

    pub fn uses_peers(&self) -> bool {
        self.peer_sites() > 0
    }

    fn machine(&self) -> Machine<'_> {
        Machine { program: &self.inner.program, variables: &self.inner.variables }
    }

    /// Evaluates the argument of peer site `k` with one unit's slots; `group_count()`
    /// has no argument and gives 0.
    pub fn eval_peer_arg(&self, k: usize, slots: &[f64]) -> Result<f64, EvalError> {
        match self.inner.program.peer_args.get(k) {
            Some(Some(seg)) => self.machine().run(*seg, slots, &[]),
            Some(None) => Ok(0.0),
            None => Err(EvalError::new(format!("the formula has no peer function number {k} (it has {})", self.peer_sites()))),
        }
    }

    /// Evaluates the formula for one unit. `peers[k]` is what the engine prepared for
    /// peer site `k`: the site's argument over every complete peer of the group (this
    /// unit included) in the scheme's unit order, or the first error one of them
    /// gave. It is read only when site `k` is actually evaluated (`if`, `and` and
    /// `or` are lazy), and an error there is returned unchanged. `group_rank` and
    /// `group_rank_asc` rank this unit's own value of the argument, computed from
    /// `slots`. `peers` may be empty when the formula has no peer sites.
    pub fn eval(&self, slots: &[f64], peers: &[Result<PeerSet, EvalError>]) -> Result<f64, EvalError> {
        self.machine().run(self.inner.program.main, slots, peers)
    }
}
