//! trace.h: a hook sees matched spans of operations, then no more once removed.
mod util;

use fdkit::{pipe, trace, Loop, RunMode};
use std::sync::{Arc, Mutex};

#[test]
fn spans_of_sync_and_async_operations() {
    util::no_leaks(|| {
        let seen: Arc<Mutex<Vec<(bool, String, i64, u64)>>> = Arc::default();
        let sink = seen.clone();
        trace::set_hook(Some(Box::new(move |e: &trace::Event<'_>| {
            sink.lock().unwrap().push((e.begin, e.name.to_string(), e.result, e.span_id));
        })))
        .unwrap();
        let (r, w) = pipe().unwrap();
        w.write(b"abc").unwrap();
        let lp = Loop::new().unwrap();
        lp.read_async(&r, vec![0; 8], |n, _| assert_eq!(n.unwrap(), 3)).unwrap();
        lp.run(RunMode::Default).unwrap();
        drop(lp);
        trace::set_hook(None).unwrap();
        let events = seen.lock().unwrap().clone();
        let ends: Vec<_> = events.iter().filter(|e| !e.0).map(|e| (e.1.as_str(), e.2)).collect();
        assert!(ends.contains(&("write", 3)), "{:?}", ends);
        assert!(ends.contains(&("read", 3)), "{:?}", ends);
        let mut begins: Vec<u64> = events.iter().filter(|e| e.0).map(|e| e.3).collect();
        let mut end_ids: Vec<u64> = events.iter().filter(|e| !e.0).map(|e| e.3).collect();
        begins.sort_unstable();
        end_ids.sort_unstable();
        assert_eq!(begins, end_ids);
        w.write(b"more").unwrap();
        assert_eq!(seen.lock().unwrap().len(), events.len());
    });
}
