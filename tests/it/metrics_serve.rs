//! `marac-intake serve` answers on `[metrics] listen` as `run` does: `/healthz` (alive),
//! `/readyz` (for `serve`, the database alone) and `/metrics` with the database's gauges; on
//! PostgreSQL, stopping the server turns `/readyz` into a 503 that names the database and
//! `marac_database_up` to 0, and both come back with the server. On SQLite, then on PostgreSQL
//! when it is installed.

use crate::support::postgres::Postgres;
use crate::support::prometheus::{get, sample};
use crate::support::TestDb;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Polls `check` every 100 ms until it holds, at most `within`.
fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_serve_answers_health_readiness_and_metrics_and_readiness_follows_the_database() {
    let pg = Postgres::start("metrics_serve");
    for pg in [None, pg.as_ref()] {
        let db = TestDb::new(pg, "metrics_serve").await;
        db.open().await.close().await;
        let log = db.scratch.path().join("serve.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = db.command(&["serve", "--listen", "127.0.0.1:0"]);
        cmd.env("MARAC__METRICS__LISTEN", "127.0.0.1:0").env("MARAC_LOG", "info").stdin(Stdio::null()).stdout(Stdio::null()).stderr(out);
        let _serve = Killed(cmd.spawn().expect("serve starts"));
        let text = || std::fs::read_to_string(&log).unwrap_or_default();
        let said = "The metrics endpoint is listening. url=http://";
        assert!(eventually(Duration::from_secs(30), || text().contains(said)), "the metrics address is logged:\n{}", text());
        let addr = text().split(said).nth(1).and_then(|l| l.split_whitespace().next()).unwrap().to_owned();

        assert_eq!(get(&addr, "/healthz"), Some((200, "alive\n".to_owned())));
        assert_eq!(get(&addr, "/readyz"), Some((200, "ready\n".to_owned())), "serve is ready with its database alone");
        let (status, metrics) = get(&addr, "/metrics").unwrap();
        assert_eq!(status, 200);
        assert_eq!(sample(&metrics, "marac_database_up"), Some(1.0), "{metrics}");
        assert_eq!(sample(&metrics, "marac_outbox_rows{status=\"pending\"}"), Some(0.0), "{metrics}");
        assert_eq!(sample(&metrics, "marac_review_waiting"), Some(0.0), "{metrics}");
        assert!(metrics.contains("# TYPE marac_outbox_rows gauge"), "{metrics}");
        assert_eq!(get(&addr, "/nothing-here").map(|(s, _)| s), Some(404));

        if let Some(pg) = pg {
            pg.stop_now();
            let refused = eventually(Duration::from_secs(20), || get(&addr, "/readyz").is_some_and(|(s, body)| s == 503 && body.starts_with("not ready: database")));
            assert!(refused, "/readyz says the database is not reachable: {:?}", get(&addr, "/readyz"));
            assert_eq!(get(&addr, "/healthz").map(|(s, _)| s), Some(200), "alive all the same");
            let down = get(&addr, "/metrics").map(|(_, body)| body).unwrap_or_default();
            assert_eq!(sample(&down, "marac_database_up"), Some(0.0), "{down}");
            pg.start_again();
            assert!(eventually(Duration::from_secs(30), || get(&addr, "/readyz").is_some_and(|(s, _)| s == 200)), "ready again with the database back: {:?}", get(&addr, "/readyz"));
        }
    }
}
