//! Times for people, without a calendar crate: the agent and the server both write them into
//! tickets and status lines.

/// `2026-11-22 01:20:05 UTC` for milliseconds since the Unix epoch.
pub fn utc_text(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        utc_date(ms),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `2026-11-22`: the UTC calendar date of milliseconds since the Unix epoch.
pub fn utc_date(ms: i64) -> String {
    let days = ms.div_euclid(1000).div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::{utc_date, utc_text};

    #[test]
    fn known_instants_read_as_calendar_times() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(1_795_310_405_999), "2026-11-22 01:20:05 UTC");
        assert_eq!(utc_text(-1000), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc_date(1_795_310_405_999), "2026-11-22");
    }
}
