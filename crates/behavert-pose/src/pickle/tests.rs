//! Tests of the pickle VM on pickles written the way CPython writes them.

use super::*;

#[test]
fn protocol_0_pytables_attribute_decodes() {
    // PyTables `non_index_axes` of a DeepLabCut file (docs/formats/deeplabcut.md).
    let p =
        b"(lp0\n(I1\n(lp1\n(VPranav\np2\nVsnout\np3\nVx\np4\ntp5\na(g2\ng3\nVy\np6\ntp7\natp8\na.";
    let v = loads(p).unwrap();
    let axes = v.as_seq().unwrap();
    let (axis, columns) = match &axes[0] {
        PickleValue::Tuple(t) => (t[0].as_i64().unwrap(), t[1].as_seq().unwrap().to_vec()),
        other => panic!("{other:?}"),
    };
    assert_eq!(axis, 1);
    assert_eq!(
        columns[1],
        PickleValue::Tuple(vec![
            PickleValue::Str("Pranav".into()),
            PickleValue::Str("snout".into()),
            PickleValue::Str("y".into())
        ])
    );
}

#[test]
fn memo_sees_appends_made_after_put() {
    // l = []; pickle.dumps([l, l]) after filling l: the memo refers to the filled list.
    let p = b"\x80\x02]q\x00(]q\x01K\x01ah\x01e.";
    let one = PickleValue::List(vec![PickleValue::Int(1)]);
    assert_eq!(
        loads(p).unwrap(),
        PickleValue::List(vec![one.clone(), one.clone()])
    );
    let p = b"(lp0\n(lp1\nI1\naag1\na.";
    assert_eq!(loads(p).unwrap(), PickleValue::List(vec![one.clone(), one]));
}

#[test]
fn unknown_globals_are_refused_by_name() {
    let p = b"cos\nsystem\n(S'echo hi'\ntR.";
    let err = loads(p).unwrap_err();
    assert!(err.found.contains("os.system"), "{err}");
}

#[test]
fn numpy_protocol_2_array_with_codecs_bytes() {
    // pickle.dumps(np.array([1.5, -2.0], dtype='<f4'), protocol=2)
    let p = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01K\x02\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00f4q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00<q\x0fNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x10b\x89h\x03X\n\x00\x00\x00\x00\x00\xc3\x80?\x00\x00\x00\xc3\x80q\x11h\x05\x86q\x12Rq\x13tq\x14b.";
    let v = loads(p).unwrap();
    let PickleValue::NdArray(a) = v else {
        panic!("{v:?}")
    };
    assert_eq!(a.shape, vec![2]);
    assert_eq!(a.dtype.descr(), "<f4");
    assert_eq!(a.to_f64().unwrap(), vec![1.5, -2.0]);
}

#[test]
fn numpy_protocol_4_scalars_and_big_endian_fortran_array() {
    // pickle.dumps({'a': np.int64(5), 'b': np.float32(2.5),
    //               'c': np.array([[1,2,3],[4,5,6]], dtype='>i2', order='F')}, 4)
    let p = b"\x80\x04\x95\x1a\x01\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x16numpy._core.multiarray\x94\x8c\x06scalar\x94\x93\x94\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02i8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bC\x08\x05\x00\x00\x00\x00\x00\x00\x00\x94\x86\x94R\x94\x8c\x01b\x94h\x04h\x07\x8c\x02f4\x94\x89\x88\x87\x94R\x94(K\x03h\x0bNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bC\x04\x00\x00 @\x94\x86\x94R\x94\x8c\x01c\x94h\x02\x8c\x0c_reconstruct\x94\x93\x94h\x05\x8c\x07ndarray\x94\x93\x94K\x00\x85\x94C\x01b\x94\x87\x94R\x94(K\x01K\x02K\x03\x86\x94h\x07\x8c\x02i2\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01>\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94b\x88C\x0c\x00\x01\x00\x04\x00\x02\x00\x05\x00\x03\x00\x06\x94t\x94bu.";
    let v = loads(p).unwrap();
    assert_eq!(v.get("a"), Some(&PickleValue::Int(5)));
    assert_eq!(v.get("b"), Some(&PickleValue::Float(2.5)));
    let Some(PickleValue::NdArray(c)) = v.get("c") else {
        panic!("{v:?}")
    };
    assert_eq!(
        (c.shape.clone(), c.dtype.descr(), c.fortran_order),
        (vec![2, 3], ">i2".to_string(), true)
    );
    assert_eq!(c.to_f64().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn numpy_protocol_5_frombuffer_fortran_and_bool() {
    // pickle.dumps({'a': np.array([[1,2,3],[4,5,6]], dtype='<f8', order='F'),
    //               'b': np.array([True, False])}, protocol=5)
    let p = b"\x80\x05\x95\xf3\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x13numpy._core.numeric\x94\x8c\x0b_frombuffer\x94\x93\x94(\x960\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x10@\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x14@\x00\x00\x00\x00\x00\x00\x08@\x00\x00\x00\x00\x00\x00\x18@\x94\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bK\x02K\x03\x86\x94\x8c\x01F\x94t\x94R\x94\x8c\x01b\x94h\x04(\x96\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x94h\x08\x8c\x02b1\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01|\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bK\x02\x85\x94\x8c\x01C\x94t\x94R\x94u.";
    let v = loads(p).unwrap();
    let Some(PickleValue::NdArray(a)) = v.get("a") else {
        panic!("{v:?}")
    };
    assert!(a.fortran_order);
    assert_eq!(a.to_f64().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let Some(PickleValue::NdArray(b)) = v.get("b") else {
        panic!("{v:?}")
    };
    assert_eq!(b.to_f64().unwrap(), vec![1.0, 0.0]);
}

#[test]
fn protocol_0_writer_round_trips() {
    let v = PickleValue::List(vec![
        PickleValue::Tuple(vec![
            PickleValue::Int(1),
            PickleValue::List(vec![PickleValue::Tuple(vec![
                PickleValue::Str("sc\\o,r\u{e9}\n".into()),
                PickleValue::None,
                PickleValue::Float(0.5),
                PickleValue::Bool(true),
            ])]),
        ]),
        PickleValue::Dict(vec![(PickleValue::Str("k".into()), PickleValue::Int(-3))]),
    ]);
    assert_eq!(loads(&dumps(Protocol::Text, &v).unwrap()).unwrap(), v);
    let text = String::from_utf8(dumps(Protocol::Text, &v).unwrap()).unwrap();
    assert!(text.is_ascii(), "{text}");
}

#[test]
fn binary_writer_round_trips_numpy_arrays_and_plain_values() {
    let array = |dtype: &str, shape: Vec<usize>, fortran_order: bool, bytes: Vec<u8>| {
        PickleValue::NdArray(NdArray {
            dtype: Dtype::parse(dtype).unwrap(),
            shape,
            fortran_order,
            bytes,
        })
    };
    let many: Vec<PickleValue> = (0..2500).map(PickleValue::Int).collect();
    let v = PickleValue::Dict(vec![
        (PickleValue::Str("ints".into()), PickleValue::List(many)),
        (
            PickleValue::Str("scalars".into()),
            PickleValue::Tuple(vec![
                PickleValue::Int(-1),
                PickleValue::Int(70_000),
                PickleValue::Int(1 << 40),
                PickleValue::Float(-2.5e-300),
                PickleValue::Bool(false),
                PickleValue::None,
                PickleValue::Bytes(vec![0, 255, 7]),
                PickleValue::Str("é\n".into()),
            ]),
        ),
        (
            PickleValue::Str("f4".into()),
            array("<f4", vec![2, 3], false, (0..24).collect()),
        ),
        (
            PickleValue::Str("fortran i2".into()),
            array("<i2", vec![3, 2], true, (0..12).collect()),
        ),
        (
            PickleValue::Str("bool 0-d".into()),
            array("|b1", vec![], false, vec![1]),
        ),
        (
            PickleValue::Str("objects".into()),
            PickleValue::ObjectArray {
                shape: vec![2],
                items: vec![PickleValue::Str("a".into()), PickleValue::Int(2)],
            },
        ),
    ]);
    for protocol in [Protocol::Binary3, Protocol::Binary4] {
        assert_eq!(loads(&dumps(protocol, &v).unwrap()).unwrap(), v);
    }
    // Protocol 0 has no arrays: an error, not a silent None.
    let err = dumps(Protocol::Text, &v).unwrap_err().to_string();
    assert!(err.contains("protocol-0"), "{err}");
}

#[test]
fn float32_arrays_stream_in_c_order() {
    let a = ndarray::Array2::from_shape_fn((3, 2), |(r, c)| (r * 10 + c) as f32);
    let transposed = a.t();
    let PickleValue::NdArray(back) =
        loads(&dumps(Protocol::Binary3, &transposed).unwrap()).unwrap()
    else {
        panic!("not an array")
    };
    assert_eq!(
        (back.shape.clone(), back.dtype.descr()),
        (vec![2, 3], "<f4".to_string())
    );
    assert_eq!(
        back.to_f64().unwrap(),
        vec![0.0, 10.0, 20.0, 1.0, 11.0, 21.0]
    );
}

#[test]
fn fortran_order_is_reordered() {
    assert_eq!(
        fortran_to_c(&[1, 4, 2, 5, 3, 6], &[2, 3]),
        vec![1, 2, 3, 4, 5, 6]
    );
}

#[test]
fn containers_holding_themselves_are_refused() {
    // l = [], l.append(l);  d = {}, d[1] = d;  outer = [], inner = [outer],
    // outer.extend([inner]): Python allows all three.
    for bytes in [
        &b"]q\x00h\x00a."[..],
        b"}q\x00K\x01h\x00s.",
        b"]q\x00(]q\x01h\x00ae.",
    ] {
        let err = loads(bytes).unwrap_err().to_string();
        assert!(err.contains("cycle"), "{err}");
    }
    // inner = []; [inner, inner]: shared, but no cycle.
    assert!(loads(b"](]q\x00h\x00e.").is_ok());
}

#[test]
fn shared_objects_that_would_expand_exponentially_are_refused() {
    // t = (); then 60 times t = (t, t): 85 bytes of pickle, 2^60 leaves as a tree.
    let mut bytes = b"\x80\x02)".to_vec();
    bytes.extend(b"2\x86".repeat(60));
    bytes.push(b'.');
    let err = loads(&bytes).unwrap_err().to_string();
    assert!(err.contains("repeat the same objects"), "{err}");
    // The same sharing a few times over is data like any other.
    let mut small = b"\x80\x02)".to_vec();
    small.extend(b"2\x86".repeat(8));
    small.push(b'.');
    assert!(loads(&small).is_ok());
}

#[test]
fn random_bytes_and_truncations_never_panic() {
    let good: &[u8] = b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94K\x01\x8c\x01b\x94]\x94(G?\xf8\x00\x00\x00\x00\x00\x00N\x88eu.";
    assert!(loads(good).is_ok());
    for cut in 0..good.len() {
        let _ = loads(&good[..cut]);
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..20_000 {
        let mut bytes = good.to_vec();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state as usize) % bytes.len();
            bytes[i] = (state >> 32) as u8;
        }
        let _ = loads(&bytes);
        let len = (state >> 40) as usize % 64;
        let noise: Vec<u8> = (0..len)
            .map(|i| (state >> (i % 56)) as u8 ^ i as u8)
            .collect();
        let _ = loads(&noise);
    }
}
