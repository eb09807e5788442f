//! `notes` ranges a person gets wrong: the message says what is wrong and the command to run.

use stagegate::Exit;
use stagegate::notes::NotesOptions;
use stagegate_tests::World;

async fn notes(world: &World, from: &str, to: &str) -> stagegate_tests::Run<String> {
    let options = NotesOptions {
        from: Some(from.to_owned()),
        to: to.to_owned(),
        output: None,
    };
    world
        .run(|session| async move {
            stagegate::notes::notes(&session, &options).map(|report| report.notes)
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn a_reversed_range_says_to_swap_the_ends() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world
        .repo
        .commit("src/app.txt", "fix: greet politely")
        .unwrap();

    let run = notes(&world, "HEAD", "HEAD~1").await;

    assert_eq!(run.exit(), Exit::BadInput);
    let message = run.message();
    for expected in [
        "the range is reversed",
        "`HEAD` (--from) comes after `HEAD~1` (--to)",
        "swap them: `stagegate notes --from HEAD~1 --to HEAD`",
    ] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
    assert!(!message.contains("merge base"), "{message}");
    assert!(world.fake.requests().is_empty());

    // The right way round it lists the fix.
    let run = notes(&world, "HEAD~1", "HEAD").await;
    assert!(run.value().contains("greet politely"), "{}", run.value());
}

#[tokio::test(start_paused = true)]
async fn diverged_ends_suggest_the_command_from_their_merge_base() {
    let world = World::new().await.unwrap();
    let base = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    // `branch_from` checks the new branch out.
    world.repo.branch_from("hotfix", "HEAD").unwrap();
    world
        .repo
        .commit("src/app.txt", "fix: greet politely")
        .unwrap();
    world.repo.switch("main").unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();

    let run = notes(&world, "main", "hotfix").await;

    assert_eq!(run.exit(), Exit::BadInput);
    let message = run.message();
    for expected in [
        "`main` is not an ancestor of `hotfix`",
        &format!("`stagegate notes --from {base} --to hotfix`"),
    ] {
        assert!(message.contains(expected), "{expected:?} in: {message}");
    }
    assert!(!message.contains("reversed"), "{message}");
}
