-- Shared by every scenario: print one machine-readable line at the end.
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT req_s=%.0f p50_us=%d p99_us=%d errors=%d non2xx=%d total=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), errors, summary.errors.status, summary.requests))
end
