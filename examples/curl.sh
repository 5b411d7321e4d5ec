#!/bin/sh
# Upload a table, poll its job until it ends, print the result: plain curl, no client.
#   JOBCAST_URL=http://127.0.0.1:8000 JOBCAST_API_KEY=jc_... sh examples/curl.sh data.csv
set -eu
url="${JOBCAST_URL:-http://127.0.0.1:8000}"
auth="Authorization: Bearer ${JOBCAST_API_KEY:?set JOBCAST_API_KEY}"
file="${1:?usage: curl.sh FILE}"

# Multipart: the table as part `file`, the job's options as part `params` (JSON).
job=$(curl -sS --fail-with-body -H "$auth" \
  -F "file=@${file}" -F 'params={"operation": "profile"};type=application/json' \
  "$url/jobs")
id=$(printf '%s' "$job" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "job $id queued" >&2

while :; do
  status=$(curl -sS --fail-with-body -H "$auth" "$url/jobs/$id" \
    | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
  case "$status" in
    succeeded) break ;;
    failed|cancelled) curl -sS -H "$auth" "$url/jobs/$id" >&2; echo >&2; exit 1 ;;
  esac
  sleep 0.5
done
curl -sS --fail-with-body -H "$auth" "$url/jobs/$id/result"
echo
