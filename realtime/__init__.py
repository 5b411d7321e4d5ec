"""The push layer: events committed with their records, fanned out over WebSocket."""
