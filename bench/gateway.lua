-- SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
-- SPDX-License-Identifier: MIT
--
-- wrk script of bench/gateway_bench.py: cycles through pre-signed deliveries
-- (one "SIGNATURE BODY" per line of the file given after --), each wrk
-- thread through its own share, so that no two requests of a run carry the
-- same message_id unless the file is shorter than the run. An optional
-- second argument is a delay in ms between a connection's requests (a fixed
-- rate: connections / delay). done() prints one JSON line, with the CPU
-- seconds the process had spent when the pool was loaded (init_cpu_s), which
-- the load generator's CPU per request leaves out.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  pause_ms = tonumber(args[2] or "0")
  local count = tonumber(args[3] or "1")
  requests = {}
  local n = 0
  for line in io.lines(path) do
    if n % count == thread_id then
      local sig, body = line:match("^(%S+) (.*)$")
      table.insert(requests, wrk.format("POST", "/webhooks/fiskil",
        {["X-Fiskil-Signature"] = sig, ["Content-Type"] = "application/json"}, body))
    end
    n = n + 1
  end
  position = 0
  init_cpu = os.clock()  -- CPU spent loading the pool, not sending
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function delay()
  return pause_ms
end

function done(summary, latency, requests)
  local e = summary.errors
  local init_cpu = 0
  for _, thread in ipairs(threads) do
    init_cpu = math.max(init_cpu, thread:get("init_cpu") or 0)
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d,"init_cpu_s":%.3f}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.timeout, e.status, init_cpu))
end
