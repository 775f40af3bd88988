//! Tests of the formula language against spec §4. Expected values are worked out
//! by hand (or with an independent IEEE calculator for the few inexact sums), never
//! taken from the code under test.

use super::*;

const VARS: &[&str] = &["a", "b", "c", "d", "x", "actual", "target", "progress", "points", "month", "目标值"];

/// Compiles `src` with [`VARS`] and evaluates it with the given variable values
/// (variables not listed are 0).
fn run(src: &str, values: &[(&str, f64)]) -> Result<f64, EvalError> {
    let f = Formula::compile(src, VARS).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    f.eval(&slots(&f, values), &[])
}

fn slots(f: &Formula, values: &[(&str, f64)]) -> Vec<f64> {
    f.variables().iter().map(|v| values.iter().find(|(n, _)| n == v).map_or(0.0, |p| p.1)).collect()
}

fn val(src: &str) -> f64 {
    run(src, &[]).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn errors(src: &str) -> Vec<CompileError> {
    match Formula::compile(src, VARS) {
        Ok(_) => panic!("{src} should not compile"),
        Err(e) => e,
    }
}

/// The single (first) compile error: (line, column, message).
fn first_error(src: &str) -> (usize, usize, String) {
    let e = errors(src).remove(0);
    (e.line, e.column, e.message)
}

fn eval_error(src: &str, values: &[(&str, f64)]) -> String {
    match run(src, values) {
        Ok(v) => panic!("{src} should fail, gave {v}"),
        Err(e) => e.to_string(),
    }
}

fn canonical(src: &str) -> String {
    parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}")).to_string()
}

// ---------------------------------------------------------------- numbers

#[test]
fn number_literals() {
    assert_eq!(val("12"), 12.0);
    assert_eq!(val("0.5"), 0.5);
    assert_eq!(val("1e3"), 1000.0);
    assert_eq!(val("1e-3"), 0.001);
    assert_eq!(val("2E5"), 200000.0);
    assert_eq!(val("1E+2"), 100.0);
    assert_eq!(val("007"), 7.0);
    // Plain IEEE arithmetic, as a spreadsheet does it.
    assert_eq!(val("0.1 + 0.2"), 0.30000000000000004);
    // Correctly rounded conversion of a long literal.
    assert_eq!(val("0.1000000000000000055511151231257827"), 0.1);
}

#[test]
fn non_finite_literal_is_a_compile_error() {
    let (line, col, msg) = first_error("1 + 1e400");
    assert_eq!((line, col), (1, 5));
    assert!(msg.contains("1e400") && msg.contains("too large"), "{msg}");
    // Small numbers that underflow to 0 are still finite, hence accepted.
    assert_eq!(val("1e-400"), 0.0);
}

#[test]
fn malformed_numbers() {
    assert_eq!(first_error("5.").1, 3);
    assert_eq!(first_error("5. + 1").1, 3);
    assert_eq!(first_error(".5").1, 1);
    assert_eq!(first_error("1e").1, 3);
    assert_eq!(first_error("1e+").1, 4);
    let (_, col, msg) = first_error("2x");
    assert_eq!(col, 2);
    assert!(msg.contains("2 * x"), "{msg}");
}

#[test]
fn no_boolean_literals() {
    let (_, _, msg) = first_error("if(true, 1, 2)");
    assert!(msg.contains("no true/false literals"), "{msg}");
}

// ---------------------------------------------------------------- precedence

#[test]
fn arithmetic_precedence_and_associativity() {
    assert_eq!(val("1 + 2 * 3"), 7.0);
    assert_eq!(val("(1 + 2) * 3"), 9.0);
    assert_eq!(val("10 - 4 - 3"), 3.0);
    assert_eq!(val("10 - (4 - 3)"), 9.0);
    assert_eq!(val("64 / 4 / 2"), 8.0);
    assert_eq!(val("64 / (4 / 2)"), 32.0);
    assert_eq!(val("2 * 3 ^ 2"), 18.0);
    assert_eq!(val("-3 * 2 + 1"), -5.0);
    assert_eq!(val("2 - -3"), 5.0);
    assert_eq!(val("--3"), 3.0);
    assert_eq!(val("12 / 2 * 3"), 18.0);
}

#[test]
fn power_binds_tighter_than_unary_minus_and_is_right_associative() {
    assert_eq!(val("-2 ^ 2"), -4.0);
    assert_eq!(val("(-2) ^ 2"), 4.0);
    assert_eq!(val("2 ^ -1"), 0.5);
    assert_eq!(val("2 ^ 3 ^ 0"), 2.0);
    assert_eq!(val("2 ^ 3 ^ 2"), 512.0);
    assert_eq!(val("(2 ^ 3) ^ 2"), 64.0);
    // The right operand is a unary expression, itself able to hold a power.
    assert_eq!(val("2 ^ -1 ^ 2"), 0.5);
    assert_eq!(val("2 ^ 0.5"), std::f64::consts::SQRT_2);
}

#[test]
fn logic_precedence() {
    // or < and < not < comparison
    assert_eq!(val("if(1 < 2 or 1 > 2 and 1 > 2, 1, 0)"), 1.0);
    assert_eq!(val("if((1 < 2 or 1 < 2) and 1 > 2, 1, 0)"), 0.0);
    assert_eq!(val("if(not 1 > 2, 1, 0)"), 1.0);
    assert_eq!(val("if(not 1 < 2 and 1 < 2, 1, 0)"), 0.0);
    assert_eq!(val("if(not (1 < 2 and 1 > 2), 1, 0)"), 1.0);
    assert_eq!(val("if(not not 1 < 2, 1, 0)"), 1.0);
    // Comparisons bind looser than arithmetic.
    assert_eq!(val("if(1 + 1 == 2, 1, 0)"), 1.0);
    assert_eq!(val("if(2 * 3 > 5, 1, 0)"), 1.0);
}

#[test]
fn symbol_spellings_of_logic() {
    assert_eq!(val("if(1 < 2 && 2 < 3, 1, 0)"), 1.0);
    assert_eq!(val("if(1 > 2 || 2 < 3, 1, 0)"), 1.0);
    assert_eq!(val("if(!(1 > 2), 1, 0)"), 1.0);
    assert_eq!(val("if(!(1 != 1), 1, 0)"), 1.0);
    assert_eq!(val("if(1 != 2, 1, 0)"), 1.0);
    assert_eq!(val("if(2 == 2, 1, 0)"), 1.0);
    assert_eq!(val("if(2 <= 2 and 2 >= 2 and not 2 < 2 and not 2 > 2, 1, 0)"), 1.0);
    assert_eq!(canonical("a<b&&!(b<c)||a==b"), "a < b and not b < c or a == b");
}

#[test]
fn comparisons_do_not_chain() {
    let (line, col, msg) = first_error("a < b < c");
    assert_eq!((line, col), (1, 7));
    assert!(msg.contains("cannot be chained"), "{msg}");
    assert_eq!(first_error("1 == 2 == 3").1, 8);
    assert_eq!(first_error("a <= b > c").1, 8);
    // Parenthesised, it is a type error instead (a condition compared as a number).
    assert!(Formula::compile("if((a < b) < c, 1, 0)", VARS).is_err());
}

#[test]
fn full_width_punctuation() {
    assert_eq!(run("max（a，b）", &[("a", 1.0), ("b", 2.0)]).unwrap(), 2.0);
    assert_eq!(val("（1 + 2）* 3"), 9.0);
    assert_eq!(canonical("min（a，b，c）"), "min(a, b, c)");
    // Other full-width symbols are explained rather than silently accepted.
    let (_, col, msg) = first_error("a ＋ b");
    assert_eq!(col, 3);
    assert!(msg.contains("type `+`"), "{msg}");
    assert!(first_error("１ + 1").2.contains("type `1`"));
}

#[test]
fn unicode_identifiers_and_positions() {
    assert_eq!(run("目标值 * 2", &[("目标值", 3.0)]).unwrap(), 6.0);
    // Columns count characters, not bytes: 目标值 + 未知
    let e = errors("目标值 + 未知").remove(0);
    assert_eq!((e.line, e.column), (1, 7));
    assert_eq!(e.message, "unknown variable `未知`");
    // Lines are counted too; columns restart after a newline.
    let e = errors("a +\n  bogus").remove(0);
    assert_eq!((e.line, e.column), (2, 3));
    // Unicode whitespace (the ideographic space an IME types) separates tokens.
    assert_eq!(run("目标值\u{3000}*\u{3000}2", &[("目标值", 4.0)]).unwrap(), 8.0);
    // Identifiers may hold digits and `_`, just not start with a digit.
    let f = Formula::compile("x_1 + 指标2", &["x_1", "指标2"]).unwrap();
    assert_eq!(f.eval(&[1.0, 2.0], &[]).unwrap(), 3.0);
}

#[test]
fn keywords_are_not_identifiers() {
    assert!(Formula::compile("and + 1", &["and"]).is_err());
    assert!(Formula::compile("not", &["not"]).is_err());
    // ...but a name merely starting with one is an ordinary name.
    let f = Formula::compile("order + notes + android", &["order", "notes", "android"]).unwrap();
    assert_eq!(f.eval(&[1.0, 2.0, 3.0], &[]).unwrap(), 6.0);
}

// ---------------------------------------------------------------- canonical text

#[test]
fn canonical_text() {
    assert_eq!(canonical("a+b*c"), "a + b * c");
    assert_eq!(canonical("(a+b)*c"), "(a + b) * c");
    assert_eq!(canonical("a-(b-c)"), "a - (b - c)");
    assert_eq!(canonical("(a-b)-c"), "a - b - c");
    assert_eq!(canonical("a/(b*c)"), "a / (b * c)");
    assert_eq!(canonical("-2^2"), "-2 ^ 2");
    assert_eq!(canonical("(-2)^2"), "(-2) ^ 2");
    assert_eq!(canonical("2^3^2"), "2 ^ 3 ^ 2");
    assert_eq!(canonical("(2^3)^2"), "(2 ^ 3) ^ 2");
    assert_eq!(canonical("2^-1"), "2 ^ -1");
    assert_eq!(canonical("- - a"), "- -a");
    assert_eq!(canonical("---a"), "- - -a");
    assert_eq!(canonical("-(a*b)"), "-(a * b)");
    assert_eq!(canonical("(-a)*b"), "-a * b");
    assert_eq!(canonical("not(a<b and c<d)"), "not (a < b and c < d)");
    assert_eq!(canonical("(a<b or c<d) and a<c"), "(a < b or c < d) and a < c");
    assert_eq!(canonical("1e3 + 0.50 + 1e-7 + 1.5e300"), "1000 + 0.5 + 1e-7 + 1.5e300");
    assert_eq!(canonical("group_count( )"), "group_count()");
    assert_eq!(canonical("min(actual/(target*progress),1.2)/1.2*points"), "min(actual / (target * progress), 1.2) / 1.2 * points");
    let f = Formula::compile("if(a>b,a,b)", VARS).unwrap();
    assert_eq!(f.canonical(), "if(a > b, a, b)");
    assert_eq!(f.source(), "if(a>b,a,b)");
}

// ---------------------------------------------------------------- functions

#[test]
fn min_and_max() {
    assert_eq!(val("min(3, 1, 2)"), 1.0);
    assert_eq!(val("max(3, 1, 2)"), 3.0);
    assert_eq!(val("min(5)"), 5.0);
    assert_eq!(val("max(-5)"), -5.0);
    assert_eq!(val("min(2, -7)"), -7.0);
}

#[test]
fn abs_floor_ceil() {
    assert_eq!(val("abs(-2.5)"), 2.5);
    assert_eq!(val("abs(2.5)"), 2.5);
    assert_eq!(val("floor(2.7)"), 2.0);
    assert_eq!(val("floor(-2.5)"), -3.0);
    assert_eq!(val("ceil(2.1)"), 3.0);
    assert_eq!(val("ceil(-2.5)"), -2.0);
}

#[test]
fn round_half_away_from_zero_on_the_written_decimal() {
    assert_eq!(val("round(2.675, 2)"), 2.68);
    assert_eq!(val("round(2.665, 2)"), 2.67);
    assert_eq!(val("round(-1.005, 2)"), -1.01);
    assert_eq!(val("round(2.5, 0)"), 3.0);
    assert_eq!(val("round(-2.5, 0)"), -3.0);
    assert_eq!(val("round(1.23456789, 4)"), 1.2346);
    assert_eq!(val("round(1 / 3, 10)"), 0.3333333333);
    // A whole-number literal written with a decimal point still counts (canonically `2`).
    assert_eq!(val("round(2.675, 2.0)"), 2.68);
}

#[test]
fn round_digits_must_be_a_whole_literal_from_0_to_10() {
    for (src, col) in [("round(a, 11)", 10), ("round(a, 1.5)", 10), ("round(a, b)", 10), ("round(a, -1)", 10), ("round(a, 1 + 1)", 12)] {
        let (line, c, msg) = first_error(src);
        assert_eq!((line, c), (1, col), "{src}");
        assert!(msg.contains("0 to 10"), "{src}: {msg}");
    }
    assert!(Formula::compile("round(a, 10)", VARS).is_ok());
    assert!(Formula::compile("round(a, 0)", VARS).is_ok());
}

#[test]
fn clamp() {
    assert_eq!(val("clamp(5, 0, 3)"), 3.0);
    assert_eq!(val("clamp(-1, 0, 3)"), 0.0);
    assert_eq!(val("clamp(2, 0, 3)"), 2.0);
    // Defined as max(lo, min(x, hi)), so a reversed range gives lo.
    assert_eq!(val("clamp(5, 4, 3)"), 4.0);
    assert_eq!(val("clamp(0, 4, 3)"), 4.0);
}

#[test]
fn if_picks_a_branch_and_can_give_a_condition() {
    assert_eq!(val("if(1 < 2, 10, 20)"), 10.0);
    assert_eq!(val("if(1 > 2, 10, 20)"), 20.0);
    assert_eq!(run("if(if(a < b, a < c, b < c), 1, 2)", &[("a", 1.0), ("b", 2.0), ("c", 0.0)]).unwrap(), 2.0);
    assert_eq!(run("if(if(a < b, a < c, b < c), 1, 2)", &[("a", 1.0), ("b", 2.0), ("c", 5.0)]).unwrap(), 1.0);
    assert_eq!(run("if(if(a < b, a < c, b < c), 1, 2)", &[("a", 3.0), ("b", 2.0), ("c", 5.0)]).unwrap(), 1.0);
}

#[test]
fn safe_div() {
    assert_eq!(val("safe_div(6, 3, 9)"), 2.0);
    assert_eq!(val("safe_div(6, 0, 9)"), 9.0);
    assert_eq!(val("safe_div(0, 0, 9)"), 9.0);
    assert_eq!(val("safe_div(6, -0, 9)"), 9.0);
    // Every argument is evaluated, so an error in the default is an error of the call.
    let msg = eval_error("safe_div(6, 3, 1 / 0)", &[]);
    assert_eq!(msg, "division by zero at line 1, column 18");
}

#[test]
fn tier() {
    let f = "tier(x, 90, 5, 80, 3, 60, 1, 0)";
    for (x, want) in [(95.0, 5.0), (90.0, 5.0), (89.9, 3.0), (80.0, 3.0), (60.0, 1.0), (59.0, 0.0), (-1.0, 0.0)] {
        assert_eq!(run(f, &[("x", x)]).unwrap(), want, "x = {x}");
    }
    // Computed thresholds are taken as they come.
    let g = "tier(x, target, 2, target / 2, 1, 0)";
    assert_eq!(run(g, &[("x", 60.0), ("target", 100.0)]).unwrap(), 1.0);
    assert_eq!(run(g, &[("x", 100.0), ("target", 100.0)]).unwrap(), 2.0);
    assert_eq!(run(g, &[("x", 49.0), ("target", 100.0)]).unwrap(), 0.0);
    // One pair is enough; negative literal thresholds are literals too.
    assert_eq!(val("tier(-3, -5, 1, 0)"), 1.0);
    assert_eq!(val("tier(-6, 0, 2, -5, 1, 0)"), 0.0);
    // All arguments are evaluated, even scores not chosen.
    let msg = eval_error("tier(95, 90, 5, 80, 1 / 0, 0)", &[]);
    assert_eq!(msg, "division by zero at line 1, column 23");
}

#[test]
fn tier_literal_thresholds_must_descend() {
    let (line, col, msg) = first_error("tier(a, 80, 1, 90, 2, 0)");
    assert_eq!((line, col), (1, 16));
    assert!(msg.contains("strictly descending") && msg.contains("90 follows 80"), "{msg}");
    assert_eq!(first_error("tier(a, 90, 1, 90, 2, 0)").1, 16);
    // Non-literal thresholds are skipped when comparing the literal ones.
    assert!(Formula::compile("tier(a, 90, 1, b, 2, 80, 3, 0)", VARS).is_ok());
    assert_eq!(first_error("tier(a, 90, 1, b, 2, 95, 3, 0)").1, 22);
    assert!(Formula::compile("tier(a, 0, 1, -5, 2, 0)", VARS).is_ok());
    // `-5` is at column 9, `0` (not below it... it is above) at column 16.
    assert_eq!(first_error("tier(a, -5, 1, 0, 2, 0)").1, 16);
    // -0 equals 0, so it is not strictly below it.
    assert_eq!(first_error("tier(a, 0, 1, -0, 2, 0)").1, 15);
}

#[test]
fn argument_counts() {
    for (src, col, takes) in [
        ("abs(1, 2)", 1, "1 argument"),
        ("min()", 1, "one or more"),
        ("1 + max()", 5, "one or more"),
        ("round(1)", 1, "2 arguments"),
        ("clamp(1, 2)", 1, "3 arguments"),
        ("if(1 < 2, 1)", 1, "3 arguments"),
        ("safe_div(1, 2)", 1, "3 arguments"),
        ("tier(1, 2, 3)", 1, "even number"),
        ("tier(1, 2, 3, 4, 5)", 1, "even number"),
        ("tier(1, 2)", 1, "at least 4"),
        ("group_count(1)", 1, "no arguments"),
        ("group_max()", 1, "1 argument"),
        ("group_rank(a, b)", 1, "1 argument"),
    ] {
        let (line, c, msg) = first_error(src);
        assert_eq!((line, c), (1, col), "{src}");
        assert!(msg.contains(takes), "{src}: {msg}");
    }
    let (_, _, msg) = first_error("abs(1, 2)");
    assert_eq!(msg, "`abs` takes 1 argument, but was given 2 arguments");
}

// ---------------------------------------------------------------- laziness

#[test]
fn if_evaluates_only_the_branch_taken() {
    assert_eq!(run("if(a > 0, 1 / a, 0)", &[("a", 0.0)]).unwrap(), 0.0);
    assert_eq!(run("if(a > 0, 1 / a, 0)", &[("a", 4.0)]).unwrap(), 0.25);
    assert_eq!(run("if(a > 0, 1, 1 / 0)", &[("a", 1.0)]).unwrap(), 1.0);
    assert_eq!(eval_error("if(a > 0, 1, 1 / 0)", &[]), "division by zero at line 1, column 16");
    // The condition itself is always evaluated.
    assert!(run("if(1 / a > 0, 1, 2)", &[("a", 0.0)]).is_err());
}

#[test]
fn and_or_short_circuit() {
    assert_eq!(run("if(a != 0 and 1 / a > 1, 1, 2)", &[("a", 0.0)]).unwrap(), 2.0);
    assert_eq!(run("if(a == 0 or 1 / a > 1, 1, 2)", &[("a", 0.0)]).unwrap(), 1.0);
    assert_eq!(run("if(a == 0 || 1 / a > 1, 1, 2)", &[("a", 0.5)]).unwrap(), 1.0);
    assert_eq!(run("if(a == 0 || 1 / a > 1, 1, 2)", &[("a", 4.0)]).unwrap(), 2.0);
    // When the left side does not decide, the right side runs, errors and all.
    assert!(run("if(a == 0 and 1 / a > 1, 1, 2)", &[("a", 0.0)]).is_err());
    assert!(run("if(a != 0 or 1 / a > 1, 1, 2)", &[("a", 0.0)]).is_err());
}

#[test]
fn other_functions_evaluate_every_argument() {
    assert!(run("min(1, 1 / a)", &[("a", 0.0)]).is_err());
    assert!(run("max(5, 1 / a)", &[("a", 0.0)]).is_err());
    assert!(run("clamp(1, 0, 1 / a)", &[("a", 0.0)]).is_err());
    assert!(run("abs(1 / a)", &[("a", 0.0)]).is_err());
}

// ---------------------------------------------------------------- compile errors

#[test]
fn syntax_errors_have_positions() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("1 +", 1, 4, "ends"),
        ("(1 + 2", 1, 7, "expected `)` to close the `(` at line 1, column 1"),
        ("1 2", 1, 3, "expected an operator"),
        ("min(1,)", 1, 7, "expected an operand"),
        ("min(1 2)", 1, 7, "expected `,` or `)`"),
        ("a = 1", 1, 3, "`==`"),
        ("a & b", 1, 3, "`and`"),
        ("a | b", 1, 3, "`or`"),
        ("@", 1, 1, "unexpected character `@`"),
        ("1 + 2)", 1, 6, "unmatched `)`"),
        ("1, 2", 1, 2, "outside a function call"),
        ("+1", 1, 1, "no unary plus"),
        ("", 1, 1, "empty"),
        ("  \n ", 2, 2, "empty"),
        ("a +\n\n   * b", 3, 4, "expected an operand"),
        ("not", 1, 4, "ends"),
    ];
    for &(src, line, col, text) in cases {
        let errs = match parse(src) {
            Ok(e) => panic!("{src:?} parsed as {e}"),
            Err(errs) => errs,
        };
        let e = &errs[0];
        assert_eq!((e.line, e.column), (line, col), "{src:?}: {e}");
        assert!(e.message.contains(text), "{src:?}: {e}");
    }
}

#[test]
fn unknown_variable_with_suggestion() {
    let e = Formula::compile("actul / target", &["actual", "target"]).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0], CompileError { line: 1, column: 1, message: "unknown variable `actul`".into(), suggestion: Some("actual".into()) });
    assert_eq!(e[0].to_string(), "line 1, column 1: unknown variable `actul` — did you mean `actual`?");
    let e = Formula::compile("target * 目标", &["actual", "目标值"]).unwrap_err();
    assert_eq!(e.len(), 2);
    assert_eq!(e[1].column, 10);
    assert_eq!(e[1].suggestion.as_deref(), Some("目标值"));
    // Far from everything: no suggestion.
    let e = Formula::compile("zzzzzz", &["actual", "target"]).unwrap_err();
    assert_eq!(e[0].suggestion, None);
    assert_eq!(e[0].to_string(), "line 1, column 1: unknown variable `zzzzzz`");
    // A function name used without a call.
    let (_, _, msg) = first_error("min + 1");
    assert!(msg.contains("is a function"), "{msg}");
}

#[test]
fn unknown_function_with_suggestion() {
    let e = errors("mn(1, 2)").remove(0);
    assert_eq!((e.line, e.column, e.suggestion.as_deref()), (1, 1, Some("min")));
    assert_eq!(e.to_string(), "line 1, column 1: unknown function `mn` — did you mean `min`?");
    let e = errors("1 + group_rnk(a)").remove(0);
    assert_eq!((e.column, e.suggestion.as_deref()), (5, Some("group_rank")));
    assert_eq!(errors("MAX(1, 2)")[0].suggestion.as_deref(), Some("max"));
    assert_eq!(errors("foo(1)")[0].suggestion, None);
    // A variable called like a function.
    let e = errors("a(1)").remove(0);
    assert!(e.message.contains("is a variable"), "{}", e.message);
}

#[test]
fn type_errors() {
    let cases: &[(&str, usize, &str)] = &[
        ("if(a, 1, 2)", 4, "the condition of `if` must be a condition"),
        ("(a < b) + 1", 4, "the left operand of `+` must be a number"),
        ("1 * (a < b)", 8, "the right operand of `*` must be a number"),
        ("a < b", 3, "the formula's result must be a number"),
        ("if(a < b, 1, a < b)", 16, "same type"),
        ("if(not a, 1, 2)", 8, "the operand of `not` must be a condition"),
        ("if(a and b, 1, 2)", 4, "the left operand of `and` must be a condition"),
        ("if(a < b or c, 1, 2)", 13, "the right operand of `or` must be a condition"),
        ("-(a < b)", 5, "the operand of unary `-` must be a number"),
        ("min(1, a < b)", 10, "argument 2 of `min` must be a number"),
        ("group_max(a > 0)", 13, "argument 1 of `group_max` must be a number"),
        ("round(a < b, 2)", 9, "argument 1 of `round` must be a number"),
        ("if((a < b) < c, 1, 0)", 7, "the left operand of `<` must be a number"),
        ("if(a < b, 1 < 2, 2 < 3)", 1, "the formula's result must be a number"),
    ];
    for &(src, col, text) in cases {
        let (line, c, msg) = first_error(src);
        assert_eq!((line, c), (1, col), "{src}: {msg}");
        assert!(msg.contains(text), "{src}: {msg}");
    }
}

#[test]
fn nested_peer_functions_are_rejected() {
    let (line, col, msg) = first_error("group_max(group_avg(a))");
    assert_eq!((line, col), (1, 11));
    assert!(msg.contains("cannot be nested") && msg.contains("`group_avg` is inside"), "{msg}");
    assert_eq!(first_error("group_rank(a + group_count())").1, 16);
    // Side by side is fine.
    assert!(Formula::compile("group_max(a) - group_min(a)", VARS).is_ok());
}

#[test]
fn many_errors_are_reported_in_order() {
    let e = Formula::compile("foo(actul) + bar * mn(1, 2 < 3)", &["actual"]).unwrap_err();
    let got: Vec<(usize, usize, Option<&str>)> = e.iter().map(|e| (e.line, e.column, e.suggestion.as_deref())).collect();
    // The arguments of an unknown function are checked for names but not for type.
    assert_eq!(
        got,
        [
            (1, 1, None),           // foo
            (1, 5, Some("actual")), // actul
            (1, 14, None),          // bar
            (1, 20, Some("min")),   // mn
        ]
    );
    // A too-large literal does not hide the rest.
    let e = Formula::compile("1e999 + nope", &[]).unwrap_err();
    assert_eq!(e.iter().map(|e| e.column).collect::<Vec<_>>(), vec![1, 9]);
}

#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    for src in [
        "(".repeat(10_000),
        format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        "-".repeat(10_000) + "1",
        "not ".repeat(10_000) + "1 < 2",
        "2 ^ ".repeat(10_000) + "1",
        "min(".repeat(10_000),
        format!("{}1", "1 + ".repeat(10_000)),
        format!("{}1", "1 * ".repeat(10_000)),
    ] {
        let e = Formula::compile(&src, VARS).unwrap_err();
        assert!(e[0].message.contains("nested too deeply"), "{}: {}", &src[..20], e[0]);
    }
    // Within the limits everything works, including the printer and evaluator.
    let src = format!("{}1{}", "(".repeat(150), ")".repeat(150));
    assert_eq!(val(&src), 1.0);
    let src = format!("{}a{}", "-(".repeat(90), ")".repeat(90));
    assert_eq!(run(&src, &[("a", 2.0)]).unwrap(), 2.0);
    let src = format!("{}1", "1 + ".repeat(900));
    assert_eq!(val(&src), 901.0);
    let f = Formula::compile(&src, VARS).unwrap();
    assert_eq!(parse(&f.canonical()).unwrap(), parse(&src).unwrap());
    // Right-nested sums make the value stack deep: past the inline buffer.
    let src = format!("{}1{}", "1 + (".repeat(150), ")".repeat(150));
    assert_eq!(val(&src), 151.0);
}

#[test]
fn the_deepest_accepted_formulas_fit_a_small_thread_stack() {
    // At the limits, every pass (parse, check, compile, print, evaluate, drop) must run
    // on a thread with half the usual 2 MiB, even in an unoptimised build.
    let job = || {
        let cases = [
            (format!("{}1", "1 + ".repeat(999)), 1000.0),
            (format!("{}1{}", "(".repeat(199), ")".repeat(199)), 1.0),
            (format!("{}1", "-".repeat(198)), 1.0),
            (format!("{}1{}", "min(".repeat(199), ")".repeat(199)), 1.0),
            (format!("{}1{}", "abs(1 + ".repeat(199), ")".repeat(199)), 200.0),
            (format!("{}2", "1 ^ ".repeat(199)), 1.0),
        ];
        for (src, want) in cases {
            let f = Formula::compile(&src, VARS).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(f.eval(&[], &[]).unwrap(), want);
            assert_eq!(parse(&f.canonical()).unwrap(), parse(&src).unwrap());
        }
        // One step further is refused.
        assert!(Formula::compile(&format!("{}1", "1 + ".repeat(1000)), VARS).is_err());
        assert!(Formula::compile(&format!("{}1{}", "(".repeat(200), ")".repeat(200)), VARS).is_err());
    };
    std::thread::Builder::new().stack_size(1 << 20).spawn(job).unwrap().join().unwrap();
}

#[test]
fn canonical_text_stays_within_the_nesting_limit() {
    // Found by the fuzzer: `-(-(…))` for a run of minus signs added a level per sign.
    let src = format!("a - {}x", "-".repeat(150));
    let tree = parse(&src).unwrap();
    assert_eq!(parse(&tree.to_string()).unwrap(), tree);
    let src = format!("{}a{}", "-(".repeat(99), ")".repeat(99));
    let tree = parse(&src).unwrap();
    assert_eq!(parse(&tree.to_string()).unwrap(), tree);
}

#[test]
fn huge_flat_input_compiles_or_fails_cleanly() {
    // A million characters of arguments: flat, so it compiles.
    let src = format!("max({}1)", "a, ".repeat(333_000));
    let f = Formula::compile(&src, VARS).unwrap();
    assert_eq!(f.eval(&[7.0], &[]).unwrap(), 7.0);
    // A million characters of unknown names: all reported quickly, capped.
    let src = format!("min({}1)", "abcdefghijk, ".repeat(80_000));
    assert_eq!(Formula::compile(&src, VARS).unwrap_err().len(), 50);
    // One name of a million characters.
    let src = "x".repeat(1_000_000);
    assert!(Formula::compile(&src, VARS).is_err());
    let src = "目".repeat(300_000);
    assert!(Formula::compile(&src, VARS).is_err());
    // A million digits.
    let src = "9".repeat(1_000_000);
    assert!(Formula::compile(&src, VARS).is_err());
    // A million characters of a Chinese name as flat arguments: compiles.
    let src = format!("max({}1)", "目标值, ".repeat(91_000));
    assert!(src.len() > 1_000_000);
    let f = Formula::compile(&src, VARS).unwrap();
    assert_eq!(f.eval(&[7.0], &[]).unwrap(), 7.0);
}

#[test]
fn megabytes_of_nesting_are_errors_not_crashes() {
    // Each about a million bytes, on the default test thread: every pass that could
    // recurse stops at the depth limit, so these are errors, not stack overflows.
    // Time is not asserted (no timed tests); the fuzz pass with inputs of up to 1 MB
    // and a per-input timeout watches it.
    let mb = 1_000_000;
    let cases = [
        "(".repeat(mb),
        "（".repeat(mb / 3),
        format!("{}1{}", "(".repeat(mb / 2), ")".repeat(mb / 2)),
        format!("{}1", "1+".repeat(mb / 2)),
        format!("{}1", "1 + ".repeat(mb / 4)),
        format!("{}目标值", "目标值 + ".repeat(mb / 12)),
        format!("{}目标值", "目标值*".repeat(mb / 10)),
        "-".repeat(mb) + "1",
        "not ".repeat(mb / 4) + "1 < 2",
        "2^".repeat(mb / 2) + "1",
        "min(".repeat(mb / 4),
        "if(a, ".repeat(mb / 6) + "1",
        "group_max(".repeat(mb / 10),
    ];
    for src in cases {
        let head: String = src.chars().take(12).collect();
        let e = Formula::compile(&src, VARS).unwrap_err();
        assert!(e.iter().any(|e| e.message.contains("nested too deeply")), "{head}…: {}", e[0]);
        assert!(parse(&src).is_err(), "{head}…");
    }
}

// ---------------------------------------------------------------- evaluation errors

#[test]
fn division_by_zero() {
    assert_eq!(eval_error("a / b", &[("a", 1.0)]), "division by zero at line 1, column 3");
    assert_eq!(eval_error("0 / 0", &[]), "division by zero at line 1, column 3");
    assert_eq!(eval_error("points * actual / (target - 10)", &[("target", 10.0)]), "division by zero at line 1, column 17");
    assert_eq!(eval_error("1 +\n  1 / -0", &[]), "division by zero at line 2, column 5");
}

#[test]
fn non_finite_results() {
    let msg = eval_error("(-8) ^ (1 / 3)", &[]);
    assert_eq!(msg, "(-8) ^ 0.3333333333333333 is not a finite number (undefined) at line 1, column 6");
    let msg = eval_error("10 ^ 400", &[]);
    assert_eq!(msg, "10 ^ 400 is not a finite number (overflow) at line 1, column 4");
    let msg = eval_error("a * a", &[("a", 1e200)]);
    assert_eq!(msg, "1e200 * 1e200 is not a finite number (overflow) at line 1, column 3");
    let msg = eval_error("a + a", &[("a", 1.7e308)]);
    assert_eq!(msg, "1.7e308 + 1.7e308 is not a finite number (overflow) at line 1, column 3");
    let msg = eval_error("0 ^ -1", &[]);
    assert!(msg.contains("overflow") && msg.ends_with("column 3"), "{msg}");
    let msg = eval_error("1 / a", &[("a", 1e-320)]);
    assert!(msg.contains("overflow") && msg.ends_with("column 3"), "{msg}");
    let msg = eval_error("safe_div(1e300, 1e-300, 0)", &[]);
    assert_eq!(msg, "`safe_div`: 1e300 / 1e-300 is not a finite number (overflow) at line 1, column 1");
    // An intermediate result that overflows is an error even if a later step would
    // bring it back into range.
    assert!(run("a * a / a", &[("a", 1e200)]).is_err());
    // Non-finite inputs are refused, not propagated.
    let msg = eval_error("a + 1", &[("a", f64::NAN)]);
    assert!(msg.contains("`a`") && msg.contains("not a finite number"), "{msg}");
}

// ---------------------------------------------------------------- the engine's interface

#[test]
fn worked_example_of_spec_section_9() {
    let f = Formula::compile("min(actual / (target * progress), 1.2) / 1.2 * points", &["actual", "target", "points", "progress", "month"])
        .unwrap();
    assert_eq!(f.variables(), ["actual", "target", "progress", "points"]);
    assert!(!f.uses_peers());
    assert_eq!(f.peer_sites(), 0);
    // 14 / (50 × 0.25) = 1.12; 1.12 / 1.2 × 10 = 9.333…
    let v = f.eval(&[14.0, 50.0, 0.25, 10.0], &[]).unwrap();
    assert_eq!(v, 9.333333333333334);
    assert_eq!(crate::round::round2(v), 9.33);
}

#[test]
fn variables_in_order_of_first_appearance_everywhere() {
    let f = Formula::compile("if(a > 0, b, c) + group_max(d) + a + b", VARS).unwrap();
    assert_eq!(f.variables(), ["a", "b", "c", "d"]);
    let f = Formula::compile("record_count * 0.5", &["record_points", "record_count"]).unwrap();
    assert_eq!(f.variables(), ["record_count"]);
    let f = Formula::compile("12", VARS).unwrap();
    assert!(f.variables().is_empty());
}

#[test]
fn too_few_slots_is_an_error_not_a_panic() {
    let f = Formula::compile("a + b", VARS).unwrap();
    let e = f.eval(&[1.0], &[]).unwrap_err();
    assert_eq!(e.message, "no value given for variable `b`");
}

#[test]
fn peer_set_statistics() {
    let s = PeerSet::new(vec![10.0, 20.0, 20.0, 5.0]);
    assert_eq!((s.max(), s.min(), s.avg(), s.count()), (20.0, 5.0, 13.75, 4));
    assert_eq!(s.rank_desc(20.0), 1);
    assert_eq!(s.rank_desc(10.0), 3);
    assert_eq!(s.rank_desc(5.0), 4);
    assert_eq!(s.rank_asc(5.0), 1);
    assert_eq!(s.rank_asc(10.0), 2);
    assert_eq!(s.rank_asc(20.0), 3);
    // Ties share the smaller rank: 1, 2, 2, 4.
    let s = PeerSet::new(vec![30.0, 20.0, 20.0, 10.0]);
    let ranks: Vec<usize> = [30.0, 20.0, 20.0, 10.0].iter().map(|&v| s.rank_desc(v)).collect();
    assert_eq!(ranks, [1, 2, 2, 4]);
    let ranks: Vec<usize> = [30.0, 20.0, 20.0, 10.0].iter().map(|&v| s.rank_asc(v)).collect();
    assert_eq!(ranks, [4, 2, 2, 1]);
    // The average sums in the given order: (0.1 + 0.2) + 0.3 differs from (0.3 + 0.2) + 0.1.
    assert_eq!(PeerSet::new(vec![0.1, 0.2, 0.3]).avg(), 0.20000000000000004);
    assert_eq!(PeerSet::new(vec![0.3, 0.2, 0.1]).avg(), 0.19999999999999998);
    // −0 and 0 are equal, so they tie.
    let s = PeerSet::new(vec![0.0, -0.0, 1.0]);
    assert_eq!((s.rank_desc(0.0), s.rank_desc(-0.0), s.rank_asc(-0.0), s.rank_asc(0.0)), (2, 2, 1, 1));
    // Empty: no panic.
    let s = PeerSet::new(vec![]);
    assert_eq!((s.count(), s.rank_desc(1.0)), (0, 1));
    assert!(s.max().is_nan());
}

#[test]
fn peer_functions() {
    let src = "actual / group_max(actual) * 6 + group_min(target) + group_avg(actual) \
               + group_rank(actual) * 1000 + group_rank_asc(actual) * 100000 + group_count() * 1e7";
    let f = Formula::compile(src, VARS).unwrap();
    assert!(f.uses_peers());
    assert_eq!(f.peer_sites(), 6);
    assert_eq!(f.variables(), ["actual", "target"]);
    // Three units: actual 30, 20, 20; target 5, 7, 9. We are the second.
    let units = [[30.0, 5.0], [20.0, 7.0], [20.0, 9.0]];
    for (k, want) in [(0, [30.0, 20.0, 20.0]), (1, [5.0, 7.0, 9.0]), (2, [30.0, 20.0, 20.0])] {
        let got: Vec<f64> = units.iter().map(|u| f.eval_peer_arg(k, u).unwrap()).collect();
        assert_eq!(got, want, "site {k}");
    }
    assert_eq!(f.eval_peer_arg(5, &units[0]).unwrap(), 0.0);
    assert!(f.eval_peer_arg(6, &units[0]).is_err());
    let peers: Vec<Result<PeerSet, EvalError>> =
        (0..6).map(|k| Ok(PeerSet::new(units.iter().map(|u| f.eval_peer_arg(k, u).unwrap()).collect()))).collect();
    // 20 / 30 * 6 = 4, + min target 5, + avg 70 / 3, + rank 2 → 2000, + rank_asc 1 → 100000,
    // + 3 units → 3e7; summed left to right in IEEE doubles: 30102032.333333332.
    let v = f.eval(&units[1], &peers).unwrap();
    assert_eq!(v, 30102032.333333332);
    // The first unit: 30/30*6 = 6, rank 1, rank_asc 3.
    let v = f.eval(&units[0], &peers).unwrap();
    assert_eq!(v, 6.0 + 5.0 + 70.0 / 3.0 + 1000.0 + 300000.0 + 3e7);
}

#[test]
fn peer_rank_uses_the_units_own_value() {
    let f = Formula::compile("group_rank(actual * 2)", VARS).unwrap();
    let peers = vec![Ok(PeerSet::new(vec![60.0, 40.0, 40.0, 20.0]))];
    assert_eq!(f.eval(&[30.0], &peers).unwrap(), 1.0);
    assert_eq!(f.eval(&[20.0], &peers).unwrap(), 2.0);
    assert_eq!(f.eval(&[10.0], &peers).unwrap(), 4.0);
    let f = Formula::compile("group_rank_asc(actual * 2)", VARS).unwrap();
    assert_eq!(f.eval(&[10.0], &peers).unwrap(), 1.0);
    assert_eq!(f.eval(&[20.0], &peers).unwrap(), 2.0);
    assert_eq!(f.eval(&[30.0], &peers).unwrap(), 4.0);
}

#[test]
fn peer_errors_surface_only_when_reached() {
    let f = Formula::compile("if(a > 0, group_max(b), 0) + group_count()", VARS).unwrap();
    let failure = EvalError { message: "division by zero at line 1, column 3".into() };
    let peers = vec![Err(failure.clone()), Ok(PeerSet::new(vec![1.0, 2.0]))];
    assert_eq!(f.eval(&[0.0, 5.0], &peers).unwrap(), 2.0);
    assert_eq!(f.eval(&[1.0, 5.0], &peers).unwrap_err(), failure);
    // Likewise behind `and` / `or`.
    let f = Formula::compile("if(a > 0 and group_avg(b) > 1, 1, 2)", VARS).unwrap();
    assert_eq!(f.eval(&[0.0, 5.0], &[Err(failure.clone())]).unwrap(), 2.0);
    assert_eq!(f.eval(&[1.0, 5.0], &[Err(failure.clone())]).unwrap_err(), failure);
    // Missing peer sets are an error, not a panic.
    assert!(f.eval(&[1.0, 5.0], &[]).is_err());
    // group_max over no units, and an average that overflows.
    let f = Formula::compile("group_max(a) + group_avg(a)", VARS).unwrap();
    let e = f.eval(&[1.0], &[Ok(PeerSet::new(vec![])), Ok(PeerSet::new(vec![]))]).unwrap_err();
    assert_eq!(e.message, "`group_max` has no units to compare at line 1, column 1");
    let big = PeerSet::new(vec![1e308, 1e308]);
    let e = f.eval(&[1.0], &[Ok(big.clone()), Ok(big)]).unwrap_err();
    assert_eq!(e.message, "the result of `group_avg` is not a finite number (overflow) at line 1, column 16");
}

#[test]
fn formula_is_shareable() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Formula>();
    assert_send_sync::<PeerSet>();
    let f = Formula::compile("a * 2", VARS).unwrap();
    let g = f.clone();
    let handle = std::thread::spawn(move || g.eval(&[21.0], &[]).unwrap());
    assert_eq!(handle.join().unwrap(), 42.0);
    assert_eq!(f.eval(&[1.0], &[]).unwrap(), 2.0);
}

#[test]
fn evaluation_leaves_no_state_behind() {
    // The same compiled formula, run many times in different orders, gives the same.
    let f = Formula::compile("if(a > b, a - b, safe_div(b, a, -1)) + min(a, b, 3)", VARS).unwrap();
    for _ in 0..3 {
        assert_eq!(f.eval(&[5.0, 2.0], &[]).unwrap(), 5.0);
        assert_eq!(f.eval(&[0.0, 2.0], &[]).unwrap(), -1.0);
        assert_eq!(f.eval(&[4.0, 8.0], &[]).unwrap(), 5.0);
    }
}

mod props;
