//! The one clock (时钟) and the site's time zone (时区).
//!
//! Every "now" of jixiao comes from a `Clock`: the use cases, the background jobs,
//! and the store's timestamps (`App::new` hands the store the clock's reading). Tests
//! fix it (`Clock::fixed`) instead of reading the wall clock, and move it on
//! (`advance`) to see deadlines pass; `jixiao --clock` starts a running clock at a
//! given time, for demonstrations and browser tests of a given day.
//!
//! Times are stored as RFC 3339 UTC text. Everything a person reads or a program is
//! given — pages, exports, SMS, Open311, the API — is in the site's zone, the setting
//! `site.time_zone` (an IANA name, default `Asia/Shanghai`), whatever zone the server
//! runs in. Calendar questions (which day is today, which month is due) are answered
//! in that zone too.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

/// The zone of a site that has not set one.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// The settings key of the site's zone.
pub const ZONE_SETTING: &str = "site.time_zone";

#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: the system clock (moved by `offset`).
    fixed: RwLock<Option<DateTime<Utc>>>,
    offset: chrono::Duration,
    zone: RwLock<Tz>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("now", &self.now()).field("zone", &self.zone()).finish()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl Clock {
    /// The system clock in the default zone.
    pub fn system() -> Clock {
        Clock::offset(chrono::Duration::zero())
    }

    fn offset(offset: chrono::Duration) -> Clock {
        Clock { inner: Arc::new(Inner { fixed: RwLock::new(None), offset, zone: RwLock::new(DEFAULT_ZONE) }) }
    }

    /// A clock that reads `at` now and runs on from there (`jixiao --clock`, for
    /// demonstrations and browser tests of a given day).
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock::offset(at - Utc::now())
    }

    /// A clock standing at `at` until moved.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        let clock = Clock::system();
        clock.set(at);
        clock
    }

    /// A clock standing at the site-zone wall time `local` (tests: "2027-04-16 09:00").
    pub fn at_local(local: NaiveDateTime) -> Clock {
        let clock = Clock::system();
        clock.set(clock.to_utc(local));
        clock
    }

    /// Stops the clock at `at` (a fixed clock from now on).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.inner.fixed.write().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }

    /// Moves a fixed clock on by `by` (a system clock is fixed at its reading first).
    pub fn advance(&self, by: chrono::Duration) {
        let now = self.now();
        self.set(now + by);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.fixed.read().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(|| Utc::now() + self.inner.offset)
    }

    pub fn zone(&self) -> Tz {
        *self.inner.zone.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_zone(&self, zone: Tz) {
        *self.inner.zone.write().unwrap_or_else(|e| e.into_inner()) = zone;
    }

    /// Now as the site's wall-clock time.
    pub fn local_now(&self) -> NaiveDateTime {
        self.local(self.now()).naive_local()
    }

    /// Today in the site's zone.
    pub fn today(&self) -> NaiveDate {
        self.local_now().date()
    }

    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone())
    }

    /// A site-zone wall time as UTC (a time skipped by a zone change reads as the
    /// moment after it; the site zones in use have none).
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        self.zone().from_local_datetime(&local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// Now as stored.
    pub fn stamp(&self) -> String {
        jixiao_store::timestamp(self.now())
    }

    /// A stored time as the site's wall-clock time.
    pub fn from_stored(&self, stored: &str) -> Option<NaiveDateTime> {
        DateTime::parse_from_rfc3339(stored).ok().map(|t| self.local(t.with_timezone(&Utc)).naive_local())
    }

    /// A site-zone wall time as stored.
    pub fn to_stored(&self, local: NaiveDateTime) -> String {
        jixiao_store::timestamp(self.to_utc(local))
    }

    /// A stored time as people read it: `2027-03-01 16:00` in the site's zone (the text
    /// itself when it is not a time).
    pub fn short(&self, stored: &str) -> String {
        self.from_stored(stored).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| stored.to_string())
    }

    /// A stored time for programs: RFC 3339 with the site zone's offset, to the second
    /// (`2027-03-01T16:00:00+08:00`).
    pub fn rfc3339(&self, stored: &str) -> Option<String> {
        DateTime::parse_from_rfc3339(stored).ok().map(|t| self.local(t.with_timezone(&Utc)).to_rfc3339_opts(SecondsFormat::Secs, false))
    }

    /// The store's source of "now": this clock.
    pub fn source(&self) -> jixiao_store::Now {
        let clock = self.clone();
        Arc::new(move || clock.now())
    }
}

/// An IANA zone name as a zone, with what is wrong when it is not one.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| format!("`{}` is not a time zone name like Asia/Shanghai", name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_reads_in_the_site_zone() {
        let clock = Clock::fixed("2027-03-31T17:30:00Z".parse().unwrap());
        assert_eq!(clock.today().to_string(), "2027-04-01", "01:30 the next day in Shanghai");
        assert_eq!(clock.short("2027-03-31T17:30:00.000000Z"), "2027-04-01 01:30");
        assert_eq!(clock.rfc3339("2027-03-31T17:30:00.000000Z").as_deref(), Some("2027-04-01T01:30:00+08:00"));
        clock.set_zone(parse_zone("Europe/Berlin").unwrap());
        assert_eq!(clock.today().to_string(), "2027-03-31");
        clock.advance(chrono::Duration::hours(6));
        assert_eq!(clock.short(&clock.stamp()), "2027-04-01 01:30", "Berlin is at +02:00 in summer time");
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn wall_times_round_trip() {
        let clock = Clock::system();
        let local: NaiveDateTime = "2027-04-15T23:59:59".parse().unwrap();
        let stored = clock.to_stored(local);
        assert_eq!(stored, "2027-04-15T15:59:59.000000Z");
        assert_eq!(clock.from_stored(&stored), Some(local));
    }
}
