//! Accounts, sessions and the audit log of the web queue. The audit log is append-only: nothing
//! here (or anywhere in the application) updates one of its rows, and only the retention purge
//! deletes (the oldest, up to an anchor: `store::retention`). Each record is chained to the one
//! before it by hash as it is appended (`store::audit`).

use super::{Store, Tx};
use super::error::{Result, StoreError};
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the queue of their areas.
    Coordinator,
    /// The deployment's admin: every area, the users, the rules.
    Admin,
    /// An admin of their areas only: their audit, subjects, restrictions and rules; not the
    /// users.
    AreaAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
            Role::AreaAdmin => "area-admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "coordinator" => Some(Role::Coordinator),
            "admin" => Some(Role::Admin),
            "area-admin" => Some(Role::AreaAdmin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    /// Whether the user has enrolled their second factor (TOTP). The secret itself is never
    /// read into this struct.
    pub totp: bool,
}

/// A signed-in browser's session, with its user.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    pub user: User,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
}

/// One audit record to append (defined with the log's chain, `store::audit`).
pub use super::audit::Audit;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: Option<String>,
    pub client: Option<String>,
    pub detail: Option<String>,
}

/// What an admin looks for in the audit log; every part optional.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AuditFilter {
    /// Who (a user name, "cli", or the name tried at a failed sign-in).
    pub actor: Option<String>,
    /// What, exactly (e.g. `case.view`).
    pub action: Option<String>,
    /// A case, message or user reference; a victim record (`P000123`) means all of that
    /// victim's cases and messages.
    pub reference: Option<String>,
    /// From this day and to this day, both included (UTC).
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// User names: 1 to 64 letters, digits and `.`, `_`, `-`, `@`.
pub fn valid_user_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

fn user(r: &super::DbRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::data(format!("unknown role {role:?} in users")))?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        totp: r.try_get::<i64, _>("totp")? != 0,
    })
}

/// The columns [`user`] reads, from `users` (no alias).
const USER_COLUMNS: &str = "id, name, role, disabled, created_at, CASE WHEN totp_secret IS NULL THEN CAST(0 AS BIGINT) ELSE CAST(1 AS BIGINT) END AS totp";

/// The failures the sign-in throttle weighs for one attempt, counted over its window. An attempt
/// whose password is still being checked counts as a failure, so parallel guesses cannot outrun
/// the count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptCounts {
    /// This account from this address, since the last success there.
    pub pair: i64,
    /// When the last of those was.
    pub pair_last: Option<String>,
    /// This address, whatever account it tried.
    pub address: i64,
    pub address_last: Option<String>,
    /// This account, from every address.
    pub account: i64,
}

/// Why an attempt is not let through, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub wait: std::time::Duration,
    /// Refused for the address's failures whatever the account (else for this account's).
    pub address_wide: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Ok,
    Failed,
    /// The server was too busy to check the password: not counted.
    Unchecked,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Ok => "ok",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Unchecked => "unchecked",
        }
    }
}

/// A finished enrolment of the second factor, to record with the session it opens.
pub struct Enrolment<'a> {
    pub enrolment_token_hash: &'a str,
    pub user: &'a User,
    /// Base32.
    pub secret: &'a str,
    /// The step of the code that confirmed it (never accepted again).
    pub step: i64,
    pub recovery_hashes: &'a [String],
    pub session_token_hash: &'a str,
    pub csrf_token: &'a str,
    pub now: &'a str,
    pub client: &'a str,
}

/// Failures, from `login_attempts`: neither a success nor an unchecked attempt.
const FAILED: &str = "outcome IN ('checking', 'failed')";

const INSERT_AUDIT: &str = "INSERT INTO audit_log (id, at, actor, action, object, client, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

impl Store {
    /// Adds a user from the command line; fails when the name is taken.
    /// `totp_secret` (base32, checked by the caller) enrols the second factor at once; without
    /// it the user enrols at their first sign-in.
    pub async fn add_user(&self, name: &str, role: Role, password_hash: &str, totp_secret: Option<&str>, now: &str) -> Result<()> {
        self.add_user_by(name, role, password_hash, totp_secret, now, "cli", None).await
    }

    /// Adds a user, audited as done by `actor` from `client`; fails when the name is taken.
    pub async fn add_user_by(&self, name: &str, role: Role, password_hash: &str, totp_secret: Option<&str>, now: &str, actor: &str, client: Option<&str>) -> Result<()> {
        if !valid_user_name(name) {
            return Err(StoreError::refused("a user name is 1 to 64 letters, digits and . _ - @"));
        }
        let mut tx = self.begin().await?;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx.tx).await?;
        if taken.is_some() {
            return Err(StoreError::refused(format!("a user named {name:?} already exists")));
        }
        sqlx::query("INSERT INTO users (name, role, password_hash, disabled, created_at, totp_secret) VALUES ($1, $2, $3, 0, $4, $5)")
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(now)
            .bind(totp_secret)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(&Audit { at: now, actor, action: "user.add", object: Some(name), client, detail: Some(role.as_str()) }).await?;
        // A user of the areas' roles starts in the one area of a file without areas; with
        // several, `set_user_areas` names theirs.
        if role != Role::Admin {
            sqlx::query("INSERT INTO user_areas (user_id, area) SELECT id, $1 FROM users WHERE name = $2").bind(crate::config::DEFAULT_AREA).bind(name).execute(&mut *tx.tx).await?;
        }
        tx.commit().await
    }

    /// The areas user `user_id` works in, by id; None for the deployment's admins (every area).
    pub async fn user_areas(&self, user_id: i64) -> Result<Option<Vec<String>>> {
        let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        if role.as_deref() == Some(Role::Admin.as_str()) {
            return Ok(None);
        }
        Ok(Some(sqlx::query_scalar("SELECT area FROM user_areas WHERE user_id = $1 ORDER BY area").bind(user_id).fetch_all(&self.pool).await?))
    }

    /// Every user's areas, by user name (the deployment's admins have none listed: every area).
    pub async fn areas_by_user(&self) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT u.name, a.area FROM user_areas a JOIN users u ON u.id = a.user_id ORDER BY u.name, a.area").fetch_all(&self.pool).await?;
        let mut out = std::collections::BTreeMap::<String, Vec<String>>::new();
        for (name, area) in rows {
            out.entry(name).or_default().push(area);
        }
        Ok(out)
    }

    /// Sets the areas user `name` works in (replacing their list), audited as done by `actor`.
    /// Each must be an area id (`[areas.ID]`); the caller checks they are the deployment's.
    pub async fn set_user_areas(&self, name: &str, areas: &[String], now: &str, actor: &str, client: Option<&str>) -> Result<()> {
        if let Some(bad) = areas.iter().find(|a| !super::hidden::valid_area_id(a)) {
            return Err(StoreError::refused(format!("{bad:?} is not an area id")));
        }
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx.tx).await?;
        let Some(id) = id else { return Err(StoreError::refused(format!("no user named {name:?}"))) };
        sqlx::query("DELETE FROM user_areas WHERE user_id = $1").bind(id).execute(&mut *tx.tx).await?;
        for a in areas {
            sqlx::query("INSERT INTO user_areas (user_id, area) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(a).execute(&mut *tx.tx).await?;
        }
        let detail = areas.join(", ");
        tx.audit(&Audit { at: now, actor, action: "user.areas", object: Some(name), client, detail: Some(&detail) }).await?;
        tx.commit().await
    }

    /// Replaces a user's password and ends their sessions. False when there is no such user.
    pub async fn set_password(&self, name: &str, password_hash: &str, now: &str) -> Result<bool> {
        self.set_password_by(name, password_hash, now, "cli", None).await
    }

    /// [`Store::set_password`], audited as done by `actor` from `client`.
    pub async fn set_password_by(&self, name: &str, password_hash: &str, now: &str, actor: &str, client: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET password_hash = $1 WHERE name = $2 RETURNING id").bind(password_hash).bind(name).fetch_optional(&mut *tx.tx).await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx.tx).await?;
        tx.audit(&Audit { at: now, actor, action: "user.passwd", object: Some(name), client, detail: None }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Lets a disabled user sign in again, audited as done by `actor` from `client`. False when
    /// there is no such user.
    pub async fn enable_user_by(&self, name: &str, now: &str, actor: &str, client: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET disabled = 0 WHERE name = $1 RETURNING id").bind(name).fetch_optional(&mut *tx.tx).await?;
        if id.is_none() {
            return Ok(false);
        }
        tx.audit(&Audit { at: now, actor, action: "user.enable", object: Some(name), client, detail: None }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disables a user and ends their sessions at once. False when there is no such user.
    pub async fn disable_user(&self, name: &str, now: &str) -> Result<bool> {
        self.disable_user_by(name, now, "cli", None).await
    }

    /// [`Store::disable_user`], audited as done by `actor` from `client`.
    pub async fn disable_user_by(&self, name: &str, now: &str, actor: &str, client: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET disabled = 1 WHERE name = $1 RETURNING id").bind(name).fetch_optional(&mut *tx.tx).await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx.tx).await?;
        tx.audit(&Audit { at: now, actor, action: "user.disable", object: Some(name), client, detail: None }).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))).fetch_all(&self.pool).await?;
        rows.iter().map(user).collect()
    }

    /// The user of that name with their password hash, for signing in.
    pub async fn user_for_login(&self, name: &str) -> Result<Option<(User, String)>> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = $1"))).bind(name).fetch_optional(&self.pool).await?;
        r.map(|r| Ok((user(&r)?, r.try_get("password_hash")?))).transpose()
    }

    /// Opens a session and audits the sign-in (`detail`: how, when not the usual way), together.
    pub async fn create_session(&self, user: &User, token_hash: &str, csrf_token: &str, now: &str, client: &str, detail: Option<&str>) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.create_session(user, token_hash, csrf_token, now, client, detail).await?;
        tx.commit().await
    }

    /// The session with this token hash, if its user is still enabled.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let r = sqlx::query(
            "SELECT s.id AS sid, s.csrf_token, s.created_at AS s_created, s.last_seen_at, u.id, u.name, u.role, u.disabled, u.created_at, \
             CASE WHEN u.totp_secret IS NULL THEN CAST(0 AS BIGINT) ELSE CAST(1 AS BIGINT) END AS totp \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| {
            Ok(SessionRow {
                id: r.try_get("sid")?,
                user: user(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: r.try_get("s_created")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .transpose()
    }

    pub async fn touch_session(&self, id: i64, now: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2").bind(now).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Ends a session (sign-out, or a timeout), audited when `audit` is given.
    pub async fn end_session(&self, id: i64, audit: Option<Audit<'_>>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut *tx.tx).await?;
        if let Some(a) = audit {
            tx.audit(&a).await?;
        }
        tx.commit().await
    }

    /// Appends one audit record (in a transaction of its own: see [`Tx::audit`]); copied as
    /// `[audit] copy_to` says once committed.
    pub async fn audit(&self, a: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.audit(a).await?;
        tx.commit().await
    }

    /// The latest `limit` audit records, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        self.audit_search(&AuditFilter::default(), limit).await
    }

    /// The latest `limit` records that `filter` keeps, newest first.
    pub async fn audit_search(&self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(self.audit_search_hiding(filter, limit, &super::hidden::HiddenCases::none()).await?.0)
    }

    /// [`Store::audit_search`] for a user from whom the `hidden` cases are closed: records whose
    /// object is one of those cases or of their messages are left out (except the records of
    /// the restriction itself and of break-glass, which admins oversee by reference already).
    /// Also returns how many matching records were left out.
    pub async fn audit_search_hiding(&self, filter: &AuditFilter, limit: i64, hidden: &super::hidden::HiddenCases) -> Result<(Vec<AuditEntry>, i64)> {
        self.audit_search_at(filter, limit, 0, hidden).await
    }

    /// How many records [`Store::audit_search_hiding`] would give with no limit.
    pub async fn audit_count_hiding(&self, filter: &AuditFilter, hidden: &super::hidden::HiddenCases) -> Result<i64> {
        let (conditions, binds) = audit_conditions(filter);
        let visible = hidden.audit_visible("object", "action").map(|v| format!(" AND {v}")).unwrap_or_default();
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM audit_log{conditions}{visible}")));
        for b in &binds {
            q = q.bind(b);
        }
        Ok(q.fetch_one(&self.pool).await?)
    }

    /// [`Store::audit_search_hiding`] from the `skip`-th record on (newest first): a later page.
    pub async fn audit_search_at(&self, filter: &AuditFilter, limit: i64, skip: i64, hidden: &super::hidden::HiddenCases) -> Result<(Vec<AuditEntry>, i64)> {
        let (conditions, binds) = audit_conditions(filter);
        let visible = hidden.audit_visible("object", "action");
        let left_out = match &visible {
            None => 0,
            Some(v) => {
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM audit_log{conditions} AND NOT {v}")));
                for b in &binds {
                    q = q.bind(b);
                }
                q.fetch_one(&self.pool).await?
            }
        };
        let mut sql = format!("SELECT id, at, actor, action, object, client, detail FROM audit_log{conditions}");
        if let Some(v) = &visible {
            sql.push_str(&format!(" AND {v}"));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${} OFFSET {}", binds.len() + 1, skip.max(0)));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    object: r.try_get("object")?,
                    client: r.try_get("client")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(|entries| (entries, left_out))
    }
}

/// The ` WHERE ...` of an audit search, with its values to bind in order.
fn audit_conditions(filter: &AuditFilter) -> (String, Vec<String>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    // Each condition's placeholder is numbered by the values bound before it.
    let mut cond = |sql: &mut String, text: &str, value: String| {
        binds.push(value);
        sql.push_str(&text.replace("$N", &format!("${}", binds.len())));
    };
    if let Some(actor) = &filter.actor {
        cond(&mut sql, " AND actor = $N", actor.clone());
    }
    if let Some(action) = &filter.action {
        cond(&mut sql, " AND action = $N", action.clone());
    }
    if let Some(reference) = &filter.reference {
        // A victim record stands for every case and message of that victim (now).
        cond(
            &mut sql,
            " AND (object = $N \
             OR object IN (SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id WHERE p.ref = $N) \
             OR object IN (SELECT m.ref FROM messages m JOIN people p ON p.id = m.person_id WHERE p.ref = $N))",
            reference.clone(),
        );
    }
    if let Some(from) = filter.from {
        cond(&mut sql, " AND at >= $N", from.format("%Y-%m-%d").to_string());
    }
    if let Some(to) = filter.to {
        cond(&mut sql, " AND at < $N", (to + chrono::Duration::days(1)).format("%Y-%m-%d").to_string());
    }
    (sql, binds)
}

/// The sign-in throttle's records and the second factor.
impl Store {
    /// Records a sign-in attempt for `account` from `client` at `at`, if `admit` lets it through
    /// given the failures since `since`: the count and the record are one transaction holding the
    /// write lock, so no two attempts are counted against the same figures. Returns the
    /// attempt's id (finish it with [`Store::finish_attempt`]), or the refusal. A refusal records
    /// no attempt; it is audited (`login.throttled`) once per address (or per account and
    /// address) after each failure, so a flood of refusals writes no flood of records.
    pub async fn begin_attempt(&self, account: &str, client: &str, at: &str, since: &str, admit: impl FnOnce(&AttemptCounts) -> Option<Refusal>) -> Result<Result<i64, Refusal>> {
        let mut tx = self.begin().await?;
        let last_ok: Option<String> = sqlx::query_scalar("SELECT MAX(at) FROM login_attempts WHERE account = $1 AND client = $2 AND outcome = 'ok' AND at >= $3")
            .bind(account)
            .bind(client)
            .bind(since)
            .fetch_one(&mut *tx.tx)
            .await?;
        let (pair, pair_last): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*), MAX(at) FROM login_attempts WHERE account = $1 AND client = $2 AND at >= $3 AND at > $4 AND {FAILED}"
        )))
        .bind(account)
        .bind(client)
        .bind(since)
        .bind(last_ok.unwrap_or_default())
        .fetch_one(&mut *tx.tx)
        .await?;
        let (address, address_last): (i64, Option<String>) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*), MAX(at) FROM login_attempts WHERE client = $1 AND at >= $2 AND {FAILED}"))).bind(client).bind(since).fetch_one(&mut *tx.tx).await?;
        let account_failures: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM login_attempts WHERE account = $1 AND at >= $2 AND {FAILED}"))).bind(account).bind(since).fetch_one(&mut *tx.tx).await?;
        let counts = AttemptCounts { pair, pair_last, address, address_last, account: account_failures };
        if let Some(refusal) = admit(&counts) {
            let told: i64 = if refusal.address_wide {
                let after = counts.address_last.clone().unwrap_or_else(|| since.to_owned());
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.throttled' AND client = $1 AND at >= $2").bind(client).bind(after).fetch_one(&mut *tx.tx).await?
            } else {
                let after = counts.pair_last.clone().unwrap_or_else(|| since.to_owned());
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.throttled' AND actor = $1 AND at >= $2 AND client = $3")
                    .bind(account)
                    .bind(after)
                    .bind(client)
                    .fetch_one(&mut *tx.tx)
                    .await?
            };
            if told == 0 {
                let detail = if refusal.address_wide { "address" } else { "account" };
                tx.audit(&Audit { at, actor: account, action: "login.throttled", object: None, client: Some(client), detail: Some(detail) }).await?;
            }
            tx.commit().await?;
            return Ok(Err(refusal));
        }
        let id: i64 = sqlx::query_scalar("INSERT INTO login_attempts (at, account, client, outcome) VALUES ($1, $2, $3, 'checking') RETURNING id")
            .bind(at)
            .bind(account)
            .bind(client)
            .fetch_one(&mut *tx.tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// How attempt `id` ended. One left `checking` (the request was dropped) stays a failure.
    pub async fn finish_attempt(&self, id: i64, outcome: AttemptOutcome) -> Result<()> {
        sqlx::query("UPDATE login_attempts SET outcome = $1 WHERE id = $2 AND outcome = 'checking'").bind(outcome.as_str()).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// How many attempts for `account` (from anywhere) had their password checked, or are being
    /// checked, since `since`: what a flood of guesses got evaluated.
    pub async fn attempts_checked(&self, account: &str, since: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE account = $1 AND at >= $2 AND outcome <> 'unchecked'").bind(account).bind(since).fetch_one(&self.pool).await?)
    }

    /// The user's TOTP secret (base32), if they enrolled.
    pub async fn totp_secret(&self, user_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?.flatten())
    }

    /// Takes the code of `step` for the user: false when a code of this step or a later one
    /// was accepted already (a replay). One statement, so two requests cannot both take it.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let taken: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $3) RETURNING id",
        )
        .bind(step)
        .bind(user_id)
        .bind(step)
        .fetch_optional(&self.pool)
        .await?;
        Ok(taken.is_some())
    }

    /// Uses one of the user's recovery codes (by its hash): the number left after it, or None
    /// when there is no such unused code.
    pub async fn use_recovery_code(&self, user_id: i64, code_hash: &str, now: &str) -> Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let used: Option<i64> = sqlx::query_scalar(
            "UPDATE totp_recovery_codes SET used_at = $1 WHERE id = (SELECT id FROM totp_recovery_codes WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL LIMIT 1) RETURNING id",
        )
        .bind(now)
        .bind(user_id)
        .bind(code_hash)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if used.is_none() {
            return Ok(None);
        }
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user_id).fetch_one(&mut *tx.tx).await?;
        tx.commit().await?;
        Ok(Some(left))
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(user_id).fetch_one(&self.pool).await?)
    }

    /// Keeps an enrolment under way (the user's earlier ones are dropped).
    pub async fn start_enrolment(&self, user_id: i64, token_hash: &str, secret: &str, now: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM totp_enrolments WHERE user_id = $1").bind(user_id).execute(&mut *tx.tx).await?;
        sqlx::query("INSERT INTO totp_enrolments (token_hash, user_id, secret, created_at) VALUES ($1, $2, $3, $4)").bind(token_hash).bind(user_id).bind(secret).bind(now).execute(&mut *tx.tx).await?;
        tx.commit().await
    }

    /// The enrolment under way with this token, begun since `since`, of a user still enabled
    /// and not enrolled: the user and the secret (base32).
    pub async fn enrolment(&self, token_hash: &str, since: &str) -> Result<Option<(User, String)>> {
        let r = sqlx::query(
            "SELECT u.id, u.name, u.role, u.disabled, u.created_at, 0 AS totp, e.secret FROM totp_enrolments e JOIN users u ON u.id = e.user_id \
             WHERE e.token_hash = $1 AND e.created_at >= $2 AND u.disabled = 0 AND u.totp_secret IS NULL",
        )
        .bind(token_hash)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| Ok((user(&r)?, r.try_get("secret")?))).transpose()
    }

    /// Enrols the second factor with its recovery codes and opens the session, audited
    /// (`user.totp_enrol`, then `login`), in one transaction. False when the user enrolled
    /// meanwhile (another tab) or the enrolment is gone.
    pub async fn complete_enrolment(&self, e: &Enrolment<'_>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let gone = sqlx::query("DELETE FROM totp_enrolments WHERE token_hash = $1 AND user_id = $2").bind(e.enrolment_token_hash).bind(e.user.id).execute(&mut *tx.tx).await?.rows_affected() == 0;
        let set: Option<i64> = sqlx::query_scalar("UPDATE users SET totp_secret = $1, totp_last_step = $2 WHERE id = $3 AND totp_secret IS NULL AND disabled = 0 RETURNING id")
            .bind(e.secret)
            .bind(e.step)
            .bind(e.user.id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if gone || set.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM totp_recovery_codes WHERE user_id = $1").bind(e.user.id).execute(&mut *tx.tx).await?;
        for h in e.recovery_hashes {
            sqlx::query("INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES ($1, $2)").bind(e.user.id).bind(h).execute(&mut *tx.tx).await?;
        }
        tx.audit(&Audit { at: e.now, actor: &e.user.name, action: "user.totp_enrol", object: Some(&e.user.name), client: Some(e.client), detail: None }).await?;
        tx.create_session(e.user, e.session_token_hash, e.csrf_token, e.now, e.client, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Forgets a user's second factor and recovery codes and ends their sessions: they enrol
    /// again at their next sign-in (after their password). Audited as `user.totp_reset` by
    /// `actor` from `client`. False when there is no such user.
    pub async fn reset_totp_by(&self, name: &str, now: &str, actor: &str, client: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE name = $1 RETURNING id").bind(name).fetch_optional(&mut *tx.tx).await?;
        let Some(id) = id else { return Ok(false) };
        for sql in ["DELETE FROM totp_recovery_codes WHERE user_id = $1", "DELETE FROM totp_enrolments WHERE user_id = $1", "DELETE FROM sessions WHERE user_id = $1"] {
            sqlx::query(sql).bind(id).execute(&mut *tx.tx).await?;
        }
        tx.audit(&Audit { at: now, actor, action: "user.totp_reset", object: Some(name), client, detail: None }).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl Tx {
    async fn create_session(&mut self, user: &User, token_hash: &str, csrf_token: &str, now: &str, client: &str, detail: Option<&str>) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, client) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(token_hash)
            .bind(user.id)
            .bind(csrf_token)
            .bind(now)
            .bind(now)
            .bind(client)
            .execute(&mut *self.tx)
            .await?;
        self.audit(&Audit { at: now, actor: &user.name, action: "login", object: None, client: Some(client), detail }).await
    }

    /// Appends one audit record inside this transaction: the change and its record commit
    /// together. The transaction holds the write lock from its start ([`Store::begin`]), so the
    /// head of the chain read here is still the head when the record is appended.
    pub async fn audit(&mut self, a: &Audit<'_>) -> Result<()> {
        let (id, prev) = super::audit::head(&mut self.tx).await?;
        let hash = super::audit::record_hash(&prev, &super::audit::Fields { id, at: a.at, actor: a.actor, action: a.action, object: a.object, client: a.client, detail: a.detail });
        sqlx::query(INSERT_AUDIT)
            .bind(id)
            .bind(a.at)
            .bind(a.actor)
            .bind(a.action)
            .bind(a.object)
            .bind(a.client)
            .bind(a.detail)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *self.tx)
            .await?;
        if self.copy.is_some() {
            // Sent by `commit`: a record rolled back is never copied.
            self.copies.push(super::audit_copy::Record {
                id,
                at: a.at.to_owned(),
                actor: a.actor.to_owned(),
                action: a.action.to_owned(),
                object: a.object.map(str::to_owned),
                client: a.client.map(str::to_owned),
                detail: a.detail.map(str::to_owned),
                prev_hash: prev,
                hash,
            });
        }
        Ok(())
    }
}
