//! Role labels: both layouts round trip, frame rows become bouts, and every kind of bad input
//! is named.

use super::*;

fn animals() -> Vec<String> {
    ["mouse1", "mouse2", "mouse3"].map(String::from).to_vec()
}

fn read_text(text: &str) -> Result<RoleLabels> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roles.csv");
    std::fs::write(&path, text).unwrap();
    read_role_labels(&path, &animals())
}

fn error(text: &str) -> String {
    read_text(text).unwrap_err().to_string()
}

fn bout(agent: &str, target: Option<&str>, behaviour: &str, frames: Range<usize>) -> RoleBout {
    RoleBout {
        agent: agent.into(),
        target: target.map(String::from),
        behaviour: behaviour.into(),
        frames,
    }
}

#[test]
fn frame_rows_in_any_order_become_bouts_of_consecutive_frames() {
    let labels = read_text(
        "frame,agent,target,behaviour\n\
         5,mouse1,mouse2,attack\n3,mouse1,mouse2,attack\n4,mouse1,mouse2,attack\n\
         9,mouse1,mouse2,attack\n4,mouse2,,groom\n4,mouse3,mouse2,attack\n",
    )
    .unwrap();
    assert_eq!(
        labels.bouts,
        vec![
            bout("mouse1", Some("mouse2"), "attack", 3..6),
            bout("mouse1", Some("mouse2"), "attack", 9..10),
            bout("mouse2", None, "groom", 4..5),
            bout("mouse3", Some("mouse2"), "attack", 4..5),
        ]
    );
    assert_eq!(
        labels.behaviours,
        vec![
            ("attack".into(), Role::Directed),
            ("groom".into(), Role::Solo)
        ]
    );
    // Several behaviours at one frame, by different animals.
    let at_4: Vec<_> = labels
        .frame_rows()
        .into_iter()
        .filter(|r| r.0 == 4)
        .collect();
    assert_eq!(at_4.len(), 3);
}

#[test]
fn both_layouts_round_trip() {
    let labels = RoleLabels::from_bouts(
        &animals(),
        vec![
            bout("mouse2", None, "rear", 0..4),
            bout("mouse1", Some("mouse3"), "sniff", 2..7),
            bout("mouse1", Some("mouse3"), "sniff", 7..9),
            bout("mouse3", Some("mouse1"), "sniff", 2..3),
        ],
        "test",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bouts = dir.path().join("bouts.csv");
    write_role_bouts(&bouts, &labels).unwrap();
    let text = std::fs::read_to_string(&bouts).unwrap();
    assert!(
        text.starts_with(
            "agent,target,behaviour,start_frame,stop_frame\nmouse1,mouse3,sniff,2,7\n"
        ),
        "{text}"
    );
    assert_eq!(read_role_labels(&bouts, &animals()).unwrap(), labels);

    let frames = dir.path().join("frames.csv");
    write_role_frames(&frames, &labels).unwrap();
    let back = read_role_labels(&frames, &animals()).unwrap();
    // Adjacent bouts of one role merge in the frames layout: the frames are the same.
    assert_eq!(back.frame_rows(), labels.frame_rows());
    assert_eq!(back.bouts.len(), 3);
    // MABe 2025 calls the behaviour `action`.
    let mabe = read_text("agent,target,action,start_frame,stop_frame\nmouse1,mouse2,chase,10,20\n")
        .unwrap();
    assert_eq!(
        mabe.bouts,
        vec![bout("mouse1", Some("mouse2"), "chase", 10..20)]
    );
}

#[test]
fn bad_input_is_named() {
    let frames = "frame,agent,target,behaviour\n";
    let unknown = error(&format!(
        "{frames}0,mouse1,mouse2,attack\n1,mouse7,mouse2,attack\n"
    ));
    assert!(unknown.contains("roles.csv, line 3 (agent): expected one of the recording's animals (mouse1, mouse2, mouse3), found `mouse7`"), "{unknown}");
    let unknown_target = error(&format!("{frames}0,mouse1,rat,attack\n"));
    assert!(
        unknown_target.contains("line 2 (target)") && unknown_target.contains("found `rat`"),
        "{unknown_target}"
    );
    let itself = error(&format!("{frames}0,mouse1,mouse1,attack\n"));
    assert!(
        itself.contains("another animal than the agent") && itself.contains("the agent itself"),
        "{itself}"
    );
    let no_target = error(
        "agent,target,behaviour,start_frame,stop_frame\nmouse1,mouse2,attack,0,5\nmouse2,,attack,8,9\n",
    );
    assert!(no_target.contains("line 3 (target): expected a target (`attack` is directed at another animal at line 2), found none"), "{no_target}");
    let solo_with_target = error(
        "agent,target,behaviour,start_frame,stop_frame\nmouse1,,groom,0,5\nmouse2,mouse1,groom,8,9\n",
    );
    assert!(
        solo_with_target
            .contains("expected no target (`groom` is done alone at line 2), found a target"),
        "{solo_with_target}"
    );
    let overlap = error(
        "agent,target,behaviour,start_frame,stop_frame\nmouse1,mouse2,chase,0,10\nmouse1,mouse2,chase,8,20\nmouse2,mouse1,chase,8,20\n",
    );
    assert!(overlap.contains("line 3 (frames): expected no overlap with the bout 0..10 of the same agent, target and behaviour at line 2, found 8..20"), "{overlap}");
    let backwards = error("agent,target,behaviour,start_frame,stop_frame\nmouse1,,groom,5,5\n");
    assert!(
        backwards.contains("line 2 (frames): expected a start before the stop"),
        "{backwards}"
    );
    let repeat = error(&format!(
        "{frames}0,mouse1,,groom\n1,mouse1,,groom\n0,mouse1,,groom\n"
    ));
    assert!(repeat.contains("line 4: expected each frame, agent, target and behaviour once, found a repeat of line 2"), "{repeat}");
    let number = error(&format!("{frames}x,mouse1,,groom\n"));
    assert!(
        number.contains("line 2 (frame): expected a frame number"),
        "{number}"
    );
    let empty = error(&format!("{frames}0,,,groom\n"));
    assert!(
        empty.contains("line 2 (agent): expected a agent, found an empty cell")
            || empty.contains("line 2 (agent)"),
        "{empty}"
    );
    let header = error("frame,label\n0,groom\n");
    assert!(
        header.contains("line 1: expected a header `frame,agent,target,behaviour`"),
        "{header}"
    );
    // From a caller's bouts, the place is the bout's index.
    let from_bouts = RoleLabels::from_bouts(
        &animals(),
        vec![bout("mouse1", Some("mouse1"), "x", 0..1)],
        "predictions",
    )
    .unwrap_err()
    .to_string();
    assert!(
        from_bouts.contains("predictions, bout 0 (target)"),
        "{from_bouts}"
    );
}
