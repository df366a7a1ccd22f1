//! A real Postfix on 127.0.0.1 for the outbox tests, from a fresh temporary directory: submission
//! on an unprivileged port with STARTTLS required and AUTH PLAIN/LOGIN through Dovecot SASL (an
//! auth-only Dovecot instance of its own), delivering into Maildirs with the `virtual` agent.
//! Recipients listed in `deliver` get the mail; those in `defer` are answered 451 at RCPT;
//! any other address in the served domains is answered 550 (unknown user).
//!
//! Facts that shaped it: the queue lives outside the configuration directory (Postfix fails
//! silently otherwise); logs go to `maillog_file` under an allowed prefix; every process is started
//! with its output redirected (an inherited stdout makes a test pipe hang); only this instance is
//! stopped (`postfix -c DIR stop`, Dovecot by its own pid file).

use super::free_port;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const USER: &str = "marac-sender";
pub const PASSWORD: &str = "submission-password";

pub struct Postfix {
    pub dir: PathBuf,
    /// Submission with STARTTLS required.
    pub port: u16,
    /// Submission over implicit TLS (as on 465).
    pub smtps_port: u16,
    pub ca_file: PathBuf,
    pub password_file: PathBuf,
    pub log: PathBuf,
    etc: PathBuf,
    dovecot_conf: PathBuf,
}


fn id_of(user: &str, flag: &str) -> u32 {
    let out = Command::new("id").arg(flag).arg(user).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("no system user {user}"))
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn quiet(cmd: &mut Command, out: &Path) -> std::process::ExitStatus {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(out).unwrap();
    cmd.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log).status().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

const MASTER_CF: &str = "\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

impl Postfix {
    /// Starts Postfix and its SASL Dovecot. `deliver` and `defer` are full addresses; their
    /// domains are the domains served.
    pub fn start(deliver: &[&str], defer: &[&str], ca: (PathBuf, PathBuf, PathBuf)) -> Postfix {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!("marac-postfix-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o755);
        let (ca_file, crt, key) = ca;
        let (port, smtps_port) = (free_port(), free_port());
        let d = dir.display().to_string();
        let (etc, mail) = (dir.join("etc"), dir.join("mail"));
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(&mail).unwrap();
        let (uid, gid) = (id_of("mail", "-u"), id_of("mail", "-g"));
        std::os::unix::fs::chown(&mail, Some(uid), Some(gid)).unwrap();
        set_mode(&mail, 0o755);
        // `postfix start` enters the queue directory before it creates anything in it.
        let (queue, data) = (dir.join("queue"), dir.join("data"));
        std::fs::create_dir_all(&queue).unwrap();
        set_mode(&queue, 0o755);
        std::fs::create_dir_all(&data).unwrap();
        std::os::unix::fs::chown(&data, Some(id_of("postfix", "-u")), Some(id_of("postfix", "-g"))).unwrap();

        let mut domains: Vec<&str> = deliver.iter().chain(defer).filter_map(|a| a.rsplit_once('@').map(|x| x.1)).collect();
        domains.sort();
        domains.dedup();
        let vmailbox: String = deliver.iter().map(|a| format!("{a} {}/Maildir/\n", a.to_ascii_lowercase())).collect();
        std::fs::write(dir.join("vmailbox"), vmailbox).unwrap();
        let access: String = defer.iter().map(|a| format!("{a} 451 4.3.0 Try again later (test)\n")).collect();
        std::fs::write(dir.join("access"), access).unwrap();

        std::fs::write(
            etc.join("main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.marac-test.example.test
mydomain = marac-test.example.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
biff = no
smtputf8_enable = no
maillog_file = {d}/postfix.log
maillog_file_prefixes = {d}
virtual_mailbox_domains = {domains}
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = texthash:{d}/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
smtpd_tls_cert_file = {crt}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {d}/auth
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access texthash:{d}/access, permit
",
                domains = domains.join(" "),
                crt = crt.display(),
                key = key.display(),
            ),
        )
        .unwrap();
        std::fs::write(etc.join("master.cf"), format!("127.0.0.1:{port} inet n - n - - smtpd\n127.0.0.1:{smtps_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n{MASTER_CF}")).unwrap();

        let passwd = dir.join("passwd");
        std::fs::write(&passwd, format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n")).unwrap();
        set_mode(&passwd, 0o644);
        let password_file = dir.join("password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        let dovecot_conf = dir.join("dovecot-auth.conf");
        std::fs::write(
            &dovecot_conf,
            format!(
                "instance_name = marac-sasl-{port}
base_dir = {d}/dovecot-run
state_dir = {d}/dovecot-state
protocols = none
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home=/nonexistent
}}
service auth {{
  unix_listener {d}/auth {{
    mode = 0666
  }}
}}
",
                passwd = passwd.display()
            ),
        )
        .unwrap();
        let pf = Postfix { log: dir.join("postfix.log"), dir, port, smtps_port, ca_file, password_file, etc, dovecot_conf };
        let status = quiet(Command::new("dovecot").arg("-c").arg(&pf.dovecot_conf), &pf.dir.join("dovecot.stdout"));
        assert!(status.success(), "the SASL dovecot did not start; see {}", pf.dir.display());
        pf.launch();
        pf
    }

    /// Starts this instance's master and waits until submission answers.
    pub fn launch(&self) {
        let status = quiet(Command::new("postfix").arg("-c").arg(&self.etc).arg("start"), &self.dir.join("postfix.stdout"));
        assert!(status.success(), "postfix did not start; see {}", self.dir.display());
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() || std::net::TcpStream::connect(("127.0.0.1", self.smtps_port)).is_err() {
            assert!(Instant::now() < deadline, "postfix did not listen within 30 s; see {}", self.dir.display());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops this instance only, and waits until the port is closed.
    pub fn stop(&self) {
        quiet(Command::new("postfix").arg("-c").arg(&self.etc).arg("stop"), &self.dir.join("postfix.stdout"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "postfix did not stop within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The messages delivered to `address`'s Maildir so far.
    pub fn delivered(&self, address: &str) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let d = self.dir.join("mail").join(address.to_ascii_lowercase()).join("Maildir").join(sub);
            if let Ok(entries) = std::fs::read_dir(&d) {
                for e in entries.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }

    /// Waits (bounded) until `address` holds `n` messages; returns them.
    pub fn wait_for(&self, address: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.delivered(address);
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        quiet(Command::new("postfix").arg("-c").arg(&self.etc).arg("stop"), &self.dir.join("postfix.stdout"));
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("dovecot-run").join("master.pid")) {
            let _ = Command::new("kill").arg("-TERM").arg(pid.trim()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
            let proc = PathBuf::from(format!("/proc/{}", pid.trim()));
            let deadline = Instant::now() + Duration::from_secs(10);
            while proc.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let master = PathBuf::from(format!("/proc/{}", std::fs::read_to_string(self.dir.join("queue/pid/master.pid")).unwrap_or_default().trim()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while master.exists() && master != Path::new("/proc/") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
