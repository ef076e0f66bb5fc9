//! An axum server started inside the test on 127.0.0.1, driven by a hyper client from async
//! actions, its mode switched by a serial action while it runs. The server's planted
//! mistake (a read-only store still deletes) fails exactly the read-only walks that delete.

use combtest::prelude::*;
use combtest_examples::store::{put_value, request, switch_mode, Session, StoreServer};

#[test]
fn a_running_server_reconfigured_between_stretches_of_walks() {
    let mut server = StoreServer::start().expect("a server on 127.0.0.1");
    let address = server.address();
    let report = combtest! {
        order: [put_value, switch_mode, request, request],
        state: move || Session::new(address),
        shared: &mut server,
        panic_on_failure: false,
    };
    // 2 values x 3 modes x 3 requests x 3 requests.
    assert_eq!(report.walk_count, 54);
    // In read-only mode, the walks whose first request deletes (2 x 3), and those whose
    // second request deletes after a first that did not (2 x 2).
    assert_eq!(report.error_count, 10, "{report}");
    for failure in &report.failures {
        assert_eq!(&*failure.steps[1].param_debug, "ReadOnly");
        assert_eq!(failure.failed_action, "request");
        assert_eq!(
            failure.message,
            "DELETE answered 204 No Content in read-only mode, expected 403 Forbidden"
        );
        assert_eq!(
            &*failure.steps[failure.failed_position].param_debug,
            "Delete"
        );
    }

    // The server is the test's again: the mode switched once per branch, and it answered
    // every request: 54 PUTs, the 3 switches, the 2 requests of each passing walk, and
    // those of each failing walk up to the failing one (the server answered it too).
    assert_eq!(server.mode_switches, 3);
    let failing_walks_requests: u64 = report
        .failures
        .iter()
        .map(|f| f.failed_position as u64 - 1)
        .sum();
    assert_eq!(failing_walks_requests, 6 + 2 * 4);
    let passing_requests = 2 * (report.walk_count - report.error_count);
    assert_eq!(
        server.served(),
        54 + 3 + passing_requests + failing_walks_requests
    );
}
