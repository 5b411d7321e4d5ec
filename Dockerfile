# One image for the api, the workers and Flower; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml requirements.lock README.md ./
COPY jobcast ./jobcast
COPY api ./api
COPY workers ./workers
COPY realtime ./realtime
COPY celeryconfig.py ./
RUN pip install --no-cache-dir -c requirements.lock . \
    && useradd --create-home --uid 1000 jobcast \
    && mkdir -p /data && chown jobcast /data

USER jobcast
EXPOSE 8000 5555
# A shell, so --ws-max-size follows JOBCAST_WS_MAX_FRAME_BYTES (uvicorn then refuses a bigger
# frame from its header, before buffering it).
CMD ["sh", "-c", "exec uvicorn --factory api.app:create_app --host 0.0.0.0 --port 8000 --no-proxy-headers --no-server-header --ws-per-message-deflate false --no-access-log --http api.http_protocol:GuardedHttpProtocol --ws-max-size \"${JOBCAST_WS_MAX_FRAME_BYTES:-65536}\" --timeout-graceful-shutdown 3"]
