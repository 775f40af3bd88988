//! Case numbers (受理编号) and query passwords (查询密码).
//!
//! A case number is `QK-<year>-<six-digit sequence>` (`QK-2027-000123`): readable over
//! the phone, sequential per year. A query password is 8 characters of an alphabet
//! without look-alikes (no 0/O, 1/I): 32 symbols, 40 bits. The store keeps only its
//! argon2 hash; the caller supplies the random bytes (core does no I/O).

use std::fmt;
use std::str::FromStr;

/// A request's case number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseNumber {
    pub year: i32,
    pub seq: u32,
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QK-{:04}-{:06}", self.year, self.seq)
    }
}

impl FromStr for CaseNumber {
    type Err = String;
    fn from_str(s: &str) -> Result<CaseNumber, String> {
        let bad = || format!("`{s}` is not a case number like QK-2027-000123");
        let rest = s.trim().strip_prefix("QK-").or_else(|| s.trim().strip_prefix("qk-")).ok_or_else(bad)?;
        let (year, seq) = rest.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || seq.len() < 6 || !year.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(CaseNumber { year: year.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
    }
}

/// The alphabet of query passwords: digits and capitals without 0, 1, I, O.
pub const PASSWORD_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A query password from 8 random bytes (each byte picks one of 32 symbols, so no
/// bias).
pub fn query_password(random: [u8; 8]) -> String {
    random.iter().map(|b| char::from(PASSWORD_ALPHABET[usize::from(b % 32)])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_round_trip() {
        let c = CaseNumber { year: 2027, seq: 123 };
        assert_eq!(c.to_string(), "QK-2027-000123");
        assert_eq!("QK-2027-000123".parse::<CaseNumber>().unwrap(), c);
        assert_eq!(" qk-2027-1234567 ".parse::<CaseNumber>().unwrap(), CaseNumber { year: 2027, seq: 1_234_567 });
        for bad in ["", "QK-27-000001", "QK-2027-12", "XX-2027-000001", "QK-2027-00001a", "QK-2027"] {
            assert!(bad.parse::<CaseNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_use_the_alphabet() {
        let p = query_password([0, 1, 31, 32, 255, 100, 7, 8]);
        assert_eq!(p.len(), 8);
        assert!(p.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        assert_eq!(&p[..3], "23Z");
        assert_ne!(query_password([1; 8]), query_password([2; 8]));
    }
}
