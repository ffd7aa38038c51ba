//! Drawing a body as keypoints of a skeleton, in 2D or 3D.

use super::body::{Body, offset, unit};
use super::skeleton::Skeleton;
use crate::pose::Space;

/// Heights above the floor of body parts on all fours, in body lengths.
mod height {
    pub(super) const NOSE: f32 = 0.10;
    pub(super) const EAR: f32 = 0.17;
    pub(super) const NECK: f32 = 0.18;
    pub(super) const BACK: f32 = 0.24;
    pub(super) const HIP: f32 = 0.16;
    pub(super) const TAIL_BASE: f32 = 0.12;
    pub(super) const TAIL_MIDDLE: f32 = 0.03;
}

/// A keypoint on the floor plane plus its height in body lengths.
type Point = ([f32; 2], f32);

/// Write `body`'s keypoints into `out` (`keypoints × space`, keypoint-major), clamped to the arena.
pub(crate) fn render(
    body: &Body,
    skeleton: Skeleton,
    space: Space,
    arena: [f32; 2],
    out: &mut [f32],
) {
    match skeleton {
        Skeleton::Calms21 => write(&calms21(body), body, space, arena, out),
        Skeleton::Mabe22 => write(&mabe22(body), body, space, arena, out),
    }
}

fn write(points: &[Point], body: &Body, space: Space, arena: [f32; 2], out: &mut [f32]) {
    let dims = space.dims();
    let l = body.length();
    for ((xy, z), slot) in points.iter().zip(out.chunks_exact_mut(dims)) {
        // The tracker sees the arena only: a tail against a wall is drawn along the wall.
        slot[0] = xy[0].clamp(0.0, arena[0]);
        slot[1] = xy[1].clamp(0.0, arena[1]);
        if dims == 3 {
            slot[2] = (z + body.elevation) * l;
        }
    }
}

/// The parts both skeletons share: nose, ears, neck, hips, tail base, with heights.
struct Core {
    nose: Point,
    left_ear: Point,
    right_ear: Point,
    neck: Point,
    left_hip: Point,
    right_hip: Point,
    tail_base: Point,
    centre: Point,
}

fn core(body: &Body) -> Core {
    let l = body.length();
    let a = body.anchors();
    let head_side = unit(a.head + std::f32::consts::FRAC_PI_2);
    let rear_side = unit(a.rear + std::f32::consts::FRAC_PI_2);
    let ear_centre = offset(a.neck, unit(a.head), 0.08 * l);
    let hip_centre = offset(a.centre, unit(a.rear), -0.28 * l);
    // Sitting up to groom raises the head and front body.
    let lift = 0.25 * body.head_lift;
    Core {
        nose: (a.nose, height::NOSE + lift),
        left_ear: (offset(ear_centre, head_side, 0.075 * l), height::EAR + lift),
        right_ear: (
            offset(ear_centre, head_side, -0.075 * l),
            height::EAR + lift,
        ),
        neck: (a.neck, height::NECK + 0.8 * lift),
        left_hip: (offset(hip_centre, rear_side, 0.11 * l), height::HIP),
        right_hip: (offset(hip_centre, rear_side, -0.11 * l), height::HIP),
        tail_base: (a.tail_base, height::TAIL_BASE),
        centre: (a.centre, height::BACK + 0.4 * lift),
    }
}

/// CalMS21: nose, left_ear, right_ear, neck, left_hip, right_hip, tail (base).
fn calms21(body: &Body) -> [Point; 7] {
    let c = core(body);
    [
        c.nose,
        c.left_ear,
        c.right_ear,
        c.neck,
        c.left_hip,
        c.right_hip,
        c.tail_base,
    ]
}

/// MABe22: nose, ears, neck, forepaws, center_back, hindpaws, tail base, middle and tip.
fn mabe22(body: &Body) -> [Point; 12] {
    let l = body.length();
    let a = body.anchors();
    let c = core(body);
    let fore = unit(a.fore);
    let fore_side = unit(a.fore + std::f32::consts::FRAC_PI_2);
    let rear = unit(a.rear);
    let rear_side = unit(a.rear + std::f32::consts::FRAC_PI_2);
    // Diagonal gait: each forepaw moves with the opposite hindpaw; stride grows with speed.
    let stride = 0.06 * l * body.speed.min(1.5);
    let swing = body.stride_phase.sin() * stride;
    let paw_base = offset(a.neck, fore, -0.03 * l);
    let forepaw = |side: f32, phase: f32| -> Point {
        let floor = offset(
            offset(paw_base, fore_side, side * 0.09 * l),
            fore,
            phase * swing,
        );
        // Grooming strokes bring the paws up to the snout and back.
        let face = offset(a.nose, fore, -0.04 * l);
        let t = body.paws_to_face;
        let xy = [
            floor[0] + (face[0] - floor[0]) * t,
            floor[1] + (face[1] - floor[1]) * t,
        ];
        (xy, 0.25 * body.head_lift + 0.05 * t)
    };
    let hip_centre = offset(a.centre, rear, -0.30 * l);
    let hindpaw = |side: f32, phase: f32| -> Point {
        let xy = offset(
            offset(hip_centre, rear_side, side * 0.13 * l),
            rear,
            phase * swing,
        );
        (xy, 0.0)
    };
    let tail_middle_dir = a.rear + std::f32::consts::PI + body.tail_swing;
    let tail_middle = offset(a.tail_base, unit(tail_middle_dir), 0.45 * l);
    let tail_tip = offset(
        tail_middle,
        unit(tail_middle_dir + 1.3 * body.tail_swing),
        0.45 * l,
    );
    [
        c.nose,
        c.left_ear,
        c.right_ear,
        c.neck,
        forepaw(1.0, 1.0),
        forepaw(-1.0, -1.0),
        c.centre,
        hindpaw(1.0, -1.0),
        hindpaw(-1.0, 1.0),
        c.tail_base,
        (tail_middle, height::TAIL_MIDDLE),
        (tail_tip, 0.0),
    ]
}
