"""Pure logic and AWS I/O of the gather step: per-fold results, cross-validated summary, Experiments record."""
