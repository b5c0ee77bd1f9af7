//! Ingested agent events and the batch formats they arrive in.
//!
//! An event is `{"agent_id": "...", "timestamp": "RFC 3339", "command": "..."}`, or for a tool
//! call `{"agent_id", "timestamp", "tool": "...", "input": {...}}`; `outcome` is optional. A batch
//! is one event, a JSON array of events, or NDJSON (one event per line). A batch is parsed whole
//! before anything is applied: the first bad event rejects the batch, naming its line.

use serde::{Deserialize, Serialize};

/// Largest accepted agent id, in bytes.
pub const MAX_AGENT_ID: usize = 256;
/// Largest accepted command line, in bytes (the engine has its own, tighter bounds).
pub const MAX_COMMAND: usize = 1 << 20;

/// What the agent did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A shell command line.
    Command(String),
    /// A tool call with its input.
    Tool {
        /// The tool's name (`Write`, `mcp__server__tool`, ...).
        name: String,
        /// The tool's input.
        input: serde_json::Value,
    },
}

/// One validated event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The agent's id.
    pub agent_id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The command or tool call.
    pub action: Action,
    /// What happened, when the agent reports it (`"ok"`, `"error"`, an exit code, ...).
    pub outcome: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    agent_id: String,
    timestamp: String,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    input: Option<serde_json::Value>,
    #[serde(default)]
    outcome: Option<serde_json::Value>,
}

/// A batch that was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BatchError {
    /// 1-based line (NDJSON) or 1-based position in the array / 1 for a single object.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn bad(line: usize, message: impl Into<String>) -> BatchError {
    BatchError {
        line,
        message: message.into(),
    }
}

fn validate(line: usize, w: Wire) -> Result<Event, BatchError> {
    if w.agent_id.is_empty()
        || w.agent_id.len() > MAX_AGENT_ID
        || w.agent_id.chars().any(char::is_control)
    {
        return Err(bad(
            line,
            format!("agent_id must be 1 to {MAX_AGENT_ID} bytes without control characters"),
        ));
    }
    let timestamp_ms = parse_rfc3339_ms(&w.timestamp).ok_or_else(|| {
        bad(
            line,
            format!(
                "timestamp {:?} is not an RFC 3339 date-time after 1970",
                w.timestamp
            ),
        )
    })?;
    let action = match (w.command, w.tool, w.input) {
        (Some(c), None, None) => {
            if c.len() > MAX_COMMAND {
                return Err(bad(
                    line,
                    format!("command longer than {MAX_COMMAND} bytes"),
                ));
            }
            Action::Command(c)
        }
        (None, Some(name), input) => {
            if name.is_empty() || name.len() > 256 {
                return Err(bad(line, "tool name must be 1 to 256 bytes"));
            }
            Action::Tool {
                name,
                input: input.unwrap_or(serde_json::Value::Null),
            }
        }
        (Some(_), Some(_), _) => {
            return Err(bad(line, "an event has either command or tool, not both"));
        }
        (Some(_), None, Some(_)) => return Err(bad(line, "input belongs to a tool call")),
        (None, None, _) => return Err(bad(line, "an event needs command or tool")),
    };
    let outcome = match w.outcome {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    Ok(Event {
        agent_id: w.agent_id,
        timestamp_ms,
        action,
        outcome,
    })
}

fn one(line: usize, v: serde_json::Value) -> Result<Event, BatchError> {
    let w: Wire = serde_json::from_value(v).map_err(|e| bad(line, e.to_string()))?;
    validate(line, w)
}

/// Parses an `application/json` body: one event or an array of events.
pub fn parse_json(body: &[u8]) -> Result<Vec<Event>, BatchError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(e.line(), e.to_string()))?;
    match v {
        serde_json::Value::Array(items) => {
            if items.is_empty() {
                return Err(bad(1, "empty batch"));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| one(i + 1, v))
                .collect()
        }
        v @ serde_json::Value::Object(_) => Ok(vec![one(1, v)?]),
        _ => Err(bad(1, "expected an event object or an array of events")),
    }
}

/// Parses an `application/x-ndjson` body: one event per line; blank lines are skipped.
pub fn parse_ndjson(body: &[u8]) -> Result<Vec<Event>, BatchError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        bad(line, "not UTF-8")
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // Straight into the wire struct: no intermediate `Value` tree per line.
        let w: Wire = serde_json::from_str(line).map_err(|e| bad(i + 1, e.to_string()))?;
        out.push(validate(i + 1, w)?);
    }
    if out.is_empty() {
        return Err(bad(1, "empty batch"));
    }
    Ok(out)
}

/// Milliseconds since the Unix epoch of an RFC 3339 `date-time` (§5.6):
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, `T`/`Z` in either case. A leap second (`:60`)
/// counts as the last millisecond of its minute. `None` for anything else or before 1970.
pub fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        d.iter().try_fold(0i64, |acc, x| {
            acc.checked_mul(10)?.checked_add(i64::from(x - b'0'))
        })
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        for (k, d) in b[start..i].iter().take(3).enumerate() {
            millis += i64::from(d - b'0') * [100, 10, 1][k];
        }
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian), H. Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let (second, millis) = if second == 60 {
        (59, 999)
    } else {
        (second, millis)
    };
    let ms = ((days * 24 + hour) * 60 + minute - offset_min) * 60_000 + second * 1000 + millis;
    u64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OK: &str = r#"{"agent_id":"a1","timestamp":"2026-12-03T12:00:00Z","command":"ls -la"}"#;

    #[test]
    fn accepts_the_three_shapes() {
        assert_eq!(parse_json(OK.as_bytes()).unwrap().len(), 1);
        assert_eq!(
            parse_json(format!("[{OK},{OK}]").as_bytes()).unwrap().len(),
            2
        );
        assert_eq!(
            parse_ndjson(format!("{OK}\n\n{OK}\n").as_bytes())
                .unwrap()
                .len(),
            2
        );
        let tool = r#"{"agent_id":"a","timestamp":"2026-12-03T12:00:00.5+01:00","tool":"Write","input":{"file_path":"/tmp/x"},"outcome":0}"#;
        let e = &parse_json(tool.as_bytes()).unwrap()[0];
        assert!(matches!(&e.action, Action::Tool { name, .. } if name == "Write"));
        assert_eq!(e.outcome.as_deref(), Some("0"));
        assert_eq!(e.timestamp_ms % 1000, 500);
    }

    #[test]
    fn names_the_bad_line() {
        let body = format!(
            "{OK}\n{OK}\n{{\"agent_id\":\"a\",\"timestamp\":\"yesterday\",\"command\":\"ls\"}}\n"
        );
        let e = parse_ndjson(body.as_bytes()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("RFC 3339"));
        let e = parse_json(
            format!("[{OK}, {{\"agent_id\":\"a\",\"timestamp\":\"2026-12-03T12:00:00Z\"}}]")
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        for body in [
            "",
            "[]",
            "7",
            "{\"agent_id\":\"\",\"timestamp\":\"2026-12-03T12:00:00Z\",\"command\":\"ls\"}",
        ] {
            assert!(parse_json(body.as_bytes()).is_err(), "{body:?}");
        }
        let both =
            r#"{"agent_id":"a","timestamp":"2026-12-03T12:00:00Z","command":"ls","tool":"Read"}"#;
        assert!(parse_json(both.as_bytes()).is_err());
        let extra =
            r#"{"agent_id":"a","timestamp":"2026-12-03T12:00:00Z","command":"ls","surprise":1}"#;
        assert!(
            parse_json(extra.as_bytes()).is_err(),
            "unknown fields are an error, not silently dropped"
        );
        assert_eq!(parse_ndjson(b"\xff\xfe").unwrap_err().line, 1);
    }

    #[test]
    fn rfc3339_known_answers() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-12-03T12:00:00Z"),
            Some(1_796_299_200_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-12-03T13:00:00.250+01:00"),
            Some(1_796_299_200_250)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29t00:00:00z"),
            Some(951_782_400_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2016-12-31T23:59:60Z"),
            Some(1_483_228_799_999)
        );
        for bad in [
            "",
            "2026-12-03",
            "2026-12-03 12:00:00Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-03T24:00:00Z",
            "2026-12-03T12:00:00",
            "2026-12-03T12:00:00+0100",
            "1969-12-31T23:59:59Z",
            "2026-12-03T12:00:00.Z",
            "2026-12-03T12:00:00Zjunk",
            "+026-12-03T12:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn rfc3339_never_panics(s in ".{0,40}") {
            let _ = parse_rfc3339_ms(&s);
        }

        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_json(&body);
            let _ = parse_ndjson(&body);
        }
    }
}
