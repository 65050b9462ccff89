/* A FastCGI response from our own buffers (fcgi_stdout.h). */
#include "server/fcgi_stdout.h"

#include <errno.h>
#include <fastcgi.h>
#include <stddef.h>

/* Records per writev(): two iovecs each (header, content), plus the two
 * end records. A 50-message page is two records; only pages over 2 MB
 * take more than one call. */
#define RECORDS_PER_WRITE 32

/* The records go out as they are laid out in memory. */
_Static_assert(sizeof(FCGI_Header) == FCGI_HEADER_LEN && sizeof(FCGI_EndRequestRecord) == 16,
               "FastCGI records are unpadded");

static FCGI_Header record_header(int type, int request_id, size_t len)
{
	FCGI_Header h = {
	    .version = FCGI_VERSION_1,
	    .type = (unsigned char)type,
	    .requestIdB1 = (unsigned char)((request_id >> 8) & 0xff),
	    .requestIdB0 = (unsigned char)(request_id & 0xff),
	    .contentLengthB1 = (unsigned char)((len >> 8) & 0xff),
	    .contentLengthB0 = (unsigned char)(len & 0xff),
	    .paddingLength = 0, /* alignment is a recommendation; nginx reads any */
	    .reserved = 0,
	};

	return h;
}

/* writev() until every byte is out; iov is consumed. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int fcgi_response_write(int fd, int request_id, const struct iovec *parts, int nparts)
{
	FCGI_Header head[RECORDS_PER_WRITE];
	struct iovec iov[2 * RECORDS_PER_WRITE + 2];
	/* The end of STDOUT (an empty record), then END_REQUEST. */
	struct {
		FCGI_Header eof;
		FCGI_EndRequestRecord end;
	} tail = {
	    .eof = record_header(FCGI_STDOUT, request_id, 0),
	    .end = {.header =
	                record_header(FCGI_END_REQUEST, request_id, sizeof(FCGI_EndRequestBody)),
	            .body = {.protocolStatus = FCGI_REQUEST_COMPLETE}},
	};
	int part = 0;
	size_t off = 0;

	for (;;) {
		int records = 0, n;

		while (records < RECORDS_PER_WRITE && part < nparts) {
			size_t len = parts[part].iov_len - off;

			if (len == 0) { /* an empty record would end the stream */
				part++;
				off = 0;
				continue;
			}
			if (len > FCGI_MAX_LENGTH)
				len = FCGI_MAX_LENGTH;
			head[records] = record_header(FCGI_STDOUT, request_id, len);
			iov[2 * records].iov_base = &head[records];
			iov[2 * records].iov_len = FCGI_HEADER_LEN;
			iov[2 * records + 1].iov_base = (char *)parts[part].iov_base + off;
			iov[2 * records + 1].iov_len = len;
			records++;
			off += len;
		}
		n = 2 * records;
		while (part < nparts && parts[part].iov_len == off) {
			part++;
			off = 0;
		}
		if (part == nparts) {
			iov[n].iov_base = &tail;
			iov[n].iov_len = sizeof tail;
			return writev_all(fd, iov, n + 1);
		}
		if (writev_all(fd, iov, n) != 0)
			return -1;
	}
}
