//! The command line: the first start, accounts and tokens made from a shell.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::Duration,
};

use crate::helpers::*;

fn standardise(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_standardise"));
    c.env("DATABASE_URL", database_url(&db.options)).env("RUST_LOG", "warn");
    c
}

struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_first_start_prints_a_one_time_administrator_password_once() {
    let db = TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = std::env::temp_dir().join(format!("standardise-first-{}.txt", uuid::Uuid::new_v4().simple()));
    let child = standardise(&db)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--admin-email", "chief@board.example"])
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server answers /healthz");
    let printed = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert!(printed.contains("First start: an administrator account was created."), "{printed}");
    assert!(printed.contains("email:    chief@board.example"));
    let secret = printed.split("password: ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_owned();
    assert_eq!(secret.len(), 16);

    // It works once, and must be replaced first.
    let c =
        Client { http: reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap(), base };
    let r = c.sign_in_response("chief@board.example", &secret).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/password");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users").fetch_one(&db.pool).await.unwrap();
    assert!(hash.starts_with("$argon2") && !hash.contains(&secret), "only an argon2 hash is stored");
}

#[tokio::test]
async fn accounts_and_tokens_from_the_command_line() {
    let db = TestDb::new().await;
    let ok = |c: &mut Command| {
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(ok(standardise(&db).arg("migrate")).contains("Migrations applied."));

    let mut add = standardise(&db)
        .args(["user", "add", "--email", "Board@Example.org", "--name", "Board System", "--admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"a long enough secret\n").unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created Board System <board@example.org> (administrator)."));

    let printed = ok(standardise(&db).args(["user", "add", "--email", "pe@example.org", "--name", "Pat"]));
    assert!(printed.contains("One-time password: "), "{printed}");

    let token = ok(standardise(&db).args(["token", "create", "--email", "board@example.org", "--name", "uploader"])).trim().to_owned();
    assert!(token.starts_with("std_"));
    let (addr, _server) = serve(db.pool.clone(), test_config()).await;
    let api = Api { http: reqwest::Client::new(), base: format!("http://{addr}"), token: token.clone() };
    let me: serde_json::Value = api.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me, serde_json::json!({"email": "board@example.org", "name": "Board System", "admin": true}));

    let browser = Client {
        http: reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        base: format!("http://{addr}"),
    };
    let r = browser.sign_in_response("board@example.org", "a long enough secret").await;
    assert_eq!(location(&r), "/", "a password given on stdin is not a one-time password");

    assert!(
        ok(standardise(&db).args(["token", "revoke", "--email", "board@example.org", "--name", "uploader"])).contains("Revoked 1 token")
    );
    assert_eq!(api.get("/api/v1/me").await.status(), 401);

    // Mistakes are refused with a reason and a failing exit code.
    let out = standardise(&db).args(["user", "add", "--email", "board@example.org", "--name", "Again"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = standardise(&db).args(["token", "create", "--email", "nobody@example.org"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no active account"));
}
