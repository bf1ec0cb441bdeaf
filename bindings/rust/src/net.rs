// SPDX-License-Identifier: MIT
//! Sockets: create, bind, listen, connect, accept, messages that carry descriptors, and
//! name resolution (net.h). Domains, types and protocols are the platform's values
//! ([`crate::platform`]); addresses are `std::net::SocketAddr`.
use std::io::{IoSlice, IoSliceMut};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::ptr;

use crate::error::{c_string, check, Error, Result};
use crate::event_loop::{finish, Loop, Op};
use crate::fd::Fd;
use crate::io::{iov_count, owned_iovecs};
use crate::sys::{self, platform};

/// Room for any socket address (struct sockaddr_storage).
#[repr(C, align(8))]
struct Storage([u8; 128]);

impl Storage {
    fn new() -> Storage {
        Storage([0; 128])
    }

    fn as_ptr(&self) -> *const sys::sockaddr {
        self.0.as_ptr().cast()
    }

    fn as_mut_ptr(&mut self) -> *mut sys::sockaddr {
        self.0.as_mut_ptr().cast()
    }
}

/// Lays `addr` out as struct sockaddr_in or sockaddr_in6.
fn encode(addr: &SocketAddr) -> (Storage, sys::socklen_t) {
    let mut st = Storage::new();
    let b = &mut st.0;
    match addr {
        SocketAddr::V4(a) => {
            b[0..2].copy_from_slice(&(platform::AF_INET as u16).to_ne_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.ip().octets());
            (st, 16)
        }
        SocketAddr::V6(a) => {
            b[0..2].copy_from_slice(&(platform::AF_INET6 as u16).to_ne_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.flowinfo().to_ne_bytes());
            b[8..24].copy_from_slice(&a.ip().octets());
            b[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
            (st, 28)
        }
    }
}

/// Reads a struct sockaddr_in or sockaddr_in6; None for other families.
fn decode(b: &[u8]) -> Option<SocketAddr> {
    if b.len() < 4 {
        return None;
    }
    let family = i32::from(u16::from_ne_bytes([b[0], b[1]]));
    let port = u16::from_be_bytes([b[2], b[3]]);
    if family == platform::AF_INET && b.len() >= 8 {
        let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
        Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
    } else if family == platform::AF_INET6 && b.len() >= 28 {
        let word = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&b[8..24]);
        Some(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(octets), port, word(4), word(24))))
    } else {
        None
    }
}

fn shutdown_how(how: Shutdown) -> c_uint {
    match how {
        Shutdown::Read => sys::FDK_SHUT_RD,
        Shutdown::Write => sys::FDK_SHUT_WR,
        Shutdown::Both => sys::FDK_SHUT_RDWR,
    }
}


/// Creates a close-on-exec, non-blocking socket (socket(2) arguments).
pub fn socket(domain: i32, ty: i32, protocol: i32) -> Result<Fd> {
    let mut out = ptr::null_mut();
    check(unsafe { sys::fdk_socket(&mut out, domain, ty, protocol) }.into())?;
    Ok(unsafe { Fd::from_raw(out) })
}

/// A connected pair (socketpair(2)), both close-on-exec and non-blocking.
pub fn socketpair(domain: i32, ty: i32, protocol: i32) -> Result<(Fd, Fd)> {
    let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
    check(unsafe { sys::fdk_socketpair(&mut a, &mut b, domain, ty, protocol) }.into())?;
    Ok(unsafe { (Fd::from_raw(a), Fd::from_raw(b)) })
}

/// One message received by [`Fd::recv_msg`].
pub struct Message {
    /// Bytes received (0 at end of stream).
    pub len: usize,
    /// Descriptors that came with it, each a new handle.
    pub fds: Vec<Fd>,
    /// A datagram was longer than the buffers; the rest is lost.
    pub truncated: bool,
    /// More descriptors came than there was room for; all that arrived were closed.
    pub fds_truncated: bool,
}

/// Synchronous socket calls: they block the calling thread (poll on a non-blocking socket)
/// and may be made from any thread.
impl Fd {
    pub fn bind(&self, addr: &SocketAddr) -> Result<()> {
        let (st, len) = encode(addr);
        check(unsafe { sys::fdk_bind(self.as_raw(), st.as_ptr(), len) }.into()).map(drop)
    }

    pub fn listen(&self, backlog: i32) -> Result<()> {
        check(unsafe { sys::fdk_listen(self.as_raw(), backlog) }.into()).map(drop)
    }

    /// Connects, waiting for the connection on a non-blocking socket.
    pub fn connect(&self, addr: &SocketAddr) -> Result<()> {
        let (st, len) = encode(addr);
        check(unsafe { sys::fdk_connect(self.as_raw(), st.as_ptr(), len) }.into()).map(drop)
    }

    /// Accepts a connection as a new close-on-exec, non-blocking handle.
    pub fn accept(&self) -> Result<Fd> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::fdk_accept(&mut out, self.as_raw(), ptr::null_mut(), ptr::null_mut()) }.into())?;
        Ok(unsafe { Fd::from_raw(out) })
    }

    /// The bound IP address (getsockname); None for other families.
    pub fn local_addr(&self) -> Result<Option<SocketAddr>> {
        let mut st = Storage::new();
        let mut len = mem::size_of::<Storage>() as sys::socklen_t;
        check(unsafe { sys::fdk_getsockname(self.as_raw(), st.as_mut_ptr(), &mut len) }.into())?;
        Ok(decode(&st.0[..(len as usize).min(st.0.len())]))
    }

    /// The connected peer's IP address (getpeername); None for other families, ENOTCONN
    /// when there is no peer.
    pub fn peer_addr(&self) -> Result<Option<SocketAddr>> {
        let mut st = Storage::new();
        let mut len = mem::size_of::<Storage>() as sys::socklen_t;
        check(unsafe { sys::fdk_getpeername(self.as_raw(), st.as_mut_ptr(), &mut len) }.into())?;
        Ok(decode(&st.0[..(len as usize).min(st.0.len())]))
    }

    /// setsockopt for an option whose value is an int; `level` and `name` are the
    /// platform's (`platform::SOL_SOCKET`, `platform::SO_REUSEADDR`, `platform::TCP_NODELAY`...).
    pub fn set_option_int(&self, level: i32, name: i32, value: i32) -> Result<()> {
        check(unsafe { sys::fdk_setsockopt_int(self.as_raw(), level, name, value) }.into()).map(drop)
    }

    /// getsockopt for an option whose value is an int.
    pub fn option_int(&self, level: i32, name: i32) -> Result<i32> {
        let mut value = 0;
        check(unsafe { sys::fdk_getsockopt_int(self.as_raw(), level, name, &mut value) }.into())?;
        Ok(value)
    }

    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        check(unsafe { sys::fdk_shutdown(self.as_raw(), shutdown_how(how)) }.into()).map(drop)
    }

    /// Sends one message with `fds` passed along (SCM_RIGHTS); the caller keeps its
    /// handles. Returns the bytes sent.
    pub fn send_msg(&self, bufs: &[IoSlice<'_>], fds: &[&Fd]) -> Result<usize> {
        let raw_fds: Vec<*mut sys::fdk_fd> = fds.iter().map(|f| f.as_raw()).collect();
        let n = unsafe {
            sys::fdk_send_msg(
                self.as_raw(),
                bufs.as_ptr().cast(),
                iov_count(bufs.len())?,
                ptr::null(),
                0,
                raw_fds.as_ptr(),
                iov_count(raw_fds.len())?,
            )
        };
        check(n as i64).map(|n| n as usize)
    }

    /// Receives one message into `bufs`, with room for `max_fds` descriptors.
    pub fn recv_msg(&self, bufs: &mut [IoSliceMut<'_>], max_fds: usize) -> Result<Message> {
        let mut raw_fds = vec![ptr::null_mut(); max_fds];
        let mut nfds = iov_count(max_fds)?;
        let mut flags: c_uint = 0;
        let n = unsafe {
            sys::fdk_recv_msg(
                self.as_raw(),
                bufs.as_mut_ptr().cast::<sys::iovec>(),
                iov_count(bufs.len())?,
                ptr::null_mut(),
                ptr::null_mut(),
                raw_fds.as_mut_ptr(),
                &mut nfds,
                &mut flags,
            )
        };
        let len = check(n as i64)? as usize;
        let fds = raw_fds[..nfds as usize].iter().map(|&raw| unsafe { Fd::from_raw(raw) }).collect();
        Ok(Message {
            len,
            fds,
            truncated: flags & sys::FDK_MSG_TRUNC != 0,
            fds_truncated: flags & sys::FDK_MSG_CTRUNC != 0,
        })
    }
}

/// Asynchronous socket calls: they complete from [`Loop::run`], never inside the call.
impl Loop {
    /// Connects `fd` to `addr`; `done` gets the outcome.
    pub fn connect_async<F>(&self, fd: &Fd, addr: &SocketAddr, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let (st, len) = encode(addr);
        let st = Box::new(st); // kept until the callback: the header does not promise a copy
        let st_ptr = st.as_ptr();
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop((fd, st));
                done(check(result).map(drop))
            },
            |cb, data, op| unsafe { sys::fdk_connect_async(self.as_raw(), raw_fd, st_ptr, len, cb, data, op) },
        )
    }

    /// Shuts down one or both directions; `done` gets the outcome.
    pub fn shutdown_async<F>(&self, fd: &Fd, how: Shutdown, done: F) -> Result<Op>
    where
        F: FnOnce(Result<()>) + 'static,
    {
        let how = shutdown_how(how);
        self.start_fd_unit(fd, done, |lp, fd, cb, data, op| unsafe { sys::fdk_shutdown_async(lp, fd, how, cb, data, op) })
    }

    /// Sends one message from `bufs`, to `dest` on an unconnected datagram socket, with
    /// `fds` passed along (fdkit references them until the callback; the caller keeps its
    /// handles). `done` gets the bytes sent and the buffers back.
    pub fn send_msg_async<F>(
        &self,
        fd: &Fd,
        mut bufs: Vec<Vec<u8>>,
        dest: Option<&SocketAddr>,
        fds: &[&Fd],
        done: F,
    ) -> Result<Op>
    where
        F: FnOnce(Result<usize>, Vec<Vec<u8>>) + 'static,
    {
        let iov = owned_iovecs(&mut bufs);
        let (count, nfds) = (iov_count(iov.len())?, iov_count(fds.len())?);
        let raw_fds: Vec<*mut sys::fdk_fd> = fds.iter().map(|f| f.as_raw()).collect();
        let dest = dest.map(encode); // copied by the call
        let (dest_ptr, dest_len) = dest.as_ref().map_or((ptr::null(), 0), |(st, len)| (st.as_ptr(), *len));
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                done(check(result).map(|n| n as usize), bufs)
            },
            |cb, data, op| unsafe {
                sys::fdk_send_msg_async(
                    self.as_raw(),
                    raw_fd,
                    iov.as_ptr(),
                    count,
                    dest_ptr,
                    dest_len,
                    raw_fds.as_ptr(),
                    nfds,
                    cb,
                    data,
                    op,
                )
            },
        )
    }

    /// Receives one message into `bufs`, with room for `max_fds` descriptors; `done` gets
    /// the message and the buffers back. Descriptors received by a cancelled operation are
    /// closed, never leaked.
    pub fn recv_msg_async<F>(&self, fd: &Fd, mut bufs: Vec<Vec<u8>>, max_fds: usize, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Message>, Vec<Vec<u8>>) + 'static,
    {
        /// What the C call writes into before its callback; boxed so it never moves.
        struct Outputs {
            fds: Vec<*mut sys::fdk_fd>,
            nfds: c_int,
            flags: c_uint,
        }
        let iov = owned_iovecs(&mut bufs);
        let count = iov_count(iov.len())?;
        let mut out = Box::new(Outputs { fds: vec![ptr::null_mut(); max_fds], nfds: iov_count(max_fds)?, flags: 0 });
        let (fds_ptr, nfds_ptr, flags_ptr) = (out.fds.as_mut_ptr(), &mut out.nfds as *mut c_int, &mut out.flags as *mut c_uint);
        let fd = fd.clone();
        let raw_fd = fd.as_raw();
        self.start(
            move |result| {
                drop(fd);
                let message = check(result).map(|len| Message {
                    len: len as usize,
                    // SAFETY: on success the first nfds entries are handles we now own.
                    fds: out.fds[..out.nfds as usize].iter().map(|&raw| unsafe { Fd::from_raw(raw) }).collect(),
                    truncated: out.flags & sys::FDK_MSG_TRUNC != 0,
                    fds_truncated: out.flags & sys::FDK_MSG_CTRUNC != 0,
                });
                done(message, bufs)
            },
            |cb, data, op| unsafe {
                sys::fdk_recv_msg_async(
                    self.as_raw(),
                    raw_fd,
                    iov.as_ptr(),
                    count,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    fds_ptr,
                    nfds_ptr,
                    flags_ptr,
                    cb,
                    data,
                    op,
                )
            },
        )
    }

    /// [`resolve`] on the worker pool (lookups never hold more than half its threads);
    /// `done` gets the addresses.
    pub fn resolve_async<F>(&self, host: Option<&str>, service: Option<&str>, hints: &Hints, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Resolved>) + 'static,
    {
        let names = Names::new(host, service)?; // copied by the call
        self.start_with(done, |data, op| unsafe {
            sys::fdk_getaddrinfo_async(
                self.as_raw(),
                names.host(),
                names.service(),
                hints.family,
                hints.socktype,
                hints.protocol,
                hints.flags.0,
                Some(resolved::<F>),
                data,
                op,
            )
        })
    }

    /// Accepts one connection on `listener`; `done` gets the new handle.
    pub fn accept_async<F>(&self, listener: &Fd, done: F) -> Result<Op>
    where
        F: FnOnce(Result<Fd>) + 'static,
    {
        // The listener's reference rides along in the closure until the callback.
        let listener = listener.clone();
        let raw = listener.as_raw();
        self.start_fd(
            move |conn| {
                drop(listener);
                done(conn)
            },
            |cb, data, op| unsafe {
                sys::fdk_accept_async(self.as_raw(), raw, ptr::null_mut(), ptr::null_mut(), cb, data, op)
            },
        )
    }
}

/// One resolved address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    pub socktype: i32,
    pub protocol: i32,
    pub addr: SocketAddr,
}

/// Flags of [`Hints`] (fdkit's own values); combine with `|`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AiFlags(u32);

impl AiFlags {
    /// Host None means the wildcard address (for bind).
    pub const PASSIVE: AiFlags = AiFlags(sys::FDK_AI_PASSIVE);
    /// Look up the canonical name ([`Resolved::canonical_name`]).
    pub const CANONNAME: AiFlags = AiFlags(sys::FDK_AI_CANONNAME);
    /// The host must be a numeric address: no lookup.
    pub const NUMERICHOST: AiFlags = AiFlags(sys::FDK_AI_NUMERICHOST);
    /// The service must be a port number.
    pub const NUMERICSERV: AiFlags = AiFlags(sys::FDK_AI_NUMERICSERV);
    /// Only families the host has an address of.
    pub const ADDRCONFIG: AiFlags = AiFlags(sys::FDK_AI_ADDRCONFIG);
    /// With AF_INET6: IPv4 addresses as IPv4-mapped IPv6 ones.
    pub const V4MAPPED: AiFlags = AiFlags(sys::FDK_AI_V4MAPPED);
    /// With V4MAPPED: IPv6 and mapped IPv4 ones.
    pub const ALL: AiFlags = AiFlags(sys::FDK_AI_ALL);
}

impl_bitor!(AiFlags);

/// What [`resolve`] looks for; the default is any family (AF_UNSPEC is 0), type and
/// protocol, no flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    pub family: i32,
    pub socktype: i32,
    pub protocol: i32,
    pub flags: AiFlags,
}

/// The answer of [`resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The IP addresses, in the resolver's order (other families left out).
    pub addrs: Vec<AddrInfo>,
    /// With [`AiFlags::CANONNAME`]: the canonical name.
    pub canonical_name: Option<String>,
}

/// A host and a service to resolve, as C strings or null.
struct Names {
    host: Option<CString>,
    service: Option<CString>,
}

impl Names {
    fn new(host: Option<&str>, service: Option<&str>) -> Result<Names> {
        Ok(Names { host: host.map(c_string).transpose()?, service: service.map(c_string).transpose()? })
    }

    fn host(&self) -> *const c_char {
        self.host.as_ref().map_or(ptr::null(), |h| h.as_ptr())
    }

    fn service(&self) -> *const c_char {
        self.service.as_ref().map_or(ptr::null(), |s| s.as_ptr())
    }
}

/// Copies a resolver answer out and frees it.
unsafe fn take_addrinfo(ai: *mut sys::fdk_addrinfo) -> Resolved {
    let mut addrs = Vec::new();
    for i in 0..sys::fdk_addrinfo_count(ai) {
        let (mut socktype, mut protocol, mut addr, mut len) = (0, 0, ptr::null(), 0);
        let r = sys::fdk_addrinfo_entry(ai, i, ptr::null_mut(), &mut socktype, &mut protocol, &mut addr, &mut len);
        if r < 0 || addr.is_null() {
            continue;
        }
        // SAFETY: addr points to len bytes inside ai, which lives until freed below.
        let bytes = std::slice::from_raw_parts(addr.cast::<u8>(), len as usize);
        if let Some(addr) = decode(bytes) {
            addrs.push(AddrInfo { socktype, protocol, addr });
        }
    }
    let name = sys::fdk_addrinfo_canonname(ai);
    let canonical_name = (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned());
    sys::fdk_addrinfo_free(ai);
    Resolved { addrs, canonical_name }
}

unsafe extern "C" fn resolved<F: FnOnce(Result<Resolved>)>(result: c_int, ai: *mut sys::fdk_addrinfo, data: *mut c_void) {
    let answer = if result < 0 { Err(Error::last(result.into())) } else { Ok(take_addrinfo(ai)) };
    finish::<_, F>(data, answer)
}

/// Resolves `host` and `service` (either may be None, not both) as `hints` say. No such
/// name is ENOENT, a temporary failure EAGAIN (fdkit maps the resolver's errors to errno
/// values, its text in the detail).
pub fn resolve(host: Option<&str>, service: Option<&str>, hints: &Hints) -> Result<Resolved> {
    let names = Names::new(host, service)?;
    let mut ai = ptr::null_mut();
    check(
        unsafe {
            sys::fdk_getaddrinfo(
                &mut ai,
                names.host(),
                names.service(),
                hints.family,
                hints.socktype,
                hints.protocol,
                hints.flags.0,
            )
        }
        .into(),
    )?;
    Ok(unsafe { take_addrinfo(ai) })
}

/// Resolves `host` and `service` (either may be None, not both) to IP socket addresses of
/// `family` (AF_UNSPEC for any) and `socktype` (0 for any). No such name is ENOENT.
pub fn getaddrinfo(host: Option<&str>, service: Option<&str>, family: i32, socktype: i32) -> Result<Vec<AddrInfo>> {
    let hints = Hints { family, socktype, ..Hints::default() };
    resolve(host, service, &hints).map(|r| r.addrs)
}
