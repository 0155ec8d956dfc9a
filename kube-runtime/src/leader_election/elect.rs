//! The election loop: acquire, renew while working, step down or release.
//!
//! It reads and writes the Lease through [`LeaseAccess`], so its timing can be
//! tested against a scripted Lease under tokio's paused clock.

use std::{
    future::Future,
    pin::pin,
    sync::{Mutex, PoisonError},
    task::Poll,
    time::Duration,
};

use futures::future;
use k8s_openapi::{api::coordination::v1::Lease, apimachinery::pkg::apis::meta::v1::MicroTime};
use kube_client::{
    Api,
    core::{ObjectMeta, params::PostParams},
};
use tokio::time::{Instant, sleep, sleep_until, timeout, timeout_at};
use tracing::{debug, info, warn};

use super::{
    Error, Outcome,
    record::{self, Observed, Record},
};

/// The three requests an elector makes on its Lease.
pub(super) trait LeaseAccess: Send + Sync {
    /// Reads the Lease; `None` when it does not exist.
    fn get(&self) -> impl Future<Output = kube_client::Result<Option<Lease>>> + Send;
    /// Creates the Lease; fails with `409 AlreadyExists` if someone was faster.
    fn create(&self, lease: &Lease) -> impl Future<Output = kube_client::Result<Lease>> + Send;
    /// Replaces the Lease; fails with `409 Conflict` if it changed since it was
    /// read (its `resourceVersion` guards the write).
    fn replace(&self, lease: &Lease) -> impl Future<Output = kube_client::Result<Lease>> + Send;
}

/// A Lease in the cluster.
pub(super) struct ApiLease {
    pub(super) api: Api<Lease>,
    pub(super) name: String,
}

impl LeaseAccess for ApiLease {
    async fn get(&self) -> kube_client::Result<Option<Lease>> {
        self.api.get_opt(&self.name).await
    }

    async fn create(&self, lease: &Lease) -> kube_client::Result<Lease> {
        self.api.create(&PostParams::default(), lease).await
    }

    async fn replace(&self, lease: &Lease) -> kube_client::Result<Lease> {
        self.api
            .replace(&self.name, &PostParams::default(), lease)
            .await
    }
}

/// Who competes, for what, with which timings.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) lease_name: String,
    pub(super) identity: String,
    pub(super) lease_duration: Duration,
    pub(super) renew_deadline: Duration,
    pub(super) retry_period: Duration,
}

impl Settings {
    /// Checks the timings guarantee a single leader.
    pub(super) fn validate(&self) -> Result<(), Error> {
        if self.retry_period.is_zero() {
            return Err(Error::InvalidTiming(
                "the retry period must not be zero".into(),
            ));
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(Error::InvalidTiming(format!(
                "the lease duration ({:?}) must be longer than the renew deadline ({:?}), or two replicas could lead at once",
                self.lease_duration, self.renew_deadline
            )));
        }
        if self.renew_deadline <= self.retry_period.mul_f64(1.2) {
            return Err(Error::InvalidTiming(format!(
                "the renew deadline ({:?}) must exceed 1.2 × the retry period ({:?}), to allow a retry",
                self.renew_deadline, self.retry_period
            )));
        }
        Ok(())
    }
}

/// How one attempt to take or renew the Lease went.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// The Lease is ours until `lease_duration` from now.
    Held,
    /// Another replica holds it and it has not expired.
    HeldByOther,
    /// Someone wrote the Lease between our read and our write; try again.
    Raced,
}

/// The moment this replica can no longer assume it leads: `renew_deadline`
/// after the start of its last successful renewal. The renewals push it back;
/// the work is polled only while it has not passed.
struct RenewDeadline(Mutex<Instant>);

impl RenewDeadline {
    fn new(at: Instant) -> Self {
        Self(Mutex::new(at))
    }

    fn at(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push_back_to(&self, at: Instant) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    fn has_passed(&self) -> bool {
        Instant::now() >= self.at()
    }
}

/// Competes for the Lease and tracks what was seen of it.
pub(super) struct Elector<'a, L> {
    lease: &'a L,
    settings: &'a Settings,
    observed: Option<Observed>,
}

impl<'a, L: LeaseAccess> Elector<'a, L> {
    pub(super) fn new(lease: &'a L, settings: &'a Settings) -> Self {
        Self {
            lease,
            settings,
            observed: None,
        }
    }

    /// Waits until the Lease is ours, runs `work` while renewing it, and steps
    /// down (dropping `work`) as soon as it cannot be sure to still lead.
    ///
    /// `on_leading` is told when leadership starts and ends; it ends only
    /// after `work` has been dropped. When `work` completes, the Lease is
    /// released; a release that fails, or takes longer than `renew_deadline`,
    /// is logged and the Lease left to expire: the output is returned either
    /// way.
    pub(super) async fn run<F: Future>(
        &mut self,
        work: F,
        mut on_leading: impl FnMut(bool),
    ) -> Result<Outcome<F::Output>, Error> {
        self.settings.validate()?;
        let last_renewal = self.acquire().await;
        info!(lease = %self.settings.lease_name, identity = %self.settings.identity, "acquired leadership");
        on_leading(true);

        let deadline = RenewDeadline::new(last_renewal + self.settings.renew_deadline);
        let outcome = {
            let mut work = pin!(work);
            let mut renewing = pin!(self.keep_renewing(&deadline));
            // The work runs alongside the renewals: a slow renewal request
            // must not hold the work up, nor a busy work delay a renewal. But
            // the deadline is checked before every poll of the work: after a
            // stall (a blocking call, a paused machine) the work's timer may
            // be ready as well as the renewals', and one more step of work
            // past the deadline may be taken while another replica leads.
            future::poll_fn(|cx| {
                if renewing.as_mut().poll(cx).is_ready() || deadline.has_passed() {
                    return Poll::Ready(Outcome::LostLeadership);
                }
                work.as_mut().poll(cx).map(Outcome::Completed)
            })
            .await
        };
        on_leading(false);
        if matches!(outcome, Outcome::Completed(_)) {
            self.release_in_time().await;
        }
        Ok(outcome)
    }

    /// Renews the Lease every retry period; returns as soon as leadership is
    /// lost: another replica holds the Lease, or no renewal has succeeded for
    /// `renew_deadline`.
    ///
    /// Nothing here may outlast the deadline — neither the wait between
    /// attempts nor a hanging request — since others may take over once
    /// `lease_duration` has passed, and the deadline is what keeps this
    /// replica from still working then.
    async fn keep_renewing(&mut self, deadline: &RenewDeadline) {
        loop {
            let until = deadline.at();
            sleep_until((Instant::now() + self.settings.retry_period).min(until)).await;
            if deadline.has_passed() {
                break;
            }
            let attempt_started = Instant::now();
            match timeout_at(until, self.try_acquire_or_renew()).await {
                Ok(Ok(Attempt::Held)) => {
                    deadline.push_back_to(attempt_started + self.settings.renew_deadline);
                }
                Ok(Ok(Attempt::HeldByOther)) => {
                    warn!(lease = %self.settings.lease_name, "another replica holds the lease; stepping down");
                    return;
                }
                Ok(Ok(Attempt::Raced)) => {
                    debug!(lease = %self.settings.lease_name, "lease changed while renewing; retrying")
                }
                Ok(Err(err)) => {
                    debug!(lease = %self.settings.lease_name, %err, "failed to renew the lease")
                }
                Err(_) => debug!(lease = %self.settings.lease_name, "renewing the lease timed out"),
            }
        }
        warn!(
            lease = %self.settings.lease_name,
            deadline = ?self.settings.renew_deadline,
            "could not renew the lease in time; stepping down"
        );
    }

    /// Tries every retry period until the Lease is ours; returns when the
    /// successful attempt started (the Lease lasts from then at the latest).
    async fn acquire(&mut self) -> Instant {
        loop {
            let attempt_started = Instant::now();
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Held) => return attempt_started,
                Ok(Attempt::HeldByOther | Attempt::Raced) => {}
                Err(err) => {
                    debug!(lease = %self.settings.lease_name, %err, "failed to acquire the lease")
                }
            }
            sleep(jittered(self.settings.retry_period)).await;
        }
    }

    /// One attempt: takes or renews the Lease if the rules allow.
    async fn try_acquire_or_renew(&mut self) -> kube_client::Result<Attempt> {
        let settings = self.settings;
        let now = MicroTime(jiff::Timestamp::now());
        let Some(mut lease) = self.lease.get().await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(settings.lease_name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(record::created_by(
                    &settings.identity,
                    settings.lease_duration,
                    now,
                )),
            };
            return match self.lease.create(&lease).await {
                Ok(_) => Ok(Attempt::Held),
                Err(kube_client::Error::Api(status)) if status.is_already_exists() => {
                    Ok(Attempt::Raced)
                }
                Err(err) => Err(err),
            };
        };

        let spec = lease.spec.take().unwrap_or_default();
        let observed = Observed::update(self.observed.take(), Record::of(&spec), Instant::now());
        let may_take = observed.may_be_taken_by(&settings.identity, Instant::now());
        let held_by_me = observed.record().is_held_by(&settings.identity);
        self.observed = Some(observed);
        if !may_take {
            return Ok(Attempt::HeldByOther);
        }
        lease.spec = Some(record::held_by(
            spec,
            &settings.identity,
            settings.lease_duration,
            now,
        ));
        // The replace carries the resource version we read: if anyone changed
        // the Lease since, it fails and we do not (yet) lead.
        match self.lease.replace(&lease).await {
            Ok(_) => Ok(Attempt::Held),
            Err(kube_client::Error::Api(status)) if status.is_conflict() => {
                debug!(lease = %settings.lease_name, held_by_me, "lost a race writing the lease");
                Ok(Attempt::Raced)
            }
            Err(err) => Err(err),
        }
    }

    /// Releases the Lease, giving up after `renew_deadline`. A release only
    /// spares the next leader the wait for the Lease to expire, so a failure
    /// is worth a warning, not the loss of the work's output (client-go logs
    /// it too).
    async fn release_in_time(&self) {
        let lease = &self.settings.lease_name;
        match timeout(self.settings.renew_deadline, self.release()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                warn!(%lease, %error, "could not release the lease; it will expire by itself");
            }
            Err(_) => warn!(
                %lease,
                deadline = ?self.settings.renew_deadline,
                "releasing the lease took too long; it will expire by itself"
            ),
        }
    }

    /// Gives the Lease up so another replica can take it at once.
    async fn release(&self) -> kube_client::Result<()> {
        let Some(mut lease) = self.lease.get().await? else {
            return Ok(());
        };
        let spec = lease.spec.take().unwrap_or_default();
        if !Record::of(&spec).is_held_by(&self.settings.identity) {
            return Ok(());
        }
        lease.spec = Some(record::released(spec, MicroTime(jiff::Timestamp::now())));
        self.lease.replace(&lease).await?;
        info!(lease = %self.settings.lease_name, identity = %self.settings.identity, "released leadership");
        Ok(())
    }
}

/// The retry period plus up to 20% random extra, so candidates started together
/// do not hit the apiserver in lockstep.
fn jittered(period: Duration) -> Duration {
    // The sub-second part of the wall clock is random enough to spread replicas.
    let nanos = jiff::Timestamp::now().subsec_nanosecond().unsigned_abs();
    let fraction = f64::from(nanos % 1000) / 1000.0 * 0.2;
    period.mul_f64(1.0 + fraction)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    };

    use kube_client::core::{Status, response::reason};

    use super::*;

    /// A Lease kept in memory with the apiserver's optimistic concurrency: a
    /// replace must carry the current resource version. It can be made to fail
    /// every request, as an unreachable apiserver would.
    #[derive(Clone, Default)]
    struct ScriptedLease {
        stored: Arc<Mutex<Option<Lease>>>,
        version: Arc<Mutex<u64>>,
        unreachable: Arc<AtomicBool>,
        /// How long the next read takes (a hanging request), once.
        slow_read: Arc<Mutex<Option<Duration>>>,
    }

    impl ScriptedLease {
        fn next_read_takes(&self, duration: Duration) {
            *self.slow_read.lock().expect("lock") = Some(duration);
        }

        fn unreachable(&self, unreachable: bool) {
            self.unreachable.store(unreachable, Ordering::SeqCst);
        }

        fn holder(&self) -> Option<String> {
            let stored = self.stored.lock().expect("lock");
            stored.as_ref()?.spec.as_ref()?.holder_identity.clone()
        }

        fn check_reachable(&self) -> kube_client::Result<()> {
            if self.unreachable.load(Ordering::SeqCst) {
                return Err(api_error(503, reason::SERVICE_UNAVAILABLE));
            }
            Ok(())
        }

        fn store(&self, mut lease: Lease) -> Lease {
            let mut version = self.version.lock().expect("lock");
            *version += 1;
            lease.metadata.resource_version = Some(version.to_string());
            *self.stored.lock().expect("lock") = Some(lease.clone());
            lease
        }
    }

    fn api_error(code: u16, why: &str) -> kube_client::Error {
        kube_client::Error::Api(Status::failure("scripted", why).with_code(code).boxed())
    }

    impl LeaseAccess for ScriptedLease {
        async fn get(&self) -> kube_client::Result<Option<Lease>> {
            let slow = self.slow_read.lock().expect("lock").take();
            if let Some(duration) = slow {
                sleep(duration).await;
            }
            self.check_reachable()?;
            Ok(self.stored.lock().expect("lock").clone())
        }

        async fn create(&self, lease: &Lease) -> kube_client::Result<Lease> {
            self.check_reachable()?;
            if self.stored.lock().expect("lock").is_some() {
                return Err(api_error(409, reason::ALREADY_EXISTS));
            }
            Ok(self.store(lease.clone()))
        }

        async fn replace(&self, lease: &Lease) -> kube_client::Result<Lease> {
            self.check_reachable()?;
            let current = self.stored.lock().expect("lock").clone();
            let current_version = current.and_then(|l| l.metadata.resource_version);
            if current_version != lease.metadata.resource_version {
                return Err(api_error(409, reason::CONFLICT));
            }
            Ok(self.store(lease.clone()))
        }
    }

    fn settings(identity: &str) -> Settings {
        Settings {
            lease_name: "lock".into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn acquires_a_free_lease_runs_the_work_and_releases() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let mut transitions = Vec::new();
        let outcome = Elector::new(&lease, &settings)
            .run(
                async {
                    sleep(Duration::from_secs(30)).await;
                    lease.holder()
                },
                |leading| transitions.push(leading),
            )
            .await
            .expect("valid settings");
        assert_eq!(
            outcome,
            Outcome::Completed(Some("me".to_string())),
            "held while working"
        );
        assert_eq!(transitions, [true, false]);
        assert_eq!(lease.holder(), None, "released afterwards");
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_take_a_lease_its_holder_keeps_renewing() {
        let lease = ScriptedLease::default();
        let other_settings = settings("other");
        let started = Arc::new(AtomicBool::new(false));
        let other = async {
            Elector::new(&lease, &other_settings)
                .run(sleep(Duration::from_secs(60)), |_| {})
                .await
        };
        let me_settings = settings("me");
        let me = async {
            // Start once the other replica holds the lease.
            sleep(Duration::from_millis(100)).await;
            Elector::new(&lease, &me_settings)
                .run(async { started.store(true, Ordering::SeqCst) }, |_| {})
                .await
        };
        let watch = async {
            // Throughout the other's minute of work, this replica must wait.
            for _ in 0..59 {
                sleep(Duration::from_secs(1)).await;
                assert!(
                    !started.load(Ordering::SeqCst),
                    "took a lease that was being renewed"
                );
                assert_eq!(lease.holder().as_deref(), Some("other"));
            }
        };
        let (other, me, ()) = futures::join!(other, me, watch);
        assert_eq!(other.expect("valid settings"), Outcome::Completed(()));
        assert_eq!(me.expect("valid settings"), Outcome::Completed(()));
        assert!(
            started.load(Ordering::SeqCst),
            "took over once the lease was released"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn takes_over_a_lease_its_holder_stopped_renewing() {
        let lease = ScriptedLease::default();
        // A replica that took the lease and then vanished without releasing it.
        let crashed = settings("crashed");
        Elector::new(&lease, &crashed)
            .try_acquire_or_renew()
            .await
            .expect("reachable");
        let start = Instant::now();
        let me = settings("me");
        let outcome = Elector::new(&lease, &me)
            .run(async { start.elapsed() }, |_| {})
            .await
            .expect("valid settings");
        let Outcome::Completed(waited) = outcome else {
            panic!("expected to lead, got {outcome:?}");
        };
        assert!(
            waited >= crashed.lease_duration,
            "took over after {waited:?}, before the lease expired"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn steps_down_before_the_lease_can_expire_when_renewals_fail() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let last_success = Arc::new(Mutex::new(Instant::now()));
        let outcome = Elector::new(&lease, &settings)
            .run(
                async {
                    sleep(Duration::from_secs(5)).await;
                    *last_success.lock().expect("lock") = Instant::now();
                    lease.unreachable(true);
                    future::pending::<()>().await
                },
                |_| {},
            )
            .await
            .expect("valid settings");
        assert_eq!(outcome, Outcome::LostLeadership);
        let since_renewal = last_success.lock().expect("lock").elapsed();
        assert!(
            since_renewal < settings.lease_duration,
            "still leading {since_renewal:?} after the last renewal, when others may take over after {:?}",
            settings.lease_duration
        );
    }

    /// Drops record when the work was dropped.
    struct DropClock(Arc<Mutex<Option<Instant>>>);

    impl Drop for DropClock {
        fn drop(&mut self) {
            *self.0.lock().expect("lock") = Some(Instant::now());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn steps_down_at_the_renew_deadline_even_between_two_attempts() {
        let lease = ScriptedLease::default();
        // Attempts at 2.4 s and 4.8 s after the last renewal would straddle
        // both the 3 s deadline and the 4 s lease.
        let settings = Settings {
            lease_duration: Duration::from_secs(4),
            renew_deadline: Duration::from_secs(3),
            retry_period: Duration::from_millis(2400),
            ..settings("me")
        };
        let acquired = Arc::new(Mutex::new(None));
        let dropped = Arc::new(Mutex::new(None));
        let outcome = Elector::new(&lease, &settings)
            .run(
                async {
                    let _clock = DropClock(dropped.clone());
                    *acquired.lock().expect("lock") = Some(Instant::now());
                    lease.unreachable(true);
                    future::pending::<()>().await
                },
                |_| {},
            )
            .await
            .expect("valid settings");
        assert_eq!(outcome, Outcome::LostLeadership);
        let acquired = acquired.lock().expect("lock").expect("started");
        let dropped = dropped.lock().expect("lock").expect("dropped");
        assert!(
            dropped.duration_since(acquired) <= settings.renew_deadline,
            "worked {:?} after the last renewal, past the {:?} deadline",
            dropped.duration_since(acquired),
            settings.renew_deadline
        );
    }

    /// Runs `work` while leading, with valid settings.
    async fn lead<T>(
        lease: &ScriptedLease,
        settings: &Settings,
        work: impl Future<Output = T>,
    ) -> Outcome<T> {
        Elector::new(lease, settings)
            .run(work, |_| {})
            .await
            .expect("valid settings")
    }

    #[tokio::test(start_paused = true)]
    async fn the_work_is_not_polled_again_once_the_renew_deadline_has_passed() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let stepped_late = Arc::new(AtomicBool::new(false));
        let work = async {
            lease.unreachable(true);
            // The process stalls (a long blocking call, a paused VM): when it
            // runs again, the deadline is long past and another replica may
            // lead.
            tokio::time::advance(settings.lease_duration * 2).await;
            stepped_late.store(true, Ordering::SeqCst);
            future::pending::<()>().await
        };
        let outcome = lead(&lease, &settings, work).await;
        assert_eq!(outcome, Outcome::LostLeadership);
        assert!(
            !stepped_late.load(Ordering::SeqCst),
            "the work ran a step after the renew deadline had passed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_release_still_returns_the_works_output() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let work = async {
            sleep(Duration::from_secs(3)).await;
            lease.unreachable(true);
            "done"
        };
        assert_eq!(
            lead(&lease, &settings, work).await,
            Outcome::Completed("done"),
            "the output, though the release failed"
        );
        assert_eq!(
            lease.holder().as_deref(),
            Some("me"),
            "left to expire by itself"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_release_gives_up_at_the_renew_deadline() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let start = Instant::now();
        let work = async {
            sleep(Duration::from_secs(3)).await;
            lease.next_read_takes(Duration::from_secs(3600));
            "done"
        };
        assert_eq!(
            lead(&lease, &settings, work).await,
            Outcome::Completed("done")
        );
        assert!(
            start.elapsed() <= Duration::from_secs(3) + settings.renew_deadline,
            "waited {:?} for the release",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_work_goes_on_while_a_renewal_hangs() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let start = Instant::now();
        let outcome = Elector::new(&lease, &settings)
            .run(
                async {
                    // The first renewal, at 2 s, hangs for 5 s.
                    lease.next_read_takes(Duration::from_secs(5));
                    sleep(Duration::from_secs(3)).await;
                    start.elapsed()
                },
                |_| {},
            )
            .await
            .expect("valid settings");
        assert_eq!(
            outcome,
            Outcome::Completed(Duration::from_secs(3)),
            "the work was held up by the renewal"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_brief_outage_shorter_than_the_deadline_keeps_leadership() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let outcome = Elector::new(&lease, &settings)
            .run(
                async {
                    sleep(Duration::from_secs(5)).await;
                    lease.unreachable(true);
                    sleep(Duration::from_secs(5)).await;
                    lease.unreachable(false);
                    sleep(Duration::from_secs(20)).await;
                },
                |_| {},
            )
            .await
            .expect("valid settings");
        assert_eq!(outcome, Outcome::Completed(()));
    }

    #[tokio::test(start_paused = true)]
    async fn steps_down_when_another_replica_took_the_lease() {
        let lease = ScriptedLease::default();
        let settings = settings("me");
        let outcome = Elector::new(&lease, &settings)
            .run(
                async {
                    sleep(Duration::from_secs(3)).await;
                    // Someone overwrites the lease (e.g. an operator by hand).
                    let mut stolen = lease.stored.lock().expect("lock").clone().expect("created");
                    stolen.spec = Some(record::created_by(
                        "intruder",
                        Duration::from_secs(15),
                        MicroTime(jiff::Timestamp::now()),
                    ));
                    lease.store(stolen);
                    future::pending::<()>().await
                },
                |_| {},
            )
            .await
            .expect("valid settings");
        assert_eq!(outcome, Outcome::LostLeadership);
        assert_eq!(
            lease.holder().as_deref(),
            Some("intruder"),
            "the new holder's lease is left alone"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn two_electors_never_lead_at_the_same_time() {
        let lease = ScriptedLease::default();
        let leaders = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let work = |leaders: Arc<AtomicU32>, most: Arc<AtomicU32>| async move {
            let now_leading = leaders.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now_leading, Ordering::SeqCst);
            sleep(Duration::from_secs(20)).await;
            leaders.fetch_sub(1, Ordering::SeqCst);
        };
        let (a, b) = (settings("a"), settings("b"));
        let (mut elector_a, mut elector_b) = (Elector::new(&lease, &a), Elector::new(&lease, &b));
        let (ra, rb) = futures::join!(
            elector_a.run(work(leaders.clone(), most.clone()), |_| {}),
            elector_b.run(work(leaders.clone(), most.clone()), |_| {}),
        );
        assert_eq!(ra.expect("valid settings"), Outcome::Completed(()));
        assert_eq!(rb.expect("valid settings"), Outcome::Completed(()));
        assert_eq!(most.load(Ordering::SeqCst), 1, "both led at once");
    }

    #[tokio::test]
    async fn rejects_timings_that_could_allow_two_leaders() {
        let lease = ScriptedLease::default();
        for (duration, deadline, retry) in [(10, 10, 2), (15, 2, 2), (15, 10, 0)] {
            let settings = Settings {
                lease_duration: Duration::from_secs(duration),
                renew_deadline: Duration::from_secs(deadline),
                retry_period: Duration::from_secs(retry),
                ..settings("me")
            };
            let result = Elector::new(&lease, &settings).run(async {}, |_| {}).await;
            assert!(
                matches!(result, Err(Error::InvalidTiming(_))),
                "{duration}/{deadline}/{retry} accepted"
            );
        }
        assert_eq!(lease.holder(), None, "nothing was written");
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(1));
            assert!(
                d >= Duration::from_secs(1) && d <= Duration::from_millis(1200),
                "{d:?}"
            );
        }
    }
}
