//! One animal's body: its traits, its state, and the motion primitives behaviours are built from.
//!
//! Units: positions in pixels, speeds in body lengths per second (so a small mouse is not
//! slower-looking than a big one), angles in radians counter-clockwise from +x.

use super::rng::SimRng;

/// Fraction of the body length from the body centre to the neck.
pub(crate) const NECK_OFFSET: f32 = 0.25;
/// Fraction of the body length from the neck to the nose when the head is stretched out.
pub(crate) const HEAD_LENGTH: f32 = 0.25;
/// Fraction of the body length from the body centre to the tail base.
pub(crate) const TAIL_OFFSET: f32 = 0.5;

/// What varies between animals and stays fixed over a recording.
#[derive(Clone, Debug)]
pub(crate) struct Traits {
    /// Nose-to-tail-base length, pixels.
    pub(crate) length: f32,
    /// Multiplies every chosen speed: some mice are quicker.
    pub(crate) speed_scale: f32,
    /// Head oscillation rate while sniffing, Hz.
    pub(crate) sniff_hz: f32,
    /// Stroke rate while grooming, Hz.
    pub(crate) groom_hz: f32,
}

impl Traits {
    /// A random animal around the mean body length.
    pub(crate) fn draw(mean_length: f32, rng: &mut SimRng) -> Self {
        Self {
            length: mean_length * rng.range(0.85, 1.15),
            speed_scale: rng.range(0.8, 1.25),
            sniff_hz: rng.range(2.5, 4.5),
            groom_hz: rng.range(3.0, 6.0),
        }
    }
}

/// Where a body part should go this frame: the pose targets the body relaxes towards.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Posture {
    /// Head angle relative to the front of the body.
    pub(crate) head_yaw: f32,
    /// Head extension: 1 stretched out, about 0.5 tucked in (grooming).
    pub(crate) head_reach: f32,
    /// 0 forepaws on the floor, 1 forepaws at the face.
    pub(crate) paws_to_face: f32,
    /// Body curvature: front rotated by +bend/2, rear by -bend/2.
    pub(crate) bend: f32,
    /// 0 on all fours, 1 sitting up (3D only shows it).
    pub(crate) head_lift: f32,
}

/// The state of one animal's body.
#[derive(Clone, Debug)]
pub(crate) struct Body {
    pub(crate) traits: Traits,
    /// Body centre (mid back), pixels.
    pub(crate) centre: [f32; 2],
    /// Direction the body centre faces.
    pub(crate) heading: f32,
    /// Ground speed, body lengths per second.
    pub(crate) speed: f32,
    /// Rate of heading change, rad/s.
    pub(crate) turn_rate: f32,
    /// Turn rate averaged over ~0.15 s: what head and spine follow (not the step noise).
    pub(crate) turning: f32,
    pub(crate) bend: f32,
    pub(crate) head_yaw: f32,
    pub(crate) head_reach: f32,
    pub(crate) paws_to_face: f32,
    pub(crate) head_lift: f32,
    /// Gaze wandering while exploring (an Ornstein–Uhlenbeck process).
    pub(crate) look: f32,
    /// Gait cycle phase, radians.
    pub(crate) stride_phase: f32,
    pub(crate) tail_swing: f32,
    /// Height above the floor (on top of another animal), in body lengths.
    pub(crate) elevation: f32,
}

/// The body's main points, shared by rendering and by behaviours that aim at body parts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Anchors {
    pub(crate) centre: [f32; 2],
    pub(crate) neck: [f32; 2],
    pub(crate) nose: [f32; 2],
    pub(crate) tail_base: [f32; 2],
    /// Direction of the front half of the body.
    pub(crate) fore: f32,
    /// Direction of the rear half (pointing forward, like `fore`).
    pub(crate) rear: f32,
    /// Direction the head points.
    pub(crate) head: f32,
}

/// Unit vector at angle `a`.
pub(crate) fn unit(a: f32) -> [f32; 2] {
    let (s, c) = a.sin_cos();
    [c, s]
}

/// `p + s * v`.
pub(crate) fn offset(p: [f32; 2], v: [f32; 2], s: f32) -> [f32; 2] {
    [p[0] + s * v[0], p[1] + s * v[1]]
}

/// Euclidean distance.
pub(crate) fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Angle of the vector from `a` to `b`.
pub(crate) fn bearing(a: [f32; 2], b: [f32; 2]) -> f32 {
    (b[1] - a[1]).atan2(b[0] - a[0])
}

/// Angle wrapped into (-π, π].
pub(crate) fn wrap(a: f32) -> f32 {
    use std::f32::consts::{PI, TAU};
    let w = (a + PI).rem_euclid(TAU) - PI;
    if w <= -PI { w + TAU } else { w }
}

/// Fraction of the way to relax towards a target in one step of `dt` with time constant `tau`.
pub(crate) fn relax(dt: f32, tau: f32) -> f32 {
    1.0 - (-dt / tau).exp()
}

/// How the body should move this frame when it steers itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Steer {
    /// Desired heading.
    pub(crate) heading: f32,
    /// Desired speed before the animal's speed scale, body lengths per second.
    pub(crate) speed: f32,
    /// Fastest turn, rad/s.
    pub(crate) max_turn: f32,
    /// Random heading diffusion, rad/√s.
    pub(crate) wobble: f32,
    /// Time to reach the desired speed, s.
    pub(crate) speed_tau: f32,
}

impl Steer {
    /// Calm locomotion towards `heading` at `speed`.
    pub(crate) fn walk(heading: f32, speed: f32) -> Self {
        Self {
            heading,
            speed,
            max_turn: 5.0,
            wobble: 0.6,
            speed_tau: 0.25,
        }
    }
}

impl Body {
    /// A body at rest at `centre`, facing `heading`.
    pub(crate) fn new(traits: Traits, centre: [f32; 2], heading: f32) -> Self {
        Self {
            traits,
            centre,
            heading,
            speed: 0.0,
            turn_rate: 0.0,
            turning: 0.0,
            bend: 0.0,
            head_yaw: 0.0,
            head_reach: 1.0,
            paws_to_face: 0.0,
            head_lift: 0.0,
            look: 0.0,
            stride_phase: 0.0,
            tail_swing: 0.0,
            elevation: 0.0,
        }
    }

    /// Body length, pixels.
    pub(crate) fn length(&self) -> f32 {
        self.traits.length
    }

    /// The main body points in the current state.
    pub(crate) fn anchors(&self) -> Anchors {
        let l = self.traits.length;
        let fore = self.heading + 0.5 * self.bend;
        let rear = self.heading - 0.5 * self.bend;
        let head = fore + self.head_yaw;
        let neck = offset(self.centre, unit(fore), NECK_OFFSET * l);
        let nose = offset(neck, unit(head), HEAD_LENGTH * l * self.head_reach);
        let tail_base = offset(self.centre, unit(rear), -TAIL_OFFSET * l);
        Anchors {
            centre: self.centre,
            neck,
            nose,
            tail_base,
            fore,
            rear,
            head,
        }
    }

    /// Move under the animal's own power, avoiding walls.
    pub(crate) fn steer(&mut self, steer: Steer, arena: [f32; 2], dt: f32, rng: &mut SimRng) {
        let l = self.traits.length;
        // Walls push the desired direction inwards within one body length, so animals turn
        // along walls instead of pressing into them.
        let desired = unit(steer.heading);
        let zone = 1.2 * l;
        let push = |d: f32| ((zone - d) / zone).max(0.0) * 2.5;
        let dir = [
            desired[0] + push(self.centre[0]) - push(arena[0] - self.centre[0]),
            desired[1] + push(self.centre[1]) - push(arena[1] - self.centre[1]),
        ];
        let heading_goal = dir[1].atan2(dir[0]);
        let error = wrap(heading_goal - self.heading);
        let max_step = steer.max_turn * dt;
        let turn = (error * relax(dt, 0.1)).clamp(-max_step, max_step)
            + steer.wobble * dt.sqrt() * rng.normal();
        self.heading = wrap(self.heading + turn);
        self.turn_rate = turn / dt;

        let target = steer.speed.max(0.0) * self.traits.speed_scale;
        self.speed += (target - self.speed) * relax(dt, steer.speed_tau);
        self.speed = (self.speed + 0.03 * rng.normal() * self.speed.min(1.0)).max(0.0);
        self.centre = offset(self.centre, unit(self.heading), self.speed * l * dt);
        self.confine(arena);
    }

    /// Be moved towards `goal` (position and heading) by contact with another animal rather than
    /// by walking (mounting, wrestling), shaken by `jitter` body lengths and `twist` radians.
    /// `rate` is the fraction of the way covered this frame.
    #[allow(clippy::too_many_arguments)] // one call site per contact behaviour; a struct would only rename these
    pub(crate) fn pulled(
        &mut self,
        goal: [f32; 2],
        goal_heading: f32,
        rate: f32,
        jitter: f32,
        twist: f32,
        arena: [f32; 2],
        dt: f32,
        rng: &mut SimRng,
    ) {
        let before = self.centre;
        let l = self.traits.length;
        self.centre = [
            self.centre[0] + (goal[0] - self.centre[0]) * rate + jitter * l * rng.normal(),
            self.centre[1] + (goal[1] - self.centre[1]) * rate + jitter * l * rng.normal(),
        ];
        let turn = wrap(goal_heading - self.heading) * rate + twist * rng.normal();
        self.heading = wrap(self.heading + turn);
        self.turn_rate = turn / dt;
        self.confine(arena);
        self.speed = distance(before, self.centre) / (l * dt);
    }

    /// Push the body by `shift` pixels without changing its gait (bodies can't interpenetrate).
    pub(crate) fn nudge(&mut self, shift: [f32; 2], arena: [f32; 2]) {
        self.centre = offset(self.centre, shift, 1.0);
        self.confine(arena);
    }

    /// Keep the body centre far enough from the walls that the head and hips stay inside.
    fn confine(&mut self, arena: [f32; 2]) {
        let margin = 0.55 * self.traits.length;
        for (c, side) in self.centre.iter_mut().zip(arena) {
            *c = c.clamp(margin, side - margin);
        }
    }

    /// Relax head, paws, bend, tail and elevation towards `posture`; advance the gait.
    pub(crate) fn pose_towards(
        &mut self,
        posture: Posture,
        elevation: f32,
        dt: f32,
        rng: &mut SimRng,
    ) {
        self.turning += (self.turn_rate - self.turning) * relax(dt, 0.15);
        let fast = relax(dt, 0.06);
        self.head_yaw += (posture.head_yaw.clamp(-1.4, 1.4) - self.head_yaw) * fast;
        self.head_reach += (posture.head_reach - self.head_reach) * fast;
        self.paws_to_face += (posture.paws_to_face - self.paws_to_face) * relax(dt, 0.1);
        self.head_lift += (posture.head_lift - self.head_lift) * relax(dt, 0.2);
        self.bend += (posture.bend.clamp(-1.0, 1.0) - self.bend) * relax(dt, 0.15);
        self.elevation += (elevation - self.elevation) * relax(dt, 0.15);
        let tail_goal = -0.8 * self.bend + 0.3 * self.look;
        self.tail_swing += (tail_goal - self.tail_swing) * relax(dt, 0.25);
        // Gaze wanders on its own (Ornstein–Uhlenbeck), more when the animal is still.
        let spread = if self.speed < 0.3 { 0.5 } else { 0.25 };
        self.look += -self.look * dt / 0.6 + spread * dt.sqrt() * rng.normal();
        if self.speed > 0.05 {
            let stride_hz = 2.0 + 2.5 * self.speed.min(4.0);
            self.stride_phase = (self.stride_phase + std::f32::consts::TAU * stride_hz * dt)
                % std::f32::consts::TAU;
        }
    }

    /// The posture of ordinary locomotion: head follows turns and gaze.
    pub(crate) fn roaming_posture(&self) -> Posture {
        Posture {
            head_yaw: (0.08 * self.turning).clamp(-0.6, 0.6) + 0.5 * self.look,
            head_reach: 1.0,
            paws_to_face: 0.0,
            bend: (0.12 * self.turning).clamp(-0.7, 0.7),
            head_lift: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_stays_in_half_open_circle() {
        for a in [-10.0f32, -3.2, -1.0, 0.0, 3.2, 7.0, std::f32::consts::PI] {
            let w = wrap(a);
            assert!(
                w > -std::f32::consts::PI - 1e-6 && w <= std::f32::consts::PI + 1e-6,
                "{a} -> {w}"
            );
            assert!(
                ((a - w) / std::f32::consts::TAU).fract().abs() < 1e-4
                    || ((a - w) / std::f32::consts::TAU).fract().abs() > 1.0 - 1e-4
            );
        }
    }

    #[test]
    fn anchors_lay_nose_ahead_and_tail_behind() {
        let body = Body::new(
            Traits {
                length: 100.0,
                speed_scale: 1.0,
                sniff_hz: 3.0,
                groom_hz: 4.0,
            },
            [200.0, 200.0],
            0.0,
        );
        let a = body.anchors();
        assert!((a.nose[0] - 250.0).abs() < 1e-3);
        assert!((a.tail_base[0] - 150.0).abs() < 1e-3);
    }

    #[test]
    fn steering_never_leaves_the_arena() {
        let mut rng = SimRng::new(1, 0);
        let traits = Traits {
            length: 100.0,
            speed_scale: 1.2,
            sniff_hz: 3.0,
            groom_hz: 4.0,
        };
        let mut body = Body::new(traits, [300.0, 300.0], 0.0);
        for _ in 0..3000 {
            body.steer(Steer::walk(0.3, 5.0), [600.0, 500.0], 1.0 / 30.0, &mut rng);
            assert!(
                (55.0..=545.0).contains(&body.centre[0]),
                "{:?}",
                body.centre
            );
            assert!(
                (55.0..=445.0).contains(&body.centre[1]),
                "{:?}",
                body.centre
            );
        }
    }
}
