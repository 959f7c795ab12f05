//! `/api/api-keys` over HTTP: the secret is shown once, listings never carry it, validation
//! errors name the field, and nobody hands out a role above their own.

use compliance_domain::plans::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::spawn_app;

const KEYS: &str = "/api/api-keys";

#[tokio::test]
async fn create_list_revoke() {
    let app = spawn_app().await;
    let created = app
        .post(KEYS, json!({"name": "GitHub Actions", "role": "member"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key = created.body["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("csk_") && key.len() > 40);
    assert_eq!(created.body["role"], "member");
    assert_eq!(created.body["name"], "GitHub Actions");
    assert!(key.starts_with(created.body["prefix"].as_str().unwrap()));

    // The new key works with its own role.
    let me = app.call(Method::GET, KEYS, Some(&key), None).await;
    assert_eq!(
        me.status,
        StatusCode::FORBIDDEN,
        "a member key is not an admin"
    );

    let listed = app.get(KEYS).await;
    assert_eq!(listed.status, StatusCode::OK);
    let text = listed.body.to_string();
    assert!(!text.contains(&key), "the secret is never listed");
    assert!(!text.contains("hash"), "neither is its hash");
    let keys = listed.body["api_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let id = created.body["id"].as_str().unwrap();
    let entry = keys.iter().find(|k| k["id"] == id).unwrap();
    assert_eq!(entry["revoked_at"], serde_json::Value::Null);

    let revoked = app.delete(&format!("{KEYS}/{id}")).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.body["message"], "API key revoked");
    assert!(revoked.body["api_key"]["revoked_at"].is_string());
    let listed = app.get(KEYS).await;
    let entry = listed.body["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .cloned()
        .unwrap();
    assert!(
        entry["revoked_at"].is_string(),
        "revoked keys stay listed, marked"
    );
    assert_eq!(
        app.call(Method::GET, "/api/health", Some(&key), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"role": "admin"}), "missing field `name`"),
        (json!({"name": "x", "role": "god"}), "role"),
        (json!({"name": "", "role": "admin"}), "name"),
        (json!({"name": "x".repeat(101), "role": "admin"}), "name"),
        (json!({"name": 5, "role": "admin"}), "name"),
        (json!({"name": "x", "role": "admin", "extra": 1}), "extra"),
    ];
    for (body, mention) in cases {
        let resp = app.post(KEYS, body.clone()).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}");
        let detail = resp.body["detail"].as_str().unwrap();
        assert!(detail.contains(mention), "{body}: {detail}");
    }
    let not_json = app
        .send(
            app.request(Method::POST, KEYS)
                .header("X-API-Key", &app.admin_key)
                .header("Content-Type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(not_json.body["detail"]
        .as_str()
        .unwrap()
        .contains("Malformed JSON"));
    let form = app
        .send(
            app.request(Method::POST, KEYS)
                .header("X-API-Key", &app.admin_key)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("name=x&role=admin"),
        )
        .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Nothing of the above was stored.
    assert_eq!(
        app.get(KEYS).await.body["api_keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn nobody_grants_more_than_they_hold() {
    let app = spawn_app().await;
    let resp = app
        .post(KEYS, json!({"name": "root", "role": "owner"}))
        .await;
    assert_eq!(
        resp.status,
        StatusCode::FORBIDDEN,
        "an admin cannot mint owner keys"
    );
    let owner = app.key_for(&app.org_id, Role::Owner).await;
    let resp = app
        .call(
            Method::POST,
            KEYS,
            Some(&owner),
            Some(json!({"name": "root", "role": "owner"})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED);
}

#[tokio::test]
async fn nobody_revokes_a_key_above_their_own_role() {
    let app = spawn_app().await;
    let owner = app.key_for(&app.org_id, Role::Owner).await;
    let listed = app.get(KEYS).await.body;
    let id_of = |role: &str| {
        listed["api_keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["role"] == role)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let owner_id = id_of("owner");
    let resp = app.delete(&format!("{KEYS}/{owner_id}")).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{:?}", resp.body);
    assert_eq!(
        resp.body["detail"],
        "The admin role cannot revoke a key with the owner role"
    );
    // Nothing changed: the owner key still works and is not revoked, nor audited as such.
    let check = app.call(Method::GET, KEYS, Some(&owner), None).await;
    assert_eq!(check.status, StatusCode::OK);
    let revoked = app.get("/api/audit-logs?action=API_KEY_REVOKED").await.body;
    assert_eq!(revoked["entries"], json!([]));
    // An admin may revoke an admin's key; the owner may revoke anyone's.
    let other_admin = app.key_for(&app.org_id, Role::Admin).await;
    let admin_ids: Vec<String> = app.get(KEYS).await.body["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["role"] == "admin")
        .map(|k| k["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(admin_ids.len(), 2);
    let resp = app
        .call(
            Method::DELETE,
            &format!("{KEYS}/{}", admin_ids[1]),
            Some(&other_admin),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    let resp = app
        .call(
            Method::DELETE,
            &format!("{KEYS}/{owner_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
}

#[tokio::test]
async fn pagination_through_keys() {
    let app = spawn_app().await;
    for i in 0..6 {
        let r = app
            .post(KEYS, json!({"name": format!("k{i}"), "role": "viewer"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{KEYS}?limit=3&cursor={c}"),
            None => format!("{KEYS}?limit=3"),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(
            page.body["api_keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["id"].clone()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    for bad in [
        "?limit=0",
        "?limit=101",
        "?limit=abc",
        "?cursor=%25%25",
        "?unknown=1",
    ] {
        let resp = app.get(&format!("{KEYS}{bad}")).await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {:?}",
            resp.body
        );
    }
}
