//! The quick exit's keyboard shortcut: Shift pressed three times.

/// Counts Shift presses: three within five seconds mean "leave now".
#[derive(Debug, Default, Clone)]
pub struct ShiftTaps {
    times: Vec<f64>,
}

impl ShiftTaps {
    /// The window in which three presses count.
    pub const WINDOW_MS: f64 = 5_000.0;

    /// Records a key press at `now` (milliseconds); true on the third Shift
    /// within the window. Any other key resets the count, so typing capital
    /// letters (Shift held with a letter) never leaves the page.
    pub fn press(&mut self, key: &str, now: f64) -> bool {
        if key != "Shift" {
            self.times.clear();
            return false;
        }
        self.times.retain(|t| now - *t < Self::WINDOW_MS);
        self.times.push(now);
        if self.times.len() >= 3 {
            self.times.clear();
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shifts_within_five_seconds_mean_exit() {
        let mut taps = ShiftTaps::default();
        assert!(!taps.press("Shift", 0.0));
        assert!(!taps.press("Shift", 1_000.0));
        assert!(taps.press("Shift", 4_999.0));
        // Typing "Last Tuesday, Same": Shift then a letter, three times.
        let mut typing = ShiftTaps::default();
        for (i, key) in ["Shift", "L", "a", "Shift", "T", "u", "Shift", "S"]
            .iter()
            .enumerate()
        {
            assert!(!typing.press(key, i as f64 * 100.0), "{key}");
        }
        let mut slow = ShiftTaps::default();
        assert!(!slow.press("Shift", 0.0));
        assert!(!slow.press("Shift", 3_000.0));
        assert!(!slow.press("Shift", 6_000.0));
        assert!(slow.press("Shift", 7_000.0));
    }
}
