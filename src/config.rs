//! Run-time settings, from CLI flags and the environment (see the README).

use std::time::Duration;

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
