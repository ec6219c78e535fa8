//! The API's OpenAPI description: served without a token, OpenAPI 3, and
//! listing exactly the routes of the README's API table, so the README, the
//! document and (through utoipa-axum, which registers each route with its
//! description) the router cannot disagree.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::*;

const README: &str = include_str!("../../README.md");

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `(METHOD, path)` for every endpoint the README's API table names. A cell
/// names endpoints in backticks: `` `POST /api/v1/meetings/{id}/open` `` in full;
/// `` `.../close` `` for the same method on a sibling of the path before it; and
/// `` (and `/audit.csv`) `` for the same method on a path that extends the one
/// before it: its last segment (`/audit` → `/audit.csv`) or, when the suffix
/// does not begin with that segment, after it (`/versions/{n}` → `/versions/{n}/document`).
fn readme_endpoints() -> BTreeSet<(String, String)> {
    let section = README.split("## The API").nth(1).expect("the README has an API section");
    let mut found = BTreeSet::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let Some(cell) = line.strip_prefix("| `").map(|rest| rest.split(" | ").next().unwrap_or(rest)) else {
            continue;
        };
        let cell = format!("`{cell}");
        let mut last: Option<(String, String)> = None;
        for (i, quoted) in cell.split('`').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let (method, path) = match quoted.split_once(' ') {
                Some((m, p)) if METHODS.contains(&m) => (m.to_owned(), p.to_owned()),
                _ => {
                    let (method, before) = last.clone().unwrap_or_else(|| panic!("`{quoted}` follows no endpoint in: {line}"));
                    let base = before.rsplit_once('/').map_or("", |(b, _)| b);
                    let segment = before.rsplit('/').next().unwrap_or("");
                    let path = if let Some(sibling) = quoted.strip_prefix("...") {
                        format!("{base}{sibling}")
                    } else if quoted.strip_prefix('/').is_some_and(|q| q.starts_with(segment) && !segment.starts_with('{')) {
                        format!("{base}{quoted}")
                    } else {
                        format!("{before}{quoted}")
                    };
                    (method, path)
                }
            };
            // `/impact?mark=N`: the query is the operation's parameter, not its path.
            let path = path.split('?').next().unwrap_or_default().to_owned();
            assert!(path.starts_with('/'), "not a path: `{quoted}` in {line}");
            found.insert((method.clone(), path.clone()));
            last = Some((method, path));
        }
    }
    found
}

/// `(METHOD, path)` for every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|k| METHODS.contains(&k.to_uppercase().as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Every `$ref` in `value`, wherever it is.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_readme_table_is_read_whole() {
    let endpoints = readme_endpoints();
    for expected in [
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/meetings/{id}/close"),
        ("GET", "/api/v1/meetings/{id}/audit.csv"),
        ("GET", "/api/v1/meetings/{id}/record.md"),
        ("GET", "/api/v1/papers/{id}/versions/{n}/document"),
        ("POST", "/api/v1/meetings/{id}/release"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/healthz"),
    ] {
        assert!(endpoints.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {endpoints:#?}");
    }
    assert!(endpoints.len() > 40, "{endpoints:#?}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_of_the_readme() {
    let app = spawn_app().await;

    // No token needed for the document itself.
    let r = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "OpenAPI 3.x: {}", doc["openapi"]);

    // The README's table and the document name the same endpoints, with the
    // parameters' names as the document has them (the README writes `{n}` and
    // `{rid}` for short).
    let normalise = |p: &str| p.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/");
    let readme: BTreeSet<(String, String)> = readme_endpoints().into_iter().map(|(m, p)| (m, normalise(&p))).collect();
    let document: BTreeSet<(String, String)> = documented(&doc).into_iter().map(|(m, p)| (m, normalise(&p))).collect();
    let missing: Vec<_> = readme.difference(&document).collect();
    assert!(missing.is_empty(), "in the README's API table but not in the document: {missing:#?}");
    let unlisted: Vec<_> = document.difference(&readme).collect();
    assert!(unlisted.is_empty(), "in the document but not in the README's API table: {unlisted:#?}");

    // Every reference resolves, and errors share the one body.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("a local reference: {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} resolves");
    }
    assert!(doc.pointer("/components/schemas/ErrorBody/properties/error").is_some());
    for name in [
        "BadRequest",
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "Conflict",
        "PayloadTooLarge",
        "UnsupportedMediaType",
        "Invalid",
        "Unavailable",
    ] {
        let schema = &doc["components"]["responses"][name]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(schema, "#/components/schemas/ErrorBody", "{name}");
    }

    // Bearer tokens everywhere, but for the document and the health check.
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(doc["security"][0]["bearer"], serde_json::json!([]));
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let open = matches!(path.as_str(), "/api/v1/openapi.json" | "/healthz");
            let anonymous = op["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
            assert_eq!(anonymous, open, "{method} {path}: security {}", op["security"]);
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} describes its success");
            if !open {
                assert!(responses.contains_key("401"), "{method} {path} can answer 401");
            }
        }
    }

    // The document is the one the code makes.
    let made = serde_json::to_value(standardise::api::openapi::document()).unwrap();
    assert_eq!(doc, made);
}
