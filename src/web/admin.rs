//! The admins' console (`/admin/*`, admins only: the [`Admin`] extractor answers 403 to others):
//! the rules in force and their editor (sections stored in the database over the file, see
//! [`crate::rules`]), the users, and the audit log with its filters and CSV export.

use super::audit::{self as actions, to_csv};
use super::auth::{self, Admin, DeploymentAdmin, Signed};
use crate::clock::stamp;
use super::page::{message, not_found, render, v, Page};
use super::{rule_form, AppState};
use crate::config::{rule_section_in, section_toml, RuleSection, AREA_RULE_SECTIONS, RULE_SECTIONS};
use crate::decide::ReplyKind;
use crate::store::accounts::Audit;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use serde_json::Value;

/// The console's routes (merged into [`super::routes::router`], under its CSRF guard and headers).
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit.csv", get(audit_csv))
        .route("/admin/users", get(users_page).post(users_change))
        .route("/admin/rules", get(rules_page))
        .route("/admin/rules/{section}", get(rule_section_page).post(rule_section_change))
        .route("/admin/rules/{section}/form", post(rule_section_form))
        .route("/admin/subjects", get(subjects_find))
        .route("/admin/subjects/{person}", get(subject_page))
        .route("/admin/subjects/{person}/export", post(subject_export))
        .route("/admin/subjects/{person}/rectify", post(subject_rectify))
        .route("/admin/subjects/{person}/erase", post(subject_erase))
        .route("/admin/restricted", get(restricted_page).post(restricted_change))
        .route("/admin/break-glass/{id}/seen", post(break_glass_seen))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl AuditQuery {
    /// The filter, or which field is not understood.
    fn filter(&self) -> Result<crate::store::accounts::AuditFilter, &'static str> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |s: &str, what: &'static str| match s.trim() {
            "" => Ok(None),
            d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map(Some).map_err(|_| what),
        };
        Ok(crate::store::accounts::AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            reference: text(&self.reference),
            from: day(&self.from, "The first day is not a date (YYYY-MM-DD).")?,
            to: day(&self.to, "The last day is not a date (YYYY-MM-DD).")?,
        })
    }

    /// The same query, for the export link.
    fn encoded(&self) -> String {
        serde_urlencoded::to_string([("actor", &self.actor), ("action", &self.action), ("reference", &self.reference), ("from", &self.from), ("to", &self.to)]).unwrap_or_default()
    }
}

/// Every action the application records, for the filter's choice.
const AUDIT_ACTIONS: &[&str] = &[
    actions::QUEUE_VIEW, actions::CASE_VIEW, actions::MEETING_VIEW, actions::REVIEW_ACCEPT, actions::REVIEW_REJECT, actions::QUARANTINE_RELEASE,
    actions::QUARANTINE_DISCARD, actions::CASE_MOVE, actions::CASE_HEARD, actions::CASE_CLOSE, actions::PERSON_MERGE, actions::PERSON_SPLIT,
    actions::PERSON_UNMERGE, actions::CASE_REOPEN, actions::CASE_UNHEARD, actions::SEARCH,
    actions::AGENDA_EXPORT, actions::AGENDA_SEND, actions::ATTACHMENT_DOWNLOAD, actions::MESSAGE_DOWNLOAD, actions::RULES_CHANGE, actions::AUDIT_EXPORT,
    actions::AUDIT_VIEW, actions::USERS_VIEW, actions::RULES_VIEW, actions::ACCESS_REFUSED, "request.too_large", "request.timeout", "connection.refused",
    "login", "login.failed", "login.throttled", "logout", "session.expired", "csrf.refused", "user.add", "user.disable", "user.enable", "user.passwd",
    "user.totp_enrol", "user.totp_reset",
    actions::SUBJECT_VIEW, actions::SUBJECT_EXPORT, actions::SUBJECT_RECTIFY, actions::SUBJECT_ERASE, actions::CASE_RESTRICT, actions::CASE_UNRESTRICT,
    actions::BREAK_GLASS, actions::BREAK_GLASS_SEEN, actions::RESTRICTIONS_VIEW,
];

/// Audit records shown on one page of `/admin/audit`.
pub const AUDIT_PER_PAGE: usize = 200;

/// The audit log, newest first, a page at a time, narrowed by who, what, which reference (a victim record: all
/// of that victim's cases and messages) and which days.
async fn audit_page(State(state): State<AppState>, Admin(signed): Admin, Query(q): Query<AuditQuery>, Query(page): Query<super::paging::PageParam>) -> Page {
    let mut pager = super::paging::Pager::new(None, AUDIT_PER_PAGE, 0, |n| n.to_string());
    let (entries, left_out, error, status) = match q.filter() {
        Ok(f) => {
            let at = stamp(state.clock.now());
            let detail = q.encoded();
            let narrowed = f != crate::store::accounts::AuditFilter::default();
            state.store.audit(&Audit { detail: narrowed.then_some(detail.as_str()), ..signed.audit(&at, actions::AUDIT_VIEW, None) }).await?;
            let hidden = state.store.hidden_cases(signed.session.user.id, &at).await?;
            let total = state.store.audit_count_hiding(&f, &hidden).await?;
            let query = q.encoded();
            pager = super::paging::Pager::new(page.page, AUDIT_PER_PAGE, total.max(0) as usize, |n| super::paging::link("/admin/audit", &query, n));
            let (entries, left_out) = state.store.audit_search_at(&f, AUDIT_PER_PAGE as i64, pager.offset() as i64, &hidden).await?;
            (entries, left_out, None, StatusCode::OK)
        }
        Err(e) => (Vec::new(), 0, Some(e), StatusCode::BAD_REQUEST),
    };
    let ctx = context! { entries => v(&entries), left_out, q => context! { actor => &q.actor, action => &q.action, reference => &q.reference, from => &q.from, to => &q.to }, actions => v(AUDIT_ACTIONS), error, export => q.encoded(), pager => v(&pager) };
    Ok((status, render(&state, "audit.html", Some(&signed), ctx)?).into_response())
}

/// The audit log as CSV, narrowed as the page is; the export itself is audited with its filter.
async fn audit_csv(State(state): State<AppState>, Admin(signed): Admin, Query(q): Query<AuditQuery>) -> Page {
    let Ok(filter) = q.filter() else {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Not a date", "The days are written YYYY-MM-DD.");
    };
    let at = stamp(state.clock.now());
    let hidden = state.store.hidden_cases(signed.session.user.id, &at).await?;
    let (entries, _) = state.store.audit_search_hiding(&filter, i64::MAX, &hidden).await?;
    let detail = q.encoded();
    let narrowed = filter != crate::store::accounts::AuditFilter::default();
    state.store.audit(&Audit { detail: narrowed.then_some(detail.as_str()), ..signed.audit(&at, actions::AUDIT_EXPORT, None) }).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"marac-audit-log.csv\"")], to_csv(&entries)).into_response())
}

#[derive(Deserialize)]
struct UsersQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn users_page(State(state): State<AppState>, DeploymentAdmin(signed): DeploymentAdmin, Query(q): Query<UsersQuery>) -> Page {
    state.store.audit(&signed.audit(&stamp(state.clock.now()), actions::USERS_VIEW, None)).await?;
    users_view(&state, &signed, StatusCode::OK, q.done.as_deref().map(|d| format!("Done: {d}.")), None).await
}

async fn users_view(state: &AppState, signed: &Signed, status: StatusCode, notice: Option<String>, error: Option<&str>) -> Page {
    let users = state.store.users().await?;
    let areas_by_user = state.store.areas_by_user().await?;
    let cfg = state.cfg();
    let name_of = |id: &str| cfg.area(id).map_or_else(|| format!("{id} (not configured)"), |a| a.name().to_owned());
    let areas: std::collections::BTreeMap<String, String> = users
        .iter()
        .map(|u| {
            let text = match u.role {
                crate::store::accounts::Role::Admin => "every area".to_owned(),
                _ => areas_by_user.get(&u.name).map(|a| a.iter().map(|x| name_of(x)).collect::<Vec<_>>().join(", ")).unwrap_or_else(|| "none".to_owned()),
            };
            (u.name.clone(), text)
        })
        .collect();
    let deployment_areas: Vec<Value> = cfg.areas.iter().map(|a| serde_json::json!({"id": a.id, "name": a.name()})).collect();
    Ok((status, render(state, "users.html", Some(signed), context! { users => v(&users), areas => v(&areas), deployment_areas => v(&deployment_areas), notice, error, me => signed.name() })?).into_response())
}

/// The areas typed in a users form (ids, separated by commas or spaces) for a user of `role`:
/// None for the deployment's admin; else each one of the deployment's, the only area when none
/// is typed and there is one. Err: what to say.
fn form_areas(cfg: &crate::config::Config, role: crate::store::accounts::Role, typed: &str) -> Result<Option<Vec<String>>, String> {
    if role == crate::store::accounts::Role::Admin {
        return Ok(None);
    }
    let areas: Vec<String> = typed.split([',', ' ']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect();
    if let Some(bad) = areas.iter().find(|a| cfg.area(a).is_none()) {
        return Err(format!("There is no area {bad:?}."));
    }
    match (areas.is_empty(), cfg.areas.as_slice()) {
        (false, _) => Ok(Some(areas)),
        (true, [only]) => Ok(Some(vec![only.id.clone()])),
        (true, _) => Err("Name the areas the user works in.".to_owned()),
    }
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
    /// Area ids, separated by commas or spaces (`add`, `areas`).
    #[serde(default)]
    areas: String,
}

/// Add a user, set a user's password (their sessions end), reset a user's authenticator app
/// (their sessions end; they set up a new one at their next sign-in), enable one, or disable one
/// (not oneself), audited as the admin's.
async fn users_change(State(state): State<AppState>, DeploymentAdmin(signed): DeploymentAdmin, Form(form): Form<UserForm>) -> Page {
    use crate::store::accounts::{valid_user_name, Role};
    let at = stamp(state.clock.now());
    let name = form.name.trim().to_owned();
    match form.action.as_str() {
        "add" => {
            let Some(role) = Role::parse(&form.role) else { return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("Choose a role.")).await };
            if !valid_user_name(&name) {
                return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("A user name is 1 to 64 letters, digits and . _ - @.")).await;
            }
            if form.password != form.password_again {
                return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("The two passwords differ.")).await;
            }
            let password = form.password;
            let Ok(hash) = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await? else {
                return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("A password needs at least 12 characters.")).await;
            };
            if state.store.users().await?.iter().any(|u| u.name == name) {
                return users_view(&state, &signed, StatusCode::CONFLICT, None, Some("A user of that name exists.")).await;
            }
            let areas = match form_areas(&state.cfg(), role, &form.areas) {
                Ok(a) => a,
                Err(e) => return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some(&e)).await,
            };
            state.store.add_user_by(&name, role, &hash, None, &at, signed.name(), Some(&signed.client)).await?;
            if let Some(areas) = &areas {
                state.store.set_user_areas(&name, areas, &at, signed.name(), Some(&signed.client)).await?;
            }
            Ok(Redirect::to(&format!("/admin/users?done=added%20{name}")).into_response())
        }
        "passwd" => {
            if form.password != form.password_again {
                return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("The two passwords differ.")).await;
            }
            let password = form.password;
            let Ok(hash) = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await? else {
                return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("A password needs at least 12 characters.")).await;
            };
            if !state.store.set_password_by(&name, &hash, &at, signed.name(), Some(&signed.client)).await? {
                return users_view(&state, &signed, StatusCode::NOT_FOUND, None, Some("There is no such user.")).await;
            }
            Ok(Redirect::to(&format!("/admin/users?done=new%20password%20for%20{name}")).into_response())
        }
        "areas" => {
            let Some(user) = state.store.users().await?.into_iter().find(|u| u.name == name) else {
                return users_view(&state, &signed, StatusCode::NOT_FOUND, None, Some("There is no such user.")).await;
            };
            let areas = match form_areas(&state.cfg(), user.role, &form.areas) {
                Ok(Some(a)) => a,
                Ok(None) => return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("An admin of the deployment works in every area.")).await,
                Err(e) => return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some(&e)).await,
            };
            state.store.set_user_areas(&name, &areas, &at, signed.name(), Some(&signed.client)).await?;
            Ok(Redirect::to(&format!("/admin/users?done=areas%20of%20{name}")).into_response())
        }
        "totp_reset" => {
            if !state.store.reset_totp_by(&name, &at, signed.name(), Some(&signed.client)).await? {
                return users_view(&state, &signed, StatusCode::NOT_FOUND, None, Some("There is no such user.")).await;
            }
            Ok(Redirect::to(&format!("/admin/users?done=authenticator%20app%20reset%20for%20{name}")).into_response())
        }
        "enable" => {
            if !state.store.enable_user_by(&name, &at, signed.name(), Some(&signed.client)).await? {
                return users_view(&state, &signed, StatusCode::NOT_FOUND, None, Some("There is no such user.")).await;
            }
            Ok(Redirect::to(&format!("/admin/users?done=enabled%20{name}")).into_response())
        }
        "disable" => {
            if name == signed.name() {
                return users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("You cannot disable yourself.")).await;
            }
            if !state.store.disable_user_by(&name, &at, signed.name(), Some(&signed.client)).await? {
                return users_view(&state, &signed, StatusCode::NOT_FOUND, None, Some("There is no such user.")).await;
            }
            Ok(Redirect::to(&format!("/admin/users?done=disabled%20{name}")).into_response())
        }
        _ => users_view(&state, &signed, StatusCode::BAD_REQUEST, None, Some("Choose add, a new password, an authenticator reset, enable or disable.")).await,
    }
}


/// The rules in force (the file with the sections changed here layered over it), each section
/// shown as the service reads it, where it comes from, and a link to change it.
async fn rules_page(State(state): State<AppState>, Admin(signed): Admin) -> Page {
    state.store.audit(&signed.audit(&stamp(state.clock.now()), actions::RULES_VIEW, None)).await?;
    refresh_rules(&state).await;
    let cfg = state.cfg();
    let heads = state.store.rule_heads().await?;
    // An area's admin sees and changes their areas' sections only.
    let mine = state.store.user_areas(signed.session.user.id).await?;
    let deployment = mine.is_none();
    let sections: Vec<Value> = RULE_SECTIONS
        .iter()
        .filter(|_| deployment)
        .map(|s| serde_json::json!({ "name": s, "title": section_title(s), "source": heads.iter().find(|h| h.section == *s) }))
        .collect();
    // Then each area's (a deployment of several MARACs): what is in force for it, its own
    // sections laid over the deployment's.
    let areas: Vec<Value> = if cfg.file.areas.is_empty() {
        Vec::new()
    } else {
        cfg.areas
            .iter()
            .filter(|a| mine.as_ref().is_none_or(|m| m.contains(&a.id)))
            .map(|a| {
                let sections: Vec<Value> = AREA_RULE_SECTIONS
                    .iter()
                    .map(|kind| {
                        let name = format!("areas.{}.{kind}", a.id);
                        let source = heads.iter().find(|h| h.section == name);
                        serde_json::json!({ "name": name, "kind": kind, "title": section_title(kind), "source": source, "own": !section_toml(&cfg.file, &name).is_empty() })
                    })
                    .collect();
                serde_json::json!({ "id": a.id, "name": a.name(), "sections": sections, "r": rules_view(&a.config, state.clock.today()) })
            })
            .collect()
    };
    let ctx = context! {
        r => v(rules_view(&cfg, state.clock.today())), sections => v(&sections), areas => v(&areas), deployment, toml => if deployment { redacted_toml(&cfg.file) } else { String::new() },
        file => config_file_name(&cfg), version => cfg.rules_version,
    };
    Ok(render(&state, "rules.html", Some(&signed), ctx)?.into_response())
}

/// The configuration as TOML with every value that is, or leads to, a secret replaced by
/// "(set)": passwords, tokens, secrets, keys, and any command (`token_command`, say), whatever
/// the section. Numbers and switches (`command_timeout_secs`) stay.
fn redacted_toml(file: &crate::config::ConfigFile) -> String {
    fn secret(key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        ["password", "token", "secret", "command", "key", "credential"].iter().any(|w| k.contains(w))
    }
    fn redact(v: &mut toml::Value) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t.iter_mut() {
                    if secret(k) && matches!(v, toml::Value::String(_) | toml::Value::Array(_) | toml::Value::Table(_)) {
                        *v = toml::Value::String("(set)".into());
                    } else {
                        redact(v);
                    }
                }
            }
            toml::Value::Array(a) => a.iter_mut().for_each(redact),
            _ => {}
        }
    }
    let Ok(mut value) = toml::Value::try_from(file) else { return String::new() };
    redact(&mut value);
    toml::to_string(&value).unwrap_or_default()
}

/// Loads the rules again if another process changed them, so an admin always edits what is in
/// force. A failure is logged by the watcher; the page shows the rules still in force.
async fn refresh_rules(state: &AppState) {
    if let Err(e) = state.live.refresh(&state.store).await {
        tracing::warn!(error = %format!("{e:#}"), "The changed rules could not be loaded.");
    }
}

fn section_title(section: &str) -> &'static str {
    match section {
        "threshold" => "Thresholds",
        "senders" => "Secure senders",
        "schedule" => "Meetings",
        "folders" => "Mail folders",
        "replies" => "Reply templates",
        "agenda" => "Agenda to the agencies' officers",
        "synonyms" => "Label synonyms",
        _ => "Rules",
    }
}

/// What the rules pages show of a configuration: each rule section in words, templates rendered
/// with example values; the meetings are those after `today`.
fn rules_view(cfg: &crate::config::Config, today: chrono::NaiveDate) -> Value {
    let f = &cfg.file;
    let meetings: Vec<String> = cfg.schedule.meetings_between(today, today + chrono::Duration::days(120)).iter().take(4).map(|d| d.to_string()).collect();
    let sample_meeting = meetings.first().cloned().unwrap_or_else(|| "the next meeting".into());
    // Replies quote our reference for the referral's message, never a case's.
    let sample_reference = "IN-2025-00001".to_owned();
    let templates: Vec<Value> = [
        ("Acknowledgement", ReplyKind::Acknowledgement, &f.replies.acknowledgement),
        ("Rejection", ReplyKind::Rejection, &f.replies.rejection),
        ("Holding reply", ReplyKind::Holding, &f.replies.holding),
    ]
    .iter()
    .map(|(name, kind, t)| {
        let attendance = crate::reply::attendance(*kind, &sample_meeting, cfg);
        let values = [
            ("area", f.area.as_str()),
            ("reference", sample_reference.as_str()),
            ("meeting_date", sample_meeting.as_str()),
            ("reasons", "- the DASH checklist is missing"),
            ("their_subject", "MARAC referral"),
            ("attendance", attendance.as_str()),
        ];
        let (subject, body) = t.render(&values);
        serde_json::json!({ "name": name, "subject": subject, "body": body })
    })
    .collect();
    let folders = vec![("accepted", &f.folders.accepted), ("rejected", &f.folders.rejected), ("review", &f.folders.review), ("quarantined", &f.folders.quarantined), ("ignored", &f.folders.ignored)];
    let fields: Vec<(String, Vec<String>)> = cfg.synonyms.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let schedule = format!("{:?} on {:?}{}", f.schedule.kind, f.schedule.weekday, f.schedule.nth.map(|n| format!(" (the {n:?} of the month)")).unwrap_or_default()).to_lowercase();
    let plan = &cfg.agenda;
    let holidays = match (plan.bank_holidays, plan.holidays.len()) {
        (crate::bank_holidays::BankHolidays::None, 0) => String::new(),
        (crate::bank_holidays::BankHolidays::None, n) => format!(" ({n} listed holidays are not working days)"),
        (calendar, 0) => format!(" (the bank holidays of {} are not working days)", calendar.describe()),
        (calendar, n) => format!(" (the bank holidays of {} and {n} listed holidays are not working days)", calendar.describe()),
    };
    let when = if plan.automatic {
        format!("It goes by itself {} working days before each meeting, at {} UK time{holidays}, to each officer who has not had it; a coordinator can send it again from the meeting's page.", plan.working_days_before, plan.send_at.format("%H:%M"))
    } else {
        "It goes only when a coordinator sends it from the meeting's page.".to_owned()
    };
    let agenda = serde_json::json!({ "officers": plan.officers, "when": when });
    serde_json::json!({
        "agenda": agenda,
        "threshold": f.threshold, "allowlist": cfg.allowlist.describe(), "authserv": f.senders.trusted_authserv_id, "from": f.replies.from,
        "meetings": meetings, "schedule": schedule, "folders": folders, "templates": templates, "fields": fields,
    })
}

#[derive(Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// A section named in a URL, if the configuration in force has it: a deployment's section of
/// [`RULE_SECTIONS`], or `areas.ID.SECTION` of a configured area. Else the page saying why,
/// naming it.
fn known_section(state: &AppState, signed: &Signed, section: &str) -> Result<(), Page> {
    let cfg = state.cfg();
    match rule_section_in(&cfg.file, section) {
        Ok(_) => Ok(()),
        Err(e) => Err(message(state, Some(signed), StatusCode::NOT_FOUND, "Not found", &format!("There is no such rule section to change here: {e}."))),
    }
}

/// Whether `signed` may see and change `section`: the deployment's admin every section, an
/// area's admin their areas' own (`areas.ID.SECTION`). Refused otherwise (403, audited).
async fn may_change(state: &AppState, signed: &Signed, section: &str) -> Result<(), Page> {
    let allowed = match state.store.user_areas(signed.session.user.id).await.map_err(super::page::PageError::from) {
        Err(e) => return Err(Err(e)),
        Ok(None) => true,
        Ok(Some(mine)) => RuleSection::parse(section).ok().and_then(|s| s.area().map(str::to_owned)).is_some_and(|id| mine.contains(&id)),
    };
    if allowed {
        return Ok(());
    }
    let at = stamp(state.clock.now());
    let refused = async {
        state.store.audit(&Audit { detail: Some("another area's rules, or the deployment's"), ..signed.audit(&at, actions::ACCESS_REFUSED, Some(section)) }).await?;
        message(state, Some(signed), StatusCode::FORBIDDEN, "Not yours to change", "An area's admin changes the rules of their own areas only; the deployment's rules are its admin's.")
    };
    Err(refused.await)
}

/// What the pages call a section: "Thresholds", or "Thresholds of North Kingsmere".
fn section_heading(cfg: &crate::config::Config, section: &str) -> String {
    match RuleSection::parse(section) {
        Ok(RuleSection::Area { id, section }) => format!("{} of {}", section_title(section), cfg.area(id).map_or(id, |a| a.name())),
        _ => section_title(section).to_owned(),
    }
}

/// What the rules pages show for the configuration a section belongs to: the deployment's, or
/// the area's (its own sections laid over the deployment's).
fn section_view(cfg: &crate::config::Config, section: &str, today: chrono::NaiveDate) -> Value {
    match RuleSection::parse(section).ok().and_then(|s| s.area()).and_then(|id| cfg.area(id)) {
        Some(area) => rules_view(&area.config, today),
        None => rules_view(cfg, today),
    }
}

/// One section's editor: its TOML as in force, where it comes from, its versions.
async fn rule_section_page(State(state): State<AppState>, Admin(signed): Admin, Path(section): Path<String>, Query(q): Query<DoneQuery>, Query(page): Query<super::paging::PageParam>) -> Page {
    if let Err(page) = known_section(&state, &signed, &section) {
        return page;
    }
    if let Err(page) = may_change(&state, &signed, &section).await {
        return page;
    }
    state.store.audit(&signed.audit(&stamp(state.clock.now()), actions::RULES_VIEW, Some(&section))).await?;
    refresh_rules(&state).await;
    let cfg = state.cfg();
    let editor = Editor { body: section_toml(&cfg.file, &section), base: None, notice: q.done.map(|d| format!("Saved: {d}. The service applies it within a few seconds.")), versions_page: page.page, ..Editor::default() };
    rule_section_view(&state, &signed, &section, StatusCode::OK, editor).await
}

/// A section's versions shown on one page (newest first; the others on the next pages).
pub const VERSIONS_SHOWN: usize = 50;

/// What the editor shows beside the section's history.
#[derive(Default)]
struct Editor {
    /// The page of the section's versions (`?page=N`; the first when not asked).
    versions_page: Option<usize>,
    body: String,
    /// The version the admin started from (None: the newest now).
    base: Option<i64>,
    notice: Option<String>,
    error: Option<String>,
    /// The section as it would read, after a successful check.
    preview: Option<Value>,
    /// The form's fields as sent, shown again when one could not be read.
    sent: Option<Vec<(String, String)>>,
}

async fn rule_section_view(state: &AppState, signed: &Signed, section: &str, status: StatusCode, e: Editor) -> Page {
    let history = state.store.rule_history(section, i64::MAX).await?;
    let newest = history.first().map(|h| h.id).unwrap_or(0);
    let in_force_from_database = history.first().is_some_and(|h| h.body.is_some());
    let in_force_version = history.first().cloned();
    let pager = super::paging::Pager::new(e.versions_page, VERSIONS_SHOWN, history.len(), |n| format!("/admin/rules/{section}?page={n}#versions"));
    let history = pager.slice(&history);
    let prefix = format!("MARAC__{}__", section.replace('.', "__").to_ascii_uppercase());
    let overridden: Vec<String> = std::env::vars().map(|(k, _)| k).filter(|k| k.starts_with(&prefix)).collect();
    let cfg = state.cfg();
    let parsed = RuleSection::parse(section).ok();
    let kind = parsed.map_or(section, |s| s.kind());
    let area = parsed.and_then(|s| s.area()).and_then(|id| cfg.area(id)).map(|a| serde_json::json!({ "id": a.id, "name": a.name() }));
    // The section's configuration in force, read once: an area's shows it whole, a schedule its
    // next meetings.
    let view = (area.is_some() || kind == "schedule").then(|| section_view(&cfg, section, state.clock.today()));
    let current = view.clone().filter(|_| kind == "schedule");
    let in_force = view.filter(|_| area.is_some());
    let form = section_form(&cfg, section, kind, &e);
    let toml_open = e.error.is_some() && e.sent.is_none();
    let ctx = context! {
        section, kind, title => section_heading(&cfg, section), body => e.body, base => e.base.unwrap_or(newest), notice => e.notice, error => e.error,
        preview => e.preview.map(v), history => v(history), versions_pager => v(&pager), newest, version_in_force => in_force_version.map(v), overridden, from_database => in_force_from_database,
        file => config_file_name(&cfg), rule_area => area.map(v), in_force => in_force.map(v),
        form => v(&form), current => current.map(v), toml_open,
    };
    Ok((status, render(state, "rule_section.html", Some(signed), ctx)?).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_configuration_shown_names_no_secret_and_no_command() {
        let text = format!(
            "{}\n[imap]\nhost = \"127.0.0.1\"\nport = 993\nusername = \"marac@example.test\"\ntls = \"implicit\"\nauth = \"xoauth2\"\ntoken_command = \"/usr/bin/get-token --secret s3cr3t-value\"\n",
            include_str!("../../config/samples.toml")
        );
        let file = crate::config::parse(&text, Vec::<(String, String)>::new()).expect("the samples with an [imap]");
        let shown = super::redacted_toml(&file);
        assert!(!shown.contains("s3cr3t-value") && !shown.contains("get-token"), "{shown}");
        assert!(shown.contains("token_command = \"(set)\""), "{shown}");
        assert!(shown.contains("command_timeout_secs"), "numbers stay: {shown}");
        assert!(shown.contains("marac@example.test"), "the rest is shown: {shown}");
    }
}

/// The configuration file's name as the rules pages show it: its name alone, for the admin knows
/// where it is and a screenshot then shows no machine's folders.
fn config_file_name(cfg: &crate::config::Config) -> Option<String> {
    cfg.source.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned())
}

/// The deployment's section of `kind` as in force, every key with its value (the form's keys).
fn schema_of(cfg: &crate::config::Config, kind: &str) -> toml::Table {
    section_toml(&cfg.file, kind).parse().unwrap_or_default()
}

/// The section's fields, showing what the editor holds (the section as saved, or as checked),
/// or the form as sent when one of its fields could not be read.
fn section_form(cfg: &crate::config::Config, section: &str, kind: &str, e: &Editor) -> Vec<rule_form::Field> {
    let schema = schema_of(cfg, kind);
    let area = section != kind;
    match &e.sent {
        Some(sent) => rule_form::fields_as_sent(kind, &schema, sent, area),
        None => rule_form::fields(kind, &schema, &e.body.parse().unwrap_or_default(), area),
    }
}

/// Check or save from the form: the fields read back into the section's TOML, then the same
/// check and save as the TOML editor's ([`rule_section_change`]). A field that cannot be read
/// is named, and the form shown again as sent.
async fn rule_section_form(State(state): State<AppState>, Admin(signed): Admin, Path(section): Path<String>, Form(sent): Form<Vec<(String, String)>>) -> Page {
    if let Err(page) = known_section(&state, &signed, &section) {
        return page;
    }
    if let Err(page) = may_change(&state, &signed, &section).await {
        return page;
    }
    let field = |name: &str| sent.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (action, base) = (field("action"), field("base").parse().unwrap_or(0));
    if action != "check" && action != "save" {
        return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Unknown action", "Choose check or save.");
    }
    let cfg = state.cfg();
    let kind = RuleSection::parse(&section).map_or(section.as_str(), |s| s.kind()).to_owned();
    let own: toml::Table = section_toml(&cfg.file, &section).parse().unwrap_or_default();
    let fields: Vec<(String, String)> = sent.iter().filter(|(k, _)| k.starts_with("f.")).cloned().collect();
    match rule_form::table_from(&kind, &schema_of(&cfg, &kind), &own, &fields, section != kind) {
        Ok(table) => {
            let body = toml::to_string_pretty(&table).unwrap_or_default();
            change_section(&state, &signed, &section, RuleForm { action, body, base, version: 0 }).await
        }
        Err(rule_form::FieldError(why)) => {
            let editor = Editor { body: section_toml(&cfg.file, &section), base: Some(base), error: Some(format!("Not checked: {why}.")), sent: Some(fields), ..Editor::default() };
            rule_section_view(&state, &signed, &section, StatusCode::BAD_REQUEST, editor).await
        }
    }
}

#[derive(Deserialize)]
struct RuleForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    base: i64,
    #[serde(default)]
    version: i64,
}

/// Longest section body accepted (the templates are the longest; a few KiB in practice).
const MAX_RULE_BODY: usize = 64 * 1024;

/// Check, save, restore a version of, or put back the file's section. Every result is validated
/// as `check-config` validates the file (with the file and the other sections as they are now),
/// then stored as a new version with its audit record, and the configuration in force replaced.
async fn rule_section_change(State(state): State<AppState>, Admin(signed): Admin, Path(section): Path<String>, Form(form): Form<RuleForm>) -> Page {
    if let Err(page) = known_section(&state, &signed, &section) {
        return page;
    }
    if let Err(page) = may_change(&state, &signed, &section).await {
        return page;
    }
    change_section(&state, &signed, &section, form).await
}

/// The change itself, from the TOML editor or the form (whose sender may change `section`).
async fn change_section(state: &AppState, signed: &Signed, section: &str, form: RuleForm) -> Page {
    use crate::store::rules::RuleChange;
    let (state, signed, section) = (state, signed, section.to_owned());
    let cfg = state.cfg();
    let Some(path) = cfg.source.clone() else {
        return message(&state, Some(&signed), StatusCode::CONFLICT, "Rules fixed", "This server was started with a configuration that was not read from a file: its rules cannot be changed here.");
    };
    let typed = form.body.replace("\r\n", "\n");
    let mut editor = Editor { body: typed.clone(), base: Some(form.base), ..Editor::default() };
    let (body, note) = match form.action.as_str() {
        "check" | "save" if typed.len() > MAX_RULE_BODY => {
            editor.error = Some(format!("The section is longer than {} KiB.", MAX_RULE_BODY / 1024));
            return rule_section_view(&state, &signed, &section, StatusCode::PAYLOAD_TOO_LARGE, editor).await;
        }
        "check" | "save" => (Some(typed), "saved".to_owned()),
        "restore" => match state.store.rule_version(form.version).await? {
            Some(old) if old.section == section && old.body.is_some() => {
                editor.body = old.body.clone().unwrap_or_default();
                (old.body, format!("restored version {}", old.id))
            }
            _ => return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no such version of this section."),
        },
        "file" => (None, "back to the file's section".to_owned()),
        _ => return message(&state, Some(&signed), StatusCode::BAD_REQUEST, "Unknown action", "Choose check, save, restore or the file's section."),
    };
    let text = tokio::fs::read_to_string(&path).await.map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let layer = state.store.rule_layer().await?.with(&section, body.as_deref());
    let checked = crate::config::parse_layered(&text, &layer, std::env::vars()).and_then(|f| f.build());
    let built = match checked {
        Err(e) => {
            editor.error = Some(format!("Not saved: {e}"));
            return rule_section_view(&state, &signed, &section, StatusCode::BAD_REQUEST, editor).await;
        }
        Ok(built) => built,
    };
    if form.action == "check" {
        editor.notice = Some("The section is valid. Nothing is saved until you save it.".into());
        editor.preview = Some(section_view(&built, &section, state.clock.today()));
        return rule_section_view(&state, &signed, &section, StatusCode::OK, editor).await;
    }
    let at = stamp(state.clock.now());
    let audit = signed.audit(&at, actions::RULES_CHANGE, None);
    match state.store.change_rule(&section, body.as_deref(), form.base, &note, audit).await? {
        RuleChange::Stale(newest) => {
            editor.error = Some(format!(
                "Not saved: {} changed this section at {} (version {}) after you opened it. Compare with the versions below, then save again.",
                newest.changed_by, crate::clock::uk_text(&newest.changed_at), newest.id
            ));
            editor.base = Some(newest.id);
            rule_section_view(&state, &signed, &section, StatusCode::CONFLICT, editor).await
        }
        RuleChange::Saved(id) => {
            tracing::info!(user = signed.name(), section = %section, version = id, "Rules changed in the web console.");
            // What is in force now: the file and every section as stored (another admin may
            // have changed another section meanwhile).
            match crate::rules::load(&path, &state.store).await {
                Ok(now) => state.live.set(std::sync::Arc::new(now)),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "The rules as stored do not validate; the web queue keeps the rules in force."),
            }
            Ok(Redirect::to(&format!("/admin/rules/{section}?done=version%20{id}")).into_response())
        }
    }
}

// ---- data-subject rights

#[derive(Deserialize, Default)]
struct FindSubject {
    #[serde(default)]
    person: String,
}

/// The person's page from the reference typed (or the empty form).
async fn subjects_find(State(state): State<AppState>, Admin(signed): Admin, Query(q): Query<FindSubject>) -> Page {
    let person = q.person.trim();
    if person.is_empty() {
        return subject_view(&state, &signed, StatusCode::OK, None, None, None).await;
    }
    if !person.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return subject_view(&state, &signed, StatusCode::BAD_REQUEST, None, None, Some("A victim record's reference is letters and digits (P000123).")).await;
    }
    Ok(Redirect::to(&format!("/admin/subjects/{person}")).into_response())
}

async fn subject_view(state: &AppState, signed: &Signed, status: StatusCode, p: Option<crate::store::subjects::SubjectSummary>, notice: Option<&str>, error: Option<&str>) -> Page {
    Ok((status, render(state, "subject.html", Some(signed), context! { p => v(&p), notice, error })?).into_response())
}

#[derive(Deserialize)]
struct SubjectQuery {
    #[serde(default)]
    done: Option<String>,
}

/// A person by reference: what is held (no name shown), and the export, correction and erasure.
/// The person's record when it is of an area `signed` works in (None: answered as not found).
async fn subject_of(state: &AppState, signed: &Signed, person: &str) -> Result<Option<crate::store::subjects::SubjectSummary>, super::page::PageError> {
    if !state.store.in_users_areas(person, signed.session.user.id).await? {
        let at = stamp(state.clock.now());
        state.store.audit(&Audit { detail: Some("another area"), ..signed.audit(&at, actions::ACCESS_REFUSED, Some(person)) }).await?;
        return Ok(None);
    }
    Ok(state.store.subject_summary(person).await?)
}

async fn subject_page(State(state): State<AppState>, Admin(signed): Admin, Path(person): Path<String>, Query(q): Query<SubjectQuery>) -> Page {
    let Some(summary) = subject_of(&state, &signed, &person).await? else {
        return subject_view(&state, &signed, StatusCode::NOT_FOUND, None, None, Some("There is no victim record with that reference.")).await;
    };
    state.store.audit(&signed.audit(&stamp(state.clock.now()), actions::SUBJECT_VIEW, Some(&person))).await?;
    let notice = match q.done.as_deref() {
        Some("rectify") => Some("Corrected. The change is recorded in the audit log."),
        Some("erase") => Some("Erased. The record stays as its reference; the erasure and its reason are in the audit log."),
        _ => None,
    };
    subject_view(&state, &signed, StatusCode::OK, Some(summary), notice, None).await
}

/// Everything held about the person, as one zip, audited (actor, reference, counts).
async fn subject_export(State(state): State<AppState>, Admin(signed): Admin, Path(person): Path<String>) -> Page {
    if subject_of(&state, &signed, &person).await?.is_none() {
        return not_found(State(state), signed).await;
    }
    let Some(export) = state.store.subject_export(&person).await? else {
        return message(&state, Some(&signed), StatusCode::NOT_FOUND, "Not found", "There is no victim record with that reference.");
    };
    let at = stamp(state.clock.now());
    let zip = crate::store::subjects::archive(&export, &at, signed.name())?;
    let detail = export.counts().to_string();
    state.store.audit(&Audit { detail: Some(&detail), ..signed.audit(&at, actions::SUBJECT_EXPORT, Some(&person)) }).await?;
    tracing::info!(person = %person, user = %signed.name(), "A subject access export was downloaded.");
    let disposition = format!("attachment; filename=\"marac-subject-{person}.zip\"");
    Ok(([(header::CONTENT_TYPE, "application/zip".to_owned()), (header::CONTENT_DISPOSITION, disposition)], zip).into_response())
}

#[derive(Deserialize)]
struct RectifyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    dob: String,
    #[serde(default)]
    reason: String,
}

/// Corrects the recorded name or date of birth, audited with the reason (never the values).
async fn subject_rectify(State(state): State<AppState>, Admin(signed): Admin, Path(person): Path<String>, Form(form): Form<RectifyForm>) -> Page {
    let Some(summary) = subject_of(&state, &signed, &person).await? else { return not_found(State(state), signed).await };
    let bad = |e: &'static str| (StatusCode::BAD_REQUEST, e);
    let checked = (|| {
        let name = match form.name.trim() {
            "" => None,
            n => Some(crate::identity::PersonName::parse(n).map_err(|_| bad("That is not a name the matching can read."))?),
        };
        let dob = match form.dob.trim() {
            "" => None,
            // As a form writes it (23/11/1979, 23 Nov 1979, 1979-11-23); never guessed.
            d => match crate::recognise::answer::parse_date(d, chrono::Datelike::year(&state.clock.today())) {
                crate::recognise::answer::DateRead::Date(d) => Some(d),
                _ => return Err(bad("That is not a date of birth (write it as 23/11/1979).")),
            },
        };
        let reason = form.reason.trim();
        if name.is_none() && dob.is_none() {
            return Err(bad("Give the corrected name or date of birth."));
        }
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(bad("Give the reason for the correction (at most 1,000 characters)."));
        }
        Ok((name, dob, reason.to_owned()))
    })();
    let (name, dob, reason) = match checked {
        Ok(c) => c,
        Err((status, e)) => return subject_view(&state, &signed, status, Some(summary), None, Some(e)).await,
    };
    if state.store.reason_quotes_subject(&person, &reason, name.as_ref(), dob).await? {
        let e = "The reason is kept in the audit log, which holds references only: give it without the name or date of birth (old or new).";
        return subject_view(&state, &signed, StatusCode::BAD_REQUEST, Some(summary), None, Some(e)).await;
    }
    let at = stamp(state.clock.now());
    let detail = format!("reason: {reason}");
    if !state.store.rectify_subject(&person, name.as_ref(), dob, &Audit { detail: Some(&detail), ..signed.audit(&at, actions::SUBJECT_RECTIFY, Some(&person)) }).await? {
        return subject_view(&state, &signed, StatusCode::CONFLICT, Some(summary), None, Some("This person was erased: there is nothing to correct.")).await;
    }
    Ok(Redirect::to(&format!("/admin/subjects/{person}?done=rectify")).into_response())
}

#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// Erases the person (see [`crate::store::subjects`]): a reason is required, and the reference
/// typed again as confirmation; audited with the reason and the counts.
async fn subject_erase(State(state): State<AppState>, Admin(signed): Admin, Path(person): Path<String>, Form(form): Form<EraseForm>) -> Page {
    let Some(summary) = subject_of(&state, &signed, &person).await? else { return not_found(State(state), signed).await };
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return subject_view(&state, &signed, StatusCode::BAD_REQUEST, Some(summary), None, Some("Give the reason for the erasure (at most 1,000 characters): it is recorded.")).await;
    }
    if form.confirm.trim() != person {
        return subject_view(&state, &signed, StatusCode::BAD_REQUEST, Some(summary), None, Some("Type the record's reference to confirm the erasure.")).await;
    }
    let at = stamp(state.clock.now());
    state.store.erase_subject(&person, reason, &signed.audit(&at, actions::SUBJECT_ERASE, Some(&person))).await?;
    tracing::warn!(person = %person, user = %signed.name(), "A person was erased at a data-subject request.");
    Ok(Redirect::to(&format!("/admin/subjects/{person}?done=erase")).into_response())
}

// ---- restricted cases

#[derive(Deserialize, Default)]
struct RestrictedQuery {
    #[serde(default)]
    case: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn restricted_page(State(state): State<AppState>, Admin(signed): Admin, Query(q): Query<RestrictedQuery>) -> Page {
    state.store.audit(&signed.audit(&stamp(state.clock.now()), actions::RESTRICTIONS_VIEW, None)).await?;
    let notice = q.done.as_deref().map(|d| format!("Done: {d}."));
    restricted_view(&state, &signed, StatusCode::OK, q.case.as_deref(), notice.as_deref(), None).await
}

async fn restricted_view(state: &AppState, signed: &Signed, status: StatusCode, case: Option<&str>, notice: Option<&str>, error: Option<&str>) -> Page {
    // An area's admin sees the restrictions of their areas' cases only.
    let mut restrictions = Vec::new();
    for r in state.store.restrictions().await? {
        if state.store.in_users_areas(&r.case_ref, signed.session.user.id).await? {
            restrictions.push(r);
        }
    }
    Ok((status, render(state, "restrictions.html", Some(signed), context! { restrictions => v(&restrictions), case, notice, error })?).into_response())
}

#[derive(Deserialize)]
struct RestrictForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    case: String,
    #[serde(default)]
    users: String,
}

/// Restrict a case to named users (or change who), or open it to all again; audited.
async fn restricted_change(State(state): State<AppState>, Admin(signed): Admin, Form(form): Form<RestrictForm>) -> Page {
    use crate::store::subjects::RestrictRefusal;
    let at = stamp(state.clock.now());
    let case = form.case.trim().to_owned();
    if !state.store.in_users_areas(&case, signed.session.user.id).await? {
        return restricted_view(&state, &signed, StatusCode::NOT_FOUND, None, None, Some("There is no case with that reference.")).await;
    }
    match form.action.as_str() {
        "restrict" => {
            let users: Vec<String> = form.users.split([',', ' ', '\n']).map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
            let error = match state.store.restrict_case(&case, &users, &signed.audit(&at, actions::CASE_RESTRICT, Some(&case))).await? {
                Ok(()) => return Ok(Redirect::to(&format!("/admin/restricted?done=restricted+{case}")).into_response()),
                Err(RestrictRefusal::NoCase) => "There is no case with that reference.".to_owned(),
                Err(RestrictRefusal::NoUsers) => "Name at least one user who may see the case.".to_owned(),
                Err(RestrictRefusal::UnknownUser(u)) => format!("There is no user {u}."),
            };
            restricted_view(&state, &signed, StatusCode::BAD_REQUEST, Some(&case), None, Some(&error)).await
        }
        "unrestrict" => {
            if !state.store.unrestrict_case(&case, &signed.audit(&at, actions::CASE_UNRESTRICT, Some(&case))).await? {
                return restricted_view(&state, &signed, StatusCode::NOT_FOUND, None, None, Some("That case is not restricted.")).await;
            }
            Ok(Redirect::to(&format!("/admin/restricted?done=opened+{case}")).into_response())
        }
        _ => restricted_view(&state, &signed, StatusCode::BAD_REQUEST, None, None, Some("Choose restrict or open.")).await,
    }
}

/// An admin marks a break-glass access seen: it leaves the dashboard's notice.
async fn break_glass_seen(State(state): State<AppState>, DeploymentAdmin(signed): DeploymentAdmin, Path(id): Path<i64>) -> Page {
    state.store.break_glass_seen(id, &signed.audit(&stamp(state.clock.now()), actions::BREAK_GLASS_SEEN, None)).await?;
    Ok(Redirect::to("/dashboard").into_response())
}
