/* libFuzzer: a webhook URL and an allow-list, as an owner or an operator
 * writes them (core/outbound.c). Whatever is accepted is well formed: a
 * host of the allowed characters or an IP literal, a port in range. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbound.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[SD_OUTBOUND_URL_MAX + 64];
	struct sd_url u;
	struct sd_allow allow;
	const char *why;
	unsigned char ip[16];

	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sd_url_split(text, &u, &why) == 0) {
		size_t hl = strlen(u.host);

		if (hl == 0 || hl > SD_OUTBOUND_HOST_MAX || u.port < 1 || u.port > 65535 ||
		    strlen(text) > SD_OUTBOUND_URL_MAX)
			abort();
		if (u.host_is_ip) {
			if (inet_pton(AF_INET, u.host, ip) != 1 &&
			    inet_pton(AF_INET6, u.host, ip) != 1)
				abort();
		} else {
			for (size_t i = 0; i < hl; i++)
				if (!islower((unsigned char)u.host[i]) &&
				    !isdigit((unsigned char)u.host[i]) && u.host[i] != '.' &&
				    u.host[i] != '-')
					abort();
		}
		(void)sd_outbound_ip_ok(u.host, NULL);
	} else if (why == NULL) {
		abort();
	}
	if (sd_allow_parse(text, &allow) == 0) {
		if (allow.n < 0 || allow.n > SD_OUTBOUND_ALLOW_MAX)
			abort();
		for (int i = 0; i < allow.n; i++)
			if (allow.net[i].bits < 0 ||
			    allow.net[i].bits > (allow.net[i].family == AF_INET ? 32 : 128))
				abort();
	}
	return 0;
}
