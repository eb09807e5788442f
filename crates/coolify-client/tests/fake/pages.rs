//! Walking an application's deployments page by page, against the fake Coolify.

use coolify_client::{DeploymentStatus, Error};
use coolify_fake::{FakeApplication, FakeCoolify};

#[tokio::test(start_paused = true)]
async fn deployment_pages_walk_the_whole_history_newest_first() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("pages-app"));
    let other = fake.add_application(FakeApplication::new("other-app"));
    for index in 0..7 {
        fake.seed_deployment(&app, &format!("{index:07}"), DeploymentStatus::Finished);
        fake.seed_deployment(&other, "aaaaaaa", DeploymentStatus::Failed);
    }
    let client = fake.client_builder().build().unwrap();

    let mut pages = client.deployment_pages(&app, 3).unwrap();
    let mut sizes = Vec::new();
    let mut commits = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        sizes.push(page.len());
        commits.extend(
            page.into_iter()
                .map(|deployment| deployment.commit.unwrap()),
        );
    }

    assert_eq!(sizes, [3, 3, 1]);
    let newest_first: Vec<String> = (0..7).rev().map(|index| format!("{index:07}")).collect();
    assert_eq!(commits, newest_first);
    assert!(pages.next().await.is_none(), "a walked history stays ended");
    let page_requests = fake
        .requests_for(&app)
        .into_iter()
        .filter(|request| {
            request
                .path()
                .starts_with("/api/v1/deployments/applications/")
        })
        .count();
    assert_eq!(
        page_requests, 3,
        "one request per page, none after the last"
    );
}

#[tokio::test(start_paused = true)]
async fn an_empty_history_has_no_pages_and_a_zero_page_size_is_refused() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("empty-app"));
    let client = fake.client_builder().build().unwrap();

    assert!(
        client
            .deployment_pages(&app, 10)
            .unwrap()
            .next()
            .await
            .is_none()
    );
    let error = client.deployment_pages(&app, 0).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
}
