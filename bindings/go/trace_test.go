// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"sync"
	"testing"

	"fdkit"
)

func TestTraceHookSeesSpansOfSyncAndAsyncOperations(t *testing.T) {
	noLeaks(t, func() {
		var mu sync.Mutex
		var events []fdkit.TraceEvent
		must(t, fdkit.SetTraceHook(func(e *fdkit.TraceEvent) {
			mu.Lock()
			events = append(events, *e)
			mu.Unlock()
		}))
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		_, err := w.Write([]byte("abc"))
		must(t, err)
		l := newLoop(t)
		_, err = l.ReadAsync(r, 8, func(data []byte, err error) { must(t, err) })
		must(t, err)
		l.Run(fdkit.RunDefault)
		l.Close()
		must(t, fdkit.ClearTraceHook())

		mu.Lock()
		seen := append([]fdkit.TraceEvent(nil), events...)
		mu.Unlock()
		var writeEnd *fdkit.TraceEvent
		readEnd, writeBegin := false, false
		for i, e := range seen {
			switch {
			case e.Name == "write" && e.Phase == fdkit.TraceEnd:
				writeEnd = &seen[i]
			case e.Name == "read" && e.Phase == fdkit.TraceEnd && e.Result == 3:
				readEnd = true
			}
		}
		if writeEnd == nil || writeEnd.Result != 3 || !readEnd {
			t.Fatalf("spans: %+v", seen)
		}
		for _, e := range seen {
			writeBegin = writeBegin || e.Phase == fdkit.TraceBegin && e.SpanID == writeEnd.SpanID
		}
		if !writeBegin {
			t.Fatalf("no begin for the write span: %+v", seen)
		}
		_, err = w.Write([]byte("x"))
		must(t, err)
		mu.Lock()
		defer mu.Unlock()
		if len(events) != len(seen) {
			t.Fatal("the hook ran after ClearTraceHook")
		}
	})
}

func TestAPanickingTraceHookDoesNotUnwindIntoC(t *testing.T) {
	noLeaks(t, func() {
		must(t, fdkit.SetTraceHook(func(*fdkit.TraceEvent) { panic("hook panics") }))
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		n, err := w.Write([]byte("x"))
		must(t, fdkit.ClearTraceHook())
		if n != 1 || err != nil {
			t.Fatalf("write: %d %v", n, err)
		}
	})
}
