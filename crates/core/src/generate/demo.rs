//! The demo district (演示区): 江汉新区, fictional, modelled on Qiaokou district's
//! (硚口区) e-performance system — 76 units in three groups, a "3+2" scheme
//! (职能履行 60 + 依法行政 20 + 领导班子建设 20, plus 创新创优 bonus capped at 5 and
//! 违规失职 deduction capped at 10; 43 indicators), and a year of reporting up to a
//! given month.
//!
//! The scheme depends only on the year; the seed drives the data: each unit's
//! ability, its monthly values, who reports late or not at all, and the bonus and
//! deduction records. Data-reporting lapses (迟报漏报) in the entries also appear as
//! deduction records, as an assessment office would book them.
//!
//! Streets (街道) are assessed on the district's economic, livelihood and urban
//! management indicators with targets scaled to their size; departments (区直部门)
//! on their core tasks, budget execution and their own line indicators (unit rules);
//! everyone on rule of law (依法行政) and leadership (领导班子建设). Because units
//! carry different indicator sets, the scheme normalises the regular part to 100
//! (`normalize_to`, spec §6).

use std::collections::HashMap;

use crate::data::{DataFile, EntryRow, RecordRow};
use crate::scheme::{
    Aggregation::{self, Avg, Last, Sum},
    FieldType::{Boolean, Integer, Number, Percent},
    Frequency, GradeDef, GroupDef, Kind, NodeDef, SchemeFile, UnitDef,
};

use super::Base::{Fixed as F, Param as P};
use super::{
    ANY, Dice, Gen, Leaf, NONNEG, PCT, Performance, Tree, capped, category, due_months, entry_values, leaves, month_text, range,
    resolve_params, simulate,
};

/// The demo district's name.
pub const DISTRICT_NAME: &str = "江汉新区";

/// 区直部门: Party and government departments and mass organisations.
const DEPTS: [&str; 50] = [
    "区委办公室",
    "区政府办公室",
    "区纪委监委机关",
    "区委组织部",
    "区委宣传部",
    "区委统战部",
    "区委政法委",
    "区委编办",
    "区发改局",
    "区教育局",
    "区科技和经信局",
    "区民政局",
    "区司法局",
    "区财政局",
    "区人社局",
    "区自然资源和规划分局",
    "区生态环境分局",
    "区住建局",
    "区城管执法局",
    "区水务局",
    "区商务局",
    "区文旅局",
    "区卫健局",
    "区退役军人事务局",
    "区应急局",
    "区审计局",
    "区市场监管局",
    "区统计局",
    "区医保局",
    "区信访局",
    "区政务服务和大数据局",
    "区房管局",
    "区国资局",
    "区投资促进局",
    "区园林局",
    "区体育局",
    "区金融局",
    "区房屋征收局",
    "区机关事务服务中心",
    "区档案馆",
    "区总工会",
    "团区委",
    "区妇联",
    "区科协",
    "区残联",
    "区工商联",
    "区红十字会",
    "区融媒体中心",
    "区委党校",
    "区人防办",
];

/// 街道, with an economic size factor that scales their targets (1.0 = typical).
const STREETS: [(&str, f64); 11] = [
    ("汉中街道", 1.3),
    ("古田街道", 1.1),
    ("江滨街道", 0.9),
    ("荣华街道", 1.0),
    ("长丰街道", 1.2),
    ("宝丰街道", 0.8),
    ("汉水街道", 1.0),
    ("新桥街道", 0.7),
    ("月湖街道", 0.9),
    ("利济街道", 1.1),
    ("崇仁街道", 0.9),
];

/// 其他单位: courts, procuratorate, vertically managed bureaus and utilities.
const OTHERS: [&str; 15] = [
    "区人民法院",
    "区人民检察院",
    "区税务局",
    "区公安分局",
    "区公安交管大队",
    "区消防救援大队",
    "区人武部",
    "区供电公司",
    "区供水公司",
    "区燃气公司",
    "区邮政分公司",
    "区电信分公司",
    "区烟草专卖局",
    "区城投集团",
    "区气象局",
];

/// The demo units in scheme order (departments, streets, others), ids `u01`–`u76`.
pub(crate) fn demo_units() -> Vec<UnitDef> {
    let named =
        DEPTS.iter().map(|n| (*n, "dept")).chain(STREETS.iter().map(|(n, _)| (*n, "street"))).chain(OTHERS.iter().map(|n| (*n, "other")));
    named.enumerate().map(|(i, (name, group))| UnitDef { id: format!("u{:02}", i + 1), name: name.into(), group: group.into() }).collect()
}

/// The id of a demo unit by its name. Panics on a name not in the lists (a bug).
pub(crate) fn unit_id(name: &str) -> String {
    let position = DEPTS
        .iter()
        .copied()
        .chain(STREETS.iter().map(|(n, _)| *n))
        .chain(OTHERS.iter().copied())
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("`{name}` is not a demo unit"));
    format!("u{:02}", position + 1)
}

impl Leaf {
    /// Assigns the named units (by demo name), each with the same params.
    fn units(mut self, names: &[&str], params: &[(&str, f64)]) -> Leaf {
        for name in names {
            self = self.unit(unit_id(name), params);
        }
        self
    }

    /// Assigns the named unit (by demo name) with its own params.
    fn named(self, name: &str, params: &[(&str, f64)]) -> Leaf {
        self.unit(unit_id(name), params)
    }

    /// Gives each street `base × size` of a param (rounded), where its size differs from 1.
    fn street_targets(mut self, param: &str, base: f64, decimals: usize) -> Leaf {
        for (name, size) in STREETS {
            if size != 1.0 {
                self = self.unit(unit_id(name), &[(param, super::round_to(base * size, decimals))]);
            }
        }
        self
    }

    /// `Gen::Part` of an earlier field, by key.
    #[allow(clippy::too_many_arguments)]
    fn part(self, key: &str, name: &str, agg: Aggregation, of: &str, share: f64, sens: f64, progressive: bool) -> Leaf {
        let of = self.field_index(of);
        self.field(key, name, Integer, agg, NONNEG, Gen::Part { of, share, sens, progressive })
    }
}

/// Departments that take 12345 hotline and service requests (接诉即办).
const HOTLINE: [&str; 20] = [
    "区发改局",
    "区教育局",
    "区民政局",
    "区司法局",
    "区人社局",
    "区自然资源和规划分局",
    "区生态环境分局",
    "区住建局",
    "区城管执法局",
    "区水务局",
    "区商务局",
    "区文旅局",
    "区卫健局",
    "区退役军人事务局",
    "区应急局",
    "区市场监管局",
    "区医保局",
    "区房管局",
    "区园林局",
    "区房屋征收局",
];
const HOTLINE_OTHERS: [&str; 8] =
    ["区税务局", "区公安分局", "区公安交管大队", "区供电公司", "区供水公司", "区燃气公司", "区邮政分公司", "区电信分公司"];
/// Departments with safety-production duties (安全生产).
const SAFETY: [&str; 8] = ["区应急局", "区住建局", "区城管执法局", "区市场监管局", "区教育局", "区商务局", "区文旅局", "区卫健局"];
/// Departments with administrative enforcement (行政执法).
const ENFORCEMENT: [&str; 10] = [
    "区城管执法局",
    "区市场监管局",
    "区生态环境分局",
    "区应急局",
    "区人社局",
    "区卫健局",
    "区文旅局",
    "区住建局",
    "区自然资源和规划分局",
    "区水务局",
];
/// Departments running livelihood projects (民生实事).
const LIVELIHOOD: [&str; 9] =
    ["区教育局", "区卫健局", "区民政局", "区住建局", "区城管执法局", "区人社局", "区房管局", "区园林局", "区体育局"];
/// Departments with public service windows (政务服务).
const SERVICE: [&str; 7] = ["区政务服务和大数据局", "区人社局", "区市场监管局", "区医保局", "区民政局", "区住建局", "区房管局"];

/// The scheme of a year and the value models of its fields.
fn scheme(year: i32) -> (SchemeFile, HashMap<String, Vec<Gen>>) {
    let mut t = Tree::default();

    // 一、职能履行 (60): the unit's functions — economy, livelihood, urban governance, core tasks.
    let a1 = category("A1", "经济发展", Some(18.0), vec![
        t.leaf(
            Leaf::new("A11", "招商引资到位资金")
                .points(5.0)
                .field("actual", "累计到位资金(亿元)", Number, Last, NONNEG, Gen::Cumulative { base: P("target"), seasonal: true })
                .param("target", 12.0)
                .formula("min(actual / (target * progress), 1.2) / 1.2 * points")
                .group("street", &[])
                .street_targets("target", 12.0, 1)
                .named("区投资促进局", &[("target", 60.0)])
                .named("区商务局", &[("target", 25.0)])
                .named("区发改局", &[("target", 20.0)]),
        ),
        t.leaf(
            Leaf::new("A12", "固定资产投资增速")
                .points(4.0)
                .quarterly()
                .field("增速", "固定资产投资同比增速(%)", Number, Last, range(-100.0, 300.0), Gen::Level { centre: P("目标增速"), sens: 40.0, noise: 3.0 })
                .param("目标增速", 8.0)
                .formula("if(增速 >= 目标增速, points, clamp(points * (1 - (目标增速 - 增速) / 20), 0, points))")
                .group("street", &[])
                .named("区发改局", &[("目标增速", 10.0)])
                .named("区住建局", &[("目标增速", 6.0)]),
        ),
        t.leaf(
            Leaf::new("A13", "社会消费品零售总额")
                .points(4.0)
                .field("retail", "当月社会消费品零售额(亿元)", Number, Sum, NONNEG, Gen::Flow { base: P("target"), seasonal: true })
                .param("target", 30.0)
                .formula("round(min(retail / (target * progress), 1) * points, 2)")
                .group("street", &[])
                .street_targets("target", 30.0, 0)
                .named("区商务局", &[("target", 330.0)]),
        ),
        t.leaf(
            Leaf::new("A14", "新增市场主体")
                .points(3.0)
                .field("新增户数", "新增市场主体(户)", Integer, Sum, NONNEG, Gen::Flow { base: P("target"), seasonal: false })
                .param("target", 1200.0)
                .formula("tier(新增户数 / (target * progress), 1, points, 0.9, points * 0.85, 0.75, points * 0.7, 0.5, points * 0.5, points * 0.2)")
                .group("street", &[])
                .street_targets("target", 1200.0, 0)
                .named("区市场监管局", &[("target", 13000.0)]),
        ),
        t.leaf(
            Leaf::new("A15", "税收收入")
                .points(2.0)
                .field("tax", "累计税收收入(亿元)", Number, Last, NONNEG, Gen::Cumulative { base: P("target"), seasonal: true })
                .param("target", 8.0)
                .formula("min(safe_div(tax, target * progress, 0), 1) * points")
                .group("street", &[])
                .street_targets("target", 8.0, 1)
                .named("区税务局", &[("target", 95.0)]),
        ),
    ]);
    let a2 = category(
        "A2",
        "社会民生",
        Some(12.0),
        vec![
            t.leaf(
                Leaf::new("A21", "城镇新增就业")
                    .points(3.0)
                    .field("jobs", "新增就业人数(人)", Integer, Sum, NONNEG, Gen::Flow { base: P("target"), seasonal: false })
                    .param("target", 2000.0)
                    .formula("min(jobs / (target * progress), 1.1) / 1.1 * points")
                    .group("street", &[])
                    .street_targets("target", 2000.0, 0)
                    .named("区人社局", &[("target", 22000.0)]),
            ),
            t.leaf(
                Leaf::new("A22", "民生实事项目推进")
                    .points(3.0)
                    .quarterly()
                    .field("planned", "年度民生实事项目(个)", Integer, Last, range(0.0, 50.0), Gen::Constant { lo: 2, hi: 12 })
                    .part("done", "已完成项目(个)", Last, "planned", 1.0, 0.0, true)
                    .formula("if(planned == 0, points, min(done / (planned * progress), 1) * points)")
                    .group("street", &[])
                    .units(&LIVELIHOOD, &[]),
            ),
            t.leaf(
                Leaf::new("A23", "12345热线诉求办理")
                    .points(4.0)
                    .field("按时办结率", "按时办结率(%)", Percent, Avg, PCT, Gen::Level { centre: F(96.0), sens: 15.0, noise: 2.0 })
                    .field("满意率", "群众满意率(%)", Percent, Avg, PCT, Gen::Level { centre: F(91.0), sens: 25.0, noise: 3.0 })
                    .formula("(0.4 * 按时办结率 / 100 + 0.6 * tier(满意率, 95, 1, 90, 0.9, 85, 0.75, 80, 0.6, 0.3)) * points")
                    .group("street", &[])
                    .units(&HOTLINE, &[])
                    .units(&HOTLINE_OTHERS, &[]),
            ),
            t.leaf(
                Leaf::new("A24", "安全生产")
                    .points(2.0)
                    .field("整改率", "隐患整改率(%)", Percent, Last, PCT, Gen::Level { centre: F(96.0), sens: 15.0, noise: 3.0 })
                    .field("事故", "生产安全事故(起)", Integer, Sum, NONNEG, Gen::Events { mean: 0.02, sens: -3.0 })
                    .formula("if(事故 == 0 and 整改率 >= 95, points, max(points - 事故 * 1 - (100 - 整改率) * 0.05, 0))")
                    .group("street", &[])
                    .units(&SAFETY, &[]),
            ),
        ],
    );
    let a3 = category("A3", "城市治理", Some(12.0), vec![
        t.leaf(
            Leaf::new("A31", "城市管理考评")
                .points(4.0)
                .period()
                .field("考评得分", "城市管理月度考评得分", Number, Last, PCT, Gen::Level { centre: F(88.0), sens: 25.0, noise: 3.0 })
                .formula("points * clamp(1.05 - group_rank(考评得分) * 0.05, 0.5, 1)")
                .group("street", &[]),
        ),
        t.leaf(
            Leaf::new("A32", "空气质量改善")
                .points(3.0)
                .field("pm25", "PM2.5平均浓度(微克/立方米)", Number, Avg, range(0.0, 500.0), Gen::Level { centre: F(40.0), sens: -30.0, noise: 5.0 })
                .field("优良天数", "空气质量优良天数(天)", Integer, Sum, range(0.0, 31.0), Gen::Level { centre: F(24.0), sens: 10.0, noise: 2.0 })
                .param("浓度目标", 38.0)
                .formula("if(pm25 <= 浓度目标, points * 0.6, max(points * 0.6 - (pm25 - 浓度目标) * 0.1, 0)) + min(优良天数 / (292 * progress), 1) * points * 0.4")
                .group("street", &[])
                .named("区生态环境分局", &[("浓度目标", 36.0)]),
        ),
        t.leaf(
            Leaf::new("A33", "文明城市创建测评")
                .points(3.0)
                .quarterly()
                .period()
                .field("测评得分", "文明城市创建实地测评得分", Number, Last, PCT, Gen::Level { centre: F(85.0), sens: 25.0, noise: 4.0 })
                .formula("round(safe_div(测评得分, group_max(测评得分), 0) * points, 2)")
                .group("street", &[]),
        ),
        t.leaf(
            Leaf::new("A34", "房屋征收与城市更新")
                .points(2.0)
                .quarterly()
                .field("area", "累计完成征收面积(万平方米)", Number, Last, NONNEG, Gen::Cumulative { base: P("target"), seasonal: false })
                .param("target", 3.0)
                .formula("min(area / (target * progress), 1) ^ 2 * points")
                .group("street", &[])
                .street_targets("target", 3.0, 1)
                .named("区房屋征收局", &[("target", 30.0)]),
        ),
    ]);
    let a4 = category("A4", "部门核心业务", Some(18.0), vec![
        t.leaf(
            Leaf::new("A41", "年度重点工作任务")
                .points(5.0)
                .field("计划任务数", "年度重点工作任务(项)", Integer, Last, range(1.0, 100.0), Gen::Constant { lo: 8, hi: 30 })
                .part("完成任务数", "已完成重点工作任务(项)", Last, "计划任务数", 1.0, 0.0, true)
                .formula("tier(完成任务数 / (计划任务数 * progress), 1, points, 0.9, points * 0.9, 0.8, points * 0.75, 0.6, points * 0.5, 0)")
                .group("dept", &[])
                .group("other", &[]),
        ),
        t.leaf(
            Leaf::new("A42", "预算执行进度")
                .points(3.0)
                .field("执行率", "部门预算执行率(%)", Percent, Last, PCT, Gen::Cumulative { base: F(100.0), seasonal: false })
                .formula("if(执行率 >= 90 * progress, points, points * 执行率 / (90 * progress))")
                .group("dept", &[]),
        ),
        t.leaf(
            Leaf::new("A43", "一般公共预算收入")
                .points(3.0)
                .field("revenue", "一般公共预算收入累计(亿元)", Number, Last, NONNEG, Gen::Cumulative { base: P("target"), seasonal: true })
                .formula("points * min(1, 0.6 + 0.4 * revenue / (target * progress))")
                .named("区财政局", &[("target", 58.0)])
                .named("区税务局", &[("target", 52.0)]),
        ),
        t.leaf(
            Leaf::new("A44", "家庭医生签约服务")
                .points(2.0)
                .quarterly()
                .field("签约率", "重点人群家庭医生签约率(%)", Percent, Last, PCT, Gen::Level { centre: P("target"), sens: 40.0, noise: 3.0 })
                .param("target", 75.0)
                .formula("min(签约率 / target, 1) * points")
                .group("street", &[])
                .named("区卫健局", &[("target", 78.0)]),
        ),
        t.leaf(
            Leaf::new("A45", "统计数据质量")
                .points(2.0)
                .field("差错", "统计数据差错(次)", Integer, Sum, NONNEG, Gen::Events { mean: 0.03, sens: -3.0 })
                .field("按时报送", "统计报表按时报送", Boolean, Last, ANY, Gen::Flag { p: 0.93 })
                .formula("if(差错 == 0 and 按时报送 == 1, points, max(points - 差错 * 0.5 - if(按时报送 == 1, 0, 0.5), 0))")
                .group("street", &[])
                .named("区统计局", &[]),
        ),
        t.leaf(
            Leaf::new("A46", "审计整改落实")
                .points(3.0)
                .quarterly()
                .field("问题数", "审计发现问题(个)", Integer, Last, NONNEG, Gen::Constant { lo: 0, hi: 8 })
                .part("已整改", "已整改问题(个)", Last, "问题数", 0.85, 0.8, false)
                .formula("if(问题数 == 0, points, round(points * min(已整改 / 问题数, 1), 1))")
                .group("dept", &[])
                .group("street", &[]),
        ),
    ]);
    let a = category("A", "职能履行", Some(60.0), vec![a1, a2, a3, a4]);

    // 二、依法行政 (20): rule-of-law government, openness, integrity.
    let b1 = category(
        "B1",
        "法治政府建设",
        Some(8.0),
        vec![
            t.leaf(
                Leaf::new("B11", "规范性文件备案审查")
                    .points(2.0)
                    .quarterly()
                    .field("报备文件", "应报备规范性文件(件)", Integer, Last, NONNEG, Gen::RunningEvents { mean: 0.3 })
                    .part("按时报备", "按时报备(件)", Last, "报备文件", 0.95, 0.5, false)
                    .formula("safe_div(按时报备, 报备文件, 1) * points")
                    .group("dept", &[])
                    .group("street", &[]),
            ),
            t.leaf(
                Leaf::new("B12", "行政执法规范化")
                    .points(3.0)
                    .quarterly()
                    .period()
                    .field("案卷合格率", "执法案卷评查合格率(%)", Percent, Avg, PCT, Gen::Level { centre: F(93.0), sens: 20.0, noise: 3.0 })
                    .formula("tier(案卷合格率, 95, points, 90, points * 0.9, 80, points * 0.7, points * 0.4)")
                    .group("street", &[])
                    .units(&ENFORCEMENT, &[])
                    .units(&["区公安分局", "区税务局"], &[]),
            ),
            t.leaf(
                Leaf::new("B13", "行政复议诉讼纠错")
                    .points(3.0)
                    .quarterly()
                    .field("案件数", "行政复议诉讼案件(件)", Integer, Sum, NONNEG, Gen::Events { mean: 0.5, sens: 0.0 })
                    .part("纠错数", "被撤销或确认违法(件)", Sum, "案件数", 0.1, -0.5, false)
                    .formula("points * (1 - min(safe_div(纠错数, 案件数, 0) * 2, 1))")
                    .group("dept", &[])
                    .group("street", &[]),
            ),
        ],
    );
    let b2 = category(
        "B2",
        "政务公开与服务",
        Some(7.0),
        vec![
            t.leaf(
                Leaf::new("B21", "政务公开")
                    .points(3.0)
                    .quarterly()
                    .period()
                    .field("公开得分", "政务公开第三方评估得分", Number, Last, PCT, Gen::Level { centre: F(86.0), sens: 25.0, noise: 4.0 })
                    .formula("points * clamp((公开得分 - 50) / 45, 0, 1)")
                    .group("dept", &[])
                    .group("street", &[]),
            ),
            t.leaf(
                Leaf::new("B22", "政务服务好差评")
                    .points(2.0)
                    .field("好评率", "政务服务好评率(%)", Percent, Avg, PCT, Gen::Level { centre: F(98.5), sens: 5.0, noise: 0.8 })
                    .field("差评整改", "差评按时整改", Boolean, Last, ANY, Gen::Flag { p: 0.9 })
                    .formula("min(好评率 / 98, 1) * points * if(差评整改 == 0 or 好评率 < 90, 0.8, 1)")
                    .group("street", &[])
                    .units(&SERVICE, &[]),
            ),
            t.leaf(
                Leaf::new("B23", "依申请公开按时答复")
                    .points(2.0)
                    .field("申请数", "依申请公开(件)", Integer, Sum, NONNEG, Gen::Events { mean: 0.8, sens: 0.0 })
                    .part("按时答复", "按期答复(件)", Sum, "申请数", 0.95, 0.5, false)
                    .formula("round(safe_div(按时答复, 申请数, 1) * points, 2)")
                    .group("dept", &[])
                    .group("street", &[]),
            ),
        ],
    );
    let b3 = category(
        "B3",
        "廉政与作风建设",
        Some(5.0),
        vec![
            t.leaf(
                Leaf::new("B31", "党风廉政建设责任制")
                    .points(3.0)
                    .annual()
                    .field(
                        "考核得分",
                        "党风廉政建设责任制考核得分",
                        Number,
                        Last,
                        PCT,
                        Gen::Level { centre: F(92.0), sens: 20.0, noise: 3.0 },
                    )
                    .formula("points * 考核得分 / 100")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(
                Leaf::new("B32", "作风建设暗访")
                    .points(2.0)
                    .quarterly()
                    .period()
                    .field("通报次数", "暗访被通报(次)", Integer, Sum, NONNEG, Gen::Events { mean: 0.04, sens: -3.0 })
                    .formula("max(points - 通报次数 * 0.5, 0)")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
        ],
    );
    let b = category("B", "依法行政", Some(20.0), vec![b1, b2, b3]);

    // 三、领导班子建设 (20): political work, how the leadership runs, the cadre team.
    let c1 = category(
        "C1",
        "思想政治建设",
        Some(6.0),
        vec![
            t.leaf(
                Leaf::new("C11", "理论学习中心组学习")
                    .points(3.0)
                    .quarterly()
                    .field("学习次数", "中心组集体学习(次)", Integer, Sum, range(0.0, 12.0), Gen::Events { mean: 0.9, sens: 2.0 })
                    .formula("min(学习次数 / ceil(month * 2 / 3), 1) * points")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(
                Leaf::new("C12", "意识形态工作")
                    .points(3.0)
                    .quarterly()
                    .field("责任制落实", "意识形态工作责任制落实", Boolean, Last, ANY, Gen::Flag { p: 0.95 })
                    .field("舆情处置", "负面舆情处置不当(次)", Integer, Sum, NONNEG, Gen::Events { mean: 0.02, sens: -3.0 })
                    .formula("max(if(not (责任制落实 == 1), points * 0.5, points) - min(舆情处置, 3) * 0.5, 0)")
                    .group("dept", &[])
                    .group("street", &[]),
            ),
        ],
    );
    let c2 = category(
        "C2",
        "班子运行",
        Some(8.0),
        vec![
            t.leaf(
                Leaf::new("C21", "民主测评满意度")
                    .points(5.0)
                    .annual()
                    .field("满意度", "民主测评满意度(%)", Percent, Last, PCT, Gen::Level { centre: F(90.0), sens: 25.0, noise: 3.0 })
                    .formula("clamp(points * (0.9 + (满意度 - group_avg(满意度)) / 20), 0, points)")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(
                Leaf::new("C22", "督办事项办结")
                    .points(3.0)
                    .field("交办", "交办督办事项(件)", Integer, Last, NONNEG, Gen::RunningEvents { mean: 1.2 })
                    .part("办结", "按期办结(件)", Last, "交办", 0.93, 0.6, false)
                    .formula("if(交办 == 0, points, tier(办结 / 交办, 0.98, points, 0.9, points * 0.9, 0.8, points * 0.7, points * 0.4))")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
        ],
    );
    let c3 = category(
        "C3",
        "队伍建设",
        Some(6.0),
        vec![
            t.leaf(
                Leaf::new("C31", "干部教育培训")
                    .points(2.0)
                    .annual()
                    .field(
                        "参训率",
                        "干部网络学院学时达标率(%)",
                        Percent,
                        Last,
                        PCT,
                        Gen::Level { centre: F(96.0), sens: 15.0, noise: 3.0 },
                    )
                    // Full-width brackets and comma, as a Chinese input method types them (spec §4).
                    .formula("round（min（参训率 / 95，1） * points，1）")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(
                Leaf::new("C32", "政务信息报送")
                    .points(2.0)
                    .field("采用篇数", "政务信息被采用(篇)", Integer, Sum, NONNEG, Gen::Flow { base: P("目标篇数"), seasonal: false })
                    .param("目标篇数", 12.0)
                    .formula("min(采用篇数 / (目标篇数 * progress), 1) * points")
                    .group("dept", &[])
                    .group("street", &[("目标篇数", 24.0)])
                    .named("区委办公室", &[("目标篇数", 36.0)])
                    .named("区政府办公室", &[("目标篇数", 36.0)]),
            ),
            t.leaf(
                Leaf::new("C33", "绩效管理工作")
                    .points(2.0)
                    .field("按时填报率", "绩效数据按时填报率(%)", Percent, Avg, PCT, Gen::Level { centre: F(95.0), sens: 20.0, noise: 3.0 })
                    .field("佐证材料完整", "佐证材料完整", Boolean, Last, ANY, Gen::Flag { p: 0.9 })
                    .formula("points * (0.7 * 按时填报率 / 100 + 0.3 * 佐证材料完整)")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
        ],
    );
    let c = category("C", "领导班子建设", Some(20.0), vec![c1, c2, c3]);

    // 创新创优加分 (bonus, capped at 5): awards, innovation, research, funds won.
    let x = capped(
        "X",
        "创新创优加分",
        Kind::Bonus,
        5.0,
        vec![
            t.leaf(
                Leaf::new("X1", "上级表彰").records().formula("record_points").group("dept", &[]).group("street", &[]).group("other", &[]),
            ),
            t.leaf(
                Leaf::new("X2", "创新项目").records().points(3.0).formula("min(record_points, 3)").group("dept", &[]).group("street", &[]),
            ),
            t.leaf(
                Leaf::new("X3", "信息调研成果")
                    .records()
                    .points(2.0)
                    .formula("round(record_points * 0.2, 2)")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(
                Leaf::new("X4", "争取上级资金")
                    .points(2.0)
                    .quarterly()
                    .field("争取资金", "争取上级资金到位(万元)", Number, Sum, NONNEG, Gen::Lumpy { mean: 400.0, p: 0.25 })
                    .formula("min(floor(争取资金 / 500) * 0.5, 2)")
                    .group("dept", &[])
                    .group("street", &[]),
            ),
        ],
    );

    // 违规失职减分 (deduction, capped at 10): overdue tasks, petitions, accidents, lapses.
    let y = capped(
        "Y",
        "违规失职减分",
        Kind::Deduction,
        10.0,
        vec![
            t.leaf(
                Leaf::new("Y1", "督办事项逾期")
                    .records()
                    .points(3.0)
                    .formula("record_count * 0.5")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(Leaf::new("Y2", "信访问题").records().points(3.0).formula("record_points").group("dept", &[]).group("street", &[])),
            t.leaf(
                Leaf::new("Y3", "安全生产事故")
                    .records()
                    .points(5.0)
                    .formula("tier(record_points, 3, 5, 2, 3, 1, 1, 0)")
                    .group("street", &[])
                    .units(&SAFETY, &[]),
            ),
            t.leaf(
                Leaf::new("Y4", "数据迟报漏报")
                    .records()
                    .points(2.0)
                    .formula("record_count * 0.2")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
            t.leaf(
                Leaf::new("Y5", "违反廉政纪律")
                    .records()
                    .points(6.0)
                    .formula("record_count * 2")
                    .group("dept", &[])
                    .group("street", &[])
                    .group("other", &[]),
            ),
        ],
    );

    let file = SchemeFile {
        year,
        name: format!("{year}年度{DISTRICT_NAME}区直部门及街道绩效考核方案"),
        normalize_to: Some(100.0),
        groups: vec![
            GroupDef { id: "dept".into(), name: "区直部门".into() },
            GroupDef { id: "street".into(), name: "街道".into() },
            GroupDef { id: "other".into(), name: "其他单位".into() },
        ],
        units: demo_units(),
        grades: vec![
            GradeDef { name: "优秀".into(), min_score: Some(90.0), quota: Some(0.3) },
            GradeDef { name: "良好".into(), min_score: Some(80.0), quota: None },
            GradeDef { name: "一般".into(), min_score: Some(60.0), quota: None },
            GradeDef { name: "较差".into(), min_score: None, quota: None },
        ],
        tree: vec![a, b, c, x, y],
        reporting: None,
        lights: None,
        supervision: None,
    };
    (file, t.gens)
}

/// The demo district: its scheme for `year` and its data from January through
/// `through_month` (0 = nothing reported yet; more than 12 counts as 12).
///
/// The scheme depends only on `year`; `seed` drives every reported value and
/// record, so the same arguments always give identical files.
pub fn demo_district(year: i32, through_month: u8, seed: u64) -> (SchemeFile, DataFile) {
    let (file, gens) = scheme(year);
    let data = data(&file, &gens, through_month.min(12), seed);
    (file, data)
}

/// A reporting lapse: a unit did not report an indicator for a month.
struct Lapse {
    unit: usize,
    indicator: String,
    month: u8,
}

fn data(file: &SchemeFile, gens: &HashMap<String, Vec<Gen>>, through: u8, seed: u64) -> DataFile {
    let mut dice = Dice::new(seed);
    let year = file.year;
    let units = &file.units;
    let unit_pos: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
    // Each unit's overall ability (工作实绩): some strong, some weak.
    let ability: Vec<f64> = units.iter().map(|_| dice.uniform(0.8, 1.12)).collect();
    let all_leaves = leaves(&file.tree);

    // Who is late: three units have not yet sent the latest monthly report.
    let mut late = vec![false; units.len()];
    if through >= 2 {
        let mut n = 0;
        while n < 3 {
            let u = dice.below(units.len());
            if !late[u] {
                late[u] = true;
                n += 1;
            }
        }
    }
    // Who never reports: two (unit, indicator) pairs among monthly field indicators.
    let monthly: Vec<&NodeDef> =
        all_leaves.iter().copied().filter(|n| n.source.is_none() && n.frequency.is_none() && n.id.starts_with(['A', 'B', 'C'])).collect();
    let mut absent: Vec<(usize, String)> = Vec::new();
    while absent.len() < 2 {
        let node = *dice.pick(&monthly);
        let assigned = resolve_params(node, units, &unit_pos);
        let candidates: Vec<usize> = (0..units.len()).filter(|&u| assigned[u].is_some() && !late[u]).collect();
        let u = *dice.pick(&candidates);
        if !absent.iter().any(|(a, id)| *a == u && *id == node.id) {
            absent.push((u, node.id.clone()));
        }
    }

    let mut entries = Vec::new();
    let mut lapses = Vec::new();
    for node in &all_leaves {
        if node.source.is_some() {
            continue;
        }
        let gens = &gens[&node.id];
        let fields = node.fields.as_deref().unwrap_or_default();
        let frequency = node.frequency.unwrap_or_default();
        for (u, params) in resolve_params(node, units, &unit_pos).iter().enumerate() {
            let Some(params) = params else { continue };
            let perf = Performance::draw(&mut dice, ability[u]);
            let series = simulate(&mut dice, gens, params, perf);
            let never = absent.iter().any(|(a, id)| *a == u && *id == node.id);
            for month in due_months(frequency, through) {
                let values = entry_values(&mut dice, fields, gens, &series, frequency, month, perf, |_| true);
                // Weaker units skip a month now and then; skipped months are booked later.
                let skipped = month < through && dice.chance(0.015 * (2.0 - ability[u]));
                if never || (late[u] && month == through && frequency == Frequency::Monthly) {
                    continue;
                }
                if skipped {
                    lapses.push(Lapse { unit: u, indicator: node.name.clone(), month });
                    continue;
                }
                entries.push(EntryRow { unit: units[u].id.clone(), indicator: node.id.clone(), month: month_text(year, month), values });
            }
        }
    }
    // Reports arrive month by month: order by month, then unit, then indicator (tree order).
    let order: HashMap<&str, usize> = all_leaves.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    entries.sort_by_key(|e| (e.month.clone(), unit_pos[e.unit.as_str()], order[e.indicator.as_str()]));

    let mut records = Vec::new();
    for node in all_leaves.iter().filter(|n| n.source.is_some()) {
        for (u, params) in resolve_params(node, units, &unit_pos).iter().enumerate() {
            if params.is_some() {
                records.extend(unit_records(&mut dice, &node.id, &units[u].id, ability[u], year, through));
            }
        }
    }
    // Overdue reports become deduction records (数据迟报漏报) on the 16th of the next month.
    for lapse in &lapses {
        if lapse.month < through {
            records.push(RecordRow {
                unit: units[lapse.unit].id.clone(),
                indicator: "Y4".into(),
                date: format!("{}-16", month_text(year, lapse.month + 1)),
                points: 0.2,
                note: Some(format!("{year}年{}月「{}」数据逾期未报", lapse.month, lapse.indicator)),
            });
        }
    }
    // A ledger (台账) in date order.
    records.sort_by(|a, b| a.date.cmp(&b.date));
    DataFile { entries, records }
}

/// A date in the year up to `through` (1–28th, so every month has it).
fn date(dice: &mut Dice, year: i32, through: u8) -> String {
    let month = dice.int(1, i64::from(through)) as u8;
    format!("{}-{:02}", month_text(year, month), dice.int(1, 28))
}

const AWARDS: [&str; 12] = [
    "安全生产工作先进单位",
    "平安建设先进集体",
    "文明单位",
    "优化营商环境先进单位",
    "统计工作先进集体",
    "政务公开工作先进单位",
    "三八红旗集体",
    "五一劳动奖状",
    "双拥模范单位",
    "档案工作先进单位",
    "法治建设先进单位",
    "信访工作先进集体",
];
const INNOVATIONS: [&str; 10] = [
    "一网通办集成改革",
    "街区制社区治理",
    "网格化与12345热线联动",
    "企业服务专员制度",
    "老旧小区改造共建共管",
    "智慧城管平台",
    "十五分钟便民生活圈",
    "信用承诺审批",
    "一窗通办",
    "社区议事厅",
];
const REPORTS: [&str; 8] = [
    "关于推进老旧小区改造的调研报告",
    "我区优化营商环境的做法与成效",
    "关于基层治理网格化的思考",
    "多措并举稳就业保民生",
    "关于加快楼宇经济发展的建议",
    "我区12345热线诉求办理情况分析",
    "关于社区养老服务的调研",
    "关于盘活闲置国有资产的建议",
];

/// The bonus or deduction records of one unit for one record indicator, up to `through`.
fn unit_records(dice: &mut Dice, indicator: &str, unit: &str, ability: f64, year: i32, through: u8) -> Vec<RecordRow> {
    if through == 0 {
        return Vec::new();
    }
    let share = f64::from(through) / 12.0;
    let good = ability * ability;
    let bad = (2.0 - ability) * (2.0 - ability);
    let rate = match indicator {
        "X1" => 0.6 * good,
        "X2" => 0.25 * good,
        "X3" => 2.0 * good,
        "Y1" => 0.5 * bad,
        "Y2" => 0.4 * bad,
        "Y3" => 0.1 * bad,
        "Y5" => 0.02,
        _ => 0.0, // Y4 comes from the entries.
    };
    let n = dice.events(rate * share);
    (0..n)
        .map(|_| {
            let date = date(dice, year, through);
            let (points, note) = match indicator {
                "X1" => {
                    let (level, points) = *dice.pick(&[("市级", 1.0), ("市级", 1.0), ("省级", 2.0), ("国家级", 3.0)]);
                    (points, format!("获{level}表彰：{}", dice.pick(&AWARDS)))
                }
                "X2" => {
                    let (level, points) = *dice.pick(&[("区级", 1.0), ("区级", 1.0), ("市级", 2.0), ("省级", 3.0)]);
                    (points, format!("创新项目「{}」获{level}推广", dice.pick(&INNOVATIONS)))
                }
                "X3" => {
                    let (how, points) = *dice.pick(&[
                        ("被区委办采用", 1.0),
                        ("被区委办采用", 1.0),
                        ("被市委办公厅采用", 2.0),
                        ("获区领导肯定性批示", 3.0),
                        ("被省委办公厅采用", 5.0),
                    ]);
                    (points, format!("《{}》{how}", dice.pick(&REPORTS)))
                }
                "Y1" => (0.5, format!("区委督办件〔{year}〕{}号逾期未办结", dice.int(1, 120))),
                "Y2" => dice
                    .pick(&[
                        (0.5, "重复信访事项未按期化解".to_string()),
                        (0.5, "信访事项办理群众不满意被通报".to_string()),
                        (1.0, "发生越级集体上访1批次".to_string()),
                    ])
                    .clone(),
                "Y3" => {
                    if dice.chance(0.15) {
                        (3.0, "发生较大生产安全事故1起".to_string())
                    } else {
                        (1.0, "发生一般生产安全事故1起".to_string())
                    }
                }
                _ => (2.0, "1名干部违反中央八项规定精神受到党纪处分".to_string()),
            };
            RecordRow { unit: unit.into(), indicator: indicator.into(), date, points, note: Some(note) }
        })
        .collect()
}
