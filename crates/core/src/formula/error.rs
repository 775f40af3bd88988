//! The two error types of the formula language: [`CompileError`] (the formula is
//! rejected when the scheme is loaded) and [`EvalError`] (one unit's evaluation
//! failed). Both carry human-readable English messages that the scheme editor and
//! the score output show as they are.

use std::fmt;

use super::ast::Pos;

/// A problem found while compiling a formula: a syntax error, an unknown name, a type
/// error or a broken rule of a function. `line` and `column` are 1-based; `column`
/// counts Unicode characters, so it matches what an editor shows for Chinese text.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// A known name close to a misspelt one, shown as "did you mean …?".
    pub suggestion: Option<String>,
}

impl CompileError {
    pub(crate) fn new(pos: Pos, message: impl Into<String>) -> CompileError {
        CompileError { line: pos.line as usize, column: pos.column as usize, message: message.into(), suggestion: None }
    }

    pub(crate) fn with_suggestion(mut self, suggestion: Option<String>) -> CompileError {
        self.suggestion = suggestion;
        self
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " — did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// Why evaluating a formula for one unit and period failed. The message names the
/// place in the formula, e.g. "division by zero at line 1, column 12".
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> EvalError {
        EvalError { message: message.into() }
    }

    pub(crate) fn at(pos: Pos, message: impl fmt::Display) -> EvalError {
        EvalError { message: format!("{message} at line {}, column {}", pos.line, pos.column) }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}
