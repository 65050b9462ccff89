/* Where the passphrase comes from: --passphrase-file, $SEALDROP_PASSPHRASE,
 * or the terminal with echo off, in that order. */
#ifndef SD_CLIENT_PASSPHRASE_H
#define SD_CLIENT_PASSPHRASE_H

#define PASSPHRASE_MAX     1024 /* bytes; longer ones are refused, never cut */
#define PASSPHRASE_NEW_MIN 8    /* characters of a passphrase being chosen (as the browser) */

/* Get the passphrase into *out, a guarded sodium_malloc buffer that the
 * caller gives to passphrase_free. confirm: a new passphrase is being
 * chosen; a prompt asks twice, and one shorter than PASSPHRASE_NEW_MIN
 * characters is refused with the reason. Returns an exit code (message
 * printed); an empty passphrase is refused. */
int passphrase_read(const char *file, int confirm, char **out);

/* Wipe and free; NULL is fine. */
void passphrase_free(char *p);

#endif
