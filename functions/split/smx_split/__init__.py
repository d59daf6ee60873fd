"""Pure logic and AWS I/O of the split step: input validation, fold assignment, fold files and training-job planning."""
