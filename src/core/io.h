/* Writing a whole buffer to a file or a socket. */
#ifndef SD_IO_H
#define SD_IO_H

#include <stddef.h>

/* Writes all n bytes of p to fd, resuming after short writes and EINTR.
 * 0, or -1 with errno set. On a socket whose peer has gone, the write
 * fails with EPIPE where SIGPIPE is ignored (sealdropd ignores it). */
int sd_write_all(int fd, const void *p, size_t n);

#endif
