// SPDX-License-Identifier: MIT
package fdkit

/*
#include <stdlib.h>
#include <string.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"syscall"
	"unsafe"
)

// Directions of Shutdown.
const (
	ShutRead      = C.FDK_SHUT_RD
	ShutWrite     = C.FDK_SHUT_WR
	ShutReadWrite = C.FDK_SHUT_RDWR
)

// Flags of RecvMsg.
const (
	MsgTrunc  = C.FDK_MSG_TRUNC  // a datagram was longer than the buffer; the rest is lost
	MsgCtrunc = C.FDK_MSG_CTRUNC // descriptors came that did not fit; all that arrived were closed
)

var errAddrFamily = errors.New("fdkit: unsupported address type")

// Socket creates a close-on-exec, non-blocking socket (syscall.AF_*, SOCK_*, protocol).
func Socket(domain, typ, proto int) (*Fd, error) {
	var raw *C.fdk_fd
	if _, err := call(func() int64 { return int64(C.fdk_socket(&raw, C.int(domain), C.int(typ), C.int(proto))) }); err != nil {
		return nil, err
	}
	return wrapFd(raw), nil
}

// Socketpair creates a connected pair, both close-on-exec and non-blocking.
func Socketpair(domain, typ, proto int) (*Fd, *Fd, error) {
	var a, b *C.fdk_fd
	if _, err := call(func() int64 {
		return int64(C.fdk_socketpair(&a, &b, C.int(domain), C.int(typ), C.int(proto)))
	}); err != nil {
		return nil, nil, err
	}
	return wrapFd(a), wrapFd(b), nil
}

func setPort(p *uint16, port int) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) int {
	b := (*[2]byte)(unsafe.Pointer(p))
	return int(b[0])<<8 | int(b[1])
}

// rawSockaddr lays sa out as the kernel's struct sockaddr in Go memory without pointers.
func rawSockaddr(sa syscall.Sockaddr) (*syscall.RawSockaddrAny, C.socklen_t, error) {
	var any syscall.RawSockaddrAny
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		r := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&any))
		r.Family = syscall.AF_INET
		setPort(&r.Port, a.Port)
		r.Addr = a.Addr
		return &any, syscall.SizeofSockaddrInet4, nil
	case *syscall.SockaddrInet6:
		r := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&any))
		r.Family = syscall.AF_INET6
		setPort(&r.Port, a.Port)
		r.Addr, r.Scope_id = a.Addr, a.ZoneId
		return &any, syscall.SizeofSockaddrInet6, nil
	case *syscall.SockaddrUnix:
		r := (*syscall.RawSockaddrUnix)(unsafe.Pointer(&any))
		if len(a.Name) >= len(r.Path) {
			return nil, 0, syscall.EINVAL
		}
		r.Family = syscall.AF_UNIX
		for i := 0; i < len(a.Name); i++ {
			r.Path[i] = int8(a.Name[i])
		}
		return &any, C.socklen_t(2 + len(a.Name) + 1), nil
	}
	return nil, 0, errAddrFamily
}

// goSockaddr reads a struct sockaddr of the IP or unix families.
func goSockaddr(any *syscall.RawSockaddrAny) (syscall.Sockaddr, error) {
	switch any.Addr.Family {
	case syscall.AF_INET:
		r := (*syscall.RawSockaddrInet4)(unsafe.Pointer(any))
		return &syscall.SockaddrInet4{Port: getPort(&r.Port), Addr: r.Addr}, nil
	case syscall.AF_INET6:
		r := (*syscall.RawSockaddrInet6)(unsafe.Pointer(any))
		return &syscall.SockaddrInet6{Port: getPort(&r.Port), ZoneId: r.Scope_id, Addr: r.Addr}, nil
	case syscall.AF_UNIX:
		r := (*syscall.RawSockaddrUnix)(unsafe.Pointer(any))
		n := 0
		for n < len(r.Path) && r.Path[n] != 0 {
			n++
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Path[i])
		}
		return &syscall.SockaddrUnix{Name: string(b)}, nil
	}
	return nil, errAddrFamily
}

func (f *Fd) Bind(sa syscall.Sockaddr) error {
	raw, n, err := rawSockaddr(sa)
	if err != nil {
		return err
	}
	_, err = f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_bind(fr, (*C.struct_sockaddr)(unsafe.Pointer(raw)), n)) })
	return err
}

func (f *Fd) Listen(backlog int) error {
	_, err := f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_listen(fr, C.int(backlog))) })
	return err
}

// Connect connects, waiting for the connection on a non-blocking socket.
func (f *Fd) Connect(sa syscall.Sockaddr) error {
	raw, n, err := rawSockaddr(sa)
	if err != nil {
		return err
	}
	_, err = f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdk_connect(fr, (*C.struct_sockaddr)(unsafe.Pointer(raw)), n))
	})
	return err
}

// Accept accepts a connection as a new close-on-exec, non-blocking handle.
func (f *Fd) Accept() (*Fd, error) {
	var raw *C.fdk_fd
	if _, err := f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_accept(&raw, fr, nil, nil)) }); err != nil {
		return nil, err
	}
	return wrapFd(raw), nil
}

// LocalAddr is the bound address (getsockname).
func (f *Fd) LocalAddr() (syscall.Sockaddr, error) {
	var any syscall.RawSockaddrAny
	n := C.socklen_t(unsafe.Sizeof(any))
	if _, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdk_getsockname(fr, (*C.struct_sockaddr)(unsafe.Pointer(&any)), &n))
	}); err != nil {
		return nil, err
	}
	return goSockaddr(&any)
}

// Shutdown takes ShutRead, ShutWrite or ShutReadWrite.
func (f *Fd) Shutdown(how uint) error {
	_, err := f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_shutdown(fr, C.uint(how))) })
	return err
}

// SendMsg sends p with fds passed along (SCM_RIGHTS); the caller keeps its handles.
func (f *Fd) SendMsg(p []byte, fds ...*Fd) (int, error) {
	raws := make([]*C.fdk_fd, len(fds)+1) // +1: never a zero-length array to take [0] of
	for i, fd := range fds {
		raws[i] = fd.raw
	}
	defer runtime.KeepAlive(fds)
	n, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdkgo_send_msg(fr, bufPtr(p), C.size_t(len(p)), &raws[0], C.int(len(fds))))
	})
	return int(n), err
}

// RecvMsg receives one message into p with room for maxFds descriptors; flags has
// MsgTrunc and MsgCtrunc bits. n 0 is end of stream.
func (f *Fd) RecvMsg(p []byte, maxFds int) (n int, fds []*Fd, flags uint, err error) {
	raws := make([]*C.fdk_fd, maxFds+1)
	nfds := C.int(maxFds)
	var cflags C.uint
	r, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdkgo_recv_msg(fr, bufPtr(p), C.size_t(len(p)), &raws[0], &nfds, &cflags))
	})
	if err != nil {
		return 0, nil, 0, err
	}
	for _, raw := range raws[:nfds] {
		fds = append(fds, wrapFd(raw))
	}
	return int(r), fds, uint(cflags), nil
}

// AcceptAsync accepts one connection on the listener; done gets the new handle on the loop.
func (l *Loop) AcceptAsync(listener *Fd, done func(*Fd, error)) (*Op, error) {
	return l.startPending(&pending{fdDone: func(conn *Fd, err error) {
		runtime.KeepAlive(listener) // the listener's reference lives until the callback
		done(conn, err)
	}}, func(data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_accept_async(l.raw, listener.raw, nil, nil, C.fdk_accept_cb(C.fdkgo_fd_cb), data, op)
	})
}

// ConnectAsync connects f to sa; done gets the outcome on the loop.
func (l *Loop) ConnectAsync(f *Fd, sa syscall.Sockaddr, done func(error)) (*Op, error) {
	raw, n, err := rawSockaddr(sa)
	if err != nil {
		return nil, err
	}
	// C memory: the header does not promise to copy the address, and C may keep no Go pointer.
	addr := C.malloc(C.size_t(n))
	C.memcpy(addr, unsafe.Pointer(raw), C.size_t(n))
	op, err := l.start(func(r int64) {
		defer C.free(addr)
		defer runtime.KeepAlive(f)
		done(resultError(r))
	}, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_connect_async(l.raw, f.raw, (*C.struct_sockaddr)(addr), n, cb, data, op)
	})
	if err != nil {
		C.free(addr)
	}
	return op, err
}

// AddrInfo is one resolved address.
type AddrInfo struct {
	Family, Socktype, Protocol int
	Addr                       syscall.Sockaddr
}

// GetAddrInfo resolves host and service ("" for none; not both) to addresses of family
// (syscall.AF_UNSPEC for any) and socktype (0 for any). No such name is ENOENT.
func GetAddrInfo(host, service string, family, socktype int) ([]AddrInfo, error) {
	if err := noNUL("getaddrinfo", host, service); err != nil {
		return nil, err
	}
	cstr := func(s string) *C.char {
		if s == "" {
			return nil
		}
		return C.CString(s)
	}
	ch, cs := cstr(host), cstr(service)
	defer C.free(unsafe.Pointer(ch))
	defer C.free(unsafe.Pointer(cs))
	var ai *C.fdk_addrinfo
	if _, err := call(func() int64 {
		return int64(C.fdk_getaddrinfo(&ai, ch, cs, C.int(family), C.int(socktype), 0, 0))
	}); err != nil {
		return nil, err
	}
	defer C.fdk_addrinfo_free(ai)
	var out []AddrInfo
	for i := C.size_t(0); i < C.fdk_addrinfo_count(ai); i++ {
		var fam, st, proto C.int
		var addr *C.struct_sockaddr
		var n C.socklen_t
		if C.fdk_addrinfo_entry(ai, i, &fam, &st, &proto, &addr, &n) < 0 {
			continue
		}
		var any syscall.RawSockaddrAny
		copy((*[unsafe.Sizeof(any)]byte)(unsafe.Pointer(&any))[:], C.GoBytes(unsafe.Pointer(addr), C.int(n)))
		sa, err := goSockaddr(&any)
		if err != nil {
			continue
		}
		out = append(out, AddrInfo{Family: int(fam), Socktype: int(st), Protocol: int(proto), Addr: sa})
	}
	return out, nil
}
