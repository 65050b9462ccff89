/* Which URLs and addresses the server's own requests may reach. */
#include "core/outbound.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Ranges no ping may reach unless allow-listed. */
static const struct {
	const char *net;
	int bits;
} refused_v4[] =
    {
        {"0.0.0.0", 8},      /* "this network", unspecified */
        {"10.0.0.0", 8},     /* private */
        {"100.64.0.0", 10},  /* CGNAT */
        {"127.0.0.0", 8},    /* loopback */
        {"169.254.0.0", 16}, /* link-local, cloud metadata */
        {"172.16.0.0", 12},  /* private */
        {"192.0.0.0", 24},   /* IETF protocol assignments */
        {"192.168.0.0", 16}, /* private */
        {"198.18.0.0", 15},  /* benchmarking */
        {"224.0.0.0", 4},    /* multicast */
        {"240.0.0.0", 4},    /* reserved, broadcast */
},
  refused_v6[] = {
      {"::", 96},          /* unspecified, loopback, IPv4-compatible */
      {"64:ff9b:1::", 48}, /* local-use NAT64: the network's own translator */
      {"2001::", 32},      /* Teredo: tunnels to an IPv4 address */
      {"fc00::", 7},       /* unique local */
      {"fe80::", 10},      /* link-local */
      {"fec0::", 10},      /* site-local (deprecated) */
      {"ff00::", 8},       /* multicast */
      {"2001:db8::", 32},  /* documentation */
};

static int prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[whole] ^ net[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Normalise sa to (family, bytes): IPv4-mapped IPv6 (::ffff:a.b.c.d) is
 * IPv4. 0, or -1 for another family. */
static int addr_bytes(const struct sockaddr *sa, int *family, unsigned char *out)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		*family = AF_INET;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b =
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;

		if (memcmp(b, mapped, sizeof mapped) == 0) {
			memcpy(out, b + 12, 4);
			*family = AF_INET;
		} else {
			memcpy(out, b, 16);
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

/* IPv6 prefixes that carry an IPv4 address a ping would end up at: judged
 * as that address. */
static const struct {
	unsigned char prefix[12];
	int bits, at; /* the IPv4 address's first byte */
} embeds_v4[] = {
    {{0x20, 0x02}, 16, 2},              /* 6to4 2002::/16 */
    {{0x00, 0x64, 0xff, 0x9b}, 96, 12}, /* NAT64 64:ff9b::/96 */
};

static int refused(int family, const unsigned char *a)
{
	unsigned char net[16];

	if (family == AF_INET6)
		for (size_t i = 0; i < SD_ARRAY_LEN(embeds_v4); i++)
			if (prefix_match(a, embeds_v4[i].prefix, embeds_v4[i].bits))
				return refused(AF_INET, a + embeds_v4[i].at);
	if (family == AF_INET) {
		for (size_t i = 0; i < SD_ARRAY_LEN(refused_v4); i++)
			if (inet_pton(AF_INET, refused_v4[i].net, net) == 1 &&
			    prefix_match(a, net, refused_v4[i].bits))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < SD_ARRAY_LEN(refused_v6); i++)
		if (inet_pton(AF_INET6, refused_v6[i].net, net) == 1 &&
		    prefix_match(a, net, refused_v6[i].bits))
			return 1;
	return 0;
}

int sd_allow_has(const struct sd_allow *allow, const struct sockaddr *sa)
{
	unsigned char a[16];
	int family;

	if (allow == NULL || addr_bytes(sa, &family, a) != 0)
		return 0;
	for (int i = 0; i < allow->n; i++)
		if (allow->net[i].family == family &&
		    prefix_match(a, allow->net[i].addr, allow->net[i].bits))
			return 1;
	return 0;
}

int sd_outbound_addr_ok(const struct sockaddr *sa, const struct sd_allow *allow)
{
	unsigned char a[16];
	int family;

	if (addr_bytes(sa, &family, a) != 0)
		return 0;
	return sd_allow_has(allow, sa) || !refused(family, a);
}

/* text as a sockaddr: 0, or -1 when it is no IP literal. */
static int ip_parse(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -1;
}

int sd_outbound_ip_ok(const char *text, const struct sd_allow *allow)
{
	struct sockaddr_storage ss;

	if (ip_parse(text, &ss) != 0)
		return -1;
	return sd_outbound_addr_ok((const struct sockaddr *)&ss, allow);
}

static int cidr_parse(const char *s, size_t len, struct sd_cidr *c)
{
	char text[64], *slash;
	struct sockaddr_storage ss;
	int max;

	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof text)
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if ((slash = strchr(text, '/')) != NULL)
		*slash = '\0';
	if (ip_parse(text, &ss) != 0)
		return -1;
	if (addr_bytes((const struct sockaddr *)&ss, &c->family, c->addr) != 0)
		return -1;
	max = c->family == AF_INET ? 32 : 128;
	c->bits = max;
	if (slash != NULL) {
		char *end;
		long b = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || b < 0 || b > max)
			return -1;
		/* A mapped address given with an IPv6 prefix length. */
		if (ss.ss_family == AF_INET6 && c->family == AF_INET)
			b = b >= 96 ? b - 96 : 0;
		c->bits = (int)b;
	}
	return 0;
}

int sd_allow_parse(const char *list, struct sd_allow *out)
{
	const char *p = list;

	memset(out, 0, sizeof *out);
	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (out->n >= SD_OUTBOUND_ALLOW_MAX || cidr_parse(p, len, &out->net[out->n]) != 0)
			return -1;
		out->n++;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int host_char(int ch)
{
	return isalnum(ch) || ch == '.' || ch == '-';
}

/* WHATWG's "ends in a number": the last label (a trailing dot aside) is
 * all digits or 0x-hex. Resolvers and curl read such a host as an IPv4
 * address in a shorthand (127.1, 2130706433, 0x7f.1), which is refused
 * rather than judged: only the dotted quad is an address here. */
static int ends_in_number(const char *host)
{
	size_t n = strlen(host), start;

	if (n > 0 && host[n - 1] == '.')
		n--;
	start = n;
	while (start > 0 && host[start - 1] != '.')
		start--;
	if (start == n)
		return 0;
	if (n - start >= 2 && host[start] == '0' && (host[start + 1] | 0x20) == 'x') {
		for (size_t i = start + 2; i < n; i++)
			if (!isxdigit((unsigned char)host[i]))
				return 0;
		return 1;
	}
	for (size_t i = start; i < n; i++)
		if (!isdigit((unsigned char)host[i]))
			return 0;
	return 1;
}

int sd_url_split(const char *url, struct sd_url *out, const char **why)
{
	size_t len = strlen(url), hl;
	const char *auth, *end, *colon = NULL, *h;
	struct sockaddr_storage ss;
	unsigned char v6[16];

	memset(out, 0, sizeof *out);
	*why = "url must be an https:// URL of at most 2048 bytes";
	if (len == 0 || len > SD_OUTBOUND_URL_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (url[i] <= 0x20 || url[i] >= 0x7f || url[i] == '\\')
			return -1;
	if (strncasecmp(url, "https://", 8) == 0)
		out->https = 1, auth = url + 8, out->port = 443;
	else if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7, out->port = 80;
	else
		return -1;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		*why = "url must not carry a user or password";
		return -1;
	}
	*why = "url must name a host (letters, digits, dots, dashes, or an IP address)";
	h = auth;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (close == NULL)
			return -1;
		hl = (size_t)(close - h - 1);
		h++;
		if (close[1] == ':')
			colon = close + 1;
		else if (close + 1 != end)
			return -1;
		out->host_is_ip = 1;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hl = (size_t)((colon ? colon : end) - h);
		for (size_t i = 0; i < hl; i++)
			if (!host_char((unsigned char)h[i]))
				return -1;
	}
	if (hl == 0 || hl > SD_OUTBOUND_HOST_MAX)
		return -1;
	for (size_t i = 0; i < hl; i++)
		out->host[i] = (char)tolower((unsigned char)h[i]);
	out->host[hl] = '\0';
	if (out->host_is_ip ? (inet_pton(AF_INET6, out->host, v6) != 1)
	                    : (out->host[0] == '.' || out->host[0] == '-'))
		return -1;
	if (!out->host_is_ip && ip_parse(out->host, &ss) == 0) {
		out->host_is_ip = 1;
	} else if (!out->host_is_ip && ends_in_number(out->host)) {
		*why = "url's host must be a name or a dotted-quad IPv4 address (a host "
		       "ending in a number is read as an address)";
		return -1;
	}
	if (colon != NULL) {
		long port = 0;
		const char *d = colon + 1;

		*why = "url's port must be 1..65535";
		if (d == end || end - d > 5)
			return -1;
		for (; d < end; d++) {
			if (!isdigit((unsigned char)*d))
				return -1;
			port = port * 10 + (*d - '0');
		}
		if (port < 1 || port > 65535)
			return -1;
		out->port = (int)port;
	}
	*why = NULL;
	return 0;
}
