//! `deploy.toml` mistakes: found when the file is loaded, before Coolify is contacted, with
//! the key, its line and the fix.

use stagegate::Exit;
use stagegate_tests::World;

/// `deploy staging` with the standard config changed by `edit`.
async fn deploy_staging_with_config(edit: impl Fn(String) -> String) -> (World, String, Exit) {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let config = edit(world.config());
    world.write_file("deploy.toml", &config).unwrap();
    let run = world.deploy_staging().await;
    let exit = run.exit();
    let message = run.message();
    assert!(
        run.requests.is_empty(),
        "Coolify was contacted: {:?}",
        run.requests
    );
    (world, message, exit)
}

/// The 1-based line of the `nth` line (from 0) of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with(prefix))
        .nth(nth)
        .unwrap()
        .0
        + 1
}

#[tokio::test(start_paused = true)]
async fn a_value_of_the_wrong_type_names_the_key_and_the_fix() {
    let (world, message, exit) = deploy_staging_with_config(|config| {
        config.replace("success_threshold = 2", "success_threshold = \"two\"")
    })
    .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    let line = line_of(&world.config(), "success_threshold", 0);
    for expected in [
        &format!("line {line}"),
        "`probe.success_threshold`",
        "\"two\"",
        "write a whole number without quotes, e.g. `success_threshold = 2`",
    ] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_empty_app_uuid_is_bad_input_at_load_time() {
    let (_, message, exit) = deploy_staging_with_config(|config| {
        config.replace("app = \"production-app\"", "app = \"\"")
    })
    .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    for expected in [
        "`environments.production.app`",
        "it is empty",
        "copy the uuid",
    ] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_zero_success_threshold_override_is_refused_at_load_time() {
    let (_, message, exit) = deploy_staging_with_config(|config| {
        config.replace(
            "[environments.production]\n",
            "[environments.production]\nprobe = { success_threshold = 0 }\n",
        )
    })
    .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    for expected in ["environments.production.probe", "success_threshold"] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_zero_deploy_timeout_is_refused_before_coolify_is_contacted() {
    let (world, message, exit) =
        deploy_staging_with_config(|config| config.replace("timeout = \"2m\"", "timeout = \"0s\""))
            .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    let line = line_of(&world.config(), "timeout", 0);
    for expected in [&format!("line {line}"), "`deploy.timeout`", "\"0s\""] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_release_placeholder_in_the_shared_probe_is_refused_before_coolify_is_contacted() {
    let (_, message, exit) = deploy_staging_with_config(|config| {
        config.replace(
            "\"/environment\" = ",
            "\"/version\" = \"{version}\", \"/environment\" = ",
        )
    })
    .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    for expected in [
        "`probe`",
        "`{version}`",
        "a staging deploy has no release tag",
    ] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_unknown_placeholder_is_refused_before_coolify_is_contacted() {
    let (_, message, exit) =
        deploy_staging_with_config(|config| config.replace("\"{commit}\"", "\"{sha}\"")).await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    for expected in ["`{sha}`", "known placeholders are {commit}"] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_health_url_staging_and_production_share_is_refused_before_coolify_is_contacted() {
    let (world, message, exit) = deploy_staging_with_config(|config| {
        let staging_url = config
            .lines()
            .find_map(|line| line.strip_prefix("health_url = "))
            .unwrap()
            .to_owned();
        let production_url = config
            .lines()
            .filter_map(|line| line.strip_prefix("health_url = "))
            .nth(1)
            .unwrap()
            .to_owned();
        assert_ne!(staging_url, production_url);
        config.replace(&production_url, &staging_url)
    })
    .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    let config = world.config();
    for expected in [
        format!(
            "line {}: `environments.production.health_url`",
            line_of(&config, "health_url", 1)
        ),
        format!(
            "(`environments.staging.health_url` on line {})",
            line_of(&config, "health_url", 0)
        ),
        "is also staging's health URL".to_owned(),
        "give each environment the URL its own app serves".to_owned(),
    ] {
        assert!(message.contains(&expected), "{expected:?} in: {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn plain_http_to_another_machine_is_refused_naming_the_opt_in() {
    let (world, message, exit) = deploy_staging_with_config(|config| {
        let url = config
            .lines()
            .find_map(|line| line.strip_prefix("url = "))
            .unwrap()
            .to_owned();
        config.replace(&url, "\"http://192.0.2.10:8000\"")
    })
    .await;

    assert_eq!(exit, Exit::BadInput, "{message}");
    let line = line_of(&world.config(), "url = ", 0);
    for expected in [
        &format!("line {line}: `coolify.url`"),
        "clear text",
        "set `allow_insecure_http = true` in [coolify]",
    ] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
}
