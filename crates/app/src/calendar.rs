//! The office's working calendar (工作日历) as the settings keep it, for report
//! deadlines and the time limits of service requests alike: the due day of monthly
//! reports (`collection.due_day`, default 15), days off (`collection.holidays`) and
//! working weekend days (`service.workdays`, 调休). A deadline on a day that is not a
//! working day moves on to the next one (`core::calendar`).
//!
//! The office sets the due day and the days off on the periods page; the working
//! weekend days are set on the settings page.

use chrono::NaiveDate;
use jixiao_core::calendar::Calendar;
use jixiao_core::org::{Action, Target};
use jixiao_core::period::Month;
use serde_json::json;

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::settings::{DUE_DAY, HOLIDAYS, WORKDAYS, parse_holidays, stored_dates};
use crate::{App, Store};

/// The due day of a site that has not set one.
pub const DEFAULT_DUE_DAY: u8 = 15;

/// The calendar of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    pub due_day: u8,
    pub days: Calendar,
}

impl WorkingCalendar {
    pub async fn load(store: &Store) -> Result<WorkingCalendar> {
        let due_day = store.setting(DUE_DAY).await?.and_then(|v| v.trim().parse::<u8>().ok()).filter(|d| (1..=28).contains(d));
        let holidays = stored_dates(&store.setting(HOLIDAYS).await?.unwrap_or_default());
        let workdays = stored_dates(&store.setting(WORKDAYS).await?.unwrap_or_default());
        Ok(WorkingCalendar { due_day: due_day.unwrap_or(DEFAULT_DUE_DAY), days: Calendar::new(holidays, workdays) })
    }

    /// The report deadline of `month`.
    pub fn deadline(&self, month: Month) -> NaiveDate {
        month.report_deadline_in(self.due_day, &self.days)
    }
}

/// The report deadline of `month` under the site's calendar.
pub async fn deadline(store: &Store, month: Month) -> Result<NaiveDate> {
    Ok(WorkingCalendar::load(store).await?.deadline(month))
}

/// Sets the due day (1–28) and the days off, as typed on the periods page.
pub async fn set(app: &App, actor: &Actor, tr: &Tr, due_day: &str, holidays: &str) -> Result<()> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let due_day: u8 = due_day
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=28).contains(d))
        .ok_or_else(|| AppError::invalid(format!("{}: {}", tr.t("periods.due_day"), tr.f("settings.out_of_range", &[&1, &28]))))?;
    crate::input::bounded(tr, "holidays", holidays, crate::input::SCHEME_TEXT)?;
    let days = parse_holidays(tr, holidays).map_err(|errors| AppError::invalid(errors.join("\n")))?;
    let days = days.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let mut tx = app.store.begin(&actor.name).await?;
    for (key, value) in [(DUE_DAY, due_day.to_string()), (HOLIDAYS, days)] {
        let before = app.store.set_setting(&mut tx, key, &value).await?;
        tx.audit("setting.set", "setting", key, before.map(|b| json!(b)), Some(json!(value))).await?;
    }
    tx.commit().await?;
    Ok(())
}
