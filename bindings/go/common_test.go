// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"fdkit"
)

func TestVersionStringMatchesNumber(t *testing.T) {
	v := fdkit.Version()
	if want := fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100); fdkit.VersionString() != want {
		t.Fatalf("version %q, want %q", fdkit.VersionString(), want)
	}
}

func TestErrorCarriesErrnoNameAndDetail(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer w.Close()
		must(t, r.Close())
		_, err := r.Read(make([]byte, 4))
		var fe *fdkit.Error
		if !errors.As(err, &fe) || !errors.Is(err, syscall.EBADF) {
			t.Fatalf("got %v, want an *Error unwrapping to EBADF", err)
		}
		if fe.Name() != "EBADF" || fe.Detail == "" || !strings.Contains(err.Error(), "EBADF") {
			t.Fatalf("name %q, detail %q, text %q", fe.Name(), fe.Detail, err)
		}
	})
}
