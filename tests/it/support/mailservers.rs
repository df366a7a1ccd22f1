//! A real Dovecot on 127.0.0.1 for integration tests, from a fresh temporary directory per test:
//! a test CA and server certificate (made with the `openssl` tool that comes with dovecot-core),
//! passwd-file users, Maildir, an implicit-TLS and a STARTTLS listener, no auth penalty, logs in
//! files. Started with its output redirected (an inherited stdout makes a test pipe hang) and
//! stopped on Drop through its own pid file: only what the harness started is stopped.

use super::free_port;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The password of every test user.
pub const PASSWORD: &str = "test-password";

pub struct Dovecot {
    pub dir: PathBuf,
    /// STARTTLS (and, on loopback, plaintext) listener.
    pub imap_port: u16,
    /// Implicit TLS listener.
    pub imaps_port: u16,
    /// LMTP listener (Postfix delivers here).
    pub lmtp_port: u16,
    /// SASL auth-client listener (Postfix authenticates submission clients here).
    pub auth_port: u16,
    /// PEM of the CA that signed the server certificate (for `ca_file`).
    pub ca_file: PathBuf,
    /// A file holding [`PASSWORD`] (for `password_file`).
    pub password_file: PathBuf,
    config: PathBuf,
}


fn run(cmd: &mut Command) {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn fresh_dir(kind: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("marac-{kind}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o755);
    dir
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn id_of(user: &str, flag: &str) -> u32 {
    let out = Command::new("id").arg(flag).arg(user).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("no system user {user}"))
}

/// Makes a CA and a server certificate for localhost / 127.0.0.1 in `dir`.
pub fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca, ca_key, crt, key, csr, ext) =
        (dir.join("ca.crt"), dir.join("ca.key"), dir.join("server.crt"), dir.join("server.key"), dir.join("server.csr"), dir.join("server.ext"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=marac-intake test CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    run(Command::new("openssl")
        .args(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    std::fs::write(&ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-set_serial", "2"])
        .arg("-in")
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (ca, crt, key)
}

impl Dovecot {
    /// Starts Dovecot with these users (all with [`PASSWORD`]) and waits until it accepts
    /// connections.
    pub fn start(users: &[&str]) -> Dovecot {
        Dovecot::start_with(users, None)
    }

    /// As [`Dovecot::start`], and XOAUTH2/OAUTHBEARER accepted for tokens that the local
    /// [`Introspection`] endpoint on this port calls active.
    pub fn start_with_oauth(users: &[&str], introspection_port: u16) -> Dovecot {
        Dovecot::start_with(users, Some(introspection_port))
    }

    /// Started on free ports: a port taken by another test between [`free_port`] and the bind
    /// (tests start servers side by side) makes Dovecot fail to start, so a failed start is tried
    /// again, a few times, on other ports (and in a directory of its own).
    fn start_with(users: &[&str], introspection_port: Option<u16>) -> Dovecot {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let server = Dovecot::prepared(users, introspection_port);
            match server.try_launch() {
                Ok(()) => return server,
                // Dropped: stopped, its directory removed.
                Err(why) if attempt < 4 => eprintln!("dovecot did not start, attempt {attempt}; again on other ports: {why}"),
                Err(why) => panic!("{why}"),
            }
        }
    }

    /// Its directory, certificates, users and configuration on free ports; not started.
    fn prepared(users: &[&str], introspection_port: Option<u16>) -> Dovecot {
        let dir = fresh_dir("dovecot");
        let (ca_file, crt, key) = make_certificates(&dir);
        let (imap_port, imaps_port, lmtp_port, auth_port) = (free_port(), free_port(), free_port(), free_port());
        let mail = dir.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        let (uid, gid) = (id_of("mail", "-u"), id_of("mail", "-g"));
        std::os::unix::fs::chown(&mail, Some(uid), Some(gid)).unwrap();
        set_mode(&mail, 0o755);
        let passwd = dir.join("passwd");
        let lines: String = users.iter().map(|u| format!("{u}:{{PLAIN}}{PASSWORD}::::::\n")).collect();
        std::fs::write(&passwd, lines).unwrap();
        set_mode(&passwd, 0o644);
        let password_file = dir.join("password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        let d = dir.display();
        let (mechanisms, oauth_passdb) = match introspection_port {
            None => ("plain login", String::new()),
            Some(port) => {
                let ext = dir.join("oauth2.conf.ext");
                std::fs::write(
                    &ext,
                    format!(
                        "introspection_mode = post\nintrospection_url = http://127.0.0.1:{port}/introspect\nforce_introspection = yes\n\
                         username_attribute = username\nactive_attribute = active\nactive_value = true\n"
                    ),
                )
                .unwrap();
                ("plain login xoauth2 oauthbearer", format!("passdb {{\n  driver = oauth2\n  args = {}\n}}\n", ext.display()))
            }
        };
        let config = dir.join("dovecot.conf");
        std::fs::write(
            &config,
            format!(
                r#"instance_name = marac-test-{imap_port}
base_dir = {d}/run
state_dir = {d}/state
protocols = imap lmtp
listen = 127.0.0.1
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot-info.log
ssl = yes
ssl_cert = <{crt}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
login_trusted_networks =
mail_location = maildir:{d}/mail/%u/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
mail_max_userip_connections = 1000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
{oauth_passdb}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
# No auth penalty: every test connects from 127.0.0.1, and a failed login must not slow the
# next test down. Without this socket the auth process disables the penalty.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  inet_listener auth-client {{
    address = 127.0.0.1
    port = {auth_port}
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"#,
                crt = crt.display(),
                key = key.display(),
                passwd = passwd.display(),
            ),
        )
        .unwrap();
        Dovecot { dir, imap_port, imaps_port, lmtp_port, auth_port, ca_file, password_file, config }
    }

    /// Starts the master process (it daemonizes and writes `run/master.pid`) and waits until
    /// both listeners accept connections.
    fn launch(&self) {
        self.try_launch().unwrap_or_else(|why| panic!("{why}"));
    }

    /// [`Dovecot::launch`], saying why it did not start (with what Dovecot said).
    fn try_launch(&self) -> Result<(), String> {
        let out = self.dir.join("dovecot.stdout");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&out).unwrap();
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .expect("dovecot is not installed (apt-get install dovecot-imapd)");
        let said = || format!("{}{}", std::fs::read_to_string(&out).unwrap_or_default(), std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default());
        if !status.success() {
            return Err(format!("dovecot did not start ({status}): {}", said()));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let ports = [self.imaps_port, self.imap_port, self.lmtp_port, self.auth_port];
        while ports.iter().any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err()) {
            if Instant::now() >= deadline {
                return Err(format!("dovecot did not listen within 20 s: {}", said()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The master process and all its descendants: only what this harness started.
    fn processes(&self) -> Vec<i32> {
        let Some(master) = self.master_pid() else { return Vec::new() };
        let mut parent_of = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // The parent pid is the second field after the parenthesised command name.
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse::<i32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
        let mut family = vec![master];
        let mut i = 0;
        while i < family.len() {
            let p = family[i];
            family.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
            i += 1;
        }
        family
    }

    fn signal_all(&self, signal: &str) {
        for pid in self.processes() {
            let _ = Command::new("kill").arg(signal).arg(pid.to_string()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
    }

    /// Freezes the server with SIGSTOP: connections stay open and nothing answers.
    pub fn freeze(&self) {
        self.signal_all("-STOP");
    }

    /// Undoes [`Dovecot::freeze`].
    pub fn thaw(&self) {
        self.signal_all("-CONT");
    }

    /// Forgets the UIDs of `user`'s INBOX while stopped, so it comes back with a new UIDVALIDITY
    /// and renumbered messages (as after a server migration or a restored backup).
    pub fn reset_inbox_uidvalidity(&self, user: &str) {
        self.stop();
        let maildir = self.dir.join("mail").join(user).join("Maildir");
        for entry in std::fs::read_dir(&maildir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        self.launch();
    }

    /// Stops the server (clients see BYE) and waits until its master process is gone.
    pub fn stop(&self) {
        self.thaw();
        let Some(pid) = self.master_pid() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(self.dir.join("run/master.pid"));
    }

    /// Kills the server and all its processes with SIGKILL (clients see the connection end with
    /// no BYE), then starts it again on the same ports with the same mail.
    pub fn kill_and_relaunch(&self) {
        let family = self.processes();
        self.signal_all("-KILL");
        let deadline = Instant::now() + Duration::from_secs(10);
        while family.iter().any(|p| Path::new(&format!("/proc/{p}")).exists()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(self.dir.join("run/master.pid"));
        self.launch();
    }

    /// Kills the IMAP session processes only (SIGKILL): every client's connection ends with no
    /// BYE, while the rest of the server (logins, LMTP, SASL for Postfix) goes on. Returns how
    /// many sessions it ended.
    pub fn drop_imap_sessions(&self) -> usize {
        let mut ended = 0;
        for pid in self.processes() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "imap" {
                let killed = Command::new("kill").arg("-KILL").arg(pid.to_string()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
                ended += usize::from(killed.is_ok_and(|s| s.success()));
            }
        }
        ended
    }

    /// Stops and starts the server again on the same ports, with the same mail.
    pub fn restart(&self) {
        self.stop();
        self.launch();
    }

    fn master_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("run/master.pid")).ok()?.trim().parse().ok()
    }

    /// A plaintext session on the loopback STARTTLS port (Dovecot allows this on loopback):
    /// the harness's own door, independent of the code under test.
    pub async fn session(&self, user: &str) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().expect("greeting");
        client.login(user, PASSWORD).await.map_err(|(e, _)| e).expect("harness login")
    }

    /// APPENDs `raw` to `folder` (created if missing) with this INTERNALDATE.
    pub async fn append(&self, user: &str, folder: &str, raw: &[u8], internal_date: chrono::DateTime<chrono::FixedOffset>) {
        let mut s = self.session(user).await;
        let _ = s.create(folder).await;
        let date = format!("\"{}\"", internal_date.format("%d-%b-%Y %H:%M:%S %z"));
        s.append(folder, None, Some(&date), raw).await.expect("APPEND");
        s.logout().await.unwrap();
    }

    /// The raw messages in `folder`, in UID order (empty when the folder does not exist).
    pub async fn list_folder(&self, user: &str, folder: &str) -> Vec<Vec<u8>> {
        use futures_util::TryStreamExt;
        let mut s = self.session(user).await;
        let mut out = Vec::new();
        if let Ok(mb) = s.examine(folder).await {
            if mb.exists > 0 {
                let mut all: Vec<(u32, Vec<u8>)> = s
                    .uid_fetch("1:*", "(UID BODY.PEEK[])")
                    .await
                    .unwrap()
                    .map_ok(|f| (f.uid.unwrap_or(0), f.body().unwrap_or_default().to_vec()))
                    .try_collect()
                    .await
                    .unwrap();
                all.sort_by_key(|(u, _)| *u);
                out = all.into_iter().map(|(_, b)| b).collect();
            }
        }
        s.logout().await.unwrap();
        out
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        if std::env::var_os("MARAC_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A real Postfix on 127.0.0.1 in front of a harness [`Dovecot`]: submission with STARTTLS and
/// with implicit TLS, AUTH through Dovecot's SASL, every accepted message delivered by LMTP into
/// the recipient's Dovecot mailbox (recipients must be users of that Dovecot). The queue sits
/// outside the configuration directory (Postfix fails silently otherwise) and the log goes to a
/// file under an explicitly allowed prefix.
pub struct Postfix {
    pub dir: PathBuf,
    /// Submission with STARTTLS.
    pub submission_port: u16,
    /// Submission with implicit TLS.
    pub smtps_port: u16,
    config_dir: PathBuf,
}

impl Postfix {
    /// Started on free ports, tried again (a few times, on other ports) when `postfix start`
    /// fails: a port taken by another test meanwhile, as for [`Dovecot`].
    pub fn start(dovecot: &Dovecot) -> Postfix {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let server = Postfix::prepared(dovecot);
            if server.postfix("start") {
                server.wait_listening();
                return server;
            }
            let said = std::fs::read_to_string(server.dir.join("postfix.stdout")).unwrap_or_default();
            assert!(attempt < 4, "postfix did not start: {said}");
            eprintln!("postfix did not start, attempt {attempt}; again on other ports: {said}");
        }
    }

    /// Its directories and configuration on free ports; not started.
    fn prepared(dovecot: &Dovecot) -> Postfix {
        let dir = fresh_dir("postfix");
        let (submission_port, smtps_port) = (free_port(), free_port());
        let config_dir = dir.join("etc");
        let queue = dir.join("queue");
        let data = dir.join("data");
        for d in [&config_dir, &queue, &data] {
            std::fs::create_dir_all(d).unwrap();
            set_mode(d, 0o755);
        }
        std::os::unix::fs::chown(&data, Some(id_of("postfix", "-u")), Some(id_of("postfix", "-g"))).unwrap();
        let crt = dovecot.dir.join("server.crt");
        let key = dovecot.dir.join("server.key");
        let lmtp = format!("lmtp:inet:127.0.0.1:{}", dovecot.lmtp_port);
        let d = dir.display();
        std::fs::write(
            config_dir.join("main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
maillog_file_prefixes = {d}
maillog_file = {d}/postfix.log
mail_owner = postfix
setgid_group = postdrop
myhostname = localhost
mydomain = localdomain
myorigin = localhost
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtputf8_enable = no
biff = no
default_transport = {lmtp}
relay_transport = {lmtp}
lmtp_host_lookup = native
smtpd_tls_cert_file = {crt}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth}
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
",
                crt = crt.display(),
                key = key.display(),
                auth = dovecot.auth_port,
            ),
        )
        .unwrap();
        let sub = "-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject";
        std::fs::write(
            config_dir.join("master.cf"),
            format!(
                "127.0.0.1:{submission_port} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt {sub}
127.0.0.1:{smtps_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt {sub}
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"
            ),
        )
        .unwrap();
        Postfix { dir, submission_port, smtps_port, config_dir }
    }

    /// Starts it (again, after [`Postfix::stop`]) and waits, at most 20 s, until both ports listen.
    pub fn start_again(&self) {
        self.postfix("start");
        self.wait_listening();
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while [self.submission_port, self.smtps_port].iter().any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err()) {
            assert!(Instant::now() < deadline, "postfix did not listen within 20 s; see {}", self.dir.display());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it (`postfix stop`: mail in its queue stays there) and waits, at most 20 s, until
    /// neither port answers.
    pub fn stop(&self) {
        assert!(self.postfix("stop"), "postfix stop; see {}", self.dir.display());
        let deadline = Instant::now() + Duration::from_secs(20);
        while [self.submission_port, self.smtps_port].iter().any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok()) {
            assert!(Instant::now() < deadline, "postfix still listens 20 s after stop; see {}", self.dir.display());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn postfix(&self, action: &str) -> bool {
        let out = self.dir.join("postfix.stdout");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&out).unwrap();
        Command::new("postfix")
            .arg("-c")
            .arg(&self.config_dir)
            .arg(action)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The text of Postfix's log so far (for assertions and failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postfix.log")).unwrap_or_default()
    }

    fn master_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("queue/pid/master.pid")).ok()?.trim().parse().ok()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let pid = self.master_pid();
        if !self.postfix("stop") {
            if let Some(pid) = pid {
                let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).stdin(Stdio::null()).status();
            }
        }
        if let Some(pid) = pid {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if std::env::var_os("MARAC_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A tiny OAuth2 token introspection endpoint (RFC 7662 style) for Dovecot's oauth2 passdb: the
/// one good token is active for `username`, every other token is inactive.
pub struct Introspection {
    pub port: u16,
}

impl Introspection {
    pub fn start(good_token: &str, username: &str) -> Introspection {
        use std::io::{Read, Write};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (good, user) = (good_token.to_owned(), username.to_owned());
        // The thread ends with the test process; it only ever answers on this loopback port.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buf) else { break };
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let body = if text.contains(&good) { format!("{{\"active\":true,\"username\":\"{user}\"}}") } else { "{\"active\":false}".to_owned() };
                let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        Introspection { port }
    }
}

/// The `MARAC__*` variables that point a configuration's `[imap]` (implicit TLS) and `[smtp]`
/// (STARTTLS submission) at these servers, signed in as `user`, trusting the harness CA.
pub fn service_env(dovecot: &Dovecot, postfix: &Postfix, user: &str) -> Vec<(String, String)> {
    [
        ("MARAC__IMAP__HOST", "127.0.0.1".to_owned()),
        ("MARAC__IMAP__PORT", dovecot.imaps_port.to_string()),
        ("MARAC__IMAP__TLS", "implicit".to_owned()),
        ("MARAC__IMAP__USERNAME", user.to_owned()),
        ("MARAC__IMAP__PASSWORD_FILE", dovecot.password_file.display().to_string()),
        ("MARAC__IMAP__CA_FILE", dovecot.ca_file.display().to_string()),
        ("MARAC__SMTP__HOST", "127.0.0.1".to_owned()),
        ("MARAC__SMTP__PORT", postfix.submission_port.to_string()),
        ("MARAC__SMTP__TLS", "starttls".to_owned()),
        ("MARAC__SMTP__USERNAME", user.to_owned()),
        ("MARAC__SMTP__PASSWORD_FILE", dovecot.password_file.display().to_string()),
        ("MARAC__SMTP__CA_FILE", dovecot.ca_file.display().to_string()),
        // The operators' listener on a free port: tests run services side by side.
        ("MARAC__METRICS__LISTEN", "127.0.0.1:0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// `raw` with its Message-ID replaced by `id` (the old one kept as `X-Original-Message-ID`), so a
/// copy of a fixture is a message of its own.
pub fn with_message_id(raw: &[u8], id: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").or_else(|| text.split_once("\n\n")).expect("a header block");
    let head: Vec<String> = head.split('\n').map(|l| if l.to_ascii_lowercase().starts_with("message-id:") { format!("X-Original-{l}") } else { l.to_owned() }).collect();
    format!("Message-ID: <{id}>\r\n{}\r\n\r\n{body}", head.join("\n")).into_bytes()
}
