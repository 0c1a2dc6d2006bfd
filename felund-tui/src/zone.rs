//! The time zone timestamps are shown in: in the local time zone when running, or at a fixed
//! offset (UTC in tests) so rendering tests do not depend on the machine.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, Offset, TimeZone, Utc};

/// The time zone used to show message times and day dividers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayZone {
    /// The machine's local time zone (with its daylight-saving rules).
    Local,
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
}

impl DisplayZone {
    /// UTC: what tests use.
    pub fn utc() -> Self {
        DisplayZone::Fixed(Utc.fix())
    }

    /// A Unix time in this zone, `None` if out of range.
    fn at(self, ts: i64) -> Option<DateTime<FixedOffset>> {
        match self {
            DisplayZone::Local => Local
                .timestamp_opt(ts, 0)
                .single()
                .map(|t| t.fixed_offset()),
            DisplayZone::Fixed(off) => off.timestamp_opt(ts, 0).single(),
        }
    }

    /// `HH:MM` of a Unix time (`--:--` when it cannot be shown).
    pub fn time(self, ts: i64) -> String {
        self.at(ts)
            .map_or_else(|| "--:--".to_string(), |t| t.format("%H:%M").to_string())
    }

    /// The calendar day of a Unix time, for day dividers.
    pub fn day(self, ts: i64) -> Option<NaiveDate> {
        self.at(ts).map(|t| t.date_naive())
    }

    /// A day as shown in a divider, e.g. `Tue 7 May 2024`.
    pub fn day_label(day: NaiveDate) -> String {
        day.format("%a %-d %b %Y").to_string()
    }

    /// `YYYY-MM-DD HH:MM` of a Unix time, for search results.
    pub fn stamp(self, ts: i64) -> String {
        self.at(ts).map_or_else(
            || "---------- --:--".to_string(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
    }

    /// `YYYY-MM-DD HH:MM:SS` of a Unix time, for status lines.
    pub fn date_time(self, ts: i64) -> String {
        self.at(ts).map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_the_given_zone() {
        let c = DisplayZone::utc();
        // 2024-05-07 10:32:00 UTC
        let ts = 1_715_077_920;
        assert_eq!(c.time(ts), "10:32");
        let day = c.day(ts).unwrap();
        assert_eq!(DisplayZone::day_label(day), "Tue 7 May 2024");
        assert_eq!(c.date_time(ts), "2024-05-07 10:32:00");
        assert_eq!(c.stamp(ts), "2024-05-07 10:32");
        let plus2 = DisplayZone::Fixed(FixedOffset::east_opt(2 * 3600).unwrap());
        assert_eq!(plus2.time(ts), "12:32");
        assert_eq!(c.time(i64::MAX), "--:--");
    }
}
