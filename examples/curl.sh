#!/bin/sh
# Upload a table, poll its job until it ends, print the result: plain curl, no client.
#   JOBCAST_URL=http://127.0.0.1:8000 JOBCAST_API_KEY=jc_... sh examples/curl.sh data.csv
set -eu
url="${JOBCAST_URL:-http://127.0.0.1:8000}"
auth="Authorization: Bearer ${JOBCAST_API_KEY:?set JOBCAST_API_KEY}"
file="${1:?usage: curl.sh FILE}"

# One request; an error's body (the API's code and message: what to fix) goes to stderr and
# the script stops. Captured in $(...), it was lost behind curl's bare "returned error: 401".
call() {
  if ! body=$(curl -sS --fail-with-body -H "$auth" "$@"); then
    printf '%s\n' "$body" >&2
    exit 1
  fi
  printf '%s' "$body"
}

# Multipart: the table as part `file`, the job's options as part `params` (JSON).
job=$(call -F "file=@${file}" -F 'params={"operation": "profile"};type=application/json' \
  "$url/jobs")
id=$(printf '%s' "$job" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "job $id queued" >&2

while :; do
  job=$(call "$url/jobs/$id")
  case "$(printf '%s' "$job" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')" in
    succeeded) break ;;
    failed|cancelled) printf '%s\n' "$job" >&2; exit 1 ;;
  esac
  sleep 0.5
done
call "$url/jobs/$id/result"
echo
