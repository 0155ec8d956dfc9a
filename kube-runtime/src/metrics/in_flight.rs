//! The reconciles running now, read at each scrape: client-go's
//! `workqueue_unfinished_work_seconds` and
//! `workqueue_longest_running_processor_seconds` are ages, which only the
//! moment of the scrape can tell.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, PoisonError},
};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::gauge::ConstGauge,
};
use tokio::time::Instant;

use super::QueueLabels;

/// When each running reconcile started, by controller.
#[derive(Debug, Default)]
pub(crate) struct InFlightCollector {
    controllers: Mutex<BTreeMap<String, Running>>,
}

/// The running reconciles of one controller, by a number of their own.
#[derive(Debug, Default)]
struct Running {
    started: HashMap<u64, Instant>,
    next: u64,
}

impl InFlightCollector {
    /// Lists `controller`, with nothing running yet, so that its series
    /// exist from the start.
    pub(crate) fn register(&self, controller: &str) {
        self.lock().entry(controller.to_string()).or_default();
    }

    /// Notes a reconcile of `controller` starting now; returns its number.
    pub(crate) fn start(&self, controller: &str) -> u64 {
        let mut controllers = self.lock();
        let running = controllers.entry(controller.to_string()).or_default();
        let number = running.next;
        running.next = running.next.wrapping_add(1);
        running.started.insert(number, Instant::now());
        number
    }

    /// Notes the end of reconcile `number` of `controller`.
    pub(crate) fn finish(&self, controller: &str, number: u64) {
        if let Some(running) = self.lock().get_mut(controller) {
            running.started.remove(&number);
        }
    }

    /// Forgets the running reconciles of a controller that stopped.
    pub(crate) fn forget(&self, controller: &str) {
        if let Some(running) = self.lock().get_mut(controller) {
            running.started.clear();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Running>> {
        self.controllers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Seconds run so far by the running reconciles of each controller: the
    /// sum, and the longest.
    fn ages(&self) -> Vec<(String, f64, f64)> {
        let now = Instant::now();
        self.lock()
            .iter()
            .map(|(controller, running)| {
                let ages = running
                    .started
                    .values()
                    .map(|started| now.saturating_duration_since(*started).as_secs_f64());
                let (sum, longest) = ages.fold((0.0, 0.0_f64), |(sum, longest), age| {
                    (sum + age, longest.max(age))
                });
                (controller.clone(), sum, longest)
            })
            .collect()
    }
}

impl Collector for InFlightCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let ages = self.ages();
        for (name, help, pick) in [
            (
                "workqueue_unfinished_work_seconds",
                "Seconds run so far by the reconciles still running; a steady rise hints at stuck reconciles",
                (|sum, _| sum) as fn(f64, f64) -> f64,
            ),
            (
                "workqueue_longest_running_processor_seconds",
                "Seconds the longest running reconcile has run so far",
                |_, longest| longest,
            ),
        ] {
            let gauge = ConstGauge::new(0.0_f64);
            let mut family = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            for (controller, sum, longest) in &ages {
                let labels = QueueLabels {
                    controller: controller.clone(),
                    name: controller.clone(),
                };
                ConstGauge::new(pick(*sum, *longest)).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prometheus_client::registry::Registry;

    use super::*;

    fn scrape(collector: std::sync::Arc<InFlightCollector>) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(collector));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodable");
        text
    }

    #[tokio::test(start_paused = true)]
    async fn running_reconciles_are_aged_at_the_scrape() {
        let collector = std::sync::Arc::new(InFlightCollector::default());
        collector.register("pods");
        assert!(
            scrape(collector.clone()).contains(
                r#"workqueue_longest_running_processor_seconds{controller="pods",name="pods"} 0.0"#
            ),
            "listed before anything runs"
        );
        let first = collector.start("pods");
        tokio::time::advance(Duration::from_secs(3)).await;
        collector.start("pods");
        tokio::time::advance(Duration::from_secs(1)).await;
        let text = scrape(collector.clone());
        for expected in [
            r#"workqueue_unfinished_work_seconds{controller="pods",name="pods"} 5.0"#,
            r#"workqueue_longest_running_processor_seconds{controller="pods",name="pods"} 4.0"#,
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        collector.finish("pods", first);
        let text = scrape(collector.clone());
        assert!(
            text.contains(
                r#"workqueue_longest_running_processor_seconds{controller="pods",name="pods"} 1.0"#
            ),
            "{text}"
        );
        collector.forget("pods");
        let text = scrape(collector);
        assert!(
            text.contains(
                r#"workqueue_unfinished_work_seconds{controller="pods",name="pods"} 0.0"#
            ),
            "{text}"
        );
    }
}
