//! The metrics on hand-computed cases, the smoothing filters on hand-made sequences, and every
//! kind of bad input turned into an error.

use std::ops::Range;

use behavert::Error;
use behavert::eval::protocols::{
    Calms21BinaryTask, Mabe22Split, Mabe22Task, Mabe22TaskKind, argmax_rows, mabe22_task_score,
};
use behavert::eval::{
    Bout, ClassWeight, MetricsReport, Ridge, RidgeClassifier, accuracy, average_precision,
    average_precision_per_class, binary_scores, bout_metrics, bouts, calms21_task3, calms21_task12,
    confusion_matrix, excluded_classes, labelled_bouts, macro_average, majority_filter,
    match_bouts, mean_squared_error, median_filter, multilabel_average_precision,
    multilabel_scores, precision_recall_f1, r2_score, viterbi_smooth,
};
use ndarray::{Array2, array};

fn close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
}

fn some(v: &[u32]) -> Vec<Option<u32>> {
    v.iter().copied().map(Some).collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn precision_recall_f1_by_hand_with_zero_divisions() {
    // Class 0: tp 2, support 3, predicted 3. Class 1: tp 0, support 2, predicted 1.
    // Class 2: never true, predicted once. Class 3: never true, never predicted.
    let truth = some(&[0, 0, 0, 1, 1]);
    let pred = [0, 0, 1, 0, 2];
    let s = precision_recall_f1(&truth, &pred, 4).unwrap();
    close(s[0].precision, 2.0 / 3.0);
    close(s[0].recall, 2.0 / 3.0);
    close(s[0].f1, 2.0 / 3.0);
    close(s[1].precision, 0.0);
    close(s[1].recall, 0.0);
    close(s[1].f1, 0.0);
    close(s[2].precision, 0.0); // predicted once, wrong
    close(s[2].recall, 0.0); // no positives: 0/0 → 0
    assert_eq!((s[3].support, s[3].predicted), (0, 0));
    close(s[3].f1, 0.0); // 0/0 → 0
    let m = macro_average(&s, &[]).unwrap();
    close(m.f1, (2.0 / 3.0) / 4.0);
    let m = macro_average(&s, &[2, 3]).unwrap();
    close(m.f1, (2.0 / 3.0) / 2.0);
    close(accuracy(&truth, &pred, 4).unwrap(), 2.0 / 5.0);
    let cm = confusion_matrix(&truth, &pred, 4).unwrap();
    assert_eq!(
        cm,
        array![[2, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    );
}

#[test]
fn unlabelled_frames_are_ignored_everywhere() {
    let truth = vec![Some(0), None, Some(1), None, Some(1)];
    let pred = [0, 1, 1, 0, 0];
    let probs = array![[0.9, 0.1], [0.0, 1.0], [0.2, 0.8], [1.0, 0.0], [0.6, 0.4]];
    let kept_truth = some(&[0, 1, 1]);
    let kept_pred = [0, 1, 0];
    let kept_probs = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
    assert_eq!(
        precision_recall_f1(&truth, &pred, 2).unwrap(),
        precision_recall_f1(&kept_truth, &kept_pred, 2).unwrap()
    );
    assert_eq!(
        average_precision_per_class(&truth, probs.view()).unwrap(),
        average_precision_per_class(&kept_truth, kept_probs.view()).unwrap()
    );
    close(accuracy(&truth, &pred, 2).unwrap(), 2.0 / 3.0);
    let report = MetricsReport::compute(&names(&["a", "b"]), &truth, &pred, None).unwrap();
    assert_eq!(report.labelled_frames, 3);
}

#[test]
fn average_precision_by_hand() {
    // Thresholds 0.9: P 1, R ½; 0.5 (tie of a positive and a negative): P ⅔, R 1.
    close(
        average_precision(&[false, true, false, true], &[0.5, 0.5, 0.2, 0.9]).unwrap(),
        0.5 + 0.5 * 2.0 / 3.0,
    );
    // Step-wise, not interpolated: P at R=⅓ is 1, at ⅔ is ⅔, at 1 is ¾.
    close(
        average_precision(&[true, false, true, true], &[0.9, 0.8, 0.7, 0.6]).unwrap(),
        (1.0 + 2.0 / 3.0 + 0.75) / 3.0,
    );
    // No positives: scikit-learn gives 0 (recall set to 1 everywhere).
    close(
        average_precision(&[false, false], &[0.3, 0.7]).unwrap(),
        0.0,
    );
    close(average_precision(&[true, true], &[0.3, 0.7]).unwrap(), 1.0);
}

#[test]
fn binary_and_multilabel_by_hand() {
    let s = binary_scores(
        &[Some(true), None, Some(false), Some(true)],
        &[true, true, true, false],
    )
    .unwrap();
    assert_eq!((s.true_positives, s.support, s.predicted), (1, 2, 2));
    close(s.f1, 0.5);
    let truth = vec![
        vec![Some(true), None],
        vec![Some(false), Some(true)],
        vec![None, Some(false)],
    ];
    let pred = array![[true, true], [true, false], [false, false]];
    let s = multilabel_scores(&truth, pred.view()).unwrap();
    close(s[0].precision, 0.5);
    close(s[1].recall, 0.0);
    let scores = array![[0.9, 0.0], [0.1, 0.8], [0.5, 0.1]];
    let ap = multilabel_average_precision(&truth, scores.view()).unwrap();
    close(ap[0], 1.0);
    close(ap[1], 1.0);
}

#[test]
fn regression_by_hand() {
    close(
        mean_squared_error(&[1.0, f64::NAN, 3.0], &[2.0, 100.0, 3.0]).unwrap(),
        0.5,
    );
    // mean 2, SS_tot 2, SS_res 1.
    close(r2_score(&[1.0, 2.0, 3.0], &[1.0, 3.0, 3.0]).unwrap(), 0.5);
    close(r2_score(&[2.0, 2.0], &[2.0, 2.0]).unwrap(), 1.0);
    close(r2_score(&[2.0, 2.0], &[1.0, 2.0]).unwrap(), 0.0);
}

#[test]
fn bouts_are_maximal_runs() {
    assert_eq!(
        bouts(&[3, 3, 1, 1, 1, 3]),
        vec![
            Bout {
                label: 3,
                start: 0,
                end: 2
            },
            Bout {
                label: 1,
                start: 2,
                end: 5
            },
            Bout {
                label: 3,
                start: 5,
                end: 6
            },
        ]
    );
    assert!(bouts(&[]).is_empty());
    // Unlabelled frames break runs and form no bout.
    let b = labelled_bouts(&[Some(1), Some(1), None, Some(1), None, None, Some(0)]);
    assert_eq!(
        b,
        vec![
            Bout {
                label: 1,
                start: 0,
                end: 2
            },
            Bout {
                label: 1,
                start: 3,
                end: 4
            },
            Bout {
                label: 0,
                start: 6,
                end: 7
            },
        ]
    );
}

#[test]
fn bout_metrics_by_hand() {
    let truth = some(&[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
    let pred = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0];
    let r = bout_metrics(&truth, &pred, 2, 0.5).unwrap();
    // IoUs: 5/6, 4/6, 2/3 — all matched; onsets 0, +1, +1.
    assert_eq!(r.matches.len(), 3);
    let c0 = &r.per_class[0];
    assert_eq!((c0.true_bouts, c0.predicted_bouts, c0.matched), (2, 2, 2));
    close(c0.f1, 1.0);
    close(c0.mean_abs_onset_error.unwrap(), 0.5);
    let c1 = &r.per_class[1];
    close(c1.mean_onset_error.unwrap(), 1.0);
    close(r.matches[1].iou, 4.0 / 6.0);
    // A stricter threshold keeps only the first bout.
    let r = bout_metrics(&truth, &pred, 2, 0.7).unwrap();
    assert_eq!(r.matches.len(), 1);
    close(r.per_class[0].precision, 0.5);
    close(r.per_class[1].recall, 0.0);
    assert_eq!(r.per_class[1].mean_abs_onset_error, None);
}

#[test]
fn bout_matching_is_one_to_one_and_greedy_by_iou() {
    let truth = [Bout {
        label: 1,
        start: 0,
        end: 10,
    }];
    let pred = [
        Bout {
            label: 1,
            start: 0,
            end: 6,
        },
        Bout {
            label: 1,
            start: 7,
            end: 10,
        },
    ];
    let m = match_bouts(&truth, &pred, 0.25).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].predicted, pred[0]);
    // Greedy by IoU, not by order: the later, better-overlapping true bout takes the prediction.
    let truth = [
        Bout {
            label: 2,
            start: 0,
            end: 8,
        },
        Bout {
            label: 2,
            start: 3,
            end: 9,
        },
    ];
    let pred = [Bout {
        label: 2,
        start: 3,
        end: 9,
    }];
    let m = match_bouts(&truth, &pred, 0.5).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].truth, truth[1]);
    // Labels must agree.
    let pred = [Bout {
        label: 0,
        start: 3,
        end: 9,
    }];
    assert!(match_bouts(&truth, &pred, 0.5).unwrap().is_empty());
    // Predictions on unlabelled frames are dropped: the predicted bout is cut like the truth.
    let truth = vec![Some(1), Some(1), None, None, Some(1), Some(1)];
    let r = bout_metrics(&truth, &[1, 1, 1, 1, 1, 1], 2, 0.5).unwrap();
    assert_eq!(
        (r.per_class[1].true_bouts, r.per_class[1].predicted_bouts),
        (2, 2)
    );
    close(r.per_class[1].f1, 1.0);
}

#[test]
fn median_and_majority_filters() {
    let x = [0, 0, 1, 0, 0, 2, 2, 1, 2, 2];
    assert_eq!(
        median_filter(&x, 3).unwrap(),
        vec![0, 0, 0, 0, 0, 2, 2, 2, 2, 2]
    );
    assert_eq!(median_filter(&x, 1).unwrap(), x.to_vec());
    assert_eq!(
        majority_filter(&x, 3).unwrap(),
        vec![0, 0, 0, 0, 0, 2, 2, 2, 2, 2]
    );
    // With more than two classes the median depends on id order; the majority does not.
    assert_eq!(median_filter(&[0, 2, 2, 1, 0], 5).unwrap()[2], 1);
    assert_eq!(majority_filter(&[0, 2, 2, 1, 0], 5).unwrap()[2], 2);
    assert!(median_filter(&[], 3).unwrap().is_empty());
    // Edges repeat the end value, so a window longer than the sequence still works.
    assert_eq!(median_filter(&[1, 0], 5).unwrap(), vec![1, 0]);
}

fn probs(rows: &[[f64; 2]]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), 2), |(t, c)| rows[t][c])
}

#[test]
fn viterbi_removes_flicker_and_short_bouts() {
    let mut rows = vec![[0.9, 0.1]; 5];
    rows.push([0.4, 0.6]);
    rows.extend([[0.9, 0.1]; 5]);
    let p = probs(&rows);
    let flicker = argmax_rows(p.view()).unwrap();
    assert_eq!(flicker[5], 1);
    // No penalty, no minimum: the frame-wise argmax.
    assert_eq!(viterbi_smooth(p.view(), 0.0, 1).unwrap(), flicker);
    // Two switches cost 4 nats, more than ln(0.6/0.4): the flicker goes.
    assert_eq!(viterbi_smooth(p.view(), 2.0, 1).unwrap(), vec![0; 11]);

    // A two-frame bout of class 1 inside class 0.
    let mut rows = vec![[0.9, 0.1]; 5];
    rows.extend([[0.3, 0.7]; 2]);
    rows.extend([[0.9, 0.1]; 5]);
    let p = probs(&rows);
    let mut two = vec![0; 12];
    two[5] = 1;
    two[6] = 1;
    assert_eq!(viterbi_smooth(p.view(), 0.0, 2).unwrap(), two);
    // Minimum 3: stretching it costs ln 9 ≈ 2.2 > dropping it (2·ln(7/3) ≈ 1.7).
    assert_eq!(viterbi_smooth(p.view(), 0.0, 3).unwrap(), vec![0; 12]);

    // A bout cut by the start of the recording may be short.
    let mut rows = vec![[0.01, 0.99]];
    rows.extend([[0.9, 0.1]; 6]);
    let p = probs(&rows);
    assert_eq!(
        viterbi_smooth(p.view(), 0.0, 3).unwrap(),
        vec![1, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn calms21_scores_leave_out_other() {
    let vocab = names(&["attack", "investigation", "mount", "other"]);
    let truth = some(&[0, 0, 1, 1, 2, 3, 3, 3]);
    let p = array![
        [0.7, 0.1, 0.1, 0.1],
        [0.2, 0.1, 0.1, 0.6],
        [0.1, 0.8, 0.0, 0.1],
        [0.1, 0.6, 0.0, 0.3],
        [0.0, 0.1, 0.9, 0.0],
        [0.1, 0.1, 0.1, 0.7],
        [0.4, 0.1, 0.1, 0.4], // tie: argmax takes the first, attack
        [0.0, 0.0, 0.0, 1.0],
    ];
    let s = calms21_task12(&vocab, &truth, p.view()).unwrap();
    let rows = &s.report.classes;
    // attack: tp 1, support 2, predicted 2 → F1 ½; investigation 1; mount 1.
    close(rows[0].f1, 0.5);
    close(s.f1, (0.5 + 1.0 + 1.0) / 3.0);
    let ap: Vec<f64> = rows.iter().map(|r| r.average_precision.unwrap()).collect();
    close(s.map, (ap[0] + ap[1] + ap[2]) / 3.0);
    let ex = s.report.macro_excluding_other.as_ref().unwrap();
    assert_eq!(ex.excluded, vec!["other".to_string()]);
    assert_eq!(ex.classes, 3);
    assert_eq!(
        excluded_classes(&names(&["Background", "x", "other "])),
        vec![0, 2]
    );

    // Task 3: the mean over behaviours of the behaviour class's F1 and AP.
    let t1 = some(&[0, 1, 1, 0]);
    let p1 = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]];
    let t2 = some(&[1, 0, 0]);
    let p2 = array![[0.1, 0.9], [0.8, 0.2], [0.7, 0.3]];
    let s3 = calms21_task3(&[
        Calms21BinaryTask {
            name: "grooming",
            truth: &t1,
            probs: p1.view(),
        },
        Calms21BinaryTask {
            name: "approach",
            truth: &t2,
            probs: p2.view(),
        },
    ])
    .unwrap();
    close(s3.f1, (0.5 + 1.0) / 2.0);
    // grooming AP: scores .8(+) .7(-) .4(+) → ½·1 + ½·⅔.
    close(s3.map, ((0.5 + 1.0 / 3.0) + 1.0) / 2.0);
}

#[test]
fn report_serialises_and_writes_csv() {
    let vocab = names(&["sniff, nose", "other"]);
    let truth = some(&[0, 0, 1, 1]);
    let pred = [0, 1, 1, 1];
    let b = bout_metrics(&truth, &pred, 2, 0.5).unwrap();
    let report = MetricsReport::compute(&vocab, &truth, &pred, None)
        .unwrap()
        .with_bouts(b)
        .unwrap();
    let json = report.to_json().unwrap();
    let back: MetricsReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert!(json.contains("\"macro_excluding_other\""));
    let mut csv = Vec::new();
    report.write_per_class_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("class,support,predicted,precision,recall,f1,average_precision"));
    // The comma in the name is quoted; no AP without probabilities → empty cell.
    assert!(
        lines[1].starts_with("\"sniff, nose\",2,1,1,0.5,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",,"), "{}", lines[1]);
}

#[test]
fn ridge_by_hand() {
    // y = 2x + 1 exactly; α = 0 recovers it, α > 0 shrinks the slope only.
    let x = array![[0.0], [1.0], [2.0], [3.0]];
    let y = array![[1.0], [3.0], [5.0], [7.0]];
    let m = Ridge::fit(x.view(), y.view(), None, 0.0).unwrap();
    close(m.coef[[0, 0]], 2.0);
    close(m.intercept[0], 1.0);
    // Centred: Σx̃² = 5, Σx̃ỹ = 10 → slope 10 / (5 + α).
    let m = Ridge::fit(x.view(), y.view(), None, 5.0).unwrap();
    close(m.coef[[0, 0]], 1.0);
    close(m.intercept[0], 4.0 - 1.5);
    // f32 features are accepted as they come.
    let xf = x.mapv(|v| v as f32);
    let c = RidgeClassifier::fit(xf.view(), &[0, 0, 1, 1], ClassWeight::Balanced, 1.0).unwrap();
    assert_eq!(c.predict(xf.view()).unwrap(), vec![0, 0, 1, 1]);
}

fn is_length(e: Error) -> bool {
    matches!(e, Error::LengthMismatch { .. })
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let t = some(&[0, 1]);
    // Mismatched lengths.
    assert!(is_length(precision_recall_f1(&t, &[0], 2).unwrap_err()));
    assert!(is_length(
        average_precision(&[true], &[0.1, 0.2]).unwrap_err()
    ));
    assert!(is_length(mean_squared_error(&[1.0], &[]).unwrap_err()));
    assert!(is_length(bout_metrics(&t, &[0, 1, 1], 2, 0.5).unwrap_err()));
    let p3 = array![[0.5, 0.5, 0.0]];
    assert!(is_length(
        average_precision_per_class(&t, p3.view()).unwrap_err()
    ));
    let short = vec![vec![Some(true)]];
    let wide = array![[true, false]];
    assert!(is_length(
        multilabel_scores(&short, wide.view()).unwrap_err()
    ));
    let vocab = names(&["a", "other"]);
    assert!(is_length(
        calms21_task12(&vocab, &t, p3.view()).unwrap_err()
    ));
    // Empty input or nothing labelled.
    assert!(matches!(
        precision_recall_f1(&[], &[], 2),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        accuracy(&[None, None], &[0, 1], 2),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        average_precision(&[], &[]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        r2_score(&[f64::NAN], &[1.0]),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        multilabel_average_precision(&[vec![None]], array![[0.3]].view()),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(calms21_task3(&[]), Err(Error::Empty { .. })));
    // Labels out of range, in truth or prediction.
    let e = precision_recall_f1(&some(&[0, 5]), &[0, 0], 2).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::LabelOutOfRange {
                what,
                frame: 1,
                id: 5,
                classes: 2
            } if what == "truth"
        ),
        "{e}"
    );
    assert!(e.to_string().contains("class id 5 at frame 1"));
    assert!(matches!(
        confusion_matrix(&t, &[0, 2], 2),
        Err(Error::LabelOutOfRange {
            frame: 1,
            id: 2,
            ..
        })
    ));
    assert!(matches!(
        bout_metrics(&t, &[0, 7], 2, 0.5),
        Err(Error::LabelOutOfRange { .. })
    ));
    assert!(matches!(
        average_precision_per_class(&some(&[0, 3]), array![[1.0, 0.0], [0.0, 1.0]].view()),
        Err(Error::LabelOutOfRange { .. })
    ));
    assert!(matches!(
        precision_recall_f1(&t, &[0, 1], 0),
        Err(Error::Data(_))
    ));
    // Non-finite scores and predictions.
    assert!(matches!(
        average_precision(&[true, false], &[f64::NAN, 0.1]),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        mean_squared_error(&[1.0], &[f64::INFINITY]),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        viterbi_smooth(array![[f64::NAN, 1.0]].view(), 0.0, 1),
        Err(Error::NonFinite { .. })
    ));
    // Parameters out of range.
    assert!(matches!(median_filter(&[0, 1], 2), Err(Error::Data(_))));
    assert!(matches!(majority_filter(&[0, 1], 0), Err(Error::Data(_))));
    assert!(matches!(
        viterbi_smooth(array![[0.5, 0.5]].view(), -1.0, 1),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        viterbi_smooth(array![[0.5, 0.5]].view(), 0.0, 0),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        viterbi_smooth(array![[-0.5, 0.5]].view(), 0.0, 1),
        Err(Error::Data(_))
    ));
    assert!(matches!(match_bouts(&[], &[], 0.0), Err(Error::Data(_))));
    assert!(matches!(match_bouts(&[], &[], 1.5), Err(Error::Data(_))));
    assert!(matches!(macro_average(&[], &[]), Err(Error::Empty { .. })));
    // CalMS21 needs an `other` class to leave out.
    assert!(matches!(
        calms21_task12(
            &names(&["a", "b"]),
            &t,
            array![[0.5, 0.5], [0.1, 0.9]].view()
        ),
        Err(Error::Data(_))
    ));
    // Ridge: one class, NaN features, a singular system without regularisation.
    let x = array![[1.0], [2.0]];
    assert!(matches!(
        RidgeClassifier::fit(x.view(), &[1, 1], ClassWeight::Balanced, 1.0),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        Ridge::fit(array![[f64::NAN]].view(), array![[1.0]].view(), None, 1.0),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        Ridge::fit(
            array![[1.0], [1.0]].view(),
            array![[1.0], [2.0]].view(),
            None,
            0.0
        ),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        Ridge::fit(
            x.view(),
            array![[1.0], [2.0]].view(),
            Some(&[1.0, -1.0]),
            1.0
        ),
        Err(Error::Data(_))
    ));
    let m = Ridge::fit(x.view(), array![[1.0], [2.0]].view(), None, 1.0).unwrap();
    assert!(is_length(m.predict(array![[1.0, 2.0]].view()).unwrap_err()));
}

#[test]
fn mabe22_rejects_bad_submissions() {
    let clips: Vec<Range<usize>> = vec![0..4, 4..8];
    let split = Mabe22Split {
        train_clips: vec![vec![clips[0].clone()]],
        test_clips: vec![clips[1].clone()],
    };
    let labels = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, f64::NAN, 1.0];
    let task = Mabe22Task {
        name: "chases",
        kind: Mabe22TaskKind::Discrete,
        sequence_level: false,
        labels: &labels,
    };
    let wide = Array2::<f32>::zeros((8, 129));
    assert!(matches!(
        mabe22_task_score(wide.view(), &task, &split, 1.0),
        Err(Error::Data(_))
    ));
    let emb = Array2::from_shape_fn((8, 2), |(i, j)| (i * 2 + j) as f32 * 0.1);
    assert!(mabe22_task_score(emb.view(), &task, &split, 1.0).is_ok());
    let mut nan_emb = emb.clone();
    nan_emb[[3, 1]] = f32::NAN;
    assert!(matches!(
        mabe22_task_score(nan_emb.view(), &task, &split, 1.0),
        Err(Error::NonFinite { .. })
    ));
    let bad = [0.0, 2.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
    let t = Mabe22Task {
        labels: &bad,
        ..task.clone()
    };
    assert!(matches!(
        mabe22_task_score(emb.view(), &t, &split, 1.0),
        Err(Error::Data(_))
    ));
    let short = [0.0; 3];
    let t = Mabe22Task {
        labels: &short,
        ..task.clone()
    };
    assert!(is_length(
        mabe22_task_score(emb.view(), &t, &split, 1.0).unwrap_err()
    ));
    let outside = Mabe22Split {
        train_clips: vec![vec![0..4]],
        test_clips: std::iter::once(6..20).collect(),
    };
    assert!(matches!(
        mabe22_task_score(emb.view(), &task, &outside, 1.0),
        Err(Error::Data(_))
    ));
    let unlabelled = [f64::NAN; 8];
    let t = Mabe22Task {
        labels: &unlabelled,
        ..task.clone()
    };
    assert!(matches!(
        mabe22_task_score(emb.view(), &t, &split, 1.0),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn recordings_pool_frames_and_bouts() {
    use behavert::eval::RecordingScores;
    let vocab = names(&["groom", "other"]);
    let (t1, p1) = (some(&[0, 0, 1]), [0u32, 0, 1]);
    let (t2, p2) = (some(&[1, 0, 0]), [1u32, 1, 0]);
    let report = MetricsReport::evaluate_recordings(
        &vocab,
        &[
            RecordingScores {
                truth: &t1,
                pred: &p1,
                probs: None,
            },
            RecordingScores {
                truth: &t2,
                pred: &p2,
                probs: None,
            },
        ],
        0.5,
    )
    .unwrap();
    let t: Vec<Option<u32>> = t1.iter().chain(&t2).copied().collect();
    let p: Vec<u32> = p1.iter().chain(&p2).copied().collect();
    let pooled = MetricsReport::compute(&vocab, &t, &p, None).unwrap();
    assert_eq!(report.classes, pooled.classes);
    // Bouts do not run across the boundary: recording 1 ends in `other`, 2 starts with it.
    let bouts = report.bouts.unwrap();
    assert_eq!(bouts.per_class[1].true_bouts, 2);
    assert_eq!(bouts.per_class[0].true_bouts, 2);
    // groom: true (0..2) matched; true (1..3) vs predicted (2..3): IoU ½, matched.
    assert_eq!(bouts.per_class[0].matched, 2);
    let bad = MetricsReport::evaluate_recordings(
        &vocab,
        &[
            RecordingScores {
                truth: &t1,
                pred: &p1,
                probs: Some(array![[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]].view()),
            },
            RecordingScores {
                truth: &t2,
                pred: &p2,
                probs: None,
            },
        ],
        0.5,
    );
    assert!(matches!(bad, Err(Error::Data(_))));
}
