//! Compiles a checked tree into bytecode for the stack machine in `eval`.
//!
//! One flat instruction list holds several segments, each ending in `Return`: the
//! formula itself, then the argument of each peer call site (which the engine runs
//! once per peer). `if`, `and` and `or` become jumps, so only the branch taken runs.
//! Each segment records the deepest its value stack gets, so the evaluator can use a
//! fixed buffer instead of allocating.
//!
//! No constant folding: every operation runs at evaluation time exactly as written,
//! so the results are the IEEE ones of the parse order (spec §6).

use std::collections::HashMap;

use super::ast::{BinaryOp, Expr, ExprKind, Pos, UnaryOp};
use super::functions::Func;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerOp {
    Max,
    Min,
    Avg,
    Rank,
    RankAsc,
    Count,
}

impl PeerOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PeerOp::Max => "group_max",
            PeerOp::Min => "group_min",
            PeerOp::Avg => "group_avg",
            PeerOp::Rank => "group_rank",
            PeerOp::RankAsc => "group_rank_asc",
            PeerOp::Count => "group_count",
        }
    }
}

/// One instruction. Booleans live on the value stack as 1.0 and 0.0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Const(f64),
    /// Pushes `slots[i]`.
    Load(u32),
    Neg,
    Not,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Jump(u32),
    /// Pops the condition; jumps when it is false.
    JumpIfFalse(u32),
    /// `and`: when the top is false, jump and keep it as the result; else pop it.
    JumpIfFalseKeep(u32),
    /// `or`: when the top is true, jump and keep it as the result; else pop it.
    JumpIfTrueKeep(u32),
    Min(u32),
    Max(u32),
    Abs,
    Floor,
    Ceil,
    Round(u32),
    Clamp,
    SafeDiv,
    /// Pops x, the `.0` threshold/score pairs and the default.
    Tier(u32),
    /// Reads the engine's prepared values for peer site `.1`; `Rank` and `RankAsc`
    /// pop the calling unit's own value of the argument first.
    Peer(PeerOp, u32),
    Return,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub start: u32,
    pub max_depth: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub code: Vec<Op>,
    /// Where each instruction comes from in the text, for error messages.
    pub pos: Vec<Pos>,
    pub main: Segment,
    /// The argument of each peer site; `None` for `group_count()`.
    pub peer_args: Vec<Option<Segment>>,
}

struct Compiler<'a> {
    code: Vec<Op>,
    pos: Vec<Pos>,
    depth: u32,
    max_depth: u32,
    slots: HashMap<&'a str, u32>,
    /// Peer sites met so far in source order, with their argument.
    sites: Vec<Option<&'a Expr>>,
}

/// Compiles a tree that `check` accepted; `variables` gives the slot of each name.
pub(crate) fn compile(expr: &Expr, variables: &[String]) -> Program {
    let mut c = Compiler {
        code: Vec::new(),
        pos: Vec::new(),
        depth: 0,
        max_depth: 0,
        slots: variables.iter().enumerate().map(|(i, v)| (v.as_str(), i as u32)).collect(),
        sites: Vec::new(),
    };
    let main = c.segment(expr);
    let sites = std::mem::take(&mut c.sites);
    let peer_args = sites.into_iter().map(|arg| arg.map(|a| c.segment(a))).collect();
    Program { code: c.code, pos: c.pos, main, peer_args }
}

impl<'a> Compiler<'a> {
    fn segment(&mut self, e: &'a Expr) -> Segment {
        let start = self.code.len() as u32;
        self.depth = 0;
        self.max_depth = 0;
        self.expr(e);
        self.emit(Op::Return, e.pos, -1);
        Segment { start, max_depth: self.max_depth }
    }

    /// Appends `op`, which changes the stack depth by `effect`.
    fn emit(&mut self, op: Op, pos: Pos, effect: i64) -> usize {
        self.code.push(op);
        self.pos.push(pos);
        self.depth = (i64::from(self.depth) + effect).max(0) as u32;
        self.max_depth = self.max_depth.max(self.depth);
        self.code.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    fn patch(&mut self, at: usize, target: u32) {
        if let Some(op) = self.code.get_mut(at) {
            *op = match *op {
                Op::Jump(_) => Op::Jump(target),
                Op::JumpIfFalse(_) => Op::JumpIfFalse(target),
                Op::JumpIfFalseKeep(_) => Op::JumpIfFalseKeep(target),
                Op::JumpIfTrueKeep(_) => Op::JumpIfTrueKeep(target),
                other => other,
            };
        }
    }

    fn expr(&mut self, e: &'a Expr) {
        match &e.kind {
            ExprKind::Number(x) => {
                self.emit(Op::Const(*x), e.pos, 1);
            }
            ExprKind::Var(name) => {
                // The checker admitted only known names, and all of them have a slot.
                let slot = self.slots.get(name.as_str()).copied().unwrap_or(u32::MAX);
                self.emit(Op::Load(slot), e.pos, 1);
            }
            ExprKind::Unary(op, x) => {
                self.expr(x);
                let op = if *op == UnaryOp::Neg { Op::Neg } else { Op::Not };
                self.emit(op, e.pos, 0);
            }
            ExprKind::Binary(BinaryOp::And, l, r) => self.logic(e, l, r, true),
            ExprKind::Binary(BinaryOp::Or, l, r) => self.logic(e, l, r, false),
            ExprKind::Binary(op, l, r) => {
                self.expr(l);
                self.expr(r);
                let op = match op {
                    BinaryOp::Eq => Op::Eq,
                    BinaryOp::Ne => Op::Ne,
                    BinaryOp::Lt => Op::Lt,
                    BinaryOp::Le => Op::Le,
                    BinaryOp::Gt => Op::Gt,
                    BinaryOp::Ge => Op::Ge,
                    BinaryOp::Add => Op::Add,
                    BinaryOp::Sub => Op::Sub,
                    BinaryOp::Mul => Op::Mul,
                    BinaryOp::Div => Op::Div,
                    // And/Or are handled above.
                    BinaryOp::Pow | BinaryOp::And | BinaryOp::Or => Op::Pow,
                };
                self.emit(op, e.pos, -1);
            }
            ExprKind::Call(name, args) => self.call(e, name, args),
        }
    }

    fn logic(&mut self, e: &'a Expr, l: &'a Expr, r: &'a Expr, is_and: bool) {
        self.expr(l);
        let jump = if is_and { Op::JumpIfFalseKeep(0) } else { Op::JumpIfTrueKeep(0) };
        // Falling through pops the left value; jumping keeps it as the result.
        let at = self.emit(jump, e.pos, -1);
        self.expr(r);
        let end = self.here();
        self.patch(at, end);
    }

    fn args(&mut self, args: &'a [Expr]) {
        for a in args {
            self.expr(a);
        }
    }

    fn call(&mut self, e: &'a Expr, name: &str, args: &'a [Expr]) {
        let Some(func) = Func::from_name(name) else {
            return;
        };
        let n = args.len() as u32;
        let pos = e.pos;
        match func {
            Func::If => {
                let [c, a, b] = args else { return };
                self.expr(c);
                let to_else = self.emit(Op::JumpIfFalse(0), pos, -1);
                let before = self.depth;
                self.expr(a);
                let to_end = self.emit(Op::Jump(0), pos, 0);
                let else_start = self.here();
                self.patch(to_else, else_start);
                // Each branch pushes one value onto the same stack.
                self.depth = before;
                self.expr(b);
                let end = self.here();
                self.patch(to_end, end);
            }
            Func::Round => {
                let [x, digits] = args else { return };
                self.expr(x);
                let n = match digits.kind {
                    ExprKind::Number(v) => v as u32,
                    _ => 0,
                };
                self.emit(Op::Round(n), pos, 0);
            }
            Func::Min | Func::Max => {
                self.args(args);
                let op = if func == Func::Min { Op::Min(n) } else { Op::Max(n) };
                self.emit(op, pos, 1 - i64::from(n));
            }
            Func::Abs | Func::Floor | Func::Ceil => {
                self.args(args);
                let op = match func {
                    Func::Abs => Op::Abs,
                    Func::Floor => Op::Floor,
                    _ => Op::Ceil,
                };
                self.emit(op, pos, 0);
            }
            Func::Clamp => {
                self.args(args);
                self.emit(Op::Clamp, pos, -2);
            }
            Func::SafeDiv => {
                self.args(args);
                self.emit(Op::SafeDiv, pos, -2);
            }
            Func::Tier => {
                self.args(args);
                self.emit(Op::Tier((n - 2) / 2), pos, 1 - i64::from(n));
            }
            Func::GroupMax | Func::GroupMin | Func::GroupAvg => {
                let site = self.sites.len() as u32;
                self.sites.push(args.first());
                let op = match func {
                    Func::GroupMax => PeerOp::Max,
                    Func::GroupMin => PeerOp::Min,
                    _ => PeerOp::Avg,
                };
                self.emit(Op::Peer(op, site), pos, 1);
            }
            Func::GroupRank | Func::GroupRankAsc => {
                let site = self.sites.len() as u32;
                self.sites.push(args.first());
                // The calling unit's own value is ranked among the peers' values.
                self.args(args);
                let op = if func == Func::GroupRank { PeerOp::Rank } else { PeerOp::RankAsc };
                self.emit(Op::Peer(op, site), pos, 0);
            }
            Func::GroupCount => {
                let site = self.sites.len() as u32;
                self.sites.push(None);
                self.emit(Op::Peer(PeerOp::Count, site), pos, 1);
            }
        }
    }
}
