//! Maintenance windows, pure: a policy's weekly windows in its time zone and its one-off
//! windows, whether a moment falls inside one, and until when. An alert raised inside a window
//! opens no ticket; when the window ends, the alerts still raised open theirs (`store::held`).
//!
//! Written as JSON (the admin API) or as lines of text (the console and the CLI):
//! - weekly: `mon-fri 22:00-02:00`, `sat,sun 00:00-00:00` (a whole day), `daily 03:00-03:30`;
//!   an end at or before the start is on the next day;
//! - one-off: `2026-12-24 18:00 - 2026-12-27 08:00 Office move` (local times, then a note).

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// At most this many windows of each kind per policy.
pub const MAX_WINDOWS: usize = 50;
/// A one-off window lasts at most this long.
const MAX_ONE_OFF_DAYS: i64 = 31;
const NOTE_CHARS: usize = 200;

/// A policy's maintenance windows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Maintenance {
    /// An IANA time zone (`Europe/Berlin`); empty is UTC.
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub weekly: Vec<Weekly>,
    #[serde(default)]
    pub once: Vec<OneOff>,
}

/// Every week on `days`, from `start` to `end` (local times, `HH:MM`; an end at or before the
/// start falls on the next day).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Weekly {
    pub days: Vec<Day>,
    pub start: String,
    pub end: String,
}

/// Once, from `start` to `end` (local date and time, `2026-12-24T18:00`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneOff {
    pub start: String,
    pub end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

const DAYS: [(Day, &str, Weekday); 7] = [
    (Day::Mon, "mon", Weekday::Monday),
    (Day::Tue, "tue", Weekday::Tuesday),
    (Day::Wed, "wed", Weekday::Wednesday),
    (Day::Thu, "thu", Weekday::Thursday),
    (Day::Fri, "fri", Weekday::Friday),
    (Day::Sat, "sat", Weekday::Saturday),
    (Day::Sun, "sun", Weekday::Sunday),
];

impl Day {
    fn name(self) -> &'static str {
        DAYS.iter().find(|d| d.0 == self).map_or("mon", |d| d.1)
    }

    fn weekday(self) -> Weekday {
        DAYS.iter()
            .find(|d| d.0 == self)
            .map_or(Weekday::Monday, |d| d.2)
    }

    fn parse(s: &str) -> Option<Day> {
        DAYS.iter().find(|d| d.1 == s).map(|d| d.0)
    }
}

fn time(s: &str, what: &str) -> Result<Time, String> {
    let t: Time = s
        .parse()
        .map_err(|_| format!("{what} {s:?} is not a time of day (HH:MM)"))?;
    Ok(t.with().second(0).subsec_nanosecond(0).build().unwrap_or(t))
}

fn civil(s: &str, what: &str) -> Result<DateTime, String> {
    s.replace(' ', "T")
        .parse()
        .map_err(|_| format!("{what} {s:?} is not a date and time (2026-12-24T18:00)"))
}

impl Maintenance {
    pub fn is_empty(&self) -> bool {
        self.weekly.is_empty() && self.once.is_empty()
    }

    /// The zone its times are in.
    pub fn zone(&self) -> Result<TimeZone, String> {
        match self.time_zone.trim() {
            "" => Ok(TimeZone::UTC),
            name => TimeZone::get(name).map_err(|_| {
                format!("{name:?} is not a time zone Bindery knows (use a name like Europe/Berlin)")
            }),
        }
    }

    /// Every problem, as one message naming the first.
    pub fn check(&self) -> Result<(), String> {
        self.zone()?;
        if self.weekly.len() > MAX_WINDOWS || self.once.len() > MAX_WINDOWS {
            return Err(format!(
                "at most {MAX_WINDOWS} weekly and {MAX_WINDOWS} one-off windows"
            ));
        }
        for (i, w) in self.weekly.iter().enumerate() {
            if w.days.is_empty() {
                return Err(format!("weekly window {}: name at least one day", i + 1));
            }
            time(&w.start, "start")?;
            time(&w.end, "end")?;
        }
        for (i, o) in self.once.iter().enumerate() {
            let (s, e) = (civil(&o.start, "start")?, civil(&o.end, "end")?);
            if e <= s {
                return Err(format!(
                    "one-off window {}: it ends before it starts",
                    i + 1
                ));
            }
            if e > s.checked_add(MAX_ONE_OFF_DAYS.days()).unwrap_or(e) {
                return Err(format!(
                    "one-off window {}: longer than {MAX_ONE_OFF_DAYS} days",
                    i + 1
                ));
            }
            if o.note
                .as_ref()
                .is_some_and(|n| n.chars().count() > NOTE_CHARS)
            {
                return Err(format!(
                    "one-off window {}: the note is over {NOTE_CHARS} characters",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    /// The windows, in milliseconds, that could contain `at_ms` (weekly ones starting on its
    /// local day or the day before, and every one-off).
    fn spans_near(&self, tz: &TimeZone, at_ms: i64) -> Vec<(i64, i64)> {
        let Ok(at) = Timestamp::from_millisecond(at_ms) else {
            return Vec::new();
        };
        let today = at.to_zoned(tz.clone()).date();
        let mut out = Vec::new();
        for day in [today.yesterday(), Ok(today), today.tomorrow()]
            .into_iter()
            .flatten()
        {
            for w in &self.weekly {
                if w.days.iter().any(|d| d.weekday() == day.weekday())
                    && let Some(span) = weekly_span(tz, day, w)
                {
                    out.push(span);
                }
            }
        }
        for o in &self.once {
            let local = |s: &str| {
                civil(s, "")
                    .ok()
                    .and_then(|dt| dt.to_zoned(tz.clone()).ok())
                    .map(|z| z.timestamp().as_millisecond())
            };
            if let (Some(s), Some(e)) = (local(&o.start), local(&o.end)) {
                out.push((s, e));
            }
        }
        out
    }

    /// If `at_ms` is inside a window, when maintenance ends (windows that touch or overlap
    /// count as one).
    pub fn held_until(&self, at_ms: i64) -> Option<i64> {
        let tz = self.zone().ok()?;
        let mut until: Option<i64> = None;
        let mut probe = at_ms;
        // Each round follows the maintenance to a later end; a week of back-to-back windows
        // is at most a few dozen rounds.
        for _ in 0..64 {
            let end = self
                .spans_near(&tz, probe)
                .into_iter()
                .filter(|(s, e)| *s <= probe && probe < *e)
                .map(|(_, e)| e)
                .max();
            match end {
                Some(e) if until.is_none_or(|u| e > u) => {
                    until = Some(e);
                    probe = e;
                }
                _ => break,
            }
        }
        until
    }

    /// When the next window starts after `at_ms`, within the next eight days.
    pub fn next_start(&self, at_ms: i64) -> Option<i64> {
        let tz = self.zone().ok()?;
        (0..8)
            .flat_map(|d| self.spans_near(&tz, at_ms + d * 86_400_000))
            .map(|(s, _)| s)
            .filter(|s| *s > at_ms)
            .min()
    }

    /// A moment as the policy's clock shows it (`2026-12-05 22:00 CET`).
    pub fn local_text(&self, ms: i64) -> String {
        match (self.zone(), Timestamp::from_millisecond(ms)) {
            (Ok(tz), Ok(ts)) => ts.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string(),
            _ => bindery_shared::time::utc_text(ms),
        }
    }

    /// The windows as lines of text (the console's and the CLI's form).
    pub fn to_lines(&self) -> String {
        let mut lines: Vec<String> = self
            .weekly
            .iter()
            .map(|w| {
                let days: Vec<&str> = w.days.iter().map(|d| d.name()).collect();
                let days = if w.days.len() == 7 {
                    "daily".into()
                } else {
                    days.join(",")
                };
                format!("{days} {}-{}", w.start, w.end)
            })
            .collect();
        lines.extend(self.once.iter().map(|o| {
            let note = o
                .note
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            format!(
                "{} - {}{note}",
                o.start.replace('T', " "),
                o.end.replace('T', " ")
            )
        }));
        lines.join("\n")
    }

    /// Reads the windows from lines of text (blank lines and `#` comments skipped); the error
    /// names the line.
    pub fn parse_lines(time_zone: &str, text: &str) -> Result<Maintenance, String> {
        let mut m = Maintenance {
            time_zone: time_zone.trim().to_owned(),
            ..Maintenance::default()
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |e: String| format!("line {}: {e}", n + 1);
            if line.starts_with(|c: char| c.is_ascii_digit()) {
                m.once.push(one_off_line(line).map_err(at)?);
            } else {
                m.weekly.push(weekly_line(line).map_err(at)?);
            }
        }
        m.check()?;
        Ok(m)
    }
}

/// Where a weekly window starting on `day` begins and ends. A start that does not exist
/// (a spring-forward gap) is taken as the moment after the gap, as clocks do.
fn weekly_span(tz: &TimeZone, day: Date, w: &Weekly) -> Option<(i64, i64)> {
    let (s, e) = (time(&w.start, "").ok()?, time(&w.end, "").ok()?);
    let start = day.to_datetime(s).to_zoned(tz.clone()).ok()?;
    let end_day = if e <= s { day.tomorrow().ok()? } else { day };
    let end = end_day.to_datetime(e).to_zoned(tz.clone()).ok()?;
    Some((
        start.timestamp().as_millisecond(),
        end.timestamp().as_millisecond(),
    ))
}

fn weekly_line(line: &str) -> Result<Weekly, String> {
    let (days, times) = line
        .split_once(char::is_whitespace)
        .ok_or_else(|| "write days and times, like \"sat,sun 22:00-02:00\"".to_owned())?;
    let (start, end) = times
        .trim()
        .split_once('-')
        .ok_or_else(|| format!("{times:?}: write the times as 22:00-02:00"))?;
    let mut out = Vec::new();
    for part in days.to_lowercase().split(',') {
        let part = part.trim();
        if part == "daily" {
            out.extend(DAYS.iter().map(|d| d.0));
        } else if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (Day::parse(a), Day::parse(b));
            let (Some(a), Some(b)) = (a, b) else {
                return Err(format!("{part:?} is not a range of days (mon-fri)"));
            };
            let (i, j) = (a as usize, b as usize);
            let range: Vec<Day> = if i <= j {
                DAYS[i..=j].iter().map(|d| d.0).collect()
            } else {
                DAYS[i..].iter().chain(&DAYS[..=j]).map(|d| d.0).collect()
            };
            out.extend(range);
        } else {
            out.push(Day::parse(part).ok_or_else(|| {
                format!("{part:?} is not a day (mon, tue, wed, thu, fri, sat, sun, daily)")
            })?);
        }
    }
    out.sort_by_key(|d| *d as usize);
    out.dedup();
    let w = Weekly {
        days: out,
        start: start.trim().to_owned(),
        end: end.trim().to_owned(),
    };
    time(&w.start, "start")?;
    time(&w.end, "end")?;
    Ok(w)
}

fn one_off_line(line: &str) -> Result<OneOff, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [d1, t1, "-", d2, t2, rest @ ..] = words.as_slice() else {
        return Err(
            "write a one-off window as \"2026-12-24 18:00 - 2026-12-27 08:00 note\"".into(),
        );
    };
    let o = OneOff {
        start: format!("{d1}T{t1}"),
        end: format!("{d2}T{t2}"),
        note: (!rest.is_empty()).then(|| rest.join(" ")),
    };
    civil(&o.start, "start")?;
    civil(&o.end, "end")?;
    Ok(o)
}

#[cfg(test)]
#[path = "maintenance_tests.rs"]
mod tests;
