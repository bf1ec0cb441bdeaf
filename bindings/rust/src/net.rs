//! Sockets and messages with descriptor passing (net.h). Socket handles are [`Fd`]s:
//! close-on-exec and non-blocking; the synchronous calls wait with poll(2) when needed.
use std::io::{IoSlice, IoSliceMut};
use std::os::raw::c_int;
use std::ptr;

use crate::error::{check, Error, Result};
use crate::fd::Fd;
use crate::platform;
use crate::sys;

/// Which directions [`Fd::shutdown`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

/// One message received by [`Fd::recv_msg`].
#[derive(Debug)]
pub struct Received {
    /// Bytes received into the buffers.
    pub len: usize,
    /// The descriptors that came along (close-on-exec on arrival).
    pub fds: Vec<Fd>,
    /// More descriptors came than `max_fds` allowed: every one that arrived was closed.
    pub fds_truncated: bool,
}

/// A connected pair of sockets (`domain` and `ty` are the platform's values, such as
/// [`platform::AF_UNIX`] and [`platform::SOCK_STREAM`]).
pub fn socketpair(domain: i32, ty: i32) -> Result<(Fd, Fd)> {
    let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
    check(unsafe { sys::fdk_socketpair(&mut a, &mut b, domain, ty, 0) }.into())?;
    Ok(unsafe { (Fd::from_raw(a), Fd::from_raw(b)) })
}

fn count(n: usize) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::new(platform::EINVAL, "too many buffers or descriptors"))
}

impl Fd {
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        let how = match how {
            Shutdown::Read => sys::FDK_SHUT_RD,
            Shutdown::Write => sys::FDK_SHUT_WR,
            Shutdown::Both => sys::FDK_SHUT_RDWR,
        };
        check(unsafe { sys::fdk_shutdown(self.as_raw(), how) }.into()).map(drop)
    }

    /// Sends `bufs` as one message, passing `fds` along (the receiver gets descriptors of
    /// its own). Returns the count of bytes sent; never raises SIGPIPE.
    pub fn send_msg(&self, bufs: &[IoSlice<'_>], fds: &[&Fd]) -> Result<usize> {
        let handles: Vec<*mut sys::fdk_fd> = fds.iter().map(|f| f.as_raw()).collect();
        let n = unsafe {
            sys::fdk_send_msg(
                self.as_raw(),
                bufs.as_ptr().cast(),
                count(bufs.len())?,
                ptr::null(),
                0,
                if handles.is_empty() { ptr::null() } else { handles.as_ptr() },
                count(handles.len())?,
            )
        };
        check(n as i64).map(|n| n as usize)
    }

    /// Receives one message into `bufs`, with up to `max_fds` descriptors.
    pub fn recv_msg(&self, bufs: &mut [IoSliceMut<'_>], max_fds: usize) -> Result<Received> {
        let mut handles: Vec<*mut sys::fdk_fd> = vec![ptr::null_mut(); max_fds];
        let mut nfds = count(max_fds)?;
        let mut flags = 0;
        let n = unsafe {
            sys::fdk_recv_msg(
                self.as_raw(),
                bufs.as_mut_ptr().cast::<sys::iovec>(),
                count(bufs.len())?,
                ptr::null_mut(),
                ptr::null_mut(),
                if max_fds == 0 { ptr::null_mut() } else { handles.as_mut_ptr() },
                if max_fds == 0 { ptr::null_mut() } else { &mut nfds },
                &mut flags,
            )
        };
        let len = check(n as i64)? as usize;
        let got = if max_fds == 0 { 0 } else { nfds as usize };
        let fds = handles[..got].iter().map(|&h| unsafe { Fd::from_raw(h) }).collect();
        Ok(Received { len, fds, fds_truncated: flags & sys::FDK_MSG_CTRUNC != 0 })
    }
}
