#include "core/event_channel.h"

#include <sodium.h>
#include <string.h>

static unsigned char channel_key[SD_EVENT_KEY_BYTES];
static int key_set;

void sd_event_channel_set_key(const unsigned char key[SD_EVENT_KEY_BYTES])
{
	memcpy(channel_key, key, SD_EVENT_KEY_BYTES);
	key_set = 1;
}

int sd_event_channel_on(void)
{
	return key_set;
}

void sd_event_channel_id(const char *link_token, char out[SD_EVENT_CHANNEL_HEX + 1])
{
	unsigned char h[SD_EVENT_CHANNEL_HEX / 2];

	/* A domain prefix keeps this key's hashes apart from any other use. */
	crypto_generichash_state st;
	crypto_generichash_init(&st, channel_key, sizeof channel_key, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)"sealdrop-events-v1\n", 19);
	crypto_generichash_update(&st, (const unsigned char *)link_token, strlen(link_token));
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, SD_EVENT_CHANNEL_HEX + 1, h, sizeof h);
}

void sd_event_channel_link(const char *link_token, int fold_case, char *out, size_t cap)
{
	size_t i;

	if (cap == 0)
		return;
	for (i = 0; i + 1 < cap && link_token[i] != '\0'; i++) {
		char ch = link_token[i];

		out[i] = fold_case && ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	out[i] = '\0';
}
