//! The app's roles as the operations see them: PostgREST's three role
//! names as asked for ([`PostgrestRoles`]), the one password reconciliation
//! configure and deploy share ([`reconcile_password`]), and the one
//! shared-role check (roles are cluster-wide: one app's role names may be
//! another app's) that configure, deploy and doctor make ([`shared_with`]).

use crate::session::Session;
use postgres::Client;
use uis_core::Failure;
use uis_core::app::RoleKind;
use uis_kube::store::AppRecord;

/// PostgREST's role names as asked for (`--authenticator`, `--anon-role`,
/// `--authenticated-role`); `None` takes the app's stored name, else the
/// default (`uis_kube::store::pick_role`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostgrestRoles {
    pub authenticator: Option<String>,
    pub anon: Option<String>,
    pub authenticated: Option<String>,
}

impl PostgrestRoles {
    /// The names by kind, in [`RoleKind::POSTGREST`] order.
    pub fn by_kind(&self) -> [(RoleKind, &Option<String>); 3] {
        [
            (RoleKind::Authenticator, &self.authenticator),
            (RoleKind::Anon, &self.anon),
            (RoleKind::Authenticated, &self.authenticated),
        ]
    }

    /// Whether any name was given.
    pub fn any(&self) -> bool {
        self.by_kind().iter().any(|(_, f)| f.is_some())
    }

    /// Each given name follows `uis_core::app::NAME_RULE`.
    ///
    /// Errors: phase `usage` (exit 2), naming the flag
    /// (`--authenticator`, `--anon-role`, `--authenticated-role`).
    pub fn validate(&self) -> Result<(), Failure> {
        for (flag, value) in [
            ("--authenticator", &self.authenticator),
            ("--anon-role", &self.anon),
            ("--authenticated-role", &self.authenticated),
        ] {
            if let Some(v) = value {
                uis_core::app::validate_new_name(flag, v)?;
            }
        }
        Ok(())
    }
}

/// Why [`reconcile_password`] issued or set a password, for the caller's
/// warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordFinding {
    /// The stored password no longer logs in: it is set again.
    StoredNoLongerWorked,
    /// The role existed without a stored password: a new one is issued.
    IssuedForExistingRole,
}

/// A LOGIN role's password after [`reconcile_password`].
#[derive(Debug, Clone)]
pub struct Password {
    /// The password to store (the stored one, or a new one).
    pub password: String,
    /// Whether the plan must set it (`ALTER ROLE .. PASSWORD`) on the
    /// existing role; a role that does not exist gets it on CREATE.
    pub set: bool,
    /// What the caller should warn about, if anything.
    pub finding: Option<PasswordFinding>,
}

/// The one password rule of configure and deploy: a stored password is
/// kept; a missing one is issued (`uis_core::secret::password`); `rotate`
/// issues a new one; a stored password that no longer logs in (tried
/// against `check_database`) is set again. Passwords are stored before they
/// are set (the caller writes the store before running the plan), so a
/// failure never loses one.
///
/// Errors: the catalog query's failure (phase `sql`, or a lost connection).
pub fn reconcile_password(
    session: &mut Session,
    pg: &mut Client,
    role: &str,
    stored: Option<&str>,
    rotate: bool,
    check_database: &str,
) -> Result<Password, Failure> {
    let exists = crate::pg::provision::role(pg, role)?.is_some();
    match stored {
        Some(pw) if !rotate => {
            let works = !exists || session.login_works(role, pw, check_database);
            Ok(Password {
                password: pw.to_string(),
                set: !works,
                finding: (!works).then_some(PasswordFinding::StoredNoLongerWorked),
            })
        }
        _ => Ok(Password {
            password: uis_core::secret::password(),
            set: exists,
            finding: (exists && !rotate).then_some(PasswordFinding::IssuedForExistingRole),
        }),
    }
}

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
    fn postgrest_roles_name_the_flag_of_a_bad_name() {
        let roles = PostgrestRoles {
            anon: Some("Bad-Name".into()),
            ..Default::default()
        };
        assert!(roles.any());
        let err = roles.validate().expect_err("refused");
        assert_eq!(err.code, 2);
        assert!(err.detail.contains("--anon-role"), "{}", err.detail);
        assert!(PostgrestRoles::default().validate().is_ok());
        let kinds: Vec<&str> = roles.by_kind().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["authenticator", "anon", "authenticated"]);
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
