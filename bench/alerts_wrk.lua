-- wrk script for bench/alerts_bench.py. Environment:
--   MODE=bare|single|am50   TOKEN=<integration token>   RUN=<run id>   DELAY_MS=<pace, optional>
local mode = os.getenv("MODE") or "single"
local token = os.getenv("TOKEN") or ""
local run = os.getenv("RUN") or "r"
local delay_ms = tonumber(os.getenv("DELAY_MS") or "")
local counter = 0
local now = os.date("!%Y-%m-%dT%H:%M:%SZ")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local function single(n)
  return string.format(
    '{"dedup_key":"bench-%d","id":"%s-%d","title":"bench alert","service":"user-service",' ..
    '"metric":"cpu_usage_percent","value":75,"severity":"warning"}', n % 500, run, n)
end

local function am50(n)
  local parts = {}
  for i = 1, 50 do
    parts[i] = string.format(
      '{"status":"firing","labels":{"alertname":"HighCPU","service":"user-service",' ..
      '"metric":"cpu_usage_percent","severity":"warning","instance":"pod-%d-%d"},' ..
      '"annotations":{"summary":"CPU high","value":"75"},"startsAt":"%s",' ..
      '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph",' ..
      '"fingerprint":"%s-%d-%d"}', n, i, now, run, n, i)
  end
  return '{"version":"4","groupKey":"{}:{alertname=\\"HighCPU\\"}","truncatedAlerts":0,' ..
    '"status":"firing","receiver":"nexusops","groupLabels":{"alertname":"HighCPU"},' ..
    '"commonLabels":{"alertname":"HighCPU"},"commonAnnotations":{},' ..
    '"externalURL":"http://alertmanager:9093","alerts":[' .. table.concat(parts, ",") .. ']}'
end

request = function()
  counter = counter + 1
  local body
  if mode == "am50" then body = am50(counter)
  elseif mode == "bare" then body = single(counter)
  else body = single(counter) end
  return wrk.format(nil, nil, nil, body)
end

if delay_ms then
  delay = function() return delay_ms end
end
