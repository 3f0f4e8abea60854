"""catalog service: skeleton only; its capability lands with its own issue."""
