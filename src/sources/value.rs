//! Cell text or a JSON field → a measure value of its declared type.

use serde_json::Value;

use super::{CellError, quoted};
use crate::model::{MeasureType, Scalar};

const DOUBLE_HELP: &str = "a double is a finite decimal number such as `4.1`, `-3` or `1e-3`";
const BIGINT_HELP: &str =
    "a bigint is a whole number such as `42`; declare the measure `double` if it has fractions";
const BOOLEAN_HELP: &str = "a boolean is `true` or `false` (in any case), or `1` or `0`";

/// A non-empty cell's text as a value of `ty`. Numbers and booleans may
/// have spaces around them; a varchar is kept exactly.
pub(crate) fn parse_text(ty: MeasureType, text: &str) -> Result<Scalar, CellError> {
    match ty {
        MeasureType::Double => parse_double(text.trim_ascii()).map(Scalar::Double),
        MeasureType::Bigint => parse_bigint(text.trim_ascii()).map(Scalar::Bigint),
        MeasureType::Boolean => parse_boolean(text.trim_ascii()).map(Scalar::Boolean),
        MeasureType::Varchar => Ok(Scalar::Varchar(text.to_owned())),
    }
}

/// A JSON field as a value of `ty`; `null`, and `""` for anything but a
/// varchar, are no value (as an empty CSV cell is).
pub(crate) fn parse_json(ty: MeasureType, value: &Value) -> Result<Option<Scalar>, CellError> {
    match (ty, value) {
        (_, Value::Null) => Ok(None),
        (MeasureType::Varchar, _) => json_text(value).map(|text| text.map(Scalar::Varchar)),
        (_, Value::String(text)) if text.trim_ascii().is_empty() => Ok(None),
        (_, Value::String(text)) => parse_text(ty, text).map(Some),
        (MeasureType::Double, Value::Number(n)) => {
            // Without serde_json's arbitrary precision every number has an f64.
            Ok(n.as_f64().map(Scalar::Double))
        }
        (MeasureType::Bigint, Value::Number(n)) => {
            if let Some(whole) = n.as_i64() {
                return Ok(Some(Scalar::Bigint(whole)));
            }
            if n.is_u64() {
                return Err(bigint_out_of_range(&n.to_string()));
            }
            let float = n.as_f64().unwrap_or(f64::NAN);
            // Whole floats (`3.0`) are exact up to 2^53.
            if float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0 {
                return Ok(Some(Scalar::Bigint(float as i64)));
            }
            Err(not_whole(&n.to_string()))
        }
        (MeasureType::Boolean, Value::Bool(b)) => Ok(Some(Scalar::Boolean(*b))),
        (MeasureType::Boolean, Value::Number(n)) => match n.as_u64() {
            Some(0) => Ok(Some(Scalar::Boolean(false))),
            Some(1) => Ok(Some(Scalar::Boolean(true))),
            _ => Err(CellError::new(
                format!("{} is not a boolean", quoted(&n.to_string())),
                BOOLEAN_HELP,
            )),
        },
        (_, other) => Err(CellError::new(
            format!(
                "{} is {}, not a {}",
                quoted(&other.to_string()),
                json_kind(other),
                ty.name()
            ),
            match ty {
                MeasureType::Double => DOUBLE_HELP,
                MeasureType::Bigint => BIGINT_HELP,
                _ => BOOLEAN_HELP,
            },
        )),
    }
}

/// A JSON scalar's text, for dimensions and varchars: strings as they are,
/// numbers and booleans as written; `null` is no value.
pub(crate) fn json_text(value: &Value) -> Result<Option<String>, CellError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        Value::Number(_) | Value::Bool(_) => Ok(Some(value.to_string())),
        Value::Array(_) | Value::Object(_) => Err(CellError::quoting(
            &value.to_string(),
            &format!("is {}, not text", json_kind(value)),
            "dimensions and varchar measures take a string, number or boolean",
        )),
    }
}

fn parse_double(text: &str) -> Result<f64, CellError> {
    if let Some(value) = plain_decimal(text) {
        return Ok(value);
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(CellError::new(
            format!("{} is not a finite number", quoted(text)),
            DOUBLE_HELP,
        )),
        Err(_) => Err(CellError::new(
            format!("{} is not a number", quoted(text)),
            DOUBLE_HELP,
        )),
    }
}

/// The 10^k a plain decimal of up to 15 digits may be divided by.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `-?digits[.digits]` with at most 15 digits in all (what recorded data
/// mostly holds), read without the general parser; `None` for any other
/// text. The bits are the general parser's: the digits are an integer
/// below 2^53 and 10^places is exact, so one correctly rounded division
/// gives the double nearest the decimal (Clinger's fast path).
fn plain_decimal(text: &str) -> Option<f64> {
    let (negative, unsigned) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        bytes => (false, bytes),
    };
    // 15 digits and a point at most: the digits cannot overflow below.
    if unsigned.len() > 16 {
        return None;
    }
    let mut digits = 0u64;
    let mut point = None;
    for (at, &c) in unsigned.iter().enumerate() {
        match c {
            b'0'..=b'9' => digits = digits * 10 + u64::from(c - b'0'),
            b'.' if point.is_none() => point = Some(at),
            _ => return None,
        }
    }
    let places = match point {
        None if !unsigned.is_empty() => 0,
        // Digits on both sides of the point.
        Some(at) if at > 0 && at + 1 < unsigned.len() => unsigned.len() - at - 1,
        _ => return None,
    };
    if unsigned.len() - usize::from(point.is_some()) > 15 {
        return None;
    }
    let magnitude = digits as f64 / POWERS_OF_TEN[places];
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_bigint(text: &str) -> Result<i64, CellError> {
    if let Ok(value) = text.parse::<i64>() {
        return Ok(value);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if all_digits(unsigned) {
        return Err(bigint_out_of_range(text));
    }
    // `42.0` is exactly 42; `42.5` is not a bigint.
    if let Some((whole, fraction)) = text.split_once('.')
        && all_digits(whole.strip_prefix(['-', '+']).unwrap_or(whole))
        && all_digits(fraction)
        && fraction.bytes().all(|c| c == b'0')
    {
        return whole.parse::<i64>().map_err(|_| bigint_out_of_range(text));
    }
    if text.parse::<f64>().is_ok_and(f64::is_finite) {
        return Err(not_whole(text));
    }
    Err(CellError::new(
        format!("{} is not a whole number", quoted(text)),
        BIGINT_HELP,
    ))
}

fn parse_boolean(text: &str) -> Result<bool, CellError> {
    if text.eq_ignore_ascii_case("true") || text == "1" {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") || text == "0" {
        Ok(false)
    } else {
        Err(CellError::new(
            format!("{} is not a boolean", quoted(text)),
            BOOLEAN_HELP,
        ))
    }
}

fn not_whole(text: &str) -> CellError {
    CellError::new(
        format!("{} has a fraction, so it is not a bigint", quoted(text)),
        BIGINT_HELP,
    )
}

fn bigint_out_of_range(text: &str) -> CellError {
    CellError::new(
        format!("{} is outside the bigint range (64-bit)", quoted(text)),
        "declare the measure `double` if it holds such large numbers",
    )
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(ty: MeasureType, s: &str) -> Result<Scalar, String> {
        parse_text(ty, s).map_err(|e| e.reason)
    }

    fn json(ty: MeasureType, v: Value) -> Result<Option<Scalar>, String> {
        parse_json(ty, &v).map_err(|e| e.reason)
    }

    /// The plain-decimal path gives the general parser's bits, and leaves
    /// every other text to it.
    #[test]
    fn plain_decimals_read_as_the_general_parser_reads_them() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            let width = 1 + next() % 17;
            let mut digits: String = (0..width)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let dot = next() % (width + 2);
            if dot < width {
                digits.insert(dot as usize, '.');
            }
            for text in [digits.clone(), format!("-{digits}")] {
                let general = text.parse::<f64>().ok();
                match plain_decimal(&text) {
                    Some(fast) => {
                        assert_eq!(Some(fast.to_bits()), general.map(f64::to_bits), "{text}")
                    }
                    None => assert!(
                        text.bytes().filter(u8::is_ascii_digit).count() > 15
                            || text.starts_with('.')
                            || text.starts_with("-.")
                            || text.ends_with('.'),
                        "{text}"
                    ),
                }
            }
        }
        for text in [
            "", "-", ".", "1.", ".5", "-.5", "+1", "1e3", "1.2.3", "0x10", " 1", "--1",
        ] {
            assert_eq!(plain_decimal(text), None, "{text}");
        }
        assert_eq!(
            plain_decimal("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(
            plain_decimal("999999999999999"),
            Some(999_999_999_999_999.0)
        );
        assert_eq!(plain_decimal("9999999999999999"), None);
    }

    #[test]
    fn doubles() {
        use MeasureType::Double;
        assert_eq!(text(Double, "4.1"), Ok(Scalar::Double(4.1)));
        assert_eq!(text(Double, " -3 "), Ok(Scalar::Double(-3.0)));
        assert_eq!(text(Double, "1e-3"), Ok(Scalar::Double(0.001)));
        assert_eq!(text(Double, "abc"), Err("`abc` is not a number".into()));
        assert_eq!(
            text(Double, "NaN"),
            Err("`NaN` is not a finite number".into())
        );
        assert_eq!(
            text(Double, "1e999"),
            Err("`1e999` is not a finite number".into())
        );
    }

    #[test]
    fn bigints_are_exact() {
        use MeasureType::Bigint;
        assert_eq!(text(Bigint, "42"), Ok(Scalar::Bigint(42)));
        assert_eq!(
            text(Bigint, "-9223372036854775808"),
            Ok(Scalar::Bigint(i64::MIN))
        );
        assert_eq!(text(Bigint, "42.000"), Ok(Scalar::Bigint(42)));
        assert_eq!(
            text(Bigint, "1.5"),
            Err("`1.5` has a fraction, so it is not a bigint".into())
        );
        assert_eq!(
            text(Bigint, "9223372036854775808"),
            Err("`9223372036854775808` is outside the bigint range (64-bit)".into())
        );
        assert_eq!(
            text(Bigint, "ten"),
            Err("`ten` is not a whole number".into())
        );
    }

    #[test]
    fn booleans() {
        use MeasureType::Boolean;
        for (s, b) in [
            ("true", true),
            ("TRUE", true),
            ("False", false),
            ("1", true),
            ("0", false),
        ] {
            assert_eq!(text(Boolean, s), Ok(Scalar::Boolean(b)), "{s}");
        }
        assert_eq!(text(Boolean, "yes"), Err("`yes` is not a boolean".into()));
    }

    #[test]
    fn varchars_are_kept_as_they_are() {
        assert_eq!(
            text(MeasureType::Varchar, " a b "),
            Ok(Scalar::Varchar(" a b ".into()))
        );
    }

    #[test]
    fn json_values() {
        use MeasureType::*;
        assert_eq!(json(Double, json!(4)), Ok(Some(Scalar::Double(4.0))));
        assert_eq!(json(Double, json!("4.5")), Ok(Some(Scalar::Double(4.5))));
        assert_eq!(json(Double, json!(null)), Ok(None));
        assert_eq!(json(Double, json!("")), Ok(None));
        assert_eq!(
            json(Double, json!(true)),
            Err("`true` is a boolean, not a double".into())
        );
        assert_eq!(json(Bigint, json!(7)), Ok(Some(Scalar::Bigint(7))));
        assert_eq!(json(Bigint, json!(7.0)), Ok(Some(Scalar::Bigint(7))));
        assert_eq!(
            json(Bigint, json!(7.5)),
            Err("`7.5` has a fraction, so it is not a bigint".into())
        );
        assert!(
            json(Bigint, json!(u64::MAX))
                .unwrap_err()
                .contains("outside the bigint range")
        );
        assert_eq!(json(Boolean, json!(true)), Ok(Some(Scalar::Boolean(true))));
        assert_eq!(
            json(Boolean, json!("false")),
            Ok(Some(Scalar::Boolean(false)))
        );
        assert_eq!(json(Boolean, json!(0)), Ok(Some(Scalar::Boolean(false))));
        assert_eq!(json(Boolean, json!(2)), Err("`2` is not a boolean".into()));
        assert_eq!(
            json(Varchar, json!(3.5)),
            Ok(Some(Scalar::Varchar("3.5".into())))
        );
        assert_eq!(
            json(Varchar, json!(false)),
            Ok(Some(Scalar::Varchar("false".into())))
        );
        assert_eq!(
            json(Varchar, json!("")),
            Ok(Some(Scalar::Varchar(String::new())))
        );
        assert_eq!(
            json(Varchar, json!([1])),
            Err("`[1]` is an array, not text".into())
        );
    }
}
