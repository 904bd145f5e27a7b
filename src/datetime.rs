//! FHIR date/dateTime text to HL7 v3 timestamps.
//!
//! HL7 v3 wants `YYYYMMDDHHMMSS` in UTC for date-times and `YYYYMMDD` for dates. As the
//! reference does, offsets are applied and fractional seconds truncated (not rounded).
//! Unlike the reference, impossible values (a leap second, 31 February) are refused rather
//! than written as `Invalid date`. Parsed by hand: FHIR's partial dates (`2021`, `2021-02`)
//! and optional seconds are not RFC 3339, and the rules are short.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A point in time, in UTC, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub OffsetDateTime);

impl Instant {
    /// Parses an RFC 3339 / FHIR `instant`-style date-time with an offset.
    pub fn parse_rfc3339(text: &str) -> Result<Instant, String> {
        match parse_fhir(text)? {
            FhirTime::DateTime(t) => Ok(Instant(t)),
            FhirTime::Date(..) => Err(format!(
                "'{text}' is a date, a date-time with an offset is needed"
            )),
        }
    }

    /// From seconds since the Unix epoch.
    pub fn from_unix(seconds: i64) -> Result<Instant, String> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map(Instant)
            .map_err(|e| e.to_string())
    }

    /// `YYYYMMDDHHMMSS` in UTC.
    pub fn hl7(&self) -> String {
        let t = self.0.to_offset(UtcOffset::UTC);
        let mut out = String::with_capacity(14);
        push_padded(&mut out, t.year().unsigned_abs(), 4);
        for part in [
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        ] {
            push_padded(&mut out, u32::from(part), 2);
        }
        out
    }

    /// `YYYY-MM-DDTHH:MM:SS+00:00`, the form the reference returns timestamps in.
    pub fn iso_utc(&self) -> String {
        let t = self.0.to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// A parsed FHIR `date` or `dateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirTime {
    /// A date, possibly partial: year, month, day.
    Date(i32, Option<u8>, Option<u8>),
    /// A date-time, to the second, fraction dropped.
    DateTime(OffsetDateTime),
}

impl FhirTime {
    /// The HL7 v3 timestamp `YYYYMMDDHHMMSS` (UTC); a date is that day at midnight, and a
    /// partial date is padded with the first month and day, as the reference pads it.
    pub fn hl7_timestamp(&self) -> String {
        match self {
            FhirTime::Date(..) => format!("{}000000", self.hl7_date()),
            FhirTime::DateTime(t) => Instant(*t).hl7(),
        }
    }

    /// The HL7 v3 date `YYYYMMDD` (the UTC date for a date-time; partial dates padded).
    pub fn hl7_date(&self) -> String {
        match self {
            FhirTime::Date(y, m, d) => format!("{y:04}{:02}{:02}", m.unwrap_or(1), d.unwrap_or(1)),
            FhirTime::DateTime(t) => Instant(*t).hl7()[..8].to_string(),
        }
    }
}

/// Appends `n` zero-padded to `width` digits (what `format!("{n:0width$}")` writes, without
/// the formatting machinery: translation writes several timestamps per message).
fn push_padded(out: &mut String, n: u32, width: u32) {
    let digits = n.checked_ilog10().unwrap_or(0) + 1;
    for _ in digits..width {
        out.push('0');
    }
    let mut divisor = 10u32.pow(digits - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (n / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// Converts a FHIR date or dateTime to an HL7 v3 timestamp (`YYYYMMDDHHMMSS`, UTC).
pub fn to_hl7_timestamp(text: &str) -> Result<String, String> {
    parse_fhir(text).map(|t| t.hl7_timestamp())
}

/// Converts a FHIR `date` (no time part allowed) to an HL7 v3 date (`YYYYMMDD`).
pub fn date_only_to_hl7(text: &str) -> Result<String, String> {
    match parse_fhir(text)? {
        t @ FhirTime::Date(..) => Ok(t.hl7_date()),
        FhirTime::DateTime(_) => Err(format!("Incorrect format for date string '{text}'.")),
    }
}

/// Converts a FHIR date or dateTime to an HL7 v3 date (`YYYYMMDD`).
pub fn to_hl7_date(text: &str) -> Result<String, String> {
    parse_fhir(text).map(|t| t.hl7_date())
}

fn digits(s: &str, what: &str, text: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{text}' is not a valid FHIR date/dateTime ({what})"
        ));
    }
    s.parse()
        .map_err(|_| format!("'{text}' is not a valid FHIR date/dateTime ({what})"))
}

/// Parses FHIR `date` / `dateTime` text.
pub fn parse_fhir(text: &str) -> Result<FhirTime, String> {
    let bad = |what: &str| format!("'{text}' is not a valid FHIR date/dateTime ({what})");
    let (date_part, time_part) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut it = date_part.split('-');
    let year_s = it.next().unwrap_or("");
    if year_s.len() != 4 {
        return Err(bad("year"));
    }
    let year = digits(year_s, "year", text)? as i32;
    let month = it
        .next()
        .map(|m| {
            if m.len() == 2 {
                digits(m, "month", text)
            } else {
                Err(bad("month"))
            }
        })
        .transpose()?;
    let day = it
        .next()
        .map(|d| {
            if d.len() == 2 {
                digits(d, "day", text)
            } else {
                Err(bad("day"))
            }
        })
        .transpose()?;
    if it.next().is_some() {
        return Err(bad("date"));
    }
    let month_enum = match month {
        Some(m) => Some(Month::try_from(m as u8).map_err(|_| bad("month"))?),
        None => None,
    };
    if let (Some(m), Some(d)) = (month_enum, day) {
        Date::from_calendar_date(year, m, d as u8).map_err(|_| bad("day out of range"))?;
    }
    let Some(time_part) = time_part else {
        return Ok(FhirTime::Date(
            year,
            month.map(|m| m as u8),
            day.map(|d| d as u8),
        ));
    };
    let (Some(m), Some(d)) = (month_enum, day) else {
        return Err(bad("a time needs a full date"));
    };
    // Split the offset off: Z, +hh:mm or -hh:mm.
    let (clock, offset) = if let Some(c) = time_part.strip_suffix('Z') {
        (c, UtcOffset::UTC)
    } else if let Some(pos) = time_part.rfind(['+', '-']) {
        let (c, o) = time_part.split_at(pos);
        let sign: i8 = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o[1..].split_once(':').ok_or_else(|| bad("offset"))?;
        if oh.len() != 2 || om.len() != 2 {
            return Err(bad("offset"));
        }
        let oh = digits(oh, "offset", text)? as i8;
        let om = digits(om, "offset", text)? as i8;
        (
            c,
            UtcOffset::from_hms(sign * oh, sign * om, 0).map_err(|_| bad("offset"))?,
        )
    } else {
        return Err(bad("a date-time needs an offset"));
    };
    let (hms, _fraction) = match clock.split_once('.') {
        Some((h, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (h, f),
        Some(_) => return Err(bad("fraction")),
        None => (clock, ""),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.len() != 2) {
        return Err(bad("time must be hh:mm:ss"));
    }
    let h = digits(parts[0], "hour", text)? as u8;
    let mi = digits(parts[1], "minute", text)? as u8;
    let s = digits(parts[2], "second", text)? as u8;
    let time = Time::from_hms(h, mi, s).map_err(|_| bad("time out of range"))?;
    let date = Date::from_calendar_date(year, m, d as u8).map_err(|_| bad("day out of range"))?;
    let t = PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC);
    Ok(FhirTime::DateTime(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_digits_match_format() {
        for (n, width) in [
            (0, 2),
            (7, 2),
            (10, 2),
            (59, 2),
            (1, 4),
            (999, 4),
            (2024, 4),
            (12345, 4),
        ] {
            let mut out = String::new();
            push_padded(&mut out, n, width);
            assert_eq!(out, format!("{n:0w$}", w = width as usize));
        }
        let t = Instant::parse_rfc3339("0999-01-02T03:04:05+01:00").unwrap();
        assert_eq!(t.hl7(), "09990102020405");
    }

    #[test]
    fn converts_to_utc_and_truncates() {
        assert_eq!(
            to_hl7_timestamp("2022-10-21T14:47:00.999+01:00").unwrap(),
            "20221021134700"
        );
        assert_eq!(
            to_hl7_timestamp("2022-10-21T00:30:00-01:00").unwrap(),
            "20221021013000"
        );
        assert_eq!(
            to_hl7_timestamp("2022-02-28T14:57:09Z").unwrap(),
            "20220228145709"
        );
        assert_eq!(to_hl7_timestamp("2022-10-21").unwrap(), "20221021000000");
        assert_eq!(to_hl7_date("2011-03-30").unwrap(), "20110330");
        assert_eq!(to_hl7_date("1932-01").unwrap(), "19320101");
        assert_eq!(
            to_hl7_date("2022-10-21T00:30:00+01:00").unwrap(),
            "20221020"
        );
        assert_eq!(
            to_hl7_date("2022-10-21T23:30:00-01:00").unwrap(),
            "20221022"
        );
    }

    #[test]
    fn refuses_impossible_values() {
        assert!(to_hl7_timestamp("2016-12-31T23:59:60Z").is_err());
        assert!(to_hl7_timestamp("2021-02-31").is_err());
        assert!(to_hl7_timestamp("2021-02-01T10:00:00").is_err());
        assert!(to_hl7_timestamp("2022-10-21T13:47+01:00").is_err());
        assert!(date_only_to_hl7("1932-01-06T10:00:00+01:00").is_err());
        assert!(to_hl7_timestamp("yesterday").is_err());
    }
}
