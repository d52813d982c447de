-- wrk script for tests/load: one fixed request, every response's status counted, and each 429
-- checked for a Retry-After header (delta-seconds). Arguments after wrk's `--`:
--   METHOD BODY_FILE|- CONTENT_TYPE ["Name: value" ...]
-- e.g. wrk ... -s status.lua URL -- POST photo.jpg image/jpeg "X-Api-Key: k"
-- When the run ends, done() prints one line
--   IMGSVC_LOAD {"requests":..,"duration_s":..,"req_per_s":..,"p50_ms":..,"p99_ms":..,
--                "errors":{...},"statuses":{"201":..},"no_retry_after":..}
-- The counters are per-thread globals (s201, s429, ...) read back with thread:get(), one scalar
-- each (wrk copies scalars between Lua states reliably).
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    wrk.method = args[1]
    if args[2] ~= nil and args[2] ~= "-" then
        local f = assert(io.open(args[2], "rb"))
        wrk.body = f:read("*a")
        f:close()
    end
    if args[3] ~= nil then
        wrk.headers["Content-Type"] = args[3]
    end
    for i = 4, #args do
        local name, value = args[i]:match("^([^:]+):%s*(.*)$")
        wrk.headers[name] = value
    end
    no_retry_after = 0
end

function response(status, headers, body)
    local k = "s" .. status
    _G[k] = (_G[k] or 0) + 1
    if status == 429 then
        local ok = false
        for name, value in pairs(headers) do
            if name:lower() == "retry-after" and value:match("^%d+$") then
                ok = true
            end
        end
        if not ok then
            no_retry_after = no_retry_after + 1
        end
    end
end

done = function(summary, latency, requests)
    local statuses, missing = {}, 0
    for code = 100, 599 do
        local n = 0
        for _, t in ipairs(threads) do
            n = n + (t:get("s" .. code) or 0)
        end
        if n > 0 then
            table.insert(statuses, string.format('"%d":%d', code, n))
        end
    end
    for _, t in ipairs(threads) do
        missing = missing + (t:get("no_retry_after") or 0)
    end
    local secs = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        'IMGSVC_LOAD {"requests":%d,"duration_s":%.3f,"req_per_s":%.1f,' ..
        '"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"statuses":{%s},"no_retry_after":%d}\n',
        summary.requests, secs, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
        e.connect, e.read, e.write, e.status, e.timeout,
        table.concat(statuses, ","), missing))
end
