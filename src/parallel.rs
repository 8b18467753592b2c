//! Work split across the cores: the one helper the command line, the evaluation and the
//! session use, so that each decides only how many threads, never how to hand out the work.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The cores this process may use (2 when the OS does not say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `job` over `items` on every core, each worker taking the next item when it is free;
/// the results keep the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], job: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let workers = cores().min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let r = job(i, &items[i]);
                    if let Ok(mut o) = out.lock() {
                        o[i] = Some(r);
                    }
                }
            });
        }
    });
    out.into_inner()
        .map(|v| v.into_iter().flatten().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_done_once_and_the_results_keep_their_order() {
        let items: Vec<u64> = (0..1000).collect();
        let calls = AtomicUsize::new(0);
        let out = map(&items, |i, &x| {
            calls.fetch_add(1, Ordering::Relaxed);
            // uneven work, so that the workers finish out of order
            if x % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            (i, x * x)
        });
        assert_eq!(calls.load(Ordering::Relaxed), items.len());
        assert_eq!(out.len(), items.len());
        for (k, &(i, sq)) in out.iter().enumerate() {
            assert_eq!((i, sq), (k, (k * k) as u64));
        }
        assert!(map(&[] as &[u8], |_, _| 0u8).is_empty());
    }
}
