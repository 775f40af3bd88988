//! The audit chain: appending, verifying, and detecting tampering done with plain SQL —
//! by someone who can write the database but has neither the key file nor the anchor.

use jixiao_store::{BrokenReason, EntryFields, GENESIS_HASH, HashAlgorithm, Keys, Store, StoreOptions, entry_hash, entry_mac};
use serde_json::json;

use crate::common::{TestDb, backend_tests};

backend_tests!(
    many_entries_verify,
    hash_is_the_documented_encoding,
    plain_sql_cannot_change_the_log,
    changed_entry_is_found,
    deleted_entry_is_found,
    forged_entry_at_the_end_is_found,
    replaced_entry_is_found,
    inserted_entry_before_the_start_is_found,
    swapped_entries_are_found,
    sm3_and_switching_algorithms,
    concurrent_writers_keep_one_chain,
    trail_of_an_object,
    entries_without_the_key_are_found,
    deleting_the_last_entries_is_found,
    deleting_every_entry_is_found,
    a_log_cut_and_continued_is_found,
    plain_entries_of_old_databases_are_a_prefix,
    keyed_entries_need_the_key,
    archives_check_offline,
);

/// The audit key of test stores (`TestDb::options`).
fn key() -> Vec<u8> {
    Keys::for_tests().audit().to_vec()
}

/// Writes `n` transactions; transaction `i` appends `i % 3 + 1` entries. Returns the
/// number of entries.
async fn fill(store: &Store, n: usize) -> u64 {
    let mut total = 0;
    for i in 0..n {
        let mut tx = store.begin(&format!("user{}", i % 4)).await.unwrap();
        for k in 0..(i % 3 + 1) {
            let before = if k == 0 { None } else { Some(json!({"value": k, "note": "前"})) };
            tx.audit("setting.set", "setting", &format!("key{i}"), before, Some(json!({"value": i}))).await.unwrap();
            total += 1;
        }
        tx.commit().await.unwrap();
    }
    total
}

async fn many_entries_verify(db: TestDb) {
    let store = db.store().await;
    let total = fill(&store, 40).await;
    assert_eq!(total, 79); // 40 transactions of 1, 2, 3, 1, 2, 3… entries: 13 × (1 + 2 + 3) + 1
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 79);
    assert_eq!(report.first_broken, None);
    let entries = store.audit_entries(0, 1000).await.unwrap();
    assert_eq!(entries.len(), 79);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        let prev = if i == 0 { GENESIS_HASH } else { entries[i - 1].hash.as_str() };
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.algorithm, "hmac-sm3");
        assert!(e.at.ends_with('Z'), "{}", e.at);
    }
    assert_eq!(store.audit_head().await.unwrap(), Some((79, entries[78].hash.clone())));
    assert_eq!(store.audit_entries(77, 10).await.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), vec![78, 79]);
}

/// The stored MAC is HMAC-SM3 under the audit key over the encoding the module
/// documents, built here by hand rather than with the library's encoder.
async fn hash_is_the_documented_encoding(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("张三").await.unwrap();
    tx.audit("unit.rename", "unit", "u01", Some(json!({"name": "旧"})), None).await.unwrap();
    tx.commit().await.unwrap();
    let e = &store.audit_entries(0, 10).await.unwrap()[0];
    assert_eq!(e.seq, 1);
    assert_eq!(e.before_json.as_deref(), Some(r#"{"name":"旧"}"#));
    assert_eq!(e.after_json, None);

    let mut bytes = b"jixiao-audit-v1\n".to_vec();
    bytes.extend_from_slice(&1i64.to_be_bytes());
    for field in [e.at.as_str(), "张三", "unit.rename", "unit", "u01", r#"{"name":"旧"}"#] {
        bytes.extend_from_slice(&(field.len() as u64).to_be_bytes());
        bytes.extend_from_slice(field.as_bytes());
    }
    bytes.extend_from_slice(&[0xff; 8]); // after_json is NULL
    bytes.extend_from_slice(&64u64.to_be_bytes());
    bytes.extend_from_slice(&[b'0'; 64]);
    assert_eq!(e.algorithm, "hmac-sm3");
    assert_eq!(e.hash, hex::encode(jixiao_store::hmac_sm3(&key(), &bytes)));
}

async fn plain_sql_cannot_change_the_log(db: TestDb) {
    let store = db.store().await;
    fill(&store, 3).await;
    for sql in ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 2"] {
        let err = sqlx::query(sql).execute(store.pool()).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert!(store.verify_audit().await.unwrap().is_intact());
}

async fn changed_entry_is_found(db: TestDb) {
    let store = db.store().await;
    assert_eq!(fill(&store, 20).await, 39);
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "UPDATE audit_log SET after_json = '{\"value\":999}' WHERE seq = 17").await;
    db.raw(&store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 30").await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 39);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.seq, broken.position, broken.reason), (17, 16, BrokenReason::HashMismatch));
}

async fn deleted_entry_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 20).await;
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "DELETE FROM audit_log WHERE seq = 12").await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 38);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.seq, broken.position, broken.reason.clone()), (13, 11, BrokenReason::SeqGap { expected: 12 }));
    assert!(broken.to_string().contains("entry 13 should be numbered 12"), "{broken}");
}

async fn forged_entry_at_the_end_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 10).await; // 19 entries
    let entries = store.audit_entries(0, 100).await.unwrap();
    assert_eq!(entries.len(), 19);

    // A row with a made-up hash.
    db.raw(
        &store,
        &format!(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, before_json, after_json, prev_hash, \
             hash, algorithm) VALUES (20, '2027-01-01T00:00:00.000000Z', 'mallory', 'entry.update', 'entry', 'x', \
             NULL, NULL, '{}', '{}', 'hmac-sm3')",
            entries[18].hash,
            "ab".repeat(32)
        ),
    )
    .await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (20, BrokenReason::HashMismatch));
}

/// An entry removed and replaced by one with a correct MAC of its own (made with the
/// key): the next entry no longer follows it.
async fn replaced_entry_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 10).await;
    let entries = store.audit_entries(0, 100).await.unwrap();
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "DELETE FROM audit_log WHERE seq = 8").await;
    let forged = EntryFields {
        seq: 8,
        at: &entries[7].at,
        actor: "mallory",
        action: "entry.update",
        object_type: "entry",
        object_id: "2027/u01/A1/2027-03",
        before_json: None,
        after_json: Some("{\"actual\":1}"),
        prev_hash: &entries[6].hash,
    };
    let hash = entry_mac(HashAlgorithm::Sm3, &key(), &forged);
    db.raw(
        &store,
        &format!(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, before_json, after_json, prev_hash, \
             hash, algorithm) VALUES (8, '{}', 'mallory', 'entry.update', 'entry', '2027/u01/A1/2027-03', NULL, \
             '{{\"actual\":1}}', '{}', '{hash}', 'hmac-sm3')",
            entries[7].at, entries[6].hash
        ),
    )
    .await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.position, broken.reason), (9, 8, BrokenReason::PrevHashMismatch));
}

async fn inserted_entry_before_the_start_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 3).await;
    let forged = EntryFields {
        seq: 0,
        at: "2026-12-31T00:00:00.000000Z",
        actor: "mallory",
        action: "x",
        object_type: "x",
        object_id: "x",
        before_json: None,
        after_json: None,
        prev_hash: GENESIS_HASH,
    };
    let hash = entry_hash(HashAlgorithm::Sha256, &forged);
    db.raw(
        &store,
        &format!(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, before_json, after_json, prev_hash, \
             hash, algorithm) VALUES (0, '2026-12-31T00:00:00.000000Z', 'mallory', 'x', 'x', 'x', NULL, NULL, \
             '{GENESIS_HASH}', '{hash}', 'sha256')"
        ),
    )
    .await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 7);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.seq, broken.position, broken.reason), (0, 0, BrokenReason::SeqGap { expected: 1 }));
}

async fn swapped_entries_are_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 10).await;
    let entries = store.audit_entries(0, 100).await.unwrap();
    db.drop_audit_triggers(&store).await;
    let quote = |s: &Option<String>| s.as_ref().map_or("NULL".to_string(), |t| format!("'{t}'"));
    for (target, source) in [(5usize, 14usize), (14, 5)] {
        let s = &entries[source - 1];
        db.raw(
            &store,
            &format!(
                "UPDATE audit_log SET at = '{}', actor = '{}', action = '{}', object_type = '{}', object_id = '{}', \
                 before_json = {}, after_json = {}, prev_hash = '{}', hash = '{}', algorithm = '{}' WHERE seq = {target}",
                s.at,
                s.actor,
                s.action,
                s.object_type,
                s.object_id,
                quote(&s.before_json),
                quote(&s.after_json),
                s.prev_hash,
                s.hash,
                s.algorithm
            ),
        )
        .await;
    }
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (5, BrokenReason::HashMismatch));
}

async fn sm3_and_switching_algorithms(db: TestDb) {
    let store = db.store().await.with_hash_algorithm(HashAlgorithm::Sm3);
    fill(&store, 3).await; // 6 entries in SM3
    let store = store.with_hash_algorithm(HashAlgorithm::Sha256);
    fill(&store, 2).await; // 3 more in SHA-256
    let entries = store.audit_entries(0, 100).await.unwrap();
    let algorithms: Vec<&str> = entries.iter().map(|e| e.algorithm.as_str()).collect();
    let (sm3, sha256) = ("hmac-sm3", "hmac-sha256");
    assert_eq!(algorithms, [sm3, sm3, sm3, sm3, sm3, sm3, sha256, sha256, sha256]);
    assert!(store.verify_audit().await.unwrap().is_intact());

    // An SM3 entry relabelled as SHA-256 no longer checks out.
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "UPDATE audit_log SET algorithm = 'hmac-sha256' WHERE seq = 4").await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (4, BrokenReason::HashMismatch));
    db.raw(&store, "UPDATE audit_log SET algorithm = 'md5' WHERE seq = 4").await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (4, BrokenReason::UnknownAlgorithm("md5".into())));
}

async fn concurrent_writers_keep_one_chain(db: TestDb) {
    let store = db.store().await;
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let mut tx = store.begin(&format!("writer{w}")).await.unwrap();
                store.set_setting(&mut tx, &format!("w{w}"), &i.to_string()).await.unwrap();
                tx.audit("setting.set", "setting", &format!("w{w}"), None, Some(json!(i))).await.unwrap();
                tx.audit("setting.touch", "setting", &format!("w{w}"), None, None).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 120);
    assert_eq!(report.first_broken, None);
    // The two entries of one transaction are adjacent: appends are not interleaved.
    let entries = store.audit_entries(0, 200).await.unwrap();
    for pair in entries.chunks(2) {
        assert_eq!(pair[0].action, "setting.set");
        assert_eq!(pair[1].action, "setting.touch");
        assert_eq!(pair[0].actor, pair[1].actor);
    }
    for w in 0..6 {
        assert_eq!(store.setting(&format!("w{w}")).await.unwrap().as_deref(), Some("9"));
    }
}

async fn trail_of_an_object(db: TestDb) {
    let store = db.store().await;
    fill(&store, 6).await;
    let trail = store.audit_trail("setting", "key4").await.unwrap();
    // Transaction 4 appended 4 % 3 + 1 = 2 entries about key4.
    assert_eq!(trail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![8, 9]);
    assert_eq!(trail[0].actor, "user0");
    assert_eq!(trail[1].before_json.as_deref(), Some(r#"{"value":1,"note":"前"}"#));
}

/// Someone who can write the database but has no key: a plain-hash chain continued
/// after keyed entries, and an entry with a MAC under another key, are both found.
async fn entries_without_the_key_are_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 5).await; // 9 entries
    let entries = store.audit_entries(0, 100).await.unwrap();
    let insert = |seq: i64, prev: String, hash: String, algorithm: &str| {
        format!(
            "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, before_json, after_json, prev_hash, \
             hash, algorithm) VALUES ({seq}, '2027-01-01T00:00:00.000000Z', 'mallory', 'x', 'x', 'x', NULL, NULL, '{prev}', \
             '{hash}', '{algorithm}')"
        )
    };
    let forged = |prev: &'static str| EntryFields {
        seq: 10,
        at: "2027-01-01T00:00:00.000000Z",
        actor: "mallory",
        action: "x",
        object_type: "x",
        object_id: "x",
        before_json: None,
        after_json: None,
        prev_hash: prev,
    };
    let prev: &'static str = Box::leak(entries[8].hash.clone().into_boxed_str());
    // A plain SHA-256 entry, correctly chained.
    db.raw(&store, &insert(10, prev.into(), entry_hash(HashAlgorithm::Sha256, &forged(prev)), "sha256")).await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason.clone()), (10, BrokenReason::Unkeyed));
    assert!(broken.to_string().contains("without the key"), "{broken}");
    // A MAC under a guessed key.
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "DELETE FROM audit_log WHERE seq = 10").await;
    db.raw(&store, &insert(10, prev.into(), entry_mac(HashAlgorithm::Sm3, b"guessed", &forged(prev)), "hmac-sm3")).await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (10, BrokenReason::HashMismatch));
}

async fn deleting_the_last_entries_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 10).await; // 19 entries
    let head = store.audit_head().await.unwrap().unwrap();
    assert_eq!(store.anchor().unwrap().read().unwrap(), Some(head.clone()), "the anchor records the head");
    assert_eq!(store.verify_audit().await.unwrap().anchor, Some(head));
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "DELETE FROM audit_log WHERE seq > 16").await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 16);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.seq, broken.position, broken.reason.clone()), (17, 16, BrokenReason::Truncated { anchor_seq: 19 }));
    assert!(broken.to_string().contains("entries from 17 on are missing"), "{broken}");
    // The last one alone, too.
    db.raw(&store, "DELETE FROM audit_log WHERE seq > 15").await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (16, BrokenReason::Truncated { anchor_seq: 19 }));
}

async fn deleting_every_entry_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 3).await; // 6 entries
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "DELETE FROM audit_log").await;
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 0);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.seq, broken.position, broken.reason), (1, 0, BrokenReason::Truncated { anchor_seq: 6 }));
}

/// The newest entries removed and the log continued by the application (a restored
/// backup, say): the entry the anchor records is no longer the one in the log.
async fn a_log_cut_and_continued_is_found(db: TestDb) {
    let store = db.store().await;
    fill(&store, 4).await; // 1 + 2 + 3 + 1 = 7 entries
    db.drop_audit_triggers(&store).await;
    db.raw(&store, "DELETE FROM audit_log WHERE seq > 4").await;
    fill(&store, 3).await; // 6 more: 10 entries, 5–7 different ones
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 10);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (7, BrokenReason::AnchorMismatch));
}

/// A store opened without keys writes plain hashes (a database from before keys);
/// once keyed entries follow, the plain ones are a checked prefix, and a plain entry
/// after them is refused.
async fn plain_entries_of_old_databases_are_a_prefix(db: TestDb) {
    let store = db.store().await;
    let old = Store::connect_with(&db.url, StoreOptions { keys: None, anchor: None, ..db.options() }).await.unwrap();
    fill(&old, 2).await; // 3 plain entries
    fill(&store, 2).await; // 3 keyed
    let entries = store.audit_entries(0, 100).await.unwrap();
    let algorithms: Vec<&str> = entries.iter().map(|e| e.algorithm.as_str()).collect();
    assert_eq!(algorithms, ["sm3", "sm3", "sm3", "hmac-sm3", "hmac-sm3", "hmac-sm3"]);
    assert!(store.verify_audit().await.unwrap().is_intact());
    fill(&old, 1).await;
    let broken = store.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (7, BrokenReason::Unkeyed));
}

async fn keyed_entries_need_the_key(db: TestDb) {
    let store = db.store().await;
    fill(&store, 2).await;
    let keyless = Store::connect_with(&db.url, StoreOptions { keys: None, ..db.options() }).await.unwrap();
    let broken = keyless.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (1, BrokenReason::NoKey));
    let other = Store::connect_with(&db.url, StoreOptions { keys: Some(Keys::from_master(&[1; 32])), ..db.options() }).await.unwrap();
    let broken = other.verify_audit().await.unwrap().first_broken.unwrap();
    assert_eq!((broken.seq, broken.reason), (1, BrokenReason::HashMismatch), "another key file");
}

/// An archive of a range checks out with the key file alone; a changed entry, a
/// removed last entry, an edited header or another key file are each found.
async fn archives_check_offline(db: TestDb) {
    let store = db.store().await;
    fill(&store, 10).await; // 19 entries
    let keys = Keys::for_tests();
    let entries = store.audit_entries(4, 10).await.unwrap(); // 5–14
    let text = jixiao_store::write_archive(&entries, &keys, "2027-05-01T00:00:00.000000Z");
    assert_eq!(jixiao_store::check_archive(&text, &keys), Ok(10));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11);

    let changed = text.replacen("\"actor\":\"user", "\"actor\":\"mallory", 1);
    assert_ne!(changed, text);
    assert_eq!(jixiao_store::check_archive(&changed, &keys), Err("line 2: entry 5 does not match its MAC".to_string()));
    let shorter = lines[..10].join("\n");
    let err = jixiao_store::check_archive(&shorter, &keys).unwrap_err();
    assert!(err.contains("holds 9 entries, its header says 10"), "{err}");
    let relabelled = text.replacen("\"entries\":10", "\"entries\":9", 1);
    assert!(jixiao_store::check_archive(&relabelled, &keys).unwrap_err().contains("header does not match its MAC"));
    let other = Keys::from_master(&[9; 32]);
    assert!(jixiao_store::check_archive(&text, &other).unwrap_err().contains("header does not match its MAC"));
    let empty = jixiao_store::write_archive(&[], &keys, "2027-05-01T00:00:00.000000Z");
    assert_eq!(jixiao_store::check_archive(&empty, &keys), Ok(0));
}
