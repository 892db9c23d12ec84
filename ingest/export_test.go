package ingest

// LayoutRetries returns how many runs were redone because a split file
// changed its header mid-file.
func LayoutRetries() int64 { return layoutRetries.Load() }
