//! The arena and its animals, stepped frame by frame: each acting animal's behaviour state
//! machine decides what it does (the resident's alone, or every animal's), and the partner of
//! a social behaviour reacts. Behaviour is the cause of motion, never read off it.

use std::f32::consts::{FRAC_PI_2, PI, TAU};

use super::behaviour::{Behaviour, BoutPolicy};
use super::body::{Anchors, Body, Posture, Steer, Traits, bearing, distance, offset, unit, wrap};
use super::config::{Agents, Resolved};
use super::render::render;
use super::rng::SimRng;

/// Ground truth of one simulated recording, before tracker noise.
pub(crate) struct Truth {
    /// `[frames, individuals, keypoints, space]`, row-major.
    pub(crate) positions: Vec<f32>,
    /// Resident's behaviour per frame.
    pub(crate) behaviour: Vec<Behaviour>,
    /// `[frames, individuals]`: the animal touches another (trackers struggle then).
    pub(crate) contact: Vec<bool>,
    /// Body length of each individual, pixels.
    pub(crate) body_lengths: Vec<f32>,
    /// `[frames, individuals]`: what each acting animal did and to whom; `None` for animals
    /// that do not act on their own and while an animal is out of view.
    pub(crate) acts: Vec<Option<Act>>,
    /// `[frames, individuals]`: the animal is in view (tracked).
    pub(crate) visible: Vec<bool>,
}

/// One animal's behaviour in one frame and, for a social one, its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Act {
    pub(crate) behaviour: Behaviour,
    pub(crate) target: Option<usize>,
}

/// Where the resident aims its nose while investigating.
#[derive(Clone, Copy, Debug)]
enum Spot {
    Face,
    /// Flank on side +1 (left) or -1 (right).
    Flank(f32),
    Rear,
}

/// Phases of an attack bout.
#[derive(Clone, Copy, Debug)]
enum AttackPhase {
    /// Fast run at the partner.
    Lunge,
    /// Wrestling in contact, for the given frames.
    Tussle(usize),
    /// Brief backing off, for the given frames.
    Retreat(usize),
}

/// Kind of grooming bout.
#[derive(Clone, Copy, Debug)]
enum GroomStyle {
    /// Sitting up, paws stroking the face.
    Face,
    /// Head bent round to the flank on side +1 or -1.
    Flank(f32),
}

/// Where an exploring animal is heading.
#[derive(Clone, Copy, Debug)]
enum Goal {
    Stay,
    Point([f32; 2]),
    Animal(usize),
}

/// Exploration state ("other"): a goal, a pace, and how long before choosing again.
#[derive(Clone, Copy, Debug)]
struct Wander {
    goal: Goal,
    speed: f32,
    frames_left: usize,
}

/// One animal: its body and the state of what it is doing on its own.
struct Animal {
    body: Body,
    /// Behaviour when nobody involves it (non-residents: other or grooming).
    solo: Behaviour,
    solo_frames_left: usize,
    wander: Wander,
    groom: GroomStyle,
}

/// An acting animal's current bout.
struct Plan {
    behaviour: Behaviour,
    frames_left: usize,
    partner: usize,
    /// A social bout waiting for the resident to get close enough (labelled other meanwhile).
    approach_for: Option<Behaviour>,
    approach_speed: f32,
    attack: AttackPhase,
    tussle_angle: f32,
    spot: Spot,
    flee_speed: f32,
    /// Mounts are aligned, not perfectly: a per-bout angle and sideways offset.
    mount_skew: f32,
    mount_side: f32,
}

impl Plan {
    /// Whether this bout leads, or approaches to lead, a social bout towards animal `i`.
    fn seeks(&self, i: usize) -> bool {
        self.partner == i && (self.behaviour.is_social() || self.approach_for.is_some())
    }
}

/// What every animal looked like at the start of the frame; all react to this, so update
/// order does not matter.
#[derive(Clone, Copy)]
struct Seen {
    anchors: Anchors,
    heading: f32,
    speed: f32,
    length: f32,
}

impl Seen {
    fn of(body: &Body) -> Self {
        Self {
            anchors: body.anchors(),
            heading: body.heading,
            speed: body.speed,
            length: body.length(),
        }
    }

    fn spot(&self, spot: Spot) -> [f32; 2] {
        match spot {
            Spot::Face => self.anchors.nose,
            Spot::Flank(side) => offset(
                self.anchors.centre,
                unit(self.heading + std::f32::consts::FRAC_PI_2),
                side * 0.12 * self.length,
            ),
            Spot::Rear => self.anchors.tail_base,
        }
    }
}

/// Run the whole simulation.
pub(crate) fn run(cfg: &Resolved, seed: u64) -> Truth {
    let mut world = World::new(cfg, SimRng::new(seed, super::rng::MOTION_STREAM));
    let keypoints = cfg.skeleton.keypoints().len();
    let stride = keypoints * cfg.space.dims();
    let mut truth = Truth {
        positions: vec![0.0; cfg.frames * cfg.individuals * stride],
        behaviour: Vec::with_capacity(cfg.frames),
        contact: vec![false; cfg.frames * cfg.individuals],
        body_lengths: world.animals.iter().map(|a| a.body.length()).collect(),
        acts: vec![None; cfg.frames * cfg.individuals],
        visible: vec![true; cfg.frames * cfg.individuals],
    };
    for frame in 0..cfg.frames {
        world.step(frame);
        truth.behaviour.push(world.plans[0].behaviour);
        let row = frame * cfg.individuals..(frame + 1) * cfg.individuals;
        for (i, (act, visible)) in truth.acts[row.clone()]
            .iter_mut()
            .zip(&mut truth.visible[row])
            .enumerate()
        {
            *visible = world.absent_left[i] == 0;
            *act = world.act(i).filter(|_| *visible);
        }
        let frame_out =
            &mut truth.positions[frame * cfg.individuals * stride..][..cfg.individuals * stride];
        for (animal, out) in world.animals.iter().zip(frame_out.chunks_exact_mut(stride)) {
            render(&animal.body, cfg.skeleton, cfg.space, cfg.arena, out);
        }
        world.mark_contacts(&mut truth.contact[frame * cfg.individuals..][..cfg.individuals]);
    }
    truth
}

struct World<'a> {
    cfg: &'a Resolved,
    rng: SimRng,
    animals: Vec<Animal>,
    /// One per acting animal, indexed like `animals`: the resident's alone, or everyone's.
    plans: Vec<Plan>,
    /// Per animal: frames until it comes back into view (0 = in view).
    absent_left: Vec<usize>,
    /// Only grooming and other: what non-residents may do on their own.
    solo_policy: BoutPolicy,
    seen: Vec<Seen>,
}

impl<'a> World<'a> {
    fn new(cfg: &'a Resolved, mut rng: SimRng) -> Self {
        let arena = cfg.arena;
        let mut animals: Vec<Animal> = Vec::with_capacity(cfg.individuals);
        for _ in 0..cfg.individuals {
            let traits = Traits::draw(cfg.body_length, &mut rng);
            let l = traits.length;
            // Start apart: rejection-sample a spot at least 1.5 body lengths from the others.
            let mut centre = [arena[0] / 2.0, arena[1] / 2.0];
            for _ in 0..64 {
                centre = [rng.range(l, arena[0] - l), rng.range(l, arena[1] - l)];
                if animals
                    .iter()
                    .all(|a| distance(a.body.centre, centre) > 1.5 * l)
                {
                    break;
                }
            }
            let body = Body::new(traits, centre, rng.range(-PI, PI));
            animals.push(Animal {
                body,
                solo: Behaviour::Other,
                solo_frames_left: 0,
                wander: Wander {
                    goal: Goal::Stay,
                    speed: 0.0,
                    frames_left: 0,
                },
                groom: GroomStyle::Face,
            });
        }
        let mut solo_policy = cfg.bouts.clone();
        for behaviour in Behaviour::ALL {
            if behaviour.is_social() {
                solo_policy.enabled[behaviour.id() as usize] = false;
            }
        }
        let seen = animals.iter().map(|a| Seen::of(&a.body)).collect();
        let acting = match cfg.agents {
            Agents::Resident => 1,
            Agents::All => animals.len(),
        };
        let plans = (0..acting)
            .map(|_| Plan {
                behaviour: Behaviour::Other,
                frames_left: 0,
                partner: 0,
                approach_for: None,
                approach_speed: 1.0,
                attack: AttackPhase::Lunge,
                tussle_angle: 0.0,
                spot: Spot::Face,
                flee_speed: 2.5,
                mount_skew: 0.0,
                mount_side: 0.0,
            })
            .collect();
        Self {
            cfg,
            rng,
            absent_left: vec![0; animals.len()],
            animals,
            plans,
            solo_policy,
            seen,
        }
    }

    /// Advance one frame.
    fn step(&mut self, frame: usize) {
        for (seen, animal) in self.seen.iter_mut().zip(&self.animals) {
            *seen = Seen::of(&animal.body);
        }
        if self.cfg.leave_rate > 0.0 {
            self.come_and_go();
        }
        for agent in 0..self.plans.len() {
            self.update_plan(agent);
        }
        let t = frame as f32 * self.cfg.dt;
        for i in 0..self.animals.len() {
            if i < self.plans.len() && self.reacting_to(i).is_none() {
                self.move_agent(i, t);
            } else {
                self.move_other(i, t);
            }
        }
        self.keep_bodies_apart();
    }

    /// What animal `i` does now, if it acts on its own: its behaviour while it leads, `other`
    /// while it only reacts to another's.
    fn act(&self, i: usize) -> Option<Act> {
        let plan = self.plans.get(i)?;
        let behaviour = plan.behaviour;
        Some(Act {
            behaviour,
            target: behaviour.is_social().then_some(plan.partner),
        })
    }

    /// The animal leading a bout that animal `i` is the partner of, once it has reached `i`
    /// (a partner has one leader at a time: see [`World::free_partners`]).
    fn involved_by(&self, i: usize) -> Option<usize> {
        self.plans.iter().enumerate().find_map(|(agent, plan)| {
            (agent != i
                && plan.partner == i
                && plan.behaviour.is_social()
                && plan.approach_for.is_none())
            .then_some(agent)
        })
    }

    /// Animal `i`'s leader when it is wrestled, chased or mounted: it then only reacts. Being
    /// sniffed does not stop an animal that acts on its own.
    fn reacting_to(&self, i: usize) -> Option<usize> {
        self.involved_by(i)
            .filter(|&agent| self.plans[agent].behaviour != Behaviour::Investigation)
    }

    /// Whether animal `i` leads or awaits a social bout, or is another's partner.
    fn engaged(&self, i: usize) -> bool {
        let leads = self
            .plans
            .get(i)
            .is_some_and(|p| p.behaviour.is_social() || p.approach_for.is_some());
        leads || self.sought_by_another(i, i)
    }

    /// Whether an animal other than `i` and `besides` seeks a social bout with `i`.
    fn sought_by_another(&self, i: usize, besides: usize) -> bool {
        self.plans
            .iter()
            .enumerate()
            .any(|(agent, p)| agent != i && agent != besides && p.seeks(i))
    }

    /// Animals out of view come back when their time is up; a free animal in view may leave.
    fn come_and_go(&mut self) {
        for i in 0..self.animals.len() {
            if self.absent_left[i] > 0 {
                self.absent_left[i] -= 1;
            } else if !self.engaged(i) && self.rng.chance(self.cfg.leave_rate) {
                self.absent_left[i] = (self.rng.range(2.0, 8.0) / self.cfg.dt) as usize;
            }
        }
    }

    /// An acting animal's semi-Markov behaviour machine: bouts of sampled length, then a
    /// transition.
    fn update_plan(&mut self, agent: usize) {
        if self.reacting_to(agent).is_some() {
            // Wrestled, chased or mounted: whatever it was doing stops while it reacts.
            let plan = &mut self.plans[agent];
            plan.behaviour = Behaviour::Other;
            plan.approach_for = None;
            return;
        }
        if let Some(next) = self.plans[agent].approach_for {
            if self.within_reach(agent, next) {
                self.begin(agent, next);
                return;
            }
            let plan = &mut self.plans[agent];
            if plan.frames_left == 0 {
                // Gave up approaching: carry on exploring.
                plan.approach_for = None;
                plan.frames_left = self.cfg.bouts.duration(Behaviour::Other, &mut self.rng);
            }
        } else if self.plans[agent].frames_left == 0 {
            let mut next = self
                .cfg
                .bouts
                .next(self.plans[agent].behaviour, &mut self.rng);
            if next.is_social() {
                match self.choose_partner(agent) {
                    Some(partner) => self.plans[agent].partner = partner,
                    // Nobody free to approach (or itself out of view): it explores instead.
                    None => next = Behaviour::Other,
                }
            }
            if next.is_social() && !self.within_reach(agent, next) {
                let plan = &mut self.plans[agent];
                plan.behaviour = Behaviour::Other;
                plan.approach_for = Some(next);
                plan.approach_speed = self.rng.range(0.8, 1.6);
                plan.frames_left = (4.0 / self.cfg.dt) as usize;
                plan.frames_left -= 1;
                return;
            }
            self.begin(agent, next);
            return;
        }
        let plan = &mut self.plans[agent];
        plan.frames_left = plan.frames_left.saturating_sub(1);
    }

    /// Start a bout of `behaviour` of `agent` now.
    fn begin(&mut self, agent: usize, behaviour: Behaviour) {
        let plan = &mut self.plans[agent];
        plan.behaviour = behaviour;
        plan.approach_for = None;
        plan.frames_left = self
            .cfg
            .bouts
            .duration(behaviour, &mut self.rng)
            .saturating_sub(1);
        plan.attack = AttackPhase::Lunge;
        plan.flee_speed = self.rng.range(2.2, 3.4);
        plan.mount_skew = 0.15 * self.rng.normal();
        plan.mount_side = 0.06 * self.rng.normal();
        match behaviour {
            Behaviour::Investigation => {
                // Sniff whatever part is closest first, as mice do on contact.
                let nose = self.seen[agent].anchors.nose;
                let partner = &self.seen[plan.partner];
                let spots = [Spot::Face, Spot::Flank(1.0), Spot::Flank(-1.0), Spot::Rear];
                plan.spot = spots
                    .into_iter()
                    .min_by(|a, b| {
                        distance(nose, partner.spot(*a))
                            .total_cmp(&distance(nose, partner.spot(*b)))
                    })
                    .unwrap_or(Spot::Face);
            }
            Behaviour::Grooming => self.animals[agent].groom = draw_groom_style(&mut self.rng),
            Behaviour::Other => self.animals[agent].wander.frames_left = 0,
            _ => {}
        }
    }

    /// A partner for a social bout of `agent`: a random one of those free, or the nearest.
    fn choose_partner(&mut self, agent: usize) -> Option<usize> {
        let candidates = self.free_partners(agent);
        if candidates.is_empty() {
            return None;
        }
        if candidates.len() == 1 || self.rng.chance(0.3) {
            return Some(candidates[self.rng.index(candidates.len())]);
        }
        let me = self.seen[agent].anchors.centre;
        candidates.into_iter().min_by(|&a, &b| {
            distance(me, self.seen[a].anchors.centre)
                .total_cmp(&distance(me, self.seen[b].anchors.centre))
        })
    }

    /// Animals `agent` may choose for a social bout: every other one when only the resident
    /// acts; otherwise those in view that nobody else has chosen and that lead no wrestling,
    /// chase or mount of their own (so each animal has at most one leader).
    fn free_partners(&self, agent: usize) -> Vec<usize> {
        if self.absent_left[agent] > 0 {
            return Vec::new();
        }
        (0..self.animals.len())
            .filter(|&i| i != agent)
            .filter(|&i| {
                self.plans.len() == 1
                    || (self.absent_left[i] == 0
                        && !self.sought_by_another(i, agent)
                        && !self.plans[i]
                            .approach_for
                            .is_some_and(|b| b != Behaviour::Investigation)
                        && !matches!(
                            self.plans[i].behaviour,
                            Behaviour::Attack | Behaviour::Chase | Behaviour::Mount
                        ))
            })
            .collect()
    }

    /// Whether `agent` is close enough to its partner to start `behaviour`.
    fn within_reach(&self, agent: usize, behaviour: Behaviour) -> bool {
        let me = &self.seen[agent];
        let other = &self.seen[self.plans[agent].partner];
        let l = me.length;
        match behaviour {
            Behaviour::Investigation => {
                [Spot::Face, Spot::Flank(1.0), Spot::Flank(-1.0), Spot::Rear]
                    .into_iter()
                    .any(|s| distance(me.anchors.nose, other.spot(s)) < 0.5 * l)
            }
            Behaviour::Mount => distance(me.anchors.centre, other.anchors.tail_base) < 0.7 * l,
            Behaviour::Attack => distance(me.anchors.centre, other.anchors.centre) < 2.5 * l,
            Behaviour::Chase => distance(me.anchors.centre, other.anchors.centre) < 3.0 * l,
            Behaviour::Grooming | Behaviour::Other => true,
        }
    }

    /// Move an acting animal as its current bout demands.
    fn move_agent(&mut self, agent: usize, t: f32) {
        let arena = self.cfg.arena;
        let dt = self.cfg.dt;
        let plan = &mut self.plans[agent];
        let partner = self.seen[plan.partner];
        let me = self.seen[agent];
        let rng = &mut self.rng;
        let body = &mut self.animals[agent].body;
        let posture = match (plan.behaviour, plan.approach_for) {
            (Behaviour::Other, Some(target)) => {
                let goal = match target {
                    Behaviour::Investigation => partner.spot(nearest_spot(&me, &partner)),
                    Behaviour::Mount => offset(
                        partner.anchors.tail_base,
                        unit(partner.heading),
                        -0.2 * partner.length,
                    ),
                    _ => partner.anchors.centre,
                };
                let d = distance(me.anchors.centre, goal) / me.length;
                let speed = plan.approach_speed.min(1.5 * d);
                body.steer(
                    Steer::walk(bearing(me.anchors.centre, goal), speed),
                    arena,
                    dt,
                    rng,
                );
                body.roaming_posture()
            }
            (Behaviour::Other, None) => {
                let animal = &mut self.animals[agent];
                wander(animal, agent, 1.0, &self.seen, self.cfg, rng);
                animal.body.roaming_posture()
            }
            (Behaviour::Grooming, _) => {
                let animal = &mut self.animals[agent];
                groom(animal, t, arena, dt, rng)
            }
            (Behaviour::Investigation, _) => {
                if rng.chance(dt / 1.5) {
                    plan.spot =
                        [Spot::Face, Spot::Flank(1.0), Spot::Flank(-1.0), Spot::Rear][rng.index(4)];
                }
                let spot = partner.spot(plan.spot);
                let d = distance(me.anchors.nose, spot) / me.length;
                let steer = Steer {
                    heading: bearing(me.anchors.neck, spot),
                    speed: (1.5 * (d - 0.1)).clamp(0.0, 0.6),
                    max_turn: 3.0,
                    wobble: 0.3,
                    speed_tau: 0.2,
                };
                body.steer(steer, arena, dt, rng);
                let sniff = (TAU * body.traits.sniff_hz * t).sin();
                Posture {
                    head_yaw: wrap(bearing(me.anchors.neck, spot) - me.anchors.fore)
                        .clamp(-0.8, 0.8)
                        + 0.15 * sniff,
                    head_reach: 0.9 + 0.1 * sniff,
                    ..body.roaming_posture()
                }
            }
            (Behaviour::Attack, _) => self.attack(agent),
            (Behaviour::Chase, _) => {
                let d = distance(me.anchors.centre, partner.anchors.centre) / me.length;
                let speed =
                    (partner.speed + 1.2 * (d - 1.0)).clamp(1.2, 5.0) / body.traits.speed_scale;
                let steer = Steer {
                    heading: bearing(me.anchors.centre, partner.anchors.tail_base),
                    speed,
                    max_turn: 9.0,
                    wobble: 0.8,
                    speed_tau: 0.1,
                };
                body.steer(steer, arena, dt, rng);
                body.roaming_posture()
            }
            (Behaviour::Mount, _) => {
                // Aligned on the partner's back, slightly behind, thrusting along its axis.
                let axis = unit(partner.heading);
                let thrust = 0.05 * me.length * (TAU * 4.0 * t).sin();
                let side = unit(partner.heading + FRAC_PI_2);
                let behind = offset(partner.anchors.centre, axis, -0.3 * partner.length + thrust);
                let goal = offset(behind, side, plan.mount_side * partner.length);
                body.pulled(
                    goal,
                    partner.heading + plan.mount_skew,
                    0.3,
                    0.004,
                    0.02,
                    arena,
                    dt,
                    rng,
                );
                Posture {
                    head_yaw: 0.1 * (TAU * 1.3 * t).sin(),
                    head_reach: 0.9,
                    paws_to_face: 0.0,
                    bend: 0.5 * body.bend,
                    head_lift: 0.0,
                }
            }
        };
        let elevation = if self.plans[agent].behaviour == Behaviour::Mount {
            0.2
        } else {
            0.0
        };
        let body = &mut self.animals[agent].body;
        body.pose_towards(posture, elevation, dt, &mut self.rng);
    }

    /// An attack by `agent`: lunge, wrestle, back off, lunge again.
    fn attack(&mut self, agent: usize) -> Posture {
        let arena = self.cfg.arena;
        let dt = self.cfg.dt;
        let plan = &mut self.plans[agent];
        let partner = self.seen[plan.partner];
        let me = self.seen[agent];
        let rng = &mut self.rng;
        let body = &mut self.animals[agent].body;
        match plan.attack {
            AttackPhase::Lunge => {
                let steer = Steer {
                    heading: bearing(me.anchors.centre, partner.anchors.centre),
                    speed: 4.5,
                    max_turn: 12.0,
                    wobble: 1.5,
                    speed_tau: 0.08,
                };
                body.steer(steer, arena, dt, rng);
                if distance(body.anchors().nose, partner.anchors.centre) < 0.45 * me.length {
                    plan.attack = AttackPhase::Tussle((rng.range(0.2, 0.7) / dt) as usize);
                    plan.tussle_angle = rng.range(-PI, PI);
                }
            }
            AttackPhase::Tussle(frames) => {
                plan.tussle_angle += 0.4 * rng.normal();
                let goal = offset(
                    partner.anchors.centre,
                    unit(plan.tussle_angle),
                    0.35 * me.length,
                );
                let facing = bearing(me.anchors.centre, partner.anchors.centre);
                body.pulled(goal, facing, 0.3, 0.04, 0.35, arena, dt, rng);
                plan.attack = match frames.checked_sub(1) {
                    Some(0) | None if rng.chance(0.5) => {
                        AttackPhase::Retreat((rng.range(0.15, 0.4) / dt) as usize)
                    }
                    Some(0) | None => AttackPhase::Lunge,
                    Some(left) => AttackPhase::Tussle(left),
                };
            }
            AttackPhase::Retreat(frames) => {
                let away = bearing(partner.anchors.centre, me.anchors.centre);
                let steer = Steer {
                    heading: away,
                    speed: 2.0,
                    max_turn: 10.0,
                    wobble: 1.5,
                    speed_tau: 0.08,
                };
                body.steer(steer, arena, dt, rng);
                plan.attack = match frames.checked_sub(1) {
                    Some(0) | None => AttackPhase::Lunge,
                    Some(left) => AttackPhase::Retreat(left),
                };
            }
        }
        Posture {
            head_yaw: 0.5 * rng.normal(),
            head_reach: 1.0,
            paws_to_face: 0.0,
            bend: 0.6 * rng.normal(),
            head_lift: 0.0,
        }
    }

    /// An animal that does not lead a bout: reacts when another involves it, otherwise
    /// explores or grooms.
    fn move_other(&mut self, i: usize, t: f32) {
        let arena = self.cfg.arena;
        let dt = self.cfg.dt;
        let leader = self.involved_by(i);
        let plan = &self.plans[leader.unwrap_or(0)];
        let resident = self.seen[leader.unwrap_or(0)];
        let me = self.seen[i];
        let rng = &mut self.rng;
        // Its own bout clock runs even while it reacts.
        let animal = &mut self.animals[i];
        if animal.solo_frames_left == 0 {
            animal.solo = self.solo_policy.next(animal.solo, rng);
            animal.solo_frames_left = self.solo_policy.duration(animal.solo, rng);
            animal.wander.frames_left = 0;
            if animal.solo == Behaviour::Grooming {
                animal.groom = draw_groom_style(rng);
            }
        }
        animal.solo_frames_left -= 1;
        let away = bearing(resident.anchors.centre, me.anchors.centre);
        let posture = match (leader.is_some(), plan.behaviour) {
            (true, Behaviour::Attack) => {
                if let AttackPhase::Tussle(_) = plan.attack {
                    let goal = offset(resident.anchors.centre, unit(away), 0.6 * me.length);
                    animal
                        .body
                        .pulled(goal, away + PI, 0.2, 0.04, 0.35, arena, dt, rng);
                } else {
                    let steer = Steer {
                        heading: away,
                        speed: 2.0,
                        max_turn: 10.0,
                        wobble: 2.0,
                        speed_tau: 0.1,
                    };
                    animal.body.steer(steer, arena, dt, rng);
                }
                Posture {
                    head_yaw: 0.4 * rng.normal(),
                    ..animal.body.roaming_posture()
                }
            }
            (true, Behaviour::Chase) => {
                let steer = Steer {
                    heading: away,
                    speed: plan.flee_speed,
                    max_turn: 8.0,
                    wobble: 1.5,
                    speed_tau: 0.12,
                };
                animal.body.steer(steer, arena, dt, rng);
                animal.body.roaming_posture()
            }
            (true, Behaviour::Mount) => {
                let steer = Steer {
                    heading: animal.body.heading,
                    speed: 0.15,
                    max_turn: 1.5,
                    wobble: 0.3,
                    speed_tau: 0.3,
                };
                animal.body.steer(steer, arena, dt, rng);
                Posture {
                    head_yaw: 0.5 * animal.body.look,
                    ..animal.body.roaming_posture()
                }
            }
            (true, Behaviour::Investigation) if animal.solo == Behaviour::Other => {
                // Being sniffed: the partner slows down but keeps going about its business.
                wander(animal, i, 0.3, &self.seen, self.cfg, rng);
                animal.body.roaming_posture()
            }
            _ => match animal.solo {
                Behaviour::Grooming => groom(animal, t, arena, dt, rng),
                _ => {
                    wander(animal, i, 1.0, &self.seen, self.cfg, rng);
                    animal.body.roaming_posture()
                }
            },
        };
        animal.body.pose_towards(posture, 0.0, dt, rng);
    }

    /// Animals not wrestling or mounting don't walk through each other: push overlaps apart.
    fn keep_bodies_apart(&mut self) {
        let in_contact = |a: usize, b: usize| {
            self.plans.get(a).is_some_and(|plan| {
                matches!(plan.behaviour, Behaviour::Mount | Behaviour::Attack)
                    && plan.approach_for.is_none()
                    && plan.partner == b
            })
        };
        let n = self.animals.len();
        for a in 0..n {
            for b in a + 1..n {
                if in_contact(a, b) || in_contact(b, a) {
                    continue;
                }
                let (ca, cb) = (self.animals[a].body.centre, self.animals[b].body.centre);
                let min_gap = 0.3 * (self.animals[a].body.length() + self.animals[b].body.length());
                let d = distance(ca, cb);
                if d < min_gap && d > 1e-3 {
                    let push = 0.25 * (min_gap - d) / d;
                    let shift = [(cb[0] - ca[0]) * push, (cb[1] - ca[1]) * push];
                    self.animals[a]
                        .body
                        .nudge([-shift[0], -shift[1]], self.cfg.arena);
                    self.animals[b].body.nudge(shift, self.cfg.arena);
                }
            }
        }
    }

    /// Flag animals whose body centre is within a body length of another's.
    fn mark_contacts(&self, out: &mut [bool]) {
        for (a, flag) in self.animals.iter().zip(out.iter_mut()) {
            *flag = self.animals.iter().any(|b| {
                !std::ptr::eq(a, b)
                    && distance(a.body.centre, b.body.centre)
                        < 0.5 * (a.body.length() + b.body.length())
            });
        }
    }
}

fn draw_groom_style(rng: &mut SimRng) -> GroomStyle {
    if rng.chance(0.5) {
        GroomStyle::Face
    } else if rng.chance(0.5) {
        GroomStyle::Flank(1.0)
    } else {
        GroomStyle::Flank(-1.0)
    }
}

fn nearest_spot(me: &Seen, other: &Seen) -> Spot {
    [Spot::Face, Spot::Flank(1.0), Spot::Flank(-1.0), Spot::Rear]
        .into_iter()
        .min_by(|a, b| {
            distance(me.anchors.nose, other.spot(*a))
                .total_cmp(&distance(me.anchors.nose, other.spot(*b)))
        })
        .unwrap_or(Spot::Face)
}

/// Grooming: body still, head and paws working rhythmically.
fn groom(animal: &mut Animal, t: f32, arena: [f32; 2], dt: f32, rng: &mut SimRng) -> Posture {
    let body = &mut animal.body;
    let steer = Steer {
        heading: body.heading,
        speed: 0.0,
        max_turn: 1.0,
        wobble: 0.08,
        speed_tau: 0.1,
    };
    body.steer(steer, arena, dt, rng);
    let stroke = (TAU * body.traits.groom_hz * t).sin();
    let sweep = (TAU * 0.7 * t).sin();
    match animal.groom {
        GroomStyle::Face => Posture {
            head_yaw: 0.3 * sweep + 0.35 * stroke,
            head_reach: 0.6 + 0.25 * stroke,
            paws_to_face: 0.8 + 0.2 * stroke,
            bend: 0.0,
            head_lift: 0.8,
        },
        GroomStyle::Flank(side) => Posture {
            head_yaw: side * (0.9 + 0.35 * stroke) + 0.1 * sweep,
            head_reach: 0.75 + 0.2 * stroke,
            paws_to_face: 0.3,
            bend: side * 0.7,
            head_lift: 0.0,
        },
    }
}

/// Exploration ("other"): walk to places or animals, rest, dart. `pace` scales the speed.
fn wander(
    animal: &mut Animal,
    me: usize,
    pace: f32,
    seen: &[Seen],
    cfg: &Resolved,
    rng: &mut SimRng,
) {
    let body = &mut animal.body;
    let l = body.length();
    let here = body.centre;
    let target = match animal.wander.goal {
        Goal::Stay => None,
        Goal::Point(p) => Some(p),
        Goal::Animal(j) => Some(seen[j].anchors.centre),
    };
    let reached = target.is_some_and(|p| distance(here, p) < 0.8 * l);
    if animal.wander.frames_left == 0 || reached {
        animal.wander = draw_wander(me, seen.len(), l, cfg, rng);
    }
    animal.wander.frames_left -= 1;
    let steer = match animal.wander.goal {
        Goal::Stay => Steer {
            heading: body.heading,
            speed: 0.0,
            max_turn: 2.0,
            wobble: 0.4,
            speed_tau: 0.2,
        },
        Goal::Point(p) => Steer::walk(bearing(here, p), pace * animal.wander.speed),
        Goal::Animal(j) => {
            let p = seen[j].anchors.centre;
            let slow_down = 1.5 * distance(here, p) / l;
            Steer::walk(
                bearing(here, p),
                (pace * animal.wander.speed).min(slow_down),
            )
        }
    };
    body.steer(steer, cfg.arena, cfg.dt, rng);
}

fn draw_wander(me: usize, animals: usize, l: f32, cfg: &Resolved, rng: &mut SimRng) -> Wander {
    let seconds =
        |rng: &mut SimRng, lo: f32, hi: f32| ((rng.range(lo, hi) / cfg.dt) as usize).max(1);
    let point = |rng: &mut SimRng| {
        Goal::Point([
            rng.range(l, cfg.arena[0] - l),
            rng.range(l, cfg.arena[1] - l),
        ])
    };
    let r = rng.uniform();
    if r < 0.3 {
        Wander {
            goal: Goal::Stay,
            speed: 0.0,
            frames_left: seconds(rng, 0.5, 3.0),
        }
    } else if r < 0.45 && animals > 1 {
        // Walk up to another animal without interacting: proximity alone is not a behaviour.
        let other = (me + 1 + rng.index(animals - 1)) % animals;
        Wander {
            goal: Goal::Animal(other),
            speed: rng.range(0.5, 1.2),
            frames_left: seconds(rng, 1.0, 4.0),
        }
    } else if r < 0.55 {
        Wander {
            goal: point(rng),
            speed: rng.range(1.8, 3.2),
            frames_left: seconds(rng, 0.5, 2.0),
        }
    } else {
        Wander {
            goal: point(rng),
            speed: rng.range(0.3, 1.2),
            frames_left: seconds(rng, 1.0, 5.0),
        }
    }
}
