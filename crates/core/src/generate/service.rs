//! The demo district's public service requests (公共服务诉求): ten categories, each
//! with the department it goes to and a time limit, and about `per_month` requests a
//! month through the whole lifecycle — dispatched within hours, most done on time,
//! verified, rated (mostly satisfied), some redone, some closed unrated; those still
//! in progress at `now` stay open. Departments differ in how well they do, so their
//! service indicators differ. Deterministic for a seed and `now`.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::Dice;
use super::demo::demo_units;
use crate::service::{Calendar, Rating, RequestState, deadline};

/// A demo category (an Open311 service).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCategory {
    pub code: &'static str,
    pub name: &'static str,
    pub group: &'static str,
    pub keywords: &'static str,
    pub unit_id: String,
    pub sla_days: u32,
}

/// A demo request, as it stands at `now` (local times).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRequest {
    pub category: usize,
    pub created: NaiveDateTime,
    pub description: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub phone: String,
    pub state: RequestState,
    pub unit_id: String,
    pub dispatched: Option<NaiveDateTime>,
    pub deadline: Option<NaiveDateTime>,
    pub accepted: Option<NaiveDateTime>,
    pub done: Option<NaiveDateTime>,
    pub verified: Option<NaiveDateTime>,
    pub closed: Option<NaiveDateTime>,
    pub rating: Option<Rating>,
    pub redo_count: u32,
    pub reply: String,
}

const CATEGORIES: [(&str, &str, &str, &str, &str, u32); 10] = [
    ("road", "道路破损", "城市管理", "道路,坑洼,井盖", "区城管执法局", 3),
    ("water", "供水排水", "城市管理", "停水,漏水,积水", "区水务局", 2),
    ("noise", "噪声扰民", "生态环境", "噪声,施工,夜间", "区生态环境分局", 3),
    ("food", "食品安全", "市场监管", "食品,餐饮,过期", "区市场监管局", 5),
    ("housing", "房屋物业", "住房保障", "物业,电梯,漏水", "区房管局", 5),
    ("jobs", "就业社保", "民生保障", "社保,工资,就业", "区人社局", 5),
    ("health", "医疗卫生", "民生保障", "医院,疫苗,医保", "区卫健局", 5),
    ("school", "教育入学", "民生保障", "入学,学位,校车", "区教育局", 7),
    ("traffic", "交通设施", "城市管理", "红绿灯,公交站,停车", "区住建局", 3),
    ("services", "政务服务", "政务服务", "办事,窗口,材料", "区政务服务和大数据局", 3),
];

const PROBLEMS: [&str; 10] = [
    "路面塌陷，车辆通行困难",
    "小区停水已超过一天",
    "夜间施工噪声影响休息",
    "超市销售过期食品",
    "电梯长期故障无人维修",
    "单位拖欠工资三个月",
    "社区卫生服务站缺少疫苗",
    "适龄儿童入学学位不足",
    "路口红绿灯损坏",
    "办事窗口要求重复提交材料",
];

const STREETS: [&str; 8] = ["江汉路", "解放大道", "中山大道", "建设大道", "新华路", "青年路", "发展大道", "唐家墩路"];

/// The demo categories, their departments found by name among the demo units.
pub fn demo_categories() -> Vec<DemoCategory> {
    let units = demo_units();
    CATEGORIES
        .iter()
        .map(|&(code, name, group, keywords, unit, sla_days)| DemoCategory {
            code,
            name,
            group,
            keywords,
            unit_id: units.iter().find(|u| u.name == unit).map(|u| u.id.clone()).unwrap_or_default(),
            sla_days,
        })
        .collect()
}

fn at(t: NaiveDateTime, hours: f64) -> NaiveDateTime {
    t + Duration::seconds((hours * 3600.0) as i64)
}

/// The demo's requests from January through `through` of `year`, as of `now`.
pub fn demo_requests(year: i32, through: u8, per_month: u32, seed: u64, now: NaiveDateTime) -> Vec<DemoRequest> {
    let categories = demo_categories();
    let cal = Calendar::default();
    let mut dice = Dice::new(seed ^ 0x5e41_11ce);
    // Each department's quality: how fast and how well it handles requests.
    let quality: Vec<f64> = categories.iter().map(|_| dice.uniform(0.75, 1.0)).collect();
    let mut out = Vec::new();
    for month in 1..=u32::from(through.clamp(1, 12)) {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else { continue };
        let days = first.checked_add_months(chrono::Months::new(1)).map_or(28, |n| (n - first).num_days());
        for _ in 0..per_month {
            let c = dice.below(categories.len());
            let q = quality[c];
            let created =
                first.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(dice.int(0, days * 86_400 - 1)) + Duration::hours(0);
            if created > now {
                continue;
            }
            let mut r = DemoRequest {
                category: c,
                created,
                description: format!("{}{}号附近{}", STREETS[dice.below(STREETS.len())], dice.int(1, 300), PROBLEMS[c]),
                address: format!("{}{}号", STREETS[dice.below(STREETS.len())], dice.int(1, 300)),
                lat: 30.58 + dice.uniform(0.0, 0.04),
                lon: 114.25 + dice.uniform(0.0, 0.05),
                phone: format!("13{:09}", dice.int(0, 999_999_999)),
                state: RequestState::Received,
                unit_id: categories[c].unit_id.clone(),
                dispatched: None,
                deadline: None,
                accepted: None,
                done: None,
                verified: None,
                closed: None,
                rating: None,
                redo_count: 0,
                reply: String::new(),
            };
            let dispatched = at(created, dice.uniform(0.2, 6.0));
            let due = deadline(&cal, dispatched, categories[c].sla_days);
            let accepted = at(dispatched, dice.uniform(0.5, 8.0));
            let limit_hours = (due - dispatched).num_hours() as f64;
            // Good departments finish well within the limit; weaker ones sometimes late.
            let done = at(accepted, limit_hours * dice.uniform(0.1, 1.35 - 0.3 * q));
            let verified = at(done, dice.uniform(2.0, 30.0));
            let rated = dice.chance(0.8);
            let closed = if rated { at(verified, dice.uniform(1.0, 72.0)) } else { verified + Duration::days(7) };
            let roll = dice.uniform(0.0, 1.0);
            let rating = if !rated {
                None
            } else if roll < 0.55 + 0.35 * q {
                Some(Rating::Satisfied)
            } else if roll < 0.9 + 0.08 * q {
                Some(Rating::Basic)
            } else {
                Some(Rating::Dissatisfied)
            };
            let steps = [
                (dispatched, RequestState::Dispatched),
                (accepted, RequestState::Accepted),
                (done, RequestState::Done),
                (verified, RequestState::Verified),
                (closed, RequestState::Closed),
            ];
            for (t, state) in steps {
                if t > now {
                    break;
                }
                r.state = state;
                match state {
                    RequestState::Dispatched => {
                        r.dispatched = Some(t);
                        r.deadline = Some(due);
                    }
                    RequestState::Accepted => r.accepted = Some(t),
                    RequestState::Done => {
                        r.done = Some(t);
                        r.reply = "已到现场核实处理，问题已解决。".to_string();
                    }
                    RequestState::Verified => r.verified = Some(t),
                    RequestState::Closed => {
                        r.closed = Some(t);
                        r.rating = rating;
                    }
                    _ => {}
                }
            }
            // A dissatisfied rating is sometimes redone and rated again.
            if r.rating == Some(Rating::Dissatisfied) && dice.chance(0.5) {
                r.redo_count = 1;
                r.rating = Some(if dice.chance(0.7) { Rating::Basic } else { Rating::Dissatisfied });
            }
            out.push(r);
        }
    }
    out.sort_by_key(|r| r.created);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_requests() {
        let now = NaiveDate::from_ymd_opt(2027, 3, 15).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let rs = demo_requests(2027, 3, 1500, 2027, now);
        assert!(rs.len() > 3500 && rs.len() < 4000, "{}", rs.len());
        assert_eq!(rs, demo_requests(2027, 3, 1500, 2027, now), "deterministic");
        assert!(demo_categories().iter().all(|c| !c.unit_id.is_empty()), "every category has its department");
        assert!(rs.iter().all(|r| r.created <= now && r.closed.is_none_or(|c| c <= now)));
        let closed = rs.iter().filter(|r| r.state == RequestState::Closed).count();
        let open = rs.iter().filter(|r| r.state != RequestState::Closed).count();
        assert!(closed > 2500 && open > 50, "{closed} closed, {open} open");
        let rated = rs.iter().filter(|r| r.rating.is_some()).count();
        let satisfied = rs.iter().filter(|r| r.rating.is_some_and(Rating::counts_satisfied)).count();
        let rate = satisfied as f64 / rated as f64;
        assert!(rate > 0.85 && rate < 0.99, "{rate}");
        let facts: Vec<_> = rs
            .iter()
            .map(|r| crate::service::RequestFacts {
                unit: Some(r.unit_id.clone()),
                first_dispatched: r.dispatched,
                deadline: r.deadline,
                done: r.done,
                closed: r.closed,
                rating: r.rating,
                redo_count: r.redo_count,
            })
            .collect();
        let m = crate::service::monthly_metrics(&facts);
        let on_time: Vec<f64> = m.values().filter_map(|x| x.on_time_rate()).collect();
        assert!(on_time.iter().any(|&r| r < 0.95) && on_time.iter().any(|&r| r > 0.9), "departments differ: {on_time:?}");
    }
}
