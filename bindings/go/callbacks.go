package fdkit

// The functions C calls back. A file with //export may only declare in its preamble.

/*
#include <stdint.h>
*/
import "C"

import "runtime/cgo"

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
