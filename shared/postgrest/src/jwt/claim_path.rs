//! PostgREST's `jwt-role-claim-key` (v14.10 `Config/JSPath.hs`): a path of
//! `.key`, `."quoted key"` and `[index]` steps, optionally ending in one
//! filter `[?(@ OP "text")]` with OP `==`, `!=`, `^==` (starts with), `==^`
//! (ends with) or `*==` (contains); and how `Auth/Jwt.hs` walks it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Filter(Op, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    StartsWith,
    EndsWith,
    Contains,
}

/// A parsed role claim key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath {
    text: String,
    steps: Vec<Step>,
}

impl Default for ClaimPath {
    fn default() -> ClaimPath {
        ClaimPath::parse(".role").expect("the default parses")
    }
}

impl std::fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl ClaimPath {
    /// Parses a role claim key as PostgREST does.
    ///
    /// Errors: PostgREST's start-up message, naming the value.
    pub fn parse(text: &str) -> Result<ClaimPath, String> {
        let fail = || format!("failed to parse role-claim-key value ({text})");
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let mut steps = Vec::new();
        let quoted = |i: &mut usize| -> Option<String> {
            if chars.get(*i) != Some(&'"') {
                return None;
            }
            let end = chars[*i + 1..].iter().position(|&c| c == '"')? + *i + 1;
            let s: String = chars[*i + 1..end].iter().collect();
            *i = end + 1;
            Some(s)
        };
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    let start = i;
                    while i < chars.len()
                        && (chars[i].is_alphanumeric() || "_$@".contains(chars[i]))
                    {
                        i += 1;
                    }
                    if i > start {
                        steps.push(Step::Key(chars[start..i].iter().collect()));
                    } else {
                        steps.push(Step::Key(quoted(&mut i).ok_or_else(fail)?));
                    }
                }
                '[' if chars.get(i + 1) == Some(&'?') => {
                    let rest: String = chars[i..].iter().collect();
                    let body = rest.strip_prefix("[?(@").ok_or_else(fail)?;
                    let body = body.trim_start();
                    let (op, after) = [
                        ("==^", Op::EndsWith),
                        ("==", Op::Eq),
                        ("!=", Op::Ne),
                        ("^==", Op::StartsWith),
                        ("*==", Op::Contains),
                    ]
                    .iter()
                    .find_map(|(s, op)| body.strip_prefix(s).map(|a| (*op, a)))
                    .ok_or_else(fail)?;
                    let after = after.trim_start();
                    let after = after.strip_prefix('"').ok_or_else(fail)?;
                    let end = after.find('"').ok_or_else(fail)?;
                    let value = after[..end].to_string();
                    // The filter must be the last step.
                    if &after[end + 1..] != ")]" {
                        return Err(fail());
                    }
                    steps.push(Step::Filter(op, value));
                    i = chars.len();
                }
                '[' => {
                    i += 1;
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                    if i == start || chars.get(i) != Some(&']') {
                        return Err(fail());
                    }
                    let n: String = chars[start..i].iter().collect();
                    steps.push(Step::Index(n.parse().map_err(|_| fail())?));
                    i += 1;
                }
                _ => return Err(fail()),
            }
        }
        if steps.is_empty() {
            return Err(fail());
        }
        Ok(ClaimPath {
            text: text.to_string(),
            steps,
        })
    }

    /// The value at this path in `claims`, `None` when the path leads
    /// nowhere (then PostgREST uses the anon role).
    pub fn find<'a>(&self, claims: &'a Value) -> Option<&'a Value> {
        let mut cur = claims;
        for step in &self.steps {
            cur = match (step, cur) {
                (Step::Key(k), Value::Object(o)) => o.get(k)?,
                (Step::Index(i), Value::Array(a)) => a.get(*i)?,
                (Step::Filter(op, want), Value::Array(a)) => a.iter().find(|v| {
                    v.as_str().is_some_and(|s| match op {
                        Op::Eq => s == want,
                        Op::Ne => s != want,
                        Op::StartsWith => s.starts_with(want.as_str()),
                        Op::EndsWith => s.ends_with(want.as_str()),
                        Op::Contains => s.contains(want.as_str()),
                    })
                })?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

impl ClaimPath {
    /// Puts `role` in `claims` (an object) where this path reads it, so a
    /// minted token carries its role where PostgREST looks: nested objects
    /// for `.key` steps, a one-element array for `[0]` or a final filter the
    /// role passes.
    ///
    /// Errors: a path no minted claim can satisfy (e.g. `[2]`, or a filter
    /// the role does not pass), or `claims` already holding something else
    /// on the way.
    pub fn place(&self, claims: &mut Value, role: &str) -> Result<(), String> {
        let cant = || {
            format!(
                "cannot put role {role:?} where the role claim key {} reads it",
                self.text
            )
        };
        let mut cur = &mut *claims;
        for (i, step) in self.steps.iter().enumerate() {
            let last = i + 1 == self.steps.len();
            let next = if last {
                Value::String(role.to_string())
            } else {
                match self.steps[i + 1] {
                    Step::Key(_) => Value::Object(Default::default()),
                    _ => Value::Array(vec![]),
                }
            };
            cur = match step {
                Step::Key(k) => {
                    let o = cur.as_object_mut().ok_or_else(cant)?;
                    if last {
                        o.insert(k.clone(), next.clone());
                    }
                    o.entry(k.clone()).or_insert(next)
                }
                Step::Index(0) => {
                    let a = cur.as_array_mut().ok_or_else(cant)?;
                    if !a.is_empty() {
                        return Err(cant());
                    }
                    a.push(next);
                    &mut a[0]
                }
                Step::Filter(..) => {
                    let a = cur.as_array_mut().ok_or_else(cant)?;
                    a.push(next);
                    a.last_mut().ok_or_else(cant)?
                }
                Step::Index(_) => return Err(cant()),
            };
        }
        if self.find(claims).and_then(Value::as_str) == Some(role) {
            Ok(())
        } else {
            Err(cant())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let c = json!({"role": "r", "realm_access": {"roles": ["a", "web_user"]},
                       "x-y": {"k": 5}, "groups": ["staff_x", "admin_y"]});
        let f = |p: &str| ClaimPath::parse(p).unwrap().find(&c).cloned();
        assert_eq!(f(".role"), Some(json!("r")));
        assert_eq!(f(".realm_access.roles[1]"), Some(json!("web_user")));
        assert_eq!(f(".realm_access.roles[5]"), None);
        assert_eq!(f(".\"x-y\".k"), Some(json!(5)));
        assert_eq!(f(".groups[?(@ ^== \"admin\")]"), Some(json!("admin_y")));
        assert_eq!(f(".groups[?(@ == \"nope\")]"), None);
        assert_eq!(f(".groups[?(@ *== \"ff\")]"), Some(json!("staff_x")));
        assert_eq!(f(".groups[?(@ ==^ \"_x\")]"), Some(json!("staff_x")));
        assert_eq!(f(".groups[?(@ != \"staff_x\")]"), Some(json!("admin_y")));
        assert_eq!(f(".missing"), None);
        let mut c = json!({"role": "x"});
        let p = ClaimPath::parse(".realm_access.roles[0]").unwrap();
        p.place(&mut c, "web_user").unwrap();
        assert_eq!(
            c,
            json!({"role": "x", "realm_access": {"roles": ["web_user"]}})
        );
        let p = ClaimPath::parse(".g[?(@ ^== \"app_\")]").unwrap();
        assert!(p.place(&mut json!({}), "app_user").is_ok());
        assert!(p.place(&mut json!({}), "other").is_err());
        assert!(
            ClaimPath::parse(".a[1]")
                .unwrap()
                .place(&mut json!({}), "r")
                .is_err()
        );
        for bad in [
            "",
            "role",
            ".",
            ".a[",
            ".a[x]",
            ".a[?(@ = \"x\")]",
            ".a[?(@ == \"x\")].b",
            "$.role",
        ] {
            assert!(ClaimPath::parse(bad).is_err(), "{bad}");
        }
    }
}
