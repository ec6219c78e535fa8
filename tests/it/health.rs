//! The health check, and surviving the database going away and coming back.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::{net::TcpListener, task::AbortHandle};

use crate::helpers::*;

#[tokio::test]
async fn healthz_is_200_when_the_database_answers() {
    let app = spawn_app().await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn healthz_is_503_when_there_is_no_database() {
    // Nothing listens on this port: the pool never gets a connection.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy_with(PgConnectOptions::new().host("127.0.0.1").port(port).username("nobody"));
    let (addr, _server) = serve(pool, test_config()).await;
    let r = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");

    let r = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/me"))
        .bearer_auth("std_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "an outage is 503, not 500 or a crash");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

/// A TCP relay to the real PostgreSQL that can be cut and restored, to play
/// the database going away and coming back.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Relay {
    async fn start(upstream: PgConnectOptions) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropping the socket refuses the connection
                }
                let host = upstream.get_host().to_owned();
                let pg_port = upstream.get_port();
                let task = tokio::spawn(async move {
                    if host.starts_with('/') {
                        let path = format!("{host}/.s.PGSQL.{pg_port}");
                        if let Ok(mut server) = tokio::net::UnixStream::connect(path).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    } else if let Ok(mut server) = tokio::net::TcpStream::connect((host.as_str(), pg_port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().unwrap().push(task.abort_handle());
            }
        });
        Relay { port, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn the_server_keeps_running_while_the_database_is_away_and_recovers() {
    let db = TestDb::new().await;
    let eve = {
        let hash = standardise::auth::password::hash(PASSWORD.into()).await.unwrap();
        standardise::users::create(
            &db.pool,
            standardise::users::NewUser {
                email: &standardise::users::Email::parse("eve@board.example").unwrap(),
                name: &standardise::users::DisplayName::parse("Eve").unwrap(),
                password_hash: &hash,
                is_admin: false,
                must_change_password: false,
            },
        )
        .await
        .unwrap()
    };
    let token = standardise::auth::tokens::create(&db.pool, eve.user_id(), "t").await.unwrap();

    let relay = Relay::start(db.options.clone()).await;
    let via_relay = PgConnectOptions::new().host("127.0.0.1").port(relay.port).username(db.options.get_username()).database(&db.name);
    let pool = PgPoolOptions::new().acquire_timeout(Duration::from_secs(1)).connect_lazy_with(via_relay);
    let (addr, _server) = serve(pool, test_config()).await;
    let http = reqwest::Client::new();
    let health = || http.get(format!("http://{addr}/healthz")).send();
    let me = || http.get(format!("http://{addr}/api/v1/me")).bearer_auth(&token).send();

    assert_eq!(health().await.unwrap().status(), 200);
    assert_eq!(me().await.unwrap().status(), 200);

    relay.cut();
    assert_eq!(health().await.unwrap().status(), 503);
    let r = me().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");

    relay.restore();
    let mut recovered = false;
    for _ in 0..40 {
        if health().await.unwrap().status() == 200 && me().await.unwrap().status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the same server answers again once the database is back");
}
