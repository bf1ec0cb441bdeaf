// SPDX-License-Identifier: MIT
// The binding's constants against include/fdkit/*.h: every FDK_ value a header defines is
// either a Go constant with the same value or listed below with the Go form that replaces it.
package fdkit_test

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fdkit"
)

var goConstants = map[string]uint64{
	"FDK_FD_BLOCKING": fdkit.Blocking, "FDK_FD_BORROW": fdkit.Borrow,
	"FDK_O_RDONLY": fdkit.O_RDONLY, "FDK_O_WRONLY": fdkit.O_WRONLY, "FDK_O_RDWR": fdkit.O_RDWR,
	"FDK_O_APPEND": fdkit.O_APPEND, "FDK_O_CREAT": fdkit.O_CREAT, "FDK_O_EXCL": fdkit.O_EXCL,
	"FDK_O_TRUNC": fdkit.O_TRUNC, "FDK_O_DIRECTORY": fdkit.O_DIRECTORY, "FDK_O_NOFOLLOW": fdkit.O_NOFOLLOW,
	"FDK_O_NONBLOCK": fdkit.O_NONBLOCK, "FDK_O_SYNC": fdkit.O_SYNC, "FDK_O_DSYNC": fdkit.O_DSYNC,
	"FDK_O_NOCTTY": fdkit.O_NOCTTY, "FDK_O_PATH": fdkit.O_PATH, "FDK_O_TMPFILE": fdkit.O_TMPFILE,
	"FDK_RESOLVE_AUTO": fdkit.ResolveAuto, "FDK_RESOLVE_OPENAT2": fdkit.ResolveOpenat2,
	"FDK_RESOLVE_FALLBACK": fdkit.ResolveFallback,
	"FDK_RENAME_NOREPLACE": fdkit.RenameNoReplace, "FDK_RENAME_EXCHANGE": fdkit.RenameExchange,
	"FDK_RENAME_WHITEOUT": fdkit.RenameWhiteout,
	"FDK_DIR_NOFOLLOW":    fdkit.DirNoFollow, "FDK_DIR_NO_XDEV": fdkit.DirNoXdev,
	"FDK_DIR_NO_SYMLINKS": fdkit.DirNoSymlinks, "FDK_DIR_IN_ROOT": fdkit.DirInRoot,
	"FDK_ACCESS_EXISTS": fdkit.AccessExists, "FDK_ACCESS_READ": fdkit.AccessRead,
	"FDK_ACCESS_WRITE": fdkit.AccessWrite, "FDK_ACCESS_EXEC": fdkit.AccessExec,
	"FDK_XATTR_CREATE": fdkit.XattrCreate, "FDK_XATTR_REPLACE": fdkit.XattrReplace,
	"FDK_KIND_UNKNOWN": uint64(fdkit.KindUnknown), "FDK_KIND_FIFO": uint64(fdkit.KindFifo),
	"FDK_KIND_CHAR": uint64(fdkit.KindChar), "FDK_KIND_DIR": uint64(fdkit.KindDir),
	"FDK_KIND_BLOCK": uint64(fdkit.KindBlock), "FDK_KIND_REGULAR": uint64(fdkit.KindRegular),
	"FDK_KIND_SYMLINK": uint64(fdkit.KindSymlink), "FDK_KIND_SOCKET": uint64(fdkit.KindSocket),
	"FDK_RUN_DEFAULT": fdkit.RunDefault, "FDK_RUN_ONCE": fdkit.RunOnce, "FDK_RUN_NOWAIT": fdkit.RunNoWait,
	"FDK_SHUT_RD": fdkit.ShutRead, "FDK_SHUT_WR": fdkit.ShutWrite, "FDK_SHUT_RDWR": fdkit.ShutReadWrite,
	"FDK_MSG_TRUNC": fdkit.MsgTrunc, "FDK_MSG_CTRUNC": fdkit.MsgCtrunc,
	"FDK_AI_PASSIVE": fdkit.AI_PASSIVE, "FDK_AI_CANONNAME": fdkit.AI_CANONNAME,
	"FDK_AI_NUMERICHOST": fdkit.AI_NUMERICHOST, "FDK_AI_NUMERICSERV": fdkit.AI_NUMERICSERV,
	"FDK_AI_ADDRCONFIG": fdkit.AI_ADDRCONFIG, "FDK_AI_V4MAPPED": fdkit.AI_V4MAPPED, "FDK_AI_ALL": fdkit.AI_ALL,
	"FDK_INHERIT_PRESERVE": fdkit.InheritPreserve, "FDK_INHERIT_BLOCKING": fdkit.InheritBlocking,
	"FDK_INHERIT_NONBLOCKING": fdkit.InheritNonBlocking,
	"FDK_RLIM_INFINITY":       fdkit.RlimInfinity,
	"FDK_SPAWN_BACKEND_AUTO":  fdkit.BackendAuto, "FDK_SPAWN_BACKEND_FORK": fdkit.BackendFork,
	"FDK_SPAWN_BACKEND_POSIX_SPAWN": fdkit.BackendPosixSpawn,
	"FDK_RUN_INHERIT":               fdkit.Inherit, "FDK_RUN_CAPTURE": fdkit.Capture, "FDK_RUN_DISCARD": fdkit.Discard,
	"FDK_RUN_MERGE":         fdkit.Merge,
	"FDK_RUN_GROUP_INHERIT": fdkit.GroupInherit, "FDK_RUN_GROUP_NEW": fdkit.GroupNew,
	"FDK_RUN_GROUP_SESSION": fdkit.GroupSession, "FDK_RUN_GROUP_JOIN": fdkit.GroupJoin,
	"FDK_RUN_FDS_CLOEXEC_ONLY": fdkit.FdsCloexecOnly, "FDK_RUN_FDS_CLOSE_FROM_3": fdkit.FdsCloseFrom3,
	"FDK_RUN_FDS_ALLOWLIST": fdkit.FdsAllowlist,
	"FDK_TRACE_BEGIN":       fdkit.TraceBegin, "FDK_TRACE_END": fdkit.TraceEnd,
}

// The header values the Go API expresses in its own way.
var goForms = map[string]string{
	"FDK_API":                 "the export macro",
	"FDK_VERSION_MAJOR":       "Version() (compared below)",
	"FDK_VERSION_MINOR":       "Version()",
	"FDK_VERSION_PATCH":       "Version()",
	"FDK_VERSION_NUMBER":      "Version()",
	"FDK_EESCAPE":             "ErrEscape",
	"FDK_FOLLOW":              "the follow bool of Chmod, Chown, Chtimes, Stat, Link2, Access and the xattr calls",
	"FDK_ACCESS_EFFECTIVE":    "the effective bool of Access",
	"FDK_UTIME_NOW":           "Chtimes takes a time.Time",
	"FDK_UTIME_OMIT":          "a zero time.Time in Chtimes",
	"FDK_SEEK_SET":            "io.SeekStart",
	"FDK_SEEK_CUR":            "io.SeekCurrent",
	"FDK_SEEK_END":            "io.SeekEnd",
	"FDK_RANDOM_NONBLOCK":     "Getrandom waits for the entropy pool, as crypto/rand does",
	"FDK_FSYNC_DATA":          "the dataOnly bool of Sync",
	"FDK_SPAWN_BACKEND_MASK":  "Actions.Backend holds the backend alone",
	"FDK_EXIT_CODE":           "ExitStatus.Code",
	"FDK_EXIT_SIGNAL":         "ExitStatus.Signal",
	"FDK_EXIT_UNKNOWN":        "Wait fails with ECHILD",
	"FDK_RUN_CANCEL_NONE":     "CancelNone (CancelPolicy's zero value is the default, kill)",
	"FDK_RUN_CANCEL_KILL":     "CancelKill",
	"FDK_RUN_CANCEL_GRACEFUL": "CancelGraceful",
}

var define = regexp.MustCompile(`(?m)^#define (FDK_\w+)\b[ \t]*(.*)$`)

func TestConstantsMatchTheHeaders(t *testing.T) {
	headers, err := filepath.Glob(filepath.Join("..", "..", "include", "fdkit", "*.h"))
	if err != nil || len(headers) == 0 {
		t.Fatalf("no headers: %v", err)
	}
	values := map[string]string{}
	for _, h := range headers {
		text, err := os.ReadFile(h)
		must(t, err)
		for _, m := range define.FindAllStringSubmatch(string(text), -1) {
			value := strings.TrimSpace(strings.SplitN(m[2], "/*", 2)[0])
			values[m[1]] = value
		}
	}
	for name, value := range values {
		goValue, bound := goConstants[name]
		if _, other := goForms[name]; other {
			continue
		}
		if !bound {
			t.Errorf("%s (%s) has no Go constant and no Go form in this test", name, value)
			continue
		}
		var want uint64
		if value == "UINT64_MAX" {
			want = math.MaxUint64
		} else {
			n, err := strconv.ParseUint(strings.TrimSuffix(value, "u"), 0, 64)
			if err != nil {
				t.Errorf("%s: cannot read %q", name, value)
				continue
			}
			want = n
		}
		if goValue != want {
			t.Errorf("%s is %s in the header, %d in Go", name, value, goValue)
		}
	}
	for name := range goConstants {
		if _, ok := values[name]; !ok {
			t.Errorf("%s is no longer in the headers", name)
		}
	}
	version := func(name string) uint {
		n, err := strconv.Atoi(values[name])
		must(t, err)
		return uint(n)
	}
	if want := version("FDK_VERSION_MAJOR")*10000 + version("FDK_VERSION_MINOR")*100 + version("FDK_VERSION_PATCH"); fdkit.Version() != want {
		t.Errorf("the library is version %d, the headers %d", fdkit.Version(), want)
	}
}
