//! The parser for kubectl's selector syntax.
//!
//! The grammar, as the apiserver reads it:
//!
//! ```text
//! selector    := "" | requirement ("," requirement)*
//! requirement := "!" KEY
//!              | KEY
//!              | KEY ("=" | "==" | "!=") VALUE
//!              | KEY ("in" | "notin") "(" VALUE ("," VALUE)* ")"
//! ```
//!
//! Whitespace may surround every token; a `VALUE` may be empty. Keys must be
//! qualified names and values label values, as the apiserver would insist.

use std::collections::BTreeSet;

use super::{Expression, ParseExpressionError};

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A key, a value, or one of the words `in` and `notin`.
    Word(&'a str),
    Not,
    Equals,
    NotEquals,
    Open,
    Close,
    Comma,
    /// `<` or `>`: numeric comparisons, which label selectors in queries reject.
    Compare(char),
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => format!("{word:?}"),
            Token::Not => "'!'".into(),
            Token::Equals => "'='".into(),
            Token::NotEquals => "'!='".into(),
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
            Token::Compare(c) => format!("'{c}'"),
        }
    }
}

fn is_special(c: char) -> bool {
    c.is_whitespace() || matches!(c, '!' | '=' | '(' | ')' | ',' | '<' | '>')
}

fn tokenize(input: &str) -> Vec<(Token<'_>, usize)> {
    let mut tokens = Vec::new();
    let mut rest = input.char_indices().peekable();
    while let Some((at, c)) = rest.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '!' if rest.next_if(|&(_, c)| c == '=').is_some() => Token::NotEquals,
            '!' => Token::Not,
            '=' => {
                // `==` means the same as `=`.
                rest.next_if(|&(_, c)| c == '=');
                Token::Equals
            }
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '<' | '>' => Token::Compare(c),
            _ => {
                let mut end = at + c.len_utf8();
                while let Some((i, c)) = rest.next_if(|&(_, c)| !is_special(c)) {
                    end = i + c.len_utf8();
                }
                Token::Word(&input[at..end])
            }
        };
        tokens.push((token, at));
    }
    tokens
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<(Token<'a>, usize)>,
    next: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.next).map(|(token, _)| *token)
    }

    fn advance(&mut self) -> Option<Token<'a>> {
        let token = self.peek();
        self.next += 1;
        token
    }

    /// An error at the current token, or at the end of the input.
    fn error(&self, what: &str) -> ParseExpressionError {
        let place = match self.tokens.get(self.next) {
            Some((token, at)) => format!("found {} at position {at}", token.describe()),
            None => "found the end of the selector".to_owned(),
        };
        ParseExpressionError(format!("{what} but {place} in {:?}", self.input))
    }

    fn requirement(&mut self) -> Result<Expression, ParseExpressionError> {
        if self.peek() == Some(Token::Not) {
            self.advance();
            let key = self.key()?;
            return match self.peek() {
                None | Some(Token::Comma) => Ok(Expression::DoesNotExist(key)),
                Some(_) => Err(self.error(&format!("expected ',' or the end after \"!{key}\""))),
            };
        }
        let key = self.key()?;
        match self.peek() {
            None | Some(Token::Comma) => Ok(Expression::Exists(key)),
            Some(Token::Equals) => {
                self.advance();
                Ok(Expression::Equal(key, self.exact_value()?))
            }
            Some(Token::NotEquals) => {
                self.advance();
                Ok(Expression::NotEqual(key, self.exact_value()?))
            }
            Some(Token::Word("in")) => {
                self.advance();
                Ok(Expression::In(key, self.value_set()?))
            }
            Some(Token::Word("notin")) => {
                self.advance();
                Ok(Expression::NotIn(key, self.value_set()?))
            }
            Some(Token::Compare(c)) => Err(self.error(&format!(
                "the numeric comparison '{c}' is not supported in label selectors for {key:?}"
            ))),
            Some(_) => Err(self.error(&format!(
                "expected '=', '==', '!=', 'in', 'notin', ',' or the end after the key {key:?}"
            ))),
        }
    }

    fn key(&mut self) -> Result<String, ParseExpressionError> {
        match self.peek() {
            Some(Token::Word(word)) => {
                validate_key(word)?;
                self.advance();
                Ok(word.to_owned())
            }
            _ => Err(self.error("expected a label key")),
        }
    }

    /// The value after `=`, `==` or `!=`; empty when the requirement ends there.
    fn exact_value(&mut self) -> Result<String, ParseExpressionError> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(String::new()),
            Some(Token::Word(word)) => {
                validate_value(word)?;
                self.advance();
                match self.peek() {
                    None | Some(Token::Comma) => Ok(word.to_owned()),
                    Some(_) => {
                        Err(self
                            .error(&format!("expected ',' or the end after the value {word:?}")))
                    }
                }
            }
            Some(_) => Err(self.error("expected a label value")),
        }
    }

    /// `( VALUE, ... )`, where a missing value between commas is the empty value.
    fn value_set(&mut self) -> Result<BTreeSet<String>, ParseExpressionError> {
        if self.advance() != Some(Token::Open) {
            self.next -= 1;
            return Err(self.error("expected '(' to open a set of values"));
        }
        let mut values = BTreeSet::new();
        loop {
            let value = match self.peek() {
                Some(Token::Word(word)) => {
                    validate_value(word)?;
                    self.advance();
                    word
                }
                Some(Token::Comma | Token::Close) => "",
                _ => return Err(self.error("expected a value, ',' or ')' in a set of values")),
            };
            values.insert(value.to_owned());
            match self.advance() {
                Some(Token::Comma) => continue,
                Some(Token::Close) => break,
                _ => {
                    self.next -= 1;
                    return Err(self.error("expected ',' or ')' in a set of values"));
                }
            }
        }
        match self.peek() {
            None | Some(Token::Comma) => Ok(values),
            Some(_) => Err(self.error("expected ',' or the end after a set of values")),
        }
    }
}

/// Parses a whole selector into its requirements.
pub(super) fn parse(input: &str) -> Result<Vec<Expression>, ParseExpressionError> {
    let mut parser = Parser {
        input,
        tokens: tokenize(input),
        next: 0,
    };
    let mut expressions = Vec::new();
    if parser.peek().is_none() {
        return Ok(expressions);
    }
    loop {
        expressions.push(parser.requirement()?);
        match parser.advance() {
            None => return Ok(expressions),
            Some(Token::Comma) if parser.peek().is_some() => continue,
            Some(Token::Comma) => {
                return Err(parser.error("expected a requirement after ','"));
            }
            Some(_) => {
                parser.next -= 1;
                return Err(parser.error("expected ','"));
            }
        }
    }
}

const MAX_NAME_LEN: usize = 63;
const MAX_PREFIX_LEN: usize = 253;

/// A name part or label value: alphanumerics, `-`, `_` and `.`, starting and
/// ending with an alphanumeric.
fn is_name_like(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// A DNS subdomain: dot-separated lowercase labels of alphanumerics and `-`.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= MAX_PREFIX_LEN
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    (first.is_ascii_lowercase() || first.is_ascii_digit())
                        && (last.is_ascii_lowercase() || last.is_ascii_digit())
                        && bytes
                            .iter()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                }
                _ => false,
            }
        })
}

/// Checks a label key: `[prefix/]name`, the prefix a DNS subdomain.
fn validate_key(key: &str) -> Result<(), ParseExpressionError> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Err(ParseExpressionError(format!(
            "the key {key:?} has an invalid prefix {prefix:?}: it must be a DNS subdomain \
             (lowercase alphanumerics, '-' and '.', at most {MAX_PREFIX_LEN} characters)"
        )));
    }
    if name.len() > MAX_NAME_LEN || !is_name_like(name) {
        return Err(ParseExpressionError(format!(
            "the key {key:?} has an invalid name {name:?}: it must be at most {MAX_NAME_LEN} \
             alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        )));
    }
    Ok(())
}

/// Checks a label value: empty, or like a name part.
fn validate_value(value: &str) -> Result<(), ParseExpressionError> {
    if value.is_empty() || (value.len() <= MAX_NAME_LEN && is_name_like(value)) {
        Ok(())
    } else {
        Err(ParseExpressionError(format!(
            "the value {value:?} is invalid: it must be empty or at most {MAX_NAME_LEN} \
             alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        )))
    }
}
