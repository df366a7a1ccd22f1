//! The tests' authenticator app: the code of a TOTP secret, as a phone would show it. The server
//! accepts each step's code once per user (and the steps either side of now), so this hands out
//! each (server, user) a step it has not used yet: now, then now + 1, then waits for the next
//! step (at most 30 s) — never now - 1, which a step boundary crossed on the way could make stale.
#![allow(dead_code)]

use marac_intake::web::totp::{step_at, Secret, STEP_SECONDS};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The fixtures' TOTP secret (base32, 160 bits): `user add --totp-secret-file` and the tests'
/// stores enrol it.
pub const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

static LAST: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);
static SECRETS: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);

/// Keeps the secret a server behind `key` showed `user` at enrolment.
pub fn remember(key: &str, user: &str, secret: &str) {
    SECRETS.lock().unwrap().get_or_insert_with(HashMap::new).insert(format!("{key}/{user}"), secret.to_owned());
}

/// The secret `user` enrolled at the server behind `key`: the one remembered, else [`SECRET`].
pub fn secret_of(key: &str, user: &str) -> String {
    SECRETS.lock().unwrap().get_or_insert_with(HashMap::new).get(&format!("{key}/{user}")).cloned().unwrap_or_else(|| SECRET.to_owned())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A code of `secret` (base32) that the server behind `key` (its address, say) has not yet
/// accepted from `user`.
pub async fn code(key: &str, user: &str, secret: &str) -> String {
    let secret = Secret::from_base32(secret).expect("a base32 TOTP secret");
    let id = format!("{key}/{user}");
    loop {
        let now = step_at(unix_now());
        let step = {
            let mut last = LAST.lock().unwrap();
            let last = last.get_or_insert_with(HashMap::new);
            let next = last.get(&id).map_or(now, |l| (l + 1).max(now));
            if next <= now + 1 {
                last.insert(id.clone(), next);
                Some(next)
            } else {
                None
            }
        };
        if let Some(step) = step {
            return secret.code(step);
        }
        let into = unix_now() % STEP_SECONDS;
        tokio::time::sleep(Duration::from_secs(STEP_SECONDS - into) + Duration::from_millis(50)).await;
    }
}
