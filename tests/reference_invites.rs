//! Invite-code interop with the real reference node: codes made by either side are
//! accepted by the other and name the same circle.

use felund_tests::reference::Reference;
use felund_tests::{free_port, Daemon};

#[test]
fn felundd_joins_a_code_made_by_the_reference() {
    let Some(r) = Reference::from_env("felundd_joins_a_code_made_by_the_reference") else {
        return;
    };
    let node = r.node(free_port(), "refalice");
    let (circle_id, code) = node.invite();
    let d = Daemon::start();
    let v = d.ctl_one(&["join", &code]);
    assert_eq!(v["circle"]["circle_id"], circle_id.as_str());
}

#[test]
fn reference_joins_a_code_made_by_felundd() {
    let Some(r) = Reference::from_env("reference_joins_a_code_made_by_felundd") else {
        return;
    };
    let d = Daemon::start();
    let v = d.ctl_one(&["invite", "--name", "ours"]);
    let circle_id = v["circle"]["circle_id"]
        .as_str()
        .expect("circle_id")
        .to_string();
    let code = v["invite_code"].as_str().expect("code").to_string();
    let node = r.node(free_port(), "refbob");
    // The reference tries one sync with the code's peer; whatever that does, it must
    // have accepted the code and stored the circle under the same id.
    let _ = node.run(&["join", "--code", &code]);
    let state = node.state();
    assert!(
        state["circles"].get(&circle_id).is_some(),
        "reference did not store circle {circle_id}: {}",
        state["circles"]
    );
}
