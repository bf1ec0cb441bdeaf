/* SPDX-License-Identifier: MIT */
/* fdkit ls, cat, stat, tree: the confined file-system calls from the command line. Every
 * PATH is resolved beneath --root DIR, and one that would leave it is refused. */
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <fdkit.h>

#include "commands.h"

/* What each command accepts besides --root and --help. */
typedef struct {
  const char *name;
  const char *usage;
  int path_required;
  int takes_follow;
  int takes_zero;
  int takes_xattrs;
} fs_command;

typedef struct {
  const fs_command *cmd;
  const char *root_path;
  const char *path; /* beneath root; "." when the command defaults to it */
  int follow;
  int zero;
  int xattrs;
  unsigned root_flags; /* FDK_DIR_* scoping of --root */
  fdk_dir *root;
} fs_args;

#define CONFINEMENT_HELP                                                                   \
  "PATH is resolved beneath DIR: a PATH that would leave it ('..' past DIR, an absolute\n" \
  "path, a symlink whose target is absolute or climbs out) is refused with exit status 1.\n"

#define NAMES_HELP                                                                           \
  "A name that holds spaces, shell characters, control bytes or bytes that are not UTF-8\n"  \
  "is printed as GNU ls prints it on a terminal: in single quotes, with $'\\n'-style\n"      \
  "escapes ('a -> b' for a file of that name, a -> b for a symlink).\n"

#define COMMON_OPTIONS_HELP                                                                     \
  "  --root DIR   the directory every path is confined to (also --root=DIR)\n"                 \
  "  --in-root    DIR is a root: '..' at it stays there, and absolute paths and symlink\n"     \
  "               targets start from it instead of being refused\n"                            \
  "  --no-xdev    refuse a path that crosses a mount point beneath DIR\n"                     \
  "  --no-symlinks  refuse a path that would follow any symlink\n"                            \
  "  --trace      print each fdkit operation to stderr\n"                                      \
  "  --help       print this help\n"

static const fs_command ls_command = {
    .name = "ls",
    .usage =
        "usage: fdkit ls --root DIR [-0] [PATH]\n"
        "\n"
        "Lists the directory PATH (default: DIR itself), one entry per line in byte order.\n"
        "Directories end in '/'; a symlink shows as 'name -> target' and is not followed.\n" NAMES_HELP
        CONFINEMENT_HELP
        "\n" COMMON_OPTIONS_HELP
        "  -0, --zero   for scripts: each name exactly as it is, ended by a NUL byte, without\n"
        "               '/' or ' -> target'\n",
    .takes_zero = 1,
};

static const fs_command cat_command = {
    .name = "cat",
    .usage =
        "usage: fdkit cat --root DIR PATH\n"
        "       fdkit cat -\n"
        "\n"
        "Copies the file PATH to stdout with fdkit's read and write; '-' copies stdin (a file\n"
        "named '-' is './-').\n" CONFINEMENT_HELP
        "\n" COMMON_OPTIONS_HELP,
    .path_required = 1,
};

static const fs_command stat_command = {
    .name = "stat",
    .usage =
        "usage: fdkit stat --root DIR [--follow] [--xattrs] PATH\n"
        "\n"
        "Describes PATH: kind, size, blocks, mode, links, owner, inode, device (major,minor)\n"
        "and times (UTC). A symlink is described itself, with its target, unless --follow is\n"
        "given.\n" NAMES_HELP CONFINEMENT_HELP
        "\n" COMMON_OPTIONS_HELP
        "  --follow     describe what a symlink in the last position points to (confined)\n"
        "  --xattrs     also print each extended attribute as 'xattr   name=value' (the value\n"
        "               quoted as names are)\n",
    .path_required = 1,
    .takes_follow = 1,
    .takes_xattrs = 1,
};

static const fs_command tree_command = {
    .name = "tree",
    .usage =
        "usage: fdkit tree --root DIR [-0] [PATH]\n"
        "\n"
        "Walks the directory PATH (default: DIR itself) recursively and prints it as a tree,\n"
        "each directory's entries in byte order, then the number of directories and files\n"
        "as GNU tree counts them (PATH itself when it is not empty, and symlinks to\n"
        "directories beneath DIR, are directories). Directories end in '/'; symlinks show as\n"
        "'name -> target' and are never walked into, so the walk stays beneath PATH. An\n"
        "unreadable directory is reported and skipped (exit status 1).\n" NAMES_HELP CONFINEMENT_HELP
        "\n" COMMON_OPTIONS_HELP
        "  -0, --zero   for scripts: each path below PATH (as PATH/name/...) exactly as it is,\n"
        "               ended by a NUL byte, without the drawing, decorations or counts\n",
    .takes_zero = 1,
};

/* Reports a failed call on path, naming it; an escape is first said in plain words.
 * Returns 1. */
static int report_on_path(const fs_args *a, const char *call, const char *path, int err) {
  if (err == FDK_EESCAPE) {
    fprintf(stderr, "fdkit %s: refused: '%s' leads outside --root %s\n", a->cmd->name, path, a->root_path);
    return fdkit_report(a->cmd->name, call, err);
  }
  fprintf(stderr, "fdkit %s: %s ", a->cmd->name, call);
  fdkit_print_name(stderr, path);
  fprintf(stderr, ": %s (%s): %s\n", fdk_errname(err), fdk_strerror(err), fdk_last_error());
  return 1;
}

/* Whether PATH is "-", cat's name for stdin. */
static int is_stdin(const fs_args *a) { return a->cmd->path_required && !strcmp(a->path, "-"); }

/* Parses the command line (options and PATH in any order; after "--" only PATH) and
 * opens --root. Returns -1 to go on, else the exit code. */
static int parse_args(const fs_command *cmd, int argc, char **argv, fs_args *a) {
  *a = (fs_args){.cmd = cmd};
  int paths = 0, options_done = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int r;
    if (options_done || arg[0] != '-' || !arg[1]) {
      a->path = arg;
      paths++;
    } else if (!strcmp(arg, "--")) {
      options_done = 1;
    } else if (!strcmp(arg, "--help")) {
      fputs(cmd->usage, stdout);
      return 0;
    } else if ((r = fdkit_option(cmd->name, argc, argv, &i, "--root", &a->root_path))) {
      if (r < 0) return FDKIT_EXIT_OWN_ERROR;
    } else if (!strcmp(arg, "--follow") && cmd->takes_follow) {
      a->follow = 1;
    } else if (!strcmp(arg, "--xattrs") && cmd->takes_xattrs) {
      a->xattrs = 1;
    } else if (!strcmp(arg, "--in-root")) {
      a->root_flags |= FDK_DIR_IN_ROOT;
    } else if (!strcmp(arg, "--no-xdev")) {
      a->root_flags |= FDK_DIR_NO_XDEV;
    } else if (!strcmp(arg, "--no-symlinks")) {
      a->root_flags |= FDK_DIR_NO_SYMLINKS;
    } else if ((!strcmp(arg, "--zero") || !strcmp(arg, "-0")) && cmd->takes_zero) {
      a->zero = 1;
    } else if (!strcmp(arg, "--trace")) {
      fdkit_trace_on();
    } else {
      fprintf(stderr, "fdkit %s: unknown option '%s' (see --help)\n", cmd->name, arg);
      return FDKIT_EXIT_OWN_ERROR;
    }
  }
  if (paths > 1 || (cmd->path_required && paths < 1)) {
    fprintf(stderr, "fdkit %s: expected %s PATH (see --help)\n", cmd->name, cmd->path_required ? "one" : "at most one");
    return FDKIT_EXIT_OWN_ERROR;
  }
  if (!paths) a->path = ".";
  if (is_stdin(a)) return -1;
  if (!a->root_path) {
    fprintf(stderr, "fdkit %s: --root DIR is required (see --help)\n", cmd->name);
    return FDKIT_EXIT_OWN_ERROR;
  }
  int r = fdk_dir_open2(&a->root, fdk_dir_fs(), a->root_path, a->root_flags);
  if (r < 0) return fdkit_report(cmd->name, "dir_open (--root)", r);
  return -1;
}

/* A directory entry; name is valid while its fdk_dirents is. */
typedef struct {
  const char *name;
  int kind;
} entry;

static int by_name(const void *x, const void *y) {
  return strcmp(((const entry *)x)->name, ((const entry *)y)->name);
}

/* The entries of a listing in byte order of their names (stable output whatever order
 * the file system keeps), count of them in *count; NULL when out of memory. */
static entry *sorted_entries(const fdk_dirents *entries, size_t *count) {
  *count = fdk_dirents_count(entries);
  entry *sorted = malloc((*count ? *count : 1) * sizeof *sorted);
  if (!sorted) return NULL;
  for (size_t i = 0; i < *count; i++)
    sorted[i] = (entry){fdk_dirents_name(entries, i), fdk_dirents_kind(entries, i)};
  qsort(sorted, *count, sizeof *sorted, by_name);
  return sorted;
}

/* Prints name as listings show it ('/' after a directory, ' -> target' after a symlink)
 * and a newline. shown is the entry's path for error messages. 0, or 1 when the
 * symlink's target could not be read. */
static int print_entry(const fs_args *a, fdk_dir *dir, const char *name, int kind, const char *shown) {
  fdkit_print_name(stdout, name);
  if (kind == FDK_KIND_DIR) {
    fputs("/\n", stdout);
    return 0;
  }
  if (kind != FDK_KIND_SYMLINK) {
    fputc('\n', stdout);
    return 0;
  }
  char *target;
  ssize_t r = fdk_readlinkat(&target, dir, name);
  if (r < 0) {
    fputs(" -> ?\n", stdout);
    return report_on_path(a, "readlinkat", shown, (int)r);
  }
  fputs(" -> ", stdout);
  fdkit_print_name(stdout, target);
  fputc('\n', stdout);
  fdk_free(target);
  return 0;
}

/* -0: the bytes of name and a NUL. */
static void print_zero(const char *name) {
  fputs(name, stdout);
  fputc('\0', stdout);
}

/* a + sep + b in a new string, or NULL when out of memory. */
static char *concat(const char *a, const char *sep, const char *b) {
  size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
  char *out = malloc(na + ns + nb + 1);
  if (!out) return NULL;
  memcpy(out, a, na);
  memcpy(out + na, sep, ns);
  memcpy(out + na + ns, b, nb + 1);
  return out;
}

int fdkit_cmd_ls(int argc, char **argv) {
  fs_args a;
  int code = parse_args(&ls_command, argc, argv, &a);
  if (code >= 0) return code;
  fdk_dir *dir = NULL;
  fdk_dirents *entries = NULL;
  entry *sorted = NULL;
  size_t count = 0;
  int r = fdk_dir_open(&dir, a.root, a.path);
  if (r < 0) {
    code = report_on_path(&a, "dir_open", a.path, r);
    goto done;
  }
  r = fdk_readdir(&entries, dir, "");
  if (r < 0) {
    code = report_on_path(&a, "readdir", a.path, r);
    goto done;
  }
  sorted = sorted_entries(entries, &count);
  if (!sorted) {
    code = fdkit_report("ls", "malloc", -ENOMEM);
    goto done;
  }
  code = 0;
  for (size_t i = 0; i < count; i++) {
    if (a.zero) {
      print_zero(sorted[i].name);
      continue;
    }
    char *shown = concat(a.path, "/", sorted[i].name);
    code |= print_entry(&a, dir, sorted[i].name, sorted[i].kind, shown ? shown : sorted[i].name);
    free(shown);
  }

done:
  free(sorted);
  fdk_dirents_free(entries);
  fdk_dir_unref(dir);
  fdk_dir_unref(a.root);
  return code;
}

/* Writes all of buf to out; 0 or a negative errno. */
static int write_all(fdk_fd *out, const char *buf, size_t len) {
  while (len) {
    ssize_t w = fdk_write(out, buf, len);
    if (w < 0) return (int)w;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

int fdkit_cmd_cat(int argc, char **argv) {
  fs_args a;
  int code = parse_args(&cat_command, argc, argv, &a);
  if (code >= 0) return code;
  static char buf[65536];
  fdk_fd *in = NULL, *out = NULL;
  /* stdin is borrowed like stdout */
  int r = is_stdin(&a) ? fdk_fd_adopt(&in, 0, FDK_FD_BORROW) : fdk_openat(&in, a.root, a.path, FDK_O_RDONLY, 0);
  if (r < 0) {
    code = report_on_path(&a, "openat", a.path, r);
    goto done;
  }
  /* Borrowed: stdout stays open for whatever the process writes after cat. */
  r = fdk_fd_adopt(&out, 1, FDK_FD_BORROW);
  if (r < 0) {
    code = fdkit_report("cat", "fd_adopt (stdout)", r);
    goto done;
  }
  code = 0;
  for (;;) {
    ssize_t n = fdk_read(in, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0) code = report_on_path(&a, "read", a.path, (int)n);
      break;
    }
    r = write_all(out, buf, (size_t)n);
    if (r < 0) {
      code = fdkit_stdout_failed("cat", r);
      break;
    }
  }

done:
  fdk_fd_unref(out);
  fdk_fd_unref(in);
  fdk_dir_unref(a.root);
  return code;
}

static const char *kind_name(int kind) {
  switch (kind) {
    case FDK_KIND_FIFO: return "fifo";
    case FDK_KIND_CHAR: return "character device";
    case FDK_KIND_DIR: return "directory";
    case FDK_KIND_BLOCK: return "block device";
    case FDK_KIND_REGULAR: return "regular file";
    case FDK_KIND_SYMLINK: return "symlink";
    case FDK_KIND_SOCKET: return "socket";
    default: return "unknown";
  }
}

/* ls -l's letter for a kind. */
static char kind_letter(int kind) {
  switch (kind) {
    case FDK_KIND_FIFO: return 'p';
    case FDK_KIND_CHAR: return 'c';
    case FDK_KIND_DIR: return 'd';
    case FDK_KIND_BLOCK: return 'b';
    case FDK_KIND_SYMLINK: return 'l';
    case FDK_KIND_SOCKET: return 's';
    default: return '-';
  }
}

/* ls -l's ten-letter mode ("drwxr-sr-t") of a kind and permission bits. */
static void mode_text(char out[11], int kind, unsigned perm) {
  static const char rwx[] = "rwxrwxrwx";
  out[0] = kind_letter(kind);
  for (int i = 0; i < 9; i++) out[1 + i] = perm & (0400u >> i) ? rwx[i] : '-';
  /* setuid, setgid and sticky take the execute slot of user, group and other. */
  static const unsigned special[] = {04000, 02000, 01000};
  static const char with_x[] = "sst", without_x[] = "SST";
  for (int i = 0; i < 3; i++)
    if (perm & special[i]) out[3 + 3 * i] = out[3 + 3 * i] == 'x' ? with_x[i] : without_x[i];
  out[10] = '\0';
}

/* Prints "label  2026-01-02T03:04:05.123456789Z", or "-" where the file system keeps no
 * such time. 0, or 1 after reporting a failure. */
static int print_time(const char *label, const char *call, int (*get)(const fdk_stat *, int64_t *, int64_t *),
                      const fdk_stat *st) {
  int64_t sec, nsec;
  int r = get(st, &sec, &nsec);
  if (r == -ENODATA) {
    printf("%-7s -\n", label);
    return 0;
  }
  if (r < 0) return fdkit_report("stat", call, r);
  time_t t = (time_t)sec;
  struct tm tm;
  char text[32];
  if (!gmtime_r(&t, &tm) || !strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm)) {
    printf("%-7s %lld.%09lld\n", label, (long long)sec, (long long)nsec);
    return 0;
  }
  printf("%-7s %s.%09lldZ\n", label, text, (long long)nsec);
  return 0;
}

/* Every extended attribute of a->path as "xattr   name=value", in the order the file
 * system lists them. 0, or 1 after reporting a failure. */
static int print_xattrs(const fs_args *a) {
  char *names;
  unsigned flags = a->follow ? FDK_FOLLOW : 0;
  ssize_t n = fdk_listxattrat(&names, a->root, a->path, flags);
  if (n < 0) return report_on_path(a, "listxattrat", a->path, (int)n);
  int code = 0;
  for (const char *name = names; name < names + n; name += strlen(name) + 1) {
    char *value;
    ssize_t len = fdk_getxattrat(&value, a->root, a->path, name, flags);
    if (len < 0) {
      code = report_on_path(a, "getxattrat", a->path, (int)len);
      continue;
    }
    printf("%-7s ", "xattr");
    fdkit_print_name(stdout, name);
    fputc('=', stdout);
    /* A value is bytes; one with a NUL inside shows up to it, as getfattr shows text. */
    fdkit_print_name(stdout, value);
    fputc('\n', stdout);
    fdk_free(value);
  }
  fdk_free(names);
  return code;
}

int fdkit_cmd_stat(int argc, char **argv) {
  fs_args a;
  int code = parse_args(&stat_command, argc, argv, &a);
  if (code >= 0) return code;
  fdk_stat *st = NULL;
  int r = fdk_stat_new(&st);
  if (r < 0) {
    code = fdkit_report("stat", "stat_new", r);
    goto done;
  }
  r = fdk_statat(st, a.root, a.path, a.follow);
  if (r < 0) {
    code = report_on_path(&a, "statat", a.path, r);
    goto done;
  }
  int kind = fdk_stat_kind(st);
  unsigned perm = fdk_stat_perm(st);
  char mode[11];
  mode_text(mode, kind, perm);
  printf("%-7s ", "path");
  fdkit_print_name(stdout, a.path);
  fputc('\n', stdout);
  printf("%-7s %s\n", "kind", kind_name(kind));
  code = 0;
  if (kind == FDK_KIND_SYMLINK) {
    char *target;
    ssize_t n = fdk_readlinkat(&target, a.root, a.path);
    if (n < 0) {
      code = report_on_path(&a, "readlinkat", a.path, (int)n);
    } else {
      printf("%-7s ", "target");
      fdkit_print_name(stdout, target);
      fputc('\n', stdout);
      fdk_free(target);
    }
  }
  printf("%-7s %lld\n", "size", (long long)fdk_stat_size(st));
  printf("%-7s %lld (512-byte units; I/O block %lld)\n", "blocks", (long long)fdk_stat_blocks(st),
         (long long)fdk_stat_blksize(st));
  printf("%-7s %04o (%s)\n", "mode", perm, mode);
  printf("%-7s %llu\n", "links", (unsigned long long)fdk_stat_nlink(st));
  printf("%-7s %u\n", "uid", (unsigned)fdk_stat_uid(st));
  printf("%-7s %u\n", "gid", (unsigned)fdk_stat_gid(st));
  printf("%-7s %llu\n", "inode", (unsigned long long)fdk_stat_ino(st));
  /* as stat(1) shows device numbers */
  printf("%-7s %u,%u\n", "device", major(fdk_stat_dev(st)), minor(fdk_stat_dev(st)));
  if (kind == FDK_KIND_CHAR || kind == FDK_KIND_BLOCK)
    printf("%-7s %u,%u\n", "rdev", major(fdk_stat_rdev(st)), minor(fdk_stat_rdev(st)));
  code |= print_time("access", "stat_atime", fdk_stat_atime, st);
  code |= print_time("modify", "stat_mtime", fdk_stat_mtime, st);
  code |= print_time("change", "stat_ctime", fdk_stat_ctime, st);
  code |= print_time("birth", "stat_btime", fdk_stat_btime, st);
  if (a.xattrs) code |= print_xattrs(&a);

done:
  fdk_stat_free(st);
  fdk_dir_unref(a.root);
  return code;
}

/* A recursive walk beneath one dir handle per level: each subdirectory is opened beneath
 * its parent, and symlinks are never followed, so the walk cannot leave its start. */
typedef struct {
  const fs_args *args;
  uint64_t dirs, files;
  int failed;
} tree_walk;

/* Whether the symlink at path (from --root) leads to a directory beneath --root; one that
 * leads outside is not followed, not even to look. */
static int symlink_to_dir(const fs_args *a, const char *path) {
  fdk_stat *st;
  if (fdk_stat_new(&st) < 0) return 0;
  int is_dir = fdk_statat(st, a->root, path, 1) == 0 && fdk_stat_kind(st) == FDK_KIND_DIR;
  fdk_stat_free(st);
  return is_dir;
}

/* Prints the entries of dir, whose path from --root is shown, each line after prefix
 * (with -0: each path and a NUL). */
static void walk(tree_walk *w, fdk_dir *dir, const char *shown, const char *prefix) {
  fdk_dirents *entries;
  int r = fdk_readdir(&entries, dir, "");
  if (r < 0) {
    w->failed = report_on_path(w->args, "readdir", shown, r);
    return;
  }
  size_t count;
  entry *sorted = sorted_entries(entries, &count);
  if (!sorted) {
    w->failed = fdkit_report("tree", "malloc", -ENOMEM);
    fdk_dirents_free(entries);
    return;
  }
  /* GNU tree counts the top directory too, when it has entries (the prefix is empty only
   * there) */
  if (count && !*prefix) w->dirs++;
  for (size_t i = 0; i < count; i++) {
    const entry *e = &sorted[i];
    int last = i + 1 == count;
    char *path = concat(shown, "/", e->name);
    char *inner = concat(prefix, "", last ? "    " : "|   ");
    if (!path || !inner) {
      w->failed = fdkit_report("tree", "malloc", -ENOMEM);
      free(path);
      free(inner);
      break;
    }
    if (w->args->zero) {
      print_zero(path);
    } else {
      printf("%s%s", prefix, last ? "`-- " : "|-- ");
      w->failed |= print_entry(w->args, dir, e->name, e->kind, path);
    }
    if (e->kind == FDK_KIND_SYMLINK && symlink_to_dir(w->args, path)) {
      w->dirs++;
    } else if (e->kind == FDK_KIND_DIR) {
      w->dirs++;
      fdk_dir *sub;
      r = fdk_dir_open(&sub, dir, e->name);
      if (r < 0) {
        w->failed = report_on_path(w->args, "dir_open", path, r);
      } else {
        walk(w, sub, path, inner);
        fdk_dir_unref(sub);
      }
    } else {
      w->files++;
    }
    free(path);
    free(inner);
  }
  free(sorted);
  fdk_dirents_free(entries);
}

int fdkit_cmd_tree(int argc, char **argv) {
  fs_args a;
  int code = parse_args(&tree_command, argc, argv, &a);
  if (code >= 0) return code;
  fdk_dir *start;
  int r = fdk_dir_open(&start, a.root, a.path);
  if (r < 0) {
    code = report_on_path(&a, "dir_open", a.path, r);
  } else {
    tree_walk w = {.args = &a};
    if (!a.zero) {
      fdkit_print_name(stdout, a.path);
      fputc('\n', stdout);
    }
    walk(&w, start, a.path, "");
    if (!a.zero)
      printf("\n%llu director%s, %llu file%s\n", (unsigned long long)w.dirs, w.dirs == 1 ? "y" : "ies",
             (unsigned long long)w.files, w.files == 1 ? "" : "s");
    fdk_dir_unref(start);
    code = w.failed;
  }
  fdk_dir_unref(a.root);
  return code;
}
