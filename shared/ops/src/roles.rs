//! Roles are cluster-wide: one app's role names may be another app's. The
//! one check every operation that names roles makes (configure, deploy,
//! doctor).

use uis_kube::store::AppRecord;

/// A role of this app that another app's record names too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRole {
    /// The role name.
    pub role: String,
    /// The other app.
    pub other_app: String,
    /// Whether the other app names it as its owner only (not among its
    /// PostgREST or readonly roles).
    pub as_owner: bool,
}

/// For each other app (in `others`' order) and each of `roles` (in order),
/// the role when that app's record names it: among its kinds' roles, or as
/// its owner (`as_owner`). Records of `app` itself are skipped. Pure: the
/// caller reads the records (`uis_kube::store::read_all`) and words the
/// warning.
pub fn shared_with(others: &[AppRecord], app: &str, roles: &[&str]) -> Vec<SharedRole> {
    let mut found = Vec::new();
    for other in others.iter().filter(|o| o.app != app) {
        for role in roles {
            let in_roles = other.roles.values().any(|r| r == role);
            if in_roles || other.owner == *role {
                found.push(SharedRole {
                    role: role.to_string(),
                    other_app: other.app.clone(),
                    as_owner: !in_roles,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(app: &str, owner: &str, roles: &[(&str, &str)]) -> AppRecord {
        AppRecord {
            app: app.into(),
            owner: owner.into(),
            roles: roles
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn finds_roles_named_by_other_apps_only() {
        let others = [
            rec("a", "a", &[("anon", "anon")]),
            rec("b", "anon", &[]),
            rec("me", "me", &[("anon", "anon")]),
        ];
        let found = shared_with(&others, "me", &["anon", "authenticated"]);
        assert_eq!(
            found,
            vec![
                SharedRole {
                    role: "anon".into(),
                    other_app: "a".into(),
                    as_owner: false
                },
                SharedRole {
                    role: "anon".into(),
                    other_app: "b".into(),
                    as_owner: true
                },
            ]
        );
    }
}
