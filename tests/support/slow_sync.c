// LD_PRELOAD shim for tests/slow_disk.sh: every fsync, fdatasync and
// sync_file_range on a file system other than tmpfs first sleeps
// OVERSEER_SLOW_SYNC_US microseconds (default 6000), so that a machine with
// a fast disk runs the suites on a disk as slow as CI's (4-8 ms a sync).
// tmpfs is left fast: a test that keeps its store there (fast_sync_base())
// does so on purpose.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <time.h>

static void slow_down(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC) return;
  const char* us_text = getenv("OVERSEER_SLOW_SYNC_US");
  const long us = us_text ? atol(us_text) : 6000;
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  slow_down(fd);
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  slow_down(fd);
  return real(fd);
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static int (*real)(int, off64_t, off64_t, unsigned int);
  if (!real) real = (int (*)(int, off64_t, off64_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
  slow_down(fd);
  return real(fd, offset, nbytes, flags);
}
