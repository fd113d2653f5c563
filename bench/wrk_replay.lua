-- wrk script: replay a file of requests in turn, count the response statuses, print one JSON summary line.
--
-- Usage: wrk -t1 -c16 -d5s -s bench/wrk_replay.lua http://127.0.0.1:PORT -- requests.tsv
-- Each line of requests.tsv: METHOD <tab> PATH <tab> BODY <tab> Header: value <tab> Header: value ...
-- Requests are pre-formatted once in init(), so the script adds next to nothing per request. With -t1 the
-- lines are sent in order and wrap around at the end; the orchestrator gives write bursts enough lines
-- (one per resident) that none is sent twice within a run.

local requests = {}
local index = 0
statuses = {}  -- global: done() reads it from every thread with thread:get()
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function split_tabs(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      local fields = split_tabs(line)
      local headers = {}
      for i = 4, #fields do
        local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
        if name then headers[name] = value end
      end
      local body = fields[3]
      if body == "" then body = nil end
      table.insert(requests, wrk.format(fields[1], fields[2], headers, body))
    end
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests_stats)
  local merged = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses") or {}
    for status, count in pairs(counted) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
