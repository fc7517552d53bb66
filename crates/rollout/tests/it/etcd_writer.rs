//! The etcd backend of the config writer against a real etcd: it edits only the percent, and two
//! controllers racing on one fragment have exactly one winner.

use std::sync::{Arc, Barrier};

use fleet::testing::TestEtcd;
use rollout::{ConfigWriter, EtcdWriter, WriteError, set_percent};

const KEY: &str = "/graywork/gateway/gray/billing-v2.toml";
const RULE: &str = "billing-v2-rollout";
const FRAGMENT: &str = "# the billing v2 rollout\n[[gray.rules]]\nname = \"billing-v2-rollout\"\nroute = { billing = \"v2\" }\npercent = 0   # driven by rollout\nbucket_by = \"header:X-User-Id\"\n";

fn writer(etcd: &TestEtcd) -> EtcdWriter {
    let client = fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()])).unwrap();
    EtcdWriter::new(client, KEY, RULE)
}

#[test]
fn sets_the_percent_and_nothing_else() {
    let etcd = TestEtcd::start();
    let writer = writer(&etcd);
    let missing = writer.read().unwrap_err().to_string();
    assert_eq!(missing, format!("etcd:{KEY}: the key does not exist"));
    fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()]))
        .unwrap()
        .put(KEY, FRAGMENT.as_bytes())
        .unwrap();
    let written = set_percent(&writer, 10).unwrap();
    assert_eq!((written.from, written.to, written.changed), (0, 10, true));
    let read = writer.read().unwrap();
    assert_eq!((read.percent, &read.revision), (10, &written.revision));
    let text = fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()]))
        .unwrap()
        .get(KEY)
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(
        String::from_utf8(text).unwrap(),
        FRAGMENT.replace("percent = 0 ", "percent = 10 ")
    );
    assert!(
        !set_percent(&writer, 10).unwrap().changed,
        "the same percent writes nothing"
    );
}

#[test]
fn two_controllers_racing_on_one_fragment_have_exactly_one_winner() {
    let etcd = TestEtcd::start();
    fleet::EtcdClient::new(fleet::ClientOptions::new(&[&etcd.endpoint()]))
        .unwrap()
        .put(KEY, FRAGMENT.as_bytes())
        .unwrap();
    for round in 0..5u8 {
        let writers = [Arc::new(writer(&etcd)), Arc::new(writer(&etcd))];
        let read = writers[0].read().unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = writers
            .iter()
            .enumerate()
            .map(|(i, writer)| {
                let (writer, barrier, expected) = (
                    Arc::clone(writer),
                    Arc::clone(&barrier),
                    read.revision.clone(),
                );
                // Different targets, so neither write is a no-op.
                let percent = 20 + round * 2 + i as u8;
                std::thread::spawn(move || {
                    barrier.wait();
                    writer.write_percent(percent, &expected)
                })
            })
            .collect();
        let outcomes: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let winners = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        let loser = outcomes.into_iter().find_map(Result::err).unwrap();
        assert!(matches!(loser, WriteError::Conflict { .. }), "{loser}");
        let message = loser.to_string();
        assert!(
            message.contains(&format!("etcd:{KEY} changed since it was read")),
            "{message}"
        );
    }
}

const SPEC_REST: &str = "[[steps]]\npercent = 10\n[[steps]]\npercent = 100\n[analysis]\nprometheus = \"http://127.0.0.1:9\"\n[[instances]]\nname = \"a\"\nadmin_url = \"http://127.0.0.1:9\"\n";

#[test]
fn a_spec_names_its_fragment_by_file_or_by_etcd_key_not_both() {
    let path = std::path::Path::new("/etc/rollouts/r.toml");
    let etcd = format!(
        "[target]\nrule = \"{RULE}\"\netcd = {{ endpoints = [\"http://127.0.0.1:2379\"], key = \"{KEY}\" }}\n{SPEC_REST}"
    );
    let spec = rollout::Spec::parse(path, &etcd).unwrap();
    let target = spec.etcd.unwrap();
    assert_eq!(
        (target.endpoints.as_slice(), target.key.as_str()),
        (&["http://127.0.0.1:2379".to_owned()][..], KEY)
    );
    assert_eq!(
        spec.fragment,
        std::path::PathBuf::from(format!("etcd:{KEY}"))
    );

    let both = etcd.replace("[target]\n", "[target]\nfragment = \"f.toml\"\n");
    let error = rollout::Spec::parse(path, &both).unwrap_err().to_string();
    assert!(
        error.contains("/etc/rollouts/r.toml:4:") && error.contains("not both"),
        "{error}"
    );

    let neither = format!("[target]\nrule = \"{RULE}\"\n{SPEC_REST}");
    let error = rollout::Spec::parse(path, &neither)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("needs `fragment` (a file) or `etcd` (a key)"),
        "{error}"
    );
}
