//! The simulated behaviours, their fixed vocabulary, bout durations and transitions.

use super::rng::SimRng;

/// A behaviour of the resident animal; its id is its index in [`Behaviour::ALL`].
///
/// Vocabulary order is fixed: the behaviours alphabetically, then `other` last. CalMS21's task-1
/// classes (attack, investigation, mount, other) keep their relative order inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Fast approach, contact and jittery tussling with the partner.
    Attack,
    /// Fast pursuit of a fleeing partner.
    Chase,
    /// Body still, head and forepaws moving over the face or flank.
    Grooming,
    /// Nose close to the partner's face, flank or tail base, moving slowly.
    Investigation,
    /// On top of the partner from behind, aligned with it, thrusting.
    Mount,
    /// Anything else: exploring, resting, approaching, passing by.
    Other,
}

impl Behaviour {
    /// Every behaviour, in vocabulary order.
    pub const ALL: [Behaviour; 6] = [
        Behaviour::Attack,
        Behaviour::Chase,
        Behaviour::Grooming,
        Behaviour::Investigation,
        Behaviour::Mount,
        Behaviour::Other,
    ];

    /// Class id: index in the vocabulary.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The behaviour with class id `id`, if any.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.get(id as usize).copied()
    }

    /// Name as it appears in the vocabulary.
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Attack => "attack",
            Behaviour::Chase => "chase",
            Behaviour::Grooming => "grooming",
            Behaviour::Investigation => "investigation",
            Behaviour::Mount => "mount",
            Behaviour::Other => "other",
        }
    }

    /// True when the behaviour needs a partner animal.
    pub fn is_social(self) -> bool {
        matches!(
            self,
            Behaviour::Attack | Behaviour::Chase | Behaviour::Investigation | Behaviour::Mount
        )
    }

    /// Median and log-space spread of a bout's duration in seconds; the spread makes bouts
    /// of 0.3–5 s common, as in annotated mouse social behaviour.
    fn bout_seconds(self) -> (f32, f32) {
        match self {
            Behaviour::Attack => (0.9, 0.55),
            Behaviour::Chase => (1.1, 0.5),
            Behaviour::Grooming => (2.4, 0.5),
            Behaviour::Investigation => (1.6, 0.6),
            Behaviour::Mount => (2.2, 0.5),
            Behaviour::Other => (1.8, 0.7),
        }
    }

    /// Relative chance of each next behaviour (vocabulary order) after a bout of `self`.
    /// Aggression tends to follow investigation and to turn into chasing, as in resident–intruder
    /// assays; grooming interrupts only quiet phases.
    fn next_weights(self) -> [f32; 6] {
        //               attack chase groom invest mount other
        match self {
            Behaviour::Attack => [0.0, 0.35, 0.0, 0.15, 0.0, 0.5],
            Behaviour::Chase => [0.35, 0.0, 0.0, 0.1, 0.0, 0.55],
            Behaviour::Grooming => [0.0, 0.0, 0.0, 0.15, 0.0, 0.85],
            Behaviour::Investigation => [0.2, 0.05, 0.0, 0.0, 0.25, 0.5],
            Behaviour::Mount => [0.05, 0.0, 0.0, 0.3, 0.0, 0.65],
            Behaviour::Other => [0.1, 0.1, 0.2, 0.35, 0.1, 0.15],
        }
    }
}

impl std::fmt::Display for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The simulator's vocabulary: behaviour names in class-id order.
pub fn vocabulary() -> Vec<String> {
    Behaviour::ALL
        .iter()
        .map(|b| b.name().to_string())
        .collect()
}

/// Bout length limits and the enabled behaviours, shared by every animal of a recording.
#[derive(Clone, Debug)]
pub(crate) struct BoutPolicy {
    /// Enabled behaviours indexed by class id.
    pub(crate) enabled: [bool; 6],
    /// Shortest bout, frames.
    pub(crate) min_frames: usize,
    /// Longest bout, frames.
    pub(crate) max_frames: usize,
    /// Frames per second.
    pub(crate) fps: f32,
}

impl BoutPolicy {
    /// A bout length for `behaviour`, in frames.
    pub(crate) fn duration(&self, behaviour: Behaviour, rng: &mut SimRng) -> usize {
        let (median, sigma) = behaviour.bout_seconds();
        let frames = (rng.log_normal(median, sigma) * self.fps).round() as usize;
        frames.clamp(self.min_frames, self.max_frames)
    }

    /// The behaviour after a bout of `current`, among the enabled ones (`other` when none).
    pub(crate) fn next(&self, current: Behaviour, rng: &mut SimRng) -> Behaviour {
        let mut weights = current.next_weights();
        for (w, on) in weights.iter_mut().zip(self.enabled) {
            if !on {
                *w = 0.0;
            }
        }
        rng.weighted(&weights)
            .map_or(Behaviour::Other, |i| Behaviour::ALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_vocabulary_order_with_other_last() {
        let vocabulary = vocabulary();
        assert_eq!(vocabulary.last().map(String::as_str), Some("other"));
        for behaviour in Behaviour::ALL {
            assert_eq!(vocabulary[behaviour.id() as usize], behaviour.name());
            assert_eq!(Behaviour::from_id(behaviour.id()), Some(behaviour));
        }
        assert_eq!(Behaviour::from_id(6), None);
    }

    #[test]
    fn disabled_behaviours_are_never_chosen() {
        let policy = BoutPolicy {
            enabled: [false, false, true, false, false, true],
            min_frames: 9,
            max_frames: 150,
            fps: 30.0,
        };
        let mut rng = SimRng::new(3, 0);
        for _ in 0..500 {
            let next = policy.next(Behaviour::Other, &mut rng);
            assert!(matches!(next, Behaviour::Grooming | Behaviour::Other));
            let frames = policy.duration(next, &mut rng);
            assert!((9..=150).contains(&frames));
        }
        assert_eq!(policy.next(Behaviour::Grooming, &mut rng), Behaviour::Other);
    }
}
