// SPDX-License-Identifier: MIT
//! Sockets: create, bind, listen, connect, accept, messages that carry descriptors, and
//! name resolution (net.h). Domains, types and protocols are the platform's values
//! ([`crate::platform`]); addresses are `std::net::SocketAddr`.
use std::io::{IoSlice, IoSliceMut};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::raw::{c_int, c_uint};
use std::ptr;

use crate::error::{c_string, check, Error, Result};
use crate::event_loop::{Loop, Op};
use crate::fd::Fd;
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

fn iov_count(n: usize) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::invalid("too many buffers"))
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

    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        let how = match how {
            Shutdown::Read => sys::FDK_SHUT_RD,
            Shutdown::Write => sys::FDK_SHUT_WR,
            Shutdown::Both => sys::FDK_SHUT_RDWR,
        };
        check(unsafe { sys::fdk_shutdown(self.as_raw(), how) }.into()).map(drop)
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

/// Resolves `host` and `service` (either may be None, not both) to IP socket addresses of
/// `family` (AF_UNSPEC for any) and `socktype` (0 for any). No such name is ENOENT.
pub fn getaddrinfo(host: Option<&str>, service: Option<&str>, family: i32, socktype: i32) -> Result<Vec<AddrInfo>> {
    let host = host.map(c_string).transpose()?;
    let service = service.map(c_string).transpose()?;
    let mut ai = ptr::null_mut();
    check(
        unsafe {
            sys::fdk_getaddrinfo(
                &mut ai,
                host.as_ref().map_or(ptr::null(), |h| h.as_ptr()),
                service.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                family,
                socktype,
                0,
                0,
            )
        }
        .into(),
    )?;
    let mut out = Vec::new();
    for i in 0..unsafe { sys::fdk_addrinfo_count(ai) } {
        let (mut socktype, mut protocol, mut addr, mut len) = (0, 0, ptr::null(), 0);
        let r = unsafe {
            sys::fdk_addrinfo_entry(ai, i, ptr::null_mut(), &mut socktype, &mut protocol, &mut addr, &mut len)
        };
        if r < 0 || addr.is_null() {
            continue;
        }
        // SAFETY: addr points to len bytes inside ai, which lives until freed below.
        let bytes = unsafe { std::slice::from_raw_parts(addr.cast::<u8>(), len as usize) };
        if let Some(addr) = decode(bytes) {
            out.push(AddrInfo { socktype, protocol, addr });
        }
    }
    unsafe { sys::fdk_addrinfo_free(ai) };
    Ok(out)
}
