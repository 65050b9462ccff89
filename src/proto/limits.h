/* Input limits that are part of the API contract (DESIGN.md). Operator-set
 * limits (inbox caps, challenge counts) live in struct sd_limits instead. */
#ifndef SD_LIMITS_H
#define SD_LIMITS_H

#define SD_BODY_MAX            (64 * 1024) /* any body; more is refused unread */
#define SD_SMALL_BODY_MAX      (4 * 1024)  /* endpoints without payloads */
#define SD_ACK_BODY_MAX        (32 * 1024) /* 1000 ids */
#define SD_MSG_MIN_BYTES       48          /* sealed box overhead */
#define SD_MSG_MAX_BYTES       (16 * 1024) /* decoded ciphertext */
#define SD_METADATA_MAX        4096        /* serialized metadata */
#define SD_DISPLAY_NAME_CHARS  64
#define SD_ACK_MAX_IDS         1000
#define SD_FETCH_DEFAULT_LIMIT 50
#define SD_FETCH_MAX_LIMIT     200
#define SD_TOKEN_FIELD_MAX     256 /* fetch token as presented */
#define SD_CHALLENGE_FIELD_MAX 128
#define SD_SIG_FIELD_MAX       128
#define SD_IDEMPOTENCY_KEY_MIN 16
#define SD_IDEMPOTENCY_KEY_MAX 64
/* docs/RECEIPTS.md: receipt ids and auths are 32 bytes as unpadded
 * base64url; padded ciphertexts are one of three bucket sizes. */
#define SD_RECEIPT_B64URL_LEN  43
#define SD_BUCKET_SMALL        1024
#define SD_BUCKET_MEDIUM       4096
#define SD_BUCKET_LARGE        16384
#define SD_RECEIPT_LIST_MAX    100 /* messages and replies one receipt lookup shows */

#endif
