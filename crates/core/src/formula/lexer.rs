//! Turns formula text into tokens with their positions.
//!
//! Owns the spelling rules: number syntax, identifiers (Unicode letters, digits and
//! `_`), the keywords `and`/`or`/`not` and their spellings `&&`/`||`/`!`, and the
//! full-width `（），` that a Chinese input method produces. It stops at the first
//! character it cannot read, since everything after it would be guesswork.

use super::ast::Pos;
use super::error::CompileError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok<'a> {
    /// The value as Rust's correctly rounded conversion gives it; possibly infinite,
    /// which the parser reports (it can carry on past that, unlike the lexer).
    Number(f64, &'a str),
    Ident(&'a str),
    And,
    Or,
    Not,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Tok<'_> {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Number(_, text) => format!("number `{}`", shorten(text)),
            Tok::Ident(name) => format!("`{}`", shorten(name)),
            Tok::And => "`and`".into(),
            Tok::Or => "`or`".into(),
            Tok::Not => "`not`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Caret => "`^`".into(),
            Tok::EqEq => "`==`".into(),
            Tok::NotEq => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::Eof => "the end of the formula".into(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub pos: Pos,
}

/// `text` as it may appear in a message: names and numbers of hostile length are cut.
pub(crate) fn shorten(text: &str) -> String {
    const KEEP: usize = 40;
    match text.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    at: usize,
    line: u32,
    column: u32,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src[self.at..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.src[self.at..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_digits(&mut self) -> usize {
        let mut n = 0;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            n += 1;
        }
        n
    }

    fn number(&mut self, start: Pos) -> Result<Tok<'a>, CompileError> {
        let begin = self.at;
        self.eat_digits();
        if self.peek() == Some('.') {
            self.bump();
            if self.eat_digits() == 0 {
                return Err(CompileError::new(self.pos(), "expected a digit after the decimal point (write `5.0` or `5`, not `5.`)"));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = matches!(self.peek2(), Some('+' | '-'));
            self.bump();
            if sign {
                self.bump();
            }
            if self.eat_digits() == 0 {
                return Err(CompileError::new(self.pos(), "expected the digits of an exponent (as in `1e3` or `1e-3`)"));
            }
        }
        if self.peek().is_some_and(is_ident_continue) {
            return Err(CompileError::new(self.pos(), "a number cannot run into a name; put an operator between them, as in `2 * x`"));
        }
        let text = &self.src[begin..self.at];
        // The text matches digits[.digits][e[+-]digits], which `parse` always accepts;
        // a failure would be a bug here, reported rather than unwrapped.
        let value: f64 = text.parse().map_err(|_| CompileError::new(start, format!("cannot read the number `{text}`")))?;
        Ok(Tok::Number(value, text))
    }

    fn next_token(&mut self) -> Result<Token<'a>, CompileError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let pos = self.pos();
        let Some(c) = self.peek() else {
            return Ok(Token { tok: Tok::Eof, pos });
        };
        if c.is_ascii_digit() {
            let tok = self.number(pos)?;
            return Ok(Token { tok, pos });
        }
        if is_ident_start(c) {
            let begin = self.at;
            while self.peek().is_some_and(is_ident_continue) {
                self.bump();
            }
            let word = &self.src[begin..self.at];
            let tok = match word {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Ident(word),
            };
            return Ok(Token { tok, pos });
        }
        self.bump();
        let tok = match c {
            '(' | '（' => Tok::LParen,
            ')' | '）' => Tok::RParen,
            ',' | '，' => Tok::Comma,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '*' => Tok::Star,
            '/' => Tok::Slash,
            '^' => Tok::Caret,
            '<' if self.eat('=') => Tok::Le,
            '<' => Tok::Lt,
            '>' if self.eat('=') => Tok::Ge,
            '>' => Tok::Gt,
            '=' if self.eat('=') => Tok::EqEq,
            '!' if self.eat('=') => Tok::NotEq,
            '!' => Tok::Not,
            '&' if self.eat('&') => Tok::And,
            '|' if self.eat('|') => Tok::Or,
            _ => return Err(unexpected_char(c, pos)),
        };
        Ok(Token { tok, pos })
    }
}

fn unexpected_char(c: char, pos: Pos) -> CompileError {
    let message = match c {
        '=' => "`=` alone is not an operator; compare with `==`".to_string(),
        '&' => "`&` alone is not an operator; write `and` (or `&&`)".to_string(),
        '|' => "`|` alone is not an operator; write `or` (or `||`)".to_string(),
        '.' => "a number must start with a digit (write `0.5`, not `.5`)".to_string(),
        // The full-width forms of ASCII (U+FF01–U+FF5E) sit at a fixed offset from it.
        '\u{FF01}'..='\u{FF5E}' => {
            let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap_or('?');
            format!("full-width `{c}` is not accepted here; type `{ascii}` instead")
        }
        '\u{3002}' => "`。` is not accepted; a decimal point is `.`".to_string(),
        _ if c.is_control() => format!("unexpected control character U+{:04X}", c as u32),
        _ => format!("unexpected character `{c}`"),
    };
    CompileError::new(pos, message)
}

/// All the tokens of `src`, ending with [`Tok::Eof`], or the first lexical error.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, CompileError> {
    let mut lexer = Lexer { src, at: 0, line: 1, column: 1 };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        tokens.push(token);
        if token.tok == Tok::Eof {
            return Ok(tokens);
        }
    }
}
