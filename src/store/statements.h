/* The named statements of the store. Each backend gives every name its
 * SQL text (sql_sqlite.c, sql_mysql.c) with the same parameters in the
 * same order (plain `?`) and the same result columns, listed here. Times
 * are Unix seconds in and out. */
#ifndef SD_STATEMENTS_H
#define SD_STATEMENTS_H

enum sd_stmt {
	SQ_PING, /* -> 1 */

	/* schema_version */
	SQ_SCHEMA_CREATE, /* (DDL, run as a script) */
	SQ_SCHEMA_HAS,    /* version -> 1 */
	SQ_SCHEMA_RECORD, /* version, name, now */

	/* clients */
	SQ_CLIENT_INSERT,   /* link, pk, pk_hash, display_name?, fetch_hash, now, key_type, box_pk?,
	                      capabilities -> last_id */
	SQ_CLIENT_GET,      /* link -> id, link_token, public_key, public_key_hash, display_name,
	                      fetch_token_hash, created_at, key_type, box_public_key,
	                      capabilities */
	SQ_CLIENT_TOTALS,   /* (none) -> inboxes, charged bytes of every inbox, messages */
	SQ_CLIENT_USAGE,    /* link -> msg_count, msg_bytes */
	SQ_MSG_CHARGE_FILL, /* (none): rows without a charge (PyCrypt's) get their size */
	SQ_CLIENT_RECOUNT,  /* (none): every inbox's counters computed from its rows */
	SQ_CLIENT_LOCK,     /* link -> id (locks the row for the transaction where it can) */
	SQ_CLIENT_CLAIM,    /* link: bumps row_version, a write that serialises on a cluster too
	                      (0 changes: no such inbox) */
	SQ_CLIENT_SET_HASH, /* fetch_hash, link */
	SQ_CLIENT_RESERVE,  /* charge, link, max_messages, charge, max_bytes: one more message
	                      if it fits; where the driver's reserve_reports_webhook, last_id
	                      is the inbox's has_webhook (MySQL: LAST_INSERT_ID(expr)) */
	SQ_CLIENT_HOOK_FLAG,         /* has_webhook, link: bumps row_version too, serialising
	                                with sends (0 changes: no such inbox) */
	SQ_CLIENT_RELEASE,           /* messages, bytes, link */
	SQ_CLIENT_DELETE,            /* link */
	SQ_CLIENT_DELETE_MSGS,       /* link */
	SQ_CLIENT_DELETE_CHALLENGES, /* link */
	SQ_CLIENT_DELETE_REQUESTS,   /* link, link (to or from) */

	/* messages */
	SQ_MSG_INSERT,           /* link, encrypted_message, now, metadata?, size_bytes, charged,
	                  idempotency_key?, thread_id? -> last_id */
	SQ_MSG_BY_KEY,           /* link, idempotency_key -> id */
	SQ_MSG_LIST_UNSEEN_DESC, /* link, before_id, since_id, limit -> id, encrypted_message,
	                            created_at, seen, metadata, thread_id, replies */
	SQ_MSG_LIST_UNSEEN_ASC,
	SQ_MSG_LIST_ALL_DESC,
	SQ_MSG_LIST_ALL_ASC,
	SQ_MSG_SEEN,      /* id, link */
	SQ_MSG_CHARGE,    /* id, link -> charged (locks the row where it can) */
	SQ_MSG_DELETE,    /* id, link */
	SQ_MSG_OLD,       /* cutoff, limit -> id, link_token, charged */
	SQ_MSG_DELETE_ID, /* id */
	SQ_MSG_IDS_UPTO,  /* link, after_id, up_to_id, limit -> id (ascending) */

	/* receipts, their statuses and replies (receipts.c). Status codes are
	   enum sd_rcpt_status. */
	SQ_RCPT_INSERT,          /* receipt_id, link, thread_id, now, now, now -> last_id */
	SQ_MSG_SET_THREAD,       /* thread_id, id */
	SQ_RCPT_STATUS_INSERT,   /* message_id, receipt, now */
	SQ_RCPT_GET,             /* receipt_id -> id, link_token, thread_id, created_at,
	                           released_at */
	SQ_RCPT_TOUCH,           /* now, id: last_activity */
	SQ_RCPT_STATUS_SET,      /* status, message_id, status: a later status, pending release */
	SQ_RCPT_STATUSES,        /* receipt, limit -> message_id, released, created_at (oldest
	                           first) */
	SQ_RCPT_REPLIES,         /* receipt, limit -> id, encrypted_reply, created_at (oldest
	                           first) */
	SQ_MSG_THREAD,           /* id, link -> thread_id (0: none) */
	SQ_RCPT_BY_THREAD,       /* link, thread_id -> id, replies */
	SQ_REPLY_COUNT_LINK,     /* link -> replies stored by the inbox */
	SQ_REPLY_INSERT,         /* receipt, link, encrypted_reply, now -> last_id */
	SQ_RCPT_REPLIED,         /* now, id, cap: one more reply if under the cap, last_activity */
	SQ_RCPT_RELEASE_CLAIM,   /* next_at, now, latest: 1 change when a release is due (the
	                            schedule is at now, or later than latest can be) */
	SQ_RCPT_PENDING,         /* limit -> id of pending status rows (ascending) */
	SQ_RCPT_RELEASE_MARK,    /* now, up_to_id: released_at of receipts with pending
	                            statuses up to that row */
	SQ_RCPT_RELEASE,         /* up_to_id: released = status for pending rows up to it */
	SQ_RCPT_OLD,             /* cutoff, limit -> id (last_activity before cutoff) */
	SQ_RCPT_DELETE_STATUSES, /* receipt */
	SQ_RCPT_DELETE_REPLIES,  /* receipt */
	SQ_RCPT_DELETE_OLD,      /* id, cutoff: still inactive since before cutoff */
	SQ_CLIENT_DELETE_RCPT_STATUSES, /* link */
	SQ_CLIENT_DELETE_REPLIES,       /* link */
	SQ_CLIENT_DELETE_RECEIPTS,      /* link */

	/* challenges */
	SQ_CH_EXPIRE_LINK, /* link, now */
	SQ_CH_COUNT,       /* link, caller, now -> count */
	SQ_CH_INSERT,      /* link, challenge, now, expires_at, caller, purpose? */
	SQ_CH_CONSUME,     /* link, challenge, now, purpose? (NULL matches only NULL) */
	SQ_CH_EXPIRE_ALL,  /* now, limit: at most limit expired challenges */

	/* message_requests (PyCrypt's permission API) */
	SQ_REQ_FIND,         /* from, to -> id, status, verified (newest first) */
	SQ_REQ_COUNT_TO,     /* to -> pending requests to this inbox */
	SQ_REQ_COUNT_CALLER, /* caller -> pending requests from this caller */
	SQ_REQ_INSERT,       /* from, to, nickname, now, now, verified, caller -> last_id */
	SQ_REQ_LIST_PENDING, /* to, limit -> id, from_link_token, from_nickname, created_at,
	                         verified */
	SQ_REQ_GET,          /* id -> to_link_token, status (locks the row where it can) */
	SQ_REQ_SET_VERIFIED, /* nickname, id: a proven sender takes over a claimed request */
	SQ_REQ_SET_STATUS,   /* status, now, id */
	SQ_REQ_ALLOWED,      /* from, to -> 1 when an accepted request exists */

	/* webhooks and their outbox (store/webhooks.c) */
	SQ_HOOK_SET,           /* link, url, kind, now: set or replace, state back to ok */
	SQ_HOOK_DELETE,        /* link */
	SQ_HOOK_OUTBOX_DELETE, /* link */
	SQ_HOOK_GET,           /* link -> url, kind, state, last_error, failed_at, last_sent_at,
	                          attempts (NULL: no ping pending), due_at */
	SQ_HOOK_LOCK,          /* link -> 1: the webhook row, locked where the database locks
	                          rows; every transaction that writes both takes it before
	                          the outbox row, as a send's enqueue does */
	SQ_HOOK_ENQUEUE,       /* interval, now, now, link: a pending ping due at
	                          max(last_sent_at + interval, now) when the inbox has a webhook;
	                          one already pending is only marked dirty */
	SQ_HOOK_DUE,           /* now, now, limit -> link_token (due and not claimed),
	                          first tries ahead of retries */
	SQ_HOOK_CLAIM,         /* claim, claim_until, link, now, now (1 change: claimed) */
	SQ_HOOK_TARGET,        /* link, claim -> url, kind, attempts, state */
	SQ_HOOK_DONE,          /* link, claim: the claimed ping, unless dirty */
	SQ_HOOK_REQUEUE,       /* due_at, link, claim: a dirty ping pending again, attempts 0 */
	SQ_HOOK_RETRY,         /* due_at, link, claim: one more attempt made, claim released */
	SQ_HOOK_DROP,          /* link, claim: the claimed ping, dirty or not */
	SQ_HOOK_SENT,          /* now, link: delivered; state ok */
	SQ_HOOK_FAILED,        /* error, now, link: an attempt failed */
	SQ_HOOK_FAILING,       /* error, now, link: attempts exhausted; state failing */

	SQ__MAX
};

#endif
