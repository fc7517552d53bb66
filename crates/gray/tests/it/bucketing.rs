//! Bucketing statistics: distribution and stickiness.

use gray::{bucket, in_rollout};

#[test]
fn ten_percent_of_ten_thousand_keys_land_within_one_point() {
    let inside = (0..10_000)
        .filter(|i| in_rollout("billing-v2", &format!("user-{i}"), 10))
        .count();
    assert!(
        (900..=1100).contains(&inside),
        "{inside} of 10000 keys in a 10% rollout"
    );
}

#[test]
fn buckets_cover_one_to_hundred_evenly() {
    let mut counts = [0u32; 101];
    for i in 0..10_000 {
        counts[bucket("g", &i.to_string()) as usize] += 1;
    }
    assert_eq!(counts[0], 0);
    for (value, count) in counts.iter().enumerate().skip(1) {
        assert!(
            (50..=150).contains(count),
            "bucket {value} has {count} of 10000"
        );
    }
}

#[test]
fn a_key_inside_at_ten_percent_stays_inside_as_the_rollout_grows() {
    let mut checked = 0;
    for i in 0..10_000 {
        let key = format!("user-{i}");
        if in_rollout("billing-v2", &key, 10) {
            checked += 1;
            for percent in [11, 25, 50, 100] {
                assert!(
                    in_rollout("billing-v2", &key, percent),
                    "{key} left the rollout at {percent}%"
                );
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn groups_bucket_independently() {
    let same = (0..1000)
        .filter(|i| bucket("a", &i.to_string()) == bucket("b", &i.to_string()))
        .count();
    assert!(
        same < 50,
        "{same} of 1000 keys share a bucket across groups"
    );
}
