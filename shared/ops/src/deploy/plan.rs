//! Deploy's SQL plan: the authenticator (LOGIN NOINHERIT, its password
//! reconciled by [`roles::reconcile_password`], and set only on a role the
//! suite may set it on, [`roles::password_authority`]), the anon and
//! authenticated roles, their memberships, CONNECT, and the anon role's read
//! grants.

use crate::pg::provision::{self, RoleOptions, RoleOutcome, RoleShape, Step};
use crate::roles::{self, PasswordAuthority, PasswordFinding};
use crate::session::Session;
use postgres::Client;
use uis_core::Failure;
use uis_core::app::quote_ident;

/// PostgREST's three role names, resolved.
#[derive(Debug, Clone)]
pub struct RoleNames {
    pub authenticator: String,
    pub anon: String,
    pub authenticated: String,
}

/// What the plan needs besides the connections.
pub struct PlanInput<'a> {
    pub roles: &'a RoleNames,
    pub database: &'a str,
    pub schemas: &'a [String],
    /// The app's owner (whose future tables anon may read).
    pub owner: &'a str,
    /// The authenticator's stored password.
    pub stored_password: Option<&'a str>,
    pub rotate_password: bool,
    /// Grant anon USAGE and SELECT (`--grants anon-select`).
    pub anon_select: bool,
    /// The app's record lists the authenticator among the roles the suite
    /// created.
    pub authenticator_created: bool,
}

/// The plan, the authenticator's password and the warnings about it.
pub struct Plan {
    pub steps: Vec<Step>,
    pub created: Vec<String>,
    /// The authenticator's password (to store before the plan runs).
    pub password: String,
    pub notes: Vec<String>,
}

/// Plans what is missing. `appdb` is a superuser connection to the app's
/// database.
///
/// Errors: catalog queries (phase `sql`, or a lost connection).
pub fn plan(
    session: &mut Session,
    pg: &mut Client,
    appdb: &mut Client,
    input: &PlanInput<'_>,
) -> Result<Plan, Failure> {
    let RoleNames {
        authenticator,
        anon,
        authenticated,
    } = input.roles;
    let auth_exists = provision::role(pg, authenticator)?.is_some();
    let pw = roles::reconcile_password(
        session,
        pg,
        authenticator,
        input.stored_password,
        input.rotate_password,
        input.database,
    )?;
    // The suite sets a password only where it may: never a superuser's,
    // never one it did not issue on a role it did not create.
    if pw.set && auth_exists {
        let authority = roles::password_authority(pg, authenticator, input.authenticator_created)?;
        let issued_by_suite = matches!(
            authority,
            PasswordAuthority::Foreign | PasswordAuthority::Unknown
        ) && input.rotate_password
            && input
                .stored_password
                .is_some_and(|p| session.login_works(authenticator, p, input.database));
        if let Some(refusal) = authority.refusal(authenticator, "the deploy")
            && !issued_by_suite
        {
            return Err(refusal);
        }
    }
    let mut notes = Vec::new();
    match pw.finding {
        Some(PasswordFinding::StoredNoLongerWorked) => notes.push(format!(
            "the stored password of {authenticator} no longer worked; it is set again"
        )),
        Some(PasswordFinding::IssuedForExistingRole) => notes.push(format!(
            "role {authenticator} existed without a stored password: it gets a new one, now stored"
        )),
        Some(PasswordFinding::StoredUnsettable) => notes.push(format!(
            "the stored password of {authenticator} (Secret key password.{authenticator}) no longer worked and holds a line break, which is never set on a role: it gets a new one, now stored"
        )),
        None => {}
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut created = Vec::new();
    let outcome = provision::ensure_role(
        pg,
        &mut steps,
        authenticator,
        RoleOptions {
            shape: RoleShape::Authenticator,
            password: Some(&pw.password),
            set_password: pw.set,
            fix_attributes: !auth_exists,
        },
    )?;
    if outcome == RoleOutcome::Created {
        created.push(authenticator.clone());
    } else if let Some(info) = provision::role(pg, authenticator)?
        && !info.login
    {
        steps.push(Step::new(
            None,
            format!("ALTER ROLE {} LOGIN", quote_ident(authenticator)),
        ));
    }
    for r in [anon, authenticated] {
        if provision::ensure_role(pg, &mut steps, r, RoleOptions::nologin())?
            == RoleOutcome::Created
        {
            created.push(r.clone());
        }
    }
    for r in [anon, authenticated] {
        let planned = created.contains(r) || created.contains(authenticator);
        provision::ensure_member(pg, &mut steps, r, authenticator, planned)?;
    }
    let db = input.database;
    provision::ensure_connect(
        pg,
        &mut steps,
        db,
        authenticator,
        created.contains(authenticator),
    )?;
    if input.anon_select {
        let appdb = if created.contains(anon) {
            None
        } else {
            Some(appdb)
        };
        provision::ensure_read_grants(appdb, &mut steps, db, input.schemas, input.owner, anon)?;
    }
    Ok(Plan {
        steps,
        created,
        password: pw.password,
        notes,
    })
}
