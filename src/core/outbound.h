/* Where the server may send a request of its own (webhook pings): the shape
 * of a URL an owner may register, and which addresses a request may reach.
 * Loopback, private, link-local (the cloud metadata service at
 * 169.254.169.254 among them), CGNAT, multicast, unspecified and reserved
 * addresses, in IPv4, IPv6 and IPv4-mapped IPv6 form, are refused unless
 * the operator's allow-list admits them. */
#ifndef SD_OUTBOUND_H
#define SD_OUTBOUND_H

#include <stddef.h>
#include <sys/socket.h>

#include "core/sd.h"

#define SD_OUTBOUND_URL_MAX   2048
#define SD_OUTBOUND_HOST_MAX  253
#define SD_OUTBOUND_ALLOW_MAX 16

struct sd_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

struct sd_allow {
	int n;
	struct sd_cidr net[SD_OUTBOUND_ALLOW_MAX];
};

/* A URL split into what a request needs. */
struct sd_url {
	int https;                           /* 0: http */
	char host[SD_OUTBOUND_HOST_MAX + 1]; /* without brackets; lower case */
	int port;                            /* the default port when none given */
	int host_is_ip;                      /* an IPv4 or bracketed IPv6 literal */
};

/* Parse a comma list of IPs and CIDRs ("127.0.0.1, 10.0.0.0/8, ::1"):
 * 0, or -1 for garbage or more than SD_OUTBOUND_ALLOW_MAX entries. */
SD_MUST_CHECK int sd_allow_parse(const char *list, struct sd_allow *out);

/* Split url: http(s)://host[:port][/path][?query], printable ASCII, at
 * most SD_OUTBOUND_URL_MAX bytes, no user part, a host of letters, digits,
 * dots and dashes or an IP literal. 0, or -1 with why ("...") set. */
SD_MUST_CHECK int sd_url_split(const char *url, struct sd_url *out, const char **why);

/* 1 when the allow-list admits sa (AF_INET or AF_INET6; IPv4-mapped IPv6
 * is judged as IPv4). */
int sd_allow_has(const struct sd_allow *allow, const struct sockaddr *sa);

/* 1 when a request may connect to sa: a public unicast address, or one the
 * allow-list admits. Any other family: 0. */
int sd_outbound_addr_ok(const struct sockaddr *sa, const struct sd_allow *allow);

/* The same for an IP literal (no brackets): -1 when text is not an IP. */
int sd_outbound_ip_ok(const char *text, const struct sd_allow *allow);

#endif
