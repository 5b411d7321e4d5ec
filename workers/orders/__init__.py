"""Order matching: the pure book, matching steps, and the `orders` queue task."""
