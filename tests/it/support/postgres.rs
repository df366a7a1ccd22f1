//! A real PostgreSQL for the tests: Debian's server (`postgresql`, which `.ci/run` installs), a
//! cluster made by `initdb` in a scratch directory and started by `pg_ctl` on 127.0.0.1 at a free
//! port, trusted for local connections only, stopped and removed when dropped. `initdb` refuses to
//! run as root, so as root the cluster is the `postgres` user's (`runuser`). None when the server
//! is not installed: the tests that need it then say so and pass on SQLite alone.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The directory of Debian's PostgreSQL server programs, the newest installed.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|b| b.join("initdb").exists()).collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// A fresh cluster, or None when PostgreSQL is not installed here.
    pub fn start(name: &str) -> Option<Postgres> {
        let Some(bin) = server_bin() else {
            eprintln!("PostgreSQL is not installed (Debian's postgresql): the PostgreSQL half of this test is skipped");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("marac-pg-{name}-{}-{}", std::process::id(), super::free_port()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap().success();
            assert!(ok, "chown {} to postgres", dir.display());
        }
        let pg = Postgres { dir, bin, port: super::free_port(), as_postgres };
        let data = pg.dir.join("data");
        pg.run("initdb", &["-D", &data.display().to_string(), "-U", "marac", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off", pg.port, pg.dir.display());
        pg.run("pg_ctl", &["-D", &data.display().to_string(), "-o", &opts, "-l", &pg.dir.join("log").display().to_string(), "-w", "-t", "60", "start"]);
        Some(pg)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let out = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).current_dir(&self.dir).output()
        } else {
            Command::new(&exe).args(args).current_dir(&self.dir).output()
        }
        .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(out.status.success(), "{program} {args:?}: {}{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr), self.log());
    }

    /// The server's log so far (for a failure's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://marac@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database `db`: its URL.
    pub async fn database(&self, db: &str) -> String {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres")).await.unwrap_or_else(|e| panic!("connecting to the test cluster: {e}\n{}", self.log()));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        self.url(db)
    }

    /// Stops the server at once (as a crash would) and starts it again on the same port and data.
    pub fn restart(&self) {
        self.stop_now();
        self.start_again();
    }

    /// Stops the server at once, as a crash would.
    pub fn stop_now(&self) {
        let data = self.dir.join("data").display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts a stopped server again on the same port and data.
    pub fn start_again(&self) {
        let data = self.dir.join("data").display().to_string();
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off", self.port, self.dir.display());
        self.run("pg_ctl", &["-D", &data, "-o", &opts, "-l", &self.dir.join("log").display().to_string(), "-w", "-t", "60", "start"]);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let exe = self.bin.join("pg_ctl");
        let _ = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"]).output()
        } else {
            Command::new(&exe).args(["-D", &data, "-m", "immediate", "-w", "-t", "30", "stop"]).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
