-- wrk script for revalidation: each line of the file is "<path> <etag>"; every request
-- sends If-None-Match with that tile's ETag, so an unchanged tile answers 304. done()
-- prints one JSON line like wrk_paths.lua, plus how many answers were 304.
--   wrk -t2 -c8 -d15s -s bench/wrk_paths_etag.lua http://127.0.0.1:8771 -- etags.txt
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  paths, etags = {}, {}
  for line in io.lines(args[1]) do
    local path, etag = line:match("^(%S+)%s+(.+)$")
    if path then
      paths[#paths + 1] = path
      etags[#etags + 1] = etag
    end
  end
  if #paths == 0 then
    error("no paths in " .. tostring(args[1]))
  end
  math.randomseed(7919 * (thread_id or 1))
  not_modified = 0
end

function request()
  local i = math.random(#paths)
  return wrk.format("GET", paths[i], { ["If-None-Match"] = etags[i] })
end

function response(status, headers, body)
  if status == 304 then
    not_modified = not_modified + 1
  end
end

function done(summary, latency, requests)
  local total_304 = 0
  for _, thread in ipairs(threads) do
    total_304 = total_304 + (thread:get("not_modified") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "err_connect": %d, ' ..
    '"err_read": %d, "err_write": %d, "err_status": %d, "err_timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
    '"not_modified": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max, total_304))
end
