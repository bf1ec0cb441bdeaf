package fdkit_test

import (
	"sync"
	"testing"

	"fdkit"
)

func TestTraceHookSeesMatchedSpans(t *testing.T) {
	noLeaks(t, func() {
		var mu sync.Mutex
		var events []fdkit.TraceEvent
		must(t, fdkit.SetTraceHook(func(e fdkit.TraceEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}))
		r, w := pipe(t)
		_, err := w.Write([]byte("abc"))
		must(t, err)
		l := newLoop(t)
		_, err = l.ReadAsync(r, 8, func(data []byte, err error) { must(t, err) })
		must(t, err)
		l.Run(fdkit.RunDefault)
		l.Close()
		must(t, fdkit.SetTraceHook(nil))
		mu.Lock()
		seen := append([]fdkit.TraceEvent(nil), events...)
		mu.Unlock()
		ends := map[string]int64{}
		open := map[uint64]bool{}
		for _, e := range seen {
			if e.Phase == fdkit.TraceBegin {
				open[e.SpanID] = true
			} else {
				delete(open, e.SpanID)
				ends[e.Name] = e.Result
			}
		}
		if ends["write"] != 3 || ends["read"] != 3 || len(open) != 0 {
			t.Fatalf("ends %v, unmatched %v", ends, open)
		}
		_, err = w.Write([]byte("more"))
		must(t, err)
		mu.Lock()
		defer mu.Unlock()
		if len(events) != len(seen) {
			t.Fatal("the hook ran after it was removed")
		}
		must(t, r.Close())
		must(t, w.Close())
	})
}
