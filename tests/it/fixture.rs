//! A standardisation meeting ready for a test: the reference paper, two
//! scripts, a principal examiner, three examiners (one in a team), two team
//! leaders, an examiner of another meeting, and an administrator, each with
//! an API token and a signed-in browser-like client.

use serde_json::{Value, json};
use standardise::users::User;
use uuid::Uuid;

use crate::helpers::*;

/// One person in the scenario.
pub struct Person {
    pub user: User,
    pub api: Api,
    pub web: Client,
}

pub struct MeetingFixture {
    pub app: TestApp,
    pub paper: Uuid,
    pub meeting: Uuid,
    pub admin: Person,
    pub pe: Person,
    /// Examiners 1 and 2 are in no team; examiner 3 is in team leader 1's team.
    pub examiners: Vec<Person>,
    /// Team leader of examiner 3.
    pub leader: Person,
    /// A team leader with an empty team.
    pub other_leader: Person,
    /// An examiner of a different meeting.
    pub outsider: Person,
    /// (response id, candidate, question), in marking order.
    pub responses: Vec<(Uuid, String, String)>,
}

/// An account signed in through the pages, with an API token.
pub async fn person(app: &TestApp, email: &str, name: &str, admin: bool) -> Person {
    let user = app.user(email, name, admin, PASSWORD).await;
    let api = app.api(&app.token_for(&user).await);
    let web = app.client();
    web.sign_in(email, PASSWORD).await;
    Person { user, api, web }
}

impl MeetingFixture {
    /// Sets up the scenario and opens the meeting for marking.
    pub async fn open() -> MeetingFixture {
        let f = Self::setup().await;
        let r = f.pe.api.post_json(&format!("/api/v1/meetings/{}/open", f.meeting), &json!({})).await;
        assert_eq!(r.status(), 200, "PE opens the meeting");
        f
    }

    /// Sets up the scenario, leaving the meeting in setup.
    pub async fn setup() -> MeetingFixture {
        let app = spawn_app().await;
        let admin = person(&app, "admin@board.example", "Ada Admin", true).await;
        let paper = app.sample_paper().await;
        let csv = "candidate,question,response\n\
                   0001,01,Source A shows hostility; Source B is propaganda.\n\
                   0001,02,Collectivisation created collective farms but not socialism.\n\
                   0002,01,Both sources talk about peasants.\n\
                   0002,02,It was very successful.\n\
                   0003,01,Another practice answer.\n";
        let form =
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("s.csv"));
        assert_eq!(admin.web.post_multipart(&format!("/papers/{paper}/scripts/bulk"), form).await.status(), 303);
        let scripts: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, candidate FROM scripts ORDER BY candidate").fetch_all(&app.db.pool).await.unwrap();

        let pe = person(&app, "pe@board.example", "Priya Principal", false).await;
        let mut examiners = Vec::new();
        for (i, name) in ["Eve Examiner", "Ed Examiner", "Em Examiner"].iter().enumerate() {
            examiners.push(person(&app, &format!("ex{}@board.example", i + 1), name, false).await);
        }
        let leader = person(&app, "tl@board.example", "Tom Leader", false).await;
        let other_leader = person(&app, "tl2@board.example", "Tara Leader", false).await;
        let outsider = person(&app, "out@board.example", "Otto Outsider", false).await;

        let body = json!({
            "paper_id": paper,
            "name": "Sample history paper standardisation",
            "principal_examiner": "pe@board.example",
            "examiners": ["ex1@board.example", "ex2@board.example"],
            "team_leaders": [{"email": "tl@board.example", "team": ["ex3@board.example"]}, {"email": "tl2@board.example", "team": []}],
            "scripts": [
                {"script_id": scripts[0].0, "purpose": "practice"},
                {"script_id": scripts[1].0, "purpose": "practice"},
            ],
            "tolerances": {"02": 3},
        });
        let r = admin.api.post_json("/api/v1/meetings", &body).await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        let meeting: Value = r.json().await.unwrap();
        let meeting = Uuid::parse_str(meeting["id"].as_str().unwrap()).unwrap();

        // The outsider takes part in another meeting of the same paper.
        let other = json!({"paper_id": paper, "name": "Another meeting", "principal_examiner": "pe@board.example",
                           "examiners": ["out@board.example"], "scripts": [{"script_id": scripts[2].0, "purpose": "practice"}]});
        assert_eq!(admin.api.post_json("/api/v1/meetings", &other).await.status(), 201);

        let responses: Vec<(Uuid, String, String)> = sqlx::query_as(
            "SELECT r.id, s.candidate, q.number FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
             JOIN responses r ON r.script_id = s.id JOIN questions q ON q.id = r.question_id
             WHERE ms.meeting_id = $1 ORDER BY ms.position, q.position",
        )
        .bind(meeting)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(responses.len(), 4);
        MeetingFixture { app, paper, meeting, admin, pe, examiners, leader, other_leader, outsider, responses }
    }

    pub fn url(&self, path: &str) -> String {
        format!("/api/v1/meetings/{}{path}", self.meeting)
    }

    /// A PUT with a JSON body through someone's API client.
    pub async fn put(&self, who: &Person, path: &str, body: Value) -> reqwest::Response {
        who.api.http.put(format!("{}{}", who.api.base, self.url(path))).bearer_auth(&who.api.token).json(&body).send().await.unwrap()
    }

    pub async fn post(&self, who: &Person, path: &str, body: Value) -> reqwest::Response {
        who.api.post_json(&self.url(path), &body).await
    }

    pub async fn get(&self, who: &Person, path: &str) -> reqwest::Response {
        who.api.get(&self.url(path)).await
    }

    /// Number of audit entries of the meeting.
    pub async fn audit_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE meeting_id = $1")
            .bind(self.meeting)
            .fetch_one(&self.app.db.pool)
            .await
            .unwrap()
    }
}
