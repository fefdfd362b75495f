"""The counter (balie): a clerk registers a walk-in voter's declaration."""
