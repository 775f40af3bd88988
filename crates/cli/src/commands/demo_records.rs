//! The demo district's records registered in the browser and bonus applications
//! (加减分记录 / 加分申报), written through the same use cases as the pages: the
//! office registers a commendation, an information and research result and a breach
//! of discipline; the development and reform bureau (the demo reporter's unit)
//! applies for an innovation bonus, which the office approves in part, and for a
//! research bonus still waiting for the office.

use chrono::NaiveDate;
use jixiao_app::records::{self, ApplicationInput, RecordInput};
use jixiao_app::{Actor, App, Tr};
use jixiao_core::org::Role;

/// Registers the demo's records and applications, dated in month `through` of `year`;
/// how many records and applications.
pub async fn load(app: &App, year: i32, through: u8) -> anyhow::Result<(usize, usize)> {
    // A demo of a year to come has nothing to register yet (records are not dated
    // after today).
    if NaiveDate::from_ymd_opt(year, u32::from(through), 15).is_none_or(|d| d > app.clock.today()) {
        return Ok((0, 0));
    }
    let (_, scheme) = app.scheme_of(year).await?;
    let id = |name: &str| scheme.units.iter().find(|u| u.name == name).map(|u| u.id.clone()).unwrap_or_default();
    let day = |d: u32| NaiveDate::from_ymd_opt(year, u32::from(through), d).map(|d| d.to_string()).unwrap_or_default();
    let tr = Tr::default();
    let office = Actor::system("demo", Role::Office);
    let record = |unit: &str, indicator: &str, date: String, points: &str, topic: &str, reason: &str, responsible: &str| RecordInput {
        unit: unit.into(),
        indicator: indicator.into(),
        date,
        points: points.into(),
        topic: topic.into(),
        reason: reason.into(),
        responsible: responsible.into(),
    };
    let mut n = 0;
    for input in [
        record(&id("区发改局"), "X1", day(6), "2", "commendation", "获省级表彰：全省营商环境评价先进单位", ""),
        record(&id("区统计局"), "X3", day(9), "2", "research", "《关于盘活闲置国有资产的建议》被市委办公厅采用", ""),
        record(&id("区城管执法局"), "Y5", day(12), "2", "discipline", "1名干部违反中央八项规定精神受到党纪处分", "张某"),
    ] {
        records::register(app, &office, &tr, &input).await?;
        n += 1;
    }
    let unit = Actor::system("demo-reporter", Role::Reporter);
    let apply = |indicator: &str, category: &str, title: &str, basis: &str, points: &str| ApplicationInput {
        unit: id("区发改局"),
        category: category.into(),
        indicator: indicator.into(),
        date: day(15),
        title: title.into(),
        basis: basis.into(),
        points: points.into(),
    };
    let innovation =
        records::apply(app, &unit, &tr, &apply("X2", "innovation", "“一网通办”项目审批改革", "获市级推广，市政府办公室文件", "3")).await?;
    records::decide(app, &office, &tr, innovation.id, innovation.version, true, "2", "按市级推广标准核定 2 分").await?;
    records::apply(app, &unit, &tr, &apply("X3", "research", "《关于加快楼宇经济发展的建议》", "获区领导肯定性批示", "1")).await?;
    Ok((n + 1, 2))
}
