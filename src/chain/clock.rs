//! The clock chain time is read from: the wall clock, optionally shifted by a fixed offset.
//!
//! The current slot and epoch (which gossip topics to follow, the fork digest in our Status and
//! ENR) come from the wall clock. Recorded light-client data is signed for slots in the past; a
//! test that replays it must make those slots look "now", natively and in the browser alike, so
//! the offset is part of the configuration instead of a test-only code path.

use web_time::SystemTime;

use super::config::ChainConfig;
use crate::primitives::Epoch;

/// The wall clock plus a fixed offset in milliseconds. `Clock::default()` is the wall clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// The wall clock, unshifted.
    pub const SYSTEM: Clock = Clock { offset_ms: 0 };

    /// The wall clock shifted by `offset_ms` (negative: into the past).
    pub fn with_offset_ms(offset_ms: i64) -> Clock {
        Clock { offset_ms }
    }

    /// A clock that reads `start_unix_ms` now and then runs in real time.
    pub fn starting_at_unix_ms(start_unix_ms: u64) -> Clock {
        let start = i128::from(start_unix_ms);
        let now = i128::from(wall_clock_unix_ms());
        let offset = (start - now).clamp(i128::from(i64::MIN), i128::from(i64::MAX));
        Clock::with_offset_ms(offset as i64)
    }

    /// The offset from the wall clock, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Milliseconds since the unix epoch on this clock (0 if shifted before 1970).
    pub fn now_unix_ms(&self) -> u64 {
        self.shift(wall_clock_unix_ms())
    }

    /// `wall_unix_ms` moved by the offset, saturating at 0 and `u64::MAX`.
    fn shift(&self, wall_unix_ms: u64) -> u64 {
        let shifted = i128::from(wall_unix_ms) + i128::from(self.offset_ms);
        shifted.clamp(0, i128::from(u64::MAX)) as u64
    }

    /// The epoch `chain` is in on this clock (0 before genesis or without a genesis time).
    pub fn current_epoch(&self, chain: &ChainConfig) -> Epoch {
        chain.epoch_at_unix_ms(self.now_unix_ms())
    }
}

fn wall_clock_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    #[test]
    fn offsets_shift_and_saturate() {
        assert_eq!(Clock::with_offset_ms(-500).shift(10_000), 9_500);
        assert_eq!(Clock::with_offset_ms(1_500).shift(10_000), 11_500);
        assert_eq!(Clock::with_offset_ms(-20_000).shift(10_000), 0);
        assert_eq!(
            Clock::with_offset_ms(i64::MAX).shift(u64::MAX - 1),
            u64::MAX
        );
        assert_eq!(Clock::default(), Clock::SYSTEM);
    }

    #[test]
    fn a_clock_started_in_the_past_reads_that_time_now() {
        let start_ms = 1_765_486_631_000; // the synthnet capture's clock start
        let clock = Clock::starting_at_unix_ms(start_ms);
        let now = clock.now_unix_ms();
        assert!(
            (start_ms..start_ms + 5_000).contains(&now),
            "{now} vs {start_ms}"
        );
        assert!(clock.offset_ms() < 0);
    }

    #[test]
    fn the_epoch_follows_the_offset_across_a_bpo_boundary() {
        let chain = Network::Mainnet.config();
        let genesis_ms = chain.genesis_time.unwrap() * 1000;
        let bpo1 = 412_672;
        let epoch_ms = 32 * 12_000;
        // Half an epoch before BPO1 and half an epoch after, on a clock shifted from today.
        for (target_ms, epoch) in [
            (genesis_ms + bpo1 * epoch_ms - epoch_ms / 2, bpo1 - 1),
            (genesis_ms + bpo1 * epoch_ms + epoch_ms / 2, bpo1),
        ] {
            let offset = target_ms as i64 - wall_clock_unix_ms() as i64;
            let clock = Clock::with_offset_ms(offset);
            assert_eq!(clock.current_epoch(&chain), epoch);
        }
        assert_ne!(chain.fork_digest(bpo1 - 1), chain.fork_digest(bpo1));
        // Before genesis the epoch is 0, as without a genesis time.
        let before_genesis = Clock::with_offset_ms(-(wall_clock_unix_ms() as i64));
        assert_eq!(before_genesis.current_epoch(&chain), 0);
        let mut no_genesis = chain.clone();
        no_genesis.genesis_time = None;
        assert_eq!(Clock::SYSTEM.current_epoch(&no_genesis), 0);
    }
}
