-- wrk script for bench/presign/run.sh: every request is the POST /v1/uploads a phone makes
-- before uploading a profile photo (the same body for every request; the server makes a new
-- upload id, key and presigned URL each time). When the run ends, bench/http/report.lua's
-- done() hook prints one line
--   IMGSVC_BENCH {"requests":..,"req_per_s":..,"p50_ms":..,"p99_ms":..,...}
-- so both HTTP benchmarks report alike.
wrk.method = "POST"
wrk.path = "/v1/uploads"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"domain":"profile","ids":{"userId":"42"},"contentType":"image/jpeg"}'

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
dofile(here .. "/../http/report.lua")
