//! Integration tests of the descriptor formats: golden vectors, validation criteria, properties.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test code; a failure is the point

use toolcap_descriptor::{
    Capabilities, Decoded, Descriptor, Error, FamilyDescriptor, Perf, Risk, SubcommandDescriptor,
    crc16, decode_any,
};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `key = value` lines of a `.vec` file (repeated keys kept in order).
fn fields(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.trim(), v.trim())
        })
        .collect()
}

/// Re-seals a v2 descriptor's CRC after a test has tampered with a field, so that the decoder
/// gets past the CRC and reaches the check under test.
fn reseal_v2(b: &mut [u8; 24]) {
    let crc = crc16(&b[..22]).to_be_bytes();
    b[22..].copy_from_slice(&crc);
}

fn sample() -> Descriptor {
    Descriptor::new(
        "rm",
        Risk::Medium,
        Capabilities::DESTRUCTIVE | Capabilities::FILE_MODIFICATION,
        Perf::typical(10_000, 8 << 20, 1 << 10),
    )
}

fn sample_family() -> FamilyDescriptor {
    let read = Capabilities::FILE_READ;
    FamilyDescriptor::new(
        "git",
        Risk::Safe,
        read,
        [
            SubcommandDescriptor::new("status", Risk::Safe, read, Perf::default()),
            SubcommandDescriptor::new(
                "push",
                Risk::Medium,
                read | Capabilities::NETWORK_UPLOAD,
                Perf::default(),
            ),
        ],
    )
    .unwrap()
}

/// Known-answer vectors in `testdata/`, produced by an independent Python encoder
/// (`testdata/generate.py`).
#[cfg(test)]
mod golden {
    use super::*;

    fn vector(name: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/");
        std::fs::read_to_string(format!("{path}{name}")).unwrap()
    }

    fn check_v2(file: &str) {
        let text = vector(file);
        let f = fields(&text);
        let get = |k: &str| {
            f.iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| *v)
                .unwrap()
        };
        let num = |k: &str| get(k).parse::<u64>().unwrap();
        let expected = Descriptor::new(
            get("name"),
            get("risk").parse().unwrap(),
            get("flags").parse().unwrap(),
            Perf::typical(num("time_us"), num("memory"), num("output")),
        );
        let bytes = unhex(get("hex"));
        assert_eq!(bytes.len(), 24, "{file}");
        assert_eq!(
            expected.to_bytes().as_slice(),
            bytes.as_slice(),
            "{file}: encoding"
        );
        assert_eq!(Descriptor::decode(&bytes), Ok(expected), "{file}: decoding");
        assert_eq!(decode_any(&bytes), Ok(Decoded::V2(expected)));
    }

    #[test]
    fn safe_read_only_command() {
        check_v2("v2-safe-cat.vec");
    }

    #[test]
    fn critical_destructive_command() {
        check_v2("v2-critical-mkfs.vec");
    }

    #[test]
    fn network_download() {
        check_v2("v2-download-wget.vec");
    }

    #[test]
    fn no_flags_smallest_perf() {
        check_v2("v2-none-true.vec");
    }

    #[test]
    fn family_with_several_subcommands() {
        let text = vector("v3-family-git.vec");
        let f = fields(&text);
        let mut family = "";
        let mut hex = "";
        let mut subs = Vec::new();
        for (k, v) in &f {
            match *k {
                "family" => family = v,
                "hex" => hex = v,
                "sub" => {
                    let c: Vec<&str> = v.split('|').map(str::trim).collect();
                    let n = |i: usize| c[i].parse::<u64>().unwrap();
                    subs.push(SubcommandDescriptor::new(
                        c[0],
                        c[1].parse().unwrap(),
                        c[2].parse().unwrap(),
                        Perf::typical(n(3), n(4), n(5)),
                    ));
                }
                _ => panic!("unknown key {k}"),
            }
        }
        let floor = subs.iter().map(|s| s.risk).min().unwrap();
        let common = subs.iter().fold(Capabilities::ALL_NAMED, |a, s| a & s.caps);
        let expected = FamilyDescriptor::new(family, floor, common, subs.clone()).unwrap();
        let bytes = unhex(hex);
        assert_eq!(bytes.len(), 16 + 8 * subs.len());
        assert_eq!(expected.to_bytes(), bytes, "encoding");
        let decoded = FamilyDescriptor::decode(&bytes).unwrap();
        assert_eq!(decoded, expected, "decoding");
        assert_eq!(decoded.floor(), Risk::Safe);
        assert_eq!(decoded.common(), Capabilities::FILE_READ);
        for s in &subs {
            assert_eq!(decoded.subcommand(s.id), Some(s));
        }
    }
}

/// Exactly which malformed inputs are rejected, and with which error; and which unusual but
/// well-formed inputs are accepted. Each case names the rule it pins down.
#[cfg(test)]
mod validation_criteria {
    use super::*;

    #[test]
    fn v2_accepted() {
        let d = sample();
        // Accepted: the canonical encoding.
        assert_eq!(Descriptor::decode(&d.to_bytes()), Ok(d));
        // Accepted: an empty flag set, every risk level, extreme perf exponents (0 and 63).
        for risk in Risk::ALL {
            let e = Descriptor {
                risk,
                caps: Capabilities::NONE,
                perf: Perf::from_exponents(0, 63, 63).unwrap(),
                ..d
            };
            assert_eq!(Descriptor::decode(&e.to_bytes()), Ok(e));
        }
        // Accepted: every named flag at once.
        let all = Descriptor {
            caps: Capabilities::ALL_NAMED,
            ..d
        };
        assert_eq!(Descriptor::decode(&all.to_bytes()), Ok(all));
        // Accepted by decode_prefix: a descriptor followed by more bytes, which are returned.
        let mut long = d.to_bytes().to_vec();
        long.extend_from_slice(b"xyz");
        assert_eq!(Descriptor::decode_prefix(&long), Ok((d, &b"xyz"[..])));
    }

    #[test]
    fn v2_rejected() {
        let good = sample().to_bytes();
        let mut cases: Vec<(&str, Vec<u8>, Error)> = Vec::new();

        cases.push((
            "empty input",
            vec![],
            Error::Truncated {
                needed: 24,
                actual: 0,
            },
        ));
        cases.push((
            "23 bytes",
            good[..23].to_vec(),
            Error::Truncated {
                needed: 24,
                actual: 23,
            },
        ));
        let mut long = good.to_vec();
        long.push(0);
        cases.push(("25 bytes", long, Error::TrailingBytes(1)));

        let mut b = good;
        b[0] = b'X';
        reseal_v2(&mut b);
        cases.push(("wrong magic", b.to_vec(), Error::Magic(*b"XCP\x02")));
        let mut b = good;
        b[3] = 0x03;
        reseal_v2(&mut b);
        cases.push((
            "v3 magic given to the v2 decoder",
            b.to_vec(),
            Error::Magic(*b"TCP\x03"),
        ));
        let mut b = good;
        b[4] = 0x02;
        reseal_v2(&mut b);
        cases.push(("unknown version", b.to_vec(), Error::Version(2)));

        let mut b = good;
        b[12] ^= 0x80;
        let computed = crc16(&b[..22]);
        cases.push((
            "flipped flag bit, CRC not updated",
            b.to_vec(),
            Error::Crc {
                stored: u16::from_be_bytes([b[22], b[23]]),
                computed,
            },
        ));
        let mut b = good;
        b[23] ^= 1;
        cases.push((
            "corrupted CRC",
            b.to_vec(),
            Error::Crc {
                stored: u16::from_be_bytes([b[22], b[23]]),
                computed: crc16(&b[..22]),
            },
        ));

        let mut b = good;
        b[5] = 0;
        reseal_v2(&mut b);
        cases.push(("no risk level", b.to_vec(), Error::NoRisk));
        let mut b = good;
        b[5] = 0b0000_0101;
        reseal_v2(&mut b);
        cases.push(("two risk levels", b.to_vec(), Error::MultipleRisks(0b101)));
        let mut b = good;
        b[5] = 0b0010_0000;
        reseal_v2(&mut b);
        cases.push((
            "reserved risk bit",
            b.to_vec(),
            Error::Reserved { offset: 5 },
        ));
        let mut b = good;
        b[10] = 0x01;
        reseal_v2(&mut b);
        cases.push((
            "reserved flag bit 24",
            b.to_vec(),
            Error::Reserved { offset: 10 },
        ));
        let mut b = good;
        b[11] = 0x80;
        reseal_v2(&mut b);
        cases.push((
            "reserved flag bit 23",
            b.to_vec(),
            Error::Reserved { offset: 11 },
        ));
        for offset in 14..=16 {
            let mut b = good;
            b[offset] = 64;
            reseal_v2(&mut b);
            cases.push((
                "perf exponent above 63",
                b.to_vec(),
                Error::Reserved { offset },
            ));
        }
        for offset in 17..22 {
            let mut b = good;
            b[offset] = 1;
            reseal_v2(&mut b);
            cases.push(("reserved byte", b.to_vec(), Error::Reserved { offset }));
        }

        for (what, bytes, err) in cases {
            assert_eq!(Descriptor::decode(&bytes), Err(err), "{what}");
            // decode_any picks the decoder by magic, so its error may differ; it must still fail.
            assert!(decode_any(&bytes).is_err(), "{what} (decode_any)");
        }
    }

    #[test]
    fn v3_accepted() {
        let f = sample_family();
        assert_eq!(FamilyDescriptor::decode(&f.to_bytes()), Ok(f.clone()));
        // Accepted: a family with no subcommands (16 bytes, count 0).
        let empty = FamilyDescriptor::new("empty", Risk::High, Capabilities::NONE, []).unwrap();
        assert_eq!(empty.to_bytes().len(), 16);
        assert_eq!(FamilyDescriptor::decode(&empty.to_bytes()), Ok(empty));
        // Accepted: a subcommand at CRITICAL over a HIGH floor (offset 1).
        let f2 = FamilyDescriptor::new(
            "disk",
            Risk::High,
            Capabilities::NONE,
            [SubcommandDescriptor::new(
                "wipe",
                Risk::Critical,
                Capabilities::DESTRUCTIVE,
                Perf::default(),
            )],
        )
        .unwrap();
        assert_eq!(FamilyDescriptor::decode(&f2.to_bytes()), Ok(f2));
    }

    /// Re-seals a v3 blob's CRC (parent bytes 0..14, then the deltas).
    fn reseal_v3(b: &mut [u8]) {
        let mut covered = b[..14].to_vec();
        covered.extend_from_slice(&b[16..]);
        let crc = crc16(&covered).to_be_bytes();
        b[14..16].copy_from_slice(&crc);
    }

    #[test]
    fn v3_rejected() {
        let good = sample_family().to_bytes();
        assert_eq!(good.len(), 32);
        let tamper = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            reseal_v3(&mut b);
            b
        };
        let cases: Vec<(&str, Vec<u8>, Error)> = vec![
            (
                "15 bytes",
                good[..15].to_vec(),
                Error::Truncated {
                    needed: 16,
                    actual: 15,
                },
            ),
            (
                "count says 2, one delta given",
                good[..24].to_vec(),
                Error::Truncated {
                    needed: 32,
                    actual: 24,
                },
            ),
            (
                "trailing byte",
                [good.as_slice(), &[0]].concat(),
                Error::TrailingBytes(1),
            ),
            (
                "wrong magic",
                tamper(&|b| b[2] = b'Q'),
                Error::Magic(*b"TCQ\x03"),
            ),
            (
                "v2 magic given to the v3 decoder",
                tamper(&|b| b[3] = 2),
                Error::Magic(*b"TCP\x02"),
            ),
            ("unknown version", tamper(&|b| b[4] = 9), Error::Version(9)),
            (
                "corrupted delta, CRC not updated",
                {
                    let mut b = good.clone();
                    b[20] ^= 0x01;
                    b
                },
                Error::Crc {
                    stored: u16::from_be_bytes([good[14], good[15]]),
                    computed: {
                        let mut b = good.clone();
                        b[20] ^= 0x01;
                        let mut c = b[..14].to_vec();
                        c.extend_from_slice(&b[16..]);
                        crc16(&c)
                    },
                },
            ),
            ("no floor", tamper(&|b| b[5] = 0), Error::NoRisk),
            (
                "two floors",
                tamper(&|b| b[5] = 0b11),
                Error::MultipleRisks(0b11),
            ),
            (
                "reserved floor bit",
                tamper(&|b| b[5] = 0x81),
                Error::Reserved { offset: 5 },
            ),
            (
                "reserved risk-offset bits",
                tamper(&|b| b[18] = 0x08),
                Error::Reserved { offset: 18 },
            ),
            (
                "risk offset beyond CRITICAL",
                tamper(&|b| b[18] = 5),
                Error::RiskOffset {
                    floor: Risk::Safe,
                    offset: 5,
                },
            ),
            (
                "specific flags repeat a common flag",
                tamper(&|b| b[19] |= 0x40),
                Error::RedundantFlags { index: 0 },
            ),
            (
                "perf exponent above 63",
                tamper(&|b| b[23] = 0x40),
                Error::Reserved { offset: 23 },
            ),
            (
                "ids out of order",
                tamper(&|b| {
                    let (first, second) = (b[16..24].to_vec(), b[24..32].to_vec());
                    b[16..24].copy_from_slice(&second);
                    b[24..32].copy_from_slice(&first);
                }),
                Error::Unsorted { index: 1 },
            ),
            (
                "duplicate id",
                tamper(&|b| {
                    let id = [b[16], b[17]];
                    b[24..26].copy_from_slice(&id);
                }),
                Error::Unsorted { index: 1 },
            ),
        ];
        for (what, bytes, err) in cases {
            assert_eq!(FamilyDescriptor::decode(&bytes), Err(err), "{what}");
            assert!(decode_any(&bytes).is_err(), "{what} (decode_any)");
        }
    }

    #[test]
    fn v3_encoder_rejects_invalid_families() {
        let p = Perf::default();
        let read = Capabilities::FILE_READ;
        let below = FamilyDescriptor::new(
            "f",
            Risk::Low,
            Capabilities::NONE,
            [SubcommandDescriptor::new("a", Risk::Safe, read, p)],
        );
        assert_eq!(
            below,
            Err(Error::BelowFloor {
                risk: Risk::Safe,
                floor: Risk::Low
            })
        );
        let missing = FamilyDescriptor::new(
            "f",
            Risk::Safe,
            read,
            [SubcommandDescriptor::new(
                "a",
                Risk::Safe,
                Capabilities::NONE,
                p,
            )],
        );
        assert!(matches!(missing, Err(Error::MissingCommonFlags(_))));
        let dup = FamilyDescriptor::new(
            "f",
            Risk::Safe,
            read,
            [
                SubcommandDescriptor::new("a", Risk::Safe, read, p),
                SubcommandDescriptor::new("a", Risk::Low, read, p),
            ],
        );
        assert!(matches!(dup, Err(Error::DuplicateId(_))));
        let many = (0..=u16::MAX as u32).map(|i| SubcommandDescriptor {
            id: toolcap_descriptor::SubcommandId::from_u16(i as u16),
            risk: Risk::Safe,
            caps: read,
            perf: p,
        });
        assert_eq!(
            FamilyDescriptor::new(
                "f",
                Risk::Safe,
                read,
                many.chain([SubcommandDescriptor::new("x", Risk::Safe, read, p)])
            ),
            Err(Error::TooManySubcommands(65537))
        );
    }
}

/// Property tests: every encodable value round-trips; arbitrary bytes never panic.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn risk() -> impl Strategy<Value = Risk> {
        (0u8..5).prop_map(|n| Risk::from_ordinal(n).unwrap())
    }

    fn caps() -> impl Strategy<Value = Capabilities> {
        any::<u32>().prop_map(Capabilities::from_bits_truncate)
    }

    fn perf() -> impl Strategy<Value = Perf> {
        (0u8..64, 0u8..64, 0u8..64).prop_map(|(t, m, o)| Perf::from_exponents(t, m, o).unwrap())
    }

    proptest! {
        #[test]
        fn v2_round_trips(name in ".{0,40}", risk in risk(), caps in caps(), perf in perf()) {
            let d = Descriptor::new(&name, risk, caps, perf);
            prop_assert_eq!(Descriptor::decode(&d.to_bytes()), Ok(d));
        }

        #[test]
        fn v3_round_trips(
            name in "[a-z]{1,10}",
            floor in risk(),
            common in caps(),
            subs in proptest::collection::btree_map("[a-z-]{1,12}", (0u8..5, caps(), perf()), 0..40),
        ) {
            let subs = subs.into_iter().map(|(n, (r, c, p))| {
                let risk = Risk::from_ordinal(floor.ordinal().saturating_add(r).min(4)).unwrap();
                SubcommandDescriptor::new(&n, risk, c | common, p)
            });
            // Random names may collide in 16 bits; that is a typed error, not a round-trip case.
            if let Ok(f) = FamilyDescriptor::new(&name, floor, common, subs) {
                prop_assert_eq!(FamilyDescriptor::decode(&f.to_bytes()), Ok(f));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Descriptor::decode(&bytes);
            let _ = Descriptor::decode_prefix(&bytes);
            let _ = FamilyDescriptor::decode(&bytes);
            let _ = decode_any(&bytes);
        }

        #[test]
        fn prefixed_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..120), v3 in any::<bool>()) {
            // Start from valid magic and version so the decoders get past the first checks.
            let mut bytes = if v3 { b"TCP\x03\x01".to_vec() } else { b"TCP\x02\x01".to_vec() };
            bytes.extend_from_slice(&tail);
            let _ = decode_any(&bytes);
        }

        #[test]
        fn single_byte_corruption_is_detected(d in (risk(), caps(), perf()).prop_map(|(r, c, p)| Descriptor::new("x", r, c, p)), i in 0usize..24, flip in 1u8..=255) {
            // CRC-16 detects every error burst of up to 16 bits, so any one corrupted byte fails.
            let mut b = d.to_bytes();
            b[i] ^= flip;
            prop_assert!(Descriptor::decode(&b).is_err());
        }
    }
}
