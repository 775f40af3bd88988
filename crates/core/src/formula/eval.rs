//! The stack machine that runs compiled formulas, and [`PeerSet`], the values of a
//! peer function's argument over a group.
//!
//! One loop over the instructions, no recursion: nesting in the formula becomes
//! stack depth, which the compiler measured. The value stack is a fixed array on
//! the Rust stack unless a formula is unusually deep, so evaluating allocates only
//! when it fails (for the message). Every arithmetic result and function result is
//! checked for being finite where it is made, so the error names the operation.

use super::ast::Pos;
use super::compile::{Op, PeerOp, Program, Segment};
use super::error::EvalError;
use super::print::number_text;
use crate::round::round_half_away;

/// Stacks up to this deep live in an array; deeper ones (rare) on the heap.
const INLINE_STACK: usize = 32;

/// The values of a peer function's argument for every complete unit of the group,
/// in the scheme's unit order, with what the peer functions need computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerSet {
    /// Ascending, with −0 stored as +0 so that equal values (in IEEE terms) sit together.
    sorted: Vec<f64>,
    max: f64,
    min: f64,
    avg: f64,
    all_finite: bool,
}

impl PeerSet {
    /// `values` in the scheme's unit order. The average is their sum taken left to right
    /// in that order, divided by the count (spec §4, §6). With no values, max, min and
    /// avg are NaN (the evaluator reports that rather than using it).
    pub fn new(values: Vec<f64>) -> PeerSet {
        let n = values.len();
        let mut max = f64::NAN;
        let mut min = f64::NAN;
        let mut sum = 0.0;
        for (i, &v) in values.iter().enumerate() {
            if i == 0 || v > max {
                max = v;
            }
            if i == 0 || v < min {
                min = v;
            }
            sum += v;
        }
        let avg = if n == 0 { f64::NAN } else { sum / n as f64 };
        let all_finite = values.iter().all(|v| v.is_finite());
        let mut sorted = values;
        for v in &mut sorted {
            // −0 + 0 is +0: ties are IEEE equality, and total_cmp would split −0 from 0.
            *v += 0.0;
        }
        sorted.sort_by(f64::total_cmp);
        PeerSet { sorted, max, min, avg, all_finite }
    }

    pub fn max(&self) -> f64 {
        self.max
    }

    pub fn min(&self) -> f64 {
        self.min
    }

    pub fn avg(&self) -> f64 {
        self.avg
    }

    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// 1 + the number of values greater than `v`: 1 is the largest, and equal values
    /// share the smaller rank (1, 2, 2, 4).
    pub fn rank_desc(&self, v: f64) -> usize {
        let v = v + 0.0;
        let not_greater = self.sorted.partition_point(|&x| x <= v);
        1 + (self.sorted.len() - not_greater)
    }

    /// 1 + the number of values less than `v`: 1 is the smallest.
    pub fn rank_asc(&self, v: f64) -> usize {
        let v = v + 0.0;
        1 + self.sorted.partition_point(|&x| x < v)
    }

    fn all_finite(&self) -> bool {
        self.all_finite
    }
}

fn internal() -> EvalError {
    EvalError::new("internal error in the formula evaluator (please report this formula)")
}

/// A fixed-size value stack; every access is checked, so a compiler bug would give an
/// error, not a panic.
struct Stack<'s> {
    buf: &'s mut [f64],
    sp: usize,
}

impl Stack<'_> {
    #[inline]
    fn push(&mut self, v: f64) -> Result<(), EvalError> {
        let slot = self.buf.get_mut(self.sp).ok_or_else(internal)?;
        *slot = v;
        self.sp += 1;
        Ok(())
    }

    #[inline]
    fn pop(&mut self) -> Result<f64, EvalError> {
        self.sp = self.sp.checked_sub(1).ok_or_else(internal)?;
        self.buf.get(self.sp).copied().ok_or_else(internal)
    }

    #[inline]
    fn top(&self) -> Result<f64, EvalError> {
        let i = self.sp.checked_sub(1).ok_or_else(internal)?;
        self.buf.get(i).copied().ok_or_else(internal)
    }

    /// Removes the top `n` values and hands them over in push order.
    #[inline]
    fn take(&mut self, n: usize) -> Result<&[f64], EvalError> {
        let start = self.sp.checked_sub(n).ok_or_else(internal)?;
        self.sp = start;
        self.buf.get(start..start + n).ok_or_else(internal)
    }
}

/// An operand as it reads in a message: negative numbers in parentheses.
fn operand(x: f64) -> String {
    if x.is_sign_negative() && x != 0.0 { format!("({})", number_text(x)) } else { number_text(x) }
}

fn not_finite(pos: Pos, what: String, result: f64) -> EvalError {
    let why = if result.is_nan() { "undefined" } else { "overflow" };
    EvalError::at(pos, format!("{what} is not a finite number ({why})"))
}

fn checked(pos: Pos, result: f64, what: impl FnOnce() -> String) -> Result<f64, EvalError> {
    if result.is_finite() { Ok(result) } else { Err(not_finite(pos, what(), result)) }
}

/// The first smallest / largest, left to right; all inputs are finite.
fn min2(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

fn max2(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

fn bool_value(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

pub(crate) struct Machine<'p> {
    pub program: &'p Program,
    pub variables: &'p [String],
}

impl Machine<'_> {
    pub(crate) fn run(&self, seg: Segment, slots: &[f64], peers: &[Result<PeerSet, EvalError>]) -> Result<f64, EvalError> {
        let depth = seg.max_depth as usize;
        if depth <= INLINE_STACK {
            let mut buf = [0.0; INLINE_STACK];
            self.exec(seg.start as usize, &mut Stack { buf: &mut buf, sp: 0 }, slots, peers)
        } else {
            let mut buf = vec![0.0; depth];
            self.exec(seg.start as usize, &mut Stack { buf: &mut buf, sp: 0 }, slots, peers)
        }
    }

    fn variable_name(&self, slot: u32) -> &str {
        self.variables.get(slot as usize).map_or("?", String::as_str)
    }

    fn pos(&self, pc: usize) -> Pos {
        self.program.pos.get(pc).copied().unwrap_or_default()
    }

    fn exec(&self, mut pc: usize, s: &mut Stack<'_>, slots: &[f64], peers: &[Result<PeerSet, EvalError>]) -> Result<f64, EvalError> {
        let code = &self.program.code;
        loop {
            let op = *code.get(pc).ok_or_else(internal)?;
            let at = pc;
            pc += 1;
            match op {
                Op::Const(x) => s.push(x)?,
                Op::Load(i) => match slots.get(i as usize) {
                    Some(&v) if v.is_finite() => s.push(v)?,
                    Some(_) => {
                        let name = self.variable_name(i);
                        return Err(EvalError::at(self.pos(at), format!("the value of `{name}` is not a finite number")));
                    }
                    None => {
                        let name = self.variable_name(i);
                        return Err(EvalError::new(format!("no value given for variable `{name}`")));
                    }
                },
                Op::Neg => {
                    let x = s.pop()?;
                    s.push(-x)?;
                }
                Op::Not => {
                    let x = s.pop()?;
                    s.push(bool_value(x == 0.0))?;
                }
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => {
                    let b = s.pop()?;
                    let a = s.pop()?;
                    let (r, sym) = match op {
                        Op::Add => (a + b, "+"),
                        Op::Sub => (a - b, "-"),
                        Op::Mul => (a * b, "*"),
                        Op::Div => {
                            if b == 0.0 {
                                return Err(EvalError::at(self.pos(at), "division by zero"));
                            }
                            (a / b, "/")
                        }
                        _ => (a.powf(b), "^"),
                    };
                    let r = checked(self.pos(at), r, || format!("{} {sym} {}", operand(a), operand(b)))?;
                    s.push(r)?;
                }
                Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    let b = s.pop()?;
                    let a = s.pop()?;
                    let r = match op {
                        Op::Eq => a == b,
                        Op::Ne => a != b,
                        Op::Lt => a < b,
                        Op::Le => a <= b,
                        Op::Gt => a > b,
                        _ => a >= b,
                    };
                    s.push(bool_value(r))?;
                }
                Op::Jump(t) => pc = t as usize,
                Op::JumpIfFalse(t) => {
                    if s.pop()? == 0.0 {
                        pc = t as usize;
                    }
                }
                Op::JumpIfFalseKeep(t) => {
                    if s.top()? == 0.0 {
                        pc = t as usize;
                    } else {
                        s.pop()?;
                    }
                }
                Op::JumpIfTrueKeep(t) => {
                    if s.top()? != 0.0 {
                        pc = t as usize;
                    } else {
                        s.pop()?;
                    }
                }
                Op::Min(n) | Op::Max(n) => {
                    let vals = s.take(n as usize)?;
                    let (&first, rest) = vals.split_first().ok_or_else(internal)?;
                    let r = if matches!(op, Op::Min(_)) {
                        rest.iter().fold(first, |m, &v| min2(m, v))
                    } else {
                        rest.iter().fold(first, |m, &v| max2(m, v))
                    };
                    s.push(r)?;
                }
                Op::Abs => {
                    let x = s.pop()?;
                    s.push(x.abs())?;
                }
                Op::Floor => {
                    let x = s.pop()?;
                    s.push(x.floor())?;
                }
                Op::Ceil => {
                    let x = s.pop()?;
                    s.push(x.ceil())?;
                }
                Op::Round(n) => {
                    let x = s.pop()?;
                    s.push(round_half_away(x, n.min(10)))?;
                }
                Op::Clamp => {
                    let &[x, lo, hi] = s.take(3)? else {
                        return Err(internal());
                    };
                    s.push(max2(lo, min2(x, hi)))?;
                }
                Op::SafeDiv => {
                    let &[a, b, d] = s.take(3)? else {
                        return Err(internal());
                    };
                    let r =
                        if b == 0.0 { d } else { checked(self.pos(at), a / b, || format!("`safe_div`: {} / {}", operand(a), operand(b)))? };
                    s.push(r)?;
                }
                Op::Tier(pairs) => {
                    let vals = s.take(2 * pairs as usize + 2)?;
                    let (&x, rest) = vals.split_first().ok_or_else(internal)?;
                    let (&default, pairs) = rest.split_last().ok_or_else(internal)?;
                    let r = pairs.chunks_exact(2).find(|p| x >= p[0]).map_or(default, |p| p[1]);
                    s.push(r)?;
                }
                Op::Peer(kind, site) => {
                    let r = self.peer(kind, site, at, s, peers)?;
                    s.push(r)?;
                }
                Op::Return => {
                    let r = s.pop()?;
                    return checked(self.pos(at), r, || "the formula's result".to_string());
                }
            }
        }
    }

    fn peer(&self, kind: PeerOp, site: u32, at: usize, s: &mut Stack<'_>, peers: &[Result<PeerSet, EvalError>]) -> Result<f64, EvalError> {
        let name = kind.name();
        let pos = self.pos(at);
        let set = match peers.get(site as usize) {
            Some(Ok(set)) => set,
            Some(Err(e)) => return Err(e.clone()),
            None => {
                return Err(EvalError::at(pos, format!("no peer values were prepared for `{name}`")));
            }
        };
        if !set.all_finite() {
            return Err(EvalError::at(pos, format!("a value of `{name}` over the group is not a finite number")));
        }
        let needs_values = matches!(kind, PeerOp::Max | PeerOp::Min | PeerOp::Avg);
        if needs_values && set.count() == 0 {
            return Err(EvalError::at(pos, format!("`{name}` has no units to compare")));
        }
        let r = match kind {
            PeerOp::Max => set.max(),
            PeerOp::Min => set.min(),
            PeerOp::Avg => set.avg(),
            PeerOp::Rank => set.rank_desc(s.pop()?) as f64,
            PeerOp::RankAsc => set.rank_asc(s.pop()?) as f64,
            PeerOp::Count => set.count() as f64,
        };
        checked(pos, r, || format!("the result of `{name}`"))
    }
}
