package fdkit

// The functions C calls back. A file with //export may only declare in its preamble.

/*
#include <stdint.h>
*/
import "C"

import "runtime/cgo"

//export fdkgoTrace
func fdkgoTrace(phase C.int, name *C.char, spanID C.uint64_t, fd C.int, path *C.char, result C.int64_t,
	detail *C.char, thread C.uint64_t, duration C.int64_t) {
	deliverTrace(int(phase), C.GoString(name), uint64(spanID), int(fd), goStringOrEmpty(path), int64(result),
		goStringOrEmpty(detail), uint64(thread), int64(duration))
}

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

//export fdkgoResult
func fdkgoResult(result C.int64_t, data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.op.raw = nil
	p.deliver(func() { p.done(int64(result)) })
}

//export fdkgoPost
func fdkgoPost(data C.uintptr_t) {
	h := cgo.Handle(data)
	p := h.Value().(*pending)
	h.Delete()
	p.deliver(p.post)
}
