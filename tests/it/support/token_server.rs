//! A local OAuth 2.0 authorization server on 127.0.0.1 for the token tests: `POST /token` grants
//! client credentials (one client id and secret) with opaque random tokens that live `lifetime`,
//! and `POST /introspect` (RFC 7662, `token=...`, as Dovecot's oauth2 passdb asks with
//! `introspection_mode = post`) answers `active: true` with the username for a token it issued
//! that has not expired or been revoked ([`TokenServer::revoke_all`]), `active: false` otherwise. It records what it issued and what it was
//! asked, for the assertions. One thread, one request per connection, bounded reads; it answers
//! only on its loopback port and ends with the test process.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token the server issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub scope: String,
    pub at: Instant,
}

/// One introspection: the token asked about and the answer given.
#[derive(Debug, Clone)]
pub struct Introspected {
    pub token: String,
    pub active: bool,
}

#[derive(Default)]
struct State {
    issued: Vec<Issued>,
    introspected: Vec<Introspected>,
    refused_clients: usize,
    /// Tokens of a scope (or of every scope: `None`) issued before an instant are inactive
    /// (revoked) however young.
    revoked: Vec<(Option<String>, Instant)>,
}

pub struct TokenServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl TokenServer {
    pub fn start(client_id: &str, client_secret: &str, username: &str, lifetime: Duration) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let (id, secret, user, shared) = (client_id.to_owned(), client_secret.to_owned(), username.to_owned(), state.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let Some((path, body)) = read_request(&mut stream) else { continue };
                let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
                let field = |k: &str| form.get(k).cloned().unwrap_or_default();
                let (status, answer) = match path.as_str() {
                    "/token" if field("grant_type") != "client_credentials" => (400, r#"{"error":"unsupported_grant_type"}"#.to_owned()),
                    "/token" if field("client_id") != id || field("client_secret") != secret => {
                        shared.lock().unwrap().refused_clients += 1;
                        (401, r#"{"error":"invalid_client","error_description":"client authentication failed"}"#.to_owned())
                    }
                    "/token" => {
                        let mut raw = [0u8; 16];
                        getrandom::fill(&mut raw).unwrap();
                        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                        shared.lock().unwrap().issued.push(Issued { token: token.clone(), scope: field("scope"), at: Instant::now() });
                        (200, format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{}}}"#, lifetime.as_secs()))
                    }
                    "/introspect" => {
                        let token = field("token");
                        let mut st = shared.lock().unwrap();
                        let revoked = |i: &Issued| st.revoked.iter().any(|(scope, before)| scope.as_ref().is_none_or(|s| *s == i.scope) && i.at < *before);
                        let active = st.issued.iter().any(|i| i.token == token && i.at.elapsed() < lifetime && !revoked(i));
                        st.introspected.push(Introspected { token, active });
                        if active {
                            (200, format!(r#"{{"active":true,"username":"{user}"}}"#))
                        } else {
                            (200, r#"{"active":false}"#.to_owned())
                        }
                    }
                    _ => (404, "{}".to_owned()),
                };
                let reason = match status {
                    200 => "OK",
                    400 => "Bad Request",
                    401 => "Unauthorized",
                    _ => "Not Found",
                };
                let _ = write!(stream, "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len());
            }
        });
        TokenServer { port, state }
    }

    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The tokens issued so far, in order.
    pub fn issued(&self) -> Vec<Issued> {
        self.state.lock().unwrap().issued.clone()
    }

    /// The introspections so far, in order.
    pub fn introspected(&self) -> Vec<Introspected> {
        self.state.lock().unwrap().introspected.clone()
    }

    /// Revokes every token issued so far: introspection calls them inactive from now on.
    pub fn revoke_all(&self) {
        self.state.lock().unwrap().revoked.push((None, Instant::now()));
    }

    /// Revokes the tokens of this scope issued so far.
    pub fn revoke(&self, scope: &str) {
        self.state.lock().unwrap().revoked.push((Some(scope.to_owned()), Instant::now()));
    }

    /// Token requests refused for a wrong client id or secret.
    pub fn refused_clients(&self) -> usize {
        self.state.lock().unwrap().refused_clients
    }
}

/// Reads one request (at most 64 KiB): its path and body.
fn read_request(stream: &mut std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        request.extend_from_slice(&buf[..n]);
        if request.len() > 64 * 1024 {
            return None;
        }
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&request[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
            .unwrap_or(0);
        if request.len() >= end + 4 + length {
            let path = head.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_owned();
            return Some((path, request[end + 4..end + 4 + length].to_vec()));
        }
    }
}
