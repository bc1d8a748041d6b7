-- wrk script for bench/submit.py. Two modes, chosen by the first script argument:
--
--   wrk ... -s bench/wrk.lua URL -- sessions <prefix>
--       Each request is a final submit (POST /orosanmalan/granska) of a prepared session. The
--       file <prefix>.<n> (n = this thread's number, from 0) holds one "cookie<TAB>body" line
--       per session; every line is used once, because a submit deletes the session's draft.
--       A thread that runs out sends GET /bench-exhausted (a 404, not counted) until its last
--       submits have answered, then stops.
--   wrk ... -s bench/wrk.lua URL -- fixed <path> <body-file>
--       Every request is the same form POST (the bare baseline).
--
-- Only 303 responses count as successes. done() prints one line "BENCH_JSON {...}" with the
-- counts, the span from the first request to the last 303 (monotonic clock, so a thread that
-- ran out early does not dilute the rate), latency percentiles in microseconds, and how many
-- lines each thread used (sent or tried), so the caller can reuse the rest.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local FORM = "application/x-www-form-urlencoded"
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_number", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  ok = 0
  other = 0
  fillers = 0
  in_flight = 0
  exhausted = 0
  statuses = {}
  first_sent = 0
  last_ok = 0
  if mode == "sessions" then
    items = {}
    for line in io.lines(args[2] .. "." .. thread_number) do
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      if cookie then
        items[#items + 1] = { cookie, body }
      end
    end
    position = 1
    filler_request = wrk.format("GET", "/bench-exhausted")
  elseif mode == "fixed" then
    local handle = assert(io.open(args[3], "rb"))
    local body = handle:read("*a")
    handle:close()
    fixed_request = wrk.format("POST", args[2], { ["Content-Type"] = FORM }, body)
  else
    error("wrk.lua: first argument must be 'sessions' or 'fixed'")
  end
end

function request()
  if first_sent == 0 then
    first_sent = now()
  end
  if mode == "fixed" then
    return fixed_request
  end
  local item = items[position]
  if item == nil then
    -- Out of sessions: keep the connections busy with a cheap 404 until the submits still in
    -- flight have answered (stopping now would drop them), then stop this thread.
    exhausted = 1
    return filler_request
  end
  position = position + 1
  in_flight = in_flight + 1
  return wrk.format(
    "POST",
    "/orosanmalan/granska",
    { ["Content-Type"] = FORM, ["Cookie"] = item[1] },
    item[2]
  )
end

function response(status, headers, body)
  if not (status == 404 and exhausted == 1) then
    in_flight = in_flight - 1
  end
  if status == 303 then
    ok = ok + 1
    last_ok = now()
  elseif status == 404 and mode == "sessions" and exhausted == 1 then
    fillers = fillers + 1
  else
    other = other + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
  if exhausted == 1 and in_flight <= 0 then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_ok, total_other, total_fillers, threads_exhausted = 0, 0, 0, 0
  local first, last = nil, nil
  local merged = {}
  local used = {}
  for _, thread in ipairs(threads) do
    if thread:get("mode") == "sessions" then
      used[#used + 1] = tostring(thread:get("position") - 1)
    end
    total_ok = total_ok + thread:get("ok")
    total_other = total_other + thread:get("other")
    total_fillers = total_fillers + thread:get("fillers")
    threads_exhausted = threads_exhausted + thread:get("exhausted")
    local started = thread:get("first_sent")
    local ended = thread:get("last_ok")
    if started > 0 and (first == nil or started < first) then
      first = started
    end
    if ended > 0 and (last == nil or ended > last) then
      last = ended
    end
    for key, count in pairs(thread:get("statuses")) do
      merged[key] = (merged[key] or 0) + count
    end
  end
  local parts = {}
  for key, count in pairs(merged) do
    parts[#parts + 1] = string.format('"%s": %d', key, count)
  end
  local span = 0
  if first and last then
    span = last - first
  end
  local errors = summary.errors
  io.write(
    string.format(
      'BENCH_JSON {"ok": %d, "other": %d, "fillers": %d, "threads_exhausted": %d, '
        .. '"span_s": %.6f, "duration_s": %.6f, "requests": %d, "bytes": %d, '
        .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
        .. '"status_errors": %d, "other_statuses": {%s}, "used": [%s], '
        .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
      total_ok,
      total_other,
      total_fillers,
      threads_exhausted,
      span,
      summary.duration / 1e6,
      summary.requests,
      summary.bytes,
      errors.connect,
      errors.read,
      errors.write,
      errors.timeout,
      errors.status,
      table.concat(parts, ", "),
      table.concat(used, ", "),
      latency:percentile(50),
      latency:percentile(90),
      latency:percentile(99),
      latency.max,
      latency.mean
    )
  )
end
