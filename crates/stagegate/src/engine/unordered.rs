//! A set of futures run together on the current task, taken as each finishes: what a rollout
//! uses to verify each app as soon as its deployment finished, while it goes on following the
//! others.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Futures polled together; [`Unordered::next`] gives the output of whichever finishes first.
pub(super) struct Unordered<'a, T> {
    futures: Vec<Pin<Box<dyn Future<Output = T> + Send + 'a>>>,
}

impl<'a, T> Unordered<'a, T> {
    pub(super) fn new() -> Self {
        Self {
            futures: Vec::new(),
        }
    }

    /// Run `future` too, from the next [`Unordered::next`] on.
    pub(super) fn push(&mut self, future: Pin<Box<dyn Future<Output = T> + Send + 'a>>) {
        self.futures.push(future);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.futures.is_empty()
    }

    /// The output of the first future to finish, which leaves the set; never ready while the
    /// set is empty. Cancel-safe: dropping it leaves every future in the set.
    pub(super) async fn next(&mut self) -> T {
        std::future::poll_fn(|context| {
            for index in 0..self.futures.len() {
                if let Poll::Ready(output) = self.futures[index].as_mut().poll(context) {
                    drop(self.futures.swap_remove(index));
                    return Poll::Ready(output);
                }
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn outputs_come_as_the_futures_finish_and_more_may_be_pushed_meanwhile() {
        let mut set = Unordered::new();
        assert!(set.is_empty());
        for seconds in [3u64, 1] {
            set.push(Box::pin(async move {
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                seconds
            }));
        }
        let started = tokio::time::Instant::now();
        assert_eq!(set.next().await, 1);
        set.push(Box::pin(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            2
        }));
        assert_eq!(set.next().await, 2);
        assert_eq!(set.next().await, 3);
        assert!(set.is_empty());
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        // Empty: never ready.
        let waited = tokio::time::timeout(Duration::from_secs(60), set.next()).await;
        assert!(waited.is_err());
    }
}
