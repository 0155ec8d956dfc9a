//! The pure rules of Lease-based election: who may take a Lease, and what the
//! Lease says after taking, renewing or releasing it.

use std::time::Duration;

use k8s_openapi::{api::coordination::v1::LeaseSpec, apimachinery::pkg::apis::meta::v1::MicroTime};
use tokio::time::Instant;

/// The parts of a Lease that change when its holder takes or renews it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    lease_duration: Duration,
}

impl Record {
    pub(super) fn of(spec: &LeaseSpec) -> Self {
        let seconds = spec.lease_duration_seconds.unwrap_or(0);
        Self {
            // An empty holder is how a released Lease reads.
            holder: spec
                .holder_identity
                .clone()
                .filter(|holder| !holder.is_empty()),
            renew_time: spec.renew_time.clone(),
            lease_duration: Duration::from_secs(u64::try_from(seconds).unwrap_or(0)),
        }
    }

    pub(super) fn is_held_by(&self, identity: &str) -> bool {
        self.holder.as_deref() == Some(identity)
    }
}

/// A Lease record as last seen, and when it was first seen in that state, on
/// this machine's monotonic clock.
///
/// Expiry is judged from when *we* saw the holder's last renewal, never from the
/// timestamps in the Lease: those come from another machine's clock, and clock
/// skew between machines must not make two replicas lead at once.
#[derive(Debug, Clone)]
pub(super) struct Observed {
    record: Record,
    since: Instant,
}

impl Observed {
    /// Folds a freshly read record into what was seen before: the clock starts
    /// again only when the record changed.
    pub(super) fn update(previous: Option<Observed>, record: Record, now: Instant) -> Observed {
        match previous {
            Some(previous) if previous.record == record => previous,
            _ => Observed { record, since: now },
        }
    }

    /// Whether `identity` may write itself into the Lease now: it is free, ours
    /// already, or its holder has not renewed it for its whole duration.
    pub(super) fn may_be_taken_by(&self, identity: &str, now: Instant) -> bool {
        match &self.record.holder {
            None => true,
            Some(holder) if holder == identity => true,
            Some(_) => now.duration_since(self.since) >= self.record.lease_duration,
        }
    }

    pub(super) fn record(&self) -> &Record {
        &self.record
    }
}

/// The spec after `identity` takes or renews the Lease at `now`: a renewal keeps
/// the acquire time and transition count, a takeover resets one and bumps the
/// other.
pub(super) fn held_by(
    current: LeaseSpec,
    identity: &str,
    lease_duration: Duration,
    now: MicroTime,
) -> LeaseSpec {
    let renewing = Record::of(&current).is_held_by(identity);
    let transitions = current.lease_transitions.unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(whole_seconds(lease_duration)),
        acquire_time: if renewing {
            current.acquire_time.clone()
        } else {
            Some(now.clone())
        },
        renew_time: Some(now),
        lease_transitions: Some(if renewing {
            transitions
        } else {
            transitions.saturating_add(1)
        }),
        ..current
    }
}

/// The spec of a Lease created by `identity` at `now`.
pub(super) fn created_by(identity: &str, lease_duration: Duration, now: MicroTime) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(whole_seconds(lease_duration)),
        acquire_time: Some(now.clone()),
        renew_time: Some(now),
        lease_transitions: Some(0),
        ..LeaseSpec::default()
    }
}

/// The spec after its holder gives the Lease up at `now`: no holder, and a
/// one-second duration, so even a replica that still saw it held waits little.
pub(super) fn released(current: LeaseSpec, now: MicroTime) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: Some(now.clone()),
        renew_time: Some(now),
        ..current
    }
}

/// The Lease stores whole seconds: a fraction counts as a whole second, so
/// the others never wait less than the holder's own lease duration (with a
/// renew deadline in the fraction's range, rounding down would let them take
/// over while the holder still works).
fn whole_seconds(duration: Duration) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds.max(1)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(second: i64) -> MicroTime {
        MicroTime(jiff::Timestamp::from_second(second).expect("valid timestamp"))
    }

    fn spec(holder: Option<&str>, renewed_at: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(String::from),
            lease_duration_seconds: Some(15),
            acquire_time: Some(time(0)),
            renew_time: Some(time(renewed_at)),
            lease_transitions: Some(3),
            ..LeaseSpec::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_lease_expires_a_lease_duration_after_its_last_seen_renewal() {
        let mut observed =
            Observed::update(None, Record::of(&spec(Some("other"), 100)), Instant::now());
        tokio::time::advance(Duration::from_secs(10)).await;
        // The holder renews: the expiry clock starts again.
        observed = Observed::update(
            Some(observed),
            Record::of(&spec(Some("other"), 110)),
            Instant::now(),
        );
        tokio::time::advance(Duration::from_secs(10)).await;
        observed = Observed::update(
            Some(observed),
            Record::of(&spec(Some("other"), 110)),
            Instant::now(),
        );
        assert!(
            !observed.may_be_taken_by("me", Instant::now()),
            "renewed 10 s ago, lasts 15 s"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(
            observed.may_be_taken_by("me", Instant::now()),
            "15 s without a renewal"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_ignores_the_holders_clock() {
        // The holder's clock is far in the past: still held until we have
        // waited a whole lease duration ourselves.
        let observed = Observed::update(
            None,
            Record::of(&spec(Some("other"), -1_000_000)),
            Instant::now(),
        );
        assert!(!observed.may_be_taken_by("me", Instant::now()));
    }

    #[test]
    fn a_free_or_own_lease_may_be_taken_at_once() {
        let now = Instant::now();
        for free in [spec(None, 1), spec(Some(""), 1)] {
            assert!(Observed::update(None, Record::of(&free), now).may_be_taken_by("me", now));
        }
        assert!(
            Observed::update(None, Record::of(&spec(Some("me"), 1)), now)
                .may_be_taken_by("me", now)
        );
    }

    #[test]
    fn renewing_keeps_the_acquire_time_and_transitions() {
        let renewed = held_by(spec(Some("me"), 5), "me", Duration::from_secs(15), time(9));
        assert_eq!(renewed.acquire_time, Some(time(0)));
        assert_eq!(renewed.renew_time, Some(time(9)));
        assert_eq!(renewed.lease_transitions, Some(3));
    }

    #[test]
    fn taking_over_resets_the_acquire_time_and_counts_a_transition() {
        let taken = held_by(
            spec(Some("other"), 5),
            "me",
            Duration::from_secs(15),
            time(30),
        );
        assert_eq!(taken.holder_identity.as_deref(), Some("me"));
        assert_eq!(taken.acquire_time, Some(time(30)));
        assert_eq!(taken.lease_transitions, Some(4));
        assert_eq!(taken.lease_duration_seconds, Some(15));
    }

    #[test]
    fn releasing_clears_the_holder() {
        let free = released(spec(Some("me"), 5), time(7));
        assert_eq!(Record::of(&free).holder, None);
        assert_eq!(free.lease_duration_seconds, Some(1));
        assert_eq!(free.lease_transitions, Some(3));
    }

    #[test]
    fn sub_second_durations_are_stored_as_one_second() {
        let created = created_by("me", Duration::from_millis(300), time(1));
        assert_eq!(created.lease_duration_seconds, Some(1));
        assert_eq!(created.lease_transitions, Some(0));
    }

    #[test]
    fn fractional_durations_are_rounded_up_never_down() {
        for (millis, seconds) in [(1000, 1), (1500, 2), (4001, 5), (15_000, 15)] {
            let created = created_by("me", Duration::from_millis(millis), time(1));
            assert_eq!(created.lease_duration_seconds, Some(seconds), "{millis} ms");
        }
    }
}
