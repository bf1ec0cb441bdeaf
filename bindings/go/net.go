package fdkit

/*
#include <stdlib.h>
#include <sys/socket.h>
#include <fdkit.h>
#include "bridge.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Directions of Shutdown.
const (
	ShutRd   = C.FDK_SHUT_RD
	ShutWr   = C.FDK_SHUT_WR
	ShutRdwr = C.FDK_SHUT_RDWR
)

// Socketpair is a connected pair of sockets (syscall.AF_UNIX, syscall.SOCK_STREAM...),
// close-on-exec and non-blocking.
func Socketpair(domain, typ int) (a, b *Fd, err error) {
	var ra, rb *C.fdk_fd
	if _, err := call(func() int64 { return int64(C.fdk_socketpair(&ra, &rb, C.int(domain), C.int(typ), 0)) }); err != nil {
		return nil, nil, err
	}
	return wrapFd(ra), wrapFd(rb), nil
}

// Socket is a new socket, close-on-exec and non-blocking.
func Socket(domain, typ, proto int) (*Fd, error) {
	var raw *C.fdk_fd
	if _, err := call(func() int64 { return int64(C.fdk_socket(&raw, C.int(domain), C.int(typ), C.int(proto))) }); err != nil {
		return nil, err
	}
	return wrapFd(raw), nil
}

func (f *Fd) Shutdown(how uint) error {
	_, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_shutdown(raw, C.uint(how))) })
	return err
}

// SendMsg sends p as one message with fds passed along (the receiver gets descriptors
// of its own); never raises SIGPIPE.
func (f *Fd) SendMsg(p []byte, fds ...*Fd) (int, error) {
	buf := cBytes(len(p))
	defer C.free(buf)
	copy(unsafe.Slice((*byte)(buf), len(p)), p)
	handles := C.fdkgo_ptr_array(C.size_t(len(fds)))
	defer C.free(handles)
	for i, fd := range fds {
		C.fdkgo_ptr_array_set(handles, C.size_t(i), unsafe.Pointer(fd.raw))
	}
	iov := C.struct_iovec{iov_base: buf, iov_len: C.size_t(len(p))}
	n, err := f.call(func(raw *C.fdk_fd) int64 {
		return int64(C.fdk_send_msg(raw, &iov, 1, nil, 0, (**C.fdk_fd)(handles), C.int(len(fds))))
	})
	runtime.KeepAlive(fds)
	return int(max0(n)), err
}

// Message is one message RecvMsg received.
type Message struct {
	Data []byte
	Fds  []*Fd // close-on-exec on arrival
	// FdsTruncated: more descriptors came than maxFds allowed; every one that arrived was
	// closed.
	FdsTruncated bool
}

// RecvMsg receives one message of up to n bytes with up to maxFds descriptors.
func (f *Fd) RecvMsg(n, maxFds int) (*Message, error) {
	buf := cBytes(n)
	defer C.free(buf)
	handles := C.fdkgo_ptr_array(C.size_t(maxFds))
	defer C.free(handles)
	nfds := C.int(maxFds)
	var flags C.uint
	iov := C.struct_iovec{iov_base: buf, iov_len: C.size_t(n)}
	got, err := f.call(func(raw *C.fdk_fd) int64 {
		return int64(C.fdk_recv_msg(raw, &iov, 1, nil, nil, (**C.fdk_fd)(handles), &nfds, &flags))
	})
	if err != nil {
		return nil, err
	}
	m := &Message{Data: C.GoBytes(buf, C.int(got)), FdsTruncated: flags&C.FDK_MSG_CTRUNC != 0}
	for i := 0; i < int(nfds); i++ {
		m.Fds = append(m.Fds, wrapFd((*C.fdk_fd)(C.fdkgo_ptr_array_get(handles, C.size_t(i)))))
	}
	return m, nil
}
