//! Canonical text of a formula: `Display` for [`Expr`].
//!
//! Spaces around binary operators, `and`/`or`/`not` spelt as words, ASCII
//! punctuation, and only the parentheses the grammar needs, so that parsing the
//! printed text gives back the same tree. Numbers print as the shortest text that
//! converts back to the same double.

use std::fmt::{self, Write};

use super::ast::{BinaryOp, Expr, ExprKind, UnaryOp};

// Binding strength, loosest first; an operand printed where a tighter form is
// required gets parentheses.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const COMPARE: u8 = 4;
const SUM: u8 = 5;
const PRODUCT: u8 = 6;
const UNARY: u8 = 7;
const POWER: u8 = 8;
const ATOM: u8 = 9;

fn strength(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Number(_) | ExprKind::Var(_) | ExprKind::Call(..) => ATOM,
        ExprKind::Unary(UnaryOp::Neg, _) => UNARY,
        ExprKind::Unary(UnaryOp::Not, _) => NOT,
        ExprKind::Binary(op, ..) => match op {
            BinaryOp::Or => OR,
            BinaryOp::And => AND,
            BinaryOp::Add | BinaryOp::Sub => SUM,
            BinaryOp::Mul | BinaryOp::Div => PRODUCT,
            BinaryOp::Pow => POWER,
            _ => COMPARE,
        },
    }
}

/// Writes `x` as the shortest decimal that reads back as the same double, in a form
/// the lexer accepts: positional for everyday magnitudes, `1e-7` / `1.5e300`
/// otherwise (Rust's `{}` would spell out all 300 digits).
pub(crate) fn write_number(out: &mut impl Write, x: f64) -> fmt::Result {
    let a = x.abs();
    if a == 0.0 || (1e-5..1e16).contains(&a) || !a.is_finite() { write!(out, "{x}") } else { write!(out, "{x:e}") }
}

pub(crate) fn number_text(x: f64) -> String {
    let mut s = String::new();
    let _ = write_number(&mut s, x);
    s
}

fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    let parens = strength(e) < min;
    if parens {
        f.write_char('(')?;
    }
    match &e.kind {
        ExprKind::Number(x) => write_number(f, *x)?,
        ExprKind::Var(name) => f.write_str(name)?,
        ExprKind::Unary(UnaryOp::Neg, operand) => {
            f.write_char('-')?;
            // `- -x`, not `-(-x)`: parentheses would count as nesting, and the canonical
            // text must stay within the parser's limits whenever the source did.
            if matches!(operand.kind, ExprKind::Unary(UnaryOp::Neg, _)) {
                f.write_char(' ')?;
            }
            write_expr(f, operand, UNARY)?;
        }
        ExprKind::Unary(UnaryOp::Not, operand) => {
            f.write_str("not ")?;
            write_expr(f, operand, NOT)?;
        }
        ExprKind::Binary(op, left, right) => {
            let (l, r) = match op {
                BinaryOp::Or => (OR, AND),
                BinaryOp::And => (AND, NOT),
                // Comparisons do not chain, so neither side may be one.
                BinaryOp::Add | BinaryOp::Sub => (SUM, PRODUCT),
                BinaryOp::Mul | BinaryOp::Div => (PRODUCT, UNARY),
                BinaryOp::Pow => (ATOM, UNARY),
                _ => (SUM, SUM),
            };
            write_expr(f, left, l)?;
            write!(f, " {} ", op.symbol())?;
            write_expr(f, right, r)?;
        }
        ExprKind::Call(name, args) => {
            f.write_str(name)?;
            f.write_char('(')?;
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_expr(f, arg, OR)?;
            }
            f.write_char(')')?;
        }
    }
    if parens {
        f.write_char(')')?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, OR)
    }
}
