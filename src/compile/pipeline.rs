//! One producer and one consumer on two threads, handing work over in
//! batches: reading a source while its rows are selected, merging the
//! stream while its records are formatted and written.
//!
//! A full batch goes to the consumer, which drains it and sends it back
//! emptied to be refilled, so a steady run allocates nothing. With one
//! producer and one consumer, items arrive in the order they were made: the
//! result is that of doing both on one thread, only sooner on two cores.

use std::sync::mpsc;

/// What goes from one thread to the other at a time.
pub(crate) trait Batch: Default + Send {
    /// Items a batch holds when it is handed over.
    const ITEMS: usize;
    /// Full batches that may wait for the consumer before the producer
    /// waits too: what bounds the memory in flight.
    const IN_FLIGHT: usize;

    fn len(&self) -> usize;

    /// Empties the batch for refilling, keeping what it allocated.
    fn clear(&mut self);
}

/// The consumer stopped before the producer: it returned an error or
/// panicked, and says why itself (see `pipeline`).
#[derive(Debug)]
pub(crate) struct Stopped;

/// The producer's end: fills a batch and hands it over when full.
pub(crate) struct Handover<B> {
    filling: B,
    full: mpsc::SyncSender<B>,
    empty: mpsc::Receiver<B>,
}

impl<B: Batch> Handover<B> {
    /// Adds to the batch being filled with `add`, and hands the batch over
    /// once it holds `B::ITEMS`.
    pub(crate) fn add(&mut self, add: impl FnOnce(&mut B)) -> Result<(), Stopped> {
        add(&mut self.filling);
        if self.filling.len() >= B::ITEMS {
            self.send()
        } else {
            Ok(())
        }
    }

    fn send(&mut self) -> Result<(), Stopped> {
        // A batch the consumer emptied, or a new one while none is back yet
        // (at the start, or when the consumer is behind).
        let next = self.empty.try_recv().unwrap_or_else(|_| B::default());
        let full = std::mem::replace(&mut self.filling, next);
        self.full.send(full).map_err(|_| Stopped)
    }
}

/// Runs `produce` on this thread and `consume` on a second one, each batch
/// `produce` fills through the `Handover` going to `consume` in order; the
/// last, partly filled batch is handed over when `produce` returns.
///
/// Returns what `produce` returned and whether `consume` took every batch.
/// When `consume` fails, the handover refuses further batches (`Stopped`)
/// and its error is the one that says why. A panic on either side is
/// carried on to the caller.
pub(crate) fn pipeline<B: Batch, P, E: Send>(
    produce: impl FnOnce(&mut Handover<B>) -> P,
    mut consume: impl FnMut(&B) -> Result<(), E> + Send,
) -> (P, Result<(), E>) {
    let (full_tx, full_rx) = mpsc::sync_channel::<B>(B::IN_FLIGHT);
    let (empty_tx, empty_rx) = mpsc::channel::<B>();
    std::thread::scope(|scope| {
        let consumer = scope.spawn(move || {
            for mut batch in full_rx {
                consume(&batch)?;
                batch.clear();
                // Once the producer is done, no batch is refilled.
                let _ = empty_tx.send(batch);
            }
            Ok(())
        });
        let mut handover = Handover {
            filling: B::default(),
            full: full_tx,
            empty: empty_rx,
        };
        let produced = produce(&mut handover);
        if handover.filling.len() > 0 {
            // Refused only when the consumer stopped: its result says why.
            let _ = handover.send();
        }
        // Closing the channel ends the consumer's loop.
        drop(handover);
        let consumed = consumer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (produced, consumed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Numbers(Vec<u32>);

    impl Batch for Numbers {
        const ITEMS: usize = 7;
        const IN_FLIGHT: usize = 2;

        fn len(&self) -> usize {
            self.0.len()
        }

        fn clear(&mut self) {
            self.0.clear();
        }
    }

    #[test]
    fn every_item_arrives_in_order_and_the_last_batch_too() {
        let mut seen = Vec::new();
        let (produced, consumed) = pipeline::<Numbers, _, ()>(
            |handover| {
                for i in 0..100 {
                    handover.add(|b| b.0.push(i)).unwrap();
                }
                "done"
            },
            |batch| {
                seen.extend_from_slice(&batch.0);
                Ok(())
            },
        );
        assert_eq!((produced, consumed), ("done", Ok(())));
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_consumer_that_fails_stops_the_producer_and_says_why() {
        let (refused, consumed) = pipeline::<Numbers, _, &str>(
            |handover| (0..1000).find(|&i| handover.add(|b| b.0.push(i)).is_err()),
            |batch| {
                if batch.0.contains(&20) {
                    Err("full disk")
                } else {
                    Ok(())
                }
            },
        );
        assert!(refused.is_some());
        assert_eq!(consumed, Err("full disk"));
    }
}
