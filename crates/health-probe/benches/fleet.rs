//! Fleet benchmark: start N loopback health endpoints (default 1,000) in a child process, probe
//! them all to healthy with one prober, report wall time and peak memory of both processes.
//!
//! Run: `cargo bench -p health-probe --bench fleet` (`FLEET_SIZE`, `FLEET_CONCURRENCY` to vary).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use health_probe::{Assertion, ProbeSpec, Prober, Verdict};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let size = env_number("FLEET_SIZE", 1000);
    if std::env::args().any(|arg| arg == "--serve") {
        return serve_fleet(size);
    }
    let concurrency = env_number("FLEET_CONCURRENCY", 256);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ports = Vec::with_capacity(size);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while ports.len() < size {
        ports.push(lines.next().unwrap().unwrap().parse::<u16>().unwrap());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcomes = runtime.block_on(async {
        let prober = Prober::new().unwrap();
        let specs = ports
            .iter()
            .map(|port| {
                ProbeSpec::builder(format!("http://127.0.0.1:{port}/healthz").parse().unwrap())
                    .interval(Duration::from_millis(100))
                    .jitter(Duration::ZERO)
                    .deadline(Duration::from_secs(30))
                    .assertion(Assertion::json_equals("/commit", json!("new")).unwrap())
                    .build()
                    .unwrap()
            })
            .collect();
        prober
            .probe_many(specs, concurrency, &CancellationToken::new(), |_, _| {})
            .await
    });
    let wall = started.elapsed();
    let healthy = outcomes
        .iter()
        .filter(|outcome| outcome.verdict == Verdict::Healthy)
        .count();
    let attempts: u32 = outcomes.iter().map(|outcome| outcome.attempt_count()).sum();
    let prober_peak = common::peak_rss_kib("self").unwrap_or(0);
    let servers_peak = common::peak_rss_kib(&child.id().to_string()).unwrap_or(0);
    drop(child.stdin.take());
    let _ = child.wait();

    println!(
        "fleet: {size} endpoints, concurrency {concurrency}, success threshold 2, interval 100 ms"
    );
    println!("  healthy:          {healthy}/{size} ({attempts} attempts)");
    println!("  wall:             {}", common::millis(wall));
    println!(
        "  prober peak RSS:  {:.1} MiB (VmHWM)",
        prober_peak as f64 / 1024.0
    );
    println!(
        "  servers peak RSS: {:.1} MiB (child process, not counted above)",
        servers_peak as f64 / 1024.0
    );
    let ok = healthy == size && wall < Duration::from_secs(1) && prober_peak < 64 * 1024;
    println!(
        "  target (< 1 s wall, < 64 MiB): {}",
        if ok { "met" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}

/// The child: bind `size` listeners, print their ports, serve until stdin closes.
fn serve_fleet(size: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut stdout = std::io::stdout().lock();
        for _ in 0..size {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            writeln!(stdout, "{}", listener.local_addr().unwrap().port()).unwrap();
            tokio::spawn(common::serve(listener, None));
        }
        stdout.flush().unwrap();
        drop(stdout);
        // Serve until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await
        .unwrap();
    });
}
