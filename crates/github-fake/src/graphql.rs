//! The GraphQL endpoint: the deployments queries, answered in GitHub's JSON shape.
//!
//! This is not a GraphQL server. It recognizes two queries by their root fields and honours
//! their variables: `repository(owner:, name:) { deployments(environments:, first:, after:,
//! orderBy:) }` and `nodes(ids:)` of deployments. Each deployment node carries every field a
//! deployments query asks for, whatever the selection, with `statuses(first: N)` honoured.

use std::sync::Mutex;

use serde_json::{Value, json};

use crate::server::{Received, Reply, lock, message, reply, with_limit_headers};
use crate::state::{FakeDeployment, FakeStatus, Permission, State};

/// GitHub's largest page on a connection.
const MAX_PAGE: u64 = 100;

pub(crate) fn answer(shared: &Mutex<State>, request: &Received) -> Reply {
    let mut state = lock(shared);
    if request.method != "POST" {
        return message(404, "Not Found");
    }
    state.graphql.roll();
    if state.graphql.remaining() == 0 {
        let response = reply(
            200,
            &json!({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for installation."}]}),
        );
        return with_limit_headers(response, &state.graphql, "graphql");
    }
    state.graphql.used += 1;
    let body = answer_query(&state, request.body.as_ref());
    with_limit_headers(reply(200, &body), &state.graphql, "graphql")
}

fn error(kind: &str, text: &str) -> Value {
    json!({"errors": [{"type": kind, "message": text}]})
}

fn answer_query(state: &State, body: Option<&Value>) -> Value {
    let Some(query) = body
        .and_then(|body| body.get("query"))
        .and_then(Value::as_str)
    else {
        return json!({"errors": [{"message": "A query attribute must be specified and must be a string."}]});
    };
    let variables = body
        .and_then(|body| body.get("variables"))
        .cloned()
        .unwrap_or(Value::Null);
    if state.permission == Permission::None {
        return error("FORBIDDEN", "Resource not accessible by integration");
    }
    let statuses = connection_size(query, "statuses(first:").unwrap_or(10);
    if statuses > MAX_PAGE {
        return excessive("statuses", statuses);
    }
    if query.contains("nodes(ids:") {
        let ids: Vec<&str> = variables
            .get("ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.len() > 100 {
            return error(
                "ARGUMENT_LIMIT",
                "You may not request more than 100 node ids at once.",
            );
        }
        let nodes: Vec<Value> = ids
            .iter()
            .map(|id| {
                state
                    .deployments
                    .iter()
                    .find(|deployment| deployment.node_id() == *id)
                    .map_or(Value::Null, |deployment| node(deployment, statuses))
            })
            .collect();
        return json!({"data": {"nodes": nodes}});
    }
    if query.contains("repository(") && query.contains("deployments(") {
        return repository_deployments(state, query, &variables, statuses);
    }
    json!({"errors": [{"message": "this fake answers only the deployments queries (repository.deployments and nodes of deployments)"}]})
}

fn excessive(connection: &str, first: u64) -> Value {
    error(
        "EXCESSIVE_PAGINATION",
        &format!(
            "Requesting {first} records on the `{connection}` connection exceeds the `first` limit of {MAX_PAGE} records."
        ),
    )
}

/// The `first:` of a connection in the query text: a literal, or a `$variable` (its value is
/// not known here, so `None`).
fn connection_size(query: &str, opening: &str) -> Option<u64> {
    let start = query.find(opening)? + opening.len();
    let digits: String = query[start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn repository_deployments(state: &State, query: &str, variables: &Value, statuses: u64) -> Value {
    let text = |name: &str| variables.get(name).and_then(Value::as_str);
    let (Some(owner), Some(name)) = (text("owner"), text("name")) else {
        return error("MISSING_VARIABLE", "owner and name are required");
    };
    let repository = format!("{owner}/{name}");
    if !state.repositories.contains(&repository) {
        return json!({
            "data": {"repository": null},
            "errors": [{"type": "NOT_FOUND", "path": ["repository"], "message": format!("Could not resolve to a Repository with the name '{repository}'.")}],
        });
    }
    let first = variables
        .get("first")
        .and_then(Value::as_u64)
        .or_else(|| connection_size(query, "deployments(first:"))
        .unwrap_or(MAX_PAGE);
    if first > MAX_PAGE {
        return excessive("deployments", first);
    }
    let environments: Option<Vec<&str>> = variables
        .get("environments")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect());
    let ascending = query.contains("direction: ASC");
    let mut matching: Vec<&FakeDeployment> = state
        .deployments
        .iter()
        .filter(|deployment| {
            deployment.repository == repository
                && environments
                    .as_ref()
                    .is_none_or(|wanted| wanted.contains(&deployment.environment.as_str()))
        })
        .collect();
    if !ascending {
        matching.reverse();
    }
    let offset = text("after")
        .and_then(|cursor| cursor.strip_prefix("cursor:"))
        .and_then(|offset| offset.parse::<usize>().ok())
        .unwrap_or(0);
    let take = usize::try_from(first).unwrap_or(100);
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(take)
        .map(|deployment| node(deployment, statuses))
        .collect();
    let end = offset + page.len();
    json!({
        "data": {"repository": {"deployments": {
            "totalCount": matching.len(),
            "pageInfo": {
                "hasNextPage": end < matching.len(),
                "endCursor": (!page.is_empty()).then(|| format!("cursor:{end}")),
            },
            "nodes": page,
        }}}
    })
}

fn upper(state: &str) -> String {
    state.to_ascii_uppercase()
}

fn status_node(status: &FakeStatus) -> Value {
    json!({
        "state": upper(&status.state),
        "description": status.description,
        "createdAt": status.created_at,
        "logUrl": status.log_url,
        "environmentUrl": status.environment_url,
        "creator": {"login": status.creator},
    })
}

/// A deployment node with every field the deployments queries ask for.
fn node(deployment: &FakeDeployment, statuses: u64) -> Value {
    let take = usize::try_from(statuses).unwrap_or(10);
    let status_nodes: Vec<Value> = deployment
        .statuses
        .iter()
        .take(take)
        .map(status_node)
        .collect();
    let latest = deployment.statuses.last().map(status_node);
    let state = match deployment.state() {
        "success" => "ACTIVE".to_owned(),
        "inactive" if deployment.transient => "DESTROYED".to_owned(),
        other => upper(other),
    };
    json!({
        "id": deployment.node_id(),
        "databaseId": deployment.id,
        "commitOid": deployment.sha,
        "createdAt": deployment.created_at,
        "environment": deployment.environment,
        "originalEnvironment": deployment.environment,
        "latestEnvironment": deployment.environment,
        "task": deployment.task,
        "description": deployment.description,
        "payload": deployment.payload.to_string(),
        "state": state,
        "creator": {"login": deployment.creator},
        "ref": {"name": deployment.r#ref},
        "latestStatus": latest,
        "statuses": {
            "totalCount": deployment.statuses.len(),
            "pageInfo": {"hasNextPage": deployment.statuses.len() > take},
            "nodes": status_nodes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_sizes_are_read_from_the_query() {
        assert_eq!(
            connection_size("x { statuses(first: 100) { nodes", "statuses(first:"),
            Some(100)
        );
        assert_eq!(
            connection_size("deployments(first: $first)", "deployments(first:"),
            None
        );
        assert_eq!(connection_size("nothing", "statuses(first:"), None);
    }
}
