//! Invariants of the trust attacks (`temporal`, `clock-forgery`, `false-evidence`,
//! `shadow-network`) and of the trust fields of every run, at sizes that run fast in debug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // reason: test and bench code; a failure should abort the run

use toolcap_simulator::{Outcome, SimConfig, run};

fn sim(attack: &str, byzantine: f64, epochs: u32) -> Outcome {
    let cfg = SimConfig {
        agents: 1_024,
        fanout: 8,
        dim: 4,
        byzantine,
        attack: attack.into(),
        epochs,
        seed: 11,
        compromised: 0.1,
        ..SimConfig::default()
    };
    run(&cfg).unwrap()
}

const TRUST_ATTACKS: [&str; 4] = [
    "temporal",
    "clock-forgery",
    "false-evidence",
    "shadow-network",
];

/// Every trust attack is registered and runs; nothing forged is ever accepted.
mod forgeries {
    use super::*;

    #[test]
    fn nothing_forged_is_accepted_under_any_attack() {
        for attack in ["none", "tree-poisoning", "sub-threshold"]
            .into_iter()
            .chain(TRUST_ATTACKS)
        {
            let out = sim(attack, 0.25, 8);
            let t = &out.report.trust;
            assert_eq!(t.forged_accepted, 0, "{attack}: {t:?}");
            if matches!(
                attack,
                "clock-forgery" | "false-evidence" | "shadow-network" | "temporal"
            ) {
                assert!(t.forged_attempted > 0, "{attack} attempted nothing");
            }
        }
    }
}

/// Quarantine quality with up to a quarter of the members Byzantine.
mod quarantine {
    use super::*;

    #[test]
    fn precision_and_recall_hold_under_false_evidence_at_25_percent() {
        let out = sim("false-evidence", 0.25, 6);
        let t = &out.report.trust;
        assert!(t.agents_compromised > 0, "{t:?}");
        assert!(t.agent_precision >= 0.95, "{t:?}");
        assert!(t.agent_recall >= 0.95, "{t:?}");
    }

    #[test]
    fn honest_fleet_quarantines_exactly_the_compromised() {
        let out = sim("none", 0.0, 6);
        let t = &out.report.trust;
        assert!(t.agent_precision >= 0.95 && t.agent_recall >= 0.95, "{t:?}");
    }
}

/// Temporal defences: induced partitions fail closed, synchronised shifts alarm.
mod temporal {
    use super::*;

    #[test]
    fn induced_partitions_degrade_and_shifts_alarm() {
        let out = sim("temporal", 0.25, 12);
        let t = &out.report.trust;
        assert!(t.partition_epochs > 0, "{t:?}");
        assert_eq!(t.partition_degraded_epochs, t.partition_epochs, "{t:?}");
        assert!(t.sync_alarm_epochs > 0, "{t:?}");
        assert_eq!(out.report.silent_poisoned_epochs, 0);
    }

    #[test]
    fn no_attack_raises_no_sync_alarm() {
        let out = sim("none", 0.25, 12);
        assert_eq!(
            out.report.trust.sync_alarm_epochs, 0,
            "{:?}",
            out.report.trust
        );
    }
}

/// The shadow network (beyond the fault bound at the regional level) is never silent.
mod shadow {
    use super::*;

    #[test]
    fn shadow_network_is_detected_and_never_silent() {
        let out = sim("shadow-network", 0.4, 12);
        assert_eq!(out.report.trust.forged_accepted, 0);
        assert_eq!(out.report.silent_poisoned_epochs, 0, "{:?}", out.report);
        assert!(out.report.detected, "{:?}", out.report);
    }
}

/// Privacy accounting and proof costs are reported.
mod accounting {
    use super::*;

    #[test]
    fn epsilon_spent_is_one_release_per_epoch() {
        let cfg = SimConfig {
            agents: 1_024,
            fanout: 16,
            dim: 4,
            epochs: 5,
            dp_epsilon: 0.5,
            ..SimConfig::default()
        };
        let out = run(&cfg).unwrap();
        assert!((out.report.trust.dp_epsilon_spent - 2.5).abs() < 1e-9);
        assert!(out.report.trust.proof_verify_ms_p50 > 0.0);
        let json = serde_json::to_value(&out.report).unwrap();
        for field in [
            "forged_accepted",
            "agents_compromised",
            "agent_precision",
            "agent_recall",
            "dp_epsilon_spent",
            "proof_verify_ms_p50",
        ] {
            assert!(json.get(field).is_some(), "missing {field}");
        }
    }

    #[test]
    fn bad_trust_options_are_refused() {
        for cfg in [
            SimConfig {
                compromised: 1.5,
                ..SimConfig::default()
            },
            SimConfig {
                dp_epsilon: 0.0,
                ..SimConfig::default()
            },
            SimConfig {
                dp_delta: 1.0,
                ..SimConfig::default()
            },
        ] {
            assert!(run(&cfg).is_err());
        }
    }
}
