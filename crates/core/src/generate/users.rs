//! Demo accounts (演示账号): one per role, with fixed passwords, created and printed
//! once by `jixiao demo`. They exist only for trying the system out; a real
//! deployment creates its own users.

use super::demo::unit_id;

/// One demo account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub username: &'static str,
    /// The person's name as shown in the pages.
    pub display_name: &'static str,
    /// The role code: `admin` (系统管理员), `security` (安全管理员), `auditor`
    /// (审计管理员), `office` (考核办), `assessor` (考核责任部门),
    /// `reporter` (单位填报员), `head` (单位负责人), `leader` (区领导), `staff` (工作人员).
    pub role: &'static str,
    /// What the role is for, in Chinese.
    pub role_name: &'static str,
    /// The demo unit the account belongs to, where the role is tied to a unit.
    pub unit: Option<String>,
    /// A fixed demo password; shown once by `jixiao demo`, to be changed in real use.
    pub password: &'static str,
}

/// One demo account per role, and one more in a department that handles citizens'
/// service requests. The assessor is the statistics bureau (区统计局), which supplies
/// data for every street; the reporter, head and staff member belong to the
/// development and reform bureau (区发改局); `chengguan` reports for the urban
/// management bureau (区城管执法局), which receives the road requests.
pub fn demo_users() -> Vec<DemoUser> {
    let user = |username, display_name, role, role_name, unit: Option<&str>, password| DemoUser {
        username,
        display_name,
        role,
        role_name,
        unit: unit.map(unit_id),
        password,
    };
    vec![
        user("admin", "王磊", "admin", "系统管理员", None, "Demo!2027admin"),
        user("security", "郑怡", "security", "安全管理员", None, "Demo!2027security"),
        user("auditor", "钱文", "auditor", "审计管理员", None, "Demo!2027auditor"),
        user("office", "李静", "office", "考核办", None, "Demo!2027office"),
        user("assessor", "陈晓明", "assessor", "考核责任部门", Some("区统计局"), "Demo!2027assessor"),
        user("reporter", "刘洋", "reporter", "单位填报员", Some("区发改局"), "Demo!2027reporter"),
        user("head", "赵建国", "head", "单位负责人", Some("区发改局"), "Demo!2027head"),
        user("leader", "孙志刚", "leader", "区领导", None, "Demo!2027leader"),
        user("staff", "周敏", "staff", "工作人员", Some("区发改局"), "Demo!2027staff"),
        user("chengguan", "吴刚", "reporter", "单位填报员（城管，办理群众诉求）", Some("区城管执法局"), "Demo!2027chengguan"),
    ]
}
