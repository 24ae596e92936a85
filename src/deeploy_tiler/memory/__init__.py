"""Where buffers live: the whole-network memory plan (`network`: lifetimes, homes, aliases, L2/L3/WMEM
offsets) and the static allocators it calls (`alloc`)."""
