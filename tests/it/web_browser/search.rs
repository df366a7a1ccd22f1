//! Finding a person in a real Chromium (issue 16): a coordinator types a victim's name with two
//! letters swapped into the search box every page has; the results list the victim's case,
//! saying that the name is a close spelling of what was typed, and the search is in the audit
//! log without what was typed. A screenshot `search.png` (to `docs/` with `UPDATE_SCREENSHOTS=1`).

use super::{coordinator_signed_in, path_of, screenshot, wait_for, wait_for_path, SignedIn};
use crate::support::{web_fixture, Scratch};
use fantoccini::Locator;
use sqlx::Row;
use web_fixture::{samples_config, triaged_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_finds_a_person_by_a_misspelt_name_in_chromium() {
    let scratch = Scratch::new("web-browser-search");
    std::fs::create_dir_all(scratch.0.join("profile")).unwrap();
    let db = format!("sqlite://{}/t.db", scratch.0.display());
    let (store, _) = triaged_store(&db).await;
    let (config, _) = samples_config();

    // A victim with a case, and their name as a hurried typist writes it: two neighbouring
    // letters of the longest word swapped.
    let r = sqlx::query("SELECT c.ref AS cref, p.ref AS pref, p.name FROM cases c JOIN people p ON p.id = c.person_id WHERE p.name NOT LIKE '(%' ORDER BY length(p.name) DESC, c.id LIMIT 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (case_ref, person_ref, name): (String, String, String) = (r.try_get("cref").unwrap(), r.try_get("pref").unwrap(), r.try_get("name").unwrap());
    let longest = name.split_whitespace().max_by_key(|w| w.len()).unwrap();
    let mut chars: Vec<char> = longest.chars().collect();
    assert!(chars.len() >= 5, "a name long enough to misspell: {name}");
    let at = (1..chars.len() - 1).find(|&i| chars[i].to_lowercase().ne(chars[i + 1].to_lowercase())).unwrap();
    chars.swap(at, at + 1);
    let typed = name.replacen(longest, &chars.iter().collect::<String>(), 1);
    assert_ne!(typed, name);

    let SignedIn { c, base: _, server: _server, driver: _driver } = coordinator_signed_in(&scratch.0, &config, &db).await;

    // The search box of the page's header.
    c.find(Locator::Css("form.search-box input[name=q]")).await.unwrap().send_keys(&typed).await.unwrap();
    c.find(Locator::Css("form.search-box button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, |p| p.starts_with("/search?q="), "the search results").await;
    wait_for(&c, "table.search-results").await;
    let rows = c.find_all(Locator::Css("table.search-results tbody tr")).await.unwrap();
    let mut found = None;
    for row in rows {
        let text = row.text().await.unwrap();
        if text.contains(&case_ref) {
            found = Some(text);
        }
    }
    let found = found.unwrap_or_else(|| panic!("{case_ref} is among the results for the misspelt name"));
    assert!(found.contains(&person_ref) && found.contains(&name), "the victim, named as recorded: {found}");
    assert!(found.contains("name is a close spelling of what was typed"), "why it matched: {found}");
    screenshot("search.png", &c.screenshot().await.unwrap(), &scratch.0);

    // The result opens the case.
    c.find(Locator::Css(&format!("table.search-results a[href='/case/{case_ref}']"))).await.unwrap().click().await.unwrap();
    wait_for_path(&c, |p| p == format!("/case/{case_ref}"), "the case page").await;
    assert_eq!(path_of(&c).await, format!("/case/{case_ref}"));

    // Audited, without what was typed.
    let log = store.audit_log(50).await.unwrap();
    let search = log.iter().find(|e| e.action == "search").expect("the search is audited");
    assert_eq!(search.actor, "coord");
    let detail = search.detail.clone().unwrap_or_default();
    assert!(detail.contains("name") && !detail.contains(&typed) && !detail.to_lowercase().contains(&longest.to_lowercase()), "{detail}");
    c.close().await.unwrap();
}
