//! The GraphQL deployments queries.

use github_fake::{FakeGitHub, Permission};
use serde_json::{Value, json};

use crate::{deploy, http, sha, status};

const HISTORY: &str = "query($owner: String!, $name: String!, $environments: [String!], $first: Int!, $after: String) { repository(owner: $owner, name: $name) { deployments(environments: $environments, first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) { pageInfo { hasNextPage endCursor } nodes { databaseId statuses(first: 2) { pageInfo { hasNextPage } nodes { state } } } } } }";

async fn graphql(github: &FakeGitHub, query: &str, variables: Value) -> Value {
    let response = http()
        .post(github.graphql_url())
        .bearer_auth(github.token())
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_history_query_pages_newest_first_with_cursors() {
    let github = FakeGitHub::start().await.unwrap();
    for index in 0..5u64 {
        let environment = if index == 4 { "production" } else { "staging" };
        let id = deploy(
            &github,
            &sha('a'),
            environment,
            json!({"payload": {"n": index}}),
        )
        .await;
        for state in ["in_progress", "in_progress", "success"] {
            status(&github, id, state, "").await;
        }
    }
    let variables = |after: Option<&str>| json!({"owner": "acme", "name": "api", "environments": ["staging"], "first": 2, "after": after});
    let first = graphql(&github, HISTORY, variables(None)).await;
    let connection = &first["data"]["repository"]["deployments"];
    let ids: Vec<u64> = connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["databaseId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] > ids[1]);
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    let node = &connection["nodes"][0];
    assert_eq!(
        node["statuses"]["nodes"].as_array().unwrap().len(),
        2,
        "statuses(first: 2)"
    );
    assert_eq!(node["statuses"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        node["statuses"]["nodes"][0]["state"], "IN_PROGRESS",
        "oldest first"
    );
    assert_eq!(node["state"], "ACTIVE");
    assert!(node["payload"].is_string(), "payload is JSON text");
    let cursor = connection["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = graphql(&github, HISTORY, variables(Some(&cursor))).await;
    let connection = &second["data"]["repository"]["deployments"];
    assert_eq!(
        connection["nodes"].as_array().unwrap().len(),
        2,
        "four staging deployments"
    );
    assert_eq!(connection["pageInfo"]["hasNextPage"], false);
    let all = graphql(
        &github,
        HISTORY,
        json!({"owner": "acme", "name": "api", "environments": null, "first": 100}),
    )
    .await;
    assert_eq!(
        all["data"]["repository"]["deployments"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test(start_paused = true)]
async fn nodes_are_found_by_their_rest_node_id() {
    let github = FakeGitHub::start().await.unwrap();
    let id = deploy(&github, &sha('a'), "staging", json!({})).await;
    let (_, _, body) = crate::call(
        &github,
        reqwest::Method::GET,
        &format!("/repos/acme/api/deployments/{id}"),
        None,
    )
    .await;
    let node_id = body["node_id"].as_str().unwrap().to_owned();
    let answer = graphql(
        &github,
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Deployment { databaseId } } }",
        json!({"ids": [node_id, "missing"]}),
    )
    .await;
    assert_eq!(answer["data"]["nodes"][0]["databaseId"], id);
    assert_eq!(answer["data"]["nodes"][1], Value::Null);
}

#[tokio::test(start_paused = true)]
async fn errors_come_in_a_200_as_github_sends_them() {
    let github = FakeGitHub::start().await.unwrap();
    let unknown = graphql(
        &github,
        HISTORY,
        json!({"owner": "acme", "name": "other", "first": 10}),
    )
    .await;
    assert_eq!(unknown["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(unknown["data"]["repository"], Value::Null);
    let excessive = graphql(
        &github,
        HISTORY,
        json!({"owner": "acme", "name": "api", "first": 101}),
    )
    .await;
    assert_eq!(excessive["errors"][0]["type"], "EXCESSIVE_PAGINATION");
    github.set_permission(Permission::None);
    let forbidden = graphql(
        &github,
        HISTORY,
        json!({"owner": "acme", "name": "api", "first": 10}),
    )
    .await;
    assert_eq!(forbidden["errors"][0]["type"], "FORBIDDEN");
    let other = graphql(&github, "{ viewer { login } }", json!({})).await;
    assert!(other["errors"][0]["message"].as_str().is_some());
}
