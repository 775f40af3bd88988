//! "Did you mean …?" for misspelt names: the closest candidate by edit distance
//! (with adjacent transpositions), when it is close enough to be a likely typo.

/// Optimal-string-alignment distance over characters, or `None` when it must exceed
/// `limit`. The length check first keeps a long name from costing a quadratic
/// comparison against every short candidate.
fn distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let w = b.len() + 1;
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..w {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[w - 1];
    (d <= limit).then_some(d)
}

/// The candidate closest to `name`, if any is within about a third of its length
/// (at least one edit). A difference of letter case alone counts as closest of all.
pub(crate) fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lower: Vec<char> = name.to_lowercase().chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let c: Vec<char> = cand.to_lowercase().chars().collect();
        let limit = (lower.len().max(c.len()) / 3).max(1);
        let Some(d) = distance(&lower, &c, limit) else {
            continue;
        };
        // Case-only differences (d == 0) beat any real edit; ties keep the first.
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_found() {
        let names = ["actual", "target", "points", "progress", "目标值"];
        assert_eq!(closest("actul", names), Some("actual"));
        assert_eq!(closest("tagret", names), Some("target"));
        assert_eq!(closest("Points", names), Some("points"));
        assert_eq!(closest("目标", names), Some("目标值"));
        assert_eq!(closest("xyz", names), None);
        assert_eq!(closest("completely_different", names), None);
    }
}
