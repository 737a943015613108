//! Patch semantics: JSON merge patch (RFC 7386), a simplified strategic
//! merge patch (lists of objects with a `name` key merged by name,
//! `$patch: delete` honoured), JSON patch (RFC 6902) and the simplified
//! server-side apply merge (maps merged recursively, lists replaced by the
//! applied list; instead of managedFields, the last configuration each
//! manager applied decides which fields a new apply removes).

use serde_json::{Map, Value};

use crate::util::ApiError;

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn is_named_list(l: &[Value]) -> bool {
    !l.is_empty()
        && l.iter()
            .all(|x| x.get("name").is_some_and(Value::is_string))
}

/// Strategic merge patch, simplified: like a merge patch, but lists of
/// objects carrying `name` are merged element-wise by name, and elements
/// with `"$patch": "delete"` are removed.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut p = p.clone();
                p.remove("$patch");
                *target = Value::Object(p);
                return;
            }
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if k.starts_with("$") {
                        continue;
                    }
                    if v.is_null() {
                        t.remove(k);
                        continue;
                    }
                    let slot = t.entry(k.clone()).or_insert(Value::Null);
                    match (slot.as_array_mut(), v.as_array()) {
                        (Some(cur), Some(new)) if is_named_list(new) && is_named_list(cur) => {
                            for item in new {
                                let name = item.get("name").cloned();
                                let delete =
                                    item.get("$patch").and_then(Value::as_str) == Some("delete");
                                let pos = cur.iter().position(|c| c.get("name") == name.as_ref());
                                match (pos, delete) {
                                    (Some(i), true) => {
                                        cur.remove(i);
                                    }
                                    (Some(i), false) => strategic_merge_patch(&mut cur[i], item),
                                    (None, true) => {}
                                    (None, false) => cur.push(item.clone()),
                                }
                            }
                        }
                        _ => strategic_merge_patch(slot, v),
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Server-side apply merge (simplified): maps recursively, everything else
/// (lists, scalars) replaced by the applied value. Nulls remove fields.
pub fn apply_merge(target: &mut Value, applied: &Value) {
    merge_patch(target, applied)
}

/// Removes from `target` the fields a manager applied before (`prev`) but
/// no longer applies (`now`): the part of server-side apply's field
/// ownership this stand-in models (maps recursively; lists and scalars are
/// whole fields). A field that another manager also set is removed too
/// (real SSA keeps co-owned fields); fields only others set are kept.
pub fn remove_unapplied(target: &mut Value, prev: &Value, now: &Value) {
    let (Some(p), Some(t)) = (prev.as_object(), target.as_object_mut()) else {
        return;
    };
    for (k, pv) in p {
        if matches!(k.as_str(), "apiVersion" | "kind" | "name" | "namespace") {
            continue;
        }
        let empty = Value::Object(Map::new());
        match now.get(k) {
            None if pv.is_object() => {
                // Only the map's fields this manager applied go.
                if let Some(tv) = t.get_mut(k) {
                    remove_unapplied(tv, pv, &empty);
                    if tv.as_object().is_some_and(Map::is_empty) {
                        t.remove(k);
                    }
                }
            }
            None => {
                t.remove(k);
            }
            Some(nv) if pv.is_object() && nv.is_object() => {
                if let Some(tv) = t.get_mut(k) {
                    remove_unapplied(tv, pv, nv);
                }
            }
            Some(_) => {}
        }
    }
}

fn unescape(tok: &str) -> String {
    tok.replace("~1", "/").replace("~0", "~")
}

fn parent_and_key<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), ApiError> {
    let bad = || {
        ApiError::new(
            422,
            "Invalid",
            format!(
                "the server rejected our request due to an error in our request: invalid path {path}"
            ),
        )
    };
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad());
    };
    let mut toks: Vec<String> = rest.split('/').map(unescape).collect();
    let last = toks.pop().ok_or_else(bad)?;
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m.get_mut(&t).ok_or_else(bad)?,
            Value::Array(a) => {
                let i: usize = t.parse().map_err(|_| bad())?;
                a.get_mut(i).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
    }
    Ok((cur, last))
}

/// RFC 6902 JSON patch: add, remove, replace, test, copy, move.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| ApiError::bad_request("json patch must be an array"))?;
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        match kind {
            "add" | "replace" => {
                if path.is_empty() {
                    *doc = value;
                    continue;
                }
                let (parent, key) = parent_and_key(doc, path)?;
                match parent {
                    Value::Object(m) => {
                        if kind == "replace" && !m.contains_key(&key) {
                            return Err(ApiError::new(
                                422,
                                "Invalid",
                                format!(
                                    "replace operation does not apply: doc is missing key: {path}"
                                ),
                            ));
                        }
                        m.insert(key, value);
                    }
                    Value::Array(a) => {
                        if kind == "add" && key == "-" {
                            a.push(value);
                        } else {
                            let i: usize = key.parse().map_err(|_| {
                                ApiError::bad_request(format!("bad index in {path}"))
                            })?;
                            if kind == "add" && i <= a.len() {
                                a.insert(i, value);
                            } else if kind == "replace" && i < a.len() {
                                a[i] = value;
                            } else {
                                return Err(ApiError::new(
                                    422,
                                    "Invalid",
                                    format!("index out of range: {path}"),
                                ));
                            }
                        }
                    }
                    _ => {
                        return Err(ApiError::new(
                            422,
                            "Invalid",
                            format!("cannot {kind} at {path}"),
                        ));
                    }
                }
            }
            "remove" => {
                let (parent, key) = parent_and_key(doc, path)?;
                let ok = match parent {
                    Value::Object(m) => m.remove(&key).is_some(),
                    Value::Array(a) => match key.parse::<usize>() {
                        Ok(i) if i < a.len() => {
                            a.remove(i);
                            true
                        }
                        _ => false,
                    },
                    _ => false,
                };
                if !ok {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!("remove operation does not apply: doc is missing path: {path}"),
                    ));
                }
            }
            "test" => {
                if doc.pointer(path) != Some(&value) {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!("testing value {path} failed: test failed"),
                    ));
                }
            }
            "copy" | "move" => {
                let from = op.get("from").and_then(Value::as_str).unwrap_or_default();
                let v = doc.pointer(from).cloned().ok_or_else(|| {
                    ApiError::new(422, "Invalid", format!("missing from path {from}"))
                })?;
                if kind == "move" {
                    json_patch(doc, &serde_json::json!([{"op": "remove", "path": from}]))?;
                }
                json_patch(
                    doc,
                    &serde_json::json!([{"op": "add", "path": path, "value": v}]),
                )?;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected json patch op {other:?}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_and_strategic() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "l": [{"name": "x", "v": 1}]});
        merge_patch(&mut t, &json!({"a": {"b": null, "d": 3}}));
        assert_eq!(t["a"], json!({"c": 2, "d": 3}));
        strategic_merge_patch(
            &mut t,
            &json!({"l": [{"name": "y", "v": 2}, {"name": "x", "w": 5}]}),
        );
        assert_eq!(
            t["l"],
            json!([{"name": "x", "v": 1, "w": 5}, {"name": "y", "v": 2}])
        );
        strategic_merge_patch(&mut t, &json!({"l": [{"name": "x", "$patch": "delete"}]}));
        assert_eq!(t["l"], json!([{"name": "y", "v": 2}]));
    }

    #[test]
    fn apply_removes_fields_no_longer_applied() {
        let mut t = json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2", "other": "3"}}, "data": {"k": "v"}});
        let prev =
            json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v"}});
        let now = json!({"metadata": {"name": "x", "labels": {"a": "1"}}});
        remove_unapplied(&mut t, &prev, &now);
        apply_merge(&mut t, &now);
        assert_eq!(
            t,
            json!({"metadata": {"name": "x", "labels": {"a": "1", "other": "3"}}})
        );
    }

    #[test]
    fn json_patch_ops() {
        let mut d = json!({"a": [1, 2], "b": {"c": "x"}});
        json_patch(
            &mut d,
            &json!([
                {"op": "add", "path": "/a/-", "value": 3},
                {"op": "replace", "path": "/b/c", "value": "y"},
                {"op": "remove", "path": "/a/0"},
                {"op": "test", "path": "/b/c", "value": "y"}
            ]),
        )
        .map_err(|e| e.message)
        .unwrap_or_else(|m| panic!("{m}"));
        assert_eq!(d, json!({"a": [2, 3], "b": {"c": "y"}}));
        assert!(
            json_patch(
                &mut d,
                &json!([{"op": "test", "path": "/b/c", "value": "z"}])
            )
            .is_err()
        );
    }
}
