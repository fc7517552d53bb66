//! Where rendered messages wait for delivery: the [`Outbox`] trait and an in-memory outbox.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use shared::notification::v1::{Message, MessageId, NotifyError};

/// Accepts rendered messages for later delivery.
pub trait Outbox {
    /// Queues `message` and returns its id.
    fn enqueue(&self, message: Message) -> Result<MessageId, NotifyError>;
}

impl<T: Outbox + ?Sized> Outbox for &T {
    fn enqueue(&self, message: Message) -> Result<MessageId, NotifyError> {
        (**self).enqueue(message)
    }
}

impl<T: Outbox + ?Sized> Outbox for std::sync::Arc<T> {
    fn enqueue(&self, message: Message) -> Result<MessageId, NotifyError> {
        (**self).enqueue(message)
    }
}

/// A message in the outbox, with the id it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The id [`Outbox::enqueue`] returned.
    pub id: MessageId,
    /// The message.
    pub message: Message,
}

/// An outbox in memory, safe to share between threads. Ids count up from 1 in queueing order.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    next_id: AtomicU64,
    queued: Mutex<Vec<QueuedMessage>>,
}

impl MemoryOutbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the queued messages, oldest first.
    pub fn messages(&self) -> Vec<QueuedMessage> {
        self.lock().clone()
    }

    /// Takes every queued message out, oldest first, for delivery.
    pub fn drain(&self) -> Vec<QueuedMessage> {
        std::mem::take(&mut *self.lock())
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<QueuedMessage>> {
        // A panic while the lock was held cannot leave the list half-changed (every change is
        // a single push or take), so a poisoned lock is still safe to use.
        self.queued.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Outbox for MemoryOutbox {
    fn enqueue(&self, message: Message) -> Result<MessageId, NotifyError> {
        let mut queued = self.lock();
        // Taking the id under the lock keeps ids in queue order.
        let id = MessageId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        queued.push(QueuedMessage { id, message });
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use shared::notification::v1::{PhoneNumber, SmsText};

    use super::*;

    fn sms(text: &str) -> Message {
        Message::Sms {
            to: PhoneNumber::parse("+4915112345678").unwrap(),
            text: SmsText::parse(text).unwrap(),
        }
    }

    #[test]
    fn messages_queue_in_order_with_ids_from_one() {
        let outbox = MemoryOutbox::new();
        assert!(outbox.is_empty());
        assert_eq!(outbox.enqueue(sms("a")).unwrap(), MessageId(1));
        fn enqueue_via(outbox: impl Outbox, message: Message) -> MessageId {
            outbox.enqueue(message).unwrap()
        }
        assert_eq!(enqueue_via(&outbox, sms("b")), MessageId(2));
        assert_eq!(outbox.len(), 2);
        let drained = outbox.drain();
        assert_eq!(
            drained,
            [
                QueuedMessage {
                    id: MessageId(1),
                    message: sms("a")
                },
                QueuedMessage {
                    id: MessageId(2),
                    message: sms("b")
                },
            ]
        );
        assert!(outbox.is_empty());
        assert_eq!(outbox.enqueue(sms("c")).unwrap(), MessageId(3));
    }

    #[test]
    fn threads_share_one_outbox_without_losing_messages() {
        let outbox = Arc::new(MemoryOutbox::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let outbox = Arc::clone(&outbox);
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        outbox.enqueue(sms("x")).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let ids: Vec<u64> = outbox.messages().iter().map(|q| q.id.0).collect();
        assert_eq!(ids, (1..=100).collect::<Vec<_>>());
    }
}
