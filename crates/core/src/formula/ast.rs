//! The syntax tree of a formula, as the parser builds it and the printer prints it.
//!
//! Parentheses leave no node: they only shape the tree. Every node remembers the
//! position of the token that defines it (an operator, a function or variable name,
//! the first character of a number), which is where compile and evaluation errors
//! about that node point.

/// A 1-based position in the formula's text; `column` counts Unicode characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const fn new(line: u32, column: u32) -> Pos {
        Pos { line, column }
    }
}

/// One node of the tree.
///
/// Equality is structural: two trees are equal when they have the same shape, names
/// and numbers, wherever their nodes stand in the text. That is what makes
/// "print, then parse again" comparable with the original.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal: finite and not negative (a minus sign is a [`UnaryOp::Neg`] node).
    Number(f64),
    Var(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A function call: the name as written, which may not be a known function
    /// (that is the checker's business, not the parser's).
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinaryOp {
    /// The canonical spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge)
    }

    pub fn is_logic(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }
}

impl Expr {
    pub fn new(kind: ExprKind, pos: Pos) -> Expr {
        Expr { kind, pos }
    }

    pub fn number(value: f64) -> Expr {
        Expr::new(ExprKind::Number(value), Pos::default())
    }

    pub fn var(name: impl Into<String>) -> Expr {
        Expr::new(ExprKind::Var(name.into()), Pos::default())
    }

    pub fn unary(op: UnaryOp, operand: Expr) -> Expr {
        Expr::new(ExprKind::Unary(op, Box::new(operand)), Pos::default())
    }

    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::new(ExprKind::Binary(op, Box::new(left), Box::new(right)), Pos::default())
    }

    pub fn call(name: impl Into<String>, args: Vec<Expr>) -> Expr {
        Expr::new(ExprKind::Call(name.into(), args), Pos::default())
    }
}
