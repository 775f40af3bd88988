//! Editing a scheme file's indicator tree, one step at a time: what the office's
//! browser editor does to its draft (草稿) before saving it as a new version.
//!
//! A step only keeps the tree a tree — ids unique, nodes found, nothing moved into its
//! own subtree, targets only for known units. It does not make the scheme valid:
//! between steps the points may not add up or a new indicator may have no formula
//! yet. [`Scheme::from_file`](super::Scheme::from_file) says what is still wrong, and
//! [`points_check`] gives the running sum of every regular category, so the editor
//! can show both after each step; only a valid draft can become a version.

use serde_json::Value;

use super::file::{AssignRule, Kind, NodeDef, Params, SchemeFile};
use crate::round::round2;

/// One editing step.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Appends `node` to the children of `parent` (a top-level node if `None`).
    Add { parent: Option<String>, node: NodeDef },
    /// Removes a node and everything below it.
    Remove { id: String },
    /// Moves a node under `parent` (top level if `None`) at `position` among its new
    /// siblings (clamped to the end).
    Move { id: String, parent: Option<String>, position: usize },
    /// Moves a node one place up (`-1`) or down (`+1`) among its siblings.
    Shift { id: String, by: isize },
    /// Replaces a node's settings. Its id and, for a category, its children stay.
    Update { id: String, node: NodeDef },
    /// Sets one param of an indicator per unit (the per-unit targets 目标值): each
    /// pair becomes the param of the unit's own assignment rule, which is created if
    /// the unit has none. `None` removes the unit's own value (the group's applies).
    SetUnitParams { id: String, param: String, values: Vec<(String, Option<f64>)> },
}

/// Why a step was refused; the draft is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("there is no node `{0}`")]
    UnknownNode(String),
    #[error("there is already a node `{0}`")]
    DuplicateId(String),
    #[error("node id `{0}` is not valid: use letters, digits, `_` and `-`, at most 32")]
    BadId(String),
    #[error("`{0}` cannot move below itself")]
    IntoOwnSubtree(String),
    #[error("`{0}` is an indicator: it cannot have children")]
    IndicatorParent(String),
    #[error("`{0}` is a category: only indicators have params")]
    NotAnIndicator(String),
    #[error("there is no unit `{0}`")]
    UnknownUnit(String),
    #[error("param `{0}` is not a valid name")]
    BadParam(String),
    #[error("`{0}` is already first or last")]
    AtEdge(String),
}

/// Applies one step to `file`; on error `file` is unchanged.
pub fn apply(file: &mut SchemeFile, edit: Edit) -> Result<(), EditError> {
    match edit {
        Edit::Add { parent, node } => {
            check_new_ids(&file.tree, &node)?;
            siblings_of(&mut file.tree, parent.as_deref())?.push(node);
        }
        Edit::Remove { id } => {
            take(&mut file.tree, &id)?;
        }
        Edit::Move { id, parent, position } => {
            let subtree = find(&file.tree, &id).ok_or_else(|| EditError::UnknownNode(id.clone()))?;
            if let Some(p) = &parent
                && (p == &id || find(subtree.children.as_deref().unwrap_or_default(), p).is_some())
            {
                return Err(EditError::IntoOwnSubtree(id));
            }
            // Checked before taking the node out, so a refused move changes nothing.
            siblings_of(&mut file.tree, parent.as_deref())?;
            let node = take(&mut file.tree, &id)?;
            let siblings = siblings_of(&mut file.tree, parent.as_deref())?;
            let at = position.min(siblings.len());
            siblings.insert(at, node);
        }
        Edit::Shift { id, by } => {
            let parent = parent_of(&file.tree, &id)?;
            let siblings = siblings_of(&mut file.tree, parent.as_deref())?;
            let at = siblings.iter().position(|n| n.id == id).ok_or_else(|| EditError::UnknownNode(id.clone()))?;
            let to = at.checked_add_signed(by).filter(|&t| t < siblings.len()).ok_or(EditError::AtEdge(id))?;
            siblings.swap(at, to);
        }
        Edit::Update { id, node } => {
            let current = find_mut(&mut file.tree, &id).ok_or_else(|| EditError::UnknownNode(id.clone()))?;
            let children = current.children.take();
            *current = NodeDef { id, children, ..node };
        }
        Edit::SetUnitParams { id, param, values } => {
            if !super::is_identifier(&param) {
                return Err(EditError::BadParam(param));
            }
            if let Some((unit, _)) = values.iter().find(|(u, _)| !file.units.iter().any(|d| &d.id == u)) {
                return Err(EditError::UnknownUnit(unit.clone()));
            }
            let node = find_mut(&mut file.tree, &id).ok_or_else(|| EditError::UnknownNode(id.clone()))?;
            if node.children.is_some() {
                return Err(EditError::NotAnIndicator(id));
            }
            let rules = node.assign.get_or_insert_with(Vec::new);
            for (unit, value) in values {
                let existing = rules.iter().rposition(|r| r.unit.as_deref() == Some(unit.as_str()));
                match (existing, value) {
                    (Some(i), Some(v)) => {
                        rules[i].params.insert(param.clone(), number(v));
                    }
                    (Some(i), None) => {
                        rules[i].params.remove(&param);
                    }
                    (None, Some(v)) => {
                        let mut params = Params::new();
                        params.insert(param.clone(), number(v));
                        rules.push(AssignRule { group: None, unit: Some(unit), params });
                    }
                    (None, None) => {}
                }
            }
        }
    }
    Ok(())
}

fn number(v: f64) -> Value {
    // Whole numbers are written as integers, as people write them in scheme files.
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

/// Whether `id` may name a node: it becomes part of URLs, file names and formulas'
/// error messages, so it is kept plain.
pub fn is_node_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_new_ids(tree: &[NodeDef], node: &NodeDef) -> Result<(), EditError> {
    if !is_node_id(&node.id) {
        return Err(EditError::BadId(node.id.clone()));
    }
    if find(tree, &node.id).is_some() {
        return Err(EditError::DuplicateId(node.id.clone()));
    }
    for child in node.children.as_deref().unwrap_or_default() {
        check_new_ids(tree, child)?;
    }
    Ok(())
}

/// The node `id` anywhere in the tree.
pub fn find<'a>(tree: &'a [NodeDef], id: &str) -> Option<&'a NodeDef> {
    tree.iter().find_map(|n| if n.id == id { Some(n) } else { find(n.children.as_deref().unwrap_or_default(), id) })
}

fn find_mut<'a>(tree: &'a mut [NodeDef], id: &str) -> Option<&'a mut NodeDef> {
    for n in tree {
        if n.id == id {
            return Some(n);
        }
        if let Some(found) = n.children.as_deref_mut().and_then(|c| find_mut(c, id)) {
            return Some(found);
        }
    }
    None
}

/// The id of the node's parent (`None` at the top level).
pub fn parent_of(tree: &[NodeDef], id: &str) -> Result<Option<String>, EditError> {
    fn walk(nodes: &[NodeDef], parent: Option<&str>, id: &str) -> Option<Option<String>> {
        nodes.iter().find_map(|n| {
            if n.id == id { Some(parent.map(str::to_string)) } else { walk(n.children.as_deref().unwrap_or_default(), Some(&n.id), id) }
        })
    }
    walk(tree, None, id).ok_or_else(|| EditError::UnknownNode(id.to_string()))
}

fn siblings_of<'a>(tree: &'a mut Vec<NodeDef>, parent: Option<&str>) -> Result<&'a mut Vec<NodeDef>, EditError> {
    let Some(parent) = parent else { return Ok(tree) };
    let node = find_mut(tree, parent).ok_or_else(|| EditError::UnknownNode(parent.to_string()))?;
    node.children.as_mut().ok_or_else(|| EditError::IndicatorParent(parent.to_string()))
}

fn take(tree: &mut Vec<NodeDef>, id: &str) -> Result<NodeDef, EditError> {
    if let Some(i) = tree.iter().position(|n| n.id == id) {
        return Ok(tree.remove(i));
    }
    for n in tree.iter_mut() {
        if let Some(children) = n.children.as_mut()
            && let Ok(found) = take(children, id)
        {
            return Ok(found);
        }
    }
    Err(EditError::UnknownNode(id.to_string()))
}

/// The running points check of one regular category: its children's points against
/// its own (spec §2: they must add up, compared at 2 decimals).
#[derive(Debug, Clone, PartialEq)]
pub struct PointsLine {
    pub id: String,
    pub points: Option<f64>,
    pub children_sum: f64,
    pub adds_up: bool,
}

/// Every regular category's points check, in tree order. Bonus and deduction
/// categories are left out: their points are optional and capped instead.
pub fn points_check(file: &SchemeFile) -> Vec<PointsLine> {
    fn walk(nodes: &[NodeDef], out: &mut Vec<PointsLine>) {
        for n in nodes {
            if let Some(children) = &n.children {
                let children_sum = round2(children.iter().filter_map(|c| c.points).sum());
                out.push(PointsLine {
                    id: n.id.clone(),
                    points: n.points,
                    children_sum,
                    adds_up: n.points.is_some_and(|p| round2(p) == children_sum),
                });
                walk(children, out);
            }
        }
    }
    let mut out = Vec::new();
    for top in &file.tree {
        if top.kind.unwrap_or_default() == Kind::Regular {
            walk(std::slice::from_ref(top), &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::Scheme;

    fn demo() -> SchemeFile {
        serde_json::from_value(serde_json::json!({
            "year": 2027, "name": "t",
            "groups": [{"id": "g", "name": "G"}],
            "units": [{"id": "u1", "name": "U1", "group": "g"}, {"id": "u2", "name": "U2", "group": "g"}],
            "tree": [
                {"id": "A", "name": "A", "points": 10, "children": [
                    {"id": "A1", "name": "A1", "points": 6, "fields": [{"key": "x"}], "params": {"target": 1},
                     "formula": "min(x / target, 1) * points", "assign": [{"group": "g"}]},
                    {"id": "A2", "name": "A2", "points": 4, "fields": [{"key": "x"}],
                     "formula": "x", "assign": [{"group": "g"}]}
                ]},
                {"id": "B", "name": "B", "points": 5, "children": [
                    {"id": "B1", "name": "B1", "points": 5, "fields": [{"key": "y"}],
                     "formula": "y", "assign": [{"group": "g"}]}
                ]}
            ]
        }))
        .unwrap()
    }

    fn ids(nodes: &[NodeDef]) -> Vec<&str> {
        nodes.iter().map(|n| n.id.as_str()).collect()
    }

    #[test]
    fn the_demo_tree_is_valid_to_start_with() {
        assert!(Scheme::from_file(demo()).is_ok());
        assert!(points_check(&demo()).iter().all(|l| l.adds_up));
    }

    #[test]
    fn moving_and_shifting_reorder_the_tree() {
        let mut f = demo();
        apply(&mut f, Edit::Shift { id: "A2".into(), by: -1 }).unwrap();
        assert_eq!(ids(f.tree[0].children.as_ref().unwrap()), ["A2", "A1"]);
        assert_eq!(apply(&mut f, Edit::Shift { id: "A2".into(), by: -1 }), Err(EditError::AtEdge("A2".into())));
        apply(&mut f, Edit::Move { id: "A1".into(), parent: Some("B".into()), position: 0 }).unwrap();
        assert_eq!(ids(f.tree[1].children.as_ref().unwrap()), ["A1", "B1"]);
        apply(&mut f, Edit::Shift { id: "B".into(), by: -1 }).unwrap();
        assert_eq!(ids(&f.tree), ["B", "A"]);
        // A's children now hold 4 of its 10 points, B's 11 of 5.
        let check = points_check(&f);
        assert_eq!(
            check.iter().map(|l| (l.id.as_str(), l.children_sum, l.adds_up)).collect::<Vec<_>>(),
            [("B", 11.0, false), ("A", 4.0, false)]
        );
        assert!(Scheme::from_file(f).unwrap_err().to_string().contains("add up to 4"));
    }

    #[test]
    fn refused_steps_change_nothing() {
        let before = demo();
        for edit in [
            Edit::Move { id: "A".into(), parent: Some("A1".into()), position: 0 },
            Edit::Move { id: "A".into(), parent: Some("A".into()), position: 0 },
            Edit::Move { id: "B1".into(), parent: Some("A1".into()), position: 0 },
            Edit::Move { id: "B1".into(), parent: Some("nope".into()), position: 0 },
            Edit::Remove { id: "nope".into() },
            Edit::Add { parent: None, node: NodeDef { id: "A1".into(), ..category_named("dup") } },
            Edit::Add { parent: None, node: NodeDef { id: "a b".into(), ..category_named("bad") } },
            Edit::Add { parent: Some("A1".into()), node: NodeDef { id: "C".into(), ..category_named("c") } },
            Edit::SetUnitParams { id: "A1".into(), param: "target".into(), values: vec![("u9".into(), Some(1.0))] },
            Edit::SetUnitParams { id: "A".into(), param: "target".into(), values: vec![("u1".into(), Some(1.0))] },
            Edit::SetUnitParams { id: "A1".into(), param: "1x".into(), values: vec![("u1".into(), Some(1.0))] },
        ] {
            let mut f = before.clone();
            assert!(apply(&mut f, edit.clone()).is_err(), "{edit:?} was accepted");
            assert_eq!(f, before, "{edit:?} changed the file");
        }
    }

    fn category_named(name: &str) -> NodeDef {
        NodeDef { name: name.into(), children: Some(Vec::new()), ..NodeDef::default() }
    }

    #[test]
    fn update_keeps_id_and_children_and_remove_takes_the_subtree() {
        let mut f = demo();
        let mut changed = f.tree[0].clone();
        changed.id = "ignored".into();
        changed.name = "职能履行".into();
        changed.children = None;
        apply(&mut f, Edit::Update { id: "A".into(), node: changed }).unwrap();
        assert_eq!(f.tree[0].id, "A");
        assert_eq!(f.tree[0].name, "职能履行");
        assert_eq!(ids(f.tree[0].children.as_ref().unwrap()), ["A1", "A2"]);
        apply(&mut f, Edit::Remove { id: "A".into() }).unwrap();
        assert_eq!(ids(&f.tree), ["B"]);
        assert!(find(&f.tree, "A1").is_none());
    }

    #[test]
    fn unit_targets_become_unit_rules_the_engine_applies() {
        let mut f = demo();
        apply(
            &mut f,
            Edit::SetUnitParams { id: "A1".into(), param: "target".into(), values: vec![("u2".into(), Some(2.5)), ("u1".into(), None)] },
        )
        .unwrap();
        let scheme = Scheme::from_file(f.clone()).unwrap();
        let a1 = scheme.indicator(scheme.node_index("A1").unwrap()).unwrap();
        let target = a1.param_names.iter().position(|p| p == "target").unwrap();
        assert_eq!(a1.assignments[0].as_ref().unwrap()[target], Some(1.0));
        assert_eq!(a1.assignments[1].as_ref().unwrap()[target], Some(2.5));
        // Setting it again changes the same rule; clearing leaves the group's value.
        apply(&mut f, Edit::SetUnitParams { id: "A1".into(), param: "target".into(), values: vec![("u2".into(), Some(3.0))] }).unwrap();
        apply(&mut f, Edit::SetUnitParams { id: "A1".into(), param: "target".into(), values: vec![("u2".into(), None)] }).unwrap();
        let rules = find(&f.tree, "A1").unwrap().assign.clone().unwrap();
        assert_eq!(rules.len(), 2);
        assert!(rules[1].params.is_empty());
    }
}
