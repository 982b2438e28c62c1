//! `GET /query`: the InfluxQL read that `outatime verify` (and the
//! apply's marker read) sends to the v1-compatible endpoint of InfluxDB 2
//! and 3, and `SHOW MEASUREMENTS` (on `db=`), and nothing else:
//!
//! ```text
//! GET /query?db=DB&epoch=ns&q=SELECT * FROM "db".."m" WHERE time >= F AND time < T GROUP BY *
//! ```
//!
//! F and T are nanoseconds, or RFC 3339 times in single quotes (as an
//! `expect` block's `$from` and `$to` are written).
//!
//! The statement is parsed strictly (keywords in any case, identifiers
//! bare or double-quoted, the measurement as `m`, `rp.m`, `db..m` or
//! `db.rp.m`, an optional `;`); any other statement is answered 400
//! `{"error":"error parsing query: found X, expected Y at line 1, char N"}`
//! as InfluxDB answers a statement it cannot parse, and so is an `epoch`
//! other than `ns`. The token is checked as `Authorization: Token` or
//! `Bearer` (401 otherwise). The database is the one the statement names,
//! else `db=`; a retention policy other than `autogen` names the bucket
//! `db/rp` (InfluxDB 2's virtual DBRP mapping). An unknown one is answered
//! 200 with the statement's error, `database not found: DB`, as 1.x does.
//!
//! The answer has the shape of InfluxDB 1.x's (checked against influxd
//! 1.6): one series per tag set, sorted by tag values; `tags` has every tag
//! key of the measurement, `""` where the series lacks it (no `tags` for a
//! measurement without tags); `columns` are
//! `time` and the measurement's field keys, sorted; `values` one row per
//! time, ascending, `null` where the row lacks a field; times as integers;
//! floats as Go writes them (`1` for 1.0, `1e-7`, `1e+21`). No series in
//! the range: `{"results":[{"statement_id":0}]}`.

use std::fmt::Write as _;

use super::FieldValue;
use super::http::Request;
use super::store::Selected;
use super::{Config, Shared};

/// The one statement this endpoint answers.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Select {
    pub database: Option<String>,
    pub retention_policy: Option<String>,
    pub measurement: String,
    /// `time >= from`
    pub from: i64,
    /// `time < to`
    pub to: i64,
}

/// Answers a `GET /query`: the status and the JSON body.
pub(super) fn answer(shared: &Shared, config: &Config, request: &Request) -> (u16, String) {
    if let Some(token) = &config.token {
        let header = request.header("authorization").unwrap_or_default();
        let given = header
            .strip_prefix("Token ")
            .or_else(|| header.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return (
                401,
                r#"{"code":"unauthorized","message":"unauthorized access"}"#.to_owned(),
            );
        }
    }
    let Some(text) = request.param("q") else {
        return error(400, r#"missing required parameter "q""#);
    };
    match request.param("epoch") {
        Some("ns") => {}
        other => {
            let message = format!(
                "the test endpoint answers only epoch=ns, not {}",
                other.map_or("no epoch".to_owned(), |e| format!("epoch={e}"))
            );
            return error(400, &message);
        }
    }
    if is_show_measurements(text) {
        let Some(database) = request.param("db").filter(|d| !d.is_empty()) else {
            return statement_error("database name required");
        };
        return match shared.lock().store.measurements(database) {
            Some(names) if names.is_empty() => (200, r#"{"results":[{"statement_id":0}]}"#.into()),
            Some(names) => {
                let values: Vec<serde_json::Value> =
                    names.into_iter().map(|n| serde_json::json!([n])).collect();
                let body = serde_json::json!({ "results": [{ "statement_id": 0, "series": [
                    { "name": "measurements", "columns": ["name"], "values": values }
                ] }] });
                (200, body.to_string())
            }
            None => statement_error(&format!("database not found: {database}")),
        };
    }
    let select = match parse(text) {
        Ok(select) => select,
        Err(message) => return error(400, &format!("error parsing query: {message}")),
    };
    let Some(database) = select
        .database
        .clone()
        .or_else(|| request.param("db").map(str::to_owned))
        .filter(|d| !d.is_empty())
    else {
        return statement_error("database name required");
    };
    let bucket = match select.retention_policy.as_deref() {
        None | Some("autogen") => database.clone(),
        Some(rp) => format!("{database}/{rp}"),
    };
    let selected = shared
        .lock()
        .store
        .select(&bucket, &select.measurement, select.from, select.to);
    match selected {
        Some(selected) => (200, render(&select.measurement, &selected)),
        None => statement_error(&format!("database not found: {database}")),
    }
}

/// `SHOW MEASUREMENTS` (any case, an optional `;`), on `db=`.
fn is_show_measurements(text: &str) -> bool {
    let words: Vec<String> = text
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    words == ["SHOW", "MEASUREMENTS"]
}

fn error(status: u16, message: &str) -> (u16, String) {
    (status, format!(r#"{{"error":{}}}"#, quoted(message)))
}

/// A statement that parsed but failed: InfluxDB answers 200.
fn statement_error(message: &str) -> (u16, String) {
    (
        200,
        format!(
            r#"{{"results":[{{"statement_id":0,"error":{}}}]}}"#,
            quoted(message)
        ),
    )
}

fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn render(measurement: &str, selected: &Selected) -> String {
    if selected.series.is_empty() {
        return r#"{"results":[{"statement_id":0}]}"#.to_owned();
    }
    let mut columns = vec![quoted("time")];
    columns.extend(selected.field_keys.iter().map(|f| quoted(f)));
    let columns = columns.join(",");
    let mut out = String::from(r#"{"results":[{"statement_id":0,"series":["#);
    for (i, (tag_values, rows)) in selected.series.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, r#"{{"name":{}"#, quoted(measurement));
        // A measurement without tags: no `tags` at all, as 1.x answers.
        if !selected.tag_keys.is_empty() {
            let tags: Vec<String> = selected
                .tag_keys
                .iter()
                .zip(tag_values)
                .map(|(k, v)| format!("{}:{}", quoted(k), quoted(v)))
                .collect();
            let _ = write!(out, r#","tags":{{{}}}"#, tags.join(","));
        }
        let _ = write!(out, r#","columns":[{columns}],"values":["#);
        for (j, (time, values)) in rows.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "[{time}");
            for value in values {
                out.push(',');
                out.push_str(&value.as_ref().map_or("null".to_owned(), json_value));
            }
            out.push(']');
        }
        out.push_str("]}");
    }
    out.push_str("]}]}");
    out
}

/// A field value as InfluxDB's JSON writes it.
fn json_value(value: &FieldValue) -> String {
    match value {
        FieldValue::Float(v) => go_float(*v),
        FieldValue::Integer(v) => v.to_string(),
        FieldValue::UInteger(v) => v.to_string(),
        FieldValue::String(v) => quoted(v),
        FieldValue::Boolean(v) => v.to_string(),
    }
}

/// A float as Go's `encoding/json` writes it: the shortest text that reads
/// back as the same value, without a fraction when there is none, and with
/// an exponent below 1e-6 and from 1e21 on (`1e-7`, `1.5e+21`).
pub(super) fn go_float(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let text = format!("{v:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        }
    } else {
        format!("{v}")
    }
}

// ------------------------------------------------------------------ parsing

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A bare word (keywords among them) or a double-quoted identifier.
    Word {
        text: String,
        quoted: bool,
    },
    Integer(i64),
    Dot,
    Star,
    Semicolon,
    GreaterOrEqual,
    Less,
    /// Any other character, for the error message.
    Other(char),
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word { text, .. } => text.clone(),
            Token::Integer(n) => n.to_string(),
            Token::Dot => ".".into(),
            Token::Star => "*".into(),
            Token::Semicolon => ";".into(),
            Token::GreaterOrEqual => ">=".into(),
            Token::Less => "<".into(),
            Token::Other(c) => c.to_string(),
            Token::End => "EOF".into(),
        }
    }
}

/// The tokens, each with its place (1-based, in characters).
fn tokens(text: &str) -> Result<Vec<(Token, usize)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let place = at + 1;
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let token = if c == '"' {
            let mut name = String::new();
            at += 1;
            loop {
                match chars.get(at) {
                    None => {
                        return Err(format!(
                            "unexpected EOF in identifier at line 1, char {place}"
                        ));
                    }
                    Some('\\') if matches!(chars.get(at + 1), Some('"' | '\\')) => {
                        name.push(chars[at + 1]);
                        at += 2;
                    }
                    Some('"') => {
                        at += 1;
                        break;
                    }
                    Some(&other) => {
                        name.push(other);
                        at += 1;
                    }
                }
            }
            Token::Word {
                text: name,
                quoted: true,
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = at;
            while chars
                .get(at)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                at += 1;
            }
            Token::Word {
                text: chars[start..at].iter().collect(),
                quoted: false,
            }
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(at + 1).is_some_and(char::is_ascii_digit))
        {
            let start = at;
            at += 1;
            while chars.get(at).is_some_and(char::is_ascii_digit) {
                at += 1;
            }
            let digits: String = chars[start..at].iter().collect();
            match digits.parse() {
                Ok(n) => Token::Integer(n),
                Err(_) => return Err(format!("unable to parse integer at line 1, char {place}")),
            }
        } else if c == '\'' {
            // A time as a string, `'2026-11-28T20:00:00.000Z'`: InfluxQL
            // compares `time` with RFC 3339 text as with nanoseconds.
            at += 1;
            let start = at;
            while chars.get(at).is_some_and(|c| *c != '\'') {
                at += 1;
            }
            let text: String = chars[start..at.min(chars.len())].iter().collect();
            at += 1;
            match chrono::DateTime::parse_from_rfc3339(&text)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt())
            {
                Some(n) => Token::Integer(n),
                None => {
                    return Err(format!(
                        "invalid operation: time and *influxql.StringLiteral are not compatible at line 1, char {place}"
                    ));
                }
            }
        } else if c == '>' && chars.get(at + 1) == Some(&'=') {
            at += 2;
            Token::GreaterOrEqual
        } else {
            at += 1;
            match c {
                '.' => Token::Dot,
                '*' => Token::Star,
                ';' => Token::Semicolon,
                '<' if chars.get(at) != Some(&'=') => Token::Less,
                other => Token::Other(other),
            }
        };
        out.push((token, place));
    }
    // influxd places the end one past the last character, 1-based.
    out.push((Token::End, chars.len() + 2));
    Ok(out)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)].0
    }

    fn next(&mut self) -> (Token, usize) {
        let token = self.tokens[self.at.min(self.tokens.len() - 1)].clone();
        self.at += 1;
        token
    }

    fn unexpected(found: &(Token, usize), expected: &str) -> String {
        format!(
            "found {}, expected {expected} at line 1, char {}",
            found.0.describe(),
            found.1
        )
    }

    /// A bare keyword, in any case.
    fn keyword(&mut self, keyword: &str) -> Result<(), String> {
        let token = self.next();
        match &token.0 {
            Token::Word {
                text,
                quoted: false,
            } if text.eq_ignore_ascii_case(keyword) => Ok(()),
            _ => Err(Self::unexpected(&token, keyword)),
        }
    }

    fn expect(&mut self, wanted: Token) -> Result<(), String> {
        let token = self.next();
        match token.0 == wanted {
            true => Ok(()),
            false => Err(Self::unexpected(&token, &wanted.describe())),
        }
    }

    fn identifier(&mut self) -> Result<String, String> {
        let token = self.next();
        match token.0 {
            Token::Word { text, .. } => Ok(text),
            _ => Err(Self::unexpected(&token, "identifier")),
        }
    }

    fn integer(&mut self) -> Result<i64, String> {
        let token = self.next();
        match token.0 {
            Token::Integer(n) => Ok(n),
            _ => Err(Self::unexpected(&token, "an integer time in nanoseconds")),
        }
    }

    /// `time`, bare or quoted.
    fn time(&mut self) -> Result<(), String> {
        let token = self.next();
        match &token.0 {
            Token::Word { text, .. } if text == "time" => Ok(()),
            _ => Err(Self::unexpected(&token, "time")),
        }
    }
}

/// `SELECT * FROM <measurement> WHERE time >= F AND time < T GROUP BY *`.
pub(super) fn parse(text: &str) -> Result<Select, String> {
    let mut p = Parser {
        tokens: tokens(text)?,
        at: 0,
    };
    p.keyword("SELECT")?;
    p.expect(Token::Star)?;
    p.keyword("FROM")?;
    // Up to three parts; `db..m` leaves the retention policy out.
    let mut parts = vec![Some(p.identifier()?)];
    while *p.peek() == Token::Dot && parts.len() < 3 {
        p.next();
        if *p.peek() == Token::Dot && parts.len() == 1 {
            parts.push(None);
            continue;
        }
        parts.push(Some(p.identifier()?));
    }
    let (database, retention_policy, measurement) = match parts.as_slice() {
        [Some(m)] => (None, None, m.clone()),
        [Some(rp), Some(m)] => (None, Some(rp.clone()), m.clone()),
        [Some(db), rp, Some(m)] => (Some(db.clone()), rp.clone(), m.clone()),
        _ => {
            let token = p.next();
            return Err(Parser::unexpected(&token, "identifier"));
        }
    };
    p.keyword("WHERE")?;
    p.time()?;
    p.expect(Token::GreaterOrEqual)?;
    let from = p.integer()?;
    p.keyword("AND")?;
    p.time()?;
    p.expect(Token::Less)?;
    let to = p.integer()?;
    p.keyword("GROUP")?;
    p.keyword("BY")?;
    p.expect(Token::Star)?;
    if *p.peek() == Token::Semicolon {
        p.next();
    }
    p.expect(Token::End)?;
    Ok(Select {
        database,
        retention_policy,
        measurement,
        from,
        to,
    })
}
