//! Recursive-descent parser: tokens to [`Expr`], with the precedence and
//! associativity of spec §4.
//!
//! Grammar, loosest first:
//!
//! ```text
//! or      = and { ("or" | "||") and }
//! and     = not { ("and" | "&&") not }
//! not     = ("not" | "!") not | compare
//! compare = sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum ]      -- no chains
//! sum     = product { ("+" | "-") product }
//! product = unary { ("*" | "/") unary }
//! unary   = "-" unary | power
//! power   = primary [ "^" unary ]                                   -- right-assoc
//! primary = number | name | name "(" [ or { "," or } ] ")" | "(" or ")"
//! ```
//!
//! Two limits keep every later pass (checker, compiler, printer, even `Drop`) safe
//! from stack overflow on hostile input, and both fail fast, so 1 MB of input costs
//! linear time: the parser's own recursion (parentheses, calls, prefix operators) is
//! bounded by [`MAX_NESTING`], and the depth of the tree, which long left-associative
//! chains like `a + b + c + …` grow without recursion here, by [`MAX_TREE_DEPTH`].
//!
//! The first syntax error ends parsing; a literal too large for a double does not,
//! so the rest of the formula is still checked.

use super::ast::{BinaryOp, Expr, ExprKind, Pos, UnaryOp};
use super::error::CompileError;
use super::lexer::{Tok, Token, shorten, tokenize};

/// Parentheses, call arguments and prefix operators inside each other.
pub(crate) const MAX_NESTING: u32 = 200;
/// Levels of the syntax tree, counting each operator of a chain.
pub(crate) const MAX_TREE_DEPTH: u32 = 1000;

/// A node with the depth of the tree below it (a leaf is 1).
struct Node {
    expr: Expr,
    depth: u32,
}

/// A syntax error has been pushed; stop.
struct Fatal;

type PResult = Result<Node, Fatal>;

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    nesting: u32,
    errors: Vec<CompileError>,
}

/// Parses `src`. Returns the tree when the syntax is complete (even if a non-fatal
/// error such as an infinite literal was found), and every error found.
pub(crate) fn parse_with_errors(src: &str) -> (Option<Expr>, Vec<CompileError>) {
    let tokens = match tokenize(src) {
        Ok(tokens) => tokens,
        Err(e) => return (None, vec![e]),
    };
    let mut p = Parser { tokens, next: 0, nesting: 0, errors: Vec::new() };
    let tree = match p.parse_expr() {
        Ok(node) => {
            let t = p.peek();
            if t.tok == Tok::Eof {
                Some(node.expr)
            } else {
                let message = match t.tok {
                    Tok::RParen => "unmatched `)`".to_string(),
                    Tok::Comma => "`,` outside a function call".to_string(),
                    other => format!("expected an operator or the end of the formula, found {}", other.describe()),
                };
                p.errors.push(CompileError::new(t.pos, message));
                None
            }
        }
        Err(Fatal) => None,
    };
    (tree, p.errors)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        // The token list always ends with Eof, and `advance` never moves past it.
        self.tokens.get(self.next).or_else(|| self.tokens.last()).copied().unwrap_or(Token { tok: Tok::Eof, pos: Pos::new(1, 1) })
    }

    fn advance(&mut self) -> Token<'a> {
        let t = self.peek();
        if t.tok != Tok::Eof {
            self.next += 1;
        }
        t
    }

    fn fail(&mut self, pos: Pos, message: impl Into<String>) -> Fatal {
        self.errors.push(CompileError::new(pos, message));
        Fatal
    }

    fn enter(&mut self, pos: Pos) -> Result<(), Fatal> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.fail(pos, format!("formula nested too deeply (more than {MAX_NESTING} levels)")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    fn node(&mut self, kind: ExprKind, pos: Pos, child_depth: u32) -> PResult {
        let depth = child_depth + 1;
        if depth > MAX_TREE_DEPTH {
            return Err(self.fail(pos, format!("formula nested too deeply (more than {MAX_TREE_DEPTH} levels)")));
        }
        Ok(Node { expr: Expr::new(kind, pos), depth })
    }

    fn binary(&mut self, op: BinaryOp, pos: Pos, left: Node, right: Node) -> PResult {
        let depth = left.depth.max(right.depth);
        self.node(ExprKind::Binary(op, Box::new(left.expr), Box::new(right.expr)), pos, depth)
    }

    fn unary(&mut self, op: UnaryOp, pos: Pos, operand: Node) -> PResult {
        let depth = operand.depth;
        self.node(ExprKind::Unary(op, Box::new(operand.expr)), pos, depth)
    }

    fn parse_expr(&mut self) -> PResult {
        self.enter(self.peek().pos)?;
        let result = self.parse_or();
        self.leave();
        result
    }

    fn parse_or(&mut self) -> PResult {
        let mut left = self.parse_and()?;
        while self.peek().tok == Tok::Or {
            let op = self.advance();
            let right = self.parse_and()?;
            left = self.binary(BinaryOp::Or, op.pos, left, right)?;
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> PResult {
        let mut left = self.parse_not()?;
        while self.peek().tok == Tok::And {
            let op = self.advance();
            let right = self.parse_not()?;
            left = self.binary(BinaryOp::And, op.pos, left, right)?;
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> PResult {
        if self.peek().tok == Tok::Not {
            let op = self.advance();
            self.enter(op.pos)?;
            let operand = self.parse_not();
            self.leave();
            return self.unary(UnaryOp::Not, op.pos, operand?);
        }
        self.parse_compare()
    }

    fn parse_compare(&mut self) -> PResult {
        let left = self.parse_sum()?;
        let Some(op) = comparison(self.peek().tok) else {
            return Ok(left);
        };
        let op_pos = self.advance().pos;
        let right = self.parse_sum()?;
        let next = self.peek();
        if comparison(next.tok).is_some() {
            return Err(self.fail(next.pos, "comparisons cannot be chained; write `a < b and b < c` instead of `a < b < c`"));
        }
        self.binary(op, op_pos, left, right)
    }

    fn parse_sum(&mut self) -> PResult {
        let mut left = self.parse_product()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => return Ok(left),
            };
            let pos = self.advance().pos;
            let right = self.parse_product()?;
            left = self.binary(op, pos, left, right)?;
        }
    }

    fn parse_product(&mut self) -> PResult {
        let mut left = self.parse_unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinaryOp::Mul,
                Tok::Slash => BinaryOp::Div,
                _ => return Ok(left),
            };
            let pos = self.advance().pos;
            let right = self.parse_unary()?;
            left = self.binary(op, pos, left, right)?;
        }
    }

    fn parse_unary(&mut self) -> PResult {
        if self.peek().tok == Tok::Minus {
            let op = self.advance();
            self.enter(op.pos)?;
            let operand = self.parse_unary();
            self.leave();
            return self.unary(UnaryOp::Neg, op.pos, operand?);
        }
        self.parse_power()
    }

    fn parse_power(&mut self) -> PResult {
        let base = self.parse_primary()?;
        if self.peek().tok != Tok::Caret {
            return Ok(base);
        }
        let op = self.advance();
        self.enter(op.pos)?;
        let exponent = self.parse_unary();
        self.leave();
        self.binary(BinaryOp::Pow, op.pos, base, exponent?)
    }

    fn parse_primary(&mut self) -> PResult {
        let t = self.advance();
        match t.tok {
            Tok::Number(value, text) => {
                if !value.is_finite() {
                    // Not fatal: the tree stays well-formed, so the checker can still
                    // report the formula's other problems.
                    self.errors.push(CompileError::new(t.pos, format!("the number `{}` is too large for a double", shorten(text))));
                }
                self.node(ExprKind::Number(value), t.pos, 0)
            }
            Tok::Ident(name) => {
                if self.peek().tok == Tok::LParen {
                    self.parse_call(name, t.pos)
                } else {
                    self.node(ExprKind::Var(name.to_string()), t.pos, 0)
                }
            }
            Tok::LParen => {
                let inner = self.parse_expr()?;
                self.expect_close(t.pos)?;
                Ok(inner)
            }
            other => {
                let message = match other {
                    Tok::Eof if self.tokens.len() == 1 => "the formula is empty".to_string(),
                    Tok::Eof => "the formula ends where an operand was expected".to_string(),
                    Tok::Plus => "expected an operand, found `+` (there is no unary plus)".to_string(),
                    _ => format!("expected an operand (a number, a name or `(`), found {}", other.describe()),
                };
                Err(self.fail(t.pos, message))
            }
        }
    }

    fn parse_call(&mut self, name: &str, pos: Pos) -> PResult {
        let open = self.advance();
        let mut args = Vec::new();
        let mut depth = 0;
        if self.peek().tok == Tok::RParen {
            self.advance();
        } else {
            loop {
                let arg = self.parse_expr()?;
                depth = depth.max(arg.depth);
                args.push(arg.expr);
                let t = self.advance();
                match t.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    other => {
                        return Err(self.fail(
                            t.pos,
                            format!(
                                "expected `,` or `)` in the call of `{name}` opened at line {}, \
                                 column {}, found {}",
                                open.pos.line,
                                open.pos.column,
                                other.describe()
                            ),
                        ));
                    }
                }
            }
        }
        self.node(ExprKind::Call(name.to_string(), args), pos, depth)
    }

    fn expect_close(&mut self, open: Pos) -> Result<(), Fatal> {
        let t = self.advance();
        if t.tok == Tok::RParen {
            return Ok(());
        }
        Err(self.fail(
            t.pos,
            format!("expected `)` to close the `(` at line {}, column {}, found {}", open.line, open.column, t.tok.describe()),
        ))
    }
}

fn comparison(tok: Tok<'_>) -> Option<BinaryOp> {
    Some(match tok {
        Tok::EqEq => BinaryOp::Eq,
        Tok::NotEq => BinaryOp::Ne,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        _ => return None,
    })
}
