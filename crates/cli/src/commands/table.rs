//! Plain-text tables aligned by display width, so Chinese names (two columns
//! wide each) line up in a terminal.

use unicode_width::UnicodeWidthStr;

/// Renders rows (the first is the header) with columns padded to equal width.
/// Columns listed in `right` are right-aligned (numbers).
pub fn render(rows: &[Vec<String>], right: &[usize]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.width()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let pad = " ".repeat(widths[c] - s.width());
                if right.contains(&c) { format!("{pad}{s}") } else { format!("{s}{pad}") }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_chinese_by_display_width() {
        let rows = vec![
            vec!["单位".to_string(), "总分".to_string()],
            vec!["区发改局".to_string(), "9.33".to_string()],
            vec!["u2".to_string(), "100".to_string()],
        ];
        let text = render(&rows, &[1]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "单位      总分");
        assert_eq!(lines[2], "区发改局  9.33");
        assert_eq!(lines[3], "u2         100");
    }
}
