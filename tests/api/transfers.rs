//! Returnees move: a transfer asked by the sending city, decided by the
//! receiving city's supervisor, moves the case (and its household) with its
//! notes, re-encrypted, and the sending city loses access at once (`races`:
//! even when it acts while the move commits).

use sanad::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, create, new_case, spawn_app};

#[tokio::test]
async fn an_accepted_household_transfer_moves_everyone_and_access_follows() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let sender = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let receiver_worker = app.signed_in(Role::SocialWorker, &[telafar], None).await;
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let household: Value = app
        .post_as(
            &sender,
            "/api/v1/households",
            &json!({"city_id": mosul, "label": "Um Khalid's family"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in ["أم خالد", "خالد"] {
        let mut body = new_case(mosul, name);
        body["household_id"] = household["id"].clone();
        ids.push(
            create(&app, &sender, &body).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    app.post_as(
        &sender,
        &format!("/api/v1/cases/{}/notes", ids[0]),
        &json!({"body": "Moving to Tal Afar"}),
    )
    .await;

    let asked = app
        .post_as(
            &sender,
            &format!("/api/v1/cases/{}/transfers", ids[0]),
            &json!({"to_city_id": telafar, "reason": "Family moved", "with_household": true}),
        )
        .await;
    assert_eq!(asked.status().as_u16(), 201);
    let transfer: Value = asked.json().await.unwrap();
    assert_eq!(transfer["status"], "pending");
    let again = app
        .post_as(
            &sender,
            &format!("/api/v1/cases/{}/transfers", ids[0]),
            &json!({"to_city_id": telafar, "reason": "again"}),
        )
        .await;
    assert_problem(again, 409).await;

    let incoming: Value = app
        .all_items(
            &receiver,
            "/api/v1/transfers?direction=incoming&status=pending",
        )
        .await;
    assert_eq!(incoming.as_array().unwrap().len(), 1);
    assert_eq!(incoming[0]["reason"], "Family moved");
    let tid = transfer["id"].as_str().unwrap();
    assert_problem(
        app.post_as(
            &sender,
            &format!("/api/v1/transfers/{tid}/accept"),
            &json!({}),
        )
        .await,
        403,
    )
    .await;
    assert_problem(
        app.post_as(
            &receiver_worker,
            &format!("/api/v1/transfers/{tid}/accept"),
            &json!({}),
        )
        .await,
        403,
    )
    .await;

    let accepted = app
        .post_as(
            &receiver,
            &format!("/api/v1/transfers/{tid}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);
    assert_problem(
        app.post_as(
            &receiver,
            &format!("/api/v1/transfers/{tid}/accept"),
            &json!({}),
        )
        .await,
        409,
    )
    .await;

    for id in &ids {
        assert_problem(
            app.get_as(&sender, &format!("/api/v1/cases/{id}")).await,
            404,
        )
        .await;
        let read: Value = app
            .get_as(&receiver_worker, &format!("/api/v1/cases/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["city_id"], telafar.to_string());
        assert_eq!(read["household_id"], household["id"]);
    }
    let notes: Value = app
        .get_as(&receiver_worker, &format!("/api/v1/cases/{}/notes", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes[0]["body"], "Moving to Tal Afar");
    let moved: Value = app
        .get_as(
            &receiver_worker,
            &format!("/api/v1/households/{}", household["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["label"], "Um Khalid's family");
    assert_eq!(moved["members"].as_array().unwrap().len(), 2);
    let found: Value = app
        .post_as(
            &receiver_worker,
            "/api/v1/cases/search",
            &json!({"name": "خالد"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 2);
    let from_mosul: Value = app
        .post_as(&sender, "/api/v1/cases/search", &json!({"name": "خالد"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(from_mosul["elsewhere"], 2);
}

#[tokio::test]
async fn a_transfer_can_be_rejected_or_cancelled_and_the_case_stays() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let sender = app.signed_in(Role::SocialWorker, &[mosul], None).await;
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let outsider = app
        .signed_in(Role::SocialWorker, &[app.city("SIN")], None)
        .await;
    let id = create(&app, &sender, &new_case(mosul, "ليلى")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/cases/{id}/transfers");
    let first_body = json!({"to_city_id": telafar, "reason": "first"});
    let second_body = json!({"to_city_id": telafar, "reason": "second"});

    let first: Value = app
        .post_as(&sender, &path, &first_body)
        .await
        .json()
        .await
        .unwrap();
    let first_id = first["id"].as_str().unwrap();
    assert_problem(
        app.post_as(
            &outsider,
            &format!("/api/v1/transfers/{first_id}/cancel"),
            &json!({}),
        )
        .await,
        404,
    )
    .await;
    let rejected: Value = app
        .post_as(
            &receiver,
            &format!("/api/v1/transfers/{first_id}/reject"),
            &json!({"reason": "No services for her here yet"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_reason"], "No services for her here yet");

    let second: Value = app
        .post_as(&sender, &path, &second_body)
        .await
        .json()
        .await
        .unwrap();
    let second_id = second["id"].as_str().unwrap();
    assert_problem(
        app.post_as(
            &receiver,
            &format!("/api/v1/transfers/{second_id}/cancel"),
            &json!({}),
        )
        .await,
        404,
    )
    .await;
    let cancelled: Value = app
        .post_as(
            &sender,
            &format!("/api/v1/transfers/{second_id}/cancel"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");

    let read = app.get_as(&sender, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(read.status().as_u16(), 200);
    let outgoing: Value = app
        .all_items(&sender, "/api/v1/transfers?direction=outgoing")
        .await;
    assert_eq!(outgoing.as_array().unwrap().len(), 2);
    let bad_city = app
        .post_as(
            &sender,
            &format!("/api/v1/cases/{id}/transfers"),
            &json!({"to_city_id": mosul, "reason": "x"}),
        )
        .await;
    assert_eq!(
        assert_problem(bad_city, 422).await["errors"][0]["field"],
        "to_city_id"
    );
}

#[tokio::test]
async fn erasing_a_person_ends_their_pending_transfer_and_leaves_no_trace_of_it() {
    let app = spawn_app().await;
    let mosul = app.city("MOS");
    let telafar = app.city("TAF");
    let supervisor = app.signed_in(Role::CitySupervisor, &[mosul], None).await;
    let receiver = app.signed_in(Role::CitySupervisor, &[telafar], None).await;
    let id = create(&app, &supervisor, &new_case(mosul, "ليلى")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let transfer: Value = app
        .post_as(
            &supervisor,
            &format!("/api/v1/cases/{id}/transfers"),
            &json!({"to_city_id": telafar, "reason": "Moved to her family"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let transfer_id = transfer["id"].as_str().unwrap();

    let erased = app
        .post_as(
            &supervisor,
            &format!("/api/v1/cases/{id}/erase"),
            &json!({"reason": "Asked to be forgotten"}),
        )
        .await;
    assert_eq!(erased.status().as_u16(), 204);

    // Neither side can act on it any more: a move between cities is a link
    // the erasure removes, so the transfer is gone from both.
    for (token, action, body) in [
        (&receiver, "reject", json!({"reason": "x"})),
        (&receiver, "accept", json!({})),
        (&supervisor, "cancel", json!({})),
    ] {
        let response = app
            .post_as(
                token,
                &format!("/api/v1/transfers/{transfer_id}/{action}"),
                &body,
            )
            .await;
        assert_problem(response, 404).await;
    }
    for token in [&receiver, &supervisor] {
        assert_eq!(app.all_items(token, "/api/v1/transfers").await, json!([]));
    }
}
