//! The scheduler: deduplicates and delays messages until they are due.
//!
//! A controller is asked to reconcile an object many times over: every watch
//! event, every requeue, every child change. The scheduler keeps one entry per
//! message (e.g. per object) and emits it when it is due:
//!
//! - **Merging.** A request for a message that is already scheduled keeps the
//!   earlier of the two times. A requeue in an hour does not delay a change that
//!   must be handled now, and ten changes in a row are handled once.
//! - **Debounce.** With a debounce period `d`, every request is due `d` after its
//!   requested time, and a request arriving before a scheduled message is due
//!   pushes it back to `d` after the new request. A burst of changes is handled
//!   once, when it has settled.
//! - **Holding.** A due message can be held back, e.g. while the same object is
//!   being reconciled (see [`Scheduler::hold_unless`]). It stays due, absorbing
//!   further requests, and is emitted as soon as the hold is lifted.
//!
//! Due messages are emitted in the order they became due.
//!
//! No message waits longer than a year (365 days): a later time, or a longer
//! debounce, is shortened to a year. The timer wheel underneath cannot hold
//! a deadline much more than two years ahead, and panics past it.

use std::{
    collections::{HashMap, VecDeque, hash_map::Entry},
    hash::Hash,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures::{Stream, StreamExt, stream::Fuse};
use pin_project::pin_project;
use tokio::time::Instant;
use tokio_util::time::{DelayQueue, delay_queue};

/// The longest a message waits, whatever time or debounce it asked for: one
/// year.
pub(crate) const LONGEST_DELAY: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// When a message delayed by `delay` from now is due: `delay` from now, or
/// [`LONGEST_DELAY`] from now if that is sooner.
pub(crate) fn due_after(delay: Duration) -> Instant {
    Instant::now() + delay.min(LONGEST_DELAY)
}

/// The time a request for `run_at` is due with `debounce`, at most
/// [`LONGEST_DELAY`] from now (however far `run_at` or `debounce` reach, even
/// beyond what an `Instant` can hold).
fn debounced_deadline(run_at: Instant, debounce: Duration) -> Instant {
    let latest = due_after(LONGEST_DELAY);
    run_at
        .checked_add(debounce)
        .map_or(latest, |deadline| deadline.min(latest))
}

/// A request to emit `message` at `run_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRequest<T> {
    /// What to emit.
    pub message: T,
    /// When to emit it, at the earliest.
    pub run_at: Instant,
}

/// Where a known message stands.
enum Slot {
    /// Waiting for its timer.
    Waiting {
        run_at: Instant,
        timer: delay_queue::Key,
    },
    /// Its time has come; it waits in the due queue to be taken.
    Due,
}

/// A stream of due messages, fed by a stream of [`ScheduleRequest`]s. Made by
/// [`scheduler`] or [`debounced_scheduler`].
///
/// Each message is held twice at most — as the key of its slot and in the timer
/// queue (or, once due, in the due queue) — whatever the number of requests
/// merged into it.
#[pin_project(project = SchedulerProj)]
#[must_use = "streams do nothing unless polled"]
pub struct Scheduler<T, R> {
    /// Every message scheduled or due.
    slots: HashMap<T, Slot>,
    /// The timers of the waiting messages.
    timers: DelayQueue<T>,
    /// Due messages, in the order they became due, with the time each did.
    due: VecDeque<(T, Instant)>,
    /// How many messages have become due so far.
    became_due: u64,
    #[pin]
    requests: Fuse<R>,
    debounce: Duration,
}

impl<T: Eq + Hash + Clone, R: Stream<Item = ScheduleRequest<T>>> Scheduler<T, R> {
    fn new(requests: R, debounce: Duration) -> Self {
        Self {
            slots: HashMap::new(),
            timers: DelayQueue::new(),
            due: VecDeque::new(),
            became_due: 0,
            requests: requests.fuse(),
            debounce,
        }
    }

    /// Emits due messages only when `can_take_message` allows; the others stay
    /// due (and keep absorbing requests) until a later poll allows them.
    pub fn hold_unless<C: Fn(&T) -> bool>(
        self: Pin<&mut Self>,
        can_take_message: C,
    ) -> HoldUnless<'_, T, R, C> {
        HoldUnless {
            scheduler: self,
            can_take_message,
        }
    }

    /// Emits nothing, but keeps accepting requests and moving messages to due.
    pub fn hold(self: Pin<&mut Self>) -> Hold<'_, T, R> {
        Hold { scheduler: self }
    }

    /// Whether `msg` is due and waiting to be emitted.
    pub fn contains_pending(&self, msg: &T) -> bool {
        matches!(self.slots.get(msg), Some(Slot::Due))
    }

    /// How many messages are scheduled or due.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no message is scheduled or due.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// How many messages are due, waiting to be taken (held ones included).
    pub(crate) fn due_len(&self) -> usize {
        self.due.len()
    }

    /// How many messages have become due since the scheduler was made; a
    /// message merging many requests counts once.
    pub(crate) fn became_due(&self) -> u64 {
        self.became_due
    }

    /// The next due message that `can_take` allows, with the time it became
    /// due; `None` once the scheduler has ended.
    pub(crate) fn poll_next_due(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        can_take: impl Fn(&T) -> bool,
    ) -> Poll<Option<(T, Instant)>> {
        self.project().poll_take(cx, can_take)
    }
}

impl<T: Eq + Hash + Clone, R: Stream<Item = ScheduleRequest<T>>> SchedulerProj<'_, T, R> {
    fn schedule(&mut self, request: ScheduleRequest<T>) {
        let run_at = debounced_deadline(request.run_at, *self.debounce);
        match self.slots.entry(request.message) {
            // Already due: it is emitted as soon as it may be anyway.
            Entry::Occupied(entry) if matches!(entry.get(), Slot::Due) => {}
            Entry::Occupied(mut entry) => {
                if let Slot::Waiting {
                    run_at: current,
                    timer,
                } = entry.get_mut()
                {
                    // Earliest wins. With a debounce, a request arriving before
                    // the entry is due also pushes it back to settle the burst
                    // (its own time plus the debounce is then the later one).
                    if *current >= request.run_at {
                        self.timers.reset_at(timer, run_at);
                        *current = run_at;
                    }
                }
            }
            Entry::Vacant(entry) => {
                let timer = self.timers.insert_at(entry.key().clone(), run_at);
                entry.insert(Slot::Waiting { run_at, timer });
            }
        }
    }

    /// Takes every request available now, and moves every expired timer to due.
    fn absorb(&mut self, cx: &mut Context<'_>) {
        while let Poll::Ready(Some(request)) = self.requests.as_mut().poll_next(cx) {
            self.schedule(request);
        }
        while let Poll::Ready(Some(expired)) = self.timers.poll_expired(cx) {
            let due_since = expired.deadline();
            let message = expired.into_inner();
            if let Some(slot) = self.slots.get_mut(&message) {
                *slot = Slot::Due;
                self.due.push_back((message, due_since));
                *self.became_due += 1;
            }
        }
    }

    /// The first due message `can_take` allows, removed from the scheduler,
    /// with the time it became due.
    fn take_due(&mut self, can_take: impl Fn(&T) -> bool) -> Option<(T, Instant)> {
        let index = self.due.iter().position(|(message, _)| can_take(message))?;
        let (message, due_since) = self.due.remove(index)?;
        self.slots.remove(&message);
        Some((message, due_since))
    }

    fn is_finished(&self) -> bool {
        self.requests.is_done() && self.slots.is_empty()
    }

    fn poll_take(
        &mut self,
        cx: &mut Context<'_>,
        can_take: impl Fn(&T) -> bool,
    ) -> Poll<Option<(T, Instant)>> {
        self.absorb(cx);
        if let Some(message) = self.take_due(can_take) {
            Poll::Ready(Some(message))
        } else if self.is_finished() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

/// A [`Scheduler`] emitting only the messages a predicate allows. Made by
/// [`Scheduler::hold_unless`].
#[must_use = "streams do nothing unless polled"]
pub struct HoldUnless<'a, T, R, C> {
    scheduler: Pin<&'a mut Scheduler<T, R>>,
    can_take_message: C,
}

impl<T, R, C> Stream for HoldUnless<'_, T, R, C>
where
    T: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<T>>,
    C: Fn(&T) -> bool + Unpin,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.scheduler
            .as_mut()
            .project()
            .poll_take(cx, &this.can_take_message)
            .map(|due| due.map(|(message, _)| message))
    }
}

/// A [`Scheduler`] that emits nothing while it keeps absorbing requests. Made by
/// [`Scheduler::hold`]. It ends only when the scheduler has ended.
#[must_use = "streams do nothing unless polled"]
pub struct Hold<'a, T, R> {
    scheduler: Pin<&'a mut Scheduler<T, R>>,
}

impl<T, R> Stream for Hold<'_, T, R>
where
    T: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<T>>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut()
            .scheduler
            .as_mut()
            .project()
            .poll_take(cx, |_| false)
            .map(|due| due.map(|(message, _)| message))
    }
}

impl<T, R> Stream for Scheduler<T, R>
where
    T: Eq + Hash + Clone,
    R: Stream<Item = ScheduleRequest<T>>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.project()
            .poll_take(cx, |_| true)
            .map(|due| due.map(|(message, _)| message))
    }
}

/// A scheduler emitting each message when due, merging duplicates.
pub fn scheduler<T: Eq + Hash + Clone, S: Stream<Item = ScheduleRequest<T>>>(
    requests: S,
) -> Scheduler<T, S> {
    Scheduler::new(requests, Duration::ZERO)
}

/// A scheduler that also debounces: see the [module docs](self).
pub fn debounced_scheduler<T: Eq + Hash + Clone, S: Stream<Item = ScheduleRequest<T>>>(
    requests: S,
    debounce: Duration,
) -> Scheduler<T, S> {
    Scheduler::new(requests, debounce)
}

#[cfg(test)]
mod tests {
    use std::pin::pin;

    use futures::{SinkExt, channel::mpsc, poll};

    use super::*;

    fn at(offset_secs: u64) -> Instant {
        Instant::now() + Duration::from_secs(offset_secs)
    }

    fn request(message: &'static str, run_at: Instant) -> ScheduleRequest<&'static str> {
        ScheduleRequest { message, run_at }
    }

    /// Collects what a scheduler over `requests` emits, with the second it
    /// emitted each message at (the clock is paused, so these are exact).
    async fn emitted_with_times(
        requests: Vec<ScheduleRequest<&'static str>>,
        debounce: Duration,
    ) -> Vec<(&'static str, u64)> {
        let start = Instant::now();
        debounced_scheduler(futures::stream::iter(requests), debounce)
            .map(|m| (m, start.elapsed().as_secs()))
            .collect()
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn emits_messages_when_due() {
        let emitted = emitted_with_times(
            vec![request("late", at(10)), request("soon", at(1))],
            Duration::ZERO,
        )
        .await;
        assert_eq!(emitted, [("soon", 1), ("late", 10)]);
    }

    #[tokio::test(start_paused = true)]
    async fn request_for_a_queued_message_merges_and_earliest_wins() {
        let emitted = emitted_with_times(
            vec![
                request("a", at(10)),
                request("a", at(3)),
                request("a", at(7)),
                request("b", at(5)),
                request("b", at(5)),
            ],
            Duration::ZERO,
        )
        .await;
        assert_eq!(emitted, [("a", 3), ("b", 5)]);
    }

    #[tokio::test(start_paused = true)]
    async fn later_request_does_not_delay_a_queued_message() {
        let emitted = emitted_with_times(
            vec![request("a", at(2)), request("a", at(60))],
            Duration::ZERO,
        )
        .await;
        assert_eq!(emitted, [("a", 2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn debounce_collapses_bursts() {
        let (mut tx, rx) = mpsc::unbounded();
        let start = Instant::now();
        let mut scheduler = pin!(debounced_scheduler(rx, Duration::from_secs(2)));
        // A burst: three requests one second apart, each pushing the last back.
        for _ in 0..3 {
            tx.send(request("obj", Instant::now())).await.expect("open");
            assert!(poll!(scheduler.next()).is_pending());
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        let message = scheduler.next().await;
        assert_eq!(message, Some("obj"));
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(4),
            "2 s after the last request"
        );
        assert!(scheduler.is_empty(), "the burst left a single emission");
    }

    #[tokio::test(start_paused = true)]
    async fn debounced_requeue_does_not_delay_an_earlier_request() {
        let (mut tx, rx) = mpsc::unbounded();
        let mut scheduler = pin!(debounced_scheduler(rx, Duration::from_secs(2)));
        tx.send(request("obj", at(60))).await.expect("open");
        tx.send(request("obj", Instant::now())).await.expect("open");
        let before = Instant::now();
        assert_eq!(scheduler.next().await, Some("obj"));
        assert_eq!(before.elapsed(), Duration::from_secs(2));
        assert!(
            scheduler.is_empty(),
            "the requeue merged into the earlier request"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn held_messages_stay_due_and_absorb_requests() {
        let (mut tx, rx) = mpsc::unbounded();
        let mut scheduler = pin!(scheduler(rx));
        tx.send(request("busy", Instant::now()))
            .await
            .expect("open");
        tx.send(request("free", Instant::now()))
            .await
            .expect("open");
        let first = scheduler
            .as_mut()
            .hold_unless(|m| *m != "busy")
            .next()
            .await;
        assert_eq!(first, Some("free"));
        assert!(scheduler.contains_pending(&"busy"));
        // More requests for the held message merge into the due one.
        tx.send(request("busy", Instant::now()))
            .await
            .expect("open");
        tx.send(request("busy", at(30))).await.expect("open");
        assert!(poll!(scheduler.as_mut().hold_unless(|m| *m != "busy").next()).is_pending());
        assert_eq!(scheduler.len(), 1);
        // Lifting the hold emits it once.
        assert_eq!(
            scheduler.as_mut().hold_unless(|_| true).next().await,
            Some("busy")
        );
        assert!(scheduler.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn hold_absorbs_requests_without_emitting() {
        let (mut tx, rx) = mpsc::unbounded();
        let mut scheduler = pin!(scheduler(rx));
        tx.send(request("a", Instant::now())).await.expect("open");
        tx.send(request("b", at(1))).await.expect("open");
        assert!(poll!(scheduler.as_mut().hold().next()).is_pending());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(poll!(scheduler.as_mut().hold().next()).is_pending());
        assert!(scheduler.contains_pending(&"a") && scheduler.contains_pending(&"b"));
        assert_eq!(scheduler.next().await, Some("a"));
        assert_eq!(scheduler.next().await, Some("b"));
    }

    #[tokio::test(start_paused = true)]
    async fn due_messages_come_out_in_due_order() {
        let requests = futures::stream::iter([
            request("c", at(3)),
            request("a", at(1)),
            request("b", at(2)),
        ]);
        let mut scheduler = pin!(scheduler(requests));
        tokio::time::advance(Duration::from_secs(5)).await;
        let mut emitted = Vec::new();
        while let Some(m) = scheduler.next().await {
            emitted.push(m);
        }
        assert_eq!(emitted, ["a", "b", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_requests_end_and_nothing_is_left() {
        let (tx, rx) = mpsc::unbounded::<ScheduleRequest<&str>>();
        let mut scheduler = pin!(scheduler(rx));
        assert!(poll!(scheduler.next()).is_pending());
        drop(tx);
        assert_eq!(scheduler.next().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn drains_scheduled_messages_after_requests_end() {
        let emitted = emitted_with_times(vec![request("a", at(5))], Duration::ZERO).await;
        assert_eq!(
            emitted,
            [("a", 5)],
            "the request stream ended at once, the message still came"
        );
    }

    /// The longest delay the scheduler keeps, as documented on
    /// `Action::requeue`.
    const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);

    #[tokio::test(start_paused = true)]
    async fn deadlines_beyond_a_year_are_kept_a_year_without_panicking() {
        let far = Instant::now() + Duration::from_secs(800 * 24 * 60 * 60);
        let emitted = emitted_with_times(vec![request("far", far)], Duration::ZERO).await;
        assert_eq!(emitted, [("far", YEAR.as_secs())]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_debounce_beyond_a_year_is_kept_a_year_without_panicking() {
        for debounce in [Duration::from_secs(800 * 24 * 60 * 60), Duration::MAX] {
            let emitted = emitted_with_times(vec![request("a", Instant::now())], debounce).await;
            assert_eq!(emitted, [("a", YEAR.as_secs())], "{debounce:?}");
        }
    }
}
