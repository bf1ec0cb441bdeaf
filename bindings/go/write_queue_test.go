// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"bytes"
	"testing"

	"fdkit"
)

func TestQueuedWritesArriveWholeAndInOrder(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		a, b := unixPair(t)
		defer a.Close()
		defer b.Close()
		const mib = 1 << 20
		var sent []byte
		var done []int
		for i := 0; i < 4; i++ {
			chunk := bytes.Repeat([]byte{byte('A' + i)}, mib)
			sent = append(sent, chunk...)
			i := i
			_, err := l.WriteAllAsync(a, chunk, func(n int, err error) {
				must(t, err)
				if n != mib {
					t.Errorf("write %d: %d bytes", i, n)
				}
				done = append(done, i)
			})
			must(t, err)
		}
		if q, err := l.WriteQueueSize(a); err != nil || q <= 3*mib {
			t.Fatalf("queue size %d, %v", q, err)
		}
		var got []byte
		var more func()
		more = func() {
			_, err := l.ReadAsync(b, 1<<16, func(data []byte, err error) {
				must(t, err)
				got = append(got, data...)
				if len(got) < 4*mib {
					more()
				}
			})
			must(t, err)
		}
		more()
		l.Run(fdkit.RunDefault)
		if q, _ := l.WriteQueueSize(a); q != 0 {
			t.Fatalf("queue size %d after the writes", q)
		}
		if len(done) != 4 || done[0] != 0 || done[1] != 1 || done[2] != 2 || done[3] != 3 {
			t.Fatalf("completion order %v", done)
		}
		if !bytes.Equal(got, sent) {
			t.Fatal("bytes arrived out of order")
		}
	})
}
