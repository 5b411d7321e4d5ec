"""The HTTP and WebSocket API (FastAPI on uvicorn)."""
