//! Password work (Argon2id: about 19 MiB and tens of milliseconds a check)
//! on a fixed set of threads with a short queue, so that no burst of
//! sign-ins can make the server hash more passwords at once than it has
//! threads, nor hold more waiting than the queue: memory stays bounded.
//!
//! A handler first takes a [`Slot`] ([`PasswordWork::slot`]): `None` means
//! every worker is busy and the queue is full, and the request is answered
//! 503 at once, before any database or Argon2 work. The slot is held by the
//! work itself, so a request abandoned by its client still counts until
//! its check ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use prometheus::IntCounter;

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// The workers, the queue in front of them, and their counters.
pub struct PasswordWork {
    sender: SyncSender<Job>,
    slots: Arc<Slots>,
    threads: usize,
    /// Password checks and hashes run (for `/metrics`).
    pub runs: IntCounter,
    /// Requests refused because no slot was free (for `/metrics`).
    pub refused: IntCounter,
}

struct Slots {
    taken: AtomicUsize,
    max: usize,
}

/// The right to run one piece of password work: held from before the
/// request's database work until its Argon2 run ends.
pub struct Slot {
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordWork {
    /// Starts `threads` workers (at least one) with room for `queue` more
    /// pieces of work waiting.
    pub fn start(threads: usize, queue: usize) -> Result<PasswordWork, std::io::Error> {
        let threads = threads.max(1);
        let (sender, receiver) = sync_channel::<Job>(threads + queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("sanad-password-{n}"))
                .spawn(move || work(&receiver))?;
        }
        let counter = |name: &str, help: &str| {
            IntCounter::new(name, help).map_err(|e| std::io::Error::other(e.to_string()))
        };
        Ok(PasswordWork {
            sender,
            slots: Arc::new(Slots {
                taken: AtomicUsize::new(0),
                max: threads + queue,
            }),
            threads,
            runs: counter("password_checks_total", "Argon2 runs (checks and hashes)")?,
            refused: counter(
                "password_checks_refused_total",
                "Requests answered 503 because every password worker was busy and the queue full",
            )?,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// A slot for one piece of work, or `None` when the workers and the
    /// queue are full (answer 503 without doing anything).
    pub fn slot(&self) -> Option<Slot> {
        let max = self.slots.max;
        let taken = self
            .slots
            .taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        match taken {
            Ok(_) => Some(Slot {
                slots: self.slots.clone(),
            }),
            Err(_) => {
                self.refused.inc();
                None
            }
        }
    }

    /// [`PasswordWork::slot`], or the 503 to answer.
    pub fn slot_or_busy(&self) -> Result<Slot, ApiError> {
        self.slot().ok_or(ApiError::Busy)
    }

    /// Runs `work` on a worker, holding `slot` until it ends. A panic in
    /// the work is an internal error.
    pub async fn run<T, F>(&self, slot: Slot, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let runs = self.runs.clone();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            runs.inc();
            drop(slot);
            // The request may be gone (its client left); the work is done.
            let _ = answer.send(outcome);
        });
        // The slots never exceed the channel's room, so it is never full.
        self.sender.try_send(job).map_err(|err| {
            let why = match err {
                TrySendError::Full(_) => "full",
                TrySendError::Disconnected(_) => "stopped",
            };
            ApiError::internal(anyhow::anyhow!("the password workers' queue is {why}"))
        })?;
        match answered.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(ApiError::internal(anyhow::anyhow!(
                "a password check panicked"
            ))),
            Err(_) => Err(ApiError::internal(anyhow::anyhow!(
                "a password worker stopped"
            ))),
        }
    }
}

/// One worker: takes the next job until the server goes.
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job.
        let next = receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_than_threads_and_queue_are_held_and_each_slot_comes_back() {
        let work = PasswordWork::start(1, 2).unwrap();
        let slots: Vec<Slot> = (0..3).map(|_| work.slot().expect("a slot")).collect();
        assert!(work.slot().is_none(), "full");
        assert_eq!(work.refused.get(), 1);
        let mut answers = Vec::new();
        for (n, slot) in slots.into_iter().enumerate() {
            answers.push(work.run(slot, move || n * 2));
        }
        let mut got = Vec::new();
        for answer in answers {
            got.push(answer.await.unwrap());
        }
        assert_eq!(got, [0, 2, 4]);
        assert_eq!(work.runs.get(), 3);
        assert!(work.slot().is_some(), "slots come back after the work");
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_and_the_worker_lives_on() {
        let work = PasswordWork::start(1, 0).unwrap();
        let slot = work.slot().unwrap();
        let failed = work.run(slot, || -> u8 { panic!("boom") }).await;
        assert!(matches!(failed, Err(ApiError::Internal(_))));
        let slot = work.slot().unwrap();
        assert_eq!(work.run(slot, || 7).await.unwrap(), 7);
    }

    #[test]
    fn a_slot_dropped_unused_is_free_again() {
        let work = PasswordWork::start(1, 0).unwrap();
        let slot = work.slot().unwrap();
        assert!(work.slot().is_none());
        drop(slot);
        assert!(work.slot().is_some());
    }
}
