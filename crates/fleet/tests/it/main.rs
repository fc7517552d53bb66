//! The fleet crate against a real etcd: reads and writes, compare-and-swap races, failover,
//! auth, and following a prefix through bursts, compaction and an outage.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use fleet::testing::{TestEtcd, free_port};
use fleet::{
    Cas, ClientOptions, Conditional, EtcdClient, EtcdError, Expect, FollowEvent, FollowOptions,
    PrefixUnchanged,
};

fn client(endpoints: &[&str]) -> EtcdClient {
    let mut options = ClientOptions::new(endpoints);
    options.dial_timeout = Duration::from_millis(500);
    options.request_timeout = Duration::from_secs(3);
    EtcdClient::new(options).unwrap()
}

#[test]
fn reads_writes_and_fragments_in_key_order() {
    let etcd = TestEtcd::start();
    let client = client(&[&etcd.endpoint()]);
    assert_eq!(client.get("/p/gray/a.toml").unwrap(), None);
    client.put("/p/gray/b.toml", b"[gray]\n").unwrap();
    let revision = client.put("/p/gray/a.toml", b"x = 1\n").unwrap();
    client.put("/p/gray/notes.txt", b"ignored").unwrap();
    client
        .put("/p/grayish/c.toml", b"outside the prefix")
        .unwrap();
    let kv = client.get("/p/gray/a.toml").unwrap().unwrap();
    assert_eq!(
        (kv.value.as_slice(), kv.mod_revision),
        (&b"x = 1\n"[..], revision)
    );

    let set = fleet::fetch_fragments(&client, "/p/gray/", BUDGET).unwrap();
    let names: Vec<&str> = set.fragments.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("etcd:/p/gray/a.toml@{revision}"),
            format!("etcd:/p/gray/b.toml@{}", revision - 1)
        ]
    );
    assert!(set.revision >= revision + 2);

    client.delete("/p/gray/a.toml").unwrap();
    assert_eq!(client.get("/p/gray/a.toml").unwrap(), None);

    client.put("/p/gray/bin.toml", &[0xff, 0xfe]).unwrap();
    let error = fleet::fetch_fragments(&client, "/p/gray/", BUDGET).unwrap_err();
    assert!(
        matches!(error, EtcdError::NotText { ref key, .. } if key == "/p/gray/bin.toml"),
        "{error}"
    );
}

/// The fragments' budget of most tests: gray's default for the whole config.
const BUDGET: u64 = 16 * 1024 * 1024;

#[test]
fn fragments_over_the_budget_are_refused_as_a_set_naming_the_largest() {
    let etcd = TestEtcd::start();
    let client = client(&[&etcd.endpoint()]);
    client.put("/b/gray/a.toml", &[b'#'; 3000]).unwrap();
    client.put("/b/gray/b.toml", &[b'#'; 5000]).unwrap();
    client.put("/b/gray/c.toml", &[b'#'; 1000]).unwrap();
    // Other keys are not fragments and do not count.
    client.put("/b/gray/notes.txt", &[b'#'; 9000]).unwrap();
    assert_eq!(
        fleet::fetch_fragments(&client, "/b/gray/", 9000)
            .unwrap()
            .fragments
            .len(),
        3
    );
    let error = fleet::fetch_fragments(&client, "/b/gray/", 8999).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the fragments under /b/gray/ total 9000 bytes, over the budget of 8999 (limit \
         `max_total_bytes`); largest: /b/gray/b.toml 5000 bytes, /b/gray/a.toml 3000 bytes, \
         /b/gray/c.toml 1000 bytes"
    );
    // An answer far past the budget is not even read in full.
    client
        .put("/b/gray/huge.toml", &[b'#'; 600 * 1024])
        .unwrap();
    let error = fleet::fetch_fragments(&client, "/b/gray/", 9000).unwrap_err();
    assert!(matches!(error, EtcdError::AnswerTooLarge { .. }), "{error}");
}

#[test]
fn a_followed_prefix_over_the_budget_is_rejected_and_the_held_set_stays() {
    let etcd = TestEtcd::start();
    let client = Arc::new(client(&[&etcd.endpoint()]));
    let start = client.put("/o/a.toml", b"a = 1\n").unwrap();
    let mut options = FollowOptions::new("/o/");
    options.max_bytes = 100;
    let following = Following::start(Arc::clone(&client), options, start, false);
    client.put("/o/b.toml", &[b'#'; 200]).unwrap();
    let (event, before) = following.until(|e| matches!(e, FollowEvent::Rejected(_)));
    assert!(
        !before.iter().any(|e| matches!(e, FollowEvent::Fetched(_))),
        "{before:?}"
    );
    let FollowEvent::Rejected(error) = event else {
        unreachable!()
    };
    assert!(matches!(error, EtcdError::OverBudget { .. }), "{error}");
    // Back under the budget, the set is read again.
    client.delete("/o/b.toml").unwrap();
    following.until(|e| fetched_with(e, 1));
}

#[test]
fn two_racing_compare_and_swaps_have_exactly_one_winner() {
    let etcd = TestEtcd::start();
    let client = Arc::new(client(&[&etcd.endpoint()]));
    let first = client.compare_and_swap("/p/k.toml", 0, b"v0").unwrap();
    let Cas::Swapped { mod_revision } = first else {
        panic!("create failed: {first:?}")
    };
    assert!(
        matches!(
            client.compare_and_swap("/p/k.toml", 0, b"again").unwrap(),
            Cas::Conflict { .. }
        ),
        "create-only on an existing key"
    );

    for round in 0..10 {
        let expected = client.get("/p/k.toml").unwrap().unwrap().mod_revision;
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|i| {
                let (client, barrier) = (Arc::clone(&client), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    client
                        .compare_and_swap("/p/k.toml", expected, format!("r{round}-{i}").as_bytes())
                        .unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Cas> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let winners = outcomes
            .iter()
            .filter(|o| matches!(o, Cas::Swapped { .. }))
            .count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        let loser = outcomes
            .iter()
            .find_map(|o| match o {
                Cas::Conflict { current } => current.clone(),
                _ => None,
            })
            .unwrap();
        assert!(
            loser.mod_revision > expected,
            "the loser sees the winner's revision"
        );
    }
    assert!(mod_revision > 0);
}

#[test]
fn conditional_writes_hold_the_key_and_the_prefix_as_read() {
    let etcd = TestEtcd::start();
    let client = client(&[&etcd.endpoint()]);
    let read_at = |client: &EtcdClient| PrefixUnchanged {
        prefix: "/c/gray/".to_owned(),
        revision: client.range_prefix("/c/gray/").unwrap().revision,
    };
    // An empty prefix holds as read; a new key is created.
    let empty = read_at(&client);
    let Conditional::Done { revision: a } = client
        .put_if("/c/gray/a.toml", b"a", Expect::Absent, Some(&empty))
        .unwrap()
    else {
        panic!("an empty prefix is unchanged")
    };
    // The key exists now: a create, or a stale revision, is a key conflict naming what it is.
    let now = read_at(&client);
    for expect in [Expect::Absent, Expect::ModRevision(a - 1)] {
        match client
            .put_if("/c/gray/a.toml", b"x", expect, Some(&now))
            .unwrap()
        {
            Conditional::KeyChanged { current } => {
                assert_eq!(current.unwrap().mod_revision, a);
            }
            other => panic!("{expect:?}: {other:?}"),
        }
    }
    // Another key written after the read: the key is as expected, the prefix is not.
    let before = read_at(&client);
    client.put("/c/gray/b.toml", b"b").unwrap();
    assert!(matches!(
        client
            .put_if(
                "/c/gray/a.toml",
                b"x",
                Expect::ModRevision(a),
                Some(&before)
            )
            .unwrap(),
        Conditional::PrefixChanged { .. }
    ));
    // A deletion leaves no key behind, so it writes the guard key: a writer who read before it
    // sees the prefix changed.
    let before = read_at(&client);
    let b = client.get("/c/gray/b.toml").unwrap().unwrap().mod_revision;
    let after = read_at(&client);
    assert!(matches!(
        client
            .delete_if("/c/gray/b.toml", Expect::ModRevision(b), Some(&after))
            .unwrap(),
        Conditional::Done { .. }
    ));
    assert_eq!(client.get("/c/gray/b.toml").unwrap(), None);
    assert!(matches!(
        client
            .put_if(
                "/c/gray/a.toml",
                b"x",
                Expect::ModRevision(a),
                Some(&before)
            )
            .unwrap(),
        Conditional::PrefixChanged { .. }
    ));
    // The guard key is not a fragment.
    let set = fleet::fetch_fragments(&client, "/c/gray/", BUDGET).unwrap();
    assert_eq!(set.fragments.len(), 1);
    // --force: any revision of the key, the prefix still as read.
    let now = read_at(&client);
    assert!(matches!(
        client
            .put_if("/c/gray/a.toml", b"y", Expect::Anything, Some(&now))
            .unwrap(),
        Conditional::Done { .. }
    ));
}

#[test]
fn fails_over_to_a_live_endpoint_and_names_every_dead_one() {
    let etcd = TestEtcd::start();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let both = client(&[&dead, &etcd.endpoint()]);
    both.put("/p/x", b"1").unwrap();
    assert_eq!(both.get("/p/x").unwrap().unwrap().value, b"1");

    let dead2 = format!("http://127.0.0.1:{}", free_port());
    let none = client(&[&dead, &dead2]);
    let error = none.get("/p/x").unwrap_err().to_string();
    assert!(
        error.contains(&dead) && error.contains(&dead2) && error.contains("/v3/kv/range"),
        "{error}"
    );
}

#[test]
fn user_and_password_auth() {
    let etcd = TestEtcd::start();
    let admin = client(&[&etcd.endpoint()]);
    admin.put("/p/a.toml", b"before auth").unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    for (path, body) in [
        ("/v3/auth/role/add", serde_json::json!({"name": "root"})),
        (
            "/v3/auth/user/add",
            serde_json::json!({"name": "root", "password": "s3cret"}),
        ),
        (
            "/v3/auth/user/grant",
            serde_json::json!({"user": "root", "role": "root"}),
        ),
        ("/v3/auth/enable", serde_json::json!({})),
    ] {
        agent
            .post(format!("{}{path}", etcd.endpoint()))
            .send_json(body)
            .unwrap();
    }
    let error = admin.get("/p/a.toml").unwrap_err().to_string();
    assert!(error.contains(&etcd.endpoint()), "{error}");

    let mut options = ClientOptions::new(&[&etcd.endpoint()]);
    options.credentials = Some(("root".to_owned(), "s3cret".to_owned()));
    let authed = EtcdClient::new(options.clone()).unwrap();
    assert_eq!(
        authed.get("/p/a.toml").unwrap().unwrap().value,
        b"before auth"
    );

    options.credentials = Some(("root".to_owned(), "wrong".to_owned()));
    let error = EtcdClient::new(options)
        .unwrap()
        .get("/p/a.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot authenticate as `root`"), "{error}");
}

/// A follower on its own thread, its events on a channel.
struct Following {
    events: mpsc::Receiver<FollowEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Following {
    fn start(
        client: Arc<EtcdClient>,
        options: FollowOptions,
        revision: i64,
        fetch_first: bool,
    ) -> Following {
        let (sender, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            fleet::follow(client, &options, revision, fetch_first, &flag, |event| {
                let _ = sender.send(event);
            });
        });
        Following {
            events,
            stop,
            thread: Some(thread),
        }
    }

    /// The next event, failing the test if none comes within 20 s (a bound, not a measurement).
    fn next(&self) -> FollowEvent {
        self.events
            .recv_timeout(Duration::from_secs(20))
            .expect("a follow event")
    }

    /// Events until one satisfies `want`, which is returned.
    fn until(&self, mut want: impl FnMut(&FollowEvent) -> bool) -> (FollowEvent, Vec<FollowEvent>) {
        let mut before = Vec::new();
        loop {
            let event = self.next();
            if want(&event) {
                return (event, before);
            }
            before.push(event);
        }
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn fetched_with(event: &FollowEvent, count: usize) -> bool {
    matches!(event, FollowEvent::Fetched(set) if set.fragments.len() == count)
}

#[test]
fn a_burst_of_writes_settles_into_fewer_reads_that_end_with_every_write() {
    let etcd = TestEtcd::start();
    let client = Arc::new(client(&[&etcd.endpoint()]));
    let start = client.range_prefix("/f/").unwrap().revision;
    let mut options = FollowOptions::new("/f/");
    options.settle = Duration::from_millis(300);
    let following = Following::start(Arc::clone(&client), options, start, false);
    following.until(
        |e| matches!(e, FollowEvent::Watching { from_revision } if *from_revision == start + 1),
    );
    for i in 0..20 {
        client.put(&format!("/f/{i:02}.toml"), b"[gray]\n").unwrap();
    }
    let (_, before) = following.until(|e| fetched_with(e, 20));
    let reads = 1 + before
        .iter()
        .filter(|e| matches!(e, FollowEvent::Fetched(_)))
        .count();
    assert!(reads < 20, "20 writes were read {reads} times");
}

#[test]
fn a_compacted_watch_revision_is_re_read_in_full() {
    let etcd = TestEtcd::start();
    let client = Arc::new(client(&[&etcd.endpoint()]));
    let old = client.put("/f/a.toml", b"a = 1\n").unwrap();
    client.put("/f/b.toml", b"b = 1\n").unwrap();
    let newest = client.put("/f/a.toml", b"a = 2\n").unwrap();
    client.compact(newest).unwrap();
    // The follower holds what it read at `old`; the history after it is gone.
    let following = Following::start(Arc::clone(&client), FollowOptions::new("/f/"), old, false);
    let (event, before) = following.until(|e| matches!(e, FollowEvent::Fetched(_)));
    assert!(before.iter().any(|e| matches!(e, FollowEvent::Compacted { compact_revision } if *compact_revision == newest)), "{before:?}");
    let FollowEvent::Fetched(set) = event else {
        unreachable!()
    };
    assert_eq!(set.fragments[0].text, "a = 2\n");
    assert_eq!(set.fragments.len(), 2);
}

#[test]
fn an_outage_is_reported_and_a_change_after_it_is_read() {
    let mut etcd = TestEtcd::start();
    let client = Arc::new(client(&[&etcd.endpoint()]));
    let start = client.put("/f/a.toml", b"a = 1\n").unwrap();
    let mut options = FollowOptions::new("/f/");
    options.retry_min = Duration::from_millis(50);
    options.retry_max = Duration::from_millis(200);
    let following = Following::start(Arc::clone(&client), options, start, false);
    etcd.stop();
    let (event, _) = following.until(|e| matches!(e, FollowEvent::Down { .. }));
    let FollowEvent::Down { error, .. } = event else {
        unreachable!()
    };
    assert!(error.to_string().contains(&etcd.endpoint()), "{error}");
    etcd.resume();
    following.until(|e| matches!(e, FollowEvent::Up));
    client.put("/f/a.toml", b"a = 2\n").unwrap();
    following.until(|e| matches!(e, FollowEvent::Fetched(set) if set.fragments.first().is_some_and(|f| f.text == "a = 2\n")));
}
