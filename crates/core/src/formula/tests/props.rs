//! Property tests: printing then parsing is the identity; the bytecode agrees with a
//! direct tree-walking reading of the spec; nothing panics on any text.

use proptest::prelude::*;

use super::super::*;
use super::VARS;

const NAMES: &[&str] = &["a", "b", "x_1", "目标值", "_t", "actual", "andy", "note"];
const FUNCS: &[&str] = &["min", "max", "f", "group_max", "if", "tier", "函数"];

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..1000).prop_map(f64::from),
        (0u32..100_000).prop_map(|n| f64::from(n) / 100.0),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(f64::abs),
    ]
}

/// Any syntactically valid tree (types and names unchecked).
fn any_tree() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![number().prop_map(Expr::number), proptest::sample::select(NAMES).prop_map(Expr::var),];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            (prop_oneof![Just(UnaryOp::Neg), Just(UnaryOp::Not)], inner.clone()).prop_map(|(op, e)| Expr::unary(op, e)),
            (
                proptest::sample::select(vec![
                    BinaryOp::Or,
                    BinaryOp::And,
                    BinaryOp::Eq,
                    BinaryOp::Ne,
                    BinaryOp::Lt,
                    BinaryOp::Le,
                    BinaryOp::Gt,
                    BinaryOp::Ge,
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Div,
                    BinaryOp::Pow,
                ]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| Expr::binary(op, l, r)),
            (proptest::sample::select(FUNCS), proptest::collection::vec(inner, 0..4)).prop_map(|(name, args)| Expr::call(name, args)),
        ]
    })
}

// ------------------------------------------------------------ typed trees and a reference

fn lit(x: f64) -> Expr {
    Expr::number(x)
}

/// Numbers whose arithmetic can hit every edge: zero, negatives, huge, tiny.
fn num_leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => proptest::sample::select(vec![0.0, 1.0, 2.0, 0.5, 3.0, 10.0, 1e200, 1e-200, 0.1]).prop_map(lit),
        3 => proptest::sample::select(vec!["a", "b", "c"]).prop_map(Expr::var),
    ]
}

fn num_tree() -> BoxedStrategy<Expr> {
    num_leaf()
        .prop_recursive(5, 48, 4, |n| {
            let b = bool_of(n.clone());
            prop_oneof![
                n.clone().prop_map(|e| Expr::unary(UnaryOp::Neg, e)),
                (
                    proptest::sample::select(vec![BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow]),
                    n.clone(),
                    n.clone()
                )
                    .prop_map(|(op, l, r)| Expr::binary(op, l, r)),
                (proptest::sample::select(vec!["min", "max"]), proptest::collection::vec(n.clone(), 1..4))
                    .prop_map(|(f, args)| Expr::call(f, args)),
                (proptest::sample::select(vec!["abs", "floor", "ceil"]), n.clone()).prop_map(|(f, x)| Expr::call(f, vec![x])),
                (n.clone(), 0u32..=10).prop_map(|(x, d)| Expr::call("round", vec![x, lit(f64::from(d))])),
                (n.clone(), n.clone(), n.clone()).prop_map(|(x, l, h)| Expr::call("clamp", vec![x, l, h])),
                (n.clone(), n.clone(), n.clone()).prop_map(|(x, y, d)| Expr::call("safe_div", vec![x, y, d])),
                (b, n.clone(), n.clone()).prop_map(|(c, x, y)| Expr::call("if", vec![c, x, y])),
                // Thresholds are computed, so no literal ordering rule applies.
                (n.clone(), proptest::collection::vec((n.clone(), n.clone()), 1..3), n).prop_map(|(x, pairs, d)| {
                    let mut args = vec![x];
                    for (t, s) in pairs {
                        args.push(Expr::binary(BinaryOp::Add, Expr::var("c"), t));
                        args.push(s);
                    }
                    args.push(d);
                    Expr::call("tier", args)
                }),
            ]
        })
        .boxed()
}

fn bool_of(n: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    let cmp =
        (proptest::sample::select(vec![BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge]), n.clone(), n)
            .prop_map(|(op, l, r)| Expr::binary(op, l, r));
    cmp.prop_recursive(2, 8, 3, |b| {
        prop_oneof![
            b.clone().prop_map(|e| Expr::unary(UnaryOp::Not, e)),
            (prop_oneof![Just(BinaryOp::And), Just(BinaryOp::Or)], b.clone(), b.clone()).prop_map(|(op, l, r)| Expr::binary(op, l, r)),
            (b.clone(), b.clone(), b).prop_map(|(c, x, y)| Expr::call("if", vec![c, x, y])),
        ]
    })
}

/// A direct reading of spec §4 over the tree, independent of the bytecode.
/// Booleans are 1.0 / 0.0. `Err(())` for any evaluation error.
fn reference(e: &Expr, env: &dyn Fn(&str) -> f64) -> Result<f64, ()> {
    let fin = |x: f64| if x.is_finite() { Ok(x) } else { Err(()) };
    let b = |v: bool| if v { 1.0 } else { 0.0 };
    Ok(match &e.kind {
        ExprKind::Number(x) => *x,
        ExprKind::Var(n) => env(n),
        ExprKind::Unary(UnaryOp::Neg, x) => -reference(x, env)?,
        ExprKind::Unary(UnaryOp::Not, x) => b(reference(x, env)? == 0.0),
        ExprKind::Binary(BinaryOp::And, l, r) => {
            if reference(l, env)? == 0.0 {
                0.0
            } else {
                reference(r, env)?
            }
        }
        ExprKind::Binary(BinaryOp::Or, l, r) => {
            if reference(l, env)? != 0.0 {
                1.0
            } else {
                reference(r, env)?
            }
        }
        ExprKind::Binary(op, l, r) => {
            let (x, y) = (reference(l, env)?, reference(r, env)?);
            match op {
                BinaryOp::Add => fin(x + y)?,
                BinaryOp::Sub => fin(x - y)?,
                BinaryOp::Mul => fin(x * y)?,
                BinaryOp::Div if y == 0.0 => return Err(()),
                BinaryOp::Div => fin(x / y)?,
                BinaryOp::Pow => fin(x.powf(y))?,
                BinaryOp::Eq => b(x == y),
                BinaryOp::Ne => b(x != y),
                BinaryOp::Lt => b(x < y),
                BinaryOp::Le => b(x <= y),
                BinaryOp::Gt => b(x > y),
                BinaryOp::Ge => b(x >= y),
                BinaryOp::And | BinaryOp::Or => unreachable!(),
            }
        }
        ExprKind::Call(f, args) if f == "if" => {
            if reference(&args[0], env)? != 0.0 {
                reference(&args[1], env)?
            } else {
                reference(&args[2], env)?
            }
        }
        ExprKind::Call(f, args) => {
            let v: Vec<f64> = args.iter().map(|a| reference(a, env)).collect::<Result<_, _>>()?;
            match f.as_str() {
                "min" => v[1..].iter().fold(v[0], |m, &x| if x < m { x } else { m }),
                "max" => v[1..].iter().fold(v[0], |m, &x| if x > m { x } else { m }),
                "abs" => v[0].abs(),
                "floor" => v[0].floor(),
                "ceil" => v[0].ceil(),
                "round" => crate::round::round_half_away(v[0], v[1] as u32),
                "clamp" => {
                    let m = if v[2] < v[0] { v[2] } else { v[0] };
                    if m > v[1] { m } else { v[1] }
                }
                "safe_div" => {
                    if v[1] == 0.0 {
                        v[2]
                    } else {
                        fin(v[0] / v[1])?
                    }
                }
                "tier" => {
                    let pairs = (v.len() - 2) / 2;
                    (0..pairs).find(|i| v[0] >= v[1 + 2 * i]).map_or(v[v.len() - 1], |i| v[2 + 2 * i])
                }
                other => panic!("no reference for {other}"),
            }
        }
    })
}

// ------------------------------------------------------------ never panics

const VALID: &[&str] = &[
    "min(actual / (target * progress), 1.2) / 1.2 * points",
    "tier(actual / target, 1.2, points, 1, points * 0.8, 0.6, points * 0.5, 0)",
    "if(actual >= target and month > 6 || not (a < 0), round(actual / target * points, 2), 0)",
    "group_rank(actual) + group_avg(actual / target) - group_count() + group_max(a) / group_min(b)",
    "safe_div(目标值, actual, 0) ^ -2 ^ 0.5 + clamp(x, 0, points)",
    "if(max（a，b，-c）- abs(floor(d) - ceil(x)) != 0, 1, 2)",
];

fn check_no_panic(src: &str) {
    let _ = parse(src);
    if let Ok(f) = Formula::compile(src, VARS) {
        let _ = f.canonical();
        for fill in [0.0, 1.0, -2.5, 1e308] {
            let slots = vec![fill; f.variables().len()];
            let peers: Vec<Result<PeerSet, EvalError>> = (0..f.peer_sites())
                .map(|k| {
                    let v = f.eval_peer_arg(k, &slots)?;
                    Ok(PeerSet::new(vec![v, v + 1.0, fill]))
                })
                .collect();
            let _ = f.eval(&slots, &peers);
            let _ = f.eval(&slots, &[]);
            let _ = f.eval(&[], &[]);
        }
        // The canonical text compiles to the same canonical text.
        let again = Formula::compile(&f.canonical(), VARS).expect("canonical text compiles");
        assert_eq!(again.canonical(), f.canonical());
        assert_eq!(again.variables(), f.variables());
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, char),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop_oneof![proptest::sample::select("()（），,+-*/^<>=!&|. 0123456789eE_a目\n".chars().collect::<Vec<_>>()), any::<char>(),];
    prop_oneof![
        (any::<usize>(), 0usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), ch).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<usize>(), 0usize..12).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for e in edits {
        let len = chars.len();
        match *e {
            Edit::Delete(i, n) if len > 0 => {
                let i = i % len;
                chars.drain(i..(i + n).min(len));
            }
            Edit::Insert(i, c) => chars.insert(i % (len + 1), c),
            Edit::Duplicate(i, n) if len > 0 => {
                let i = i % len;
                let piece: Vec<char> = chars[i..(i + n).min(len)].to_vec();
                chars.splice(i..i, piece);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_the_identity(e in any_tree()) {
        let text = e.to_string();
        let back = parse(&text);
        prop_assert_eq!(back.as_ref().ok(), Some(&e), "{} -> {:?}", text, back);
        prop_assert_eq!(back.map(|b| b.to_string()).ok(), Some(text));
    }

    #[test]
    fn bytecode_agrees_with_the_reference(
        e in num_tree(),
        a in proptest::sample::select(vec![0.0, 1.0, -1.0, 2.5, 1e300, -0.0, 7.0]),
        b in proptest::sample::select(vec![0.0, 1.0, -3.0, 0.25, 1e-300]),
        c in proptest::sample::select(vec![0.0, 2.0, -2.0, 100.0]),
    ) {
        let text = e.to_string();
        let f = Formula::compile(&text, &["a", "b", "c"]);
        let f = match f {
            Ok(f) => f,
            Err(errs) => return Err(TestCaseError::fail(format!("{text}: {errs:?}"))),
        };
        let env = |n: &str| match n { "a" => a, "b" => b, _ => c };
        let slots: Vec<f64> = f.variables().iter().map(|n| env(n)).collect();
        let got = f.eval(&slots, &[]);
        let want = reference(&e, &env);
        match (&got, &want) {
            (Ok(g), Ok(w)) => prop_assert!(g.to_bits() == w.to_bits() || g == w, "{text}: {g} vs {w}"),
            (Err(_), Err(())) => {}
            _ => prop_assert!(false, "{text}: bytecode {got:?}, reference {want:?}"),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        check_no_panic(&s);
    }

    #[test]
    fn formula_like_text_never_panics(s in "[a-z0-9_ ()（），,+\\-*/^<>=!&|.eE目标值\n]{0,80}") {
        check_no_panic(&s);
    }

    #[test]
    fn mutated_formulas_never_panic(
        i in 0..VALID.len(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        check_no_panic(&apply(VALID[i], &edits));
    }
}

#[test]
fn valid_samples_compile() {
    for src in VALID {
        Formula::compile(src, VARS).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        check_no_panic(src);
    }
}
