/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — confined directories, path resolution, open, directory and link calls, stat.
 *
 * Every path is resolved relative to an fdk_dir:
 * - fdk_dir_fs(): the unconfined file system. Absolute paths are allowed, symlinks and
 *   ".." are followed as plain openat(2) follows them.
 * - fdk_dir_cwd(): confined to the current directory (".").
 * - a handle from fdk_dir_open or fdk_dir_from_fd: confined to that directory.
 *
 * Beneath a confined directory nothing ever resolves outside it: ".." past the base, an
 * absolute path, a symlink whose target is absolute or climbs out — all fail with -EXDEV
 * (FDK_EESCAPE) and a detail in fdk_last_error() naming the path; fdk_last_error_is_escape()
 * tells such a refusal from a genuine cross-device -EXDEV. Magic links under /proc
 * (fd/N, exe, cwd, root, ns/...) are never followed: -ELOOP. An empty path means ".".
 * A trailing slash requires a directory (-ENOTDIR otherwise) and, as in the kernel, makes
 * a symlink in the last position be followed.
 *
 * Calls that act on the last component (mkdir, unlink, rmdir, rename, symlink, link,
 * readlink, and stat/chmod/chown/utimens without follow) resolve the parent only and
 * never follow the last component. With follow, the following is itself confined.
 *
 * Ownership: an fdk_dir handle is reference counted (fdk_dir_ref / fdk_dir_unref); the
 * two singletons accept both calls and are never freed. An fdk_stat belongs to its
 * creator (fdk_stat_free). Entry lists and iterators belong to their creator. Strings
 * fdkit returns (readlink, realpath) are freed with fdk_free.
 *
 * Threads: every synchronous call may be made from any thread; an fdk_dir may be shared
 * between threads. An fdk_stat, an entry list or an iterator must not be used by two
 * threads at once. Asynchronous forms never block the loop (see below) and call back on the
 * loop's thread; the arguments are copied (an fdk_stat passed to fdk_statat_async must
 * stay valid until the callback), and a dir handle is referenced until the callback.
 *
 * Errors every path call here may return, not repeated below: the common ones (common.h:
 * -EINVAL for a NULL dir, path, stat, out-pointer, loop or callback, -ENOMEM); -EXDEV for
 * an escape and -ELOOP for a magic link or too many symlinks (above); -ENOTDIR for a
 * component or a trailing-slash name that is not a directory; -ENAMETOOLONG for a path of
 * PATH_MAX bytes or more; -EBADF when a dir made by fdk_dir_from_fd has its handle closed;
 * -EAGAIN from forced openat2 (fdk_resolve_set_backend); and the system call's own errors
 * (-ENOENT, -EACCES, -EEXIST, -EROFS...). Calls taking a mode answer -EINVAL for bits
 * beyond 07777; calls taking FDK_FOLLOW answer -EINVAL for any other flag bit.
 */
#ifndef FDKIT_FS_H
#define FDKIT_FS_H

#include "fdkit/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when the last failure recorded on the calling thread was a path refused for leaving
 * its confined directory (its code is -EXDEV), else 0 — a genuine cross-device -EXDEV of
 * a rename or link included. Read it as fdk_last_error() is read: right after the failing
 * call, or in the callback of a failed asynchronous call, before any other fdkit call on
 * the thread. Never fails. */
FDK_API int fdk_last_error_is_escape(void);

/**@{*/
/** The unconfined file system and the current directory. Static; never freed; never
 * fail. */
FDK_API fdk_dir *fdk_dir_fs(void);
FDK_API fdk_dir *fdk_dir_cwd(void);
/**@}*/

/** Opens path beneath base as a new confined directory (one reference, the caller's:
 * fdk_dir_unref). The handle holds an O_PATH descriptor: no read permission on the
 * directory is needed. -ENOTDIR when path names no directory; the header's path errors. */
FDK_API int fdk_dir_open(fdk_dir **out, fdk_dir *base, const char *path);
/** A confined directory on an open directory descriptor. Takes a reference on fd (the
 * caller keeps its own): the dir and the caller share that one handle, so fdk_fd_close(fd)
 * closes the dir's descriptor too (its later calls fail with -EBADF). The new dir's one
 * reference is the caller's. -EBADF for a closed fd, -ENOTDIR when fd is not a
 * directory. */
FDK_API int fdk_dir_from_fd(fdk_dir **out, fdk_fd *fd);
/**@{*/
/** Flags of fdk_dir_open2. The scoping ones (NO_XDEV, NO_SYMLINKS, IN_ROOT) apply to the
 * resolution of path itself and then to every path resolved beneath the new dir; a dir
 * opened beneath a scoped dir keeps its base's scoping as well as its own. Both resolve
 * strategies give the kernel's answers (openat2's RESOLVE_* flags of the same names). */
#define FDK_DIR_NOFOLLOW 0x1u    /**< a symlink as the last component of path is not
                                    followed: -ENOTDIR, as open(O_DIRECTORY|O_NOFOLLOW) */
#define FDK_DIR_NO_XDEV 0x2u     /**< crossing a mount point (down into a mount, or a symlink
                                    that leads across one) fails with -EXDEV */
#define FDK_DIR_NO_SYMLINKS 0x4u /**< following any symlink fails with -ELOOP (a last
                                    component that is not followed may be one) */
#define FDK_DIR_IN_ROOT 0x8u     /**< the dir is a root: ".." at it stays there and absolute
                                    paths and symlink targets start from it, where a plain
                                    confined dir answers -EXDEV */
/**@}*/
/** fdk_dir_open with FDK_DIR_* flags. -EINVAL for unknown bits; the header's path errors,
 * and -EXDEV / -ELOOP from the scoping flags. */
FDK_API int fdk_dir_open2(fdk_dir **out, fdk_dir *base, const char *path, unsigned flags);
/** Adds a reference; returns dir (NULL for NULL). Never fails. */
FDK_API fdk_dir *fdk_dir_ref(fdk_dir *dir);
/** Drops a reference; the last one closes the directory. Accepts NULL and the
 * singletons; returns NULL. */
FDK_API fdk_dir *fdk_dir_unref(fdk_dir *dir);
/** The descriptor handle of a dir handle (not referenced: valid while dir is), or NULL
 * for fdk_dir_fs(), fdk_dir_cwd() and NULL. Never fails. Use it to fchdir, or with
 * fdk_fd_use. */
FDK_API fdk_fd *fdk_dir_handle(fdk_dir *dir);

/**@{*/
/** Open flags (fdkit's own values; mapped to O_*). Close-on-exec is always set. */
#define FDK_O_RDONLY 0x0000u
#define FDK_O_WRONLY 0x0001u
#define FDK_O_RDWR 0x0002u
#define FDK_O_APPEND 0x0004u
#define FDK_O_CREAT 0x0008u
#define FDK_O_EXCL 0x0010u
#define FDK_O_TRUNC 0x0020u
#define FDK_O_DIRECTORY 0x0040u
#define FDK_O_NOFOLLOW 0x0080u /**< fail with -ELOOP when the last component is a symlink */
#define FDK_O_NONBLOCK 0x0100u /**< the handle is non-blocking; without it, blocking */
#define FDK_O_SYNC 0x0200u
#define FDK_O_DSYNC 0x0400u
#define FDK_O_NOCTTY 0x0800u
#define FDK_O_PATH 0x1000u /**< a handle that only names the file; combines with
                              DIRECTORY and NOFOLLOW only */
#define FDK_O_TMPFILE 0x2000u /**< an unnamed regular file in the directory path names
                                 (O_TMPFILE); needs WRONLY or RDWR; with EXCL it can never
                                 be named, else fdk_linkat_fd names it */
/* FDK_O_CREAT with FDK_O_DIRECTORY is refused (-EINVAL), as the kernel refuses it;
 * FDK_O_TMPFILE with FDK_O_CREAT or FDK_O_PATH, or without a write mode, likewise. */

/**@}*/
/** 1 if every bit of flags is a known FDK_O_* flag this platform supports and the set is
 * one fdk_openat accepts, else 0. Never fails. */
FDK_API int fdk_open_flags_supported(unsigned flags);

/** Opens path beneath dir with exactly flags plus close-on-exec; mode applies with
 * FDK_O_CREAT. O_CREAT through a dangling symlink creates the target only when the
 * target is itself beneath dir; O_CREAT|O_EXCL never follows (-EEXIST on a symlink). The
 * new handle's reference is the caller's. -EINVAL for flags fdk_open_flags_supported
 * refuses (unknown bits, WRONLY with RDWR, PATH with other flags, CREAT with DIRECTORY);
 * -ELOOP for FDK_O_NOFOLLOW on a symlink; the header's path errors. */
FDK_API int fdk_openat(fdk_fd **out, fdk_dir *dir, const char *path, unsigned flags, unsigned mode);

/** Resolution strategies beneath confined directories. */
#define FDK_RESOLVE_AUTO 0     /**< probe once: openat2 when the kernel allows it */
#define FDK_RESOLVE_OPENAT2 1  /**< openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) */
#define FDK_RESOLVE_FALLBACK 2 /**< userspace walk, one component at a time */

/** The active strategy (FDK_RESOLVE_OPENAT2 or FDK_RESOLVE_FALLBACK). The first call
 * probes, honouring FDKIT_RESOLVE=openat2|fallback in the environment. Never fails. */
FDK_API int fdk_resolve_backend(void);
/** Forces a strategy for the whole process (FDK_RESOLVE_AUTO probes again). -EINVAL for an
 * unknown value, -ENOSYS when
 * openat2 is asked for and the kernel refuses it. A forced strategy is never swapped for
 * the other: forced openat2 answers -EAGAIN when a storm of concurrent renames made it
 * lose every retry, where the automatic choice finishes that one call with the walk. Safe from any thread; calls already
 * resolving finish with the strategy they started with. */
FDK_API int fdk_resolve_set_backend(int backend);

/** Last-component calls (errors: the header's). mode is the permission bits (umask
 * applies to mkdir). */
FDK_API int fdk_mkdirat(fdk_dir *dir, const char *path, unsigned mode);
/** Removes a non-directory (a symlink itself, never its target). */
FDK_API int fdk_unlinkat(fdk_dir *dir, const char *path);
/** Removes an empty directory: -ENOTEMPTY when it is not, -ENOTDIR when path is not a
 * directory (a symlink to one included). */
FDK_API int fdk_rmdirat(fdk_dir *dir, const char *path);
/** Renames old_path beneath old_dir to new_path beneath new_dir, replacing what is there as
 * rename(2) does; neither last component is followed. -EXDEV also when the two are on
 * different file systems. */
FDK_API int fdk_renameat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path);
/** Flags of fdk_renameat2. */
#define FDK_RENAME_NOREPLACE 0x1u /**< -EEXIST if new_path exists */
#define FDK_RENAME_EXCHANGE 0x2u  /**< swap the two; both must exist */
#define FDK_RENAME_WHITEOUT 0x4u  /**< leave a whiteout (a 0:0 character device) at old_path,
                                     for overlay file systems; needs CAP_MKNOD */
/** fdk_renameat with FDK_RENAME_* flags; -EINVAL for unknown bits or EXCHANGE with
 * NOREPLACE or WHITEOUT, and -EINVAL or -ENOSYS where the file system or kernel lacks
 * them (-EPERM for WHITEOUT without CAP_MKNOD). */
FDK_API int fdk_renameat2(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                          unsigned flags);
/** Creates a symlink at path whose text is target (stored as given, never resolved).
 * -EINVAL for a NULL target. */
FDK_API int fdk_symlinkat(const char *target, fdk_dir *dir, const char *path);
/** Hard link; the source is never followed (a symlink source links the symlink). */
FDK_API int fdk_linkat(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path);
/** fdk_linkat with flags: FDK_FOLLOW links what a symlink source points to (followed
 * confined beneath old_dir, as linkat's AT_SYMLINK_FOLLOW); -EINVAL for other bits. */
FDK_API int fdk_linkat2(fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir, const char *new_path,
                        unsigned flags);
/** Gives a name at path (beneath dir, last component not followed) to the file fd refers
 * to, as linkat(fd, "", ..., AT_EMPTY_PATH): publishes a file opened with FDK_O_TMPFILE.
 * -ENOENT for a file with no link left or opened with FDK_O_TMPFILE | FDK_O_EXCL, -EPERM
 * for a directory, -EEXIST when path exists, -EBADF for a closed fd. Where the kernel
 * refuses AT_EMPTY_PATH to the caller, the file's /proc/self/fd link is used. */
FDK_API int fdk_linkat_fd(fdk_fd *fd, fdk_dir *dir, const char *path);
/** Creates a special file at path (last component not followed): kind is FDK_KIND_FIFO,
 * FDK_KIND_CHAR, FDK_KIND_BLOCK, FDK_KIND_SOCKET or FDK_KIND_REGULAR, mode the permission
 * bits (umask applies), dev the device number of CHAR and BLOCK (0 else). -EINVAL for
 * another kind; -EPERM for a device without CAP_MKNOD. */
FDK_API int fdk_mknodat(fdk_dir *dir, const char *path, int kind, unsigned mode, uint64_t dev);
/** fdk_mknodat of a FIFO. */
FDK_API int fdk_mkfifoat(fdk_dir *dir, const char *path, unsigned mode);
/** Sets the size of the file path names to length (a symlink is followed, confined, as
 * truncate(2) follows it). -EINVAL for a negative length or a file that is not regular,
 * -EISDIR for a directory, -EACCES without write permission. */
FDK_API int fdk_truncateat(fdk_dir *dir, const char *path, int64_t length);
/** The text of the symlink at path, NUL-terminated, in *out (fdk_free). Returns its
 * length. -EINVAL when path is not a symlink. */
FDK_API ssize_t fdk_readlinkat(char **out, fdk_dir *dir, const char *path);

/** Flag of the calls below: follow a symlink in the last position (confined). */
#define FDK_FOLLOW 0x1u
/** Sets the permission bits (07777). A symlink itself has none: -EOPNOTSUPP (also for a
 * special file on a kernel without fchmodat2 and without /proc). */
FDK_API int fdk_chmodat(fdk_dir *dir, const char *path, unsigned mode, unsigned flags);
/** uid or gid -1 leaves that one unchanged; -EINVAL below -1 or above UINT32_MAX - 1. */
FDK_API int fdk_chownat(fdk_dir *dir, const char *path, int64_t uid, int64_t gid, unsigned flags);
/**@{*/
/** Permissions fdk_faccessat checks (fdkit's values), and its flag that checks with the
 * effective ids (AT_EACCESS) instead of the real ones. */
#define FDK_ACCESS_EXISTS 0x0u
#define FDK_ACCESS_READ 0x4u
#define FDK_ACCESS_WRITE 0x2u
#define FDK_ACCESS_EXEC 0x1u
#define FDK_ACCESS_EFFECTIVE 0x2u
/**@}*/
/** 0 when the caller may access path with every permission in mode (FDK_ACCESS_*), as
 * faccessat(2) answers; flags: FDK_FOLLOW, FDK_ACCESS_EFFECTIVE. -EACCES when one is
 * missing, -EROFS for WRITE on a read-only mount, -EINVAL for unknown bits. */
FDK_API int fdk_faccessat(fdk_dir *dir, const char *path, unsigned mode, unsigned flags);
/** Special nanosecond values of fdk_utimensat. */
#define FDK_UTIME_NOW (-1)  /**< the current time */
#define FDK_UTIME_OMIT (-2) /**< leave unchanged */
/** Sets the access and modification times (a nanosecond value FDK_UTIME_NOW or
 * FDK_UTIME_OMIT ignores its seconds); flags: FDK_FOLLOW. -EINVAL for another nanosecond
 * value outside 0..999999999. */
FDK_API int fdk_utimensat(fdk_dir *dir, const char *path, int64_t atime_sec, int64_t atime_nsec,
                          int64_t mtime_sec, int64_t mtime_nsec, unsigned flags);

/**@{*/
/** File kinds (fdkit's own values). */
#define FDK_KIND_UNKNOWN 0
#define FDK_KIND_FIFO 1
#define FDK_KIND_CHAR 2
#define FDK_KIND_DIR 3
#define FDK_KIND_BLOCK 4
#define FDK_KIND_REGULAR 5
#define FDK_KIND_SYMLINK 6
#define FDK_KIND_SOCKET 7
/**@}*/

/** A reusable stat result, the caller's (fdk_stat_free): allocate once, refill with
 * fdk_fstat / fdk_statat. Only the common errors. */
FDK_API int fdk_stat_new(fdk_stat **out);
/** Frees a stat result; accepts NULL, returns NULL. */
FDK_API fdk_stat *fdk_stat_free(fdk_stat *st);
/** Fills st from an open handle: -EBADF once the handle is closing. */
FDK_API int fdk_fstat(fdk_stat *st, fdk_fd *fd);
/** follow: 1 to follow a symlink in the last position (confined), 0 to describe it.
 * The header's path errors. */
FDK_API int fdk_statat(fdk_stat *st, fdk_dir *dir, const char *path, int follow);

/**@{*/
/** Accessors of a filled fdk_stat (a NULL st reads as zeroes; kind and the times
 * return -EINVAL for it). They cannot fail otherwise. */
FDK_API int fdk_stat_kind(const fdk_stat *st);
FDK_API int64_t fdk_stat_size(const fdk_stat *st);
FDK_API int64_t fdk_stat_blocks(const fdk_stat *st); /**< 512-byte units */
FDK_API int64_t fdk_stat_blksize(const fdk_stat *st);
FDK_API uint64_t fdk_stat_ino(const fdk_stat *st);
FDK_API uint64_t fdk_stat_dev(const fdk_stat *st);
FDK_API uint64_t fdk_stat_rdev(const fdk_stat *st);
FDK_API uint64_t fdk_stat_nlink(const fdk_stat *st);
FDK_API uint32_t fdk_stat_uid(const fdk_stat *st);
FDK_API uint32_t fdk_stat_gid(const fdk_stat *st);
/**@}*/
/** Permission bits (07777); 0 for a NULL st. */
FDK_API unsigned fdk_stat_perm(const fdk_stat *st);
/** The platform's st_mode, kind and permission bits together; 0 for a NULL st. */
FDK_API unsigned fdk_stat_mode(const fdk_stat *st);
/**@{*/
/** Times as seconds and nanoseconds. fdk_stat_btime returns -ENODATA where the file
 * system keeps no birth time; the others always return 0 but for a NULL st (-EINVAL).
 * sec and nsec may be NULL. */
FDK_API int fdk_stat_atime(const fdk_stat *st, int64_t *sec, int64_t *nsec);
FDK_API int fdk_stat_mtime(const fdk_stat *st, int64_t *sec, int64_t *nsec);
FDK_API int fdk_stat_ctime(const fdk_stat *st, int64_t *sec, int64_t *nsec);
FDK_API int fdk_stat_btime(const fdk_stat *st, int64_t *sec, int64_t *nsec);
/**@}*/

/** The entries of a directory ("." and ".." left out), in the order the file system
 * returns them. Returns the count. *out is the caller's: free with fdk_dirents_free.
 * -EOVERFLOW beyond INT_MAX entries; the header's path errors. */
FDK_API int fdk_readdir(fdk_dirents **out, fdk_dir *dir, const char *path);
/** The number of entries (0 for NULL). */
FDK_API size_t fdk_dirents_count(const fdk_dirents *entries);
/** The i-th name (valid while entries is), or NULL when i is out of range or entries is
 * NULL. */
FDK_API const char *fdk_dirents_name(const fdk_dirents *entries, size_t i);
/** The i-th kind (FDK_KIND_*), or -EINVAL when i is out of range. */
FDK_API int fdk_dirents_kind(const fdk_dirents *entries, size_t i);
/** Frees the entries and their names; accepts NULL, returns NULL. */
FDK_API fdk_dirents *fdk_dirents_free(fdk_dirents *entries);

/** Streaming form for directories too large to hold: one entry per call. *out is the
 * caller's (fdk_dir_iter_free). The header's path errors. */
FDK_API int fdk_dir_iter_open(fdk_dir_iter **out, fdk_dir *dir, const char *path);
/** 1 with the next entry (*name valid until the next call on it), 0 at the end, or a
 * negative errno: -EINVAL for a NULL it, name or kind, else getdents's own (-EIO...). */
FDK_API int fdk_dir_iter_next(fdk_dir_iter *it, const char **name, int *kind);
/** Closes the iterator's directory; accepts NULL, returns NULL. */
FDK_API fdk_dir_iter *fdk_dir_iter_free(fdk_dir_iter *it);

/** The symlink-free path of what path names, in *out (fdk_free); returns its length.
 * Beneath a confined dir it is relative to dir ("." for dir itself, never ".." nor a
 * symlink) and resolved as every confined call is (escapes are -EXDEV); the whole
 * resolution is the userspace walk, whatever the strategy, since it must know the names.
 * For fdk_dir_fs() it is the absolute path. The header's path errors. */
FDK_API ssize_t fdk_realpath(char **out, fdk_dir *dir, const char *path);

/**@{*/
/** Flags of the extended attribute calls besides FDK_FOLLOW (follow a symlink in the last
 * position, confined): fdk_setxattrat fails with -EEXIST under CREATE when the attribute
 * exists, with -ENODATA under REPLACE when it does not. */
#define FDK_XATTR_CREATE 0x2u
#define FDK_XATTR_REPLACE 0x4u
/**@}*/
/** Extended attributes of what path names, resolved as every confined call (an escape is
 * -EXDEV). They use the kernel's getxattrat family (Linux 6.13) on a confined O_PATH
 * descriptor and, on older kernels, that descriptor's /proc/self/fd link; with neither
 * (no /proc), a regular file or directory is opened again, confined, for reading, and
 * anything else answers -EOPNOTSUPP. Errors besides the header's: -ENODATA for a missing
 * attribute, -EOPNOTSUPP where the file system keeps none, -EPERM for user attributes on
 * a symlink or a special file, -ERANGE for a name or value beyond the kernel's limits,
 * -EINVAL for unknown flag bits or a NULL name.
 *
 * fdk_getxattrat: the value in *out (fdk_free; a NUL is added after it), returns its
 * length. */
FDK_API ssize_t fdk_getxattrat(char **out, fdk_dir *dir, const char *path, const char *name, unsigned flags);
/** Sets name to the size bytes at value (value may be NULL when size is 0); flags:
 * FDK_FOLLOW, FDK_XATTR_CREATE or FDK_XATTR_REPLACE (not both). */
FDK_API int fdk_setxattrat(fdk_dir *dir, const char *path, const char *name, const void *value, size_t size,
                           unsigned flags);
/** The names, each NUL-terminated, one after the other, in *out (fdk_free); returns the
 * total length (0 and an empty buffer for none). flags: FDK_FOLLOW. */
FDK_API ssize_t fdk_listxattrat(char **out, fdk_dir *dir, const char *path, unsigned flags);
/** Removes name. flags: FDK_FOLLOW. */
FDK_API int fdk_removexattrat(fdk_dir *dir, const char *path, const char *name, unsigned flags);

/**@{*/
/** Callbacks of the asynchronous forms. On failure the handle or buffer is NULL; on
 * success the callback owns it. */
typedef void (*fdk_open_cb)(int result, fdk_fd *fd, void *data);
typedef void (*fdk_dir_cb)(int result, fdk_dir *dir, void *data);
typedef void (*fdk_text_cb)(ssize_t result, char *text, void *data);
typedef void (*fdk_dirents_cb)(int result, fdk_dirents *entries, void *data);
/**@}*/

/**@{*/
/** Asynchronous forms: the same call without blocking the loop: inline where the kernel
 * promises not to wait (a cached open), else on the loop's io_uring, else on fdkit's worker
 * pool (FDKIT_FS_ENGINE=auto|inline|uring|pool forces one). A cancelled call that had
 * already produced a handle or buffer releases it. The call checks its arguments as the
 * synchronous form does (-EINVAL cases, and a NULL loop or cb) and then fails without
 * running the callback; everything else, and -ECANCELED, comes through the callback. */
FDK_API int fdk_dir_open_async(fdk_loop *loop, fdk_dir *base, const char *path, fdk_dir_cb cb, void *data,
                               fdk_op **op);
FDK_API int fdk_openat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned flags, unsigned mode,
                             fdk_open_cb cb, void *data, fdk_op **op);
FDK_API int fdk_mkdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, fdk_result_cb cb,
                              void *data, fdk_op **op);
FDK_API int fdk_unlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                               fdk_op **op);
FDK_API int fdk_rmdirat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_result_cb cb, void *data,
                              fdk_op **op);
FDK_API int fdk_renameat_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                               const char *new_path, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_renameat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                                const char *new_path, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_symlinkat_async(fdk_loop *loop, const char *target, fdk_dir *dir, const char *path,
                                fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_linkat_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                             const char *new_path, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_readlinkat_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data,
                                 fdk_op **op);
FDK_API int fdk_chmodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, unsigned flags,
                              fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_chownat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t uid, int64_t gid,
                              unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_utimensat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t atime_sec,
                                int64_t atime_nsec, int64_t mtime_sec, int64_t mtime_nsec, unsigned flags,
                                fdk_result_cb cb, void *data, fdk_op **op);
/**@}*/
/**@{*/
/** st must stay valid until the callback; it is filled (on the loop thread) only when
 * the result is 0. Errors as for the asynchronous forms above. */
FDK_API int fdk_fstat_async(fdk_loop *loop, fdk_stat *st, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_statat_async(fdk_loop *loop, fdk_stat *st, fdk_dir *dir, const char *path, int follow,
                             fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_readdir_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_dirents_cb cb, void *data,
                              fdk_op **op);
FDK_API int fdk_realpath_async(fdk_loop *loop, fdk_dir *dir, const char *path, fdk_text_cb cb, void *data,
                               fdk_op **op);
/**@}*/
/**@{*/
/** Asynchronous forms of the calls above, with the same rules as the other asynchronous
 * forms (the pool runs them). A value to set and every string are copied. The buffer of
 * fdk_getxattrat_async and fdk_listxattrat_async is the callback's (fdk_free). */
FDK_API int fdk_dir_open2_async(fdk_loop *loop, fdk_dir *base, const char *path, unsigned flags, fdk_dir_cb cb,
                                void *data, fdk_op **op);
FDK_API int fdk_linkat2_async(fdk_loop *loop, fdk_dir *old_dir, const char *old_path, fdk_dir *new_dir,
                              const char *new_path, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_linkat_fd_async(fdk_loop *loop, fdk_fd *fd, fdk_dir *dir, const char *path, fdk_result_cb cb,
                                void *data, fdk_op **op);
FDK_API int fdk_mknodat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int kind, unsigned mode, uint64_t dev,
                              fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_mkfifoat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, fdk_result_cb cb,
                               void *data, fdk_op **op);
FDK_API int fdk_truncateat_async(fdk_loop *loop, fdk_dir *dir, const char *path, int64_t length, fdk_result_cb cb,
                                 void *data, fdk_op **op);
FDK_API int fdk_faccessat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned mode, unsigned flags,
                                fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_getxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, unsigned flags,
                                 fdk_text_cb cb, void *data, fdk_op **op);
FDK_API int fdk_setxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name, const void *value,
                                 size_t size, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_listxattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, unsigned flags, fdk_text_cb cb,
                                  void *data, fdk_op **op);
FDK_API int fdk_removexattrat_async(fdk_loop *loop, fdk_dir *dir, const char *path, const char *name,
                                    unsigned flags, fdk_result_cb cb, void *data, fdk_op **op);
/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_FS_H */
