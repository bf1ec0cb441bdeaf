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

// Bind binds the socket to sa: EADDRINUSE when it is taken.
func (f *Fd) Bind(sa syscall.Sockaddr) error {
	raw, n, err := rawSockaddr(sa)
	if err != nil {
		return err
	}
	_, err = f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_bind(fr, (*C.struct_sockaddr)(unsafe.Pointer(raw)), n)) })
	return err
}

// Listen marks the socket as accepting connections (backlog capped by the kernel).
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
	return f.sockaddr(func(fr *C.fdk_fd, sa *C.struct_sockaddr, n *C.socklen_t) C.int { return C.fdk_getsockname(fr, sa, n) })
}

// RemoteAddr is the peer's address (getpeername): ENOTCONN on an unconnected socket.
func (f *Fd) RemoteAddr() (syscall.Sockaddr, error) {
	return f.sockaddr(func(fr *C.fdk_fd, sa *C.struct_sockaddr, n *C.socklen_t) C.int { return C.fdk_getpeername(fr, sa, n) })
}

func (f *Fd) sockaddr(get func(fr *C.fdk_fd, sa *C.struct_sockaddr, n *C.socklen_t) C.int) (syscall.Sockaddr, error) {
	var any syscall.RawSockaddrAny
	n := C.socklen_t(unsafe.Sizeof(any))
	if _, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(get(fr, (*C.struct_sockaddr)(unsafe.Pointer(&any)), &n))
	}); err != nil {
		return nil, err
	}
	return goSockaddr(&any)
}

// SetsockoptInt sets an int-valued option (syscall.SOL_SOCKET, SO_REUSEADDR; IPPROTO_TCP,
// TCP_NODELAY...): ENOPROTOOPT for one the level does not know.
func (f *Fd) SetsockoptInt(level, name, value int) error {
	_, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdk_setsockopt_int(fr, C.int(level), C.int(name), C.int(value)))
	})
	return err
}

// GetsockoptInt reads an int-valued option.
func (f *Fd) GetsockoptInt(level, name int) (int, error) {
	var v C.int
	_, err := f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_getsockopt_int(fr, C.int(level), C.int(name), &v)) })
	return int(v), err
}

// Shutdown takes ShutRead, ShutWrite or ShutReadWrite.
func (f *Fd) Shutdown(how uint) error {
	_, err := f.call(func(fr *C.fdk_fd) int64 { return int64(C.fdk_shutdown(fr, C.uint(how))) })
	return err
}

// SendMsg sends p with fds passed along (SCM_RIGHTS); the caller keeps its handles.
func (f *Fd) SendMsg(p []byte, fds ...*Fd) (int, error) { return f.SendMsgTo(p, nil, fds...) }

// SendMsgTo is SendMsg to the address to (an unconnected datagram socket; nil otherwise).
func (f *Fd) SendMsgTo(p []byte, to syscall.Sockaddr, fds ...*Fd) (int, error) {
	var dest *syscall.RawSockaddrAny
	var destLen C.socklen_t
	if to != nil {
		var err error
		if dest, destLen, err = rawSockaddr(to); err != nil {
			return 0, err
		}
	}
	raws := make([]*C.fdk_fd, len(fds)+1) // +1: never a zero-length array to take [0] of
	for i, fd := range fds {
		raws[i] = fd.raw
	}
	defer runtime.KeepAlive(fds)
	n, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdkgo_send_msg(fr, bufPtr(p), C.size_t(len(p)), (*C.struct_sockaddr)(unsafe.Pointer(dest)), destLen,
			&raws[0], C.int(len(fds))))
	})
	return int(n), err
}

// RecvMsg receives one message into p with room for maxFds descriptors; flags has
// MsgTrunc and MsgCtrunc bits. n 0 is end of stream.
func (f *Fd) RecvMsg(p []byte, maxFds int) (n int, fds []*Fd, flags uint, err error) {
	n, _, fds, flags, err = f.RecvMsgFrom(p, maxFds)
	return n, fds, flags, err
}

// RecvMsgFrom is RecvMsg that also gives the sender's address (nil when the socket type
// gives none, as on a connected stream).
func (f *Fd) RecvMsgFrom(p []byte, maxFds int) (n int, from syscall.Sockaddr, fds []*Fd, flags uint, err error) {
	raws := make([]*C.fdk_fd, maxFds+1)
	nfds := C.int(maxFds)
	var cflags C.uint
	var addr syscall.RawSockaddrAny
	addrLen := C.socklen_t(unsafe.Sizeof(addr))
	r, err := f.call(func(fr *C.fdk_fd) int64 {
		return int64(C.fdkgo_recv_msg(fr, bufPtr(p), C.size_t(len(p)), (*C.struct_sockaddr)(unsafe.Pointer(&addr)), &addrLen,
			&raws[0], &nfds, &cflags))
	})
	if err != nil {
		return 0, nil, nil, 0, err
	}
	for _, raw := range raws[:nfds] {
		fds = append(fds, wrapFd(raw))
	}
	if addrLen > 0 {
		from, _ = goSockaddr(&addr)
	}
	return int(r), from, fds, uint(cflags), nil
}

// ShutdownAsync is Shutdown on the loop.
func (l *Loop) ShutdownAsync(f *Fd, how uint, done func(error)) (*Op, error) {
	return l.fdAsync(f, func(r int64) { done(resultError(r)) }, func(cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_shutdown_async(l.raw, f.raw, C.uint(how), cb, data, op)
	})
}

// SendMsgAsync sends a copy of p, to the address to (nil on a connected socket), with fds
// passed along (fdkit references them until done runs); done gets the count sent.
func (l *Loop) SendMsgAsync(f *Fd, p []byte, to syscall.Sockaddr, fds []*Fd, done func(n int, err error)) (*Op, error) {
	var dest *C.struct_sockaddr
	var destLen C.socklen_t
	if to != nil {
		raw, n, err := rawSockaddr(to)
		if err != nil {
			return nil, err
		}
		// Copied by the call, but C may not be handed a Go pointer it could keep.
		dest, destLen = (*C.struct_sockaddr)(C.malloc(C.size_t(n))), n
		C.memcpy(unsafe.Pointer(dest), unsafe.Pointer(raw), C.size_t(n))
		defer C.free(unsafe.Pointer(dest))
	}
	raws := (**C.fdk_fd)(cBytes(len(fds) * int(unsafe.Sizeof((*C.fdk_fd)(nil)))))
	defer C.free(unsafe.Pointer(raws))
	slots := unsafe.Slice(raws, len(fds))
	for i, fd := range fds {
		slots[i] = fd.raw
	}
	defer runtime.KeepAlive(fds)
	v := newCIovecsOf([][]byte{p})
	return l.vectoredAsync(f, v, func(r int64) { done(int(max0(r)), resultError(r)) },
		func(iov *C.struct_iovec, n C.int, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
			return C.fdk_send_msg_async(l.raw, f.raw, iov, n, dest, destLen, raws, C.int(len(fds)), cb, data, op)
		})
}

// recvState is the C memory a RecvMsgAsync fills: C writes the out-parameters before the
// callback, so none may be Go memory.
type recvState struct {
	from    syscall.RawSockaddrAny
	fromLen C.socklen_t
	nfds    C.int
	flags   C.uint
}

// RecvMsgAsync receives one message of up to n bytes with room for maxFds descriptors; done
// gets the bytes (empty at end of stream), the sender's address (nil when the socket type
// gives none), the descriptors (new handles) and the MsgTrunc / MsgCtrunc flags.
func (l *Loop) RecvMsgAsync(f *Fd, n, maxFds int,
	done func(data []byte, from syscall.Sockaddr, fds []*Fd, flags uint, err error)) (*Op, error) {
	st := (*recvState)(cBytes(int(unsafe.Sizeof(recvState{}))))
	*st = recvState{fromLen: C.socklen_t(unsafe.Sizeof(st.from)), nfds: C.int(maxFds)}
	raws := (**C.fdk_fd)(cBytes(maxFds * int(unsafe.Sizeof((*C.fdk_fd)(nil)))))
	free := func() {
		C.free(unsafe.Pointer(raws))
		C.free(unsafe.Pointer(st))
	}
	v := newCIovecs([]int{n})
	op, err := l.vectoredAsync(f, v, func(r int64) {
		defer free()
		if err := resultError(r); err != nil {
			done(nil, nil, nil, 0, err)
			return
		}
		var fds []*Fd
		for _, raw := range unsafe.Slice(raws, int(st.nfds)) {
			fds = append(fds, wrapFd(raw))
		}
		data := C.GoBytes(v.bufs[0], C.int(r))
		var from syscall.Sockaddr
		if st.fromLen > 0 {
			from, _ = goSockaddr(&st.from)
		}
		done(data, from, fds, uint(st.flags), nil)
	}, func(iov *C.struct_iovec, cnt C.int, cb C.fdk_result_cb, data unsafe.Pointer, op **C.fdk_op) C.int {
		return C.fdk_recv_msg_async(l.raw, f.raw, iov, cnt, (*C.struct_sockaddr)(unsafe.Pointer(&st.from)), &st.fromLen,
			raws, &st.nfds, &st.flags, cb, data, op)
	})
	if err != nil {
		free()
	}
	return op, err
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

// Flags of Hints (fdkit's own values).
const (
	AI_PASSIVE     = C.FDK_AI_PASSIVE     // host "" means the wildcard address (for Bind)
	AI_CANONNAME   = C.FDK_AI_CANONNAME   // look up the canonical name
	AI_NUMERICHOST = C.FDK_AI_NUMERICHOST // host must be a numeric address: no lookup
	AI_NUMERICSERV = C.FDK_AI_NUMERICSERV // service must be a port number
	AI_ADDRCONFIG  = C.FDK_AI_ADDRCONFIG  // only families the host has an address of
	AI_V4MAPPED    = C.FDK_AI_V4MAPPED    // with AF_INET6: IPv4 addresses as mapped IPv6 ones
	AI_ALL         = C.FDK_AI_ALL         // with AI_V4MAPPED: IPv6 and mapped IPv4 ones
)

// AddrInfo is one resolved address.
type AddrInfo struct {
	Family, Socktype, Protocol int
	Addr                       syscall.Sockaddr
}

// Hints filter a lookup: Family (syscall.AF_UNSPEC for any), Socktype and Protocol (0 for
// any), and AI_* flags.
type Hints struct {
	Family, Socktype, Protocol int
	Flags                      uint
}

// GetAddrInfo resolves host and service ("" for none; not both) to addresses of family
// (syscall.AF_UNSPEC for any) and socktype (0 for any). No such name is ENOENT.
func GetAddrInfo(host, service string, family, socktype int) ([]AddrInfo, error) {
	addrs, _, err := Resolve(host, service, Hints{Family: family, Socktype: socktype})
	return addrs, err
}

// Resolve is GetAddrInfo with every hint; canonName is the canonical name with
// AI_CANONNAME, else "".
func Resolve(host, service string, h Hints) (addrs []AddrInfo, canonName string, err error) {
	err = withLookupNames(host, service, func(ch, cs *C.char) error {
		var ai *C.fdk_addrinfo
		if _, err := call(func() int64 {
			return int64(C.fdk_getaddrinfo(&ai, ch, cs, C.int(h.Family), C.int(h.Socktype), C.int(h.Protocol), C.uint(h.Flags)))
		}); err != nil {
			return err
		}
		addrs, canonName = takeAddrInfo(ai)
		return nil
	})
	return addrs, canonName, err
}

// ResolveAsync is Resolve on the worker pool; done gets the addresses on the loop.
func (l *Loop) ResolveAsync(host, service string, h Hints, done func(addrs []AddrInfo, canonName string, err error)) (*Op, error) {
	var op *Op
	err := withLookupNames(host, service, func(ch, cs *C.char) error {
		var err error
		op, err = l.startPending(&pending{ptrDone: func(r int64, ptr unsafe.Pointer) {
			if err := resultError(r); err != nil {
				done(nil, "", err)
				return
			}
			addrs, canon := takeAddrInfo((*C.fdk_addrinfo)(ptr))
			done(addrs, canon, nil)
		}}, func(data unsafe.Pointer, opp **C.fdk_op) C.int {
			return C.fdk_getaddrinfo_async(l.raw, ch, cs, C.int(h.Family), C.int(h.Socktype), C.int(h.Protocol), C.uint(h.Flags),
				C.fdk_addrinfo_cb(C.fdkgo_addrinfo_cb), data, opp)
		})
		return err
	})
	return op, err
}

// withLookupNames runs c with host and service as C strings (NULL for "").
func withLookupNames(host, service string, c func(ch, cs *C.char) error) error {
	if err := noNUL("getaddrinfo", host, service); err != nil {
		return err
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
	return c(ch, cs)
}

// takeAddrInfo copies a resolver result out and frees it.
func takeAddrInfo(ai *C.fdk_addrinfo) (out []AddrInfo, canonName string) {
	defer C.fdk_addrinfo_free(ai)
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
	if name := C.fdk_addrinfo_canonname(ai); name != nil {
		canonName = C.GoString(name)
	}
	return out, canonName
}
