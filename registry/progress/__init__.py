"""Progress per list per kieskring (valid declarations against the minimum), from aggregates that are
recomputed at most every PROGRESS_MAX_AGE seconds: counts only, never who declared."""
