//! The secrets kept outside the database: one key file, and the keys derived from it.
//!
//! The file holds 32 random bytes (the master key) as hex, and never lives in the
//! database, so someone who can read or rewrite the database (a database
//! administrator, a stolen backup, an SQL injection) has none of the keys. From the
//! master key three keys are derived, each for one purpose, as
//! `HMAC-SM3(master, label)`:
//!
//! - `audit` (`jixiao audit chain v1`): the MAC of every audit entry (`audit`);
//! - `personal` (`jixiao personal data v1`, first 16 bytes): SM4 encryption of
//!   citizens' phone numbers (`crypto`);
//! - `lookup` (`jixiao lookup v1`): keyed hashes of query passwords and of phone
//!   numbers used as lookup keys (`crypto`).
//!
//! Format: the first line `jixiao-keys v1`, the second the 64 hex digits. Written with
//! mode 0600 where the system has modes. Losing the file loses the phone numbers and
//! the means to check the audit chain: back it up apart from the database.

use std::path::Path;

use hmac::{KeyInit, Mac};

use crate::error::{Result, StoreError};

const HEADER: &str = "jixiao-keys v1";

/// The master key of `Keys::for_tests`.
const TEST_MASTER: [u8; 32] = [7u8; 32];

/// A key file holding the test keys, for the binary run on a test database.
#[cfg(feature = "testing")]
pub(crate) fn test_key_file_text() -> String {
    format!("{HEADER}\n{}\n", hex::encode(TEST_MASTER))
}

/// The derived keys. `Debug` shows none of them.
#[derive(Clone)]
pub struct Keys {
    audit: [u8; 32],
    personal: [u8; 16],
    lookup: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

/// HMAC-SM3 of `data` under `key`.
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<sm3::Sm3>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl Keys {
    /// The keys derived from a master key.
    pub fn from_master(master: &[u8; 32]) -> Keys {
        let audit = hmac_sm3(master, b"jixiao audit chain v1");
        let personal_full = hmac_sm3(master, b"jixiao personal data v1");
        let lookup = hmac_sm3(master, b"jixiao lookup v1");
        let mut personal = [0u8; 16];
        personal.copy_from_slice(&personal_full[..16]);
        Keys { audit, personal, lookup }
    }

    /// Fixed keys, for tests only.
    pub fn for_tests() -> Keys {
        Keys::from_master(&TEST_MASTER)
    }

    /// The key of the audit chain's MACs.
    pub fn audit(&self) -> &[u8; 32] {
        &self.audit
    }

    /// The SM4 key of personal data.
    pub fn personal(&self) -> &[u8; 16] {
        &self.personal
    }

    /// The key of keyed lookup hashes.
    pub fn lookup(&self) -> &[u8; 32] {
        &self.lookup
    }

    /// Reads the key file at `path`.
    pub fn load(path: &Path) -> Result<Keys> {
        let text =
            std::fs::read_to_string(path).map_err(|e| StoreError::invalid(format!("cannot read the key file {}: {e}", path.display())))?;
        let mut lines = text.lines();
        let bad = || StoreError::invalid(format!("the key file {} is not a jixiao key file", path.display()));
        if lines.next().map(str::trim) != Some(HEADER) {
            return Err(bad());
        }
        let bytes = hex::decode(lines.next().unwrap_or_default().trim()).map_err(|_| bad())?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(Keys::from_master(&master))
    }

    /// Writes a new key file at `path` and returns its keys; if one exists already, its
    /// keys instead.
    pub fn create(path: &Path) -> Result<Keys> {
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).map_err(|e| StoreError::invalid(format!("no randomness for a new key: {e}")))?;
        let text = format!("{HEADER}\n{}\n", hex::encode(master));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::invalid(format!("cannot create {}: {e}", dir.display())))?;
        }
        // Written whole under a temporary name, then linked into place: the link fails
        // if the file exists, so a key file is never overwritten or read half-written
        // (two processes starting at once: the second uses the first one's).
        let tmp = path.with_extension(format!("tmp-{}-{}", std::process::id(), hex::encode(&master[..4])));
        let io = |e: std::io::Error| StoreError::invalid(format!("cannot write the key file {}: {e}", path.display()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
        let linked = std::fs::hard_link(&tmp, path);
        std::fs::remove_file(&tmp).ok();
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Keys::load(path),
            Err(e) => return Err(io(e)),
        }
        Ok(Keys::from_master(&master))
    }
}

/// Prefix of a phone number encrypted at rest.
const SEALED: &str = "sm4:";

impl Keys {
    /// `text` encrypted for storage: SM4 (GB/T 32907) in CTR mode under the personal
    /// key with a random 16-byte IV, then a 16-byte tag (HMAC-SM3 under the lookup key
    /// over IV and ciphertext), as `sm4:` + hex. Empty stays empty.
    pub fn seal(&self, text: &str) -> String {
        use ctr::cipher::{KeyIvInit, StreamCipher};
        if text.is_empty() {
            return String::new();
        }
        let mut iv = [0u8; 16];
        getrandom::fill(&mut iv).expect("the operating system's random number generator");
        let mut data = text.as_bytes().to_vec();
        ctr::Ctr128BE::<sm4::Sm4>::new(&self.personal.into(), &iv.into()).apply_keystream(&mut data);
        let mut sealed = iv.to_vec();
        sealed.extend_from_slice(&data);
        let tag = hmac_sm3(&self.lookup, &[b"jixiao sealed v1\n".as_slice(), &sealed].concat());
        sealed.extend_from_slice(&tag[..16]);
        format!("{SEALED}{}", hex::encode(sealed))
    }

    /// The text of a stored value: decrypted if sealed (its tag checked), as it is
    /// otherwise (stored before encryption).
    pub fn open(&self, stored: &str) -> Result<String> {
        use ctr::cipher::{KeyIvInit, StreamCipher};
        let Some(hex_text) = stored.strip_prefix(SEALED) else { return Ok(stored.to_string()) };
        let bad = || StoreError::invalid("an encrypted value is damaged or was made with another key file");
        let bytes = hex::decode(hex_text).map_err(|_| bad())?;
        if bytes.len() < 32 {
            return Err(bad());
        }
        let (sealed, tag) = bytes.split_at(bytes.len() - 16);
        let expected = hmac_sm3(&self.lookup, &[b"jixiao sealed v1\n".as_slice(), sealed].concat());
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..16], tag)) {
            return Err(bad());
        }
        let (iv, data) = sealed.split_at(16);
        let mut data = data.to_vec();
        let iv: [u8; 16] = iv.try_into().map_err(|_| bad())?;
        ctr::Ctr128BE::<sm4::Sm4>::new(&self.personal.into(), &iv.into()).apply_keystream(&mut data);
        String::from_utf8(data).map_err(|_| bad())
    }
}

/// Whether a stored value is encrypted (`Keys::seal`).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sm3_and_sha256_known_answers() {
        // RFC 4231 test case 2 for HMAC-SHA256.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // HMAC-SM3 of the same (GM/T 0042 construction, RFC 2104 over SM3).
        assert_eq!(
            hex::encode(hmac_sm3(b"Jefe", b"what do ya want for nothing?")),
            "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882"
        );
    }

    #[test]
    fn a_key_file_round_trips_and_keys_differ_by_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k").join("jixiao.keys");
        let made = Keys::create(&path).unwrap();
        let read = Keys::load(&path).unwrap();
        assert_eq!(made.audit(), read.audit());
        assert_eq!(made.personal(), read.personal());
        assert_ne!(made.audit(), made.lookup());
        let again = Keys::create(&path).unwrap();
        assert_eq!(again.audit(), made.audit(), "an existing key file is never overwritten");
        std::fs::write(&path, "nonsense").unwrap();
        assert!(Keys::load(&path).unwrap_err().to_string().contains("not a jixiao key file"));
        assert_eq!(format!("{made:?}"), "Keys(…)");
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_unchanged() {
        let keys = Keys::for_tests();
        let sealed = keys.seal("13800138000");
        assert!(is_sealed(&sealed) && !sealed.contains("13800138000"));
        assert_ne!(keys.seal("13800138000"), sealed, "a fresh IV each time");
        assert_eq!(keys.open(&sealed).unwrap(), "13800138000");
        assert_eq!(keys.open("13800138000").unwrap(), "13800138000", "a value from before encryption");
        assert_eq!(keys.seal(""), "");
        let other = Keys::from_master(&[3; 32]);
        assert!(other.open(&sealed).is_err());
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 40;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert!(keys.open(&String::from_utf8(flipped).unwrap()).is_err(), "a changed ciphertext is refused");
        // SM4 itself: the GB/T 32907 example (key = plaintext = 0123456789abcdeffedcba9876543210).
        use sm4::cipher::{BlockEncrypt, KeyInit};
        let k = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let mut block: [u8; 16] = k.clone().try_into().unwrap();
        sm4::Sm4::new_from_slice(&k).unwrap().encrypt_block((&mut block).into());
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }
}
