//! Accounts, sessions and the audit log of the web queue. The audit log is append-only: nothing
//! here (or anywhere in the application) updates or deletes one of its rows.

use super::{Store, Tx};
use anyhow::{Context, Result};
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Coordinator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "coordinator" => Some(Role::Coordinator),
            "admin" => Some(Role::Admin),
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

/// One audit record to append. `object` is a reference (case, message, user name), never
/// personal data; `client` is the address the request came from.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub object: Option<&'a str>,
    pub client: Option<&'a str>,
    pub detail: Option<&'a str>,
}

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

fn user(r: &sqlx::sqlite::SqliteRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).with_context(|| format!("unknown role {role:?} in users"))?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor, action, object, client, detail) VALUES (?, ?, ?, ?, ?, ?)";

impl Store {
    /// Adds a user from the command line; fails when the name is taken.
    pub async fn add_user(&self, name: &str, role: Role, password_hash: &str, now: &str) -> Result<()> {
        self.add_user_by(name, role, password_hash, now, "cli", None).await
    }

    /// Adds a user, audited as done by `actor` from `client`; fails when the name is taken.
    pub async fn add_user_by(&self, name: &str, role: Role, password_hash: &str, now: &str, actor: &str, client: Option<&str>) -> Result<()> {
        anyhow::ensure!(valid_user_name(name), "a user name is 1 to 64 letters, digits and . _ - @");
        let mut tx = self.begin().await?;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE name = ?").bind(name).fetch_optional(&mut *tx.tx).await?;
        if taken.is_some() {
            anyhow::bail!("a user named {name:?} already exists");
        }
        sqlx::query("INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, 0, ?)")
            .bind(name)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(&Audit { at: now, actor, action: "user.add", object: Some(name), client, detail: Some(role.as_str()) }).await?;
        tx.commit().await
    }

    /// Replaces a user's password and ends their sessions. False when there is no such user.
    pub async fn set_password(&self, name: &str, password_hash: &str, now: &str) -> Result<bool> {
        self.set_password_by(name, password_hash, now, "cli", None).await
    }

    /// [`Store::set_password`], audited as done by `actor` from `client`.
    pub async fn set_password_by(&self, name: &str, password_hash: &str, now: &str, actor: &str, client: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET password_hash = ? WHERE name = ? RETURNING id").bind(password_hash).bind(name).fetch_optional(&mut *tx.tx).await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(id).execute(&mut *tx.tx).await?;
        tx.audit(&Audit { at: now, actor, action: "user.passwd", object: Some(name), client, detail: None }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Lets a disabled user sign in again, audited as done by `actor` from `client`. False when
    /// there is no such user.
    pub async fn enable_user_by(&self, name: &str, now: &str, actor: &str, client: Option<&str>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET disabled = 0 WHERE name = ? RETURNING id").bind(name).fetch_optional(&mut *tx.tx).await?;
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
        let id: Option<i64> = sqlx::query_scalar("UPDATE users SET disabled = 1 WHERE name = ? RETURNING id").bind(name).fetch_optional(&mut *tx.tx).await?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(id).execute(&mut *tx.tx).await?;
        tx.audit(&Audit { at: now, actor, action: "user.disable", object: Some(name), client, detail: None }).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT id, name, role, disabled, created_at FROM users ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter().map(user).collect()
    }

    /// The user of that name with their password hash, for signing in.
    pub async fn user_for_login(&self, name: &str) -> Result<Option<(User, String)>> {
        let r = sqlx::query("SELECT id, name, role, disabled, created_at, password_hash FROM users WHERE name = ?").bind(name).fetch_optional(&self.pool).await?;
        r.map(|r| Ok((user(&r)?, r.try_get("password_hash")?))).transpose()
    }

    /// Opens a session and audits the sign-in, together.
    pub async fn create_session(&self, user: &User, token_hash: &str, csrf_token: &str, now: &str, client: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, client) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user.id)
            .bind(csrf_token)
            .bind(now)
            .bind(now)
            .bind(client)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(&Audit { at: now, actor: &user.name, action: "login", object: None, client: Some(client), detail: None }).await?;
        tx.commit().await
    }

    /// The session with this token hash, if its user is still enabled.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let r = sqlx::query(
            "SELECT s.id AS sid, s.csrf_token, s.created_at AS s_created, s.last_seen_at, u.id, u.name, u.role, u.disabled, u.created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND u.disabled = 0",
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
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id = ?").bind(now).bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Ends a session (sign-out, or a timeout), audited when `audit` is given.
    pub async fn end_session(&self, id: i64, audit: Option<Audit<'_>>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE id = ?").bind(id).execute(&mut *tx.tx).await?;
        if let Some(a) = audit {
            tx.audit(&a).await?;
        }
        tx.commit().await
    }

    /// Appends one audit record.
    pub async fn audit(&self, a: &Audit<'_>) -> Result<()> {
        sqlx::query(INSERT_AUDIT).bind(a.at).bind(a.actor).bind(a.action).bind(a.object).bind(a.client).bind(a.detail).execute(&self.pool).await?;
        Ok(())
    }

    /// How many `action` records `actor` has since `since` (indexed).
    pub async fn audit_count_by_actor(&self, action: &str, actor: &str, since: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor = ? AND at >= ?").bind(action).bind(actor).bind(since).fetch_one(&self.pool).await?)
    }

    /// How many `action` records came from `client` since `since` (indexed).
    pub async fn audit_count_by_client(&self, action: &str, client: &str, since: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = ? AND client = ? AND at >= ?").bind(action).bind(client).bind(since).fetch_one(&self.pool).await?)
    }

    /// The latest `limit` audit records, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        self.audit_search(&AuditFilter::default(), limit).await
    }

    /// The latest `limit` records that `filter` keeps, newest first.
    pub async fn audit_search(&self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        let mut sql = String::from("SELECT id, at, actor, action, object, client, detail FROM audit_log WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(actor) = &filter.actor {
            sql.push_str(" AND actor = ?");
            binds.push(actor.clone());
        }
        if let Some(action) = &filter.action {
            sql.push_str(" AND action = ?");
            binds.push(action.clone());
        }
        if let Some(reference) = &filter.reference {
            // A victim record stands for every case and message of that victim (now).
            sql.push_str(
                " AND (object = ? \
                 OR object IN (SELECT c.ref FROM cases c JOIN people p ON p.id = c.person_id WHERE p.ref = ?) \
                 OR object IN (SELECT m.ref FROM messages m JOIN people p ON p.id = m.person_id WHERE p.ref = ?))",
            );
            binds.extend([reference.clone(), reference.clone(), reference.clone()]);
        }
        if let Some(from) = filter.from {
            sql.push_str(" AND at >= ?");
            binds.push(from.format("%Y-%m-%d").to_string());
        }
        if let Some(to) = filter.to {
            sql.push_str(" AND at < ?");
            binds.push((to + chrono::Duration::days(1)).format("%Y-%m-%d").to_string());
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
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
            .collect()
    }
}

impl Tx {
    /// Appends one audit record inside this transaction: the change and its record commit together.
    pub async fn audit(&mut self, a: &Audit<'_>) -> Result<()> {
        sqlx::query(INSERT_AUDIT).bind(a.at).bind(a.actor).bind(a.action).bind(a.object).bind(a.client).bind(a.detail).execute(&mut *self.tx).await?;
        Ok(())
    }
}
