//! PLACEHOLDER with the agreed interface; replaced by the real formula language
//! (branch `formula`). Supports only what the engine's own tests need until then.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct CompileError { pub line: usize, pub column: usize, pub message: String, pub suggestion: Option<String> }
impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "line {}, column {}: {}", self.line, self.column, self.message) }
}
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError { pub message: String }
impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.message) }
}

#[derive(Debug, Clone)]
pub struct Formula { source: String, variables: Vec<String> }
impl Formula {
    pub fn compile(source: &str, variables: &[&str]) -> Result<Formula, Vec<CompileError>> {
        let used = variables.iter().filter(|v| source.contains(*v)).map(|v| v.to_string()).collect();
        Ok(Formula { source: source.into(), variables: used })
    }
    pub fn source(&self) -> &str { &self.source }
    pub fn canonical(&self) -> String { self.source.clone() }
    pub fn variables(&self) -> &[String] { &self.variables }
    pub fn peer_sites(&self) -> usize { 0 }
    pub fn uses_peers(&self) -> bool { false }
    pub fn eval_peer_arg(&self, _k: usize, _slots: &[f64]) -> Result<f64, EvalError> { Ok(0.0) }
    pub fn eval(&self, slots: &[f64], _peers: &[Result<PeerSet, EvalError>]) -> Result<f64, EvalError> { Ok(slots.first().copied().unwrap_or(0.0)) }
}

#[derive(Debug, Clone)]
pub struct PeerSet { values: Vec<f64> }
impl PeerSet {
    pub fn new(values: Vec<f64>) -> PeerSet { PeerSet { values } }
    pub fn count(&self) -> usize { self.values.len() }
}
