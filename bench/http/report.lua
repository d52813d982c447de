-- wrk script for bench/http/run.sh: when the run ends, prints one line
--   IMGSVC_BENCH {"requests":..,"req_per_s":..,"p50_ms":..,"p99_ms":..,...}
-- with the throughput and latency percentiles (wrk measures latency in microseconds).
done = function(summary, latency, requests)
    local secs = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        'IMGSVC_BENCH {"requests":%d,"duration_s":%.3f,"req_per_s":%.1f,' ..
        '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
        summary.requests, secs, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        e.connect, e.read, e.write, e.status, e.timeout))
end
