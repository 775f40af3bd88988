//! The built-in functions: names, argument counts and which ones look at peers.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Min,
    Max,
    Abs,
    Floor,
    Ceil,
    Round,
    Clamp,
    If,
    SafeDiv,
    Tier,
    GroupMax,
    GroupMin,
    GroupAvg,
    GroupRank,
    GroupRankAsc,
    GroupCount,
}

pub(crate) const ALL: [Func; 16] = [
    Func::Min,
    Func::Max,
    Func::Abs,
    Func::Floor,
    Func::Ceil,
    Func::Round,
    Func::Clamp,
    Func::If,
    Func::SafeDiv,
    Func::Tier,
    Func::GroupMax,
    Func::GroupMin,
    Func::GroupAvg,
    Func::GroupRank,
    Func::GroupRankAsc,
    Func::GroupCount,
];

impl Func {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Min => "min",
            Func::Max => "max",
            Func::Abs => "abs",
            Func::Floor => "floor",
            Func::Ceil => "ceil",
            Func::Round => "round",
            Func::Clamp => "clamp",
            Func::If => "if",
            Func::SafeDiv => "safe_div",
            Func::Tier => "tier",
            Func::GroupMax => "group_max",
            Func::GroupMin => "group_min",
            Func::GroupAvg => "group_avg",
            Func::GroupRank => "group_rank",
            Func::GroupRankAsc => "group_rank_asc",
            Func::GroupCount => "group_count",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Func> {
        ALL.into_iter().find(|f| f.name() == name)
    }

    pub(crate) fn is_peer(self) -> bool {
        matches!(self, Func::GroupMax | Func::GroupMin | Func::GroupAvg | Func::GroupRank | Func::GroupRankAsc | Func::GroupCount)
    }

    /// `None` when `n` arguments are fine, else what the function takes.
    pub(crate) fn arity_problem(self, n: usize) -> Option<&'static str> {
        let (ok, takes) = match self {
            Func::Min | Func::Max => (n >= 1, "one or more arguments"),
            Func::Abs | Func::Floor | Func::Ceil => (n == 1, "1 argument"),
            Func::GroupMax | Func::GroupMin | Func::GroupAvg | Func::GroupRank | Func::GroupRankAsc => (n == 1, "1 argument"),
            Func::GroupCount => (n == 0, "no arguments"),
            Func::Round => (n == 2, "2 arguments (the value and a number of decimals)"),
            Func::Clamp => (n == 3, "3 arguments (x, lo, hi)"),
            Func::If => (n == 3, "3 arguments (condition, value if true, value if false)"),
            Func::SafeDiv => (n == 3, "3 arguments (a, b, value when b is 0)"),
            Func::Tier => (
                n >= 4 && n.is_multiple_of(2),
                "x, then one or more threshold/score pairs, then a default \
                 (an even number of arguments, at least 4)",
            ),
        };
        (!ok).then_some(takes)
    }
}
