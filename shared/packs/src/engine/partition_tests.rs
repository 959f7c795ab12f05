//! The partitioned evaluation against the whole one on the synthetic datasets (`crate::synth`):
//! hundreds of records per pack with planted violations, so that every part holds many groups
//! and findings, in shuffled order, split into 1 to 8 parts. (`brute.rs` covers small record
//! sets with missing and mistyped values, repeated ids and random rules.)

use proptest::prelude::*;
use proptest::sample::select;

use super::*;
use crate::synth::generate;
use crate::{pack, PolicyType};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn partitioned_evaluation_of_synthetic_datasets_is_the_evaluation(
        seed in any::<u64>(),
        size in 0..600usize,
        order in any::<u64>(),
        keep in select(vec![0usize, 5, 40, usize::MAX / 2]),
        parts in 1..=8usize,
    ) {
        for policy in PolicyType::ALL {
            let mut data = generate(policy, seed, size);
            crate::synth::Rng::new(order).shuffle(&mut data.records);
            let p = pack(policy);
            let schema = Schema::for_rules(&p.rules).unwrap();
            let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
            let records = input::parse(&schema, Format::Ndjson, &data.ndjson()).unwrap();
            let whole = evaluate(&runs, &records, data.now, keep).unwrap();
            let split = evaluate_partitioned(&runs, &records, data.now, keep, parts).unwrap();
            prop_assert!(whole.findings_total > 0, "{policy}: planted violations are found");
            prop_assert!(
                whole == split,
                "{policy} seed {seed} size {size} keep {keep} in {parts} parts: rule {:?}, finding {:?}",
                whole.rules.iter().zip(&split.rules).find(|(a, b)| a != b),
                whole.findings.iter().zip(&split.findings).position(|(a, b)| a != b)
            );
        }
    }
}
