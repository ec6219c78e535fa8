//! Finding a PostgreSQL server with no configuration.
//!
//! Order (the Foundation issue): `DATABASE_URL`; a server already running
//! locally (unix socket, then 127.0.0.1:5432; as the current OS user, then as
//! `postgres`); a private cluster that standardise manages under a data folder;
//! otherwise one clear message naming the fixes.

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::Command,
    str::FromStr,
    time::Duration,
};

use anyhow::{Context, bail};
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

const LOCAL_SOCKET_DIR: &str = "/var/run/postgresql";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A PostgreSQL server that standardise can create databases on.
#[derive(Debug)]
pub struct Server {
    /// How to reach the server's maintenance database (`postgres`).
    pub admin: PgConnectOptions,
    /// Said in the log: which server was chosen and why.
    pub description: String,
    /// Set when standardise started a private cluster and must stop it.
    pub cluster: Option<PrivateCluster>,
}

/// A private cluster standardise started with `pg_ctl`.
#[derive(Debug, Clone)]
pub struct PrivateCluster {
    data_dir: PathBuf,
    pg_ctl: PathBuf,
    as_postgres_user: bool,
}

impl PrivateCluster {
    /// Stops the cluster cleanly (`pg_ctl stop -m fast`); called on shutdown.
    pub fn stop(&self) {
        let status = self.command(&self.pg_ctl).arg("-D").arg(&self.data_dir).args(["-m", "fast", "-w", "stop"]).status();
        match status {
            Ok(s) if s.success() => tracing::info!(dir = %self.data_dir.display(), "stopped private PostgreSQL cluster"),
            Ok(s) => tracing::warn!(%s, "pg_ctl stop did not succeed"),
            Err(e) => tracing::warn!(error = %e, "could not run pg_ctl stop"),
        }
    }

    fn command(&self, program: &Path) -> Command {
        command_as(program, self.as_postgres_user)
    }
}

/// Runs `program` directly, or as the `postgres` OS user when we are root
/// (PostgreSQL refuses to run as root).
fn command_as(program: &Path, as_postgres_user: bool) -> Command {
    if as_postgres_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Finds a server: a local one if one answers, else a private cluster under
/// `data_dir`. Does not look at `DATABASE_URL` (the caller does).
pub async fn find_server(data_dir: &Path) -> anyhow::Result<Server> {
    if let Some(server) = find_local().await {
        return Ok(server);
    }
    match start_private(data_dir).await {
        Ok(server) => Ok(server),
        Err(err) => bail!(
            "standardise could not find or start PostgreSQL ({err:#}).\n\
             Fix it in one of three ways:\n\
             \x20 1. install PostgreSQL (e.g. `apt-get install postgresql`): standardise uses a running local server, or starts its own from the installed binaries;\n\
             \x20 2. run `docker compose up -d db` in this folder, then set DATABASE_URL=postgres://standardise:standardise@127.0.0.1:5432/standardise;\n\
             \x20 3. set DATABASE_URL to any PostgreSQL 13+ database you can create tables in."
        ),
    }
}

fn current_os_user() -> Option<String> {
    std::env::var("USER").ok().or_else(|| std::env::var("LOGNAME").ok()).filter(|u| !u.is_empty()).or_else(|| {
        let out = Command::new("id").arg("-un").output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|u| !u.is_empty())
    })
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

async fn try_connect(options: &PgConnectOptions) -> bool {
    matches!(tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await, Ok(Ok(_)))
}

async fn find_local() -> Option<Server> {
    let mut users: Vec<String> = current_os_user().into_iter().collect();
    if !users.iter().any(|u| u == "postgres") {
        users.push("postgres".into());
    }
    let socket = Path::new(LOCAL_SOCKET_DIR).join(".s.PGSQL.5432");
    let mut hosts: Vec<&str> = Vec::new();
    if socket.exists() {
        hosts.push(LOCAL_SOCKET_DIR);
    }
    hosts.push("127.0.0.1");
    for host in hosts {
        for user in &users {
            let options = PgConnectOptions::new().host(host).port(5432).username(user).database("postgres").disable_statement_logging();
            if try_connect(&options).await {
                return Some(Server {
                    admin: options,
                    description: format!("local PostgreSQL at {host}:5432 as user {user}"),
                    cluster: None,
                });
            }
        }
    }
    None
}

/// `initdb`/`pg_ctl` from PATH, else the newest `/usr/lib/postgresql/*/bin`.
fn find_pg_bin(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin").join(name);
            bin.is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn run(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!("{what} failed: {}{}", String::from_utf8_lossy(&out.stdout).trim(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The port of a cluster that is already running, from its `postmaster.pid`.
fn running_port(data_dir: &Path, pg_ctl: &Path, as_postgres: bool) -> Option<u16> {
    let status = command_as(pg_ctl, as_postgres).arg("-D").arg(data_dir).arg("status").output().ok()?;
    if !status.status.success() {
        return None;
    }
    let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    pid_file.lines().nth(3)?.trim().parse().ok()
}

/// Starts (initialising on first use) a private cluster under `data_dir`.
pub async fn start_private(data_dir: &Path) -> anyhow::Result<Server> {
    let initdb = find_pg_bin("initdb").context("no initdb in PATH or /usr/lib/postgresql/*/bin")?;
    let pg_ctl = find_pg_bin("pg_ctl").context("no pg_ctl in PATH or /usr/lib/postgresql/*/bin")?;
    let as_postgres = running_as_root();
    if as_postgres && Command::new("id").arg("postgres").output().map(|o| !o.status.success()).unwrap_or(true) {
        bail!(
            "PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as: \
             create one (`useradd --system postgres`), or run standardise as an ordinary user"
        );
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let data_dir = data_dir.canonicalize()?;
    if as_postgres {
        let mut chown = Command::new("chown");
        chown.args(["-R", "postgres:postgres"]).arg(&data_dir);
        run(chown, "chown of the data folder to postgres")?;
    }
    if !data_dir.join("PG_VERSION").exists() {
        tracing::info!(dir = %data_dir.display(), "creating a private PostgreSQL cluster (initdb)");
        let mut cmd = command_as(&initdb, as_postgres);
        cmd.arg("-D").arg(&data_dir).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]);
        run(cmd, "initdb")?;
    }
    let port = match running_port(&data_dir, &pg_ctl, as_postgres) {
        Some(port) => port,
        None => {
            let port = free_port()?;
            let mut cmd = command_as(&pg_ctl, as_postgres);
            cmd.arg("-D")
                .arg(&data_dir)
                .arg("-l")
                .arg(data_dir.join("server.log"))
                .arg("-w")
                .arg("-o")
                .arg(format!("-p {port} -k {} -c listen_addresses=127.0.0.1", data_dir.display()))
                .arg("start");
            run(cmd, "pg_ctl start")?;
            port
        }
    };
    let admin = PgConnectOptions::new().host("127.0.0.1").port(port).username("postgres").database("postgres").disable_statement_logging();
    if !try_connect(&admin).await {
        bail!("the private cluster in {} started but does not answer on port {port}", data_dir.display());
    }
    Ok(Server {
        admin,
        description: format!("private PostgreSQL cluster in {} on 127.0.0.1:{port}", data_dir.display()),
        cluster: Some(PrivateCluster { data_dir, pg_ctl, as_postgres_user: as_postgres }),
    })
}

/// Creates database `name` on the server unless it exists.
pub async fn ensure_database(admin: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(admin).await.context("connecting to the maintenance database")?;
    let exists = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#, name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Database names cannot be bound as parameters, so this statement is
        // built at run time and cannot be checked at compile time (it names a
        // database that does not exist yet); `name` is checked to be a plain
        // identifier so it is safe to quote into the statement.
        anyhow::ensure!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?} must be letters, digits and underscores"
        );
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
    }
    Ok(())
}

/// Opens a pool. The short acquire timeout makes requests fail fast with 503
/// while the database is down, and the pool reconnects by itself afterwards.
///
/// Tuned for a small machine where PostgreSQL shares the cores: a handful of
/// connections per core keeps PostgreSQL busy without queueing inside it; no
/// ping before each checkout (a broken connection fails its statement, which
/// is answered 503 and the connection dropped); and the server ends any
/// transaction left idle for 10 s, so a connection stranded by a cancelled
/// request can never hold locks for long.
pub async fn pool(options: PgConnectOptions) -> anyhow::Result<PgPool> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let options = options.options([("idle_in_transaction_session_timeout", "10s")]);
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from((cores * 4).clamp(8, 32)).unwrap_or(8))
        .min_connections(2)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
        .context("connecting to the database")?;
    Ok(pool)
}

/// Parses a `DATABASE_URL`.
pub fn options_from_url(url: &str) -> anyhow::Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?.disable_statement_logging())
}
