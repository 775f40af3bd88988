//! The differences between two versions of a scheme, node by node, for the office's
//! version comparison page: which nodes were added, removed, moved or changed, and
//! which of their settings changed. Settings are compared as they are written in the
//! file (spec §2), so a change of a formula's spelling shows even if it means the same.

use std::collections::BTreeMap;

use serde_json::Value;

use super::file::{NodeDef, SchemeFile};

/// How one node differs.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeChange {
    Added {
        id: String,
        name: String,
        parent: Option<String>,
    },
    Removed {
        id: String,
        name: String,
        parent: Option<String>,
    },
    /// Settings that differ (`key`, before, after); `parent` changes show as a
    /// setting too.
    Changed {
        id: String,
        name: String,
        settings: Vec<(String, Value, Value)>,
    },
}

impl NodeChange {
    pub fn id(&self) -> &str {
        match self {
            NodeChange::Added { id, .. } | NodeChange::Removed { id, .. } | NodeChange::Changed { id, .. } => id,
        }
    }
}

/// (id, name, parent id, settings without children) of one node.
type FlatNode = (String, String, Option<String>, BTreeMap<String, Value>);

/// Each node's settings without its children, with its parent, in tree order.
fn flatten(tree: &[NodeDef], parent: Option<&str>, out: &mut Vec<FlatNode>) {
    for node in tree {
        let mut plain = node.clone();
        let children = plain.children.take();
        let settings = match serde_json::to_value(&plain) {
            Ok(Value::Object(map)) => map.into_iter().filter(|(k, _)| k != "id").collect(),
            _ => BTreeMap::new(),
        };
        out.push((node.id.clone(), node.name.clone(), parent.map(str::to_string), settings));
        if let Some(children) = &children {
            flatten(children, Some(&node.id), out);
        }
    }
}

/// The node-by-node differences from `old` to `new`: changed and removed nodes in the
/// old tree's order, then added ones in the new tree's order.
pub fn diff(old: &SchemeFile, new: &SchemeFile) -> Vec<NodeChange> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten(&old.tree, None, &mut a);
    flatten(&new.tree, None, &mut b);
    let index: BTreeMap<&str, usize> = b.iter().enumerate().map(|(i, n)| (n.0.as_str(), i)).collect();
    let mut changes = Vec::new();
    for (id, name, parent, settings) in &a {
        let Some(&j) = index.get(id.as_str()) else {
            changes.push(NodeChange::Removed { id: id.clone(), name: name.clone(), parent: parent.clone() });
            continue;
        };
        let (_, new_name, new_parent, new_settings) = &b[j];
        let mut differing = Vec::new();
        if parent != new_parent {
            differing.push(("parent".to_string(), Value::from(parent.clone()), Value::from(new_parent.clone())));
        }
        let keys: std::collections::BTreeSet<&String> = settings.keys().chain(new_settings.keys()).collect();
        for key in keys {
            let before = settings.get(key).cloned().unwrap_or(Value::Null);
            let after = new_settings.get(key).cloned().unwrap_or(Value::Null);
            if before != after {
                differing.push((key.clone(), before, after));
            }
        }
        if !differing.is_empty() {
            changes.push(NodeChange::Changed { id: id.clone(), name: new_name.clone(), settings: differing });
        }
    }
    let old_ids: std::collections::BTreeSet<&str> = a.iter().map(|n| n.0.as_str()).collect();
    for (id, name, parent, _) in &b {
        if !old_ids.contains(id.as_str()) {
            changes.push(NodeChange::Added { id: id.clone(), name: name.clone(), parent: parent.clone() });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tree: Value) -> SchemeFile {
        serde_json::from_value(serde_json::json!({
            "year": 2027, "name": "方案", "groups": [], "units": [], "tree": tree
        }))
        .unwrap()
    }

    #[test]
    fn added_removed_moved_and_changed() {
        let old = file(serde_json::json!([
            {"id": "A", "name": "职能履行", "points": 60, "children": [
                {"id": "A1", "name": "招商引资", "points": 30, "formula": "x", "assign": []},
                {"id": "A2", "name": "项目建设", "points": 30, "formula": "y", "assign": []}]},
            {"id": "B", "name": "依法行政", "points": 40, "children": [
                {"id": "B1", "name": "依法行政", "points": 40, "formula": "z", "assign": []}]}
        ]));
        let new = file(serde_json::json!([
            {"id": "A", "name": "职能履行", "points": 60, "children": [
                {"id": "A1", "name": "招商引资", "points": 30, "formula": "x * 2", "assign": []},
                {"id": "B1", "name": "依法行政", "points": 30, "formula": "z", "assign": []}]},
            {"id": "B", "name": "依法行政", "points": 40, "children": [
                {"id": "B2", "name": "行政复议", "points": 40, "formula": "w", "assign": []}]}
        ]));
        let changes = diff(&old, &new);
        let ids: Vec<&str> = changes.iter().map(NodeChange::id).collect();
        assert_eq!(ids, ["A1", "A2", "B1", "B2"]);
        assert_eq!(
            changes[0],
            NodeChange::Changed {
                id: "A1".into(),
                name: "招商引资".into(),
                settings: vec![("formula".into(), Value::from("x"), Value::from("x * 2"))],
            }
        );
        assert!(matches!(&changes[1], NodeChange::Removed { id, parent: Some(p), .. } if id == "A2" && p == "A"));
        let NodeChange::Changed { settings, .. } = &changes[2] else { panic!("B1 moved") };
        assert_eq!(settings[0], ("parent".into(), Value::from("B"), Value::from("A")));
        assert_eq!(settings[1].0, "points");
        assert!(matches!(&changes[3], NodeChange::Added { id, .. } if id == "B2"));
        assert!(diff(&new, &new).is_empty());
    }
}
