"""One op per file, each versioned by the hash of its own file."""
