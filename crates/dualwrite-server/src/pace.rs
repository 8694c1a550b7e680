//! How much one background step takes on. A step (an initial-sync chunk, a catch-up batch) is one
//! transaction, and on PostgreSQL a SERIALIZABLE transaction that reads and writes many rows loses
//! its race with nearly any client write that touches the same rows or queue meanwhile: rerun at the
//! same size, it loses again, and under a steady stream of client writes the map's work never
//! commits. So a step that lost a race is rerun at half the size, down to one row or change, and
//! every step that commits at its first run grows the size back towards the full one.
//!
//! Smaller steps change nothing of what the steps do: each still commits whole or not at all, and
//! the next one starts where the last committed one stopped.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::{Store, Tx, TxError};

/// A step size that halves when a step loses a race and grows back while steps commit at once.
#[derive(Debug)]
pub struct Pace {
    full: usize,
    now: AtomicUsize,
}

impl Pace {
    /// A pace that starts at, and never exceeds, `full` rows or changes per step.
    pub fn new(full: usize) -> Pace {
        let full = full.max(1);
        Pace { full, now: AtomicUsize::new(full) }
    }

    /// The size the next step takes on.
    pub fn size(&self) -> usize {
        self.now.load(Ordering::Relaxed)
    }

    fn lost(&self) {
        let _ = self.now.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some((n / 2).max(1)));
    }

    fn won(&self) {
        let full = self.full;
        let _ =
            self.now.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some((n + n / 4 + 1).min(full)));
    }

    /// Runs one step as [`Store::write`] does, handing `work` the size to take on: smaller on each
    /// rerun after a lost race. A step that commits at its first run grows the size for the next.
    pub fn write<T, E: TxError>(
        &self,
        store: &Store,
        mut work: impl FnMut(&mut dyn Tx, usize) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut runs = 0;
        let out = store.write(|tx| {
            if runs > 0 {
                self.lost();
            }
            runs += 1;
            work(tx, self.size())
        });
        if out.is_ok() && runs == 1 {
            self.won();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Pace;

    #[test]
    fn a_lost_race_halves_the_step_down_to_one_and_steps_that_commit_grow_it_back_to_full() {
        let pace = Pace::new(500);
        for expected in [250, 125, 62, 31, 15, 7, 3, 1, 1] {
            pace.lost();
            assert_eq!(pace.size(), expected);
        }
        let mut grown = vec![pace.size()];
        while pace.size() < 500 {
            pace.won();
            grown.push(pace.size());
            assert!(grown.len() < 40, "the size never grows back: {grown:?}");
        }
        assert!(grown.windows(2).all(|w| w[0] < w[1]), "{grown:?}");
        pace.won();
        assert_eq!(pace.size(), 500, "never beyond the full size");
    }
}
