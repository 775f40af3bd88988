//! Snapshots of the analysis report of the demo district (fixed seed) in March 2027,
//! against February, with a fixed list of late and missing reporters.

use jixiao_core::analysis::{Input, analyse};
use jixiao_core::data::Dataset;
use jixiao_core::generate::demo_district;
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{PeriodReport, UnitReport, score_periods};
use jixiao_core::workflow::Timeliness;

use super::*;
use crate::i18n::Lang;

fn report(lang: Lang, period: &str) -> Report {
    let (file, data) = demo_district(2027, 3, 1);
    let scheme = Scheme::from_file(file).unwrap();
    let dataset = Dataset::load(&scheme, &data).unwrap();
    let period: Period = period.parse().unwrap();
    let units = |p: Period| -> Vec<UnitReport> { PeriodReport::new(&scheme, &score_periods(&scheme, &dataset, &[p]).remove(0)).units };
    let this = units(period);
    let previous = period.previous().map(|p| (p, units(p)));
    let m = |s: &str| s.parse::<Month>().unwrap();
    let reporting = vec![
        ("u05".to_string(), m("2027-03"), Timeliness::Missing),
        ("u05".to_string(), m("2027-02"), Timeliness::Late),
        ("u53".to_string(), m("2027-03"), Timeliness::Late),
    ];
    let analysis = analyse(&Input {
        scheme: &scheme,
        period,
        units: &this,
        previous: previous.as_ref().map(|(p, u)| (*p, u.as_slice())),
        reporting: &reporting,
        records: &data.records,
    });
    words(&Tr::new(lang), &scheme, &analysis)
}

#[test]
fn march_in_chinese() {
    insta::assert_snapshot!(report(Lang::Zh, "2027-03").plain());
}

#[test]
fn first_quarter_in_english() {
    insta::assert_snapshot!(report(Lang::En, "2027-Q1").plain());
}

#[test]
fn every_number_links_to_its_page_and_the_tables_match_the_sentences() {
    let r = report(Lang::Zh, "2027-03");
    assert_eq!(r.sections.iter().map(|s| s.id).collect::<Vec<_>>(), ["overview", "moves", "lagging", "red", "reporting", "records"]);
    for s in &r.sections {
        for sentence in &s.sentences {
            // A number in plain text is a count or a share; every score is a link.
            for p in sentence.iter().filter(|p| p.href.is_some()) {
                let href = p.href.as_deref().unwrap();
                assert!(href.starts_with("/scores?period=2027-03") || href.starts_with("/scores/2027-03/units/"), "{href}");
            }
        }
    }
    let overview = &r.sections[0];
    assert_eq!(overview.table.rows.len(), 3, "one row per group");
    let red = &r.sections[3];
    if red.table.rows.is_empty() {
        assert_eq!(red.sentences.len(), 1, "the sentence that says there is none");
    } else {
        assert_eq!(red.table.rows.len(), red.sentences.len(), "one sentence per red unit");
    }
    let reporting = &r.sections[4];
    assert_eq!(reporting.table.rows.len(), 2, "u05 and u53");
    let book = r.workbook(&Tr::new(Lang::Zh)).unwrap();
    assert!(book.starts_with(b"PK"), "an xlsx (zip) file");
}
