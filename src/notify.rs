//! systemd's service notification protocol (`Type=notify`, `WatchdogSec=`): one datagram to the
//! socket named by `$NOTIFY_SOCKET`. Without that variable (not under systemd) every call does
//! nothing. No library: the protocol is one line per state.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Where notifications go, read once from the environment.
#[derive(Debug, Clone)]
pub struct Notifier {
    socket: Option<String>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` and `$WATCHDOG_USEC` (honoured only when `$WATCHDOG_PID` is unset
    /// or names this process).
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok().filter(|s| !s.is_empty());
        let for_us = std::env::var("WATCHDOG_PID").map_or(true, |p| p.trim() == std::process::id().to_string());
        let watchdog = std::env::var("WATCHDOG_USEC").ok().and_then(|u| u.trim().parse::<u64>().ok()).filter(|&u| u > 0 && for_us).map(Duration::from_micros);
        Notifier { socket, watchdog }
    }

    /// Start-up is done: systemd marks the unit active.
    pub fn ready(&self) -> std::io::Result<()> {
        self.send("READY=1")
    }

    /// The service is alive; due at least every [`Notifier::watchdog_interval`].
    pub fn watchdog(&self) -> std::io::Result<()> {
        self.send("WATCHDOG=1")
    }

    pub fn reloading(&self) -> std::io::Result<()> {
        self.send("RELOADING=1")
    }

    pub fn stopping(&self) -> std::io::Result<()> {
        self.send("STOPPING=1")
    }

    /// A one-line status for `systemctl status` (`STATUS=`); a line break would end the field,
    /// so the first line only.
    pub fn status(&self, line: &str) -> std::io::Result<()> {
        self.send(&format!("STATUS={}", line.lines().next().unwrap_or_default()))
    }

    /// Whether notifications go anywhere (under systemd).
    pub fn is_active(&self) -> bool {
        self.socket.is_some()
    }

    /// Half the watchdog timeout (systemd's advice), when the unit sets `WatchdogSec=`.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    fn send(&self, state: &str) -> std::io::Result<()> {
        let Some(path) = &self.socket else { return Ok(()) };
        let sock = UnixDatagram::unbound()?;
        if let Some(name) = path.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sock.send_to_addr(state.as_bytes(), &addr)?;
        } else {
            sock.send_to(state.as_bytes(), path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_reach_the_socket_and_nothing_happens_without_one() {
        let dir = std::env::temp_dir().join(format!("marac-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier { socket: Some(path.display().to_string()), watchdog: Some(Duration::from_secs(60)) };
        n.ready().unwrap();
        n.watchdog().unwrap();
        n.status("watching 1 mailbox; 3 decided\nsecond line").unwrap();
        let mut buf = [0u8; 64];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STATUS=watching 1 mailbox; 3 decided");
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(30)));
        let none = Notifier { socket: None, watchdog: None };
        none.ready().unwrap();
        assert_eq!(none.watchdog_interval(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
