//! Run-time settings, from CLI flags and the environment (see the README).
//! The flags are declared here, beside what they set, so the command line and
//! the server share one definition.

use std::{path::PathBuf, time::Duration};

use clap::{ArgAction, Args, builder::BoolishValueParser};

/// Settings the web application needs while serving requests.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark the session cookie `Secure` (set when served over https).
    pub secure_cookies: bool,
    /// Sign a browser session out after this long without a request.
    pub session_idle: Duration,
    /// Largest ordinary request body (forms, JSON).
    pub body_limit: usize,
    /// Largest upload (mark-scheme documents, script files, ZIPs).
    pub upload_limit: usize,
    /// Requests taking longer than this are stopped with 408.
    pub request_timeout: Duration,
    /// Failed sign-ins allowed per account within `login_window` before refusing.
    pub login_max_failures: i64,
    /// The window for counting failed sign-ins.
    pub login_window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            session_idle: Duration::from_secs(8 * 60 * 60),
            body_limit: 2 * 1024 * 1024,
            upload_limit: 20 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
        }
    }
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL URL; when unset, standardise finds a local server or starts its own.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Folder for standardise's own PostgreSQL cluster, used when no server is found.
    #[arg(long, env = "STANDARDISE_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
}

/// How to serve.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "STANDARDISE_BIND", default_value = "127.0.0.1:3000", global = true)]
    pub bind: String,
    /// Mark the session cookie Secure (set this when standardise is served over https).
    #[arg(long, env = "STANDARDISE_SECURE_COOKIES", global = true, action = ArgAction::Set,
          num_args = 0..=1, default_value = "false", default_missing_value = "true",
          value_parser = BoolishValueParser::new())]
    pub secure_cookies: bool,
    /// Minutes without a request after which a browser session ends.
    #[arg(long, env = "STANDARDISE_SESSION_IDLE_MINUTES", default_value_t = 480, global = true)]
    pub session_idle_minutes: u64,
    /// Email of the administrator created on the first start.
    #[arg(long, env = "STANDARDISE_ADMIN_EMAIL", default_value = "admin@example.com", global = true)]
    pub admin_email: String,
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "STANDARDISE_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}
