/* Live events for the inbox page (docs/API.md "Live events"): an
 * EventSource on GET /events tells the page at once that a message
 * arrived, so it need not wait for its 15 s refresh. EventSource sends no
 * headers, so each connection is authenticated by a challenge signed for
 * "events" in its query; the challenge is used up by that connection, and
 * when the stream ends (the server closes it every minute) a new one is
 * signed. The page keeps polling whatever happens here: when events are
 * unavailable (an old server, a proxy that cuts streams) nothing is lost
 * but speed. */
'use strict';

SD.EVENTS_FAILURES_MAX = 5; /* connections in a row that never opened */

/* Start listening; onEvent() is called for each event, and once each time
 * a stream opens (anything that arrived while it was down). Returns
 * {stop()}. */
SD.liveEvents = (keys, linkToken, onEvent) => {
  let source = null, stopped = false, failures = 0, timer = null;

  const retry = () => {
    if (stopped || failures >= SD.EVENTS_FAILURES_MAX) return; /* polling carries on */
    timer = setTimeout(connect, Math.min(30000, 1000 * 2 ** failures));
  };

  async function connect() {
    if (stopped) return;
    let proof;
    try {
      proof = await SD.signed(keys, linkToken, 'events');
    } catch (e) {
      failures++;
      retry();
      return;
    }
    if (stopped) return;
    const query = new URLSearchParams(Object.assign({link_token: linkToken}, proof));
    const es = new EventSource('/events?' + query.toString());
    let opened = false;
    source = es;
    es.onopen = () => {
      opened = true;
      failures = 0;
      onEvent();
    };
    es.onmessage = (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (data && data.type === 'message') onEvent();
    };
    es.onerror = () => {
      /* EventSource would reconnect with the same, used challenge and be
       * refused: close it and sign a fresh one instead. */
      es.close();
      if (source === es) source = null;
      if (!opened) failures++;
      retry();
    };
  }

  if (typeof EventSource === 'function') connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (source) source.close();
      source = null;
    },
  };
};
