//! The server under test, in a process of its own, and the HTTP client the
//! load generator speaks to it with (hyper-util's, which axum already brings
//! in: no second HTTP stack in the binary).

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use axum::{
    body::Bytes,
    http::{Method, Request, StatusCode, header},
};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde_json::Value;

use super::figures::{self, Ticks, status_kb};

/// Longest the load generator waits for one answer (the server gives up at 30 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `standardise serve` on a free port of 127.0.0.1, on the scratch database.
pub struct ServerProcess {
    child: tokio::process::Child,
    pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
}

/// The server's memory, from `/proc/{pid}/status`, in kB.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss_kb: u64,
    /// The most it has been resident (`VmHWM`).
    pub peak_kb: u64,
}

impl ServerProcess {
    /// Starts this same binary as `serve` and waits until `/healthz` answers.
    pub async fn start(database_url: &str) -> anyhow::Result<ServerProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let exe = std::env::current_exe().context("finding this program to start the server")?;
        let log = std::env::temp_dir().join(format!("standardise-bench-load-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = tokio::process::Command::new(exe)
            .args(["serve", "--bind", &addr.to_string()])
            .env("DATABASE_URL", database_url)
            .stdin(Stdio::null())
            // It prints the first administrator's password: nobody needs it here.
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .context("starting the server")?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = ServerProcess { child, pid, addr, log };
        let api = Api::new(addr);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server stopped ({status}) before answering:\n{}", server.log_tail());
            }
            if api.get("/healthz", None).await.status == Some(StatusCode::OK) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("the server did not answer /healthz within 60 s:\n{}", server.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Its memory now; None if `/proc` cannot say (not Linux, or it has exited).
    pub fn memory(&self) -> Option<Memory> {
        memory_of(self.pid)
    }

    /// The end of its log, to explain a failure.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops it (it holds nothing worth a graceful shutdown) and removes its log.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_file(&self.log);
    }
}

/// What a request came to.
pub struct Reply {
    /// From sending it to having read the whole answer, in milliseconds.
    pub ms: f64,
    /// The status, or None when there was no answer.
    pub status: Option<StatusCode>,
    /// The answer's body, or what went wrong.
    pub body: Result<Bytes, String>,
}

impl Reply {
    /// Answered with 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.is_success()) && self.body.is_ok()
    }

    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(self.body.as_ref().ok()?).ok()
    }

    /// Why it failed, in one line.
    pub fn failure(&self) -> String {
        let body = match &self.body {
            Ok(b) => String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned(),
            Err(e) => e.clone(),
        };
        match self.status {
            Some(s) => format!("{s}: {body}"),
            None => body,
        }
    }
}

/// The memory of process `pid`; None if `/proc` cannot say.
pub fn memory_of(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Memory { rss_kb: status_kb(&status, "VmRSS")?, peak_kb: status_kb(&status, "VmHWM")? })
}

/// CPU ticks used so far by process `pid` (`self` for this one).
pub fn ticks_of(pid: &str) -> Option<u64> {
    figures::process_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?, false)
}

/// CPU ticks so far of the server (`pid`, if running), this process, PostgreSQL and the machine.
pub fn ticks(server_pid: Option<u32>) -> Option<Ticks> {
    let (busy, total) = figures::machine_ticks(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let mut postgres = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let is_pid = entry.file_name().to_str().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if let Some(stat) = is_pid.then(|| std::fs::read_to_string(entry.path().join("stat")).ok()).flatten()
            && figures::process_name(&stat) == Some("postgres")
        {
            // With the backends that ended meanwhile, which the postmaster has collected.
            postgres += figures::process_ticks(&stat, true).unwrap_or(0);
        }
    }
    let server = match server_pid {
        Some(pid) => ticks_of(&pid.to_string())?,
        None => 0,
    };
    Some(Ticks { server, generator: ticks_of("self")?, postgres, busy, total })
}

/// The 1-minute load average, to show how busy the machine already was.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// A client of the server under test, sharing connections between requests.
#[derive(Clone)]
pub struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl Api {
    /// A client of the server at `addr`.
    pub fn new(addr: SocketAddr) -> Api {
        let mut connector = HttpConnector::new();
        // Small requests and answers: send each at once.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Api { client, base: format!("http://{addr}") }
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(json.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        builder.body(body).map_err(|e| e.to_string())
    }

    async fn send(&self, request: Result<Request<Full<Bytes>>, String>) -> Reply {
        let started = Instant::now();
        let exchange = async {
            let response = self.client.request(request?).await.map_err(|e| format!("no answer: {e}"))?;
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).map_err(|e| format!("answer cut short: {e}"));
            Ok::<_, String>((status, body))
        };
        let (status, body) = match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Ok((status, body))) => (Some(status), body),
            Ok(Err(e)) => (None, Err(e)),
            Err(_) => (None, Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))),
        };
        Reply { ms: started.elapsed().as_secs_f64() * 1e3, status, body }
    }

    /// `GET path`, with the bearer token if given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::GET, path, token, None)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.request(Method::PUT, path, Some(token), Some(body))).await
    }

    /// Opens a Server-Sent Events stream; returns its body once the server has
    /// answered 200, to be read frame by frame.
    pub async fn open_stream(&self, path: &str, token: &str) -> Result<axum::body::Body, String> {
        let request = self.request(Method::GET, path, Some(token), None)?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| "no answer".to_owned())?
            .map_err(|e| format!("no answer: {e}"))?;
        if response.status() != StatusCode::OK {
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        Ok(axum::body::Body::new(response.into_body()))
    }
}
